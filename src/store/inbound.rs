//! Inbound activity ids already handled: the Bot Framework redelivers an activity it believes
//! was lost, and each must take effect once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

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

/// Claims many activities per transaction ("group commit").
///
/// Each request still waits until its own claim is committed before doing anything, so the
/// once-only guarantee is unchanged; but the concurrent requests of a burst share one commit
/// (and, on SQLite, one WAL append) instead of paying one each. A dedicated thread takes the
/// first waiting claim, then every claim that arrived meanwhile, up to [`MAX_BATCH`].
#[derive(Clone)]
pub struct ClaimWriter {
    queue: tokio::sync::mpsc::UnboundedSender<Pending>,
}

type Pending = (
    ActivityKey,
    DateTime<Utc>,
    tokio::sync::oneshot::Sender<Result<bool, StoreError>>,
);

/// Most claims committed together.
pub const MAX_BATCH: usize = 256;

impl ClaimWriter {
    /// Starts the writer thread; it ends when the last `ClaimWriter` clone is dropped.
    pub fn start(db: super::Db) -> std::io::Result<ClaimWriter> {
        let (queue, mut incoming) = tokio::sync::mpsc::unbounded_channel::<Pending>();
        std::thread::Builder::new()
            .name("herald-claims".into())
            .spawn(move || {
                let mut batch = Vec::with_capacity(MAX_BATCH);
                // One connection kept across batches: its page cache stays warm. It is given
                // back (and a new one taken) after any failure.
                let mut conn = None;
                while let Some(first) = incoming.blocking_recv() {
                    batch.push(first);
                    while batch.len() < MAX_BATCH {
                        match incoming.try_recv() {
                            Ok(p) => batch.push(p),
                            Err(_) => break,
                        }
                    }
                    commit(&db, &mut conn, &mut batch);
                }
            })?;
        Ok(ClaimWriter { queue })
    }

    /// Same contract as [`claim`]: false when the activity was already claimed.
    pub async fn claim(&self, key: ActivityKey, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.queue
            .send((key, now, done))
            .map_err(|_| StoreError::Unavailable("the claim writer has stopped".into()))?;
        result
            .await
            .map_err(|_| StoreError::Unavailable("the claim writer has stopped".into()))?
    }
}

fn commit(
    db: &super::Db,
    held: &mut Option<r2d2::PooledConnection<super::Manager>>,
    batch: &mut Vec<Pending>,
) {
    let outcome = match held.take().map_or_else(|| db.get(), Ok) {
        Ok(mut conn) => {
            let keys: Vec<_> = batch.iter().map(|(key, now, _)| (key, *now)).collect();
            let outcome = claim_many(&mut conn.as_conn(), &keys);
            if outcome.is_ok() {
                *held = Some(conn);
            }
            outcome
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(fresh) => {
            for ((_, _, done), fresh) in batch.drain(..).zip(fresh) {
                let _ = done.send(Ok(fresh));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, claims = batch.len(), "claiming inbound activities failed");
            let unavailable = matches!(e, StoreError::Unavailable(_));
            for (_, _, done) in batch.drain(..) {
                // The error is not Clone; each waiter gets its own of the same kind.
                let _ = done.send(Err(if unavailable {
                    StoreError::Unavailable(e.to_string())
                } else {
                    StoreError::Query(diesel::result::Error::RollbackTransaction)
                }));
            }
        }
    }
}
