//! Recalls: the broadcast is marked recalled, its cards not yet sent are stopped, and every
//! other card is to be deleted; once every delete is done the recall is reported once.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::super::deliveries::{NewDelivery, Operation};
use super::super::schema::{broadcasts as b, deliveries as d};
use super::super::{Conn, StoreError};
use super::{Broadcast, BroadcastStatus, Role, all_messages, cards, messages};
use crate::domain::delivery::{DeliveryStatus, reason};
use crate::run_on;
use crate::store::sql::PendingStatus;

/// The status a send nobody holds takes when its recall stops it, once the move is checked.
fn stopped_status() -> Result<&'static str, StoreError> {
    // transition
    let (from, to) = (DeliveryStatus::Pending, DeliveryStatus::Failed);
    if !from.can_become(to) {
        return Err(StoreError::Query(
            diesel::result::Error::RollbackTransaction,
        ));
    }
    Ok(to.as_str())
}

/// What starting a recall recorded, and the deletes it calls for.
#[derive(Debug, Clone)]
pub struct RecallStarted {
    /// Per card message, the deletes to post: one per card that reached (or is reaching) a
    /// chat (the target is found at send time when the card is still on its way).
    pub deletes: Vec<(String, Vec<NewDelivery>)>,
    /// Per reminder message, the deletes of the reminders that reached (or are reaching) a
    /// chat: a recalled broadcast leaves no reminder behind either.
    pub reminders: Vec<(String, Vec<NewDelivery>)>,
    /// Cards stopped before they were sent.
    pub stopped: usize,
    /// The card and reminder messages, which must no longer be sent.
    pub cards: Vec<String>,
}

/// Recalls a broadcast: marks it recalled and stops the sends and card updates nobody holds.
/// `None` when it was recalled already.
pub fn recall(
    conn: &mut Conn<'_>,
    bc: &Broadcast,
    by: &str,
    by_user: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<RecallStarted>, StoreError> {
    let now_n = now.naive_utc();
    conn.write_transaction(|conn| {
        let n = run_on!(conn, |c| diesel::update(
            b::table
                .filter(b::id.eq(&bc.id))
                .filter(b::status.eq(BroadcastStatus::Sent.as_str()))
        )
        .set((
            b::status.eq(BroadcastStatus::Recalled.as_str()),
            b::recalled_at.eq(now_n),
            b::recalled_by.eq(by),
            b::recalled_by_user.eq(by_user),
        ))
        .execute(c))?;
        if n == 0 {
            return Ok(None);
        }
        let all = all_messages(conn, &bc.id)?;
        let failed = stopped_status()?;
        // Sends and card updates nobody holds: stopped here.
        let stopped = run_on!(conn, |c| diesel::update(
            d::table
                .filter(d::message_id.eq_any(&all))
                .filter(d::operation.ne(Operation::Delete.as_str()))
                .filter(d::status.eq(PendingStatus))
                .filter(d::leased_by.is_null().or(d::lease_expires_at.lt(now_n)))
        )
        .set((
            d::status.eq(failed),
            d::failure.eq(reason::RECALLED),
            d::completed_at.eq(now_n),
            d::updated_at.eq(now_n),
            d::leased_by.eq(None::<String>),
            d::lease_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c))?;
        let cards = cards(conn, &bc.id)?;
        let deletes = deletes_of(conn, &cards, now)?;
        let reminders: Vec<String> = messages(conn, &bc.id, Role::Reminder)?
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        let reminder_deletes = deletes_of(conn, &reminders, now)?;
        let mut cards = cards;
        cards.extend(reminders);
        Ok(Some(RecallStarted {
            deletes,
            reminders: reminder_deletes,
            stopped,
            cards,
        }))
    })
}

/// Per message, a delete for each send of it that was delivered or is being sent right now (its
/// target found at send time).
fn deletes_of(
    conn: &mut Conn<'_>,
    messages: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<(String, Vec<NewDelivery>)>, StoreError> {
    let pending = DeliveryStatus::Pending.as_str();
    let mut deletes = Vec::with_capacity(messages.len());
    for message_id in messages {
        let rows: Vec<(String, String, Option<String>)> = run_on!(conn, |c| d::table
            .filter(d::message_id.eq(message_id))
            .filter(d::operation.eq(Operation::Send.as_str()))
            .filter(
                d::status
                    .eq(DeliveryStatus::Delivered.as_str())
                    .or(d::status.eq(PendingStatus))
            )
            .select((d::user_id, d::status, d::activity_id))
            .load(c))?;
        let items: Vec<NewDelivery> = rows
            .into_iter()
            .map(|(user_id, status, activity_id)| NewDelivery {
                user_id,
                operation: Operation::Delete,
                target_activity_id: if status == pending { None } else { activity_id },
                due: now,
                planned: None,
            })
            .collect();
        deletes.push((message_id.clone(), items));
    }
    Ok(deletes)
}

/// Where a delete whose target was not known at recall time stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteTarget {
    /// The card went out as this activity: delete it.
    Activity(String),
    /// The card is being sent right now: ask again shortly.
    Wait,
    /// The card never reached the chat (and will not: a pending one is stopped here).
    Nothing,
}

pub fn resolve_delete_target(
    conn: &mut Conn<'_>,
    message_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<DeleteTarget, StoreError> {
    let now_n = now.naive_utc();
    conn.write_transaction(|conn| {
        type SendState = (
            String,
            Option<String>,
            Option<String>,
            Option<NaiveDateTime>,
        );
        let send: Option<SendState> = run_on!(conn, |c| d::table
            .filter(d::message_id.eq(message_id))
            .filter(d::user_id.eq(user_id))
            .filter(d::operation.eq(Operation::Send.as_str()))
            .select((d::status, d::activity_id, d::leased_by, d::lease_expires_at))
            .first(c)
            .optional())?;
        let Some((status, activity_id, leased_by, lease_expires)) = send else {
            return Ok(DeleteTarget::Nothing);
        };
        match DeliveryStatus::parse(&status) {
            Some(DeliveryStatus::Delivered) => Ok(activity_id
                .filter(|a| !a.is_empty())
                .map_or(DeleteTarget::Nothing, DeleteTarget::Activity)),
            Some(DeliveryStatus::Pending)
                if leased_by.is_some() && lease_expires.is_some_and(|t| t >= now_n) =>
            {
                Ok(DeleteTarget::Wait)
            }
            Some(DeliveryStatus::Pending) => {
                // Only if still free: on PostgreSQL a dispatcher may lease it meanwhile.
                let failed = stopped_status()?;
                let stopped = run_on!(conn, |c| diesel::update(
                    d::table
                        .filter(d::message_id.eq(message_id))
                        .filter(d::user_id.eq(user_id))
                        .filter(d::operation.eq(Operation::Send.as_str()))
                        .filter(d::status.eq(PendingStatus))
                        .filter(d::leased_by.is_null().or(d::lease_expires_at.lt(now_n)))
                )
                .set((
                    d::status.eq(failed),
                    d::failure.eq(reason::RECALLED),
                    d::completed_at.eq(now_n),
                    d::updated_at.eq(now_n),
                    d::leased_by.eq(None::<String>),
                    d::lease_expires_at.eq(None::<NaiveDateTime>),
                ))
                .execute(c))?;
                Ok(if stopped == 1 {
                    DeleteTarget::Nothing
                } else {
                    DeleteTarget::Wait
                })
            }
            _ => Ok(DeleteTarget::Nothing),
        }
    })
}

/// Recalled broadcasts whose recall was not reported yet.
pub fn recalls_to_report(conn: &mut Conn<'_>) -> Result<Vec<Broadcast>, StoreError> {
    Ok(run_on!(conn, |c| b::table
        .filter(b::status.eq(BroadcastStatus::Recalled.as_str()))
        .filter(b::recall_reported_at.is_null())
        .select(Broadcast::as_select())
        .load(c))?)
}

/// Marks the recall reported, unless another instance did first. Returns whether this call
/// did.
pub fn mark_recall_reported(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let claimed = run_on!(conn, |c| diesel::update(
        b::table
            .filter(b::id.eq(broadcast_id))
            .filter(b::recall_reported_at.is_null())
    )
    .set(b::recall_reported_at.eq(now.naive_utc()))
    .execute(c))?;
    Ok(claimed == 1)
}
