//! This instance's share of the tenants. Claims are made and renewed in rounds
//! (`store::dispatch`) by a task of their own, every third of the tenant lease, whatever the
//! dispatcher is busy with; a tenant is dispatched here only while the last successful round is
//! younger than the lease minus a margin, and a delivery only under the claim it was leased
//! under. An instance cut off from
//! the database therefore stops sending before anyone may take its tenants over, and after being
//! cut off it waits a whole lease before taking over anyone else's (they were probably cut off
//! too, and will renew).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use tokio::time::Instant;

use super::Inner;
use crate::store::dispatch::{self, Terms};

/// Pause before trying again when a round failed.
const RETRY: Duration = Duration::from_secs(1);
/// A tenant let go stays reserved this long: the rate window and then some.
const RELEASE_GRACE: TimeDelta = TimeDelta::seconds(2);
/// How long after a tenant let go for this instance is free it tries to take it.
const FREE_SLACK: TimeDelta = TimeDelta::milliseconds(50);

pub(super) struct Tenancy {
    ttl: Duration,
    state: Mutex<State>,
    /// Counts the rounds that changed which tenants are owned (read at every dispatcher turn).
    changes: AtomicU64,
}

/// The claim a delivery was leased under: its tenant and when the claim was acquired.
pub(super) type Epoch = NaiveDateTime;

struct State {
    owned: BTreeMap<String, Epoch>,
    /// Until when the claims of the last successful round may be relied on.
    valid_until: Option<Instant>,
    next_round: Instant,
    /// The next round on the engine's clock too (tests move it by days at a time).
    next_round_at: Option<DateTime<Utc>>,
    take_over_after: Instant,
}

impl Tenancy {
    pub(super) fn new(ttl: Duration) -> Tenancy {
        let now = Instant::now();
        Tenancy {
            ttl,
            state: Mutex::new(State {
                owned: BTreeMap::new(),
                valid_until: None,
                next_round: now,
                next_round_at: None,
                // A new instance may be starting as the database comes back: the others get a
                // whole lease to renew their claims first.
                take_over_after: now + ttl,
            }),
            changes: AtomicU64::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the state is still whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long before a claim runs out this instance stops relying on it: more than the
    /// tenant's one-second rate window (the next owner starts on a fresh second), with room for
    /// clocks a little apart and a send already on its way.
    fn margin(&self) -> Duration {
        (self.ttl / 4).clamp(Duration::from_millis(1500), Duration::from_secs(2))
    }

    /// The tenants this instance may dispatch now, with their claims.
    pub(super) fn owned(&self) -> BTreeMap<String, Epoch> {
        let s = self.state();
        match s.valid_until {
            Some(t) if Instant::now() < t => s.owned.clone(),
            _ => BTreeMap::new(),
        }
    }

    /// Changes with every round that gained or lost a tenant: rows queued for a tenant lost
    /// are then given back at once.
    pub(super) fn changes(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// Whether a delivery leased under `epoch` may be sent now: the claim is still the same
    /// and still fresh.
    pub(super) fn owns(&self, tenant: &str, epoch: Epoch) -> bool {
        let s = self.state();
        s.valid_until.is_some_and(|t| Instant::now() < t) && s.owned.get(tenant) == Some(&epoch)
    }
}

/// Claims and renews this instance's tenants until the engine stops.
pub(super) async fn run(inner: Arc<Inner>) {
    loop {
        if inner.stop.is_cancelled() {
            break;
        }
        if round(&inner).await {
            inner.signals.dispatcher.notify_one();
        }
        let (next, next_at) = {
            let s = inner.tenancy.state();
            (s.next_round, s.next_round_at)
        };
        let on_clock = match next_at {
            Some(t) => inner.clock.sleep_until(t),
            None => Box::pin(std::future::pending()),
        };
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = on_clock => {}
            _ = inner.signals.tenancy.notified() => {}
            _ = inner.stop.cancelled() => break,
        }
    }
}

/// One round: renew, let go, claim. Returns whether tenants were gained.
async fn round(inner: &Inner) -> bool {
    let tenancy = &inner.tenancy;
    let started = Instant::now();
    let now = inner.clock.now();
    let ttl = TimeDelta::from_std(tenancy.ttl).unwrap_or(TimeDelta::seconds(10));
    let terms = Terms {
        ttl,
        horizon: ttl,
        release_grace: RELEASE_GRACE,
        take_over: started >= tenancy.state().take_over_after,
    };
    let owner = inner.config.instance.clone();
    let result = inner
        .db
        .run(move |conn| dispatch::claim(conn, &owner, now, &terms))
        .await;
    let mut s = tenancy.state();
    match result {
        Ok(round) => {
            let gained = round.owned.keys().any(|t| !s.owned.contains_key(t));
            for t in &round.taken_over {
                inner.metrics.tenant_takeovers.inc();
                tracing::warn!(tenant = %t.tenant_id, from = %t.from, released = t.released,
                    "took over a tenant whose dispatcher stopped renewing its claim");
            }
            for t in round.owned.keys().filter(|t| !s.owned.contains_key(*t)) {
                tracing::info!(tenant = %t, "dispatching this tenant");
            }
            for t in &round.handed_over {
                tracing::info!(tenant = %t, "handing this tenant over to an instance with fewer");
            }
            for t in s.owned.keys().filter(|t| !round.owned.contains_key(*t)) {
                tracing::info!(tenant = %t, "no longer dispatching this tenant");
            }
            let changed = s.owned != round.owned;
            inner.metrics.owned_tenants.set(round.owned.len() as i64);
            s.owned = round.owned;
            if changed {
                tenancy.changes.fetch_add(1, Ordering::SeqCst);
            }
            s.valid_until = Some(started + tenancy.ttl.saturating_sub(tenancy.margin()));
            // A tenant another instance let go for this one is taken as soon as it is free.
            let period = TimeDelta::from_std(tenancy.ttl / 3).unwrap_or(TimeDelta::seconds(3));
            let wait = round
                .next_free
                .map(|t| (t - now + FREE_SLACK).clamp(TimeDelta::zero(), period))
                .unwrap_or(period);
            s.next_round = started + wait.to_std().unwrap_or(tenancy.ttl / 3);
            s.next_round_at = Some(now + wait);
            gained
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not renew this instance's tenants; retrying");
            s.next_round = Instant::now() + RETRY;
            s.next_round_at = None;
            // Cut off: the others probably were too. Give them a whole lease to come back.
            s.take_over_after = Instant::now() + tenancy.ttl;
            false
        }
    }
}

/// Gives up this instance's tenants (a clean shutdown): another instance may start on them
/// after a short grace instead of after the whole lease.
pub(super) async fn release(inner: &Inner) {
    let owner = inner.config.instance.clone();
    let now = inner.clock.now();
    match inner
        .db
        .run(move |conn| dispatch::release_all(conn, &owner, now, RELEASE_GRACE))
        .await
    {
        Ok(n) if n > 0 => tracing::info!(tenants = n, "tenants given up"),
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not give up tenants; their claims will run out")
        }
    }
}
