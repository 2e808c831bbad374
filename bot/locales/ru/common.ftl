# Shared texts of the runtime: access gate, errors, help, command menu, demo mark.

demo-mark = 🧪 ДЕМО — звонков нет

## Access gate (bot/middlewares/access.py)
access-no-access =
    У вас пока нет доступа к этому боту.
    Ваш Telegram id: <code>{ $user_id }</code> — передайте его администратору, чтобы получить приглашение.
## Refusals of the access policy (bot/services/access.py, answered in bot/routers/errors.py)
access-denied-role = Роль «{ $role }» не позволяет { $action }.
access-action-start = начинать консультации
access-action-list = смотреть список консультаций
access-action-find = искать консультации
access-action-view = открывать эту консультацию
access-action-refresh = обновлять эту консультацию
access-action-terminate = прерывать консультации
access-action-reschedule = переносить консультации
access-action-repeat = повторять консультации
access-action-read_conclusion = читать это заключение
access-action-cant_take = отказываться от консультаций
access-action-receive = получать новости консультаций
access-action-receive_alerts = получать оповещения администраторов
access-action-invite = приглашать пользователей
access-action-manage_users = управлять пользователями
access-action-manage_doctors = управлять справочником врачей
access-action-report = составлять отчёты
access-action-report_patient_details = видеть имена и телефоны пациентов в отчётах
access-inactive = Ваш доступ отключён. Обратитесь к администратору.

## Groups (bot/middlewares/group_guard.py)
group-use-private = В группе я не показываю данные пациентов. Напишите мне в личные сообщения: { $bot_link }

## Errors (bot/routers/errors.py)
error-apology = Что-то пошло не так, извините. Попробуйте ещё раз чуть позже.
error-stale-button = Эта кнопка устарела.
error-stale-dialog = Бот был обновлён, и этот диалог закрыт. Начните заново — команды ниже.

## Help and fallback (bot/routers/fallback.py)
fallback-unknown = Не понимаю эту команду или сообщение.
help-stranger =
    Это бот для координаторов и врачей клиники.
    Доступ выдаёт администратор по приглашению.
help-coordinator =
    Что я умею:
    /start_callback — заказать обратный звонок пациенту
    /list — консультации
    /find — найти консультацию
    /report — отчёт: консультации, минуты, расходы
    /settings — уведомления
    /timezone — часовой пояс
    /language — язык
    /cancel — отменить текущее действие
help-doctor =
    Что я умею:
    /list — ваши консультации
    /report — отчёт по вашим консультациям
    /settings — уведомления
    /timezone — часовой пояс
    /language — язык
help-admin =
    Что я умею:
    /start_callback — заказать обратный звонок пациенту
    /list — консультации
    /find — найти консультацию
    /report — отчёт: консультации, минуты, расходы
    /invite — пригласить координатора или врача
    /invites — открытые приглашения (отозвать)
    /users — пользователи
    /doctors — справочник врачей
    /settings — уведомления
    /timezone — часовой пояс
    /language — язык
    /cancel — отменить текущее действие

## Command menu (bot/commands.py)
cmd-start = Начать
cmd-help = Помощь
cmd-start_callback = Заказать звонок пациенту
cmd-list = Консультации
cmd-find = Найти консультацию
cmd-report = Отчёт: консультации, минуты, расходы
cmd-cancel = Отменить текущее действие
cmd-language = Язык
cmd-timezone = Часовой пояс
cmd-settings = Уведомления
cmd-invite = Пригласить пользователя
cmd-invites = Открытые приглашения
cmd-users = Пользователи
cmd-doctors = Справочник врачей

