//! Recurring campaigns: a series (the campaign the admin named, with its `repeat:` rule) and
//! its runs. Each run is a campaign row of its own, so the planner, the dispatcher, the report,
//! the chart and the CSV work on it unchanged; runs after the first carry a name key no typed
//! name can match, and are left out of `campaigns`.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::campaigns::{self, Campaign, status};
use super::schema::{campaign_repeats as r, campaign_runs as run, campaigns as c};
use super::{Conn, StoreError};
use crate::run_on;

/// A repeating campaign's rule and whether it was stopped.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = r)]
pub struct Series {
    /// The series' own campaign (its first run).
    pub campaign_id: String,
    /// As [`crate::domain::repeat::Recurrence::as_text`] wrote it.
    pub rule: String,
    pub stopped_at: Option<NaiveDateTime>,
    pub stopped_by: Option<String>,
}

/// The name key of a later run: a new line, which no name typed in a command holds, and the
/// series' id.
fn run_key(series_id: &str, n: i32) -> String {
    format!("\n{series_id}#{n}")
}

/// Sets (or, with `None`, removes) the rule of a campaign that has not started; it is its
/// series' first run.
pub fn set_rule(conn: &mut Conn<'_>, id: &str, rule: Option<&str>) -> Result<(), StoreError> {
    let Some(rule) = rule else {
        run_on!(conn, |x| diesel::delete(r::table.find(id)).execute(x))?;
        return Ok(());
    };
    let n = run_on!(conn, |x| diesel::update(r::table.find(id))
        .set(r::rule.eq(rule))
        .execute(x))?;
    if n == 0 {
        run_on!(conn, |x| diesel::insert_into(r::table)
            .values((r::campaign_id.eq(id), r::rule.eq(rule)))
            .execute(x))?;
        run_on!(conn, |x| diesel::insert_into(run::table)
            .values((
                run::campaign_id.eq(id),
                run::series_id.eq(id),
                run::run.eq(1)
            ))
            .execute(x))?;
    }
    Ok(())
}

/// The series whose own campaign is `id`.
pub fn series(conn: &mut Conn<'_>, id: &str) -> Result<Option<Series>, StoreError> {
    Ok(run_on!(conn, |x| r::table
        .find(id)
        .select(Series::as_select())
        .first(x)
        .optional())?)
}

/// The series a campaign is a run of, and its number.
pub fn run_of(conn: &mut Conn<'_>, id: &str) -> Result<Option<(String, i32)>, StoreError> {
    Ok(run_on!(conn, |x| run::table
        .find(id)
        .select((run::series_id, run::run))
        .first(x)
        .optional())?)
}

/// The runs of a series, first first.
pub fn runs(conn: &mut Conn<'_>, series_id: &str) -> Result<Vec<(i32, Campaign)>, StoreError> {
    Ok(run_on!(conn, |x| run::table
        .inner_join(c::table)
        .filter(run::series_id.eq(series_id))
        .order(run::run)
        .select((run::run, Campaign::as_select()))
        .load(x))?)
}

/// The tenant's runs after the first: not listed among its campaigns.
pub fn later_runs(conn: &mut Conn<'_>, tenant: &str) -> Result<HashSet<String>, StoreError> {
    let ids: Vec<String> = run_on!(conn, |x| run::table
        .inner_join(c::table)
        .filter(c::tenant_id.eq(tenant))
        .filter(run::run.gt(1))
        .select(run::campaign_id)
        .load(x))?;
    Ok(ids.into_iter().collect())
}

/// Takes the series' row lock and reads it. Everyone who changes a series or its runs (the
/// planner starting a run, `campaign stop`, `campaign delete`) takes this lock first, then the
/// runs' rows: one order, so PostgreSQL never finds two of them waiting on each other.
pub fn lock(conn: &mut Conn<'_>, series_id: &str) -> Result<Option<Series>, StoreError> {
    run_on!(conn, |x| diesel::update(r::table.find(series_id))
        .set(r::rule.eq(r::rule))
        .execute(x))?;
    series(conn, series_id)
}

/// Schedules run `n` of a series at `start_at`: a campaign row with the settings of `from` (the
/// run that just started), its own seed, and the series' name. Returns its id. Inside the
/// transaction that started `from`, under [`lock`].
pub fn add_run(
    conn: &mut Conn<'_>,
    series_id: &str,
    n: i32,
    from: &Campaign,
    start_at: DateTime<Utc>,
    seed: i64,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = now.naive_utc();
    run_on!(conn, |x| diesel::insert_into(c::table)
        .values((
            c::id.eq(&id),
            c::tenant_id.eq(&from.tenant_id),
            c::name.eq(&from.name),
            c::name_key.eq(run_key(series_id, n)),
            c::list_id.eq(&from.list_id),
            c::channel.eq(&from.channel),
            c::start_at.eq(start_at.naive_utc()),
            c::time_zone.eq(from.time_zone.to_string()),
            c::duration_minutes.eq(from.duration_minutes),
            c::hours.eq(from.hours.to_string()),
            c::presence.eq(from.presence.to_string()),
            c::message.eq(&from.message),
            c::status.eq(status::SCHEDULED),
            c::seed.eq(seed),
            c::created_by.eq(&from.created_by),
            c::created_at.eq(now),
            c::updated_at.eq(now),
            c::install.eq(from.install),
            c::local_time.eq(from.local_time),
        ))
        .execute(x))?;
    run_on!(conn, |x| diesel::insert_into(run::table)
        .values((
            run::campaign_id.eq(&id),
            run::series_id.eq(series_id),
            run::run.eq(n)
        ))
        .execute(x))?;
    Ok(id)
}

/// What `campaign stop` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// Stopped now; the runs not started that were removed (their numbers).
    Done { removed: Vec<i32> },
    /// It had been stopped before.
    Already { at: NaiveDateTime },
}

/// Stops a series: no further run. Runs already started go on; those scheduled are removed.
/// The series' row is written first, so a planner starting a run either finished (its next run
/// is then removed here) or finds the series stopped.
pub fn stop(
    conn: &mut Conn<'_>,
    series_id: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<Stopped>, StoreError> {
    conn.write_transaction(|conn| {
        let n = run_on!(conn, |x| diesel::update(
            r::table.find(series_id).filter(r::stopped_at.is_null())
        )
        .set((r::stopped_at.eq(now.naive_utc()), r::stopped_by.eq(by)))
        .execute(x))?;
        let Some(s) = series(conn, series_id)? else {
            return Ok(None);
        };
        if n == 0 {
            let at = s.stopped_at.unwrap_or(now.naive_utc());
            return Ok(Some(Stopped::Already { at }));
        }
        let mut removed = Vec::new();
        for (number, campaign) in runs(conn, series_id)? {
            if number > 1
                && campaign.status == crate::domain::campaign::CampaignStatus::Scheduled
                && campaigns::delete(conn, &campaign.id)?
            {
                removed.push(number);
            }
        }
        Ok(Some(Stopped::Done { removed }))
    })
}

/// Deletes a series with every run, unless one is running (false, nothing deleted).
pub fn delete_series(conn: &mut Conn<'_>, series_id: &str) -> Result<bool, StoreError> {
    conn.write_transaction(|conn| {
        lock(conn, series_id)?;
        let all = runs(conn, series_id)?;
        // Under the series' lock no run starts: the check holds until the deletes are done.
        if all
            .iter()
            .any(|(_, c)| c.status == crate::domain::campaign::CampaignStatus::Running)
        {
            return Ok(false);
        }
        // The later runs first: the series' own row carries the rule they hang from.
        for (_, campaign) in all.iter().rev() {
            campaigns::delete(conn, &campaign.id)?;
        }
        Ok(true)
    })
}
