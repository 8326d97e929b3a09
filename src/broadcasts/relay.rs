//! The reply relay: a recipient's reply goes to the broadcast's sender as a card with a box to
//! answer; the sender's answer comes back to the recipient the same way. Each message is
//! recorded in the thread and posted through the outbox in one transaction.

use chrono::{DateTime, Utc};

use super::cards::{self, RelayedAnswer, RelayedReply};
use super::{Broadcasts, name_of};
use crate::domain::Lang;
use crate::domain::broadcast as domain;
use crate::domain::delivery::MessageKind;
use crate::domain::ids::BroadcastId;
use crate::domain::problem::Problem;
use crate::domain::text::escape_markdown;
use crate::outbox::Posting;
use crate::store::broadcasts::{self as store, Direction, Thread};
use crate::store::deliveries::{NewDelivery, Operation};
use crate::store::users::{self, User};
use crate::store::{Conn, StoreError};

/// How long after a broadcast a plain message from a recipient is taken as a reply to it.
const REPLY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// What relaying a reply or an answer came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relayed {
    /// Passed on to `to` (their name); about the broadcast `subject`.
    Passed { to: String, subject: String },
    /// The text cannot be relayed as it is.
    Refused(Problem),
    /// The broadcast (or thread) was not sent to this user, or no longer exists.
    NotYours,
}

fn lang_of(u: &User) -> Lang {
    Lang::from_locale(u.locale.as_deref())
}

impl Broadcasts {
    /// The broadcast the plain message of the user known by `key` answers, with who wrote it
    /// (the stored user), in one visit to the database (ordinary chat answering nothing: one
    /// statement); also whether that can change without anything being enqueued: not while a
    /// delivery to them is on its way (its card may arrive), nor when their message replies
    /// to a given card (older cards count there).
    pub async fn reply_target_of(
        &self,
        key: users::ConversationRef,
        reply_to: Option<String>,
    ) -> Result<(Option<(User, BroadcastId)>, bool), StoreError> {
        let since: DateTime<Utc> = self.now() - REPLY_WINDOW;
        let quoting = reply_to.as_deref().is_some_and(|r| !r.is_empty());
        self.outbox
            .db()
            .run(move |conn| {
                let facts = store::reply_facts(conn, &key, reply_to.as_deref(), since)?;
                let settled = !quoting && facts.target.is_none() && !facts.awaiting;
                let Some(target) = facts.target else {
                    return Ok((None, settled));
                };
                // Deleted in between: then it answers nothing.
                let user = users::find(conn, &key)?;
                Ok((user.map(|u| (u, BroadcastId::new(target))), settled))
            })
            .await
    }

    /// Relays `replier`'s reply to the broadcast's sender.
    pub async fn relay_reply(
        &self,
        replier: &User,
        broadcast_id: &BroadcastId,
        text: &str,
    ) -> Result<Relayed, StoreError> {
        if let Err(problem) = domain::check_reply(text) {
            return Ok(Relayed::Refused(problem));
        }
        let (id, replier_id, now) = (broadcast_id.clone(), replier.id.clone(), self.now());
        let replier_name = name_of(replier);
        let body = text.to_string();
        self.outbox
            .write(move |conn, post| {
                let Some(bc) = store::get(conn, id.as_str())? else {
                    return Ok(Relayed::NotYours);
                };
                // Only someone the broadcast was sent to replies to it.
                if !store::was_sent_to(conn, &bc, &replier_id)? {
                    return Ok(Relayed::NotYours);
                }
                let Some(sender) = users::get(conn, &bc.sender_id)? else {
                    return Ok(Relayed::NotYours);
                };
                let thread = store::open_thread(conn, &bc, &replier_id, now)?;
                let payload = cards::reply_card(
                    lang_of(&sender),
                    &RelayedReply {
                        thread_id: &thread.id,
                        replier: &escape_markdown(&replier_name),
                        number: bc.number,
                        subject: &bc.subject,
                        text: &body,
                    },
                );
                let relay = Relay {
                    thread: &thread,
                    dir: Direction::Reply,
                    text: &body,
                };
                relay.post(conn, post, &bc.tenant_id, &payload, now)?;
                Ok(Relayed::Passed {
                    to: name_of(&sender),
                    subject: bc.subject,
                })
            })
            .await
    }

    /// Relays the sender's answer on `thread_id` back to the recipient.
    pub async fn relay_answer(
        &self,
        sender: &User,
        thread_id: &str,
        text: &str,
    ) -> Result<Relayed, StoreError> {
        if let Err(problem) = domain::check_reply(text) {
            return Ok(Relayed::Refused(problem));
        }
        let (id, now) = (thread_id.to_string(), self.now());
        let (sender_id, sender_name) = (sender.id.clone(), name_of(sender));
        let body = text.to_string();
        self.outbox
            .write(move |conn, post| {
                let Some(thread) = store::thread(conn, &id)? else {
                    return Ok(Relayed::NotYours);
                };
                let bc = store::get(conn, &thread.broadcast_id)?;
                let recipient = users::get(conn, &thread.recipient_id)?;
                let (Some(bc), Some(recipient)) = (bc, recipient) else {
                    return Ok(Relayed::NotYours);
                };
                if thread.sender_id != sender_id {
                    return Ok(Relayed::NotYours);
                }
                let payload = cards::answer_card(
                    lang_of(&recipient),
                    &RelayedAnswer {
                        broadcast_id: &bc.id,
                        sender: &escape_markdown(&sender_name),
                        subject: &bc.subject,
                        text: &body,
                    },
                );
                let relay = Relay {
                    thread: &thread,
                    dir: Direction::Answer,
                    text: &body,
                };
                relay.post(conn, post, &bc.tenant_id, &payload, now)?;
                Ok(Relayed::Passed {
                    to: name_of(&recipient),
                    subject: bc.subject,
                })
            })
            .await
    }
}

/// One message of a thread, on its way.
struct Relay<'a> {
    thread: &'a Thread,
    dir: Direction,
    text: &'a str,
}

impl Relay<'_> {
    /// Posts `payload` to the other side of the thread and records it there.
    fn post(
        &self,
        conn: &mut Conn<'_>,
        post: &mut Posting,
        tenant_id: &str,
        payload: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let message_id = uuid::Uuid::now_v7().to_string();
        post.message(
            conn,
            &message_id,
            tenant_id,
            MessageKind::Relay,
            payload,
            now,
        )?;
        let item = NewDelivery {
            user_id: self.thread.to(self.dir).to_string(),
            operation: Operation::Send,
            target_activity_id: None,
            due: now,
            planned: None,
        };
        post.enqueue(conn, &message_id, tenant_id, &[item], now)?;
        store::record_relay(conn, self.thread, self.dir, self.text, &message_id, now)
    }
}
