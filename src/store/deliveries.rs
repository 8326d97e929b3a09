//! Outbound messages and their deliveries: the engine's durable work.
//!
//! A delivery is leased in a short transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two
//! dispatchers never take the same row; SQLite serialises writers), sent with nothing locked,
//! and its outcome recorded only if the lease is still ours. A lease that runs out (its owner
//! died) makes the row available again.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{deliveries as d, outbound_messages as m, users as u};
use super::{Conn, StoreError};
use crate::domain::delivery::DeliveryStatus;
use crate::run_on;

/// What a delivery does to the recipient's chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Send,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Send => "send",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Operation> {
        [Operation::Send, Operation::Update, Operation::Delete]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = d)]
pub struct Delivery {
    pub id: i64,
    pub message_id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub operation: String,
    pub target_activity_id: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub leased_by: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub activity_id: Option<String>,
    pub failure: Option<String>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    pub planned_at: Option<NaiveDateTime>,
    pub ladder_step: i32,
    pub presence: Option<String>,
    pub last_attempt_at: Option<NaiveDateTime>,
}

impl Delivery {
    pub fn status(&self) -> Option<DeliveryStatus> {
        DeliveryStatus::parse(&self.status)
    }
}

/// What sending a leased delivery needs to know of it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = d)]
pub struct Work {
    pub id: i64,
    pub message_id: String,
    pub tenant_id: String,
    pub operation: String,
    pub target_activity_id: Option<String>,
    pub attempts: i32,
    pub planned_at: Option<NaiveDateTime>,
    pub ladder_step: i32,
}

/// The recipient as known now: where to reach them, and whether they still can be.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = u)]
pub struct Recipient {
    pub id: String,
    pub aad_object_id: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub installed: bool,
    pub not_installed_reason: Option<String>,
    pub service_url: String,
    pub conversation_id: String,
    pub channel_user_id: String,
    pub bot_id: String,
    pub display_name: Option<String>,
}

/// A leased delivery with what sending it needs (only the columns the send uses: a lease
/// loads many rows, and each column costs).
#[derive(Debug, Clone)]
pub struct Leased {
    pub delivery: Work,
    pub user: Recipient,
}

/// Creates an outbound message; `payload` is the activity (JSON) each recipient gets.
pub fn create_message(
    conn: &mut Conn<'_>,
    id: &str,
    tenant_id: &str,
    kind: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let payload = payload.to_string();
    run_on!(conn, |c| diesel::insert_into(m::table)
        .values((
            m::id.eq(id),
            m::tenant_id.eq(tenant_id),
            m::kind.eq(kind),
            m::payload.eq(&payload),
            m::created_at.eq(now.naive_utc()),
        ))
        .execute(c))?;
    Ok(())
}

/// The kind and payload of a message.
pub fn message(conn: &mut Conn<'_>, id: &str) -> Result<Option<(String, String)>, StoreError> {
    Ok(run_on!(conn, |c| m::table
        .find(id)
        .select((m::kind, m::payload))
        .first::<(String, String)>(c)
        .optional())?)
}

/// One recipient of an operation.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub user_id: String,
    pub operation: Operation,
    pub target_activity_id: Option<String>,
    pub due: DateTime<Utc>,
    /// A campaign recipient's planned moment (the absence ladder starts from it).
    pub planned: Option<DateTime<Utc>>,
}

/// Adds deliveries of `message_id`; a (message, user, operation) already there is left as it
/// is, so enqueueing twice changes nothing. Returns how many were added.
pub fn enqueue(
    conn: &mut Conn<'_>,
    message_id: &str,
    tenant_id: &str,
    items: &[NewDelivery],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let now = now.naive_utc();
    let pending = DeliveryStatus::Pending.as_str();
    conn.write_transaction(|conn| {
        let mut added = 0;
        // Bounded statements: 8 binds a row stays far below every backend's limit.
        for chunk in items.chunks(500) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|n| {
                    (
                        d::message_id.eq(message_id),
                        d::tenant_id.eq(tenant_id),
                        d::user_id.eq(n.user_id.as_str()),
                        d::operation.eq(n.operation.as_str()),
                        d::target_activity_id.eq(n.target_activity_id.as_deref()),
                        d::status.eq(pending),
                        d::next_attempt_at.eq(n.due.naive_utc()),
                        d::planned_at.eq(n.planned.map(|p| p.naive_utc())),
                        d::created_at.eq(now),
                        d::updated_at.eq(now),
                    )
                })
                .collect();
            added += run_on!(conn, |c| diesel::insert_into(d::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c))?;
        }
        Ok(added)
    })
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
            .filter(d::status.eq(DeliveryStatus::Pending.as_str()))
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
        if !ids.is_empty() {
            run_on!(conn, |c| diesel::update(
                d::table.filter(d::id.eq_any(&ids))
            )
            .set((
                d::leased_by.eq(owner),
                d::lease_expires_at.eq(until),
                d::updated_at.eq(now_n),
            ))
            .execute(c))?;
        }
        Ok::<_, StoreError>(ids)
    })?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Work, Recipient)> = run_on!(conn, |c| d::table
        .inner_join(u::table)
        .filter(d::id.eq_any(&ids))
        .order(d::next_attempt_at)
        .select((Work::as_select(), Recipient::as_select()))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(delivery, user)| Leased { delivery, user })
        .collect())
}

/// What became of a leased delivery.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered {
        id: i64,
        activity_id: Option<String>,
    },
    /// Failed for now: try again at `at`.
    Retry {
        id: i64,
        at: DateTime<Utc>,
        error: String,
    },
    /// Given up. `user_gone` marks the recipient not installed too.
    Failed {
        id: i64,
        reason: String,
        error: String,
        user_gone: Option<String>,
    },
    /// Not attempted (shutting down, or the tenant is paused): back to the queue, due at `at`.
    Released { id: i64, at: Option<DateTime<Utc>> },
    /// A campaign recipient was absent: next rung of the ladder at `at`.
    Absent {
        id: i64,
        at: DateTime<Utc>,
        step: i32,
        presence: Option<String>,
    },
    /// Absent at the last rung: the recipient is unscheduled.
    Expired { id: i64, presence: Option<String> },
}

impl Outcome {
    pub fn id(&self) -> i64 {
        match self {
            Outcome::Delivered { id, .. }
            | Outcome::Retry { id, .. }
            | Outcome::Failed { id, .. }
            | Outcome::Released { id, .. }
            | Outcome::Absent { id, .. }
            | Outcome::Expired { id, .. } => *id,
        }
    }
}

/// Records outcomes of deliveries leased by `owner`, in one transaction. An outcome for a
/// delivery whose lease `owner` no longer holds is ignored (returns false for it).
pub fn record(
    conn: &mut Conn<'_>,
    owner: &str,
    outcomes: &[Outcome],
    now: DateTime<Utc>,
) -> Result<Vec<bool>, StoreError> {
    let now_utc = now;
    let now = now.naive_utc();
    conn.write_transaction(|conn| {
        // The common case, deliveries that went through, in one statement.
        let delivered: Vec<(i64, Option<&str>)> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Delivered { id, activity_id } => Some((*id, activity_id.as_deref())),
                _ => None,
            })
            .collect();
        let mut delivered_applied = std::collections::HashSet::new();
        for chunk in delivered.chunks(DELIVERED_PER_STATEMENT) {
            delivered_applied.extend(record_delivered(conn, owner, chunk, now_utc)?);
        }
        let mut applied = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            if let Outcome::Delivered { id, .. } = outcome {
                applied.push(delivered_applied.contains(id));
                continue;
            }
            let mine = d::table
                .filter(d::id.eq(outcome.id()))
                .filter(d::leased_by.eq(owner))
                .filter(d::status.eq(DeliveryStatus::Pending.as_str()));
            let no_lease = (
                d::leased_by.eq(None::<String>),
                d::lease_expires_at.eq(None::<NaiveDateTime>),
                d::updated_at.eq(now),
            );
            let n = match outcome {
                // Recorded above.
                Outcome::Delivered { .. } => 0,
                Outcome::Retry { at, error, .. } => run_on!(conn, |c| diesel::update(mine)
                    .set((
                        no_lease,
                        d::attempts.eq(d::attempts + 1),
                        d::next_attempt_at.eq(at.naive_utc()),
                        d::last_error.eq(error),
                        d::last_attempt_at.eq(now),
                    ))
                    .execute(c))?,
                Outcome::Failed {
                    reason,
                    error,
                    user_gone,
                    ..
                } => {
                    let n = run_on!(conn, |c| diesel::update(mine)
                        .set((
                            no_lease,
                            d::status.eq(DeliveryStatus::Failed.as_str()),
                            d::attempts.eq(d::attempts + 1),
                            d::failure.eq(reason),
                            d::last_error.eq(error),
                            d::completed_at.eq(now),
                            d::last_attempt_at.eq(now),
                        ))
                        .execute(c))?;
                    if let (1, Some(user_id)) = (n, user_gone) {
                        super::users::mark_not_installed(conn, user_id, error, now.and_utc())?;
                    }
                    n
                }
                Outcome::Absent {
                    at, step, presence, ..
                } => run_on!(conn, |c| diesel::update(mine)
                    .set((
                        no_lease,
                        d::next_attempt_at.eq(at.naive_utc()),
                        d::ladder_step.eq(step),
                        d::presence.eq(presence),
                        d::last_attempt_at.eq(now),
                    ))
                    .execute(c))?,
                Outcome::Expired { presence, .. } => run_on!(conn, |c| diesel::update(mine)
                    .set((
                        no_lease,
                        d::status.eq(DeliveryStatus::Expired.as_str()),
                        d::presence.eq(presence),
                        d::completed_at.eq(now),
                        d::last_attempt_at.eq(now),
                    ))
                    .execute(c))?,
                Outcome::Released { at, .. } => match at {
                    Some(at) => run_on!(conn, |c| diesel::update(mine)
                        .set((no_lease, d::next_attempt_at.eq(at.naive_utc())))
                        .execute(c))?,
                    None => run_on!(conn, |c| diesel::update(mine).set(no_lease).execute(c))?,
                },
            };
            applied.push(n == 1);
        }
        Ok(applied)
    })
}

/// Rows in one bulk "delivered" statement: 2 binds each, far below every backend's limit.
const DELIVERED_PER_STATEMENT: usize = 256;

#[derive(QueryableByName)]
struct UpdatedId {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Marks deliveries leased by `owner` as delivered, each with its activity id, in one UPDATE
/// (diesel prepares every UPDATE afresh, so one statement for the batch instead of one per row
/// matters). Returns the ids it changed.
fn record_delivered(
    conn: &mut Conn<'_>,
    owner: &str,
    rows: &[(i64, Option<&str>)],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let postgres = conn.backend() == super::Backend::Postgres;
    let mut n = 0;
    let mut next = || {
        n += 1;
        // Numbered on both backends, so binding order need not follow the text.
        if postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    };
    let (completed, updated, status) = (next(), next(), next());
    // `CASE id WHEN … THEN …` picks each row's activity id; `id IN (…)` finds the rows by key.
    let mut cases = String::new();
    let mut ids = Vec::with_capacity(rows.len());
    for _ in rows {
        let (id, activity) = (next(), next());
        cases.push_str(&format!(" WHEN {id} THEN {activity}"));
        ids.push(id);
    }
    let lease_owner = next();
    // Only pending rows carry a lease, so `leased_by` alone says the row is still ours and
    // pending. (A `status` condition here would also tempt SQLite into scanning the status
    // index instead of looking the ids up.)
    let sql = format!(
        "UPDATE deliveries SET status = {status}, attempts = attempts + 1, \
         activity_id = CASE id{cases} END, completed_at = {completed}, \
         last_attempt_at = {completed}, updated_at = {updated}, \
         leased_by = NULL, lease_expires_at = NULL \
         WHERE id IN ({}) AND leased_by = {lease_owner} \
         RETURNING id",
        ids.join(", ")
    );
    let now = now.naive_utc();
    let delivered = DeliveryStatus::Delivered.as_str();
    let ids: Vec<UpdatedId> = run_on!(conn, |c| {
        let mut q = diesel::sql_query(sql.as_str())
            .into_boxed()
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(delivered);
        for (id, activity_id) in rows {
            q = q
                .bind::<BigInt, _>(*id)
                .bind::<Nullable<Text>, _>(*activity_id);
        }
        q.bind::<Text, _>(owner).load(c)
    })?;
    Ok(ids.into_iter().map(|r| r.id).collect())
}

/// Gives back every lease `owner` still holds (a clean shutdown).
pub fn release_all(
    conn: &mut Conn<'_>,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    release(conn, owner, None, now)
}

/// Gives back the pending deliveries `owner` leased, in `tenant` only when given.
pub fn release(
    conn: &mut Conn<'_>,
    owner: &str,
    tenant: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(run_on!(conn, |c| {
        let mut leased = diesel::update(d::table)
            .filter(d::leased_by.eq(owner))
            .filter(d::status.eq(DeliveryStatus::Pending.as_str()))
            .into_boxed();
        if let Some(tenant) = tenant {
            leased = leased.filter(d::tenant_id.eq(tenant));
        }
        leased
            .set((
                d::leased_by.eq(None::<String>),
                d::lease_expires_at.eq(None::<NaiveDateTime>),
                d::updated_at.eq(now.naive_utc()),
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
    let pending = DeliveryStatus::Pending.as_str();
    let unleased: Option<NaiveDateTime> = run_on!(conn, |c| d::table
        .filter(d::status.eq(pending))
        .filter(d::tenant_id.eq_any(tenants))
        .filter(d::leased_by.is_null())
        .select(diesel::dsl::min(d::next_attempt_at))
        .first(c))?;
    let leased: Option<NaiveDateTime> = run_on!(conn, |c| d::table
        .filter(d::status.eq(pending))
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
    let pending = DeliveryStatus::Pending.as_str();
    let due: i64 = run_on!(conn, |c| d::table
        .filter(d::status.eq(pending))
        .filter(d::next_attempt_at.le(now))
        .filter(d::leased_by.is_null().or(d::lease_expires_at.lt(now)))
        .count()
        .get_result(c))?;
    let leased: i64 = run_on!(conn, |c| d::table
        .filter(d::status.eq(pending))
        .filter(d::lease_expires_at.ge(now))
        .count()
        .get_result(c))?;
    Ok((due, leased))
}

/// Every delivery of a message, by id.
pub fn of_message(conn: &mut Conn<'_>, message_id: &str) -> Result<Vec<Delivery>, StoreError> {
    Ok(run_on!(conn, |c| d::table
        .filter(d::message_id.eq(message_id))
        .order(d::id)
        .select(Delivery::as_select())
        .load(c))?)
}
