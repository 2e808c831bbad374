"""/start_callback: the coordinator's wizard (aiogram-dialog), see issue 5 and DESIGN.md.

Steps: doctor → phone (→ warning when the phone already has an open consultation) → name →
start time (quick buttons, typed, or Calendar + TimeSelect) → duration → attachment →
summary (Confirm / Edit / Cancel). From the start-time step "Now, nothing else" jumps to
the summary: doctor, phone, name, that press, Confirm = five actions.

Starting it prefilled (Repeat / Reschedule buttons elsewhere)::

    await dialog_manager.start(
        StartCallbackSG.start_time,  # or .summary, .phone, … — any step
        data={
            "doctor_id": 101,                 # int, required for a prefill to count
            "doctor_name": "Иванова Анна",    # str, optional (named by the API later)
            "phone": "+79099708593",          # E.164, optional
            "patient_name": "Петров Пётр",    # optional
            "duration_min": 30,               # optional, 5..180
        },
        mode=StartMode.RESET_STACK,
    )

Unknown keys are ignored; a value that does not pass the step's parser is dropped (the
step asks for it). The start time is never prefilled: a repeat is always "now or later".

All of the wizard's state lives in ``dialog_data`` (JSON-safe values only), so it survives a
restart through the persistent FSM storage. The attachment is kept as Telegram's file id
and downloaded into memory only on Confirm.
"""

from bot.dialogs.start_callback.windows import build_dialog

__all__ = ["build_dialog"]
