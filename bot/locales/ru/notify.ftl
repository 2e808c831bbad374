# Status notifications (bot/notifications/), the conclusion button (bot/routers/conclusion.py)
# and reconcile (bot/notifications/reconcile.py).

notify-status-Registered = Зарегистрирована
notify-status-PreProcessing = Подготовка
notify-status-Delayed = Отложена
notify-status-Processing = Идёт звонок
notify-status-PostProcessing = Завершение
notify-status-Processed = Завершена
notify-status-Unsuccessful = Не состоялась
notify-status-Unknown = Неизвестный статус

notify-when-now = сейчас
notify-duration = до { $minutes } мин
notify-duration-unbounded = без ограничения по времени

notify-started = 📞 Звонок начался: консультация { $short_id }, пациент { $patient }, врач { $doctor }.
notify-finished =
    ✅ Консультация { $short_id } завершена (пациент { $patient }, врач { $doctor }).
    Заключение готово — нажмите кнопку, чтобы его открыть.
notify-failed =
    ❌ Консультация { $short_id } не состоялась (пациент { $patient }, врач { $doctor }).
    Её можно запустить заново.
notify-status-changed = Консультация { $short_id } (пациент { $patient }): { $status }.
# Registered / Delayed for a coordinator in "all" mode (the doctor has their own wording).
notify-coordinator-scheduled = 🗓 Консультация { $short_id } (пациент { $patient }, врач { $doctor }): { $status } — { $when }, { $duration }.

notify-doctor-booked = 🗓 Вам назначена консультация { $short_id }: { $when }, { $duration }. Пациент { $patient }.
notify-doctor-delayed = 🗓 Консультация { $short_id } перенесена: { $when }, { $duration }. Пациент { $patient }.
notify-doctor-failed = ❌ Консультация { $short_id } (пациент { $patient }) не состоялась.
notify-doctor-terminated = ⛔ Координатор прервал консультацию { $short_id } (пациент { $patient }).

notify-team-line = { $short_id } · { $status } · врач { $doctor } · координатор { $coordinator }

notify-btn-conclusion = 📄 Заключение
notify-btn-again = 🔁 Запустить заново

notify-conclusion-header = 📄 Заключение врача { $doctor } по консультации { $short_id }:
notify-conclusion-empty = Заключения по консультации { $short_id } пока нет.
notify-conclusion-private = Заключение показывается только в личном чате с ботом.
notify-conclusion-unavailable = Не удалось получить заключение: { $reason }

notify-again-unavailable = Запустить заново сейчас не получается — начните с /start_callback.

notify-start-failed =
    ⚠️ Запуск консультации (пациент { $patient }, врач { $doctor }, { $when }) не подтвердился: сервис её не создал.
    Звонка не будет. Можно запустить заново.
notify-start-confirmed = ✅ Консультация { $short_id } всё-таки создана (пациент { $patient }, врач { $doctor }) — слежу за ней как обычно. Запускать заново не нужно.
notify-start-interrupted = ⏳ Бот перезапустился, пока запускал консультацию (пациент { $patient }, врач { $doctor }). Проверяем у сервиса, создана ли она; ответ будет не позже { $by }. Пока не запускайте её повторно.
