# /list, /find и карточка консультации (bot/routers/consultations.py,
# bot/dialogs/consultations_list, bot/rendering/consultation_list.py).

list-title = Консультации: { $filter }
list-filter-name-act = активные
list-filter-name-sch = запланированные
list-filter-name-fin = завершённые
list-filter-name-all = все
list-filter-name-mine = мои
list-filter-name-find = результаты поиска
list-filter-act = Активные
list-filter-sch = Заплан.
list-filter-fin = Завершённые
list-filter-all = Все
list-filter-mine = Мои
list-sort-c = Создана
list-sort-s = Статус
list-position = Страница { $page } из { $pages } · всего { $total }
list-pager = { $page }/{ $pages }
list-empty = Здесь пусто.
list-empty-start = Начать консультацию: /start_callback.
list-btn-start = ➕ Начать консультацию
list-patient-unknown = (без имени)
list-doctor-unknown = (врач не указан)
list-started-elsewhere = начата вне бота
list-unavailable = ⚠️ Сервис партнёра не ответил: { $reason } Попробуйте через минуту.
list-stale-data = ⚠️ Сервис не ответил; показаны последние известные данные.
list-find-usage = Напишите, что искать: /find +7 909 970 85 93, /find 8593 или /find Петров.
list-find-query = Поиск: { $query }
list-private-only = Консультации я показываю только в личном чате.

list-btn-back = ⬅️ К списку
list-btn-repeat = 🔁 Повторить
list-btn-reschedule = 🗓 Перенести
list-btn-cant-take = 🙅 Не могу взять
list-btn-yes = ✅ Да
list-btn-no = ✖️ Нет

list-card-history = История:
list-card-history-line = { $when } — { $status }
list-card-calls = Звонки:
list-card-call = { $when } · { $who } · { $duration } · { $result }
list-card-call-ok = успешно
list-card-call-failed = неуспешно
list-card-call-patient = пациент
list-card-call-doctor = врач
list-card-call-seconds = { $minutes } мин { $seconds } с
list-card-attachments = Вложения: { $names }
list-card-conclusion = 📄 Заключение готово — нажмите кнопку, чтобы прочитать.
list-card-purged = Данные пациента удалены по истечении срока хранения.
list-card-external = Эта консультация начата вне бота.
list-card-offline = ⚠️ Сервис не ответил; в карточке последние известные данные.

list-not-found = Такой консультации нет, или она вам недоступна.
list-stale-button = Эта кнопка устарела.
list-terminate-confirm = Прервать консультацию пациента { $patient } с врачом { $doctor }?
list-reschedule-confirm = Перенос: консультация пациента { $patient } с врачом { $doctor } будет прервана, и подготовится новая. Продолжить?
list-terminated = Консультация прервана.
list-already-finished = Консультация уже завершена.
list-terminate-failed = Не удалось прервать консультацию: { $reason } Она продолжается.
list-terminate-refused = Сервис отказался её прервать.
list-terminate-not-allowed = Прерывать консультации могут только координаторы.
list-repeat-not-final = Консультация ещё не завершена: повторить можно после её окончания.
list-reschedule-not-scheduled = Перенести можно только запланированную консультацию.
list-cant-take-sent = Координатор предупреждён.
list-cant-take-message = 🙅 Врач { $doctor } не может взять консультацию { $short_id } (пациент { $patient }, { $when }). Перенесите её или выберите другого врача.
list-cant-take-nobody = Некого предупредить: у этой консультации нет координатора в боте.
