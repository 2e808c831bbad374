# Operator's kit (issue 8): reminders (bot/jobs/reminders.py), admin alerts (bot/services/alerts.py).

ops-reminder-coordinator = ⏰ In { $minutes } min, at { $when }, consultation { $short_id } begins: patient { $patient }, doctor { $doctor }.
ops-reminder-doctor = ⏰ In { $minutes } min, at { $when }, you have consultation { $short_id } ({ $duration }). Patient { $patient }.
ops-duration = up to { $minutes } min
ops-duration-unbounded = no time limit

ops-alert-refresh-failed =
    ⚠️ The partner API token could not be renewed ({ $reason }).
    When the current token expires ({ $expires }), the bot can no longer start or follow consultations.
    Run on the server: python -m bot partner-login
ops-alert-insufficient-funds =
    ⚠️ The partner API refused: the partner account has insufficient funds.
    No consultation can be started until the account is topped up.
retention-message-removed = Consultation { $short_id } — details removed after { $days } days.
retention-digest-removed = ☀️ Morning digest — details removed after { $days } days.
