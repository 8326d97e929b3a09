//! Presence kept on the user record: every observation (a lookup before a gated send, a Graph
//! change notification, a polling refresh) is written here, so reports, `herald users` and
//! gated sends use what is known.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::users as u;
use super::{Conn, StoreError};
use crate::run_on;

/// One user's presence as Graph reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The user's Entra object id (any case).
    pub aad_object_id: String,
    pub availability: String,
    pub activity: String,
}

/// Records `observed` (all of `tenant`) as seen at `at`, in one short write transaction with
/// one UPDATE per distinct (availability, activity); returns how many user rows changed. An
/// observation older than the one on record is ignored (a slow lookup never overwrites a newer
/// notification). Ids are GUIDs matched in either case: as given, lower case or upper case
/// (Graph answers in lower case; an id stored in upper case is still found).
pub fn record(
    conn: &mut Conn<'_>,
    tenant: &str,
    observed: &[Observed],
    at: DateTime<Utc>,
) -> Result<usize, StoreError> {
    if observed.is_empty() {
        return Ok(0);
    }
    let mut groups: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for o in observed {
        let ids = groups
            .entry((o.availability.as_str(), o.activity.as_str()))
            .or_default();
        ids.insert(o.aad_object_id.clone());
        ids.insert(o.aad_object_id.to_lowercase());
        ids.insert(o.aad_object_id.to_uppercase());
    }
    let at = at.naive_utc();
    conn.write_transaction(|conn| {
        let mut changed = 0;
        for ((availability, activity), ids) in &groups {
            let ids: Vec<&String> = ids.iter().collect();
            changed += run_on!(conn, |c| diesel::update(
                u::table
                    .filter(u::tenant_id.eq(tenant))
                    .filter(u::aad_object_id.eq_any(&ids))
                    .filter(
                        u::presence_observed_at
                            .is_null()
                            .or(u::presence_observed_at.le(at))
                    )
            )
            .set((
                u::presence_availability.eq(*availability),
                u::presence_activity.eq(*activity),
                u::presence_observed_at.eq(at),
            ))
            .execute(c))?;
        }
        Ok(changed)
    })
}
