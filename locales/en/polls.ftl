# Polls (`choices: A | B | C`): refusals shown on the card, and the tally of `broadcast info`.

poll-not-a-poll = That broadcast has no poll.
poll-no-choice = No choice was given.
poll-choice-not-a-number = `{ $value }` is not a choice of this poll.
poll-no-such-choice = There is no such choice: this poll has { $count } choices.
broadcast-info-poll = Poll: { $answered } answered of { $reached } reached
broadcast-info-poll-choice = • { $choice }: { $count } ({ $percent }%)
