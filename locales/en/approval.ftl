# Four-eyes approval (`[approval] required = true`): the approver's card, its answers, and what
# the author is told.

approval-card-head-campaign = { $author } asks you to approve the campaign **{ $name }**.
approval-card-head-broadcast = { $author } asks you to approve the broadcast **{ $subject }**.
approval-card-as-seen = As recipients will see it (personalised with your names):
approval-card-choices = Choices: { $choices }
approval-card-ack = Recipients are asked to confirm they have read and understood it.
approval-card-audience = Audience
approval-card-audience-size = { $audience }: { $count ->
    [one] { $count } person
   *[other] { $count } people
} ({ $missing } not installed)
approval-card-timing = When
approval-card-timing-now = As soon as it is approved
approval-card-timing-campaign = From { $start } ({ $zone }) for { $duration }, hours { $hours }
approval-card-reason-label = Reason (needed to reject)
approval-card-reason-placeholder = Why it should not go out
approval-card-approve = Approve
approval-card-reject = Reject
approval-card-summary = Approval requested: { $title }
approval-decided-approved = ✓ **{ $title }** was approved by { $by } on { $at }.
approval-decided-rejected = ✗ **{ $title }** was rejected by { $by } on { $at }: { $reason }
approval-superseded = **{ $title }** was changed or withdrawn since: this request no longer applies.
approval-told-rejected = { $by } rejected **{ $title }**: { $reason }. Nothing was sent.
approval-told-late = { $by } approved **{ $title }**, but its start ({ $start }) had already passed: nothing was sent. Pick a new start with `campaign edit`, which asks for approval again.
approval-told-campaign-approved = { $by } approved **{ $title }**: it starts { $start }.
approval-told-approved = { $by } approved **{ $title }**.
approval-told-broadcast-sent = { $by } approved **{ $title }**: broadcast **#{ $number }** is on its way to { $count ->
    [one] { $count } person
   *[other] { $count } people
}.
approval-told-broadcast-nobody = { $by } approved **{ $title }**, but nobody in its audience has installed herald now: nothing was sent.
approval-told-broadcast-unresolved = { $by } approved **{ $title }**, but groups of its list could not be resolved: nothing was sent. Send it again later.
approval-held-broadcast = Broadcast **{ $subject }** awaits approval: { $count ->
    [one] { $count } approver was asked
   *[other] { $count } approvers were asked
}. Nothing goes out until one approves it; you will be told.
approval-held-campaign = Campaign **{ $name }** saved, awaiting approval: { $count ->
    [one] { $count } approver was asked
   *[other] { $count } approvers were asked
}. It is not planned until one approves it; you will be told.
approval-no-approver-broadcast = Approval is required, but no approver other than you has installed herald: nothing was sent. Ask an approver to install herald, then send it again.
approval-no-approver-campaign = Campaign **{ $name }** saved, awaiting approval, but no approver other than you has installed herald: ask one to install it, then edit the campaign to ask again.
approval-refused-own = You wrote this one: an author cannot approve their own message. Another approver must decide.
approval-refused-not-approver = You are not an approver here: only the configured approvers decide.
approval-refused-needs-reason = Write the reason in the box to reject it: the author is told why.
approval-gone = That request no longer exists (its campaign was deleted).
approval-card-timing-at = At { $at }
approval-told-broadcast-scheduled = { $by } approved **{ $title }**: it is broadcast **#{ $number }**, scheduled for { $at }.
approval-told-broadcast-late = { $by } approved **{ $title }**, but its sending time passed while it waited for approval: nothing was sent. Send it again with a new `send:` time.
approval-card-repeats = Repeats: { $rule }. Approving it approves every run.
