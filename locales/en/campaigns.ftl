# Campaigns: their commands' answers, their fields' labels and their rules' errors.

campaign-not-saved = The campaign was not saved:
campaign-name-taken = A campaign named { $name } already exists.
campaign-scheduled = Campaign { $name } scheduled.
campaign-updated = Campaign { $name } updated.
campaign-deleted = Campaign { $name } deleted.
campaign-unknown = There is no campaign named { $name }. Type **campaigns** to see them.
campaign-started-no-edit = Campaign { $name } has started; it can no longer be edited.
campaign-running-no-delete = Campaign { $name } is running; it can be neither cancelled nor deleted before it completes.
campaigns-none = No campaigns yet.
campaigns-line = - { $name } — { $status } — { $start } — { $delivered }/{ $targeted } delivered{ $progress }
campaign-unknown-placeholders = Warning: { $placeholders } { $count ->
        [one] is not a known placeholder
       *[other] are not known placeholders
    } ([FIRSTNAME] and [LASTNAME] are); it will be sent as written.
campaign-not-an-email = `{ $value }` is not an email.
campaign-test-not-installed = { $email } has not installed herald.
campaign-test-bad-service-url = the user's service URL is not valid
campaign-test-host-not-allowed = The test was not sent: herald does not call { $host }, which is not in bot.service_url_hosts.
campaign-test-sent = Test of { $name } sent to { $email }.
campaign-test-failed = The test could not be sent: { $error }

# A campaign's settings as `campaign info` shows them.
campaign-label-channel = channel:
campaign-label-list = list:
campaign-label-start = start:
campaign-label-duration = duration:
campaign-label-hours = hours:
campaign-label-timezone = timezone:
campaign-label-presence = presence:
campaign-label-message = message:

# The rules' own errors on a field.
duration-invalid = `{ $value }` is not a duration: { $why ->
        [empty] it is empty
        [units] use only numbers followed by m, h or d
        [number-first] each unit needs a number before it
        [order] give days, then hours, then minutes, each once
        [too-large] the number is too large
        [no-unit] a number needs a unit (m, h or d)
        [zero] it must be longer than zero
       *[too-long] it must be at most 366 days
    }. Examples: 90m, 2h, 3d, 1h30m
presence-invalid = `{ $value }` is not a presence policy. Use any, available, or available,away,busy
template-empty = the message is empty
template-invalid = the message could not be prepared: { $reason }
template-not-personalised = the message could not be personalised: { $reason }
