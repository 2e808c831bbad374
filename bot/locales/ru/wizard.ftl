# /start_callback wizard (bot/dialogs/start_callback, bot/rendering/card.py)

## Buttons
wizard-btn-back = ◀ Назад
wizard-btn-cancel = ✖ Отмена
wizard-btn-skip = Пропустить ▶
wizard-btn-now = Сейчас, затем длительность
wizard-btn-now-nothing-else = ⚡ Сейчас → к подтверждению
wizard-btn-in15 = Через 15 мин
wizard-btn-in60 = Через 1 час
wizard-btn-tomorrow9 = Завтра 09:00
wizard-btn-pick-date = 📅 Выбрать дату
wizard-btn-minutes = { $minutes } мин
wizard-btn-continue-anyway = Всё равно продолжить
wizard-btn-change-phone = Изменить телефон
wizard-btn-open-card = 📄 Открыть карточку { $short_id }
wizard-btn-confirm = ✅ Подтвердить
wizard-btn-edit = ✏ Изменить
wizard-btn-edit-doctor = Врач
wizard-btn-edit-phone = Телефон
wizard-btn-edit-name = ФИО
wizard-btn-edit-time = Время начала
wizard-btn-edit-duration = Длительность
wizard-btn-edit-attachment = Вложение
wizard-btn-change-doctor = Другой врач
wizard-btn-change-time = Другое время
wizard-btn-hour = Час
wizard-btn-minute = Минуты

## Steps
wizard-doctor-ask = <b>Новый обратный звонок.</b> Шаг 1: врач.
    Выберите врача из списка или напишите его номер (id).
wizard-doctor-ask-id = <b>Новый обратный звонок.</b> Шаг 1: врач.
    Напишите номер (id) врача.
wizard-doctor-unavailable-mark = ⛔
wizard-doctor-legend = ⛔ — звонки к этому врачу сейчас недоступны.
wizard-doctor-unnamed = Врач №{ $doctor_id }
wizard-doctor-error-not-a-number = Номер врача — это число, например 101. Выберите врача кнопкой или напишите номер.
wizard-doctor-error-not-found = Врача с номером { $doctor_id } нет. Проверьте номер или выберите врача из списка.
wizard-doctor-unchecked = Номер { $doctor_id } принят; имя врача станет известно при запуске.

wizard-phone-ask = Врач: { $doctor }
    Шаг 2: телефон пациента.
    Напишите номер (например, +7 909 970-85-93) или пришлите контакт.
wizard-phone-error-empty = Напишите номер телефона пациента, например +7 909 970-85-93.
wizard-phone-error-not-a-number = Это не похоже на телефон: нужны только цифры, пробелы, скобки, дефисы и «+», например +7 909 970-85-93.
wizard-phone-error-too-short = В номере слишком мало цифр. Нужен полный номер, например +7 909 970-85-93.
wizard-phone-error-too-long = В номере слишком много цифр (больше 15). Проверьте номер.
wizard-phone-error-invalid = Такого номера не существует. Проверьте номер; для другой страны начните с «+» и кода страны.
wizard-phone-warning = ⚠ У номера { $phone } уже есть консультация { $short_id }: { $what }.
    Врач: { $doctor }. Начало: { $start }.
    Пациенту не должны позвонить дважды по ошибке. Продолжить?
wizard-phone-warning-active = идёт или запланирована
wizard-phone-warning-unknown = исход запуска проверяется

wizard-name-ask = Телефон: { $phone }
    Шаг 3: ФИО пациента.
    Напишите ФИО пациента полностью, например: Иванова Анна Сергеевна.
wizard-name-error-empty = Напишите ФИО пациента.
wizard-name-error-too-short = ФИО слишком короткое: нужно хотя бы { $min } буквы.
wizard-name-error-too-long = ФИО слишком длинное: не больше { $max } символов.
wizard-name-error-bad-char = В ФИО недопустим символ «{ $char }». Можно буквы, пробелы, дефис и апостроф.
wizard-name-error-no-letters = В ФИО должны быть буквы.

wizard-time-ask = Пациент: { $name }
    Шаг 4: когда начать?
    «⚡ Сейчас → к подтверждению» — звонок сразу после подтверждения, шаги длительности и вложения пропускаются.
    Или выберите кнопкой, или напишите время ({ $zone }): 15:30, 28.11 15:30, завтра 10:00.
wizard-time-current = Выбрано: { $start }
wizard-time-pick-date = Выберите дату ({ $zone }):
wizard-time-pick-clock = Дата: { $date }. Выберите час и минуты ({ $zone }):
wizard-time-error-empty = Напишите время, например 15:30 или завтра 10:00.
wizard-time-error-not-understood = Не понимаю время. Примеры: 15:30, 28.11 15:30, 2026-11-28 15:30, завтра 10:00.
wizard-time-error-no-time = Не хватает часов и минут, например «завтра 10:00».
wizard-time-error-bad-date = Такой даты нет. Пример: 28.11 15:30.
wizard-time-error-past-today = Это время уже прошло сегодня; напишите «завтра { $time }».
wizard-time-error-past = Это время уже прошло. Выберите время в будущем.
wizard-time-error-too-far = Слишком далеко: можно не дальше чем на { $max_days } дней вперёд.
wizard-time-error-nonexistent = Времени { $time } в этот день нет (перевод часов). Выберите другое.

wizard-duration-ask = Начало: { $start }
    Шаг 5: максимальная длительность, минут ({ $min }–{ $max }). Кнопка, число («30», «1 ч», «1:30») или «Пропустить».
wizard-duration-error-not-understood = Нужна длительность в минутах от { $min } до { $max }: «30», «45 мин», «1 ч», «1:30».
wizard-duration-error-too-short = Слишком мало: не меньше { $min } минут.
wizard-duration-error-too-long = Слишком много: не больше { $max } минут.

wizard-attachment-ask = Шаг 6: вложение для врача (необязательно).
    Пришлите один документ или фото до { $limit_mb } МБ — или нажмите «Пропустить».
wizard-attachment-current = Сейчас приложено: { $attachment }
wizard-attachment-too-large = Файл «{ $name }» весит { $size_mb } МБ — больше предела { $limit_mb } МБ. Пришлите файл поменьше или пропустите шаг.
wizard-attachment-album = Нужен один файл, или один PDF: сервис принимает только одно вложение.
wizard-attachment-wrong-kind = Здесь нужен документ или фото — или нажмите «Пропустить».
wizard-attachment-photo-name = фото.jpg

wizard-unexpected-input = Здесь нужен ответ кнопкой или текстом.

## Summary
wizard-summary = <b>Проверьте и подтвердите</b>
    Врач: { $doctor }
    Телефон: { $phone }
    Пациент: { $name }
    Начало: { $start }
    Длительность: { $duration }
    Вложение: { $attachment }
wizard-summary-cost = Стоимость: { $cost } за минуту
wizard-start-now = сейчас
wizard-duration-none = без ограничения
wizard-duration-minutes = { $minutes } мин
wizard-attachment-none = нет
wizard-edit-ask = Что изменить?
wizard-retry-ask = { $reason }
    Выберите другого врача или другое время.

## Outcome
wizard-cancelled = Отменено. Звонок не заказан.
wizard-starting = Запускаю…
wizard-upstream-error = { $error }
wizard-funds-stop = На счёте партнёра недостаточно средств — консультация не запущена. Администраторы предупреждены.
wizard-try-again = { $error } Нажмите «Подтвердить», чтобы попробовать снова.

## Consultation card (bot/rendering/card.py)
card-title = <b>Консультация { $consultation_id }</b>
card-status = Статус: { $status }
card-doctor = Врач: { $doctor }
card-patient = Пациент: { $name }, { $phone }
card-time = Начало: { $start }
card-duration = Длительность: { $duration }
card-patient-private = Пациент: данные видны только в личном чате с ботом.
card-attachment = Вложение: { $attachment }
card-outcome-unknown = ⏳ Ответ сервиса потерялся; проверяем, запущена ли консультация. Не запускайте её повторно.
card-outcome-unknown-by = Ответ будет не позже { $by }: либо здесь, на карточке, либо сообщением, что она не создана.
card-starting = ⏳ Запускается…
card-failed = ✖ Не запущена.
card-status-none = —
card-btn-refresh = 🔄 Обновить
card-btn-terminate = ⛔ Прервать

## Added: notes, calendar, refusals
wizard-doctor-unavailable-note = ⛔ Звонки к этому врачу сейчас недоступны: запуск, скорее всего, не пройдёт. Можно вернуться и выбрать другого врача.
wizard-summary-unavailable = ⛔ Звонки к этому врачу сейчас недоступны: запуск, скорее всего, не пройдёт. Другого врача можно выбрать через «✏ Изменить».
wizard-start-conflict = Врач сейчас не принимает обратные звонки — выберите другого врача или время.
wizard-card-failed = Консультация запущена, но её карточку показать не удалось — найдите её в /list. Запускать заново не нужно.
wizard-card-failed-unknown = Ответ сервиса потерялся: проверяем, запущена ли консультация. Карточку показать не удалось — смотрите /list. Не запускайте её повторно.
wizard-cal-months = 🗓 Месяцы
wizard-cal-years = 🗓 Годы
wizard-cal-month = { $month ->
    [1] Январь
    [2] Февраль
    [3] Март
    [4] Апрель
    [5] Май
    [6] Июнь
    [7] Июль
    [8] Август
    [9] Сентябрь
    [10] Октябрь
    [11] Ноябрь
   *[12] Декабрь
}
wizard-cal-weekday = { $day ->
    [1] Пн
    [2] Вт
    [3] Ср
    [4] Чт
    [5] Пт
    [6] Сб
   *[7] Вс
}
wizard-confirm-already = Эту консультацию уже запускали с этой сводки (бот тем временем перезапускался); повторно она не запущена. Её исход — в /list.
