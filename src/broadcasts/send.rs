//! `broadcast <list|all>`: the audience is resolved, the card rendered once per language (and
//! once more as it shows when read), and one card per installed recipient posted, due now, in
//! the same transaction that records the broadcast.

use chrono::{DateTime, Utc};

use super::Broadcasts;
use super::cards::broadcast_card;
use crate::audience::Expanded;
use crate::domain::Lang;
use crate::domain::broadcast::{CardContent, CardState};
use crate::domain::delivery::MessageKind;
use crate::outbox::{Outbox, Posting};
use crate::store::broadcasts::{self as store, Broadcast, NewBroadcast, Role};
use crate::store::deliveries::{NewDelivery, Operation};
use crate::store::{Conn, StoreError, tracking};

/// What sending a broadcast came to.
#[derive(Debug, Clone)]
pub enum Sent {
    /// Recorded, a card due now for each recipient; the list members not installed.
    Sent(Box<Broadcast>, Vec<String>),
    /// Nobody installed to send to: nothing recorded. The list members not installed.
    Nobody(Vec<String>),
    /// Groups of the list Graph could not resolve: nothing recorded, nothing sent.
    Unresolved(Vec<crate::audience::groups::Unresolved>),
}

impl Broadcasts {
    /// Sends `new` now to its audience (its links tracked when tracking is on).
    pub async fn send(&self, mut new: NewBroadcast) -> Result<Sent, StoreError> {
        let card_body = self.card_body(&mut new);
        // Groups and installs are worked out before the transaction: they call Graph.
        let expanded = self
            .reach
            .prepare(
                self.outbox.db(),
                &new.tenant_id,
                new.list_id.as_deref(),
                store::CHANNEL,
                new.install,
            )
            .await?;
        if !expanded.unresolved.is_empty() {
            return Ok(Sent::Unresolved(expanded.unresolved));
        }
        let (outbox, now) = (self.outbox.clone(), self.now());
        let sent = self
            .outbox
            .db()
            .run(move |conn| send_on(&outbox, conn, &new, &card_body, now, &expanded))
            .await?;
        if let Sent::Sent(bc, _) = &sent {
            tracing::info!(
                broadcast = bc.number,
                recipients = bc.targeted,
                "broadcast sent"
            );
        }
        Ok(sent)
    }
}

impl Broadcasts {
    /// The body as the card shows it (see [`card_body`]).
    fn card_body(&self, new: &mut NewBroadcast) -> String {
        card_body(self.track_links, new)
    }
}

/// The body as the card shows it: its links marked for tracking (and recorded in `new.links`)
/// when `track` is on, as written otherwise.
pub(super) fn card_body(track: bool, new: &mut NewBroadcast) -> String {
    if track {
        let (marked, links) = crate::domain::tracking::mark_links(&new.body);
        new.links = links;
        marked
    } else {
        new.links = Vec::new();
        new.body.clone()
    }
}

/// [`Broadcasts::send`] on a connection the caller holds; the card shows `card_body`.
pub fn send_on(
    outbox: &Outbox,
    conn: &mut Conn<'_>,
    new: &NewBroadcast,
    card_body: &str,
    now: DateTime<Utc>,
    expanded: &Expanded,
) -> Result<Sent, StoreError> {
    // Two admins of one tenant broadcasting in the same instant on PostgreSQL may collide on
    // the unique number: the loser simply takes the next.
    let mut tries = 0;
    loop {
        tries += 1;
        match outbox.write_on(conn, |conn, post| {
            post_broadcast(conn, post, new, card_body, now, expanded)
        }) {
            Err(e) if e.is_unique_violation() && tries < 5 => continue,
            other => return other,
        }
    }
}

/// Records `new` and posts its cards inside the caller's transaction (tools and tests that
/// hold a connection use it directly; the outbox wakes the engine in [`send_on`]).
pub fn post_broadcast(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    new: &NewBroadcast,
    card_body: &str,
    now: DateTime<Utc>,
    expanded: &Expanded,
) -> Result<Sent, StoreError> {
    let audience = store::audience(
        conn,
        &new.tenant_id,
        new.list_id.as_deref(),
        &expanded.identities,
    )?;
    if audience.recipients.is_empty() {
        return Ok(Sent::Nobody(audience.not_installed));
    }
    let id = store::insert(conn, new, &audience, now)?;
    post_cards(conn, post, &id, new, card_body, now, expanded, &audience)?;
    let bc = store::get(conn, &id)?.ok_or(StoreError::Query(diesel::result::Error::NotFound))?;
    Ok(Sent::Sent(Box::new(bc), audience.not_installed))
}

/// Posts the cards of the recorded broadcast `id` to `audience`, due `now`, inside the
/// caller's transaction: one card (and its read form) per language, and the proactive
/// installs `expanded` made. The one way a broadcast's cards are posted, sent now or released.
#[allow(clippy::too_many_arguments)]
pub(super) fn post_cards(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    id: &str,
    new: &NewBroadcast,
    card_body: &str,
    now: DateTime<Utc>,
    expanded: &Expanded,
    audience: &store::Audience,
) -> Result<(), StoreError> {
    if expanded.installed > 0 || !expanded.refused.is_empty() {
        store::record_installs(conn, id, expanded.installed, &expanded.refused)?;
    }
    let content = CardContent {
        broadcast_id: id,
        subject: &new.subject,
        body: card_body,
        sender: &new.sender_name,
        ack: new.ack,
        choices: &new.choices,
    };
    for lang in [Lang::En, Lang::Fr] {
        let cards: Vec<NewDelivery> = audience
            .recipients
            .iter()
            .filter(|(_, l)| *l == lang)
            .map(|(user_id, _)| NewDelivery {
                user_id: user_id.clone(),
                operation: Operation::Send,
                target_activity_id: None,
                due: now,
                planned: None,
            })
            .collect();
        if cards.is_empty() {
            continue;
        }
        for (role, kind, read) in [
            (Role::Card, MessageKind::BroadcastCard, false),
            (Role::Read, MessageKind::BroadcastRead, true),
        ] {
            let message_id = uuid::Uuid::now_v7().to_string();
            let card = broadcast_card(lang, &content, &CardState::read(read));
            post.message(conn, &message_id, &new.tenant_id, kind, &card, now)?;
            tracking::store_links(conn, &message_id, &new.links)?;
            store::add_message(conn, id, &message_id, role, lang)?;
            if role == Role::Card {
                post.enqueue(conn, &message_id, &new.tenant_id, &cards, now)?;
            }
        }
    }
    Ok(())
}
