# Shared texts of the runtime: access gate, errors, help, command menu, demo mark.

demo-mark = 🧪 DEMO — no real calls

## Access gate (bot/middlewares/access.py)
access-no-access =
    You have no access to this bot yet.
    Your Telegram id: <code>{ $user_id }</code> — give it to an administrator to get an invite.
## Refusals of the access policy (bot/services/access.py, answered in bot/routers/errors.py)
access-denied-role = Your role ({ $role }) does not allow you to { $action }.
access-action-start = start consultations
access-action-list = see the list of consultations
access-action-find = search consultations
access-action-view = open this consultation
access-action-refresh = refresh this consultation
access-action-terminate = terminate consultations
access-action-reschedule = reschedule consultations
access-action-repeat = repeat consultations
access-action-read_conclusion = read this conclusion
access-action-cant_take = decline consultations
access-action-receive = receive news of consultations
access-action-receive_alerts = receive administrators' alerts
access-action-invite = invite people
access-action-manage_users = manage users
access-action-manage_doctors = manage the doctors directory
access-action-report = make reports
access-action-report_patient_details = see patient names and phones in reports
access-inactive = Your access has been switched off. Please contact an administrator.

## Groups (bot/middlewares/group_guard.py)
group-use-private = I don't show patient data in groups. Message me privately: { $bot_link }

## Errors (bot/routers/errors.py)
error-apology = Sorry, something went wrong. Please try again a bit later.
error-stale-button = This button is out of date.
error-stale-dialog = The bot was updated and this dialog was closed. Please start again — commands below.

## Help and fallback (bot/routers/fallback.py)
fallback-unknown = I don't understand this command or message.
help-stranger =
    This bot is for the clinic's coordinators and doctors.
    An administrator gives access by invitation.
help-coordinator =
    What I can do:
    /start_callback — order a callback for a patient
    /list — consultations
    /find — find a consultation
    /report — report: consultations, minutes, spend
    /settings — notifications
    /timezone — time zone
    /language — language
    /cancel — cancel the current action
help-doctor =
    What I can do:
    /list — your consultations
    /report — report on your consultations
    /settings — notifications
    /timezone — time zone
    /language — language
help-admin =
    What I can do:
    /start_callback — order a callback for a patient
    /list — consultations
    /find — find a consultation
    /report — report: consultations, minutes, spend
    /invite — invite a coordinator or a doctor
    /invites — open invites (revoke)
    /users — users
    /doctors — doctor directory
    /settings — notifications
    /timezone — time zone
    /language — language
    /cancel — cancel the current action

## Command menu (bot/commands.py)
cmd-start = Start
cmd-help = Help
cmd-start_callback = Order a patient callback
cmd-list = Consultations
cmd-find = Find a consultation
cmd-report = Report: consultations, minutes, spend
cmd-cancel = Cancel the current action
cmd-language = Language
cmd-timezone = Time zone
cmd-settings = Notifications
cmd-invite = Invite a user
cmd-invites = Open invites
cmd-users = Users
cmd-doctors = Doctor directory

