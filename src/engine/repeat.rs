//! Recurring campaigns in the planner: when a run starts, the series' next run is scheduled in
//! the same transaction (a campaign row of its own, at the recurrence's next occurrence), unless
//! `campaign stop` came first. Its audience is resolved when it starts, like any campaign's.

use chrono::{DateTime, Utc};

use crate::domain::repeat::Recurrence;
use crate::store::campaigns::{self, Campaign};
use crate::store::repeats::{self, Series};
use crate::store::{Conn, StoreError};

/// The run a campaign is, with its series locked (see [`repeats::lock`]).
pub(super) struct Run {
    series: Series,
    number: i32,
}

/// Locks the series of campaign `id`, before the run is started; `None` for a campaign that
/// does not repeat.
pub(super) fn lock(conn: &mut Conn<'_>, id: &str) -> Result<Option<Run>, StoreError> {
    let Some((series_id, number)) = repeats::run_of(conn, id)? else {
        return Ok(None);
    };
    Ok(repeats::lock(conn, &series_id)?.map(|series| Run { series, number }))
}

/// Schedules the run after `started` (which just became running), if the series goes on.
pub(super) fn schedule_next(
    conn: &mut Conn<'_>,
    run: &Run,
    started: &Campaign,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let series_id = &run.series.campaign_id;
    if run.series.stopped_at.is_some() {
        return Ok(());
    }
    let Ok(rule) = run.series.rule.parse::<Recurrence>() else {
        tracing::error!(campaign_id = %series_id, "stored recurrence unreadable: no next run");
        return Ok(());
    };
    // The words count from the first run's start (the 31st stays the 31st after February).
    let anchor = match run.number {
        1 => started.start_at,
        _ => match campaigns::get(conn, series_id)? {
            Some(first) => first.start_at,
            None => started.start_at,
        },
    };
    // A run started late (herald was down) does not make the next ones late: the next run is
    // the first occurrence after now, an occurrence already past is skipped.
    let after = started.start_at.and_utc().max(now);
    let tz = started.time_zone.tz();
    let Some(next) = rule.next_after(tz, anchor.and_utc(), after) else {
        tracing::info!(campaign_id = %series_id, "the recurrence has no further occurrence");
        return Ok(());
    };
    let id = repeats::add_run(
        conn,
        series_id,
        run.number + 1,
        started,
        next,
        rand::random(),
        now,
    )?;
    tracing::info!(campaign_id = %series_id, run = run.number + 1, run_id = %id, start = %next,
        "next run of a recurring campaign scheduled");
    Ok(())
}
