# Scheduled broadcasts: `send:` times, `broadcast edit`, cancelling before it goes, and the
# sender's notice when it went.

schedule-not-a-date-time = `{ $value }` is not a date and time as YYYY-MM-DD HH:MM
schedule-skipped-time = { $value } does not exist in { $zone }: the clocks skip that hour; pick another time
schedule-in-past = { $value } ({ $zone }) is in the past: it is { $now } there now
schedule-no-time = waiting to be released

schedule-scheduled = Broadcast **#{ $number }** { $subject } is scheduled for { $at }, to { $audience }. Nothing is sent before then; its audience is counted when it goes. Type **broadcast edit { $number }** to change it, **broadcast delete { $number }** to cancel it.
schedule-edited = Scheduled broadcast **#{ $number }** is updated: { $subject }, for { $at }.
schedule-not-edited-head = Broadcast **#{ $number }** was not changed:
schedule-edit-gone = Broadcast **#{ $number }** has already gone out: it can no longer be edited. Type **broadcast delete { $number }** to recall it.
schedule-cancelled = Scheduled broadcast **#{ $number }** { $subject } (for { $at }) is cancelled: nothing was sent, and nothing will be.
schedule-not-sent-yet = Broadcast **#{ $number }** has not gone out yet: it is scheduled for { $at }.

schedule-went = Your scheduled broadcast **#{ $number }** { $subject } is on its way to { $count ->
    [one] { $count } person
   *[other] { $count } people
}. Type **broadcast info { $number }** to follow who read it.
schedule-went-nobody = Your scheduled broadcast **#{ $number }** { $subject } was not sent: nobody of { $audience } has installed herald.
schedule-went-unresolved = Your scheduled broadcast **#{ $number }** { $subject } was not sent: Microsoft Graph could not resolve the groups { $groups }. Send it again once they resolve.

schedule-list-line = - **#{ $number }** { $subject } — { $state } — { $audience }
schedule-list-held = scheduled for { $at }
schedule-list-cancelled = cancelled before it went, never sent
schedule-list-not-sent = not sent ({ $at }): nobody to send it to
schedule-info-held = Scheduled for { $at } by { $sender }, to { $audience }: nothing is sent before then. Type **broadcast edit { $number }** to change it, **broadcast delete { $number }** to cancel it.
schedule-info-cancelled = Cancelled { $at }, before it went: nothing was sent.
schedule-info-not-sent = Not sent { $at }: { $reason ->
    [unresolved] the groups of its list could not be resolved.
   *[other] nobody of its audience had installed herald.
}

form-label-send = Send at (YYYY-MM-DD HH:MM; empty: now)
form-label-send-zone = Time zone of that time (empty: yours)
form-send-or-schedule = Send
schedule-edit-approval = Approval is required here: a broadcast cannot be edited once it was asked for. Delete it (**broadcast delete** with its number) and send it again: the approvers will be asked again.
