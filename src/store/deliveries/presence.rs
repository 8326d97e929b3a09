//! The presence seen at each gated attempt, kept on the delivery row whatever the outcome (the
//! report's "presence at the last attempt"), and the gated recipients whose presence is worth
//! looking up together with a lease's (one Graph call for up to 650 people instead of one per
//! lease).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::run_on;
use crate::store::schema::{deliveries as d, users as u};
use crate::store::sql::PendingStatus;
use crate::store::{Conn, StoreError};

/// The presence seen for one leased delivery (`None`s: it could not be had).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub id: i64,
    pub availability: Option<String>,
    pub activity: Option<String>,
}

/// Writes the presence seen at this attempt on the deliveries `owner` leases, one statement per
/// distinct presence (a lease has few); returns how many rows changed.
pub fn note(conn: &mut Conn<'_>, owner: &str, seen: &[Seen]) -> Result<usize, StoreError> {
    if seen.is_empty() {
        return Ok(0);
    }
    let mut groups: Vec<(&Option<String>, &Option<String>, Vec<i64>)> = Vec::new();
    for s in seen {
        match groups
            .iter_mut()
            .find(|(a, b, _)| *a == &s.availability && *b == &s.activity)
        {
            Some((_, _, ids)) => ids.push(s.id),
            None => groups.push((&s.availability, &s.activity, vec![s.id])),
        }
    }
    conn.write_transaction(|conn| {
        let mut changed = 0;
        for (availability, activity, ids) in &groups {
            for chunk in ids.chunks(500) {
                changed += run_on!(conn, |c| diesel::update(
                    d::table
                        .filter(d::id.eq_any(chunk))
                        .filter(d::leased_by.eq(owner))
                )
                .set((
                    d::presence.eq(*availability),
                    d::presence_activity.eq(*activity),
                ))
                .execute(c))?;
            }
        }
        Ok(changed)
    })
}

/// Entra ids of up to `limit` other recipients in `tenant` of `messages` whose pending, unleased
/// deliveries fall due by `until` and whose presence was not observed since `stale_before`,
/// soonest due first: looked up with a lease's, their presence is fresh when their turn comes.
pub fn stale_ahead(
    conn: &mut Conn<'_>,
    tenant: &str,
    messages: &[String],
    until: DateTime<Utc>,
    stale_before: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    if messages.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let (until, stale_before) = (until.naive_utc(), stale_before.naive_utc());
    let found: Vec<Option<String>> = run_on!(conn, |c| d::table
        .inner_join(u::table)
        .filter(d::status.eq(PendingStatus))
        .filter(d::tenant_id.eq(tenant))
        .filter(d::next_attempt_at.le(until))
        .filter(d::message_id.eq_any(messages))
        .filter(d::leased_by.is_null())
        .filter(u::aad_object_id.is_not_null())
        .filter(
            u::presence_observed_at
                .is_null()
                .or(u::presence_observed_at.lt(stale_before))
        )
        .order(d::next_attempt_at)
        .select(u::aad_object_id)
        .limit(limit as i64)
        .load(c))?;
    let mut ids: Vec<String> = found.into_iter().flatten().collect();
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.to_lowercase()));
    Ok(ids)
}
