# /list, /find and the consultation card opened from them (bot/routers/consultations.py,
# bot/dialogs/consultations_list, bot/rendering/consultation_list.py).

list-title = Consultations: { $filter }
list-filter-name-act = active
list-filter-name-sch = scheduled
list-filter-name-fin = finished
list-filter-name-all = all
list-filter-name-mine = mine
list-filter-name-find = search results
list-filter-act = Active
list-filter-sch = Scheduled
list-filter-fin = Finished
list-filter-all = All
list-filter-mine = Mine
list-sort-c = Created
list-sort-s = Status
list-position = Page { $page } of { $pages } · { $total } in total
list-pager = { $page }/{ $pages }
list-empty = Nothing here.
list-empty-start = Start one with /start_callback.
list-btn-start = ➕ Start a consultation
list-patient-unknown = (no name)
list-doctor-unknown = (doctor not named)
list-started-elsewhere = started elsewhere
list-unavailable = ⚠️ The partner service did not answer: { $reason } Try again in a minute.
list-stale-data = ⚠️ The service did not answer; showing the last known data.
list-find-usage = Type what to look for: /find +7 909 970 85 93, /find 8593 or /find Petrov.
list-find-query = Search: { $query }
list-private-only = I show consultations only in a private chat.

list-btn-back = ⬅️ Back to the list
list-btn-repeat = 🔁 Repeat
list-btn-reschedule = 🗓 Reschedule
list-btn-cant-take = 🙅 I can't take it
list-btn-yes = ✅ Yes
list-btn-no = ✖️ No

list-card-history = History:
list-card-history-line = { $when } — { $status }
list-card-calls = Calls:
list-card-call = { $when } · { $who } · { $duration } · { $result }
list-card-call-ok = successful
list-card-call-failed = unsuccessful
list-card-call-patient = patient
list-card-call-doctor = doctor
list-card-call-seconds = { $minutes } min { $seconds } s
list-card-attachments = Attachments: { $names }
list-card-conclusion = 📄 The conclusion is ready — press the button to read it.
list-card-purged = Patient details were removed after the retention period.
list-card-external = This consultation was started outside the bot.
list-card-offline = ⚠️ The service did not answer; the card shows the last known data.

list-not-found = No such consultation, or it is not available to you.
list-stale-button = This button is out of date.
list-terminate-confirm = Terminate the consultation of { $patient } with { $doctor }?
list-reschedule-confirm = Reschedule: the consultation of { $patient } with { $doctor } will be terminated and a new one prepared. Continue?
list-terminated = Consultation terminated.
list-already-finished = The consultation has already finished.
list-terminate-failed = Could not terminate the consultation: { $reason } It continues as before.
list-terminate-refused = The service refused to terminate it.
list-terminate-not-allowed = Only coordinators can terminate consultations.
list-repeat-not-final = It is not finished yet: repeat is available once it ends.
list-reschedule-not-scheduled = Only a scheduled consultation can be rescheduled.
list-cant-take-sent = The coordinator has been told.
list-cant-take-message = 🙅 Doctor { $doctor } cannot take consultation { $short_id } (patient { $patient }, { $when }). Please reschedule it or choose another doctor.
list-cant-take-nobody = Nobody to tell: this consultation has no coordinator in the bot.
