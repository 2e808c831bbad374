# Partner API errors in plain words (bot/rendering/partner_errors.py words each error code).

partner-error = Сервис консультаций вернул ошибку, попробуйте позже.
partner-error-refused = Сервис консультаций отклонил запрос.
partner-error-bad-argument = Сервис консультаций отклонил один из параметров запроса.
partner-error-bad-argument-field = Сервис консультаций отклонил параметр «{ $field }».
partner-error-limit-exceeded = Операция превысила бы лимит партнёрского аккаунта и не выполнена.
partner-error-insufficient-funds = На счёте партнёра недостаточно средств для консультации.
partner-error-auth = Бот не авторизован в сервисе консультаций, сообщите администратору.
partner-error-forbidden = Сервис консультаций запретил эту операцию.
partner-error-not-found = Запрошенная запись не найдена.
partner-error-not-found-doctor = Врач с таким номером не найден.
partner-error-not-found-consultation = Консультация не найдена.
partner-error-conflict = Операция невозможна в текущем состоянии консультации.
partner-error-server-error = В сервисе консультаций произошёл сбой, попробуйте позже.
partner-error-route-unavailable = Справочник врачей в этом сервисе недоступен, введите номер врача вручную.
partner-error-unavailable = Сервис консультаций сейчас недоступен, попробуйте через минуту.
partner-error-outcome-unknown = Ответ сервиса потерялся, и пока неизвестно, запущена ли консультация; не запускайте её повторно, мы проверяем.
partner-error-attachment-too-large = Вложение больше 10 МБ, приложите файл поменьше.

# Parameters of the partner API in words a coordinator knows (in partner-error-bad-argument-field).
partner-field-doctorid = номер врача
partner-field-patientphone = телефон пациента
partner-field-patientfullname = ФИО пациента
partner-field-beginatutc = время начала
partner-field-duration = длительность
partner-field-attachment = вложение
partner-field-externalnotificationurl = адрес уведомлений
partner-field-ids = номера консультаций
partner-field-id = номер консультации
partner-field-statuses = статусы
partner-field-limit = размер страницы
partner-field-offset = смещение
# A parameter with no words of its own: its name as the service gave it.
partner-field-other = { $name }
