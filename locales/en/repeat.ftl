# Recurring campaigns (`repeat:`): each occurrence of the recurrence is a run of its own.

repeat-empty = needs a cron expression such as `0 9 * * MON`, or daily, weekly or monthly
repeat-not-five-fields = `{ $value }` is not a recurrence: write daily, weekly or monthly, or a cron expression of 5 fields (minute hour day-of-month month day-of-week), where this has { $count }
repeat-not-a-cron = `{ $value }` is not a valid cron expression: minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-7 or MON-SUN, each a value, a range (1-5), a list (1,15) or a step (*/2)
repeat-never = `{ $value }` has no occurrence after the campaign's start
repeat-shorter-than-window = runs of `{ $value }` can be as little as { $step } apart, shorter than the campaign's window ({ $duration }): each run must end before the next one starts. Repeat less often or shorten the duration
repeat-not-with-local-time = a repeating campaign follows the campaign's time zone: `time: local` cannot be combined with `repeat`
repeat-word = { $word ->
    [daily] daily (every day at the start's time)
    [weekly] weekly (every week on the start's weekday and time)
   *[monthly] monthly (every month on the start's day and time; on the last day of a month without that day)
}
repeat-label = Repeats:
repeat-label-next = Next runs:
repeat-runs-so-far = { $count ->
    [0] No run has started yet.
    [one] { $count } run has started.
   *[other] { $count } runs have started.
}
repeat-next-none = none (the recurrence has no further occurrence)
repeat-stopped-on = none: stopped on { $at }
repeat-stop-done = Campaign { $name } stopped: it will make no further run.
repeat-stop-running = Run { $run } has already started and goes on to its end.
repeat-stop-removed = { $count ->
    [one] Run { $runs }, which was scheduled, will not take place.
   *[other] Runs { $runs }, which were scheduled, will not take place.
}
repeat-stop-already = Campaign { $name } was already stopped on { $at }.
repeat-stop-not-repeating = Campaign { $name } does not repeat, so there is nothing to stop (a started campaign is never cancelled).
repeat-stop-not-started = Campaign { $name } has not started yet: change its **repeat:** (or write **repeat: no**) with **campaign edit**, or delete it.
repeat-report-run = Run { $run } of { $runs }, starting { $start }
repeat-report-earlier = Earlier runs:
repeat-report-line = - Run { $run }: { $start }, { $status }, { $delivered }/{ $installed } delivered
repeat-report-more = Type **campaign report { $name } { $run }** for one run's report.
repeat-report-not-repeating = Campaign { $name } does not repeat: type **campaign report** followed by its name alone.
repeat-run-not-a-number = `{ $run }` is not a run number: type for example **campaign report { $name } 2**.
repeat-no-such-run = Campaign { $name } has no run { $run }: { $runs ->
    [one] it has had { $runs } run so far.
   *[other] it has had { $runs } runs so far (1 to { $runs }).
}
form-label-repeat = Repeat (a cron expression such as 0 9 * * MON, or daily, weekly, monthly; empty: once)
admin-help-repeat = **repeat:** in a campaign makes it recur: a cron expression in the campaign's time zone (**repeat: 0 9 * * MON**, every Monday at 09:00), or **daily**, **weekly** or **monthly** counted from its start (same time; same weekday; same day of the month, or the month's last day). Each occurrence is a run with the campaign's window and hours, sent to the list as it is when the run starts; the window must be shorter than the time between runs.

    - **campaign info** *name*: the next runs
    - **campaign report** *name* [*run*]: the latest run and a line per earlier run, or one run
    - **campaign stop** *name*: no further run (a run already started completes)
