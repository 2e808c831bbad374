# /start_callback wizard (bot/dialogs/start_callback, bot/rendering/card.py)

## Buttons
wizard-btn-back = ◀ Back
wizard-btn-cancel = ✖ Cancel
wizard-btn-skip = Skip ▶
wizard-btn-now = Now, then duration
wizard-btn-now-nothing-else = ⚡ Now → to confirmation
wizard-btn-in15 = In 15 min
wizard-btn-in60 = In 1 hour
wizard-btn-tomorrow9 = Tomorrow 09:00
wizard-btn-pick-date = 📅 Pick a date
wizard-btn-minutes = { $minutes } min
wizard-btn-continue-anyway = Continue anyway
wizard-btn-change-phone = Change phone
wizard-btn-open-card = 📄 Open card { $short_id }
wizard-btn-confirm = ✅ Confirm
wizard-btn-edit = ✏ Edit
wizard-btn-edit-doctor = Doctor
wizard-btn-edit-phone = Phone
wizard-btn-edit-name = Full name
wizard-btn-edit-time = Start time
wizard-btn-edit-duration = Duration
wizard-btn-edit-attachment = Attachment
wizard-btn-change-doctor = Another doctor
wizard-btn-change-time = Another time
wizard-btn-hour = Hour
wizard-btn-minute = Minutes

## Steps
wizard-doctor-ask = <b>New callback.</b> Step 1: the doctor.
    Pick a doctor below or type the doctor's id.
wizard-doctor-ask-id = <b>New callback.</b> Step 1: the doctor.
    Type the doctor's id.
wizard-doctor-unavailable-mark = ⛔
wizard-doctor-legend = ⛔ — callbacks with this doctor are unavailable right now.
wizard-doctor-unnamed = Doctor #{ $doctor_id }
wizard-doctor-error-not-a-number = A doctor's id is a number, e.g. 101. Pick a doctor with a button or type the id.
wizard-doctor-error-not-found = There is no doctor with id { $doctor_id }. Check the id or pick a doctor from the list.
wizard-doctor-unchecked = Id { $doctor_id } accepted; the doctor's name will be known once the call starts.

wizard-phone-ask = Doctor: { $doctor }
    Step 2: the patient's phone.
    Type the number (e.g. +7 909 970-85-93) or share a contact.
wizard-phone-error-empty = Type the patient's phone number, e.g. +7 909 970-85-93.
wizard-phone-error-not-a-number = That does not look like a phone number: only digits, spaces, brackets, hyphens and "+", e.g. +7 909 970-85-93.
wizard-phone-error-too-short = Too few digits. Type the full number, e.g. +7 909 970-85-93.
wizard-phone-error-too-long = Too many digits (more than 15). Check the number.
wizard-phone-error-invalid = No such phone number exists. Check it; for another country start with "+" and the country code.
wizard-phone-warning = ⚠ The number { $phone } already has consultation { $short_id }: { $what }.
    Doctor: { $doctor }. Start: { $start }.
    A patient must not be called twice by mistake. Continue?
wizard-phone-warning-active = in progress or scheduled
wizard-phone-warning-unknown = its start outcome is being checked

wizard-name-ask = Phone: { $phone }
    Step 3: the patient's full name.
    Type the patient's full name, e.g. Anna Smith.
wizard-name-error-empty = Type the patient's full name.
wizard-name-error-too-short = The name is too short: at least { $min } letters.
wizard-name-error-too-long = The name is too long: at most { $max } characters.
wizard-name-error-bad-char = The character "{ $char }" is not allowed in a name. Use letters, spaces, hyphens and apostrophes.
wizard-name-error-no-letters = A name needs letters.

wizard-time-ask = Patient: { $name }
    Step 4: when to start?
    "⚡ Now → to confirmation" starts the call right after you confirm and skips the duration and attachment steps.
    Or pick a button, or type a time ({ $zone }): 15:30, 28.11 15:30, tomorrow 10:00.
wizard-time-current = Chosen: { $start }
wizard-time-pick-date = Pick a date ({ $zone }):
wizard-time-pick-clock = Date: { $date }. Pick the hour and minutes ({ $zone }):
wizard-time-error-empty = Type a time, e.g. 15:30 or tomorrow 10:00.
wizard-time-error-not-understood = I don't understand the time. Examples: 15:30, 28.11 15:30, 2026-11-28 15:30, tomorrow 10:00.
wizard-time-error-no-time = The hour and minutes are missing, e.g. "tomorrow 10:00".
wizard-time-error-bad-date = There is no such date. Example: 28.11 15:30.
wizard-time-error-past-today = That time has already passed today; type "tomorrow { $time }".
wizard-time-error-past = That time has already passed. Pick a time in the future.
wizard-time-error-too-far = Too far ahead: at most { $max_days } days from now.
wizard-time-error-nonexistent = { $time } does not exist on that day (clocks change). Pick another time.

wizard-duration-ask = Start: { $start }
    Step 5: maximum duration in minutes ({ $min }–{ $max }). A button, a number ("30", "1 h", "1:30") or Skip.
wizard-duration-error-not-understood = I need a duration in minutes from { $min } to { $max }: "30", "45 min", "1 h", "1:30".
wizard-duration-error-too-short = Too short: at least { $min } minutes.
wizard-duration-error-too-long = Too long: at most { $max } minutes.

wizard-attachment-ask = Step 6: an attachment for the doctor (optional).
    Send one document or photo up to { $limit_mb } MB — or press Skip.
wizard-attachment-current = Attached now: { $attachment }
wizard-attachment-too-large = The file "{ $name }" is { $size_mb } MB — over the { $limit_mb } MB limit. Send a smaller file or skip this step.
wizard-attachment-album = One file, or one PDF: the service takes a single attachment.
wizard-attachment-wrong-kind = A document or a photo, please — or press Skip.
wizard-attachment-photo-name = photo.jpg

wizard-unexpected-input = Please answer with a button or text here.

## Summary
wizard-summary = <b>Check and confirm</b>
    Doctor: { $doctor }
    Phone: { $phone }
    Patient: { $name }
    Start: { $start }
    Duration: { $duration }
    Attachment: { $attachment }
wizard-summary-cost = Cost: { $cost } per minute
wizard-start-now = now
wizard-duration-none = no limit
wizard-duration-minutes = { $minutes } min
wizard-attachment-none = none
wizard-edit-ask = What do you want to change?
wizard-retry-ask = { $reason }
    Pick another doctor or another time.

## Outcome
wizard-cancelled = Cancelled. No callback was ordered.
wizard-starting = Starting…
wizard-upstream-error = { $error }
wizard-funds-stop = The partner account has insufficient funds — the consultation was not started. The administrators have been alerted.
wizard-try-again = { $error } Press Confirm to try again.

## Consultation card (bot/rendering/card.py)
card-title = <b>Consultation { $consultation_id }</b>
card-status = Status: { $status }
card-doctor = Doctor: { $doctor }
card-patient = Patient: { $name }, { $phone }
card-time = Start: { $start }
card-duration = Duration: { $duration }
card-patient-private = Patient: shown in a private chat with the bot only.
card-attachment = Attachment: { $attachment }
card-outcome-unknown = ⏳ The service's answer was lost; checking whether the consultation started. Do not start it again.
card-outcome-unknown-by = You will know by { $by } at the latest: then it is either on this card or reported as not created.
card-starting = ⏳ Starting…
card-failed = ✖ Not started.
card-status-none = —
card-btn-refresh = 🔄 Refresh
card-btn-terminate = ⛔ Terminate

## Added: notes, calendar, refusals
wizard-doctor-unavailable-note = ⛔ Callbacks with this doctor are unavailable right now: the start will most likely be refused. You can go back and pick another doctor.
wizard-summary-unavailable = ⛔ Callbacks with this doctor are unavailable right now: the start will most likely be refused. Pick another doctor with "✏ Edit".
wizard-start-conflict = The doctor is not taking callbacks right now — pick another doctor or time.
wizard-card-failed = The consultation was started, but its card could not be shown — find it in /list. No need to start it again.
wizard-card-failed-unknown = The service's answer was lost: checking whether the consultation started. Its card could not be shown — see /list. Do not start it again.
wizard-cal-months = 🗓 Months
wizard-cal-years = 🗓 Years
wizard-cal-month = { $month ->
    [1] January
    [2] February
    [3] March
    [4] April
    [5] May
    [6] June
    [7] July
    [8] August
    [9] September
    [10] October
    [11] November
   *[12] December
}
wizard-cal-weekday = { $day ->
    [1] Mon
    [2] Tue
    [3] Wed
    [4] Thu
    [5] Fri
    [6] Sat
   *[7] Sun
}
wizard-confirm-already = This consultation was already being started from this summary (the bot restarted meanwhile); it was not started again. Its outcome is in /list.
