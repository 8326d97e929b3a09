//! Reads: a recipient pressing **Mark as read**, or Teams telling that they read their chat.
//! A new read is recorded here; the card update it calls for is returned, for the caller to
//! post.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::super::deliveries::{NewDelivery, Operation};
use super::super::schema::{broadcast_messages as bm, broadcast_reads as r, deliveries as d};
use super::super::{Conn, StoreError};
use super::{Broadcast, ReadSource, Role, get, lang_of, messages};
use crate::domain::Lang;
use crate::domain::delivery::DeliveryStatus;
use crate::run_on;

/// The card `user_id` got: (card message id, its language, the sent activity's id), once the
/// send went through. One query, whatever the number of card messages (one per language).
fn delivered_card(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
) -> Result<Option<(String, Lang, String)>, StoreError> {
    let found: Option<(String, String, Option<String>)> = run_on!(conn, |c| d::table
        .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
        .filter(bm::broadcast_id.eq(broadcast_id))
        .filter(bm::role.eq(Role::Card.as_str()))
        .filter(d::user_id.eq(user_id))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .select((d::message_id, bm::lang, d::activity_id))
        .first(c)
        .optional())?;
    Ok(found.map(|(message_id, lang, activity)| {
        (message_id, lang_of(&lang), activity.unwrap_or_default())
    }))
}

/// Whether the broadcast's card reached `user_id`.
pub fn was_sent_to(conn: &mut Conn<'_>, bc: &Broadcast, user_id: &str) -> Result<bool, StoreError> {
    Ok(delivered_card(conn, &bc.id, user_id)?.is_some())
}

/// What recording a read came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// First read by this recipient: recorded, and their card will show it.
    New,
    /// Already read: nothing changed.
    Already,
    /// This user never got this broadcast.
    NotARecipient,
    /// The broadcast was recalled: its card is no longer in the chat.
    Recalled,
}

/// The update that turns a recipient's card into the read card: a delivery of the read card
/// message targeting the card they got.
#[derive(Debug, Clone)]
pub struct CardUpdate {
    pub message_id: String,
    pub tenant_id: String,
    pub delivery: NewDelivery,
}

/// A read and, when it is new and the card can change, the update to post.
#[derive(Debug, Clone)]
pub struct ReadRecorded {
    pub read: Read,
    pub update: Option<CardUpdate>,
}

impl From<Read> for ReadRecorded {
    fn from(read: Read) -> ReadRecorded {
        ReadRecorded { read, update: None }
    }
}

/// Records that `user_id` read the broadcast (once, whatever the source). Unless it was
/// recalled, a new read comes with the update that turns their card into the read card.
pub fn record_read(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
    how: ReadSource,
    now: DateTime<Utc>,
) -> Result<ReadRecorded, StoreError> {
    conn.write_transaction(|conn| {
        let Some(bc) = get(conn, broadcast_id)? else {
            return Ok(Read::NotARecipient.into());
        };
        let Some((_, lang, activity_id)) = delivered_card(conn, broadcast_id, user_id)? else {
            return Ok(Read::NotARecipient.into());
        };
        if bc.recalled() {
            return Ok(Read::Recalled.into());
        }
        let added = run_on!(conn, |c| diesel::insert_into(r::table)
            .values((
                r::broadcast_id.eq(broadcast_id),
                r::user_id.eq(user_id),
                r::read_at.eq(now.naive_utc()),
                r::source.eq(how.as_str()),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        if added == 0 {
            return Ok(Read::Already.into());
        }
        let read_card = messages(conn, broadcast_id, Role::Read)?
            .into_iter()
            .find(|(_, l)| *l == lang);
        let update = read_card
            .filter(|_| !activity_id.is_empty())
            .map(|(message_id, _)| CardUpdate {
                message_id,
                tenant_id: bc.tenant_id.clone(),
                delivery: NewDelivery {
                    user_id: user_id.to_string(),
                    operation: Operation::Update,
                    target_activity_id: Some(activity_id),
                    due: now,
                    planned: None,
                },
            });
        Ok(ReadRecorded {
            read: Read::New,
            update,
        })
    })
}

/// The broadcasts whose card in `user_id`'s chat a read receipt up to `last_read` covers and
/// that they have not read yet (a read-only look: most receipts find nothing new).
pub fn receipt_candidates(
    conn: &mut Conn<'_>,
    user_id: &str,
    last_read: &str,
) -> Result<Vec<String>, StoreError> {
    let cards: Vec<(String, Option<String>)> = run_on!(conn, |c| d::table
        .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
        .filter(d::user_id.eq(user_id))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .filter(bm::role.eq(Role::Card.as_str()))
        .select((bm::broadcast_id, d::activity_id))
        .load(c))?;
    if cards.is_empty() {
        return Ok(Vec::new());
    }
    let already: HashSet<String> = run_on!(conn, |c| r::table
        .filter(r::user_id.eq(user_id))
        .select(r::broadcast_id)
        .load::<String>(c))?
    .into_iter()
    .collect();
    Ok(cards
        .into_iter()
        .filter(|(broadcast_id, activity_id)| {
            activity_id
                .as_deref()
                .is_some_and(|a| crate::domain::broadcast::receipt_covers(a, last_read))
                && !already.contains(broadcast_id)
        })
        .map(|(broadcast_id, _)| broadcast_id)
        .collect())
}

/// A Teams read receipt from `user_id`: every broadcast card in their chat whose activity id is
/// at most `last_read` is read. Returns the reads that were new.
pub fn record_receipt(
    conn: &mut Conn<'_>,
    user_id: &str,
    last_read: &str,
    now: DateTime<Utc>,
) -> Result<Vec<ReadRecorded>, StoreError> {
    let mut new = Vec::new();
    for broadcast_id in receipt_candidates(conn, user_id, last_read)? {
        let recorded = record_read(conn, &broadcast_id, user_id, ReadSource::Receipt, now)?;
        if recorded.read == Read::New {
            new.push(recorded);
        }
    }
    Ok(new)
}
