# Broadcasts: sending, following, recalling, reading and the reply relay.

broadcast-not-sent-head = The broadcast was not sent:
broadcast-unknown = There is no broadcast { $id }. Type **broadcasts** to see them.
broadcast-sender-unknown = I don't know you yet: reinstall herald, then try again.
broadcast-unknown-list = There is no list named { $name }. Type **lists** to see them.
broadcast-nobody-all = Nobody has installed herald yet: the broadcast was not sent.
broadcast-nobody-list = No member of { $list } has installed herald: the broadcast was not sent.
broadcast-not-installed = Not installed: { $emails }
broadcast-sent = Broadcast **#{ $number }** { $subject } is on its way to { $count ->
    [one] { $count } person
   *[other] { $count } people
}.
broadcast-sent-not-installed = { $count ->
    [one] { $count } member of { $list } has not installed herald: { $emails }
   *[other] { $count } members of { $list } have not installed herald: { $emails }
}
broadcast-sent-follow = Type **broadcast info { $number }** to follow who read it.

broadcast-none = No broadcasts yet.
broadcast-list-line = - **#{ $number }** { $subject } — { $at } — { $audience }: { $targeted ->
    [one] { $targeted } recipient
   *[other] { $targeted } recipients
}, { $delivered } delivered, { $read } read{ $recalled }
broadcast-list-recalled = recalled

broadcast-info-title = Broadcast **#{ $number }** { $subject }
broadcast-info-sent = Sent { $at } by { $sender } to { $audience }.
broadcast-info-counts = Recipients: { $targeted } · delivered: { $delivered } · pending: { $pending } · failed: { $failed } · not installed: { $not_installed }
broadcast-info-reads = Read: { $read } ({ $button } by button, { $receipt } by read receipt) · replied: { $repliers }
broadcast-info-recalled = Recalled { $at }: removed from { $removed } chat(s), { $failed } failed, { $pending } pending, { $not_sent } never sent.
broadcast-info-unread = Not read yet ({ $count }): { $names }
broadcast-info-clicks = Clicks: { $people ->
    [one] { $people } person
   *[other] { $people } people
}, { $clicks } in all

broadcast-already-recalled-on = Broadcast **#{ $number }** was already recalled on { $at }.
broadcast-already-recalled = Broadcast **#{ $number }** was already recalled.
broadcast-recall-past-retention = Broadcast **#{ $number }** is older than the retention period: its deliveries are no longer recorded, so its cards can no longer be recalled.
broadcast-recalling = Recalling broadcast **#{ $number }** { $subject }: deleting it from { $deletes } chat(s){ $stopped }. I'll tell you when it's done; reply threads stay open.
broadcast-recalling-stopped = , { $count ->
    [one] { $count } send stopped
   *[other] { $count } sends stopped
}
broadcast-recall-report = Broadcast #{ $number } "{ $subject }" recalled: removed from { $removed } chat(s), { $failed } failed.
broadcast-recall-report-not-sent = { $count } had not been sent yet.

broadcast-recalled-by-sender = This broadcast was recalled by its sender.
broadcast-not-yours = That broadcast was not sent to you, or no longer exists.
broadcast-reply-passed = Your reply to { $subject } was passed on to { $to }.
broadcast-answer-passed = Your answer was passed on to { $to }.
broadcast-reply-empty = Your reply is empty: write it in the box, then send.
broadcast-reply-too-long = Your reply is { $count } characters long; at most { $max }.
broadcast-reply-too-heavy = Your reply is too heavy once shown (< & * and line breaks count more): shorten it.

broadcast-card-from = From { $sender }
broadcast-card-read = ✓ Read
broadcast-card-mark-read = Mark as read
broadcast-card-reply = Reply
broadcast-card-reply-placeholder = Your reply to the sender
broadcast-card-send = Send
broadcast-reply-card-head = **{ $replier }** replied to broadcast #{ $number } "{ $subject }":
broadcast-reply-card-summary = Reply from { $replier }
broadcast-reply-card-answer = Answer
broadcast-reply-card-placeholder = Your answer to { $replier }
broadcast-answer-card-head = **{ $sender }** answered you about "{ $subject }":
broadcast-answer-card-summary = Answer from { $sender }
