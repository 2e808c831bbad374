# /report (bot/routers/report.py, bot/rendering/report.py)

report-ask = 📊 Отчёт: за какой период?
report-scope-doctor = Только ваши консультации.
report-period-this-week = Эта неделя
report-period-last-week = Прошлая неделя
report-period-this-month = Этот месяц
report-period-last-month = Прошлый месяц
report-period-dates = Даты…
report-dates-ask =
    Напишите первый и последний день периода ({ $zone }), например <code>01.05.2026 31.05.2026</code>.
    /cancel — отмена.
report-dates-example = Например: <code>01.05.2026 31.05.2026</code> или <code>01.05 - 31.05</code>.
report-dates-error-not-understood = Не понял эти даты.
report-dates-error-bad-date = Такой даты нет: { $text }.
report-dates-error-inverted = Первый день ({ $first }) позже последнего ({ $last }): напишите их по порядку.
report-dates-error-future = Период начинается в будущем ({ $first }): отчёт считает то, что уже было.
report-dates-error-too-long = Отчёт охватывает не больше { $max_days } дней.
report-busy = Ваш отчёт ещё готовится: он сейчас придёт.
report-details-preparing = Готовлю файл с данными пациентов…
report-failed = Не удалось составить отчёт. Попробуйте чуть позже.

report-title = 📊 Отчёт за { $period } ({ $zone })
report-counting = ⏳ Считаю { $count ->
    [one] { $count } консультацию
    [few] { $count } консультации
   *[many] { $count } консультаций
}…
report-refreshing = Обновляю из сервиса партнёра: { $done } из { $total }…
report-empty = За этот период консультаций нет.
report-started = Начато консультаций: { $count }
report-line-reached = дозвонились до пациента: { $count }
report-line-unsuccessful = не состоялись: { $count }
report-line-terminated = прерваны: { $count }
report-line-in_progress = ещё идут: { $count }
report-line-missing = нет данных: { $count }
report-minutes = Минут разговора: { $minutes }
report-spend = Расходы: { $amounts }
report-spend-none = Расходы: нет
report-unpriced = { $count ->
    [one] { $count } консультация с разговором без указанной цены: в расходы не вошла.
    [few] { $count } консультации с разговором без указанной цены: в расходы не вошли.
   *[many] { $count } консультаций с разговором без указанной цены: в расходы не вошли.
}
report-missing-note = «Нет данных»: сервис партнёра ещё не сообщил их звонки; они не посчитаны ни в какой другой строке.
report-stale = { $count ->
    [one] { $count } консультацию не удалось обновить (сервис партнёра не ответил): как в последний раз.
    [few] { $count } консультации не удалось обновить (сервис партнёра не ответил): как в последний раз.
   *[many] { $count } консультаций не удалось обновить (сервис партнёра не ответил): как в последний раз.
}
report-details = 👤 С данными пациентов
report-details-sent = 👤 С именами и телефонами пациентов. Не пересылайте этот файл.
report-chart-caption = Консультации по дням по итогам и расходы по врачам.
report-csv-caption = Строка на каждую консультацию (UTF-8; открывается в Excel).

report-outcome-reached = дозвонились
report-outcome-unsuccessful = не состоялась
report-outcome-terminated = прервана
report-outcome-in_progress = идёт
report-outcome-missing = нет данных
report-chart-title = Отчёт за { $period } ({ $zone })
report-chart-per-day = Консультации по дням
report-chart-per-doctor = Расходы по врачам
report-chart-no-spend = В этом периоде расходов нет

report-csv-id = ID
report-csv-created = Создана ({ $zone })
report-csv-start = Начало звонка ({ $zone })
report-csv-doctor = Врач
report-csv-outcome = Итог
report-csv-calls = Звонков
report-csv-minutes = Минут
report-csv-cost-per-minute = Цена минуты
report-csv-currency = Валюта
report-csv-cost = Стоимость
report-csv-coordinator = Координатор
report-csv-patient = Пациент
report-csv-phone = Телефон
report-csv-elsewhere = начата не в боте
