# Доступ, язык и время: /start, приглашения, /users, /doctors, /language, /timezone, /settings.
# Включён HTML: $name и другие значения от пользователей приходят уже экранированными.

## Роли и признаки
access-role-admin = администратор
access-role-coordinator = координатор
access-role-doctor = врач
access-role-none = без роли
access-active-yes = активен
access-active-no = отключён
access-back = ◀ Назад
access-cancel = Отмена
access-cancelled = Отменено.
access-stale-button = Эта кнопка устарела.

## /start, /help
access-greeting-admin = Здравствуйте, { $name }! Вы администратор.
access-greeting-coordinator = Здравствуйте, { $name }! Вы координатор.
access-greeting-doctor = Здравствуйте, { $name }! Вы врач (id { $doctor_id }).
access-bootstrap-hint =
    Администратор ещё не назначен. Чтобы стать первым, впишите этот id в
    <code>ADMIN_IDS</code> и перезапустите бота.
access-invite-unknown = Эта ссылка-приглашение недействительна. Попросите у администратора новую.
access-invite-expired = Срок действия этой ссылки-приглашения истёк. Попросите у администратора новую.
access-invite-used = Эта ссылка-приглашение уже использована. Попросите у администратора новую.
access-invite-already-member = У вас уже есть доступ ({ $role }); приглашение не использовано.
access-invite-accepted-coordinator = Добро пожаловать! Теперь вы координатор.
access-invite-accepted-doctor = Добро пожаловать! Теперь вы врач (id { $doctor_id }).
access-join-timezone =
    В каком вы часовом поясе? В нём будет показываться время в сообщениях.
    Нажмите город или напишите смещение, например <code>UTC+7</code>, <code>-05:00</code>, или название пояса, например <code>Asia/Tokyo</code>.

## /invite
access-invite-choose = Кого пригласить?
access-invite-coordinator-button = Координатора
access-invite-doctor-named-button = Врача { $label }
access-invite-doctor-typed-button = Врача по id…
access-invite-ask-doctor-id = Пришлите id врача (число) или /cancel.
access-invite-bad-doctor-id = Id врача — положительное число, например <code>/invite doctor 101</code>.
access-invite-usage =
    Формат: <code>/invite coordinator</code> или <code>/invite doctor ID_ВРАЧА</code>.
access-invite-created-coordinator =
    Приглашение для координатора — одноразовое, действует до { $until }:
    { $link }
access-invite-created-doctor =
    Приглашение для врача { $doctor_id }{ $doctor_name } — одноразовое, действует до { $until }:
    { $link }

## /invites
access-invites-empty = Открытых приглашений нет. Новое: /invite
access-invites-title = <b>Открытые приглашения</b>: { $total } (страница { $page } из { $pages })
access-invites-line = • №{ $invite_id }: { $invite } — создал { $creator }, действует до { $until }
access-invites-revoke-button = Отозвать №{ $invite_id }
access-invites-revoke-ask = Отозвать приглашение №{ $invite_id } ({ $invite }, до { $until })? Ссылка перестанет работать.
access-invites-revoke-yes = Да, отозвать
access-invites-revoked = Приглашение №{ $invite_id } отозвано: ссылка больше не работает.
access-invites-gone = Приглашения №{ $invite_id } уже нет: оно использовано, истекло или отозвано.

## /users
access-users-empty = Пользователей пока нет. Пригласите кого-нибудь командой /invite.
access-users-title = <b>Пользователи</b>: { $total } (страница { $page } из { $pages })
access-users-line = • { $name } (<code>{ $user_id }</code>) — { $role }{ $doctor }, { $active }
access-users-doctor = , врач { $doctor_id }
access-user-card =
    <b>{ $name }</b>
    Telegram id: <code>{ $user_id }</code>
    Роль: { $role }{ $doctor }
    Состояние: { $active }
access-user-config-admin = Администраторы задаются в ADMIN_IDS, здесь их не изменить.
access-user-make-coordinator = Сделать координатором
access-user-make-doctor = Сделать врачом…
access-user-revoke = Отозвать доступ
access-user-revoke-ask = Отозвать доступ у { $name }? Бот не будет с ним работать до нового приглашения.
access-user-revoke-confirm = Да, отозвать
access-user-revoked = Доступ у { $name } отозван.
access-user-role-changed = { $name }: теперь { $role }.
access-user-ask-doctor = Выберите врача для { $name } или пришлите id врача числом.
access-user-gone = Этого пользователя больше нет.
access-user-self = Свой собственный доступ изменить нельзя.

## /doctors
access-doctors-empty = Справочник врачей пуст.
access-doctors-title = <b>Врачи</b>: { $total } (страница { $page } из { $pages })
access-doctors-line = • <code>{ $doctor_id }</code> { $name }
access-doctors-add = ➕ Добавить
access-doctors-sync = 🔄 Обновить имена
access-doctor-card =
    <b>{ $name }</b>
    Id врача: <code>{ $doctor_id }</code>
access-doctor-rename = Переименовать
access-doctor-remove = Удалить
access-doctor-remove-ask = Удалить { $name } (id { $doctor_id }) из справочника?
access-doctor-remove-confirm = Да, удалить
access-doctor-removed = { $name } (id { $doctor_id }) удалён из справочника.
access-doctor-gone = Этого врача уже нет в справочнике.
access-doctor-ask-id = Пришлите id врача (число).
access-doctor-bad-id = Id врача — положительное число. Пришлите ещё раз или /cancel.
access-doctor-exists = Врач { $doctor_id } уже есть в справочнике: { $name }.
access-doctor-not-found = В партнёрском API нет врача с id { $doctor_id }.
access-doctor-ask-name = В этой установке нет поиска врачей через API. Пришлите имя врача { $doctor_id }.
access-doctor-ask-rename = Пришлите новое имя для { $name } (id { $doctor_id }).
access-doctor-bad-name = Имя — от 2 до 120 символов. Пришлите ещё раз или /cancel.
access-doctor-added = Добавлен: { $name } (id { $doctor_id }).
access-doctor-renamed = Переименован: { $name } (id { $doctor_id }).
access-doctors-synced = Имена обновлены из API: изменено { $updated }, не найдено { $missing }.
access-doctors-sync-unavailable = В этой установке нет поиска врачей через API, имена не обновить; переименуйте врачей вручную.
access-doctor-api-error = Партнёрский API не ответил: { $error }

## /language
access-language-ask = Выберите язык:
access-language-set = Язык: русский.

## /timezone
access-timezone-current =
    Ваш часовой пояс: { $zone }. Сейчас { $now }.
    Нажмите город или напишите смещение, например <code>UTC+7</code>, <code>+3</code>, <code>-05:00</code>, или название пояса, например <code>Asia/Tokyo</code>.
access-timezone-bad =
    Не узнаю такой часовой пояс. Нажмите город или напишите смещение, например <code>UTC+7</code>, <code>+3</code>, <code>-05:00</code>, или название пояса, например <code>Europe/Berlin</code>.
access-timezone-set = Часовой пояс: { $zone }. Сейчас { $now }.

## /settings
access-settings-current =
    <b>Уведомления</b>: { $mode }
    { $description }
access-notify-essentials-button = Главное
access-notify-all-button = Все изменения
access-notify-muted-button = Без звука
access-notify-essentials = главное
access-notify-all = все изменения
access-notify-muted = без звука
access-notify-essentials-help = Только то, что требует вас: звонок начался, завершён или не состоялся; для врачей — записи и напоминания.
access-notify-all-help = Каждое изменение статуса ваших консультаций.
access-notify-muted-help = Ничего, кроме напоминаний и сбоев.
access-settings-set = Уведомления: { $mode }.
