//! Planning a campaign on each recipient's own time (`time: local`): each recipient's zone is
//! the one their Teams client reported, else the one their mailbox settings give (asked of Graph
//! at the campaign's start, at most once a day per person), else the campaign's (counted).

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::Inner;
use crate::audience::Expanded;
use crate::domain::localtime::{self, LocalPlan};
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

/// Before a local-time campaign is planned, with Graph on: asks the mailbox zone of each
/// recipient whose client never reported one and whose mailbox zone was not asked within a
/// day. A failure leaves the person to the campaign's zone; it never holds the campaign back.
pub(super) async fn refresh_mailbox_zones(inner: &Inner, c: &Campaign, expanded: &Expanded) {
    let Some(graph) = inner.graph.clone() else {
        return;
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
            return;
        }
    };
    for (user_id, aad) in wanted {
        let zone = match graph.mailbox_time_zone(&c.tenant_id, &aad).await {
            // Stored as an IANA name; a name no mapping knows is kept as none.
            Ok(name) => name
                .as_deref()
                .and_then(localtime::zone_named)
                .map(|tz| tz.name().to_string()),
            Err(e) => {
                tracing::warn!(campaign_id = %c.id, error = %e,
                    "mailbox time zone lookup failed; the campaign's zone is used");
                // Throttled or refused: the others would fare no better now.
                return;
            }
        };
        let at = inner.clock.now();
        if let Err(e) = inner
            .db
            .run(move |conn| store::set_mailbox_zone(conn, &user_id, zone.as_deref(), at))
            .await
        {
            tracing::warn!(error = %e, "could not record a mailbox time zone");
        }
    }
}
