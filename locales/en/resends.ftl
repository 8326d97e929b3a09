# Resends (`campaign resend`, `broadcast resend`) and self-repairs, as reports show them.

resend-campaign-done = Campaign { $name } is sent again to { $total ->
    [one] 1 person
   *[other] { $total } people
    }: { $failed } whose delivery had failed, { $newly } who have installed herald since.
resend-campaign-when = It goes out at { $at }, when its business hours open.
resend-campaign-none = Nothing to resend for campaign { $name }: every recipient who can be reached got it, or is still on the way.
resend-broadcast-done = Broadcast **#{ $number }** is sent again to { $total ->
    [one] 1 person
   *[other] { $total } people
    }: { $failed } whose card had failed, { $newly } who have installed herald since.
resend-broadcast-none = Nothing to resend for broadcast **#{ $number }**: every recipient who can be reached got it, or is still on the way.
resend-left-out = Left out: { $unreachable } whose delivery failed and who no longer have herald, { $missing } list members who still have not installed it.
resend-not-started = Campaign { $name } has not started yet: there is nothing to resend.
resend-recalled = Broadcast **#{ $number }** was recalled: it is not sent again.
report-repairs = Chats repaired
report-resent = Resent
report-resent-value = { $resent } ({ $delivered } delivered)
broadcast-info-resends = Chats repaired: { $repairs }. Resent: { $resent } ({ $delivered } delivered).
