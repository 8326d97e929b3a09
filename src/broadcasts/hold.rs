//! Held broadcasts: recorded now (numbered, so `broadcast info|edit|delete` find them), posted
//! only when released. [`Broadcasts::hold`] records one; [`Broadcasts::release`] posts it, the
//! one way a held broadcast goes out (the engine calls it at its `send:` time; a feature that
//! holds broadcasts for another reason, such as approval, calls it once that reason is
//! cleared). The audience is resolved at release, the cards posted exactly as
//! [`Broadcasts::send`] posts them, and the sender told how it went.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::Broadcasts;
use super::send::post_cards;
use crate::domain::delivery::MessageKind;
use crate::domain::text::escape_markdown;
use crate::outbox::Posting;
use crate::store::broadcasts::holds::{self, NewHold, Outcome};
use crate::store::broadcasts::{self as store, Broadcast, NewBroadcast};
use crate::store::deliveries::{NewDelivery, Operation};
use crate::store::{Conn, StoreError};
use crate::t;

/// How long groups Graph cannot resolve are tried again after the time (each lease's end)
/// before the broadcast is given up, its sender told.
const UNRESOLVED_PATIENCE: TimeDelta = TimeDelta::minutes(15);

/// What releasing a held broadcast came to.
#[derive(Debug, Clone)]
pub enum Released {
    /// Its cards are posted; the list members not installed.
    Sent(Box<Broadcast>, Vec<String>),
    /// Nobody of its audience installed herald: nothing posted (the sender is told).
    Nobody,
    /// Groups of its list could not be resolved for too long: nothing posted (the sender is
    /// told).
    Unresolved(Vec<String>),
    /// Not released now: cancelled or released already, not due (edited to a later time),
    /// waiting for something else, taken by another instance, or its groups not resolved yet
    /// (tried again once the lease runs out).
    NotNow,
}

impl Broadcasts {
    /// Records `new` held as `hold` says, with the tenant's next number; nothing is posted.
    pub async fn hold(&self, new: NewBroadcast, hold: NewHold) -> Result<Broadcast, StoreError> {
        let now = self.now();
        let bc = self
            .outbox
            .db()
            .run(move |conn| {
                // Like a send, the loser of a race for the tenant's next number takes the next.
                let mut tries = 0;
                loop {
                    tries += 1;
                    match conn.write_transaction(|conn| {
                        let id = holds::insert_held(conn, &new, &hold, now)?;
                        store::get(conn, &id)?
                            .ok_or(StoreError::Query(diesel::result::Error::NotFound))
                    }) {
                        Err(e) if e.is_unique_violation() && tries < 5 => continue,
                        other => return other,
                    }
                }
            })
            .await?;
        // The engine's job may be asleep until a later time: look again.
        self.outbox.wake();
        tracing::info!(broadcast = bc.number, "broadcast held");
        Ok(bc)
    }

    /// Releases the held broadcast `broadcast_id` on behalf of `owner` (an instance name): if
    /// it is releasable now and nobody else is releasing it, its audience is resolved and its
    /// cards posted, as [`Broadcasts::send`] does, in one transaction that also marks it
    /// released. `lease` bounds how long another instance waits before taking it over if
    /// this one dies meanwhile.
    pub async fn release(
        &self,
        broadcast_id: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<Released, StoreError> {
        let now = self.now();
        let until = now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::minutes(1));
        let (id, who) = (broadcast_id.to_string(), owner.to_string());
        let bc = self
            .outbox
            .db()
            .run(move |conn| {
                if !holds::take(conn, &id, &who, now, until)? {
                    return Ok(None);
                }
                store::get(conn, &id)
            })
            .await?;
        let Some(bc) = bc else {
            return Ok(Released::NotNow);
        };
        // Groups and installs are worked out before the transaction: they call Graph.
        let expanded = match self
            .reach
            .prepare(
                self.outbox.db(),
                &bc.tenant_id,
                bc.list_id.as_deref(),
                store::CHANNEL,
                bc.install,
            )
            .await
        {
            Ok(expanded) => expanded,
            Err(e) => {
                self.give_back(&bc.id, owner).await;
                return Err(e);
            }
        };
        let unresolved: Vec<String> = expanded
            .unresolved
            .iter()
            .map(|u| u.group.clone())
            .collect();
        let due = self
            .outbox
            .db()
            .run({
                let id = bc.id.clone();
                move |conn| holds::get(conn, &id)
            })
            .await?
            .and_then(|h| h.send_at)
            .map(|t| t.and_utc());
        if !unresolved.is_empty() && due.is_some_and(|due| now - due < UNRESOLVED_PATIENCE) {
            // Left taken: tried again once the lease runs out.
            tracing::warn!(broadcast = bc.number, groups = ?unresolved,
                "groups of a scheduled broadcast not resolved; will try again");
            return Ok(Released::NotNow);
        }
        let (who, id, track) = (owner.to_string(), bc.id.clone(), self.track_links);
        let released = self
            .outbox
            .write(move |conn, post| {
                // The hold's row first: an edit that came before is read below, a later one
                // is refused.
                if !holds::mark_released(conn, &id, &who, now)? {
                    return Ok(Released::NotNow);
                }
                let bc = store::get(conn, &id)?.ok_or(StoreError::Query(diesel::NotFound))?;
                if !unresolved.is_empty() {
                    holds::set_outcome(conn, &id, Outcome::Unresolved)?;
                    notify(conn, post, &bc, &Notice::Unresolved(&unresolved), now)?;
                    return Ok(Released::Unresolved(unresolved));
                }
                let audience = store::audience(
                    conn,
                    &bc.tenant_id,
                    bc.list_id.as_deref(),
                    &expanded.identities,
                )?;
                if audience.recipients.is_empty() {
                    holds::set_outcome(conn, &id, Outcome::Nobody)?;
                    notify(conn, post, &bc, &Notice::Nobody, now)?;
                    return Ok(Released::Nobody);
                }
                holds::record_release(conn, &bc, &audience, now)?;
                let mut content = content_of(&bc);
                let card_body = super::send::card_body(track, &mut content);
                post_cards(
                    conn, post, &id, &content, &card_body, now, &expanded, &audience,
                )?;
                let bc = store::get(conn, &id)?.ok_or(StoreError::Query(diesel::NotFound))?;
                notify(conn, post, &bc, &Notice::Sent, now)?;
                Ok(Released::Sent(Box::new(bc), audience.not_installed))
            })
            .await;
        match &released {
            Ok(Released::Sent(bc, _)) => tracing::info!(
                broadcast = bc.number,
                recipients = bc.targeted,
                "held broadcast released"
            ),
            // Edited to a later time (or cancelled) since it was taken.
            Ok(Released::NotNow) => self.give_back(broadcast_id, owner).await,
            Ok(_) => {}
            Err(_) => self.give_back(broadcast_id, owner).await,
        }
        released
    }

    async fn give_back(&self, broadcast_id: &str, owner: &str) {
        let (id, owner) = (broadcast_id.to_string(), owner.to_string());
        if let Err(e) = self
            .outbox
            .db()
            .run(move |conn| holds::give_back(conn, &id, &owner))
            .await
        {
            // Its lease runs out instead.
            tracing::warn!(error = %e, "could not give back a held broadcast");
        }
    }
}

/// A held broadcast's content, as [`post_cards`] takes it.
fn content_of(bc: &Broadcast) -> NewBroadcast {
    NewBroadcast {
        tenant_id: bc.tenant_id.clone(),
        subject: bc.subject.clone(),
        body: bc.body.clone(),
        list_id: bc.list_id.clone(),
        audience: bc.audience.clone(),
        sender_id: bc.sender_id.clone(),
        sender_name: bc.sender_name.clone(),
        links: Vec::new(),
        install: bc.install,
        remind_after: bc
            .remind_after_minutes
            .and_then(|m| crate::domain::duration::WindowLength::from_minutes(m as i64)),
        ack: bc.ack,
        choices: bc.choices(),
    }
}

/// What the sender is told once their held broadcast went (or could not).
enum Notice<'a> {
    Sent,
    Nobody,
    Unresolved(&'a [String]),
}

/// Posts the sender a notice, in their language, inside the releasing transaction.
fn notify(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    bc: &Broadcast,
    notice: &Notice<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let lang = store::lang_of_user(conn, &bc.sender_id)?;
    let subject = format!("**{}**", escape_markdown(&bc.subject));
    let text = match notice {
        Notice::Sent => t!(
            lang,
            "schedule-went",
            number = bc.number,
            subject = subject,
            count = bc.targeted,
        ),
        Notice::Nobody => t!(
            lang,
            "schedule-went-nobody",
            number = bc.number,
            subject = subject,
            audience = escape_markdown(&bc.audience),
        ),
        Notice::Unresolved(groups) => t!(
            lang,
            "schedule-went-unresolved",
            number = bc.number,
            subject = subject,
            groups = groups
                .iter()
                .map(|g| escape_markdown(g))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    };
    let payload = serde_json::json!({"type": "message", "textFormat": "markdown", "text": text});
    let message_id = uuid::Uuid::now_v7().to_string();
    post.message(
        conn,
        &message_id,
        &bc.tenant_id,
        MessageKind::Notice,
        &payload,
        now,
    )?;
    let to = NewDelivery {
        user_id: bc.sender_id.clone(),
        operation: Operation::Send,
        target_activity_id: None,
        due: now,
        planned: None,
    };
    post.enqueue(conn, &message_id, &bc.tenant_id, &[to], now)?;
    Ok(())
}
