//! Planning a campaign on each recipient's own time (`time: local`): each recipient's zone is
//! the one their Teams client reported, else the one their mailbox settings give (asked of Graph
//! at the campaign's start, at most once a day per person), else the campaign's (counted).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;

use super::Inner;
use crate::audience::Expanded;
use crate::domain::localtime::{self, LocalPlan};
use crate::graph::GraphError;
use crate::store::campaigns::Campaign;
use crate::store::localtime::{self as store, KnownZones};
use crate::store::{Conn, StoreError, lists};

/// A mailbox zone asked of Graph is asked again only after this long.
const MAILBOX_ZONE_KEPT: TimeDelta = TimeDelta::days(1);

/// The zone a recipient's moment is drawn in: the client's, else the mailbox's.
fn known_zone(k: Option<&KnownZones>) -> Option<Tz> {
    let k = k?;
    k.client
        .as_deref()
        .and_then(localtime::zone_named)
        .or_else(|| k.mailbox.as_deref().and_then(localtime::zone_named))
}

/// A local-time plan: each recipient's moment and zone (in the order of the users given), and
/// how many fell back to the campaign's zone.
pub(super) struct Planned {
    pub plans: Vec<LocalPlan>,
    pub fallbacks: usize,
}

impl Planned {
    pub fn moments(&self) -> Vec<DateTime<Utc>> {
        self.plans.iter().map(|p| p.moment).collect()
    }
}

/// Whether a campaign's start has come: its own, or for a local-time campaign the moment its
/// first recipients' window may open (its wall-clock start at UTC+14).
pub(super) fn due(c: &Campaign, now: DateTime<Utc>) -> bool {
    let start = c.start_at.and_utc();
    match c.local_time {
        true => localtime::earliest_start(c.time_zone.tz(), start) <= now,
        false => start <= now,
    }
}

/// Draws each of `users`' moments over what is still ahead of their own window at `now`
/// (inside the planner's transaction).
pub(super) fn plan(
    conn: &mut Conn<'_>,
    c: &Campaign,
    users: &[String],
    now: DateTime<Utc>,
) -> Result<Planned, StoreError> {
    let known = store::zones_of(conn, users)?;
    let zones: Vec<Option<Tz>> = users.iter().map(|u| known_zone(known.get(u))).collect();
    let timing = localtime::Timing {
        zone: c.time_zone.tz(),
        hours: &c.hours,
        start: c.start_at.and_utc(),
        length: TimeDelta::minutes(c.duration_minutes),
    };
    let (plans, fallbacks) = localtime::plan(&zones, &timing, now, c.seed as u64);
    Ok(Planned { plans, fallbacks })
}

/// Stores each delivery's zone and the campaign's count of fallbacks (after the deliveries
/// were posted, in the same transaction).
pub(super) fn record(
    conn: &mut Conn<'_>,
    c: &Campaign,
    users: &[String],
    planned: &Planned,
) -> Result<(), StoreError> {
    let mut by_zone: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (user, p) in users.iter().zip(&planned.plans) {
        by_zone.entry(p.zone.name()).or_default().push(user.clone());
    }
    for (zone, ids) in by_zone {
        store::set_planned_zone(conn, &c.id, zone, &ids)?;
    }
    store::record_fallbacks(conn, &c.id, planned.fallbacks)
}

/// How many mailbox-zone lookups run at once.
const LOOKUPS_AT_ONCE: usize = 8;
/// At most this many mailbox-zone lookups per campaign start; the rest use the campaign's zone
/// (counted) and are asked at a later start.
const LOOKUPS_PER_START: usize = 2_000;
/// The lookups of one start take at most this long (and at most a third of the delivery lease:
/// the dispatcher waits on them).
const LOOKUP_BUDGET: Duration = Duration::from_secs(20);

/// Tenants whose mailbox-zone lookups are paused (Graph throttled or refused them), until when.
#[derive(Default)]
pub(super) struct MailboxPauses(Mutex<HashMap<String, tokio::time::Instant>>);

impl MailboxPauses {
    fn paused(&self, tenant: &str) -> bool {
        let now = tokio::time::Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, until| *until > now);
        map.contains_key(tenant)
    }

    fn pause(&self, tenant: &str, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let at = map.entry(tenant.to_string()).or_insert(until);
        *at = (*at).max(until);
    }
}

/// The time the lookups of one start may take, given the delivery lease.
pub(super) fn lookup_budget(lease: Duration) -> Duration {
    LOOKUP_BUDGET.min(lease / 3)
}

/// What one start's lookups did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Lookups {
    /// Answered by Graph (a zone or none) and kept for a day.
    pub asked: usize,
    /// Not asked (cap, time budget, throttled or refused): these use the campaign's zone now
    /// and are asked again at a later start.
    pub left: usize,
}

/// Before a local-time campaign is planned, with Graph on: asks the mailbox zone of each
/// recipient whose client never reported one and whose mailbox zone was not asked within a
/// day, a few at a time, within a budget of time and count. A failure leaves the person to the
/// campaign's zone; it never holds the campaign back.
pub(super) async fn refresh_mailbox_zones(
    inner: &Inner,
    c: &Campaign,
    expanded: &Expanded,
) -> Lookups {
    let Some(graph) = inner.graph.clone() else {
        return Lookups::default();
    };
    let now = inner.clock.now();
    let (tenant, list, channel, extra) = (
        c.tenant_id.clone(),
        c.list_id.clone(),
        c.channel.clone(),
        expanded.identities.clone(),
    );
    let wanted = inner
        .db
        .run(move |conn| {
            let (users, _) = lists::resolve(conn, &tenant, &list, &channel, &extra)?;
            let known = store::zones_of(conn, &users)?;
            Ok::<_, StoreError>(
                known
                    .into_iter()
                    .filter(|(_, k)| {
                        k.client
                            .as_deref()
                            .and_then(localtime::zone_named)
                            .is_none()
                            && k.mailbox_at
                                .is_none_or(|at| now - at.and_utc() >= MAILBOX_ZONE_KEPT)
                    })
                    .filter_map(|(id, k)| k.aad_object_id.map(|aad| (id, aad)))
                    .collect::<Vec<_>>(),
            )
        })
        .await;
    let wanted = match wanted {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(campaign_id = %c.id, error = %e, "could not look for unknown zones");
            return Lookups::default();
        }
    };
    let total = wanted.len();
    if total == 0 {
        return Lookups::default();
    }
    if inner.mailbox_pauses.paused(&c.tenant_id) {
        tracing::info!(campaign_id = %c.id, left = total,
            "mailbox time zone lookups paused for this tenant; the campaign's zone is used");
        return Lookups {
            asked: 0,
            left: total,
        };
    }
    let stopped = AtomicBool::new(false);
    let (stopped, pauses, tenant) = (&stopped, &inner.mailbox_pauses, c.tenant_id.as_str());
    let budget = tokio::time::sleep(lookup_budget(inner.config.lease));
    let answers: Vec<(String, Option<String>)> =
        futures_util::stream::iter(wanted.into_iter().take(LOOKUPS_PER_START))
            .map(|(user_id, aad)| {
                let graph = graph.clone();
                async move {
                    if stopped.load(Ordering::Relaxed) {
                        return None;
                    }
                    match graph.mailbox_time_zone(tenant, &aad).await {
                        // Stored as an IANA name; a name no mapping knows is kept as none.
                        Ok(name) => Some((
                            user_id,
                            name.as_deref()
                                .and_then(localtime::zone_named)
                                .map(|tz| tz.name().to_string()),
                        )),
                        Err(e) => {
                            // Throttled or refused: the others would fare no better now.
                            if !stopped.swap(true, Ordering::Relaxed) {
                                tracing::warn!(tenant, error = %e,
                            "mailbox time zone lookups stopped; the campaign's zone is used");
                            }
                            let wait = match e {
                                GraphError::Throttled { retry_after } => {
                                    retry_after.unwrap_or(Duration::from_secs(60))
                                }
                                _ => Duration::from_secs(60),
                            };
                            pauses.pause(tenant, wait);
                            None
                        }
                    }
                }
            })
            .buffer_unordered(LOOKUPS_AT_ONCE)
            .take_until(budget)
            .filter_map(std::future::ready)
            .collect()
            .await;
    let done = Lookups {
        asked: answers.len(),
        left: total - answers.len(),
    };
    if done.left > 0 {
        tracing::info!(campaign_id = %c.id, asked = done.asked, left = done.left,
            "some mailbox time zones were not asked; the campaign's zone is used for them");
    }
    let at = inner.clock.now();
    if let Err(e) = inner
        .db
        .run(move |conn| {
            for (user_id, zone) in &answers {
                store::set_mailbox_zone(conn, user_id, zone.as_deref(), at)?;
            }
            Ok::<_, StoreError>(())
        })
        .await
    {
        tracing::warn!(error = %e, "could not record mailbox time zones");
    }
    done
}
