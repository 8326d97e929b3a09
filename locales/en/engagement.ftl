# Engagement on broadcast cards: acknowledgements, polls, reminders; and the option lines.

broadcast-card-ack = I have read and understood
broadcast-card-acked = ✓ Read and understood on { $at }
broadcast-card-reminder = 🔔 Reminder: { $subject }
broadcast-card-chosen = Your answer: { $choice }

field-choices-count = { $count ->
    [one] 1 choice is given
   *[other] { $count } choices are given
  }; a poll has { $min } to { $max }
field-choice-empty = choice { $position } is empty
field-choice-too-long = the choice `{ $choice }` is { $length } characters long, at most { $max }
field-choice-twice = the choice `{ $choice }` is given twice
