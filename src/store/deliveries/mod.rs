//! Outbound messages and their deliveries: the engine's durable work.
//!
//! A delivery is leased in a short transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two
//! dispatchers never take the same row; SQLite serialises writers), sent with nothing locked,
//! and its outcome recorded only if the lease is still ours. A lease that runs out (its owner
//! died) makes the row available again.
//!
//! Here: the rows, messages and enqueueing (only the outbox enqueues); `lease` takes and gives
//! back work; `record` writes outcomes, every status change checked by
//! [`DeliveryStatus::transition`].

mod lease;
pub mod presence;
mod record;
pub mod repair;
pub mod resend;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{deliveries as d, outbound_messages as m, users as u};
use super::{Conn, StoreError};
pub use crate::domain::delivery::Operation;
use crate::domain::delivery::{DeliveryStatus, MessageKind, UnknownName};
use crate::run_on;

pub use lease::{lease, lease_per_tenant, next_due, queue_depth, release, release_all};
pub use record::{Outcome, record, record_one};
pub use repair::record_repair;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = d)]
pub struct Delivery {
    pub id: i64,
    pub message_id: String,
    pub tenant_id: String,
    pub user_id: String,
    #[diesel(deserialize_as = String)]
    pub operation: Operation,
    pub target_activity_id: Option<String>,
    #[diesel(deserialize_as = String)]
    pub status: DeliveryStatus,
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
    /// Graph's activity seen at the last gated attempt (`presence` is its availability).
    pub presence_activity: Option<String>,
}

/// What sending a leased delivery needs to know of it.
#[derive(Debug, Clone)]
pub struct Work {
    pub id: i64,
    pub message_id: String,
    pub tenant_id: String,
    /// What to do; an error for a name no [`Operation`] has (a row written by hand or by a
    /// newer version): that delivery fails, the others of its lease go on.
    pub operation: Result<Operation, UnknownName>,
    pub target_activity_id: Option<String>,
    pub attempts: i32,
    pub planned_at: Option<NaiveDateTime>,
    pub ladder_step: i32,
    /// The recipient's zone a local-time campaign was planned in (`time: local`).
    pub planned_zone: Option<String>,
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
    /// The last presence observed for them (Graph's availability and activity), and when: a
    /// recent one decides a gated send without asking Graph.
    pub presence_availability: Option<String>,
    pub presence_activity: Option<String>,
    pub presence_observed_at: Option<NaiveDateTime>,
}

/// A leased delivery with what sending it needs (only the columns the send uses: a lease
/// loads many rows, and each column costs).
#[derive(Debug, Clone)]
pub struct Leased {
    pub delivery: Work,
    pub user: Recipient,
}

/// Creates an outbound message; `payload` is the activity (JSON) each recipient gets. `kind` is
/// a [`MessageKind`]'s name (tools and tests may store others: they are sent as plain activities).
/// Only the outbox calls this in production.
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

/// A stored outbound message.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// `None` for a kind no [`MessageKind`] has (a tool's or a test's): a plain activity.
    pub kind: Option<MessageKind>,
    /// The activity (JSON) each recipient gets.
    pub payload: String,
}

/// The kind and payload of a message.
pub fn message(conn: &mut Conn<'_>, id: &str) -> Result<Option<StoredMessage>, StoreError> {
    let found = run_on!(conn, |c| m::table
        .find(id)
        .select((m::kind, m::payload))
        .first::<(String, String)>(c)
        .optional())?;
    Ok(found.map(|(kind, payload)| StoredMessage {
        kind: MessageKind::parse(&kind),
        payload,
    }))
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

/// Adds deliveries of `message_id`, pending (a new row: no transition); a (message, user,
/// operation) already there is left as it is, so enqueueing twice changes nothing. Returns how
/// many were added. Only the outbox calls this in production.
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
        if added > 0 {
            crate::store::enqueued::enqueued(conn)?;
        }
        Ok(added)
    })
}

/// Every delivery of a message, by id.
pub fn of_message(conn: &mut Conn<'_>, message_id: &str) -> Result<Vec<Delivery>, StoreError> {
    Ok(run_on!(conn, |c| d::table
        .filter(d::message_id.eq(message_id))
        .order(d::id)
        .select(Delivery::as_select())
        .load(c))?)
}
