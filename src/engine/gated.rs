//! Presence for gated sends: what is known decides; what is not is looked up in batches.
//!
//! A presence observed within `graph.presence_max_age` decides without a Graph call. The others
//! are looked up per tenant in as few calls as Graph allows (650 ids each): a lease's rows are
//! topped up with the other gated recipients of the same messages due within that age, so their
//! presence is fresh when their turn comes and a campaign to 1,000 people costs two calls, not
//! one per lease. Every lookup is recorded on the users (availability, activity, when), and the
//! presence each attempt saw on its delivery row, whatever the outcome.

use std::collections::{HashMap, HashSet};

use chrono::TimeDelta;

use super::Inner;
use crate::graph::MAX_IDS_PER_CALL;
use crate::store::deliveries::Leased;
use crate::store::deliveries::presence::{self as seen_store, Seen};
use crate::store::presence::{self, Observed};

/// Lease rows of one tenant whose presence must be looked up.
#[derive(Default)]
struct Wanted<'a> {
    /// (delivery id, Entra id).
    rows: Vec<(i64, &'a str)>,
    messages: HashSet<&'a str>,
}

/// Presence of the recipients in `rows` whose campaign asks for it. Deliveries absent from the
/// map need no presence; a `None` value means it could not be had.
pub(super) async fn presence_for(
    inner: &Inner,
    rows: &[(Leased, bool)],
) -> HashMap<i64, Option<String>> {
    let now = inner.clock.now();
    let max_age = TimeDelta::from_std(inner.config.presence_max_age).unwrap_or(TimeDelta::zero());
    let fresh_since = now - max_age;
    let mut out = HashMap::new();
    let mut seen: Vec<Seen> = Vec::new();
    let mut wanted: HashMap<&str, Wanted<'_>> = HashMap::new();
    for (row, needs) in rows {
        if !needs {
            continue;
        }
        let (id, user) = (row.delivery.id, &row.user);
        if let (Some(at), Some(availability)) =
            (user.presence_observed_at, &user.presence_availability)
            && at.and_utc() >= fresh_since
        {
            out.insert(id, Some(availability.clone()));
            seen.push(Seen {
                id,
                availability: Some(availability.clone()),
                activity: user.presence_activity.clone(),
            });
            continue;
        }
        match user.aad_object_id.as_deref() {
            Some(aad) if inner.graph.is_some() => {
                let w = wanted.entry(row.delivery.tenant_id.as_str()).or_default();
                w.rows.push((id, aad));
                w.messages.insert(row.delivery.message_id.as_str());
            }
            _ => {
                out.insert(id, None);
                seen.push(Seen {
                    id,
                    availability: None,
                    activity: None,
                });
            }
        }
    }
    let mut observed: Vec<(String, Vec<Observed>)> = Vec::new();
    if let Some(graph) = &inner.graph {
        for (tenant, w) in wanted {
            let mut ids: Vec<String> = Vec::new();
            let mut known = HashSet::new();
            for (_, aad) in &w.rows {
                if known.insert(aad.to_lowercase()) {
                    ids.push(aad.to_string());
                }
            }
            let room = (MAX_IDS_PER_CALL - ids.len() % MAX_IDS_PER_CALL) % MAX_IDS_PER_CALL;
            if room > 0 {
                let (t, messages) = (
                    tenant.to_string(),
                    w.messages.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
                );
                let ahead = inner
                    .db
                    .run(move |conn| {
                        seen_store::stale_ahead(
                            conn,
                            &t,
                            &messages,
                            now + max_age,
                            fresh_since,
                            room,
                        )
                    })
                    .await;
                match ahead {
                    Ok(more) => ids.extend(
                        more.into_iter()
                            .filter(|aad| known.insert(aad.to_lowercase())),
                    ),
                    Err(e) => tracing::debug!(tenant, error = %e,
                        "could not find whose presence to look up ahead; only the lease's"),
                }
            }
            let found: HashMap<String, (String, String)> = match graph.presences(tenant, &ids).await
            {
                Ok(list) => {
                    let mut found = HashMap::with_capacity(list.len());
                    let mut recorded = Vec::with_capacity(list.len());
                    for p in list {
                        found.insert(
                            p.id.to_lowercase(),
                            (p.availability.clone(), p.activity.clone()),
                        );
                        recorded.push(Observed {
                            aad_object_id: p.id,
                            availability: p.availability,
                            activity: p.activity,
                        });
                    }
                    observed.push((tenant.to_string(), recorded));
                    found
                }
                Err(e) => {
                    tracing::warn!(tenant, error = %e, "presence lookup failed; presence unknown");
                    HashMap::new()
                }
            };
            for (id, aad) in w.rows {
                let hit = found.get(&aad.to_lowercase());
                out.insert(id, hit.map(|(a, _)| a.clone()));
                seen.push(Seen {
                    id,
                    availability: hit.map(|(a, _)| a.clone()),
                    activity: hit.map(|(_, a)| a.clone()),
                });
            }
        }
    }
    let owner = inner.config.instance.clone();
    let written = inner
        .db
        .run(move |conn| {
            for (tenant, list) in &observed {
                presence::record(conn, tenant, list, now)?;
            }
            seen_store::note(conn, &owner, &seen)
        })
        .await;
    if let Err(e) = written {
        // The decisions stand; only what the report and `herald users` show lags.
        tracing::warn!(error = %e, "could not record the presence seen");
    }
    out
}
