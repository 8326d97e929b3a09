//! This instance's share of the tenants. Claims are made and renewed in rounds
//! (`store::dispatch`), every third of the tenant lease; a tenant is dispatched here only while
//! the last successful round is younger than the lease minus a margin. An instance cut off from
//! the database therefore stops sending before anyone may take its tenants over, and after being
//! cut off it waits a whole lease before taking over anyone else's (they were probably cut off
//! too, and will renew).

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::time::Instant;

use super::Inner;
use crate::store::dispatch::{self, Terms};

/// Pause before trying again when a round failed.
const RETRY: Duration = Duration::from_secs(1);
/// A tenant let go stays reserved this long: the rate window and then some.
const RELEASE_GRACE: TimeDelta = TimeDelta::seconds(2);

pub(super) struct Tenancy {
    ttl: Duration,
    state: Mutex<State>,
}

struct State {
    owned: BTreeSet<String>,
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
                owned: BTreeSet::new(),
                valid_until: None,
                next_round: now,
                next_round_at: None,
                take_over_after: now,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the state is still whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long before a claim runs out this instance stops relying on it: enough for clocks
    /// a little apart and a send already on its way.
    fn margin(&self) -> Duration {
        (self.ttl / 4).min(Duration::from_secs(2))
    }

    pub(super) fn round_due(&self, now: DateTime<Utc>) -> bool {
        let s = self.state();
        Instant::now() >= s.next_round || s.next_round_at.is_some_and(|t| now >= t)
    }

    /// When the next round is due (real time).
    pub(super) fn next_round(&self) -> Instant {
        self.state().next_round
    }

    /// The tenants this instance may dispatch now.
    pub(super) fn owned(&self) -> Vec<String> {
        let s = self.state();
        match s.valid_until {
            Some(t) if Instant::now() < t => s.owned.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }

    pub(super) fn owns(&self, tenant: &str) -> bool {
        let s = self.state();
        s.valid_until.is_some_and(|t| Instant::now() < t) && s.owned.contains(tenant)
    }
}

/// One round: renew, let go, claim. Returns whether tenants were gained.
pub(super) async fn round(inner: &Inner) -> bool {
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
            let gained = round.owned.difference(&s.owned).count() > 0;
            for t in &round.taken_over {
                inner.metrics.tenant_takeovers.inc();
                tracing::warn!(tenant = %t.tenant_id, from = %t.from, released = t.released,
                    "took over a tenant whose dispatcher stopped renewing its claim");
            }
            for t in round.owned.difference(&s.owned) {
                tracing::info!(tenant = %t, "dispatching this tenant");
            }
            for t in s.owned.difference(&round.owned) {
                tracing::info!(tenant = %t, "no longer dispatching this tenant");
            }
            inner.metrics.owned_tenants.set(round.owned.len() as i64);
            s.owned = round.owned;
            s.valid_until = Some(started + tenancy.ttl.saturating_sub(tenancy.margin()));
            s.next_round = started + tenancy.ttl / 3;
            s.next_round_at =
                Some(now + TimeDelta::from_std(tenancy.ttl / 3).unwrap_or(TimeDelta::seconds(3)));
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
