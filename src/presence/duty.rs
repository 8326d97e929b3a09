//! The presence duty held through a long round: re-claimed every half minute between Graph
//! calls, and the round stopped as soon as another instance holds it.

use chrono::{DateTime, TimeDelta, Utc};

use super::Keeper;

/// How long a claim is trusted before it is renewed mid-round (well within the lease).
const HEARTBEAT: TimeDelta = TimeDelta::seconds(30);

impl Keeper {
    pub(super) fn claimed_lock(&self) -> std::sync::MutexGuard<'_, Option<DateTime<Utc>>> {
        // A poisoned lock only means a panic elsewhere; the value is still whole.
        self.claimed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this instance still holds the duty, re-claiming it when the last claim is half
    /// a minute old; a round stops when this is false.
    pub(super) async fn heartbeat(&self) -> bool {
        let now = self.clock.now();
        let last = *self.claimed_lock();
        match last {
            Some(at) if now - at < HEARTBEAT => true,
            _ => {
                let held = self.holds_duty(now).await;
                if !held {
                    tracing::info!("the presence duty passed to another instance: round stopped");
                }
                held
            }
        }
    }
}
