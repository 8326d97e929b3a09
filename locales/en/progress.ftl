# The live progress card (the sender's confirmation of a broadcast, the author's card of a
# campaign that started), updated in place while it goes out.

progress-delivered = Delivered
progress-failed = Failed
progress-waiting = Waiting
progress-percent = Sending: { $percent }% done
progress-finished = Finished: every recipient has an outcome.
progress-expected-end = Expected end: { $at }
progress-finished-at = Finished at { $at }
progress-updated = Updated at { $at }
progress-campaign-started = Campaign { $name } has started: it goes to { $count ->
    [one] 1 person
   *[other] { $count } people
    }.
