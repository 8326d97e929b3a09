//! Reply threads: a recipient's replies to a broadcast's sender and the sender's answers, one
//! thread per recipient and broadcast. Recorded here; relayed by `crate::broadcasts`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::super::deliveries::Operation;
use super::super::schema::{
    broadcast_messages as bm, deliveries as d, relay_messages as rm, relay_threads as th,
    users as u,
};
use super::super::users::{self, ConversationRef};
use super::super::{Conn, StoreError};
use super::{Broadcast, Role};
use crate::domain::delivery::DeliveryStatus;
use crate::run_on;
use crate::store::sql::PendingStatus;

/// The two directions of a reply thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Recipient → sender.
    Reply,
    /// Sender → recipient.
    Answer,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Reply => "reply",
            Direction::Answer => "answer",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = th)]
pub struct Thread {
    pub id: String,
    pub broadcast_id: String,
    pub recipient_id: String,
    pub sender_id: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn thread(conn: &mut Conn<'_>, id: &str) -> Result<Option<Thread>, StoreError> {
    Ok(run_on!(conn, |c| th::table
        .find(id)
        .select(Thread::as_select())
        .first(c)
        .optional())?)
}

/// The thread between a recipient and the broadcast's sender, opened on the first reply.
pub fn open_thread(
    conn: &mut Conn<'_>,
    bc: &Broadcast,
    recipient_id: &str,
    now: DateTime<Utc>,
) -> Result<Thread, StoreError> {
    conn.write_transaction(|conn| {
        let id = uuid::Uuid::now_v7().to_string();
        run_on!(conn, |c| diesel::insert_into(th::table)
            .values((
                th::id.eq(&id),
                th::broadcast_id.eq(&bc.id),
                th::recipient_id.eq(recipient_id),
                th::sender_id.eq(&bc.sender_id),
                th::created_at.eq(now.naive_utc()),
                th::updated_at.eq(now.naive_utc()),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(run_on!(conn, |c| th::table
            .filter(th::broadcast_id.eq(&bc.id))
            .filter(th::recipient_id.eq(recipient_id))
            .select(Thread::as_select())
            .first(c))?)
    })
}

impl Thread {
    /// Who a message of the thread going `dir` is for.
    pub fn to(&self, dir: Direction) -> &str {
        match dir {
            Direction::Reply => &self.sender_id,
            Direction::Answer => &self.recipient_id,
        }
    }
}

/// Records one message of a thread, relayed as the outbound message `message_id`.
pub fn record_relay(
    conn: &mut Conn<'_>,
    thread: &Thread,
    dir: Direction,
    text: &str,
    message_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.write_transaction(|conn| {
        run_on!(conn, |c| diesel::insert_into(rm::table)
            .values((
                rm::thread_id.eq(&thread.id),
                rm::direction.eq(dir.as_str()),
                rm::text.eq(text),
                rm::message_id.eq(message_id),
                rm::created_at.eq(now.naive_utc()),
            ))
            .execute(c))?;
        run_on!(conn, |c| diesel::update(th::table.find(&thread.id))
            .set(th::updated_at.eq(now.naive_utc()))
            .execute(c))?;
        Ok(())
    })
}

/// What a recipient's plain message may answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyFacts {
    /// The broadcast it answers: the one whose card (or relayed answer) it replies to, else
    /// the latest they received or were answered about since the window's start.
    pub target: Option<String>,
    /// Whether a delivery to them is still on its way: once it arrives, a card may give the
    /// person something to answer. Looked up with the latest card (false when the message
    /// quotes a card or answer, which settles the target).
    pub awaiting: bool,
}

/// What the plain message of the user known by `key` answers, counting cards and threads since
/// `since`; in one statement, the user looked up in it (it is asked for ordinary chat, the most
/// common message there is). Nothing for someone not stored.
pub fn reply_facts(
    conn: &mut Conn<'_>,
    key: &ConversationRef,
    reply_to_id: Option<&str>,
    since: DateTime<Utc>,
) -> Result<ReplyFacts, StoreError> {
    let me = || {
        u::table
            .filter(users::by_key(key))
            .select(u::id)
            .single_value()
    };
    if let Some(reply_to) = reply_to_id.filter(|r| !r.is_empty()) {
        let card: Option<String> = run_on!(conn, |c| d::table
            .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
            .filter(d::user_id.nullable().eq(me()))
            .filter(d::activity_id.eq(reply_to))
            .select(bm::broadcast_id)
            .first(c)
            .optional())?;
        let answered = match card {
            Some(card) => Some(card),
            None => run_on!(conn, |c| d::table
                .inner_join(rm::table.on(rm::message_id.eq(d::message_id)))
                .inner_join(th::table.on(th::id.eq(rm::thread_id)))
                .filter(d::user_id.nullable().eq(me()))
                .filter(d::activity_id.eq(reply_to))
                .filter(th::recipient_id.eq(d::user_id))
                .select(th::broadcast_id)
                .first(c)
                .optional())?,
        };
        if answered.is_some() {
            return Ok(ReplyFacts {
                target: answered,
                awaiting: false,
            });
        }
    }
    let since = since.naive_utc();
    let cards = || {
        d::table
            .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
            .filter(d::user_id.nullable().eq(me()))
            .filter(d::operation.eq(Operation::Send.as_str()))
            .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
            // A reminder brings its broadcast back to the top, like its card did. (Two
            // comparisons rather than `IN`, so the statement stays prepared on SQLite too.)
            .filter(
                bm::role
                    .eq(Role::Card.as_str())
                    .or(bm::role.eq(Role::Reminder.as_str())),
            )
            .filter(d::completed_at.ge(since))
            .order(d::completed_at.desc())
    };
    let threads = || {
        th::table
            .filter(th::recipient_id.nullable().eq(me()))
            .filter(th::updated_at.ge(since))
            .order(th::updated_at.desc())
    };
    let pending = d::table
        .filter(d::user_id.nullable().eq(me()))
        .filter(d::status.eq(PendingStatus));
    type Found = (
        Option<String>,
        Option<NaiveDateTime>,
        Option<String>,
        Option<NaiveDateTime>,
        bool,
    );
    let (card, card_at, thread, thread_at, awaiting): Found = run_on!(conn, |c| diesel::select((
        cards().select(bm::broadcast_id).single_value(),
        cards().select(d::completed_at).single_value(),
        threads().select(th::broadcast_id).single_value(),
        threads().select(th::updated_at).single_value(),
        diesel::dsl::exists(pending),
    ))
    .get_result(c))?;
    let target = match (card, thread) {
        (Some(card), Some(thread)) => match (card_at, thread_at) {
            (Some(at), Some(t_at)) if at >= t_at => Some(card),
            _ => Some(thread),
        },
        (card, thread) => card.or(thread),
    };
    Ok(ReplyFacts { target, awaiting })
}
