//! Held broadcasts, as stored: a broadcast recorded (it has its number) whose cards are not
//! posted until it is released. The engine releases a hold at its `send_at`; a hold may also
//! wait for something else (`awaiting`, e.g. an approval) and then goes only once that is
//! cleared and it is released. Every change here is a conditional update, so a hold is
//! released, edited or cancelled once, whichever instance or admin comes first.
//!
//! The release itself (audience, cards, notice) is `crate::broadcasts::hold`'s business.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::super::schema::{broadcast_holds as h, broadcast_not_installed as ni, broadcasts as b};
use super::super::{Conn, StoreError};
use super::{Audience, Broadcast, BroadcastStatus, NewBroadcast};
use crate::run_on;

/// A held broadcast's row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = h)]
pub struct Hold {
    pub broadcast_id: String,
    /// When it goes by itself (UTC); `None`: only when released explicitly.
    pub send_at: Option<NaiveDateTime>,
    /// The zone the time was given in.
    pub time_zone: String,
    /// What else it waits for (`None`: nothing but its time).
    pub awaiting: Option<String>,
    pub held_at: NaiveDateTime,
    pub held_by: String,
    pub taken_by: Option<String>,
    pub taken_until: Option<NaiveDateTime>,
    pub released_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub cancelled_by: Option<String>,
}

/// What became of a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldState {
    /// Not posted yet.
    Held,
    /// Released: its cards were posted (`Sent`), or there was nobody to post them to.
    Released(Outcome),
    /// Cancelled before it went: nothing was ever sent.
    Cancelled,
}

/// What a release came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its cards were posted.
    Sent,
    /// Nobody of its audience had installed herald.
    Nobody,
    /// Groups of its list could not be resolved: nothing was posted.
    Unresolved,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Nobody => "nobody",
            Outcome::Unresolved => "unresolved",
        }
    }

    fn parse(s: Option<&str>) -> Outcome {
        match s {
            Some("nobody") => Outcome::Nobody,
            Some("unresolved") => Outcome::Unresolved,
            _ => Outcome::Sent,
        }
    }
}

impl Hold {
    pub fn state(&self) -> HoldState {
        if self.cancelled_at.is_some() {
            HoldState::Cancelled
        } else if self.released_at.is_some() {
            HoldState::Released(Outcome::parse(self.outcome.as_deref()))
        } else {
            HoldState::Held
        }
    }

    pub fn is_held(&self) -> bool {
        self.state() == HoldState::Held
    }

    /// The zone its time was given in (UTC if it no longer parses).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC)
    }
}

/// A hold to record with its broadcast.
#[derive(Debug, Clone)]
pub struct NewHold {
    pub send_at: Option<DateTime<Utc>>,
    pub time_zone: chrono_tz::Tz,
    pub awaiting: Option<String>,
    /// Who held it (the actor, as audited).
    pub held_by: String,
}

/// Records `new` held, with the tenant's next number: no audience yet, no reminder due.
/// Returns its id. Like [`super::insert`], the caller retries on a unique violation.
pub fn insert_held(
    conn: &mut Conn<'_>,
    new: &NewBroadcast,
    hold: &NewHold,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let id = super::insert(conn, new, &Audience::default(), now)?;
    // Its reminder is counted from when it goes (see `record_release`).
    run_on!(conn, |c| diesel::update(b::table.find(&id))
        .set(b::remind_at.eq(None::<NaiveDateTime>))
        .execute(c))?;
    run_on!(conn, |c| diesel::insert_into(h::table)
        .values((
            h::broadcast_id.eq(&id),
            h::send_at.eq(hold.send_at.map(|t| t.naive_utc())),
            h::time_zone.eq(hold.time_zone.name()),
            h::awaiting.eq(hold.awaiting.as_deref()),
            h::held_at.eq(now.naive_utc()),
            h::held_by.eq(&hold.held_by),
        ))
        .execute(c))?;
    Ok(id)
}

pub fn get(conn: &mut Conn<'_>, broadcast_id: &str) -> Result<Option<Hold>, StoreError> {
    Ok(run_on!(conn, |c| h::table
        .find(broadcast_id)
        .select(Hold::as_select())
        .first(c)
        .optional())?)
}

/// The holds of `ids` (broadcasts that never were held have none).
pub fn of(conn: &mut Conn<'_>, ids: &[String]) -> Result<HashMap<String, Hold>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Hold> = run_on!(conn, |c| h::table
            .filter(h::broadcast_id.eq_any(chunk))
            .select(Hold::as_select())
            .load(c))?;
        out.extend(rows.into_iter().map(|h| (h.broadcast_id.clone(), h)));
    }
    Ok(out)
}

/// Holds the engine should release at `now`: due, waiting for nothing else, not taken by a
/// live lease. Earliest first.
pub fn due(conn: &mut Conn<'_>, now: DateTime<Utc>, limit: i64) -> Result<Vec<String>, StoreError> {
    let now = now.naive_utc();
    Ok(run_on!(conn, |c| h::table
        .filter(h::released_at.is_null())
        .filter(h::cancelled_at.is_null())
        .filter(h::awaiting.is_null())
        .filter(h::send_at.le(now))
        .filter(h::taken_until.is_null().or(h::taken_until.lt(now)))
        .order(h::send_at)
        .limit(limit)
        .select(h::broadcast_id)
        .load(c))?)
}

/// The earliest time after `now` a hold waiting for nothing else is due.
pub fn next_due(
    conn: &mut Conn<'_>,
    now: DateTime<Utc>,
) -> Result<Option<NaiveDateTime>, StoreError> {
    Ok(run_on!(conn, |c| h::table
        .filter(h::send_at.gt(now.naive_utc()))
        .filter(h::released_at.is_null())
        .filter(h::cancelled_at.is_null())
        .filter(h::awaiting.is_null())
        .select(diesel::dsl::min(h::send_at))
        .first(c))?)
}

/// Takes the hold for `owner` until `until`, if it is releasable at `now` (open, waiting for
/// nothing else, due or without a time) and not taken by a live lease: true for the one
/// caller, of any instance, that takes it.
pub fn take(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now = now.naive_utc();
    let n = run_on!(conn, |c| diesel::update(
        h::table
            .filter(h::broadcast_id.eq(broadcast_id))
            .filter(h::released_at.is_null())
            .filter(h::cancelled_at.is_null())
            .filter(h::awaiting.is_null())
            .filter(h::send_at.is_null().or(h::send_at.le(now)))
            .filter(h::taken_until.is_null().or(h::taken_until.lt(now)))
    )
    .set((h::taken_by.eq(owner), h::taken_until.eq(until.naive_utc()),))
    .execute(c))?;
    Ok(n == 1)
}

/// Gives a taken hold back (its release was abandoned): it may be taken again at once.
pub fn give_back(conn: &mut Conn<'_>, broadcast_id: &str, owner: &str) -> Result<(), StoreError> {
    run_on!(conn, |c| diesel::update(
        h::table
            .filter(h::broadcast_id.eq(broadcast_id))
            .filter(h::taken_by.eq(owner))
            .filter(h::released_at.is_null())
    )
    .set((
        h::taken_by.eq(None::<String>),
        h::taken_until.eq(None::<NaiveDateTime>),
    ))
    .execute(c))?;
    Ok(())
}

/// Marks the hold released (outcome `sent`) inside the releasing transaction, if `owner`
/// still holds it and it is still releasable at `now` (not cancelled, not edited to a later
/// time, waiting for nothing else). Call it before reading the broadcast: it holds the row, so
/// an edit that came first is read, and one that comes later is refused.
pub fn mark_released(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let at = now.naive_utc();
    let n = run_on!(conn, |c| diesel::update(
        h::table
            .filter(h::broadcast_id.eq(broadcast_id))
            .filter(h::taken_by.eq(owner))
            .filter(h::released_at.is_null())
            .filter(h::cancelled_at.is_null())
            .filter(h::awaiting.is_null())
            .filter(h::send_at.is_null().or(h::send_at.le(at)))
    )
    .set((
        h::released_at.eq(at),
        h::outcome.eq(Outcome::Sent.as_str()),
        h::taken_until.eq(None::<NaiveDateTime>),
    ))
    .execute(c))?;
    Ok(n == 1)
}

/// Records a release that posted nothing (`Nobody`, `Unresolved`).
pub fn set_outcome(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    outcome: Outcome,
) -> Result<(), StoreError> {
    run_on!(conn, |c| diesel::update(h::table.find(broadcast_id))
        .set(h::outcome.eq(outcome.as_str()))
        .execute(c))?;
    Ok(())
}

/// The broadcast's audience and timing as it goes at `now`: recipients and members not
/// installed, sent at `now`, its automatic reminder counted from `now`.
pub fn record_release(
    conn: &mut Conn<'_>,
    bc: &Broadcast,
    audience: &Audience,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let remind_at = bc
        .remind_after_minutes
        .map(|m| (now + chrono::TimeDelta::minutes(m as i64)).naive_utc());
    run_on!(conn, |c| diesel::update(b::table.find(&bc.id))
        .set((
            b::targeted.eq(audience.recipients.len() as i32),
            b::not_installed.eq(audience.not_installed.len() as i32),
            b::created_at.eq(now.naive_utc()),
            b::remind_at.eq(remind_at),
        ))
        .execute(c))?;
    for chunk in audience.not_installed.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|e| (ni::broadcast_id.eq(&bc.id), ni::email.eq(e.as_str())))
            .collect();
        run_on!(conn, |c| diesel::insert_into(ni::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// What an edit of a held broadcast replaces: its content, options and time.
#[derive(Debug, Clone)]
pub struct Edit {
    pub subject: String,
    pub body: String,
    pub install: bool,
    pub remind_after: Option<crate::domain::duration::WindowLength>,
    pub ack: bool,
    pub choices: Vec<String>,
    pub send_at: DateTime<Utc>,
    pub time_zone: chrono_tz::Tz,
}

/// Replaces a held broadcast's content, options and time, if it is still held (not released,
/// not cancelled): true when it was. Call it in a write transaction.
pub fn edit(conn: &mut Conn<'_>, broadcast_id: &str, edit: &Edit) -> Result<bool, StoreError> {
    // The hold's row first: a release under way waits for this edit, or this edit for it.
    let n = run_on!(conn, |c| diesel::update(
        h::table
            .filter(h::broadcast_id.eq(broadcast_id))
            .filter(h::released_at.is_null())
            .filter(h::cancelled_at.is_null())
    )
    .set((
        h::send_at.eq(edit.send_at.naive_utc()),
        h::time_zone.eq(edit.time_zone.name()),
    ))
    .execute(c))?;
    if n != 1 {
        return Ok(false);
    }
    run_on!(conn, |c| diesel::update(b::table.find(broadcast_id))
        .set((
            b::subject.eq(&edit.subject),
            b::body.eq(&edit.body),
            b::install.eq(edit.install),
            b::remind_after_minutes.eq(edit.remind_after.map(|d| d.minutes() as i32)),
            b::ack.eq(edit.ack),
            b::choices.eq(crate::domain::engagement::choices_to_stored(&edit.choices)),
        ))
        .execute(c))?;
    Ok(true)
}

/// Cancels a held broadcast, if it is still held: nothing of it will ever be sent. The
/// broadcast is marked recalled (and its recall reported: there is nothing to report), so no
/// other use case acts on it. True when it was cancelled.
pub fn cancel(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    by: &str,
    by_user: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let at = now.naive_utc();
    let n = run_on!(conn, |c| diesel::update(
        h::table
            .filter(h::broadcast_id.eq(broadcast_id))
            .filter(h::released_at.is_null())
            .filter(h::cancelled_at.is_null())
    )
    .set((h::cancelled_at.eq(at), h::cancelled_by.eq(by)))
    .execute(c))?;
    if n != 1 {
        return Ok(false);
    }
    run_on!(conn, |c| diesel::update(b::table.find(broadcast_id))
        .set((
            b::status.eq(BroadcastStatus::Recalled.as_str()),
            b::recalled_at.eq(at),
            b::recalled_by.eq(by),
            b::recalled_by_user.eq(by_user),
            b::recall_reported_at.eq(at),
        ))
        .execute(c))?;
    Ok(true)
}

/// Sets (or clears, with `None`) what else a held broadcast waits for. True when it is still
/// held. A feature that holds broadcasts (approval) clears it, then releases the broadcast.
pub fn set_awaiting(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    awaiting: Option<&str>,
) -> Result<bool, StoreError> {
    let n = run_on!(conn, |c| diesel::update(
        h::table
            .filter(h::broadcast_id.eq(broadcast_id))
            .filter(h::released_at.is_null())
            .filter(h::cancelled_at.is_null())
    )
    .set(h::awaiting.eq(awaiting))
    .execute(c))?;
    Ok(n == 1)
}
