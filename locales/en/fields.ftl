# What was wrong with a field of a campaign or a broadcast.

field-error-line = { $field }: { $problem } (for example `{ $example }`)
field-missing = missing
field-empty = it is empty
field-invalid = { $reason }
field-not-a-line = `{ $line }` is not a `field: value` line
field-no-list-named = no list named
field-not-a-channel = `{ $value }` is neither teams nor skype
field-not-a-date-time = `{ $value }` is not a date and time as YYYY-MM-DD HH:MM
field-not-a-time-zone = `{ $value }` is not an IANA time zone
field-unknown = `{ $name }` is not a campaign field (list, channel, start, duration, hours, timezone, presence, install, time, repeat, message)
field-unknown-list = there is no list named `{ $name }` (type lists to see them)
field-start-in-past = { $start } is in the past
field-window-outside-hours = the window from the start for { $duration } has no business time in it ({ $hours })
field-list-gone = the list was deleted while the campaign was being saved
field-choose-audience = choose a list or everyone
field-subject-first = the first line must be the subject
field-one-line = it must fit on one line
field-too-long = it is { $length } characters long, at most { $max }
field-too-heavy = too long for Teams: once personalised and sent it would weigh { $weight } bytes, over the limit of { $kb } KB ({ $limit } bytes per message, counted as Teams does: 2 per character, with room kept for names, tracked links and the envelope); shorten it by at least { $cut } characters
