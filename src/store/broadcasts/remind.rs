//! Reminders, as stored: who a reminder goes to (decided in one query), its rounds, the
//! automatic reminder taken once across instances, the reminder deliveries whose recipient
//! read (or acknowledged) since they were queued, and what `broadcast info` and the report say
//! of reminders.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::super::deliveries::Operation;
use super::super::schema::{
    broadcast_acks as a, broadcast_messages as bm, broadcast_reads as r, broadcast_reminders as br,
    broadcasts as b, deliveries as d,
};
use super::super::{Conn, StoreError};
use super::{Broadcast, BroadcastStatus, Role, lang_of};
use crate::domain::Lang;
use crate::domain::delivery::DeliveryStatus;
use crate::run_on;
use crate::store::sql::PendingStatus;

/// Most ids bound in one `IN` list.
const CHUNK: usize = 500;

/// The recipients a reminder of `bc` goes to, each with the language of the card they got:
/// their card was delivered and they have not read it (or, for `ack: yes`, not acknowledged
/// it). One query, whatever the audience's size.
pub fn targets(conn: &mut Conn<'_>, bc: &Broadcast) -> Result<Vec<(String, Lang)>, StoreError> {
    let id = bc.id.as_str();
    let delivered = d::operation
        .eq(Operation::Send.as_str())
        .and(d::status.eq(DeliveryStatus::Delivered.as_str()));
    let rows: Vec<(String, String)> = if bc.ack {
        run_on!(conn, |c| d::table
            .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
            .left_join(a::table.on(a::broadcast_id.eq(id).and(a::user_id.eq(d::user_id))),)
            .filter(bm::broadcast_id.eq(id))
            .filter(bm::role.eq(Role::Card.as_str()))
            .filter(delivered)
            .filter(a::user_id.is_null())
            .order(d::user_id)
            .select((d::user_id, bm::lang))
            .load(c))?
    } else {
        run_on!(conn, |c| d::table
            .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
            .left_join(r::table.on(r::broadcast_id.eq(id).and(r::user_id.eq(d::user_id))),)
            .filter(bm::broadcast_id.eq(id))
            .filter(bm::role.eq(Role::Card.as_str()))
            .filter(delivered)
            .filter(r::user_id.is_null())
            .order(d::user_id)
            .select((d::user_id, bm::lang))
            .load(c))?
    };
    // Who still has a reminder on its way (an automatic round waiting for business hours, or
    // a round just asked for) gets no second one.
    let waiting: std::collections::HashSet<String> = run_on!(conn, |c| d::table
        .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
        .filter(bm::broadcast_id.eq(id))
        .filter(bm::role.eq(Role::Reminder.as_str()))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(PendingStatus))
        .select(d::user_id)
        .load::<String>(c))?
    .into_iter()
    .collect();
    let mut out: Vec<(String, Lang)> = Vec::with_capacity(rows.len());
    for (user, lang) in rows {
        // Ordered by user: a second delivered card of the same person comes right after.
        if out.last().is_none_or(|(u, _)| *u != user) && !waiting.contains(&user) {
            out.push((user, lang_of(&lang)));
        }
    }
    Ok(out)
}

/// Holds the broadcast's row for the rest of the transaction, if it is still sent (not
/// recalled): a recall, or another reminder round, waits until this one is written.
pub fn hold(conn: &mut Conn<'_>, broadcast_id: &str) -> Result<bool, StoreError> {
    let n = run_on!(conn, |c| diesel::update(
        b::table
            .filter(b::id.eq(broadcast_id))
            .filter(b::status.eq(BroadcastStatus::Sent.as_str()))
    )
    .set(b::status.eq(b::status))
    .execute(c))?;
    Ok(n == 1)
}

/// Records a reminder round of the broadcast (the previous round + 1). Returns its number.
pub fn record_round(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    automatic: bool,
    requested_by: Option<&str>,
    queued: usize,
    now: DateTime<Utc>,
) -> Result<i32, StoreError> {
    let last: Option<i32> = run_on!(conn, |c| br::table
        .filter(br::broadcast_id.eq(broadcast_id))
        .select(diesel::dsl::max(br::round))
        .first(c))?;
    let round = last.unwrap_or(0) + 1;
    run_on!(conn, |c| diesel::insert_into(br::table)
        .values((
            br::id.eq(uuid::Uuid::now_v7().to_string()),
            br::broadcast_id.eq(broadcast_id),
            br::round.eq(round),
            br::automatic.eq(automatic),
            br::requested_by.eq(requested_by),
            br::created_at.eq(now.naive_utc()),
            br::queued.eq(queued as i32),
        ))
        .execute(c))?;
    Ok(round)
}

/// Broadcasts whose automatic reminder is due at `now` and not taken yet (recalled ones too:
/// the taker skips them, so they are not looked at again).
pub fn due(conn: &mut Conn<'_>, now: DateTime<Utc>, limit: i64) -> Result<Vec<String>, StoreError> {
    Ok(run_on!(conn, |c| b::table
        .filter(b::remind_at.le(now.naive_utc()))
        .filter(b::reminded_at.is_null())
        .order(b::remind_at)
        .limit(limit)
        .select(b::id)
        .load(c))?)
}

/// Takes the automatic reminder of the broadcast: true for the one caller (of any instance)
/// that marks it first.
pub fn take(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = run_on!(conn, |c| diesel::update(
        b::table
            .filter(b::id.eq(broadcast_id))
            .filter(b::reminded_at.is_null())
    )
    .set(b::reminded_at.eq(now.naive_utc()))
    .execute(c))?;
    Ok(n == 1)
}

/// Of the deliveries `ids`, the reminder sends whose recipient has read the broadcast (or,
/// for `ack: yes`, acknowledged it): one query per batch of leased rows.
pub fn settled(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<i64> = run_on!(conn, |c| d::table
            .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
            .inner_join(b::table.on(b::id.eq(bm::broadcast_id)))
            .left_join(
                r::table.on(r::broadcast_id
                    .eq(bm::broadcast_id)
                    .and(r::user_id.eq(d::user_id))),
            )
            .left_join(
                a::table.on(a::broadcast_id
                    .eq(bm::broadcast_id)
                    .and(a::user_id.eq(d::user_id))),
            )
            .filter(d::id.eq_any(chunk))
            .filter(d::operation.eq(Operation::Send.as_str()))
            .filter(bm::role.eq(Role::Reminder.as_str()))
            .filter(
                b::ack
                    .eq(false)
                    .and(r::user_id.is_not_null())
                    .or(b::ack.eq(true).and(a::user_id.is_not_null())),
            )
            .select(d::id)
            .load(c))?;
        out.extend(rows);
    }
    Ok(out)
}

/// When each recipient got their first reminder of the broadcast (delivered ones only).
pub fn first_reminders(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
) -> Result<HashMap<String, NaiveDateTime>, StoreError> {
    first_reminders_among(conn, broadcast_id, None)
}

/// [`first_reminders`] for the people `users` only (everyone for `None`).
pub fn first_reminders_among(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    users: Option<&[String]>,
) -> Result<HashMap<String, NaiveDateTime>, StoreError> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = run_on!(conn, |c| {
        let mut q = d::table
            .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
            .filter(bm::broadcast_id.eq(broadcast_id))
            .filter(bm::role.eq(Role::Reminder.as_str()))
            .filter(d::operation.eq(Operation::Send.as_str()))
            .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
            .select((d::user_id, d::completed_at))
            .into_boxed();
        if let Some(users) = users {
            q = q.filter(d::user_id.eq_any(users));
        }
        q.load(c)
    })?;
    let mut out: HashMap<String, NaiveDateTime> = HashMap::with_capacity(rows.len());
    for (user, at) in rows {
        let Some(at) = at else { continue };
        out.entry(user)
            .and_modify(|first| *first = (*first).min(at))
            .or_insert(at);
    }
    Ok(out)
}

/// A reminder round as `broadcast info` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    pub round: i32,
    pub automatic: bool,
    pub at: NaiveDateTime,
    pub queued: i32,
}

/// What `broadcast info` says of the broadcast's reminders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderFigures {
    pub rounds: Vec<Round>,
    /// Reminder cards delivered, every round together.
    pub delivered: usize,
    /// People who read (or, for `ack: yes`, acknowledged) after their first reminder.
    pub after_reminder: usize,
}

pub fn figures(conn: &mut Conn<'_>, bc: &Broadcast) -> Result<ReminderFigures, StoreError> {
    let rounds: Vec<(i32, bool, NaiveDateTime, i32)> = run_on!(conn, |c| br::table
        .filter(br::broadcast_id.eq(&bc.id))
        .order(br::round)
        .select((br::round, br::automatic, br::created_at, br::queued))
        .load(c))?;
    if rounds.is_empty() {
        return Ok(ReminderFigures::default());
    }
    let delivered: i64 = run_on!(conn, |c| d::table
        .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
        .filter(bm::broadcast_id.eq(&bc.id))
        .filter(bm::role.eq(Role::Reminder.as_str()))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .count()
        .get_result(c))?;
    let first = first_reminders(conn, &bc.id)?;
    let answered: Vec<(String, NaiveDateTime)> = if bc.ack {
        run_on!(conn, |c| a::table
            .filter(a::broadcast_id.eq(&bc.id))
            .select((a::user_id, a::acked_at))
            .load(c))?
    } else {
        run_on!(conn, |c| r::table
            .filter(r::broadcast_id.eq(&bc.id))
            .select((r::user_id, r::read_at))
            .load(c))?
    };
    let after_reminder = answered
        .iter()
        .filter(|(user, at)| first.get(user).is_some_and(|reminded| at >= reminded))
        .count();
    Ok(ReminderFigures {
        rounds: rounds
            .into_iter()
            .map(|(round, automatic, at, queued)| Round {
                round,
                automatic,
                at,
                queued,
            })
            .collect(),
        delivered: delivered as usize,
        after_reminder,
    })
}

/// Whether the broadcast is recalled, read again inside the caller's transaction.
pub fn recalled(conn: &mut Conn<'_>, broadcast_id: &str) -> Result<bool, StoreError> {
    let status: Option<String> = run_on!(conn, |c| b::table
        .find(broadcast_id)
        .select(b::status)
        .first(c)
        .optional())?;
    Ok(status.is_none_or(|s| s == BroadcastStatus::Recalled.as_str()))
}
