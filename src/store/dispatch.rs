//! Which instance dispatches each tenant. One lease row per tenant (owner, expiry), renewed by
//! its owner while it lives: only the owner leases that tenant's deliveries, so the tenant's
//! pace is kept by one rate limiter however many instances share the database. When the owner
//! stops renewing (it died, or lost the database), another instance takes the tenant over once
//! the row has expired, and with it the deliveries the old owner had leased but not finished.
//!
//! Tenants with work are shared out among the live instances (each claims up to its fair
//! share); a tenant with nothing due soon is let go. When an instance joins, those holding more
//! than their share hand the surplus over (as many as the others lack): each such tenant is let
//! go with the same grace as an idle one, so its next owner starts on a fresh second and never
//! sends in the same second as the last.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeDelta, Utc};
use diesel::prelude::*;

use super::deliveries;
use super::schema::{deliveries as d, engine_instances as e, tenant_dispatch as t};
use super::{Conn, StoreError};
use crate::run_on;
use crate::store::sql::PendingStatus;

/// How one instance claims and keeps its tenants.
#[derive(Debug, Clone)]
pub struct Terms {
    /// How long a claim or renewal holds.
    pub ttl: TimeDelta,
    /// Work due within this much counts: the tenant is claimed before its first send is due.
    pub horizon: TimeDelta,
    /// A tenant let go stays with its owner this much longer, so the next owner's first second
    /// never overlaps the last one's.
    pub release_grace: TimeDelta,
    /// Whether expired rows of other instances may be taken over. An instance that was itself
    /// cut off from the database waits one lease period first: its peers were probably cut off
    /// too and will renew.
    pub take_over: bool,
}

/// A tenant this instance took from another (whose lease had expired).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenOver {
    pub tenant_id: String,
    pub from: String,
    /// The old owner's leased deliveries, given back to be sent again.
    pub released: usize,
}

/// The outcome of one round: the tenants `owner` now dispatches, each with the moment its
/// claim was acquired. A claim lost and won back has a new moment: deliveries leased under the
/// old one may have been sent meanwhile by another instance, and must not be sent again.
#[derive(Debug, Clone, Default)]
pub struct Round {
    pub owned: BTreeMap<String, NaiveDateTime>,
    pub taken_over: Vec<TakenOver>,
    /// Let go with nothing due.
    pub let_go: Vec<String>,
    /// Let go with work, for an instance holding fewer than its share.
    pub handed_over: Vec<String>,
    /// When the earliest tenant let go by another instance, that this one would take, is free:
    /// the next round is worth running then.
    pub next_free: Option<DateTime<Utc>>,
}

/// One round for `owner`: says it is alive, renews what it owns, lets go of tenants with
/// nothing due within the horizon, and claims tenants with work that nobody (alive) owns, up
/// to its fair share.
pub fn claim(
    conn: &mut Conn<'_>,
    owner: &str,
    now: DateTime<Utc>,
    terms: &Terms,
) -> Result<Round, StoreError> {
    // Microseconds, as PostgreSQL keeps them: a claim's acquired_at read back later must equal
    // the one handed out now.
    let now = now.trunc_subsecs(6);
    let now_n = now.naive_utc();
    let until = (now + terms.ttl).naive_utc();
    // Read before the transaction (on SQLite, the writer lock is held for the transaction).
    let with_work = tenants_with_work(conn, now + terms.horizon)?;
    conn.write_transaction(|conn| {
        heartbeat(conn, owner, now)?;
        let live = live_instances(conn, now - terms.ttl)?;

        let mine: Vec<String> = run_on!(conn, |c| t::table
            .filter(t::owner.eq(owner))
            .select(t::tenant_id)
            .load(c))?;
        let (kept, idle): (Vec<String>, Vec<String>) =
            mine.into_iter().partition(|t| with_work.contains(t));
        // Renewed even if it lapsed meanwhile: nobody else took it, and only we sent for it.
        // Not once let go: it is claimed again below, like any candidate, only while this
        // instance is under its share (one handed over stays reserved for its next owner).
        run_on!(conn, |c| diesel::update(
            t::table
                .filter(t::owner.eq(owner))
                .filter(t::tenant_id.eq_any(&kept))
                .filter(t::renewed_at.lt(t::expires_at))
        )
        .set((t::expires_at.eq(until), t::renewed_at.eq(now_n)))
        .execute(c))?;
        let keep_until = (now + terms.release_grace).naive_utc();
        run_on!(conn, |c| diesel::update(
            t::table
                .filter(t::owner.eq(owner))
                .filter(t::tenant_id.eq_any(&idle))
                .filter(t::expires_at.gt(keep_until))
        )
        .set((t::expires_at.eq(keep_until), t::renewed_at.eq(keep_until)))
        .execute(c))?;
        // What was really renewed: a lapsed claim may have been taken over meanwhile.
        let renewed: Vec<(String, NaiveDateTime)> = run_on!(conn, |c| t::table
            .filter(t::owner.eq(owner))
            .filter(t::tenant_id.eq_any(&kept))
            .filter(t::expires_at.eq(until))
            .select((t::tenant_id, t::acquired_at))
            .load(c))?;
        let share = with_work.len().div_ceil(live.len()).max(1);
        let handed_over = hand_over(conn, owner, &renewed, share, &live, now)?;
        let mut round = Round {
            owned: renewed
                .into_iter()
                .filter(|(t, _)| !handed_over.contains(t))
                .collect(),
            taken_over: Vec::new(),
            let_go: idle,
            handed_over,
            next_free: None,
        };
        if !round.handed_over.is_empty() {
            let keep_until = (now + terms.release_grace).naive_utc();
            run_on!(conn, |c| diesel::update(
                t::table
                    .filter(t::owner.eq(owner))
                    .filter(t::tenant_id.eq_any(&round.handed_over))
            )
            .set((t::expires_at.eq(keep_until), t::renewed_at.eq(keep_until)))
            .execute(c))?;
            return Ok(round);
        }

        let mut candidates: Vec<&String> = with_work
            .iter()
            .filter(|t| !round.owned.contains_key(*t))
            .collect();
        // Instances starting together should not all race for the same tenant first.
        use rand::seq::SliceRandom;
        candidates.shuffle(&mut rand::rng());
        for tenant in candidates {
            if round.owned.len() >= share {
                break;
            }
            match take(conn, owner, tenant, now, until, terms.take_over)? {
                Taken::No => {}
                Taken::Reserved(free_at) => {
                    let free_at = free_at.and_utc();
                    round.next_free = Some(round.next_free.map_or(free_at, |t| t.min(free_at)));
                }
                Taken::Free => {
                    round.owned.insert(tenant.clone(), now_n);
                }
                Taken::From(from) => {
                    // It stopped sending when its claim lapsed: what it had leased can go now
                    // rather than when those leases run out.
                    let released = deliveries::release(conn, &from, Some(tenant))?;
                    round.owned.insert(tenant.clone(), now_n);
                    round.taken_over.push(TakenOver {
                        tenant_id: tenant.clone(),
                        from,
                        released,
                    });
                }
            }
        }
        Ok(round)
    })
}

enum Taken {
    No,
    /// Let go by its owner, free at this moment (its grace).
    Reserved(NaiveDateTime),
    /// Nobody held it, this instance itself did, or its owner let it go.
    Free,
    /// Taken over from another instance whose lease had expired.
    From(String),
}

fn take(
    conn: &mut Conn<'_>,
    owner: &str,
    tenant: &str,
    now: DateTime<Utc>,
    until: NaiveDateTime,
    take_over: bool,
) -> Result<Taken, StoreError> {
    let now_n = now.naive_utc();
    let current = t::table
        .find(tenant)
        .select((t::owner, t::expires_at, t::renewed_at));
    // Locked until the end of the round: the owner read here is the one replaced below.
    let current: Option<(String, NaiveDateTime, NaiveDateTime)> = match conn {
        Conn::Postgres(c) => current.for_update().first(*c).optional()?,
        Conn::Sqlite(c) => current.first(*c).optional()?,
    };
    let Some((holder, expires, renewed)) = current else {
        let inserted = run_on!(conn, |c| diesel::insert_into(t::table)
            .values((
                t::tenant_id.eq(tenant),
                t::owner.eq(owner),
                t::expires_at.eq(until),
                t::acquired_at.eq(now_n),
                t::renewed_at.eq(now_n),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        return Ok(if inserted == 1 {
            Taken::Free
        } else {
            Taken::No
        });
    };
    let ours = holder == owner;
    // A claim let go (or given up at shutdown) is marked renewed until its expiry: a hand-over,
    // with no leased deliveries to take back, which even an instance just back may accept. Its
    // last owner may take it back at once (work came again); anyone else after its grace.
    let let_go = renewed >= expires;
    if !ours && expires >= now_n {
        return Ok(if let_go {
            Taken::Reserved(expires)
        } else {
            Taken::No
        });
    }
    if !ours && !let_go && !take_over {
        return Ok(Taken::No);
    }
    // The condition is checked again by the update: another instance may have just taken it.
    let updated = run_on!(conn, |c| diesel::update(t::table.find(tenant))
        .filter(t::owner.eq(owner).or(t::expires_at.lt(now_n)))
        .set((
            t::owner.eq(owner),
            t::expires_at.eq(until),
            t::acquired_at.eq(now_n),
            t::renewed_at.eq(now_n),
        ))
        .execute(c))?;
    Ok(match updated {
        0 => Taken::No,
        _ if ours || let_go => Taken::Free,
        _ => Taken::From(holder),
    })
}

/// Tenants with a pending delivery due by `by`.
fn tenants_with_work(
    conn: &mut Conn<'_>,
    by: DateTime<Utc>,
) -> Result<BTreeSet<String>, StoreError> {
    let by = by.naive_utc();
    let found: Vec<String> = run_on!(conn, |c| d::table
        .filter(d::status.eq(PendingStatus))
        .filter(d::next_attempt_at.le(by))
        .select(d::tenant_id)
        .distinct()
        .load(c))?;
    Ok(found.into_iter().collect())
}

fn heartbeat(conn: &mut Conn<'_>, owner: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    let now = now.naive_utc();
    run_on!(conn, |c| diesel::insert_into(e::table)
        .values((e::name.eq(owner), e::started_at.eq(now), e::seen_at.eq(now)))
        .on_conflict(e::name)
        .do_update()
        .set(e::seen_at.eq(now))
        .execute(c))?;
    Ok(())
}

/// Instances seen since `since` (`owner` among them, as it has just said it is alive); rows of
/// instances gone for a day are removed.
fn live_instances(
    conn: &mut Conn<'_>,
    since: DateTime<Utc>,
) -> Result<BTreeSet<String>, StoreError> {
    let forgotten = (since - TimeDelta::days(1)).naive_utc();
    run_on!(conn, |c| diesel::delete(
        e::table.filter(e::seen_at.lt(forgotten))
    )
    .execute(c))?;
    let since = since.naive_utc();
    let live: Vec<String> = run_on!(conn, |c| e::table
        .filter(e::seen_at.ge(since))
        .select(e::name)
        .load(c))?;
    Ok(live.into_iter().collect())
}

/// The tenants `owner` hands over this round: beyond its `share` of the busy tenants, as many
/// as the other live instances lack of theirs (none when nobody could take them), the ones it
/// acquired last first.
fn hand_over(
    conn: &mut Conn<'_>,
    owner: &str,
    renewed: &[(String, NaiveDateTime)],
    share: usize,
    live: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    if renewed.len() <= share {
        return Ok(Vec::new());
    }
    let now = now.naive_utc();
    let held: Vec<String> = run_on!(conn, |c| t::table
        .filter(t::expires_at.ge(now))
        .filter(t::owner.ne(owner))
        .select(t::owner)
        .load(c))?;
    let mut holds: BTreeMap<&str, usize> = live
        .iter()
        .filter(|i| *i != owner)
        .map(|i| (i.as_str(), 0))
        .collect();
    for holder in &held {
        if let Some(n) = holds.get_mut(holder.as_str()) {
            *n += 1;
        }
    }
    let lacking: usize = holds.values().map(|n| share.saturating_sub(*n)).sum();
    let surplus = (renewed.len() - share).min(lacking);
    let mut newest: Vec<&(String, NaiveDateTime)> = renewed.iter().collect();
    newest.sort_by(|a, b| (b.1, &b.0).cmp(&(a.1, &a.0)));
    Ok(newest
        .into_iter()
        .take(surplus)
        .map(|(tenant, _)| tenant.clone())
        .collect())
}

/// Gives up every tenant `owner` holds (a clean shutdown); each stays reserved for
/// `grace` so its next owner starts on a fresh second.
pub fn release_all(
    conn: &mut Conn<'_>,
    owner: &str,
    now: DateTime<Utc>,
    grace: TimeDelta,
) -> Result<usize, StoreError> {
    let until = (now + grace).naive_utc();
    conn.write_transaction(|conn| {
        run_on!(conn, |c| diesel::delete(e::table.filter(e::name.eq(owner)))
            .execute(c))?;
        Ok(run_on!(conn, |c| diesel::update(
            t::table
                .filter(t::owner.eq(owner))
                .filter(t::expires_at.gt(until))
        )
        .set((t::expires_at.eq(until), t::renewed_at.eq(until)))
        .execute(c))?)
    })
}

/// Every tenant's owner and expiry (for `herald status`-like views and tests).
pub fn owners(conn: &mut Conn<'_>) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
    let rows: Vec<(String, String, NaiveDateTime)> = run_on!(conn, |c| t::table
        .order(t::tenant_id)
        .select((t::tenant_id, t::owner, t::expires_at))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(tenant, owner, expires)| (tenant, owner, expires.and_utc()))
        .collect())
}
