//! Each person's zone, kept current from every activity: the zone their Teams client reports
//! (`localTimezone`) is written when it differs from the one on record. An in-memory note of the
//! zone last written for each person keeps ordinary turns free of any extra database call.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::botframework::Activity;
use crate::botframework::activity::Checked;
use crate::store::localtime;

use super::Bot;

/// Past this many people, the note starts over (a few more writes, bounded memory).
const MAX_NOTED: usize = 200_000;

/// The zone last written (or found already written) for each person on this instance.
#[derive(Default)]
pub struct ZoneNotes {
    written: Mutex<HashMap<(String, String, String), String>>,
}

impl ZoneNotes {
    fn known(&self, key: &(String, String, String), zone: &str) -> bool {
        let written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        written.get(key).is_some_and(|z| z == zone)
    }

    fn note(&self, key: (String, String, String), zone: &str) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if written.len() >= MAX_NOTED {
            written.clear();
        }
        written.insert(key, zone.to_string());
    }
}

impl Bot {
    /// Records the zone the activity's client reports, when it changed. A failure is logged:
    /// the turn itself goes on.
    pub(super) async fn note_zone(&self, activity: &Activity, checked: &Checked) {
        let Some(zone) = activity
            .time_zone()
            .map(str::trim)
            .filter(|z| !z.is_empty())
        else {
            return;
        };
        // Only a zone herald can plan in is kept.
        if crate::domain::localtime::zone_named(zone).is_none() {
            return;
        }
        let key = (
            activity.tenant_id().unwrap_or_default().to_string(),
            checked.channel_id.clone(),
            checked.from.id.clone(),
        );
        if self.zones.known(&key, zone) {
            return;
        }
        let (k, z) = (key.clone(), zone.to_string());
        match self
            .db
            .run(move |conn| localtime::note_client_zone(conn, &k.0, &k.1, &k.2, &z))
            .await
        {
            Ok(_) => self.zones.note(key, zone),
            Err(e) => tracing::warn!(error = %e, "could not record a user's time zone"),
        }
    }
}
