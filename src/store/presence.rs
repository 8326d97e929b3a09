//! Presence kept on the user record: every observation (a lookup before a gated send, a Graph
//! change notification, a polling refresh) is written here, so reports, `herald users` and
//! gated sends use what is known.

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

/// Records `observed` (all of `tenant`) as seen at `at`, in one write transaction; returns how
/// many user rows changed. An observation older than the one on record is ignored (a slow
/// lookup never overwrites a newer notification).
pub fn record(
    conn: &mut Conn<'_>,
    tenant: &str,
    observed: &[Observed],
    at: DateTime<Utc>,
) -> Result<usize, StoreError> {
    if observed.is_empty() {
        return Ok(0);
    }
    let at = at.naive_utc();
    conn.write_transaction(|conn| {
        let mut changed = 0;
        for o in observed {
            // Ids are GUIDs: Teams and Graph write them in lower case, but match either way.
            let ids = [o.aad_object_id.clone(), o.aad_object_id.to_lowercase()];
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
                u::presence_availability.eq(&o.availability),
                u::presence_activity.eq(&o.activity),
                u::presence_observed_at.eq(at),
            ))
            .execute(c))?;
        }
        Ok(changed)
    })
}
