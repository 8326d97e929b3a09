//! Presence subscriptions (Microsoft Graph change notifications, at most 650 users each) as
//! herald keeps them, the installed users they should cover, and duties: work only one instance
//! does at a time, held as a lease (owner, expiry) renewed by its holder while it lives.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeDelta, Utc};
use diesel::prelude::*;

use super::schema::{duties as du, presence_subscriptions as ps, users as u};
use super::{Conn, StoreError};
use crate::run_on;

/// One stored subscription. `id` is Graph's subscription id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub tenant_id: String,
    /// The secret Graph echoes in each notification of this subscription.
    pub client_state: String,
    /// The Entra object ids (lower case) whose presence it covers.
    pub users: Vec<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub renewed_at: DateTime<Utc>,
}

type Row = (
    String,
    String,
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
    NaiveDateTime,
);

fn from_row((id, tenant_id, client_state, users, expires, created, renewed): Row) -> Subscription {
    Subscription {
        id,
        tenant_id,
        client_state,
        // Written by `insert` only: a row that does not read is treated as covering nobody (it
        // is then replaced like any subscription whose users left).
        users: serde_json::from_str(&users).unwrap_or_default(),
        expires_at: expires.and_utc(),
        created_at: created.and_utc(),
        renewed_at: renewed.and_utc(),
    }
}

macro_rules! columns {
    () => {
        (
            ps::id,
            ps::tenant_id,
            ps::client_state,
            ps::users,
            ps::expires_at,
            ps::created_at,
            ps::renewed_at,
        )
    };
}

/// Every stored subscription, oldest first.
pub fn list(conn: &mut Conn<'_>) -> Result<Vec<Subscription>, StoreError> {
    let rows: Vec<Row> = run_on!(conn, |c| ps::table
        .order((ps::created_at, ps::id))
        .select(columns!())
        .load(c))?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// The subscription Graph calls `id`, if herald keeps it.
pub fn find(conn: &mut Conn<'_>, id: &str) -> Result<Option<Subscription>, StoreError> {
    let row: Option<Row> = run_on!(conn, |c| ps::table
        .find(id)
        .select(columns!())
        .first(c)
        .optional())?;
    Ok(row.map(from_row))
}

/// The subscriptions among `ids` that herald keeps, in one query.
pub fn find_many(conn: &mut Conn<'_>, ids: &[String]) -> Result<Vec<Subscription>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = run_on!(conn, |c| ps::table
        .filter(ps::id.eq_any(ids))
        .select(columns!())
        .load(c))?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Stores a subscription Graph has just created.
pub fn insert(conn: &mut Conn<'_>, s: &Subscription) -> Result<(), StoreError> {
    let users = serde_json::to_string(&s.users).unwrap_or_else(|_| "[]".into());
    let count = i32::try_from(s.users.len()).unwrap_or(i32::MAX);
    run_on!(conn, |c| diesel::insert_into(ps::table)
        .values((
            ps::id.eq(&s.id),
            ps::tenant_id.eq(&s.tenant_id),
            ps::client_state.eq(&s.client_state),
            ps::users.eq(&users),
            ps::user_count.eq(count),
            ps::expires_at.eq(s.expires_at.naive_utc()),
            ps::created_at.eq(s.created_at.naive_utc()),
            ps::renewed_at.eq(s.renewed_at.naive_utc()),
        ))
        .execute(c))?;
    Ok(())
}

/// Records a renewal: the subscription now runs until `expires_at`.
pub fn renewed(
    conn: &mut Conn<'_>,
    id: &str,
    expires_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = run_on!(conn, |c| diesel::update(ps::table.find(id))
        .set((
            ps::expires_at.eq(expires_at.naive_utc()),
            ps::renewed_at.eq(at.naive_utc()),
        ))
        .execute(c))?;
    Ok(n == 1)
}

/// Forgets a subscription (deleted at Graph, expired, or removed by Graph).
pub fn remove(conn: &mut Conn<'_>, id: &str) -> Result<bool, StoreError> {
    let n = run_on!(conn, |c| diesel::delete(ps::table.find(id)).execute(c))?;
    Ok(n == 1)
}

/// The Entra object ids (lower case, sorted, without repeats) of the users installed on Teams,
/// by tenant: the users whose presence herald keeps current.
pub fn installed_by_tenant(
    conn: &mut Conn<'_>,
) -> Result<BTreeMap<String, Vec<String>>, StoreError> {
    let rows: Vec<(String, Option<String>)> = run_on!(conn, |c| u::table
        .filter(u::installed.eq(true))
        .filter(u::channel_id.eq("msteams"))
        .filter(u::aad_object_id.is_not_null())
        .filter(u::tenant_id.ne(""))
        .select((u::tenant_id, u::aad_object_id))
        .load(c))?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (tenant, id) in rows {
        if let Some(id) = id
            .map(|i| i.trim().to_lowercase())
            .filter(|i| !i.is_empty())
        {
            out.entry(tenant).or_default().push(id);
        }
    }
    for ids in out.values_mut() {
        ids.sort();
        ids.dedup();
    }
    Ok(out)
}

/// Takes or keeps duty `name` for `owner` until `now + ttl`: granted when nobody holds it, the
/// owner already does, or the holder let it lapse. Returns whether `owner` holds it now.
pub fn claim_duty(
    conn: &mut Conn<'_>,
    name: &str,
    owner: &str,
    now: DateTime<Utc>,
    ttl: TimeDelta,
) -> Result<bool, StoreError> {
    let now = now.trunc_subsecs(6);
    let now_n = now.naive_utc();
    let until = (now + ttl).naive_utc();
    conn.write_transaction(|conn| {
        let current = du::table.find(name).select((du::owner, du::expires_at));
        // Locked until the end of the transaction: the holder read is the one replaced.
        let current: Option<(String, NaiveDateTime)> = match conn {
            Conn::Postgres(c) => current.for_update().first(*c).optional()?,
            Conn::Sqlite(c) => current.first(*c).optional()?,
        };
        match current {
            None => {
                let n = run_on!(conn, |c| diesel::insert_into(du::table)
                    .values((
                        du::name.eq(name),
                        du::owner.eq(owner),
                        du::expires_at.eq(until),
                        du::acquired_at.eq(now_n),
                    ))
                    .on_conflict_do_nothing()
                    .execute(c))?;
                Ok(n == 1)
            }
            Some((holder, _)) if holder == owner => {
                run_on!(conn, |c| diesel::update(du::table.find(name))
                    .filter(du::owner.eq(owner))
                    .set(du::expires_at.eq(until))
                    .execute(c))?;
                Ok(true)
            }
            Some((_, expires)) if expires < now_n => {
                let n = run_on!(conn, |c| diesel::update(du::table.find(name))
                    .filter(du::expires_at.lt(now_n))
                    .set((
                        du::owner.eq(owner),
                        du::expires_at.eq(until),
                        du::acquired_at.eq(now_n),
                    ))
                    .execute(c))?;
                Ok(n == 1)
            }
            Some(_) => Ok(false),
        }
    })
}

/// Lets duty `name` go (a clean shutdown): another instance may take it at once.
pub fn release_duty(conn: &mut Conn<'_>, name: &str, owner: &str) -> Result<bool, StoreError> {
    let n = run_on!(conn, |c| diesel::delete(
        du::table
            .filter(du::name.eq(name))
            .filter(du::owner.eq(owner))
    )
    .execute(c))?;
    Ok(n == 1)
}

/// Who holds duty `name`, and until when.
pub fn duty_holder(
    conn: &mut Conn<'_>,
    name: &str,
) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
    let row: Option<(String, NaiveDateTime)> = run_on!(conn, |c| du::table
        .find(name)
        .select((du::owner, du::expires_at))
        .first(c)
        .optional())?;
    Ok(row.map(|(o, e)| (o, e.and_utc())))
}
