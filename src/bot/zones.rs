//! Each person's zone, kept current from every activity: the zone their Teams client reports
//! (`localTimezone`) is written when it differs from the one on record. An in-memory note of the
//! zone last written (or found) for each person keeps ordinary turns free of any extra database
//! call; a note lasts [`NOTE_TTL`], so what other instances wrote is picked up after it.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use crate::botframework::Activity;
use crate::botframework::activity::Checked;
use crate::store::localtime;

use super::Bot;

/// Past this many people, the note starts over (a few more writes, bounded memory).
const MAX_NOTED: usize = 200_000;

/// A note is trusted this long; then the zone on record is read again.
pub const NOTE_TTL: TimeDelta = TimeDelta::minutes(10);

type Key = (String, String, String);

/// The zone last written (or found already written) for each person on this instance, and when.
#[derive(Default)]
pub struct ZoneNotes {
    written: Mutex<HashMap<Key, (String, DateTime<Utc>)>>,
}

impl ZoneNotes {
    fn known(&self, key: &Key, zone: &str, now: DateTime<Utc>) -> bool {
        let written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        written
            .get(key)
            .is_some_and(|(z, at)| z == zone && now - *at < NOTE_TTL)
    }

    fn note(&self, key: Key, zone: &str, now: DateTime<Utc>) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if written.len() >= MAX_NOTED {
            written.retain(|_, (_, at)| now - *at < NOTE_TTL);
            if written.len() >= MAX_NOTED {
                written.clear();
            }
        }
        written.insert(key, (zone.to_string(), now));
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
        let now = self.clock.now();
        if self.zones.known(&key, zone, now) {
            return;
        }
        let (k, z) = (key.clone(), zone.to_string());
        match self
            .db
            .run(move |conn| localtime::note_client_zone(conn, &k.0, &k.1, &k.2, &z))
            .await
        {
            // Noted only when the person is on record (not before an install stores them).
            Ok(localtime::ZoneNoted::NoUser) => {}
            Ok(_) => self.zones.note(key, zone, now),
            Err(e) => tracing::warn!(error = %e, "could not record a user's time zone"),
        }
    }
}
