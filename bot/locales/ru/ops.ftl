# Operator's kit (issue 8): reminders (bot/jobs/reminders.py), admin alerts (bot/services/alerts.py).

ops-reminder-coordinator = ⏰ Через { $minutes } мин, в { $when }, начнётся консультация { $short_id }: пациент { $patient }, врач { $doctor }.
ops-reminder-doctor = ⏰ Через { $minutes } мин, в { $when }, у вас консультация { $short_id } ({ $duration }). Пациент { $patient }.
ops-duration = до { $minutes } мин
ops-duration-unbounded = без ограничения по времени

ops-alert-refresh-failed =
    ⚠️ Не удалось обновить токен партнёрского API ({ $reason }).
    Когда истечёт текущий токен ({ $expires }), бот перестанет запускать и отслеживать консультации.
    Выполните на сервере: python -m bot partner-login
ops-alert-insufficient-funds =
    ⚠️ Партнёрский API отказал: на счёте партнёра недостаточно средств.
    Консультации не запускаются, пока счёт не пополнен.
retention-message-removed = Консультация { $short_id } — данные удалены через { $days } дн.
retention-digest-removed = ☀️ Утренняя сводка — данные удалены через { $days } дн.
