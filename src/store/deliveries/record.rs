//! Recording what became of leased deliveries. Every status written here goes through
//! [`DeliveryStatus::transition`]: a statement only touches rows in a state the outcome's status
//! may be reached from, and an outcome for a delivery that already ended is refused.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::domain::delivery::DeliveryStatus;
use crate::run_on;
use crate::store::schema::deliveries as d;
use crate::store::{Conn, StoreError};

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

    /// The status the outcome gives its delivery.
    pub fn status(&self) -> DeliveryStatus {
        match self {
            Outcome::Delivered { .. } => DeliveryStatus::Delivered,
            Outcome::Failed { .. } => DeliveryStatus::Failed,
            Outcome::Expired { .. } => DeliveryStatus::Expired,
            Outcome::Retry { .. } | Outcome::Released { .. } | Outcome::Absent { .. } => {
                DeliveryStatus::Pending
            }
        }
    }
}

/// Records outcomes of deliveries leased by `owner`, in one transaction. An outcome for a
/// delivery whose lease `owner` no longer holds is ignored (false for it), and so is one for a
/// delivery that already ended (its transition is refused, see [`record_one`]): the outcomes of
/// a batch are independent, and a late one must not undo the others.
pub fn record(
    conn: &mut Conn<'_>,
    owner: &str,
    outcomes: &[Outcome],
    now: DateTime<Utc>,
) -> Result<Vec<bool>, StoreError> {
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
            delivered_applied.extend(record_delivered(conn, owner, chunk, now)?);
        }
        let mut applied = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            if let Outcome::Delivered { id, .. } = outcome {
                applied.push(delivered_applied.contains(id));
                continue;
            }
            applied.push(match apply(conn, owner, outcome, now) {
                Ok(done) => done,
                Err(StoreError::ForbiddenTransition { from, to }) => {
                    tracing::debug!(delivery_id = outcome.id(), %from, %to,
                        "outcome of a delivery that already ended; ignored");
                    false
                }
                Err(e) => return Err(e),
            });
        }
        Ok(applied)
    })
}

/// Records one outcome of a delivery leased by `owner`: `Ok(true)` once recorded, `Ok(false)`
/// when the delivery is pending but no longer leased by `owner`, and
/// [`StoreError::ForbiddenTransition`] (nothing changed) when it already ended.
pub fn record_one(
    conn: &mut Conn<'_>,
    owner: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    conn.write_transaction(|conn| apply(conn, owner, outcome, now))
}

/// `Err(ForbiddenTransition)` when delivery `id` is in a state `to` may not be reached from.
fn refuse_if_ended(conn: &mut Conn<'_>, id: i64, to: DeliveryStatus) -> Result<(), StoreError> {
    let status: Option<String> = run_on!(conn, |c| d::table
        .find(id)
        .select(d::status)
        .first(c)
        .optional())?;
    match status.as_deref().and_then(DeliveryStatus::parse) {
        Some(from) => {
            DeliveryStatus::transition(from, to).map_err(|f| StoreError::ForbiddenTransition {
                from: f.from.to_string(),
                to: f.to.to_string(),
            })
        }
        None => Ok(()),
    }
}

/// Writes one outcome (a batch's deliveries that went through are written in bulk instead).
fn apply(
    conn: &mut Conn<'_>,
    owner: &str,
    outcome: &Outcome,
    now_utc: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now = now_utc.naive_utc();
    let to = outcome.status();
    let from: Vec<&str> = DeliveryStatus::sources_of(to)
        .into_iter()
        .map(DeliveryStatus::as_str)
        .collect();
    let mine = d::table
        .filter(d::id.eq(outcome.id()))
        .filter(d::leased_by.eq(owner))
        .filter(d::status.eq_any(from));
    let no_lease = (
        d::leased_by.eq(None::<String>),
        d::lease_expires_at.eq(None::<NaiveDateTime>),
        d::updated_at.eq(now),
    );
    let n = match outcome {
        Outcome::Delivered { id, activity_id } => {
            record_delivered(conn, owner, &[(*id, activity_id.as_deref())], now_utc)?.len()
        }
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
                    d::status.eq(to.as_str()),
                    d::attempts.eq(d::attempts + 1),
                    d::failure.eq(reason),
                    d::last_error.eq(error),
                    d::completed_at.eq(now),
                    d::last_attempt_at.eq(now),
                ))
                .execute(c))?;
            if let (1, Some(user_id)) = (n, user_gone) {
                crate::store::users::mark_not_installed(conn, user_id, error, now_utc)?;
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
                d::status.eq(to.as_str()),
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
    if n == 0 {
        refuse_if_ended(conn, outcome.id(), to)?;
    }
    Ok(n == 1)
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
    let postgres = conn.backend() == crate::store::Backend::Postgres;
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
    // Only pending rows carry a lease (every move to a final state clears it), so `leased_by`
    // alone says the row is still ours and pending: the one state delivered may be reached from.
    // (A `status` condition here would also tempt SQLite into scanning the status index instead
    // of looking the ids up.)
    debug_assert_eq!(
        DeliveryStatus::sources_of(DeliveryStatus::Delivered),
        [DeliveryStatus::Pending]
    );
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
