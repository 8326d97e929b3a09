//! Each person's own time (`time: local`): the zones kept on users (the one their Teams client
//! reports, the one their mailbox settings give), the zone each delivery was planned in, and the
//! campaign's count of recipients whose zone was not known.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{campaigns as c, deliveries as d, users as u};
use super::{Conn, StoreError};
use crate::run_on;

/// Its start has come: its own for a campaign on its zone's time, up to a day ahead for one on
/// each recipient's own time (the caller checks its exact first opening:
/// `domain::localtime::earliest_start`).
pub(super) fn started_by(now: DateTime<Utc>) -> StartedBy {
    let ahead = now + crate::domain::localtime::AHEAD;
    c::start_at.le(now.naive_utc()).or(c::local_time
        .eq(true)
        .and(c::start_at.le(ahead.naive_utc())))
}

pub(super) type StartedBy = diesel::dsl::Or<
    diesel::dsl::LtEq<c::start_at, NaiveDateTime>,
    diesel::dsl::And<
        diesel::dsl::Eq<c::local_time, bool>,
        diesel::dsl::LtEq<c::start_at, NaiveDateTime>,
    >,
>;

/// Sets whether a campaign runs on each recipient's own time (`time: local`).
pub fn set_local_time(conn: &mut Conn<'_>, id: &str, on: bool) -> Result<(), StoreError> {
    run_on!(conn, |x| diesel::update(c::table.find(id))
        .set(c::local_time.eq(on))
        .execute(x))?;
    Ok(())
}

/// Records how many recipients of a local-time campaign fell back to the campaign's zone.
pub fn record_fallbacks(conn: &mut Conn<'_>, id: &str, n: usize) -> Result<(), StoreError> {
    run_on!(conn, |x| diesel::update(c::table.find(id))
        .set(c::zone_fallbacks.eq(n as i32))
        .execute(x))?;
    Ok(())
}

/// What is known of a user's zone: the client's, and the mailbox's with when it was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownZones {
    pub aad_object_id: Option<String>,
    pub client: Option<String>,
    pub mailbox: Option<String>,
    pub mailbox_at: Option<NaiveDateTime>,
}

type ZoneRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<NaiveDateTime>,
);

/// The known zones of `user_ids` (users not found are absent).
pub fn zones_of(
    conn: &mut Conn<'_>,
    user_ids: &[String],
) -> Result<HashMap<String, KnownZones>, StoreError> {
    let mut out = HashMap::with_capacity(user_ids.len());
    for chunk in user_ids.chunks(500) {
        let rows: Vec<ZoneRow> = run_on!(conn, |x| u::table
            .filter(u::id.eq_any(chunk))
            .select((
                u::id,
                u::aad_object_id,
                u::time_zone,
                u::mailbox_time_zone,
                u::mailbox_time_zone_at
            ))
            .load(x))?;
        for (id, aad, client, mailbox, mailbox_at) in rows {
            out.insert(
                id,
                KnownZones {
                    aad_object_id: aad,
                    client,
                    mailbox,
                    mailbox_at,
                },
            );
        }
    }
    Ok(out)
}

/// Records the zone Graph gave for a user (`None`: it gave none) as asked at `at`.
pub fn set_mailbox_zone(
    conn: &mut Conn<'_>,
    user_id: &str,
    zone: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    run_on!(conn, |x| diesel::update(u::table.find(user_id))
        .set((
            u::mailbox_time_zone.eq(zone),
            u::mailbox_time_zone_at.eq(at.naive_utc()),
        ))
        .execute(x))?;
    Ok(())
}

/// What [`note_client_zone`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneNoted {
    /// No such user (yet): nothing written.
    NoUser,
    /// The zone on record was already this one: nothing written.
    Same,
    /// The zone on record differed and was replaced.
    Changed,
}

/// Writes the zone a user's client reported, only when it differs from the one on record: the
/// zone is read first, so an unchanged zone takes no write lock.
pub fn note_client_zone(
    conn: &mut Conn<'_>,
    tenant: &str,
    channel: &str,
    channel_user_id: &str,
    zone: &str,
) -> Result<ZoneNoted, StoreError> {
    let found: Option<(String, Option<String>)> = run_on!(conn, |x| u::table
        .filter(u::tenant_id.eq(tenant))
        .filter(u::channel_id.eq(channel))
        .filter(u::channel_user_id.eq(channel_user_id))
        .select((u::id, u::time_zone))
        .first(x)
        .optional())?;
    let Some((id, current)) = found else {
        return Ok(ZoneNoted::NoUser);
    };
    if current.as_deref() == Some(zone) {
        return Ok(ZoneNoted::Same);
    }
    run_on!(conn, |x| diesel::update(u::table.find(&id))
        .set(u::time_zone.eq(zone))
        .execute(x))?;
    Ok(ZoneNoted::Changed)
}

/// Stores the zone the deliveries of `message_id` to `user_ids` were planned in.
pub fn set_planned_zone(
    conn: &mut Conn<'_>,
    message_id: &str,
    zone: &str,
    user_ids: &[String],
) -> Result<(), StoreError> {
    for chunk in user_ids.chunks(500) {
        run_on!(conn, |x| diesel::update(
            d::table
                .filter(d::message_id.eq(message_id))
                .filter(d::user_id.eq_any(chunk))
        )
        .set(d::planned_zone.eq(zone))
        .execute(x))?;
    }
    Ok(())
}

/// Each send's planned zone, by user, for a report.
pub fn planned_zones(
    conn: &mut Conn<'_>,
    message_id: &str,
) -> Result<HashMap<String, String>, StoreError> {
    let rows: Vec<(String, Option<String>)> = run_on!(conn, |x| d::table
        .filter(d::message_id.eq(message_id))
        .filter(d::planned_zone.is_not_null())
        .select((d::user_id, d::planned_zone))
        .load(x))?;
    Ok(rows
        .into_iter()
        .filter_map(|(u, z)| z.map(|z| (u, z)))
        .collect())
}

/// For the report: the planned moment of each of the send deliveries `deliveries` (of the
/// messages `sends`) and the zone it was planned in (the delivery's own, else its campaign's),
/// by delivery id (a person with several messages has one row per message).
pub fn planned_by_delivery(
    conn: &mut Conn<'_>,
    sends: &[String],
    deliveries: &[i64],
) -> Result<HashMap<i64, (String, NaiveDateTime)>, StoreError> {
    type Row = (i64, String, Option<String>, Option<NaiveDateTime>);
    let rows: Vec<Row> = run_on!(conn, |x| d::table
        .filter(d::id.eq_any(deliveries))
        .filter(d::planned_at.is_not_null())
        .select((d::id, d::message_id, d::planned_zone, d::planned_at))
        .load(x))?;
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let zones: HashMap<String, String> = run_on!(conn, |x| c::table
        .filter(c::id.eq_any(sends))
        .select((c::id, c::time_zone))
        .load::<(String, String)>(x))?
    .into_iter()
    .collect();
    Ok(rows
        .into_iter()
        .filter_map(|(delivery, message, zone, at)| {
            let zone = zone.or_else(|| zones.get(&message).cloned())?;
            Some((delivery, (zone, at?)))
        })
        .collect())
}
