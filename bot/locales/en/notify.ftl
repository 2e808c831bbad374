# Status notifications (bot/notifications/), the conclusion button (bot/routers/conclusion.py)
# and reconcile (bot/notifications/reconcile.py).

notify-status-Registered = Registered
notify-status-PreProcessing = Being prepared
notify-status-Delayed = Postponed
notify-status-Processing = Call in progress
notify-status-PostProcessing = Finishing
notify-status-Processed = Completed
notify-status-Unsuccessful = Did not take place
notify-status-Unknown = Unknown status

notify-when-now = now
notify-duration = up to { $minutes } min
notify-duration-unbounded = no time limit

notify-started = 📞 The call has started: consultation { $short_id }, patient { $patient }, doctor { $doctor }.
notify-finished =
    ✅ Consultation { $short_id } is completed (patient { $patient }, doctor { $doctor }).
    The conclusion is ready — press the button to open it.
notify-failed =
    ❌ Consultation { $short_id } did not take place (patient { $patient }, doctor { $doctor }).
    You can start it again.
notify-status-changed = Consultation { $short_id } (patient { $patient }): { $status }.
# Registered / Delayed for a coordinator in "all" mode (the doctor has their own wording).
notify-coordinator-scheduled = 🗓 Consultation { $short_id } (patient { $patient }, doctor { $doctor }): { $status } — { $when }, { $duration }.

notify-doctor-booked = 🗓 A consultation is booked with you: { $short_id }, { $when }, { $duration }. Patient { $patient }.
notify-doctor-delayed = 🗓 Consultation { $short_id } is postponed: { $when }, { $duration }. Patient { $patient }.
notify-doctor-failed = ❌ Consultation { $short_id } (patient { $patient }) did not take place.
notify-doctor-terminated = ⛔ A coordinator terminated consultation { $short_id } (patient { $patient }).

notify-team-line = { $short_id } · { $status } · doctor { $doctor } · coordinator { $coordinator }

notify-btn-conclusion = 📄 Conclusion
notify-btn-again = 🔁 Start again

notify-conclusion-header = 📄 Conclusion of { $doctor } for consultation { $short_id }:
notify-conclusion-empty = There is no conclusion for consultation { $short_id } yet.
notify-conclusion-private = The conclusion is shown only in a private chat with the bot.
notify-conclusion-unavailable = Could not fetch the conclusion: { $reason }

notify-again-unavailable = Starting again is not available right now — use /start_callback.

notify-start-failed =
    ⚠️ The start of a consultation (patient { $patient }, doctor { $doctor }, { $when }) was not confirmed: the service did not create it.
    There will be no call. You can start it again.
notify-start-confirmed = ✅ Consultation { $short_id } was created after all (patient { $patient }, doctor { $doctor }) — I am following it as usual. No need to start it again.
notify-start-interrupted = ⏳ The bot restarted while it was starting a consultation (patient { $patient }, doctor { $doctor }). Checking with the service whether it was created; you will know by { $by }. Do not start it again meanwhile.
