# Partner API errors in plain words (bot/rendering/partner_errors.py words each error code).

partner-error = The consultation service returned an error; try again later.
partner-error-refused = The consultation service refused the request.
partner-error-bad-argument = The consultation service rejected one of the request's parameters.
partner-error-bad-argument-field = The consultation service rejected the { $field }.
partner-error-limit-exceeded = The operation would exceed a limit of the partner account and was not done.
partner-error-insufficient-funds = The partner account does not have enough funds for the consultation.
partner-error-auth = The bot is not authorised with the consultation service; tell an administrator.
partner-error-forbidden = The consultation service does not allow this operation.
partner-error-not-found = The requested record was not found.
partner-error-not-found-doctor = No doctor with this id.
partner-error-not-found-consultation = No such consultation.
partner-error-conflict = The operation is not possible in the consultation's current state.
partner-error-server-error = The consultation service failed; try again later.
partner-error-route-unavailable = This service does not offer the doctor directory; type the doctor's id instead.
partner-error-unavailable = The consultation service is unavailable right now; try again in a minute.
partner-error-outcome-unknown = The service's answer was lost and it is not yet known whether the consultation started; do not start it again, we are checking.
partner-error-attachment-too-large = The attachment is larger than 10 MB; attach a smaller file.

# Parameters of the partner API in words a coordinator knows (in partner-error-bad-argument-field).
partner-field-doctorid = doctor id
partner-field-patientphone = patient's phone
partner-field-patientfullname = patient's full name
partner-field-beginatutc = start time
partner-field-duration = duration
partner-field-attachment = attachment
partner-field-externalnotificationurl = notification URL
partner-field-ids = consultation ids
partner-field-id = consultation id
partner-field-statuses = statuses
partner-field-limit = page size
partner-field-offset = offset
# A parameter with no words of its own: its name as the service gave it.
partner-field-other = parameter “{ $name }”
