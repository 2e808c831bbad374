# /report (bot/routers/report.py, bot/rendering/report.py)

report-ask = 📊 Report: which period?
report-scope-doctor = Your consultations only.
report-period-this-week = This week
report-period-last-week = Last week
report-period-this-month = This month
report-period-last-month = Last month
report-period-dates = Dates…
report-dates-ask =
    Type the first and the last day of the period ({ $zone }), e.g. <code>01.05.2026 31.05.2026</code>.
    /cancel — never mind.
report-dates-example = For example: <code>01.05.2026 31.05.2026</code> or <code>01.05 - 31.05</code>.
report-dates-error-not-understood = I didn't understand these dates.
report-dates-error-bad-date = There is no such date: { $text }.
report-dates-error-inverted = The first day ({ $first }) comes after the last one ({ $last }): type them in order.
report-dates-error-future = The period begins in the future ({ $first }): a report counts what has happened.
report-dates-error-too-long = A report covers at most { $max_days } days.
report-busy = Your report is still being prepared: it will come in a moment.
report-details-preparing = Preparing the file with patient details…
report-failed = The report could not be made. Please try again a bit later.

report-title = 📊 Report for { $period } ({ $zone })
report-counting = ⏳ Counting { $count ->
    [one] { $count } consultation
   *[other] { $count } consultations
}…
report-refreshing = Updating from the partner service: { $done } of { $total }…
report-empty = No consultations in this period.
report-started = Consultations started: { $count }
report-line-reached = reached the patient: { $count }
report-line-unsuccessful = unsuccessful: { $count }
report-line-terminated = terminated: { $count }
report-line-in_progress = still in progress: { $count }
report-line-missing = data missing: { $count }
report-minutes = Minutes talked: { $minutes }
report-spend = Spend: { $amounts }
report-spend-none = Spend: none
report-unpriced = { $count ->
    [one] { $count } consultation talked without a price given: not in the spend.
   *[other] { $count } consultations talked without a price given: not in the spend.
}
report-missing-note = “Data missing”: the partner service has not given their calls yet; they are not counted as anything else.
report-stale = { $count ->
    [one] { $count } consultation could not be updated (the partner service did not answer): as last seen.
   *[other] { $count } consultations could not be updated (the partner service did not answer): as last seen.
}
report-details = 👤 Include patient details
report-details-sent = 👤 With patient names and phones. Do not forward this file.
report-chart-caption = Consultations per day by outcome, and spend per doctor.
report-csv-caption = One row per consultation (UTF-8; opens in Excel).

report-outcome-reached = reached the patient
report-outcome-unsuccessful = unsuccessful
report-outcome-terminated = terminated
report-outcome-in_progress = in progress
report-outcome-missing = data missing
report-chart-title = Report for { $period } ({ $zone })
report-chart-per-day = Consultations per day
report-chart-per-doctor = Spend per doctor
report-chart-no-spend = No spend in this period

report-csv-id = ID
report-csv-created = Created ({ $zone })
report-csv-start = Call started ({ $zone })
report-csv-doctor = Doctor
report-csv-outcome = Outcome
report-csv-calls = Calls
report-csv-minutes = Minutes
report-csv-cost-per-minute = Cost per minute
report-csv-currency = Currency
report-csv-cost = Cost
report-csv-coordinator = Coordinator
report-csv-patient = Patient
report-csv-phone = Phone
report-csv-elsewhere = started elsewhere
