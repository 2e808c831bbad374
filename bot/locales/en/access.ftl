# Access, language and time: /start, invites, /users, /doctors, /language, /timezone, /settings.
# HTML is on: $name and other user-supplied values arrive already escaped.

## Roles and flags
access-role-admin = administrator
access-role-coordinator = coordinator
access-role-doctor = doctor
access-role-none = no role
access-active-yes = active
access-active-no = switched off
access-back = ◀ Back
access-cancel = Cancel
access-cancelled = Cancelled.
access-stale-button = This button is out of date.

## /start, /help
access-greeting-admin = Hello, { $name }! You are an administrator.
access-greeting-coordinator = Hello, { $name }! You are a coordinator.
access-greeting-doctor = Hello, { $name }! You are a doctor (id { $doctor_id }).
access-bootstrap-hint =
    No administrator is configured yet. To become the first one, put this id into
    <code>ADMIN_IDS</code> and restart the bot.
access-invite-unknown = This invite link is not valid. Ask an administrator for a new one.
access-invite-expired = This invite link has expired. Ask an administrator for a new one.
access-invite-used = This invite link has already been used. Ask an administrator for a new one.
access-invite-already-member = You already have access as { $role }; the invite was left unused.
access-invite-accepted-coordinator = Welcome! You are now a coordinator.
access-invite-accepted-doctor = Welcome! You are now a doctor (id { $doctor_id }).
access-join-timezone =
    Which time zone are you in? Times in messages will be shown in it.
    Press a city or type an offset such as <code>UTC+7</code>, <code>-05:00</code> or a zone name such as <code>Asia/Tokyo</code>.

## /invite
access-invite-choose = Whom do you want to invite?
access-invite-coordinator-button = Coordinator
access-invite-doctor-named-button = Doctor { $label }
access-invite-doctor-typed-button = Doctor by id…
access-invite-ask-doctor-id = Send the doctor's id (a number), or /cancel.
access-invite-bad-doctor-id = A doctor id is a positive number, for example <code>/invite doctor 101</code>.
access-invite-usage =
    Usage: <code>/invite coordinator</code> or <code>/invite doctor DOCTOR_ID</code>.
access-invite-created-coordinator =
    Invite for a coordinator — one use, valid until { $until }:
    { $link }
access-invite-created-doctor =
    Invite for doctor { $doctor_id }{ $doctor_name } — one use, valid until { $until }:
    { $link }

## /invites
access-invites-empty = No open invites. A new one: /invite
access-invites-title = <b>Open invites</b>: { $total } (page { $page } of { $pages })
access-invites-line = • #{ $invite_id }: { $invite } — created by { $creator }, valid until { $until }
access-invites-revoke-button = Revoke #{ $invite_id }
access-invites-revoke-ask = Revoke invite #{ $invite_id } ({ $invite }, until { $until })? Its link will stop working.
access-invites-revoke-yes = Yes, revoke
access-invites-revoked = Invite #{ $invite_id } revoked: its link no longer works.
access-invites-gone = Invite #{ $invite_id } is gone already: used, expired or revoked.

## /users
access-users-empty = No users yet. Invite someone with /invite.
access-users-title = <b>Users</b>: { $total } (page { $page } of { $pages })
access-users-line = • { $name } (<code>{ $user_id }</code>) — { $role }{ $doctor }, { $active }
access-users-doctor = , doctor { $doctor_id }
access-user-card =
    <b>{ $name }</b>
    Telegram id: <code>{ $user_id }</code>
    Role: { $role }{ $doctor }
    Status: { $active }
access-user-config-admin = Administrators are set by ADMIN_IDS and cannot be changed here.
access-user-make-coordinator = Make coordinator
access-user-make-doctor = Make doctor…
access-user-revoke = Revoke access
access-user-revoke-ask = Revoke access for { $name }? They will be turned away until invited again.
access-user-revoke-confirm = Yes, revoke
access-user-revoked = Access revoked for { $name }.
access-user-role-changed = { $name } is now { $role }.
access-user-ask-doctor = Choose the doctor for { $name }, or send the doctor id as a number.
access-user-gone = This user no longer exists.
access-user-self = You cannot change your own access.

## /doctors
access-doctors-empty = The doctor directory is empty.
access-doctors-title = <b>Doctors</b>: { $total } (page { $page } of { $pages })
access-doctors-line = • <code>{ $doctor_id }</code> { $name }
access-doctors-add = ➕ Add
access-doctors-sync = 🔄 Sync names
access-doctor-card =
    <b>{ $name }</b>
    Doctor id: <code>{ $doctor_id }</code>
access-doctor-rename = Rename
access-doctor-remove = Remove
access-doctor-remove-ask = Remove { $name } (id { $doctor_id }) from the directory?
access-doctor-remove-confirm = Yes, remove
access-doctor-removed = { $name } (id { $doctor_id }) removed from the directory.
access-doctor-gone = This doctor is no longer in the directory.
access-doctor-ask-id = Send the doctor id (a number).
access-doctor-bad-id = A doctor id is a positive number. Send it again, or /cancel.
access-doctor-exists = Doctor { $doctor_id } is already in the directory: { $name }.
access-doctor-not-found = The partner API has no doctor with id { $doctor_id }.
access-doctor-ask-name = This deployment has no doctor lookup. Send the name of doctor { $doctor_id }.
access-doctor-ask-rename = Send the new name for { $name } (id { $doctor_id }).
access-doctor-bad-name = A name is 2 to 120 characters. Send it again, or /cancel.
access-doctor-added = Added: { $name } (id { $doctor_id }).
access-doctor-renamed = Renamed: { $name } (id { $doctor_id }).
access-doctors-synced = Names synced from the API: { $updated } changed, { $missing } not found.
access-doctors-sync-unavailable = This deployment has no doctor lookup, so names cannot be synced; rename doctors by hand.
access-doctor-api-error = The partner API did not answer: { $error }

## /language
access-language-ask = Choose the language:
access-language-set = Language: English.

## /timezone
access-timezone-current =
    Your time zone: { $zone }. Now it is { $now }.
    Press a city or type an offset such as <code>UTC+7</code>, <code>+3</code>, <code>-05:00</code> or a zone name such as <code>Asia/Tokyo</code>.
access-timezone-bad =
    I did not recognise that time zone. Press a city or type an offset such as <code>UTC+7</code>, <code>+3</code>, <code>-05:00</code>, or a zone name such as <code>Europe/Berlin</code>.
access-timezone-set = Time zone: { $zone }. Now it is { $now }.

## /settings
access-settings-current =
    <b>Notifications</b>: { $mode }
    { $description }
access-notify-essentials-button = Essentials
access-notify-all-button = Every change
access-notify-muted-button = Muted
access-notify-essentials = essentials
access-notify-all = every change
access-notify-muted = muted
access-notify-essentials-help = Only what needs you: a call started, finished or failed; booked consultations and reminders for doctors.
access-notify-all-help = Every status change of your consultations.
access-notify-muted-help = Nothing but reminders and failures.
access-settings-set = Notifications: { $mode }.
