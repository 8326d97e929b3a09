//! Presence asked of Graph and recorded: for notified users, and by polling. Each call of 650
//! is recorded in its own short transaction as soon as it is answered; a throttled refresh
//! stops, and resumes where it stopped once Graph's `Retry-After` is over.

use std::collections::BTreeSet;

use chrono::TimeDelta;

use super::{Keeper, Refreshed, warn_graph};
use crate::graph::{GraphError, MAX_IDS_PER_CALL};
use crate::store::StoreError;
use crate::store::presence::{self, Observed};
use crate::store::presence_subs as subs;

/// The pause after a throttled call without a `Retry-After`.
const THROTTLED_PAUSE: TimeDelta = TimeDelta::seconds(30);
/// The longest `Retry-After` honoured as given.
const LONGEST_PAUSE: TimeDelta = TimeDelta::minutes(10);

impl Keeper {
    /// Asks Graph for the presence of `users` of `tenant` (in calls of 650) and records each
    /// call's answer at once. Stops at the first throttled call (`throttled_until` says until
    /// when; `users` is how many were asked before it).
    pub async fn fetch(&self, tenant: &str, users: &[String]) -> Result<Refreshed, StoreError> {
        let mut done = Refreshed::default();
        for chunk in users.chunks(MAX_IDS_PER_CALL) {
            done.graph_calls += 1;
            let found = match self.graph.presences(tenant, chunk).await {
                Ok(found) => found,
                Err(GraphError::Throttled { retry_after }) => {
                    let pause = retry_after
                        .and_then(|d| TimeDelta::from_std(d).ok())
                        .unwrap_or(THROTTLED_PAUSE)
                        .min(LONGEST_PAUSE);
                    let until = self.clock.now() + pause;
                    tracing::warn!(tenant = %tenant, retry_at = %until,
                        "Graph throttles presence lookups: stopped until it allows them again");
                    done.throttled_until = Some(until);
                    return Ok(done);
                }
                Err(e) => {
                    warn_graph(&e, tenant, "looking presence up failed");
                    done.users += chunk.len();
                    continue;
                }
            };
            done.users += chunk.len();
            let observed: Vec<Observed> = found
                .into_iter()
                .map(|p| Observed {
                    aad_object_id: p.id,
                    availability: p.availability,
                    activity: p.activity,
                })
                .collect();
            let at = self.clock.now();
            let t = tenant.to_string();
            done.recorded += self
                .db
                .run(move |conn| presence::record(conn, &t, &observed, at))
                .await?;
        }
        Ok(done)
    }

    /// One polling refresh: every installed user's presence, in calls of 650 per tenant.
    pub async fn refresh_all(&self) -> Result<Refreshed, StoreError> {
        self.refresh(None).await
    }

    fn resume_lock(&self) -> std::sync::MutexGuard<'_, Option<(String, usize)>> {
        // A poisoned lock only means a panic elsewhere; the value is still whole.
        self.resume.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A polling refresh of the installed users of `only` these tenants (all when `None`),
    /// from where a throttled one stopped.
    pub(super) async fn refresh(
        &self,
        only: Option<&BTreeSet<String>>,
    ) -> Result<Refreshed, StoreError> {
        let members = self.db.run(subs::installed_by_tenant).await?;
        let resume = self.resume_lock().take();
        let mut done = Refreshed::default();
        'tenants: for (tenant, users) in &members {
            if only.is_some_and(|only| !only.contains(tenant)) {
                continue;
            }
            let from = match &resume {
                Some((at, _)) if tenant < at => continue,
                Some((at, from)) if tenant == at => (*from).min(users.len()),
                _ => 0,
            };
            let mut at = from;
            for chunk in users[from..].chunks(MAX_IDS_PER_CALL) {
                if !self.heartbeat().await {
                    return Ok(done);
                }
                let r = self.fetch(tenant, chunk).await?;
                done.users += r.users;
                done.recorded += r.recorded;
                done.graph_calls += r.graph_calls;
                at += r.users;
                if let Some(until) = r.throttled_until {
                    *self.resume_lock() = Some((tenant.clone(), at));
                    done.throttled_until = Some(until);
                    break 'tenants;
                }
            }
        }
        tracing::debug!(
            users = done.users,
            recorded = done.recorded,
            throttled = done.throttled_until.is_some(),
            "presence refreshed"
        );
        Ok(done)
    }
}
