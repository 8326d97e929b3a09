//! `broadcast remind <n>` and the automatic reminder (`remind: 24h`): the card once more,
//! marked as a reminder, to the recipients whose card was delivered and who have not read it
//! (or, for `ack: yes`, not acknowledged it). Who is reminded is decided in one query; the
//! round, the reminder cards (one per language present) and one send per target are written in
//! one transaction.
//!
//! An admin's reminder goes now. The automatic one is taken once across instances (the
//! conditional mark on `broadcasts.reminded_at`, in the same transaction) and each target's
//! send is due at the first moment at or after `remind_at` inside the business hours, in the
//! recipient's zone where known, else the campaigns' default zone. Whoever reads (or
//! acknowledges) between queueing and sending is not sent the reminder: the engine ends those
//! sends (see `engine::reminders`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Broadcasts;
use super::cards::broadcast_card;
use crate::domain::Lang;
use crate::domain::broadcast::{CardContent, CardState};
use crate::domain::delivery::{MessageKind, Operation};
use crate::domain::hours::BusinessHours;
use crate::domain::localtime::zone_named;
use crate::outbox::Posting;
use crate::store::broadcasts::remind as reminders;
use crate::store::broadcasts::{self as store, Broadcast, Role};
use crate::store::deliveries::NewDelivery;
use crate::store::{Conn, StoreError, folded, localtime, tracking};

/// When the reminder's sends are due.
#[derive(Debug, Clone)]
pub enum Timing {
    /// Now (an admin asked).
    Now,
    /// At the first open moment at or after `from`, in each recipient's zone (else `zone`).
    Within {
        from: DateTime<Utc>,
        hours: BusinessHours,
        zone: Tz,
    },
}

/// A reminder to send.
#[derive(Debug, Clone)]
pub struct Reminder {
    /// The automatic reminder: taken once, across instances.
    pub automatic: bool,
    /// The admin who asked (`None` for the automatic one).
    pub requested_by: Option<String>,
    pub timing: Timing,
}

/// What a reminder came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reminded {
    /// A round recorded and this many reminders queued.
    Queued { round: i32, count: usize },
    /// Everyone it reached has read (or acknowledged) it: nobody reminded, nothing recorded.
    Nobody,
    /// Recalled: no reminder.
    Recalled,
    /// Its details are past retention: who read it is no longer known.
    PastRetention,
    /// The automatic reminder was already taken (by another instance).
    Taken,
}

impl Broadcasts {
    /// Reminds the non-readers of `bc` (see the module).
    pub async fn remind(&self, bc: &Broadcast, reminder: Reminder) -> Result<Reminded, StoreError> {
        let (id, now) = (bc.id.clone(), self.now());
        let reminded = self
            .outbox
            .write(move |conn, post| remind_on(conn, post, &id, &reminder, now))
            .await?;
        if let Reminded::Queued { count, .. } = reminded {
            tracing::info!(
                broadcast = bc.number,
                reminders = count,
                "broadcast reminder queued"
            );
        }
        Ok(reminded)
    }
}

/// [`Broadcasts::remind`] inside the caller's transaction (the bench calls it directly).
pub fn remind_on(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    broadcast_id: &str,
    reminder: &Reminder,
    now: DateTime<Utc>,
) -> Result<Reminded, StoreError> {
    if reminder.automatic && !reminders::take(conn, broadcast_id, now)? {
        return Ok(Reminded::Taken);
    }
    // Held, then read again in the transaction: a recall may have begun since, and one that
    // begins now waits for these reminders (and stops them).
    if !reminders::hold(conn, broadcast_id)? {
        return Ok(Reminded::Recalled);
    }
    let bc = match store::get(conn, broadcast_id)? {
        Some(bc) if !bc.recalled() => bc,
        _ => return Ok(Reminded::Recalled),
    };
    if folded::folded_broadcast(conn, &bc.id)?.is_some() {
        return Ok(Reminded::PastRetention);
    }
    let targets = reminders::targets(conn, &bc)?;
    if targets.is_empty() {
        return Ok(Reminded::Nobody);
    }
    let due = due_times(conn, &targets, &reminder.timing, now)?;
    let round = reminders::record_round(
        conn,
        &bc.id,
        reminder.automatic,
        reminder.requested_by.as_deref(),
        targets.len(),
        now,
    )?;
    let links = match store::cards(conn, &bc.id)?.first() {
        Some(card) => tracking::links(conn, card)?,
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
    let state = CardState {
        reminder: true,
        ..CardState::default()
    };
    for lang in [Lang::En, Lang::Fr] {
        let items: Vec<NewDelivery> = targets
            .iter()
            .zip(&due)
            .filter(|((_, l), _)| *l == lang)
            .map(|((user_id, _), due)| NewDelivery {
                user_id: user_id.clone(),
                operation: Operation::Send,
                target_activity_id: None,
                due: *due,
                planned: None,
            })
            .collect();
        if items.is_empty() {
            continue;
        }
        let message_id = uuid::Uuid::now_v7().to_string();
        let card = broadcast_card(lang, &content, &state);
        let kind = MessageKind::BroadcastReminder;
        post.message(conn, &message_id, &bc.tenant_id, kind, &card, now)?;
        tracking::store_links(conn, &message_id, &links)?;
        store::add_message(conn, &bc.id, &message_id, Role::Reminder, lang)?;
        post.enqueue(conn, &message_id, &bc.tenant_id, &items, now)?;
    }
    Ok(Reminded::Queued {
        round,
        count: targets.len(),
    })
}

/// Each target's due moment (in the order of `targets`): now, or the first open moment at or
/// after `from` in their zone (the client's, else the mailbox's, else the default). Worked out
/// once per zone.
fn due_times(
    conn: &mut Conn<'_>,
    targets: &[(String, Lang)],
    timing: &Timing,
    now: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let Timing::Within { from, hours, zone } = timing else {
        return Ok(vec![now; targets.len()]);
    };
    // Taken late (after a stop), it goes at the next open moment from now, not from then.
    let from = &(*from).max(now);
    let users: Vec<String> = targets.iter().map(|(u, _)| u.clone()).collect();
    let known = localtime::zones_of(conn, &users)?;
    let mut by_zone: HashMap<Tz, DateTime<Utc>> = HashMap::new();
    Ok(users
        .iter()
        .map(|user| {
            let tz = known
                .get(user)
                .and_then(|k| {
                    k.client
                        .as_deref()
                        .and_then(zone_named)
                        .or_else(|| k.mailbox.as_deref().and_then(zone_named))
                })
                .unwrap_or(*zone);
            // Hours that never open (none in two weeks): at `from`, rather than never.
            *by_zone
                .entry(tz)
                .or_insert_with(|| hours.next_open(tz, *from).unwrap_or(*from))
        })
        .collect())
}
