//! Presence kept current on the user record. With a public URL, herald subscribes to the
//! presence changes of its installed users through Graph change notifications (subscriptions of
//! at most 650 users, renewed before they expire, re-created when lost, following installs and
//! uninstalls); without one, it refreshes every installed user's presence by polling. Either
//! way one instance does it at a time (the `presence` duty).

pub mod backoff;
mod duty;
pub mod notifications;
pub mod plan;
mod poll;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::domain::Clock;
use crate::graph::subscriptions::{MAX_LIFETIME, NewSubscription};
use crate::graph::{GraphClient, GraphError};
use crate::store::presence_subs::{self as subs, Subscription};
use crate::store::{Db, StoreError};

/// The duty's name in the `duties` table.
pub const DUTY: &str = "presence";
/// How long the duty holds without renewal (renewed at every round).
const DUTY_TTL: TimeDelta = TimeDelta::minutes(3);
/// The first pause before trying again after a failed round (doubled up to the tick).
const RETRY: TimeDelta = TimeDelta::seconds(5);
/// How long a tenant that refused subscriptions is polled before they are tried again.
const REFUSED_FOR: TimeDelta = TimeDelta::hours(1);
/// How often (on the app's clock) membership is looked at again.
const TICK: TimeDelta = TimeDelta::seconds(60);
/// The life asked for a subscription: within Graph's hour, with room for clocks apart.
const LIFETIME: TimeDelta = TimeDelta::minutes(55);
/// A subscription expiring within this is renewed.
const RENEW_BEFORE: TimeDelta = TimeDelta::minutes(15);

/// How presence is kept current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Graph change notifications reach herald at these URLs.
    Subscribe {
        notification_url: String,
        lifecycle_url: String,
        /// A tenant where Graph refuses presence subscriptions (401/403) is polled this often
        /// instead (zero: not at all), and subscriptions are tried there again after an hour.
        fallback_poll: Duration,
    },
    /// Every installed user's presence is asked this often.
    Poll { every: Duration },
}

impl Mode {
    /// The mode the settings give: subscriptions with a public URL, else polling (none when
    /// `presence_refresh` is zero).
    pub fn from_settings(settings: &crate::config::Settings) -> Option<Mode> {
        match &settings.server.public_url {
            Some(url) => {
                let base = url.as_str().trim_end_matches('/');
                Some(Mode::Subscribe {
                    notification_url: format!("{base}/api/graph/notifications"),
                    lifecycle_url: format!("{base}/api/graph/lifecycle"),
                    fallback_poll: settings.graph.presence_refresh,
                })
            }
            None if settings.graph.presence_refresh.is_zero() => None,
            None => Some(Mode::Poll {
                every: settings.graph.presence_refresh,
            }),
        }
    }
}

/// What one round of subscription management did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Managed {
    pub created: usize,
    pub renewed: usize,
    pub removed: usize,
    pub failed: usize,
    pub graph_calls: usize,
}

/// What one polling refresh did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Refreshed {
    pub users: usize,
    pub recorded: usize,
    pub graph_calls: usize,
    /// Graph throttled the refresh: it stopped, and resumes where it stopped at this time.
    pub throttled_until: Option<DateTime<Utc>>,
}

/// Keeps presence current (see the module).
pub struct Keeper {
    db: Db,
    graph: Arc<GraphClient>,
    clock: Arc<dyn Clock>,
    instance: String,
    mode: Mode,
    wake: Notify,
    stop: CancellationToken,
    /// Tenants where Graph refused to create a subscription, and when.
    refused: std::sync::Mutex<BTreeMap<String, DateTime<Utc>>>,
    /// Subscriptions whose renewal failed: not renewed again before their pause is over.
    renewals: backoff::Backoff,
    /// Tenants whose subscription create failed: not tried again before their pause is over.
    creates: backoff::Backoff,
    /// When this instance last claimed the duty (none: it does not hold it).
    claimed: std::sync::Mutex<Option<DateTime<Utc>>>,
    /// Where a throttled polling refresh resumes: tenant and user index.
    resume: std::sync::Mutex<Option<(String, usize)>>,
}

impl Keeper {
    pub fn new(
        db: Db,
        graph: Arc<GraphClient>,
        clock: Arc<dyn Clock>,
        instance: &str,
        mode: Mode,
    ) -> Arc<Keeper> {
        Arc::new(Keeper {
            db,
            graph,
            clock,
            instance: instance.to_string(),
            mode,
            wake: Notify::new(),
            stop: CancellationToken::new(),
            refused: std::sync::Mutex::default(),
            renewals: backoff::Backoff::default(),
            creates: backoff::Backoff::default(),
            resume: std::sync::Mutex::default(),
            claimed: std::sync::Mutex::default(),
        })
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// Asks for a round now (an install, an uninstall, a lost subscription).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Runs rounds until `shutdown`; spawn it.
    pub async fn run(self: Arc<Self>) {
        let mut next_poll: Option<DateTime<Utc>> = None;
        let mut failures: u32 = 0;
        loop {
            let now = self.clock.now();
            let mut next = now + TICK;
            if self.holds_duty(now).await {
                // What to poll, and how often: everyone, or the tenants refusing subscriptions.
                let poll = match &self.mode {
                    Mode::Subscribe { fallback_poll, .. } => {
                        let failed = match self.manage().await {
                            Ok(done) => done.failed > 0,
                            Err(e) => {
                                tracing::warn!(error = %e, "managing presence subscriptions failed");
                                true
                            }
                        };
                        // Soon again after a failure, backing off to the tick.
                        failures = if failed { failures + 1 } else { 0 };
                        if failures > 0 {
                            let wait = RETRY * 2i32.pow(failures.min(4) - 1);
                            next = next.min(now + wait);
                        }
                        if let Ok(Some(t)) = self.next_renewal().await {
                            next = next.min(t.max(now + TimeDelta::seconds(1)));
                        }
                        let refused = self.refused_tenants(now);
                        (!refused.is_empty()).then_some((*fallback_poll, Some(refused)))
                    }
                    Mode::Poll { every } => Some((*every, None)),
                };
                if let Some((every, only)) = poll.filter(|(every, _)| !every.is_zero()) {
                    if next_poll.is_none_or(|t| t <= now) {
                        let every = now + TimeDelta::from_std(every).unwrap_or(TICK);
                        next_poll = Some(match self.refresh(only.as_ref()).await {
                            // Throttled: resumed where it stopped once Graph allows.
                            Ok(Refreshed {
                                throttled_until: Some(t),
                                ..
                            }) => t,
                            Ok(_) => every,
                            Err(e) => {
                                tracing::warn!(error = %e, "refreshing presence failed");
                                every
                            }
                        });
                    }
                    next = next.min(next_poll.unwrap_or(next));
                }
            } else {
                // Whoever holds it polls; this instance starts afresh if it takes over.
                next_poll = None;
            }
            tokio::select! {
                _ = self.clock.sleep_until(next) => {}
                _ = self.wake.notified() => {}
                _ = self.stop.cancelled() => break,
            }
        }
        self.release().await;
    }

    /// Stops the rounds; `run` then lets the duty go, so another instance (or the next
    /// start) takes it at once.
    pub fn shutdown(&self) {
        self.stop.cancel();
    }

    async fn release(&self) {
        let owner = self.instance.clone();
        if let Err(e) = self
            .db
            .run(move |conn| subs::release_duty(conn, DUTY, &owner))
            .await
        {
            tracing::warn!(error = %e, "letting the presence duty go failed");
        }
    }

    pub(super) async fn holds_duty(&self, now: DateTime<Utc>) -> bool {
        let owner = self.instance.clone();
        match self
            .db
            .run(move |conn| subs::claim_duty(conn, DUTY, &owner, now, DUTY_TTL))
            .await
        {
            Ok(held) => {
                *self.claimed_lock() = held.then_some(now);
                held
            }
            Err(e) => {
                *self.claimed_lock() = None;
                tracing::warn!(error = %e, "claiming the presence duty failed");
                false
            }
        }
    }

    async fn next_renewal(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let stored = self.db.run(subs::list).await?;
        // A renewal that failed waits for its pause (backoff or Retry-After) to be over.
        Ok(stored
            .iter()
            .map(|s| {
                let due = s.expires_at - RENEW_BEFORE;
                self.renewals.not_before(&s.id).map_or(due, |t| due.max(t))
            })
            .min())
    }

    /// One round of subscription management: every installed user covered once, renewals
    /// due done, subscriptions of users gone replaced. Call it only while holding the duty.
    pub async fn manage(&self) -> Result<Managed, StoreError> {
        let Mode::Subscribe {
            notification_url,
            lifecycle_url,
            ..
        } = &self.mode
        else {
            return Ok(Managed::default());
        };
        let (stored, members) = self
            .db
            .run(|conn| Ok((subs::list(conn)?, subs::installed_by_tenant(conn)?)))
            .await?;
        let now = self.clock.now();
        let refused = self.refused_tenants(now);
        let members: BTreeMap<String, Vec<String>> = members
            .into_iter()
            .filter(|(tenant, _)| !refused.contains(tenant))
            .collect();
        let plan = plan::plan(&stored, &members, now, RENEW_BEFORE);
        let mut refused_now: BTreeSet<String> = BTreeSet::new();
        let mut done = Managed::default();
        for s in &plan.renew {
            if !self.heartbeat().await {
                return Ok(done);
            }
            if !self.renewals.due(&s.id, now) {
                continue;
            }
            done.graph_calls += 1;
            if self.renew(s).await? {
                done.renewed += 1;
            } else {
                done.failed += 1;
            }
        }
        for (tenant, users) in &plan.create {
            if !self.heartbeat().await {
                return Ok(done);
            }
            if refused_now.contains(tenant) {
                continue;
            }
            if !self.creates.due(tenant, now) {
                // Still to do: the round comes again soon (see `run`).
                done.failed += 1;
                continue;
            }
            done.graph_calls += 1;
            let state = client_state();
            let asked = NewSubscription {
                users,
                notification_url,
                lifecycle_url,
                client_state: &state,
                expires_at: now + LIFETIME,
            };
            match self
                .graph
                .create_presence_subscription(tenant, &asked)
                .await
            {
                Ok(created) => {
                    let s = Subscription {
                        id: created.id,
                        tenant_id: tenant.clone(),
                        client_state: state,
                        users: users.clone(),
                        expires_at: created.expires_at.min(now + MAX_LIFETIME),
                        created_at: now,
                        renewed_at: now,
                    };
                    self.db.run(move |conn| subs::insert(conn, &s)).await?;
                    self.creates.succeeded(tenant);
                    done.created += 1;
                }
                Err(e) if backoff::falls_back(&e, self.creates.failures(tenant) + 1) => {
                    tracing::warn!(tenant = %tenant, error = %e,
                        "Graph refuses presence subscriptions in this tenant, or cannot reach \
                         herald's public URL: its presence is polled instead \
                         (graph.presence_refresh); subscribing is tried again in an hour");
                    self.creates.succeeded(tenant);
                    self.refused_lock().insert(tenant.clone(), now);
                    refused_now.insert(tenant.clone());
                }
                Err(e) => {
                    done.failed += 1;
                    self.creates.failed(tenant, now, e.retry_after());
                    warn_graph(&e, tenant, "creating a presence subscription failed");
                }
            }
        }
        for s in &plan.remove {
            if !self.heartbeat().await {
                return Ok(done);
            }
            if s.expires_at > now {
                done.graph_calls += 1;
                if let Err(e) = self.graph.delete_subscription(&s.tenant_id, &s.id).await {
                    warn_graph(&e, &s.tenant_id, "deleting a presence subscription failed");
                }
            }
            let id = s.id.clone();
            self.db.run(move |conn| subs::remove(conn, &id)).await?;
            done.removed += 1;
        }
        if done != Managed::default() {
            tracing::info!(
                created = done.created,
                renewed = done.renewed,
                removed = done.removed,
                failed = done.failed,
                "presence subscriptions managed"
            );
        }
        Ok(done)
    }

    /// Renews `s` for another lifetime; a subscription Graph no longer knows is forgotten
    /// (the next round re-creates it). Returns whether it was renewed.
    pub async fn renew(&self, s: &Subscription) -> Result<bool, StoreError> {
        let now = self.clock.now();
        match self
            .graph
            .renew_subscription(&s.tenant_id, &s.id, now + LIFETIME)
            .await
        {
            Ok(until) => {
                self.renewals.succeeded(&s.id);
                let id = s.id.clone();
                let until = until.min(now + MAX_LIFETIME);
                self.db
                    .run(move |conn| subs::renewed(conn, &id, until, now))
                    .await?;
                Ok(true)
            }
            Err(GraphError::Refused {
                status: 404 | 410, ..
            }) => {
                self.renewals.succeeded(&s.id);
                let id = s.id.clone();
                self.db.run(move |conn| subs::remove(conn, &id)).await?;
                self.nudge();
                Ok(false)
            }
            Err(GraphError::Refused {
                status: status @ (401 | 403),
                code,
            }) => {
                // As on create: the tenant is polled, and subscribed again in an hour (the
                // next round lets its subscriptions go).
                tracing::warn!(tenant = %s.tenant_id, status, code = %code,
                    "Graph refuses renewing presence subscriptions in this tenant: its presence \
                     is polled instead (graph.presence_refresh); subscribing is tried again in \
                     an hour");
                self.renewals.succeeded(&s.id);
                self.refused_lock().insert(s.tenant_id.clone(), now);
                self.nudge();
                Ok(false)
            }
            Err(e) => {
                let until = self.renewals.failed(&s.id, now, e.retry_after());
                tracing::warn!(tenant = %s.tenant_id, error = %e, retry_at = %until,
                    "renewing a presence subscription failed");
                Ok(false)
            }
        }
    }

    fn refused_lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, DateTime<Utc>>> {
        // A poisoned lock only means a panic elsewhere; the map is still whole.
        self.refused.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tenants that refused subscriptions within the last hour (polled instead).
    pub fn refused_tenants(&self, now: DateTime<Utc>) -> BTreeSet<String> {
        let mut refused = self.refused_lock();
        refused.retain(|_, at| now - *at < REFUSED_FOR);
        refused.keys().cloned().collect()
    }
}

fn warn_graph(e: &GraphError, tenant: &str, what: &str) {
    tracing::warn!(tenant = %tenant, error = %e, "{what}");
}

/// A new subscription's secret: 32 random bytes.
fn client_state() -> String {
    use base64::Engine as _;
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
