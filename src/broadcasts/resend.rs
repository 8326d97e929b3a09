//! `broadcast resend <n>`: the card once more, now, only to those the broadcast missed:
//! recipients whose card failed (a recall aside) and who still have herald, and list members
//! who had not installed herald when it went out and have it now. Those who got it are left
//! alone; failed recipients who have since removed herald are skipped and counted. A recalled
//! broadcast is not resent.
//!
//! Failed cards go back to pending through
//! [`DeliveryStatus::resend`](crate::domain::delivery::DeliveryStatus::resend) (one more resend
//! counted); newly reached people get a card of their own in their language (the broadcast's
//! card and read card in that language are made if it had none), counted as resent once.

use chrono::{DateTime, Utc};

use super::Broadcasts;
use super::cards::broadcast_card;
use crate::domain::Lang;
use crate::domain::broadcast::{CardContent, CardState};
use crate::domain::delivery::{MessageKind, Operation};
use crate::outbox::Posting;
use crate::store::broadcasts::{self as store, Broadcast, Role};
use crate::store::deliveries::NewDelivery;
use crate::store::deliveries::resend::{self as resends, ResendCounts};
use crate::store::{Conn, StoreError, tracking};

/// What `broadcast resend` came to.
#[derive(Debug, Clone)]
pub enum Resent {
    /// Sent again (or nothing to send, when the total is 0).
    Done(ResendCounts),
    /// Recalled: its cards are not sent again.
    Recalled,
}

impl Broadcasts {
    /// Resends `bc` to those it missed (see the module).
    pub async fn resend(&self, bc: &Broadcast) -> Result<Resent, StoreError> {
        if bc.recalled() {
            return Ok(Resent::Recalled);
        }
        let (id, db) = (bc.id.clone(), self.outbox.db());
        let install = db
            .run(move |conn| resends::broadcast_installs(conn, &id))
            .await?;
        // Proactive installs call Graph: before the transaction.
        if install || self.reach.always_install {
            self.reach
                .prepare(
                    db,
                    &bc.tenant_id,
                    bc.list_id.as_deref(),
                    store::CHANNEL,
                    install,
                )
                .await?;
        }
        let (bc, now) = (bc.clone(), self.now());
        let resent = self
            .outbox
            .write(move |conn, post| resend_on(conn, post, &bc, now))
            .await?;
        // Rows back to pending are not enqueued: the dispatcher is told here.
        self.outbox.wake();
        Ok(resent)
    }
}

fn resend_on(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    bc: &Broadcast,
    now: DateTime<Utc>,
) -> Result<Resent, StoreError> {
    // Read again in the transaction: a recall may have begun since.
    match store::get(conn, &bc.id)? {
        Some(b) if !b.recalled() => {}
        _ => return Ok(Resent::Recalled),
    }
    let mut cards = store::messages(conn, &bc.id, Role::Card)?;
    let card_ids: Vec<String> = cards.iter().map(|(m, _)| m.clone()).collect();
    let failed = resends::failed_sends(conn, &card_ids)?;
    let (again, gone): (Vec<_>, Vec<_>) = failed.into_iter().partition(|f| f.reachable);
    let missed = store::not_installed(conn, &bc.id)?;
    let newly = resends::reachable_now(conn, &bc.tenant_id, store::CHANNEL, &missed, &card_ids)?;
    let mut counts = ResendCounts {
        failed_again: again.len(),
        newly_reached: newly.len(),
        unreachable: gone.len(),
        still_not_installed: missed.len() - newly.len(),
    };
    if counts.total() == 0 {
        return Ok(Resent::Done(counts));
    }
    let ids: Vec<i64> = again.iter().map(|f| f.id).collect();
    counts.failed_again = resends::requeue(conn, &ids, now, None, now)?;
    for (user_id_and_lang, message_id) in by_card(conn, post, bc, &mut cards, &newly, now)? {
        let items: Vec<NewDelivery> = user_id_and_lang
            .iter()
            .map(|user_id| NewDelivery {
                user_id: user_id.clone(),
                operation: Operation::Send,
                target_activity_id: None,
                due: now,
                planned: None,
            })
            .collect();
        post.enqueue(conn, &message_id, &bc.tenant_id, &items, now)?;
        resends::mark_resent(conn, &message_id, &user_id_and_lang)?;
    }
    let identities: Vec<String> = newly.into_iter().map(|(i, _)| i).collect();
    resends::broadcast_reached(conn, &bc.id, &identities)?;
    Ok(Resent::Done(counts))
}

/// The newly reached users grouped by the card of their language, each card made (with its
/// read card) when the broadcast had none in that language.
fn by_card(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    bc: &Broadcast,
    cards: &mut Vec<(String, Lang)>,
    newly: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<Vec<(Vec<String>, String)>, StoreError> {
    let mut groups: Vec<(Vec<String>, String)> = Vec::new();
    for (_, user_id) in newly {
        let lang = store::lang_of_user(conn, user_id)?;
        let message_id = match cards.iter().find(|(_, l)| *l == lang) {
            Some((m, _)) => m.clone(),
            None => {
                let m = add_cards(conn, post, bc, cards, lang, now)?;
                cards.push((m.clone(), lang));
                m
            }
        };
        match groups.iter_mut().find(|(_, m)| *m == message_id) {
            Some((users, _)) => users.push(user_id.clone()),
            None => groups.push((vec![user_id.clone()], message_id)),
        }
    }
    Ok(groups)
}

/// The broadcast's card and read card in `lang`, as `broadcast` makes them (links tracked as
/// in its other cards). Returns the card's message id.
fn add_cards(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    bc: &Broadcast,
    cards: &[(String, Lang)],
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let links = match cards.first() {
        Some((m, _)) => tracking::links(conn, m)?,
        None => Vec::new(),
    };
    let body = if links.is_empty() {
        bc.body.clone()
    } else {
        crate::domain::tracking::mark_links(&bc.body).0
    };
    let choices = bc.choices();
    let content = CardContent {
        broadcast_id: &bc.id,
        subject: &bc.subject,
        body: &body,
        sender: &bc.sender_name,
        ack: bc.ack,
        choices: &choices,
    };
    let mut card_id = String::new();
    for (role, kind, read) in [
        (Role::Card, MessageKind::BroadcastCard, false),
        (Role::Read, MessageKind::BroadcastRead, true),
    ] {
        let message_id = uuid::Uuid::now_v7().to_string();
        let card = broadcast_card(lang, &content, &CardState::read(read));
        post.message(conn, &message_id, &bc.tenant_id, kind, &card, now)?;
        tracking::store_links(conn, &message_id, &links)?;
        store::add_message(conn, &bc.id, &message_id, role, lang)?;
        if role == Role::Card {
            card_id = message_id;
        }
    }
    Ok(card_id)
}
