//! Taking work and giving it back: leases, and when there is work next. None of these change a
//! delivery's status: they move only pending rows' leases.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::{Leased, Recipient, Work};
use crate::domain::delivery::Operation;
use crate::run_on;
use crate::store::schema::{deliveries as d, users as u};
use crate::store::sql::PendingStatus;
use crate::store::{Conn, StoreError};

/// [`Work`] as stored: one row with an unknown operation must not make the whole lease fail.
#[derive(Queryable, Selectable)]
#[diesel(table_name = d)]
struct WorkRow {
    id: i64,
    message_id: String,
    tenant_id: String,
    operation: String,
    target_activity_id: Option<String>,
    attempts: i32,
    planned_at: Option<NaiveDateTime>,
    ladder_step: i32,
    planned_zone: Option<String>,
}

impl From<WorkRow> for Work {
    fn from(r: WorkRow) -> Work {
        Work {
            id: r.id,
            message_id: r.message_id,
            tenant_id: r.tenant_id,
            operation: Operation::try_from(r.operation),
            target_activity_id: r.target_activity_id,
            attempts: r.attempts,
            planned_at: r.planned_at,
            ladder_step: r.ladder_step,
            planned_zone: r.planned_zone,
        }
    }
}

/// Leases up to `limit` due deliveries of `tenants` for `owner` until `until`, earliest first.
/// `held`: rows `owner` still holds in memory (their outcome may be on its way), never leased
/// again even when their lease has run out; its other expired rows are (it lost track of them).
pub fn lease(
    conn: &mut Conn<'_>,
    owner: &str,
    tenants: &[String],
    held: &[i64],
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<Leased>, StoreError> {
    let now_n = now.naive_utc();
    let until = until.naive_utc();
    let limit = limit as i64;
    if tenants.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = conn.write_transaction(|conn| {
        let due = d::table
            .filter(d::status.eq(PendingStatus))
            .filter(d::tenant_id.eq_any(tenants))
            .filter(d::next_attempt_at.le(now_n))
            // An expired lease of another instance (it died) is taken over; one of ours only
            // if we no longer hold it: its outcome may still be on its way to the database.
            .filter(
                d::leased_by.is_null().or(d::lease_expires_at
                    .lt(now_n)
                    .and(d::leased_by.ne(owner).or(d::id.ne_all(held)))),
            )
            .order(d::next_attempt_at)
            .select(d::id)
            .limit(limit);
        let ids: Vec<i64> = match conn {
            // Rows another dispatcher is leasing right now are skipped, not waited for.
            Conn::Postgres(c) => due.for_update().skip_locked().load(*c)?,
            Conn::Sqlite(c) => due.load(*c)?,
        };
        mark_leased(conn, owner, &ids, until)?;
        Ok::<_, StoreError>(ids)
    })?;
    load_leased(conn, &ids)
}

/// Most ids in one statement (SQLite allows 32,766 parameters).
const IDS_PER_STATEMENT: usize = 5000;

/// Marks rows `ids` leased by `owner` until `until`. A lease leaves `updated_at` alone: only
/// retention reads it, and only on rows that ended; so the lease touches no indexed column
/// (one write of the row, no index entry moved).
fn mark_leased(
    conn: &mut Conn<'_>,
    owner: &str,
    ids: &[i64],
    until: NaiveDateTime,
) -> Result<(), StoreError> {
    for ids in ids.chunks(IDS_PER_STATEMENT) {
        run_on!(conn, |c| diesel::update(d::table.filter(d::id.eq_any(ids)))
            .set((d::leased_by.eq(owner), d::lease_expires_at.eq(until)))
            .execute(c))?;
    }
    Ok(())
}

/// Rows `ids` with what sending them needs, earliest due first.
fn load_leased(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<Leased>, StoreError> {
    let mut leased = Vec::with_capacity(ids.len());
    for ids in ids.chunks(IDS_PER_STATEMENT) {
        let rows: Vec<(WorkRow, Recipient)> = run_on!(conn, |c| d::table
            .inner_join(u::table)
            .filter(d::id.eq_any(ids))
            .order(d::next_attempt_at)
            .select((WorkRow::as_select(), Recipient::as_select()))
            .load(c))?;
        leased.extend(rows.into_iter().map(|(row, user)| Leased {
            delivery: row.into(),
            user,
        }));
    }
    Ok(leased)
}

/// Leases, for each `(tenant, n)` of `wants`, up to `n` of the tenant's due deliveries for
/// `owner` until `until`, earliest first: one indexed range per tenant (`tenant_id,
/// next_attempt_at` of pending rows), so a tenant with a long backlog fills no other's share,
/// and the cost follows what is taken, not how much is due. `held(id)`: whether `owner` still holds row
/// `id` in memory (its outcome may be on its way): such a row is never leased again, even
/// when its lease has run out; `owner`'s other expired rows are (it lost track of them).
pub fn lease_per_tenant(
    conn: &mut Conn<'_>,
    owner: &str,
    wants: &[(String, usize)],
    held: &(dyn Fn(i64) -> bool + Send + Sync),
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Leased>, StoreError> {
    let now_n = now.naive_utc();
    let until = until.naive_utc();
    let ids: Vec<i64> = conn.write_transaction(|conn| {
        let mut ids = Vec::new();
        for (tenant, n) in wants.iter().filter(|(_, n)| *n > 0) {
            let due = d::table
                .filter(d::status.eq(PendingStatus))
                .filter(d::tenant_id.eq(tenant))
                .filter(d::next_attempt_at.le(now_n))
                .filter(d::leased_by.is_null().or(d::lease_expires_at.lt(now_n)))
                .order(d::next_attempt_at)
                .select((d::id, d::leased_by))
                .limit(*n as i64);
            let found: Vec<(i64, Option<String>)> = match conn {
                // Rows another dispatcher is leasing right now are skipped, not waited for.
                Conn::Postgres(c) => due.for_update().skip_locked().load(*c)?,
                Conn::Sqlite(c) => due.load(*c)?,
            };
            ids.extend(
                found
                    .into_iter()
                    .filter(|(id, by)| by.as_deref() != Some(owner) || !held(*id))
                    .map(|(id, _)| id),
            );
        }
        mark_leased(conn, owner, &ids, until)?;
        Ok::<_, StoreError>(ids)
    })?;
    load_leased(conn, &ids)
}

/// Gives back every lease `owner` still holds (a clean shutdown).
pub fn release_all(conn: &mut Conn<'_>, owner: &str) -> Result<usize, StoreError> {
    release(conn, owner, None)
}

/// Gives back the pending deliveries `owner` leased, in `tenant` only when given (like a
/// lease, leaving `updated_at` alone).
pub fn release(
    conn: &mut Conn<'_>,
    owner: &str,
    tenant: Option<&str>,
) -> Result<usize, StoreError> {
    Ok(run_on!(conn, |c| {
        let mut leased = diesel::update(d::table)
            .filter(d::leased_by.eq(owner))
            .filter(d::status.eq(PendingStatus))
            .into_boxed();
        if let Some(tenant) = tenant {
            leased = leased.filter(d::tenant_id.eq(tenant));
        }
        leased
            .set((
                d::leased_by.eq(None::<String>),
                d::lease_expires_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)
    })?)
}

/// When the dispatcher next has something to do in `tenants`: the earliest pending moment,
/// counting a leased row's lease expiry (its owner may have died) rather than its due time.
pub fn next_due(
    conn: &mut Conn<'_>,
    tenants: &[String],
) -> Result<Option<DateTime<Utc>>, StoreError> {
    if tenants.is_empty() {
        return Ok(None);
    }
    let unleased: Option<NaiveDateTime> = run_on!(conn, |c| d::table
        .filter(d::status.eq(PendingStatus))
        .filter(d::tenant_id.eq_any(tenants))
        .filter(d::leased_by.is_null())
        .select(diesel::dsl::min(d::next_attempt_at))
        .first(c))?;
    let leased: Option<NaiveDateTime> = run_on!(conn, |c| d::table
        .filter(d::status.eq(PendingStatus))
        .filter(d::tenant_id.eq_any(tenants))
        .filter(d::leased_by.is_not_null())
        .select(diesel::dsl::min(d::lease_expires_at))
        .first::<Option<NaiveDateTime>>(c))?;
    Ok(match (unleased, leased) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
    .map(|t| t.and_utc()))
}

/// Queue depth: (due and not leased, leased).
pub fn queue_depth(conn: &mut Conn<'_>, now: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
    let now = now.naive_utc();
    let due: i64 = run_on!(conn, |c| d::table
        .filter(d::status.eq(PendingStatus))
        .filter(d::next_attempt_at.le(now))
        .filter(d::leased_by.is_null().or(d::lease_expires_at.lt(now)))
        .count()
        .get_result(c))?;
    let leased: i64 = run_on!(conn, |c| d::table
        .filter(d::status.eq(PendingStatus))
        .filter(d::lease_expires_at.ge(now))
        .count()
        .get_result(c))?;
    Ok((due, leased))
}
