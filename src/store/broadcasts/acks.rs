//! Acknowledgements (`ack: yes`): who pressed **I have read and understood**, and when. Pressing
//! it, or answering a poll ([`super::answers`]), is also a read; the card that shows it is the
//! invoke's answer, so no card update is queued here.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::super::deliveries::Operation;
use super::super::schema::{
    broadcast_acks as a, broadcast_answers as ans, broadcast_messages as bm, broadcast_reads as r,
    broadcasts as b, deliveries as d,
};
use super::super::{Conn, StoreError};
use super::{Broadcast, ReadSource, Role, cards};
use crate::domain::delivery::{DeliveryStatus, reason};
use crate::run_on;
use crate::store::sql::PendingStatus;

/// Where one recipient stands with a broadcast's actions: what their card shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub acked_at: Option<NaiveDateTime>,
    /// Their latest answer to the poll (an index of the choices).
    pub chosen: Option<usize>,
}

/// What pressing a card's action (acknowledge, or a poll's choice) came to.
#[derive(Debug, Clone)]
pub enum Pressed {
    /// Recorded (or already was): the broadcast and where the person now stands.
    Done(Box<Broadcast>, Standing),
    /// This user never got this broadcast (or it does not exist).
    NotARecipient,
    /// The broadcast was recalled.
    Recalled,
    /// The broadcast does not ask for this (no `ack: yes`, or no poll).
    NotAsked,
    /// No choice of that number: the poll has this many.
    NoSuchChoice(usize),
}

/// Where `user_id` stands with the broadcast they pressed an action of, read in one query:
/// the broadcast (its card reached them), their acknowledgement, answer and read.
pub(super) struct Pressing {
    pub bc: Broadcast,
    pub standing: Standing,
    /// How their read was recorded, if it was.
    pub read: Option<String>,
}

/// The broadcast `user_id` may act on with where they stand, or why not. One query.
pub(super) fn pressing(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
) -> Result<Result<Pressing, Pressed>, StoreError> {
    type Row = (
        Broadcast,
        Option<NaiveDateTime>,
        Option<i32>,
        Option<String>,
    );
    // Owned: the join conditions carry their values.
    let (user, id) = (user_id.to_string(), broadcast_id.to_string());
    let found: Option<Row> = run_on!(conn, |c| b::table
        .inner_join(
            bm::table.on(bm::broadcast_id
                .eq(b::id)
                .and(bm::role.eq(Role::Card.as_str()))),
        )
        .inner_join(
            d::table.on(d::message_id
                .eq(bm::message_id)
                .and(d::user_id.eq(user.clone()))
                .and(d::operation.eq(Operation::Send.as_str()))
                .and(d::status.eq(DeliveryStatus::Delivered.as_str()))),
        )
        .left_join(a::table.on(a::broadcast_id.eq(b::id).and(a::user_id.eq(user.clone()))))
        .left_join(
            ans::table.on(ans::broadcast_id
                .eq(b::id)
                .and(ans::user_id.eq(user.clone())))
        )
        .left_join(r::table.on(r::broadcast_id.eq(b::id).and(r::user_id.eq(user.clone()))))
        .filter(b::id.eq(id.clone()))
        .select((
            Broadcast::as_select(),
            a::acked_at.nullable(),
            ans::choice.nullable(),
            r::source.nullable(),
        ))
        .first(c)
        .optional())?;
    let Some((bc, acked_at, chosen, read)) = found else {
        return Ok(Err(Pressed::NotARecipient));
    };
    if bc.recalled() {
        return Ok(Err(Pressed::Recalled));
    }
    Ok(Ok(Pressing {
        bc,
        standing: Standing {
            acked_at,
            chosen: chosen.and_then(|i| usize::try_from(i).ok()),
        },
        read,
    }))
}

/// Records a read by `user_id` unless there is one (`read`: how theirs was recorded): acting
/// on the card means it was read. No card update is queued (the invoke's answer replaces the
/// card), so a later read receipt finds it read and changes nothing; and a read-card update
/// that an earlier read queued and that is still waiting is stopped, as it would bring back
/// the buttons the answer just replaced.
pub(super) fn read_by_action(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
    read: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match read {
        None => {
            run_on!(conn, |c| diesel::insert_into(r::table)
                .values((
                    r::broadcast_id.eq(broadcast_id),
                    r::user_id.eq(user_id),
                    r::read_at.eq(now.naive_utc()),
                    r::source.eq(ReadSource::Action.as_str()),
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
            return Ok(());
        }
        // Read by an action: it queued no update.
        Some(source) if source == ReadSource::Action.as_str() => return Ok(()),
        Some(_) => {}
    }
    let read_cards = bm::table
        .filter(bm::broadcast_id.eq(broadcast_id))
        .filter(bm::role.eq(Role::Read.as_str()))
        .select(bm::message_id);
    let now = now.naive_utc();
    run_on!(conn, |c| diesel::update(
        d::table
            .filter(d::message_id.eq_any(read_cards))
            .filter(d::user_id.eq(user_id))
            .filter(d::operation.eq(Operation::Update.as_str()))
            .filter(d::status.eq(PendingStatus))
            .filter(d::leased_by.is_null().or(d::lease_expires_at.lt(now)))
    )
    .set((
        d::status.eq(DeliveryStatus::Failed.as_str()),
        d::failure.eq(reason::SUPERSEDED),
        d::completed_at.eq(now),
        d::updated_at.eq(now),
        d::leased_by.eq(None::<String>),
        d::lease_expires_at.eq(None::<NaiveDateTime>),
    ))
    .execute(c))?;
    Ok(())
}

/// Whether a read recorded as `read` came from an action on the card (acknowledging,
/// answering): then an action has nothing more to record or stop for the read.
pub(super) fn action_read(read: Option<&str>) -> bool {
    read == Some(ReadSource::Action.as_str())
}

/// The recipients the broadcast's card reached (delivered sends).
pub(super) fn reached(conn: &mut Conn<'_>, broadcast_id: &str) -> Result<Vec<String>, StoreError> {
    let cards = cards(conn, broadcast_id)?;
    Ok(run_on!(conn, |c| d::table
        .filter(d::message_id.eq_any(&cards))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .select(d::user_id)
        .distinct()
        .load(c))?)
}

/// How acknowledgements stand, for `broadcast info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckSummary {
    pub acked: usize,
    pub reached: usize,
    /// Reached and not acknowledged: how many, and the first of them by name.
    pub pending_total: usize,
    pub pending: Vec<String>,
}

/// Who acknowledged the broadcast, of those it reached, and the first `limit` who have not.
pub fn ack_summary(
    conn: &mut Conn<'_>,
    bc: &Broadcast,
    limit: usize,
) -> Result<AckSummary, StoreError> {
    let reached = reached(conn, &bc.id)?;
    let acked: HashSet<String> = acked_at_by_user(conn, &bc.id)?.into_keys().collect();
    let pending: Vec<&String> = reached.iter().filter(|id| !acked.contains(*id)).collect();
    let shown: Vec<String> = pending.iter().take(limit).map(|id| (*id).clone()).collect();
    let names = super::counts::named(conn, &shown)?;
    Ok(AckSummary {
        acked: reached.iter().filter(|id| acked.contains(*id)).count(),
        reached: reached.len(),
        pending_total: pending.len(),
        pending: names,
    })
}

/// When each recipient acknowledged the broadcast (UTC), by user id: the report's column.
pub fn acked_at_by_user(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
) -> Result<HashMap<String, NaiveDateTime>, StoreError> {
    acked_at_among(conn, broadcast_id, None)
}

/// [`acked_at_by_user`] for the people `users` only (everyone for `None`).
pub fn acked_at_among(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    users: Option<&[String]>,
) -> Result<HashMap<String, NaiveDateTime>, StoreError> {
    let rows: Vec<(String, NaiveDateTime)> = run_on!(conn, |c| {
        let mut q = a::table
            .filter(a::broadcast_id.eq(broadcast_id))
            .select((a::user_id, a::acked_at))
            .into_boxed();
        if let Some(users) = users {
            q = q.filter(a::user_id.eq_any(users));
        }
        q.load(c)
    })?;
    Ok(rows.into_iter().collect())
}
