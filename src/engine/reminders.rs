//! Broadcast reminders in the engine: the automatic reminder (`remind: 24h`) taken when due,
//! once across instances, and, at send time, reminder sends whose recipient has read (or
//! acknowledged) the broadcast since they were queued ended instead of sent.

use std::sync::Arc;
use std::time::Duration;

use super::Inner;
use crate::broadcasts::Broadcasts;
use crate::broadcasts::remind::{Reminded, Reminder, Timing};
use crate::domain::delivery::reason;
use crate::store::broadcasts::{self as store, remind as reminders};
use crate::store::deliveries::{Leased, Outcome};

/// How often the job looks for automatic reminders due.
const CHECK: Duration = Duration::from_secs(2);
/// Most broadcasts taken in one look.
const DUE_AT_ONCE: i64 = 20;

pub(super) async fn run(inner: Arc<Inner>) {
    loop {
        tokio::select! {
            _ = inner.stop.cancelled() => break,
            _ = tokio::time::sleep(CHECK) => {}
        }
        remind_due(&inner).await;
    }
}

/// Sends the automatic reminder of every broadcast due now (the ones another instance took
/// first are left to it).
async fn remind_due(inner: &Inner) {
    let now = inner.clock.now();
    let due = inner
        .db
        .run(move |conn| {
            let ids = reminders::due(conn, now, DUE_AT_ONCE)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.extend(store::get(conn, &id)?);
            }
            Ok(out)
        })
        .await;
    let due = match due {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not look for reminders due; will look again");
            return;
        }
    };
    let broadcasts = Broadcasts::new(inner.outbox.clone(), inner.clock.clone());
    for bc in due {
        let Some(from) = bc.remind_at.map(|at| at.and_utc()) else {
            continue;
        };
        let reminder = Reminder {
            automatic: true,
            requested_by: None,
            timing: Timing::Within {
                from,
                hours: inner.config.reminder_hours.clone(),
                zone: inner.config.reminder_zone,
            },
        };
        match broadcasts.remind(&bc, reminder).await {
            Ok(Reminded::Queued { count, .. }) => {
                tracing::info!(broadcast = bc.number, count, "automatic reminder queued")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(broadcast = bc.number, error = %e,
                "automatic reminder failed; will try again"),
        }
    }
}

/// The leased rows to attempt: reminder sends whose recipient read (or acknowledged) the
/// broadcast since they were queued are ended here (one query for the whole lease) with
/// [`reason::REMINDER_SETTLED`].
pub(super) async fn drop_settled(inner: &Inner, rows: Vec<Leased>) -> Vec<Leased> {
    // Only reminders are asked about: the kind of each message comes from the payload cache
    // (loaded once per message, and needed to send it anyway), so most leases ask nothing.
    let mut reminders = std::collections::HashSet::new();
    let mut seen = std::collections::HashSet::new();
    for row in &rows {
        let message = &row.delivery.message_id;
        if !seen.insert(message.as_str()) {
            continue;
        }
        let kind = match inner.payload(message).await {
            Ok(Some(p)) => p.kind,
            _ => None,
        };
        if kind == Some(crate::domain::delivery::MessageKind::BroadcastReminder) {
            reminders.insert(message.clone());
        }
    }
    if reminders.is_empty() {
        return rows;
    }
    let ids: Vec<i64> = rows
        .iter()
        .filter(|r| reminders.contains(&r.delivery.message_id))
        .map(|r| r.delivery.id)
        .collect();
    let settled = match inner
        .db
        .run(move |conn| reminders::settled(conn, &ids))
        .await
    {
        Ok(settled) if settled.is_empty() => return rows,
        Ok(settled) => settled,
        Err(e) => {
            // Sent, then: a reminder too many rather than one lost.
            tracing::warn!(error = %e, "could not tell which reminders are still wanted");
            return rows;
        }
    };
    let mut keep = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.delivery.id;
        if !settled.contains(&id) {
            keep.push(row);
            continue;
        }
        let outcome = Outcome::Failed {
            id,
            reason: reason::REMINDER_SETTLED.to_string(),
            error: "read (or acknowledged) since the reminder was queued".to_string(),
            user_gone: None,
        };
        if let Err(e) = inner.recorder.submit(outcome).await {
            // Its lease runs out and it is looked at again.
            tracing::warn!(delivery_id = id, error = %e, "could not end a settled reminder");
        }
        inner
            .held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
    keep
}
