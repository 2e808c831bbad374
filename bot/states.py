"""Every StatesGroup of the bot, one block per flow (aiogram_dialog's habit: one place)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup

# --- access, language and time (bot/routers/start.py, admin_*.py, preferences.py) ---------


class AccessStates(StatesGroup):
    join_timezone = State()  # right after an invite was accepted: the zone, then the greeting
    timezone = State()  # /timezone: waiting for a typed zone (buttons work in any state)
    invite_doctor_id = State()  # /invite → "Doctor by id…": waiting for the id
    user_doctor_id = State()  # /users → "Make doctor…": waiting for the id (data: user_pk)
    doctor_add_id = State()  # /doctors → Add: waiting for the id
    doctor_add_name = State()  # no doctor lookup in the deployment: waiting for the name
    doctor_rename = State()  # /doctors → Rename: waiting for the name (data: doctor_id)
    digest_time = State()  # /settings → the digest's "Other time…": waiting for HH:MM


# --- end of access block --------------------------------------------------------------------


# --- start_callback wizard (bot/dialogs/start_callback) -------------------------------------


class StartCallbackSG(StatesGroup):
    doctor = State()
    phone = State()
    phone_warning = State()  # this phone already has an active/unknown consultation
    name = State()
    start_time = State()
    start_date = State()  # Calendar
    start_clock = State()  # TimeSelect
    duration = State()
    attachment = State()
    summary = State()
    edit = State()  # pick a field to change
    retry = State()  # conflict / limit: another doctor or another time


# --- end of start_callback block ------------------------------------------------------------


# --- /list and /find (bot/dialogs/consultations_list) --------------------------------------


class ConsultationsListSG(StatesGroup):
    main = State()  # one window: a page of consultations, filters, sort, pager


# --- /report (bot/routers/report.py) -------------------------------------------------------


class ReportStates(StatesGroup):
    dates = State()  # "Dates…": waiting for the first and the last day, typed
