//! Scheduled broadcasts in the engine: each held broadcast is released at its time, once
//! across instances ([`Broadcasts::release`] takes it with a lease on its row). The job sleeps
//! until the earliest time it knows of, and looks again every second for holds made, edited or
//! given back elsewhere; a hold whose time passed while herald was down goes at start-up.

use std::sync::Arc;
use std::time::Duration;

use super::Inner;
use crate::broadcasts::Broadcasts;
use crate::broadcasts::hold::Released;
use crate::store::broadcasts::holds;

/// How often the job looks for holds, whatever it sleeps until.
const LOOK: Duration = Duration::from_secs(1);
/// Most holds released in one look.
const DUE_AT_ONCE: i64 = 20;
/// How long a release holds its broadcast before another instance may take it over.
const LEASE: Duration = Duration::from_secs(300);

pub(super) async fn run(inner: Arc<Inner>) {
    let broadcasts = Broadcasts::new(inner.outbox.clone(), inner.clock.clone())
        .tracking_links(inner.config.tracker.as_ref().is_some_and(|t| t.enabled()))
        .reaching(inner.config.reach.clone());
    loop {
        let next = release_due(&inner, &broadcasts).await;
        let sleep = match next {
            Some(t) => inner.clock.sleep_until(t),
            None => Box::pin(std::future::pending()),
        };
        tokio::select! {
            _ = inner.stop.cancelled() => break,
            _ = sleep => {}
            _ = tokio::time::sleep(LOOK) => {}
        }
    }
}

/// Releases every hold due now; returns the time of the next one (if any is known).
async fn release_due(
    inner: &Inner,
    broadcasts: &Broadcasts,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let now = inner.clock.now();
    let due = match inner
        .db
        .run(move |conn| holds::due(conn, now, DUE_AT_ONCE))
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not look for scheduled broadcasts; will look again");
            return None;
        }
    };
    for id in due {
        match broadcasts.release(&id, &inner.config.instance, LEASE).await {
            Ok(Released::Sent(..)) => {}
            Ok(Released::Nobody) => {
                tracing::info!(broadcast_id = %id, "scheduled broadcast had nobody to go to")
            }
            Ok(Released::Unresolved(groups)) => {
                tracing::warn!(broadcast_id = %id, ?groups, "scheduled broadcast given up: groups not resolved")
            }
            Ok(Released::NotNow) => {}
            Err(e) => tracing::warn!(broadcast_id = %id, error = %e,
                "scheduled broadcast not released; will try again"),
        }
    }
    let now = inner.clock.now();
    match inner.db.run(move |conn| holds::next_due(conn, now)).await {
        Ok(next) => next.map(|t| t.and_utc()),
        Err(e) => {
            tracing::warn!(error = %e, "could not look for the next scheduled broadcast");
            None
        }
    }
}
