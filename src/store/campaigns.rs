//! Campaigns: their settings, their lifecycle (scheduled → running → completed) and the counts
//! a report shows.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::localtime::started_by;
use super::schema::{campaign_not_installed as ni, campaigns as c, deliveries as d};
use super::{Conn, StoreError};
use crate::domain::campaign::{CampaignStatus, CampaignZone, ForbiddenTransition};
use crate::domain::hours::BusinessHours;
use crate::domain::presence::PresencePolicy;
use crate::run_on;

/// The stored words, for queries that filter on them.
pub mod status {
    use crate::domain::campaign::CampaignStatus;

    pub const SCHEDULED: &str = CampaignStatus::Scheduled.as_str();
    pub const RUNNING: &str = CampaignStatus::Running.as_str();
    pub const COMPLETED: &str = CampaignStatus::Completed.as_str();
}

impl From<ForbiddenTransition> for StoreError {
    fn from(e: ForbiddenTransition) -> StoreError {
        StoreError::ForbiddenTransition {
            from: e.from.to_string(),
            to: e.to.to_string(),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = c)]
pub struct Campaign {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub name_key: String,
    pub list_id: String,
    pub channel: String,
    pub start_at: NaiveDateTime,
    /// Checked when the campaign was saved: read back typed.
    #[diesel(deserialize_as = String)]
    pub time_zone: CampaignZone,
    pub duration_minutes: i64,
    #[diesel(deserialize_as = String)]
    pub hours: BusinessHours,
    #[diesel(deserialize_as = String)]
    pub presence: PresencePolicy,
    pub message: String,
    #[diesel(deserialize_as = String)]
    pub status: CampaignStatus,
    pub seed: i64,
    pub targeted: i32,
    pub not_installed: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    /// Install herald for recipients who lack it (`install: yes`).
    pub install: bool,
    /// Recipients herald installed the app for through Graph when it started.
    pub herald_installed: i32,
    /// `time: local`: start, window and hours in each recipient's own zone.
    pub local_time: bool,
    /// Recipients of a local-time campaign whose zone was not known (the campaign's was used).
    pub zone_fallbacks: i32,
}

/// A campaign's settings, checked by the caller.
#[derive(Debug, Clone)]
pub struct Settings {
    pub list_id: String,
    pub channel: String,
    pub start_at: DateTime<Utc>,
    pub time_zone: String,
    pub duration_minutes: i64,
    pub hours: String,
    pub presence: String,
    pub message: String,
}

pub fn find(conn: &mut Conn<'_>, tenant: &str, name: &str) -> Result<Option<Campaign>, StoreError> {
    let k = super::name_key(name);
    Ok(run_on!(conn, |x| c::table
        .filter(c::tenant_id.eq(tenant))
        .filter(c::name_key.eq(&k))
        .select(Campaign::as_select())
        .first(x)
        .optional())?)
}

pub fn get(conn: &mut Conn<'_>, id: &str) -> Result<Option<Campaign>, StoreError> {
    Ok(run_on!(conn, |x| c::table
        .find(id)
        .select(Campaign::as_select())
        .first(x)
        .optional())?)
}

/// What saving a campaign's settings came to.
#[derive(Debug, Clone)]
pub enum Saved {
    Done(Box<Campaign>),
    /// Another campaign of the tenant has this name.
    NameTaken,
    /// It has started: its settings are final.
    Started,
    /// Its list was deleted meanwhile: nothing saved.
    ListGone,
}

/// Creates a scheduled campaign, under a share lock of its list (see [`lists::delete`]).
///
/// [`lists::delete`]: super::lists::delete
pub fn create(
    conn: &mut Conn<'_>,
    tenant: &str,
    name: &str,
    created_by: &str,
    s: &Settings,
    seed: i64,
    now: DateTime<Utc>,
) -> Result<Saved, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = now.naive_utc();
    conn.write_transaction(|conn| {
        if !super::lists::lock(conn, &s.list_id, super::lists::LockMode::Use)? {
            return Ok(Saved::ListGone);
        }
        let inserted = run_on!(conn, |x| diesel::insert_into(c::table)
            .values((
                c::id.eq(&id),
                c::tenant_id.eq(tenant),
                c::name.eq(name.trim()),
                c::name_key.eq(super::name_key(name)),
                c::list_id.eq(&s.list_id),
                c::channel.eq(&s.channel),
                c::start_at.eq(s.start_at.naive_utc()),
                c::time_zone.eq(&s.time_zone),
                c::duration_minutes.eq(s.duration_minutes),
                c::hours.eq(&s.hours),
                c::presence.eq(&s.presence),
                c::message.eq(&s.message),
                c::status.eq(status::SCHEDULED),
                c::seed.eq(seed),
                c::created_by.eq(created_by),
                c::created_at.eq(now),
                c::updated_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(x))?;
        if inserted == 0 {
            return Ok(Saved::NameTaken);
        }
        saved(conn, &id)
    })
}

/// Replaces the settings of a campaign that has not started, under a share lock of its list.
/// The update waits for a planner starting it, and then finds it started.
pub fn update(
    conn: &mut Conn<'_>,
    id: &str,
    s: &Settings,
    now: DateTime<Utc>,
) -> Result<Saved, StoreError> {
    conn.write_transaction(|conn| {
        if !super::lists::lock(conn, &s.list_id, super::lists::LockMode::Use)? {
            return Ok(Saved::ListGone);
        }
        let n = run_on!(conn, |x| diesel::update(
            c::table
                .filter(c::id.eq(id))
                .filter(c::status.eq_any(CampaignStatus::EDITABLE))
        )
        .set((
            c::list_id.eq(&s.list_id),
            c::channel.eq(&s.channel),
            c::start_at.eq(s.start_at.naive_utc()),
            c::time_zone.eq(&s.time_zone),
            c::duration_minutes.eq(s.duration_minutes),
            c::hours.eq(&s.hours),
            c::presence.eq(&s.presence),
            c::message.eq(&s.message),
            c::updated_at.eq(now.naive_utc()),
        ))
        .execute(x))?;
        if n == 0 {
            return Ok(Saved::Started);
        }
        saved(conn, id)
    })
}

impl Saved {
    /// The saved campaign, if it was saved.
    pub fn campaign(self) -> Option<Campaign> {
        match self {
            Saved::Done(c) => Some(*c),
            _ => None,
        }
    }
}

fn saved(conn: &mut Conn<'_>, id: &str) -> Result<Saved, StoreError> {
    let c = get(conn, id)?.ok_or(StoreError::Query(diesel::result::Error::NotFound))?;
    Ok(Saved::Done(Box::new(c)))
}

/// Deletes a campaign that is not running, with its deliveries; false when it is running.
pub fn delete(conn: &mut Conn<'_>, id: &str) -> Result<bool, StoreError> {
    conn.write_transaction(|conn| {
        let n = run_on!(conn, |x| diesel::delete(
            c::table
                .filter(c::id.eq(id))
                .filter(c::status.ne(status::RUNNING))
        )
        .execute(x))?;
        if n == 0 {
            return Ok(false);
        }
        run_on!(conn, |x| diesel::delete(
            ni::table.filter(ni::campaign_id.eq(id))
        )
        .execute(x))?;
        run_on!(conn, |x| diesel::delete(
            super::schema::report_totals::table
                .filter(super::schema::report_totals::subject_id.eq(id))
        )
        .execute(x))?;
        run_on!(conn, |x| diesel::delete(
            d::table.filter(d::message_id.eq(id))
        )
        .execute(x))?;
        super::reactions::forget(conn, id)?;
        run_on!(conn, |x| diesel::delete(
            super::schema::outbound_messages::table
                .filter(super::schema::outbound_messages::id.eq(id))
        )
        .execute(x))?;
        Ok(true)
    })
}

pub fn all(conn: &mut Conn<'_>, tenant: &str) -> Result<Vec<Campaign>, StoreError> {
    Ok(run_on!(conn, |x| c::table
        .filter(c::tenant_id.eq(tenant))
        .order((c::start_at, c::name_key))
        .select(Campaign::as_select())
        .load(x))?)
}

/// Scheduled campaigns whose start has come (for local-time ones, see [`started_by`]).
pub fn due_to_start(conn: &mut Conn<'_>, now: DateTime<Utc>) -> Result<Vec<Campaign>, StoreError> {
    Ok(run_on!(conn, |x| c::table
        .filter(c::status.eq(status::SCHEDULED))
        .filter(started_by(now))
        .order(c::start_at)
        .select(Campaign::as_select())
        .load(x))?)
}

/// The next start of a scheduled campaign.
pub fn next_start(conn: &mut Conn<'_>) -> Result<Option<DateTime<Utc>>, StoreError> {
    next_start_after(conn, None)
}

/// The earliest start of a scheduled campaign after `after` (all of them for `None`): the
/// planner skips those it already looked at and held back.
pub fn next_start_after(
    conn: &mut Conn<'_>,
    after: Option<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let after = after.map(|a| a.naive_utc()).unwrap_or(NaiveDateTime::MIN);
    let t: Option<NaiveDateTime> = run_on!(conn, |x| c::table
        .filter(c::status.eq(status::SCHEDULED))
        .filter(c::start_at.gt(after))
        .select(diesel::dsl::min(c::start_at))
        .first(x))?;
    Ok(t.map(|t| t.and_utc()))
}

/// Takes a scheduled campaign whose start has come to running, and returns the row as it
/// became running: what the planner must plan from. `None` when it is not due (an edit moved
/// its start) or another instance already started it. On PostgreSQL the update waits for an
/// edit in flight and is then judged on the edited row; an edit arriving later finds it started.
pub fn begin(
    conn: &mut Conn<'_>,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Campaign>, StoreError> {
    write_status(
        conn,
        id,
        CampaignStatus::Scheduled,
        CampaignStatus::Running,
        now,
    )
}

/// Moves a campaign to `to` from where it stands, when the lifecycle allows it: a forbidden
/// move (completed → running, running → scheduled…) is refused with
/// [`StoreError::ForbiddenTransition`] and changes nothing. `None` when there is no such
/// campaign, or another writer moved it first.
pub fn set_status(
    conn: &mut Conn<'_>,
    id: &str,
    to: CampaignStatus,
    now: DateTime<Utc>,
) -> Result<Option<Campaign>, StoreError> {
    conn.write_transaction(|conn| {
        let Some(current) = get(conn, id)? else {
            return Ok(None);
        };
        write_status(conn, id, current.status, to, now)
    })
}

/// Every status write: the move is judged by [`CampaignStatus::transition`], then made only if
/// the row still stands at `from` (and, for a start, its start has come). Returns the row as it
/// became.
fn write_status(
    conn: &mut Conn<'_>,
    id: &str,
    from: CampaignStatus,
    to: CampaignStatus,
    now: DateTime<Utc>,
) -> Result<Option<Campaign>, StoreError> {
    CampaignStatus::transition(from, to)?;
    let now = now.naive_utc();
    let row = || {
        c::table
            .filter(c::id.eq(id))
            .filter(c::status.eq(from.as_str()))
    };
    Ok(match to {
        CampaignStatus::Running => run_on!(conn, |x| diesel::update(
            row().filter(started_by(now.and_utc()))
        )
        .set((
            c::status.eq(to.as_str()),
            c::started_at.eq(now),
            c::updated_at.eq(now)
        ))
        .returning(Campaign::as_returning())
        .get_result(x)
        .optional())?,
        _ => run_on!(conn, |x| diesel::update(row())
            .set((
                c::status.eq(to.as_str()),
                c::completed_at.eq(now),
                c::updated_at.eq(now)
            ))
            .returning(Campaign::as_returning())
            .get_result(x)
            .optional())?,
    })
}

/// Records who was targeted and who could not be (not installed).
pub fn record_audience(
    conn: &mut Conn<'_>,
    id: &str,
    targeted: usize,
    not_installed: &[String],
) -> Result<(), StoreError> {
    for chunk in not_installed.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|e| (ni::campaign_id.eq(id), ni::email.eq(e.as_str())))
            .collect();
        run_on!(conn, |x| diesel::insert_into(ni::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(x))?;
    }
    run_on!(conn, |x| diesel::update(c::table.find(id))
        .set((
            c::targeted.eq(targeted as i32),
            c::not_installed.eq(not_installed.len() as i32),
        ))
        .execute(x))?;
    Ok(())
}

/// Sets whether the campaign installs herald for recipients who lack it (`install: yes`).
pub fn set_install(conn: &mut Conn<'_>, id: &str, install: bool) -> Result<(), StoreError> {
    run_on!(conn, |x| diesel::update(c::table.find(id))
        .set(c::install.eq(install))
        .execute(x))?;
    Ok(())
}

/// Records the proactive installs of the campaign's start: how many herald installed, and why
/// Graph refused the others (`(identity, reason)`, on the members not installed).
pub fn record_installs(
    conn: &mut Conn<'_>,
    id: &str,
    installed: usize,
    refused: &[(String, String)],
) -> Result<(), StoreError> {
    for (email, reason) in refused {
        run_on!(conn, |x| diesel::update(
            ni::table
                .filter(ni::campaign_id.eq(id))
                .filter(ni::email.eq(email))
        )
        .set(ni::reason.eq(reason))
        .execute(x))?;
    }
    run_on!(conn, |x| diesel::update(c::table.find(id))
        .set(c::herald_installed.eq(installed as i32))
        .execute(x))?;
    Ok(())
}

/// Members not installed, by reason (`None`: herald was not asked to install, or not yet).
pub fn not_installed_reasons(
    conn: &mut Conn<'_>,
    id: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let reasons: Vec<Option<String>> = run_on!(conn, |x| ni::table
        .filter(ni::campaign_id.eq(id))
        .filter(ni::reason.is_not_null())
        .select(ni::reason)
        .load(x))?;
    Ok(super::figures::by_reason(reasons.into_iter().flatten()))
}

/// Running campaigns with nothing left pending become completed. Returns how many.
pub fn complete_finished(conn: &mut Conn<'_>, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let running: Vec<String> = run_on!(conn, |x| c::table
        .filter(c::status.eq(status::RUNNING))
        .select(c::id)
        .load(x))?;
    let mut done = 0;
    for id in running {
        let pending: i64 = run_on!(conn, |x| d::table
            .filter(d::message_id.eq(&id))
            .filter(d::status.eq("pending"))
            .count()
            .get_result(x))?;
        if pending == 0
            && write_status(
                conn,
                &id,
                CampaignStatus::Running,
                CampaignStatus::Completed,
                now,
            )?
            .is_some()
        {
            done += 1;
        }
    }
    Ok(done)
}

pub use super::figures::CampaignCounts as Counts;

/// A report's counts: from the deliveries, or as folded before retention purged them.
pub fn counts(conn: &mut Conn<'_>, campaign: &Campaign) -> Result<Counts, StoreError> {
    if let Some(folded) = super::folded::folded_campaign(conn, &campaign.id)? {
        return Ok(folded.counts);
    }
    let rows: Vec<(String, i32, Option<String>, NaiveDateTime)> = run_on!(conn, |x| d::table
        .filter(d::message_id.eq(&campaign.id))
        .select((d::status, d::ladder_step, d::failure, d::next_attempt_at))
        .load(x))?;
    let mut out = Counts {
        targeted: campaign.targeted as i64 + campaign.not_installed as i64,
        not_installed: campaign.not_installed as i64,
        ..Counts::default()
    };
    let mut failed: std::collections::BTreeMap<String, i64> = Default::default();
    for (status, step, failure, next) in rows {
        match status.as_str() {
            "delivered" => out.delivered += 1,
            "expired" => out.expired += 1,
            "failed" => {
                *failed
                    .entry(failure.unwrap_or_else(|| "unknown".into()))
                    .or_default() += 1
            }
            _ if step > 0 => {
                out.waiting_for_presence += 1;
                out.next_attempt = Some(out.next_attempt.map_or(next, |n| n.min(next)));
            }
            _ => out.planned += 1,
        }
    }
    out.failed = failed.into_iter().collect();
    let t = super::deliveries::resend::tallies(conn, std::slice::from_ref(&campaign.id))?;
    (out.repairs, out.resent, out.resent_delivered) = (t.repairs, t.resent, t.resent_delivered);
    out.not_installed_reasons = not_installed_reasons(conn, &campaign.id)?;
    Ok(out)
}
