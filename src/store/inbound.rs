//! Inbound activity ids already handled: the Bot Framework redelivers an activity it believes
//! was lost, and each must take effect once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::batch::BatchWriter;
use super::schema::inbound_activities as t;
use super::{Conn, StoreError};
use crate::run_on;

/// Identifies one inbound activity.
#[derive(Debug, Clone)]
pub struct ActivityKey {
    pub channel_id: String,
    pub conversation_id: String,
    pub activity_id: String,
}

/// Records the activity as handled. Returns false when it already was (a redelivery).
pub fn claim(
    conn: &mut Conn<'_>,
    key: &ActivityKey,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(claim_many(conn, &[(key, now)])?
        .first()
        .copied()
        .unwrap_or(false))
}

/// Claims several activities in one statement; the answer for each is as [`claim`] gives it.
/// A key repeated within `keys` is fresh only at its first place.
pub fn claim_many(
    conn: &mut Conn<'_>,
    keys: &[(&ActivityKey, DateTime<Utc>)],
) -> Result<Vec<bool>, StoreError> {
    let rows: Vec<_> = keys
        .iter()
        .map(|(key, now)| {
            (
                t::channel_id.eq(key.channel_id.as_str()),
                t::conversation_id.eq(key.conversation_id.as_str()),
                t::activity_id.eq(key.activity_id.as_str()),
                t::received_at.eq(now.naive_utc()),
            )
        })
        .collect();
    let inserted: Vec<(String, String, String)> = run_on!(conn, |c| diesel::insert_into(t::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .returning((t::channel_id, t::conversation_id, t::activity_id))
        .get_results(c))?;
    let mut inserted: std::collections::HashSet<(String, String, String)> =
        inserted.into_iter().collect();
    Ok(keys
        .iter()
        .map(|(key, _)| {
            // `remove`, so that a second copy of the same key in this batch is a duplicate.
            inserted.remove(&(
                key.channel_id.clone(),
                key.conversation_id.clone(),
                key.activity_id.clone(),
            ))
        })
        .collect())
}

/// Forgets a claim whose handling failed, so that the redelivery is handled.
pub fn release(conn: &mut Conn<'_>, key: &ActivityKey) -> Result<(), StoreError> {
    run_on!(conn, |c| diesel::delete(
        t::table
            .filter(t::channel_id.eq(&key.channel_id))
            .filter(t::conversation_id.eq(&key.conversation_id))
            .filter(t::activity_id.eq(&key.activity_id))
    )
    .execute(c))?;
    Ok(())
}

/// Drops claims older than `before`; redeliveries come within minutes, not days.
pub fn prune(conn: &mut Conn<'_>, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(run_on!(conn, |c| diesel::delete(
        t::table.filter(t::received_at.lt(before.naive_utc()))
    )
    .execute(c))?)
}

/// Claims activities through a [`BatchWriter`]: concurrent requests share one statement.
#[derive(Clone)]
pub struct ClaimWriter {
    writer: BatchWriter<(ActivityKey, DateTime<Utc>), bool>,
}

impl ClaimWriter {
    /// Starts the writer thread; it ends when the last `ClaimWriter` clone is dropped.
    pub fn start(db: super::Db) -> std::io::Result<ClaimWriter> {
        let writer = BatchWriter::start(
            db,
            "herald-claims",
            |conn, batch: Vec<(ActivityKey, DateTime<Utc>)>| {
                let keys: Vec<_> = batch.iter().map(|(key, now)| (key, *now)).collect();
                claim_many(conn, &keys)
            },
        )?;
        Ok(ClaimWriter { writer })
    }

    /// Same contract as [`claim`]: false when the activity was already claimed.
    pub async fn claim(&self, key: ActivityKey, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writer.submit((key, now)).await
    }
}
