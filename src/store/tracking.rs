//! Tracked links: the signing secret every instance shares, each message's links, and clicks.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::{app_secrets as s, deliveries as d, link_clicks as k, tracked_links as l};
use super::{Conn, StoreError};
use crate::run_on;

const TRACKING_SECRET: &str = "tracking";

/// The tracking secret kept in the database, made (32 random bytes, hex) on first use. Two
/// instances starting at once agree: the first insert wins and both read it back.
pub fn shared_secret(conn: &mut Conn<'_>, now: DateTime<Utc>) -> Result<String, StoreError> {
    let fresh: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    run_on!(conn, |c| diesel::insert_into(s::table)
        .values((
            s::name.eq(TRACKING_SECRET),
            s::value.eq(&fresh),
            s::created_at.eq(now.naive_utc()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(run_on!(conn, |c| s::table
        .find(TRACKING_SECRET)
        .select(s::value)
        .first(c))?)
}

/// Stores a message's links, numbered from 0 in the order given.
pub fn store_links(
    conn: &mut Conn<'_>,
    message_id: &str,
    links: &[String],
) -> Result<(), StoreError> {
    let rows: Vec<_> = links
        .iter()
        .enumerate()
        .map(|(i, url)| {
            (
                l::message_id.eq(message_id),
                l::idx.eq(i as i32),
                l::url.eq(url.as_str()),
            )
        })
        .collect();
    if !rows.is_empty() {
        run_on!(conn, |c| diesel::insert_into(l::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// A message's links, by number.
pub fn links(conn: &mut Conn<'_>, message_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(run_on!(conn, |c| l::table
        .filter(l::message_id.eq(message_id))
        .order(l::idx)
        .select(l::url)
        .load(c))?)
}

/// Records a click on link `idx` of a delivery and returns where it leads; `None` (nothing
/// recorded) when the delivery or the link does not exist.
pub fn click(
    conn: &mut Conn<'_>,
    delivery_id: i64,
    idx: u16,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let now = now.naive_utc();
    let idx = i32::from(idx);
    conn.write_transaction(|conn| {
        let url: Option<String> = run_on!(conn, |c| d::table
            .inner_join(l::table.on(l::message_id.eq(d::message_id)))
            .filter(d::id.eq(delivery_id))
            .filter(l::idx.eq(idx))
            .select(l::url)
            .first(c)
            .optional())?;
        if url.is_some() {
            run_on!(conn, |c| diesel::insert_into(k::table)
                .values((
                    k::delivery_id.eq(delivery_id),
                    k::idx.eq(idx),
                    k::first_at.eq(now),
                    k::last_at.eq(now),
                    k::clicks.eq(1),
                ))
                .on_conflict((k::delivery_id, k::idx))
                .do_update()
                .set((k::clicks.eq(k::clicks + 1), k::last_at.eq(now)))
                .execute(c))?;
        }
        Ok(url)
    })
}
