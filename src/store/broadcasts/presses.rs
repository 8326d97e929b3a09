//! Pressing a card's action (acknowledge, a poll's choice) in two steps: what it changes is
//! decided from where the person stands ([`super::acks::pressing`], one query on any
//! connection), then only a press that changes something is written. The writes of a burst of
//! presses go through one [`BatchWriter`]: they share a transaction (a commit, and on SQLite
//! the write lock) instead of each paying its own.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::super::batch::BatchWriter;
use super::super::schema::{broadcast_acks as a, broadcast_answers as ans};
use super::super::{Conn, Db, StoreError};
use super::Broadcast;
use super::acks::{Pressed, Pressing, Standing, action_read, pressing, read_by_action};
use crate::run_on;

/// What a press writes. Every statement is safe against a concurrent press of the same
/// person (the first acknowledgement stands; a change counts once).
#[derive(Debug, Clone)]
pub struct Change {
    pub broadcast_id: String,
    pub user_id: String,
    pub now: DateTime<Utc>,
    /// How their read was recorded, if it was: acting on the card is also a read.
    pub read: Option<String>,
    pub what: What,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Acknowledge,
    /// The latest choice; `had` when they had answered before.
    Answer {
        choice: i32,
        had: bool,
    },
}

/// A press, decided: refused or changing nothing, or a change to write.
#[derive(Debug)]
pub enum Decided {
    Done(Pressed),
    Write(Box<Broadcast>, Standing, Change),
}

impl Change {
    /// Writes the change on `conn`, which is in a write transaction unless [`Self::alone`].
    /// Returns when the person acknowledged (the first time stands), for an acknowledgement.
    fn apply(&self, conn: &mut Conn<'_>) -> Result<Option<NaiveDateTime>, StoreError> {
        let (bc, user, now) = (self.broadcast_id.as_str(), self.user_id.as_str(), self.now);
        let acked = match self.what {
            What::Acknowledge => acknowledge(conn, bc, user, now)?,
            What::Answer { choice, had } => {
                answer(conn, bc, user, choice, had, now)?;
                None
            }
        };
        read_by_action(conn, bc, user, self.read.as_deref(), now)?;
        Ok(acked)
    }

    /// Whether the change is a single statement (their read came from an action already), so
    /// needs no transaction of its own.
    fn alone(&self) -> bool {
        action_read(self.read.as_deref())
    }

    /// Writes the change on its own: in one transaction when it has more than one statement.
    pub fn write(&self, conn: &mut Conn<'_>) -> Result<Option<NaiveDateTime>, StoreError> {
        if self.alone() {
            self.apply(conn)
        } else {
            conn.write_transaction(|conn| self.apply(conn))
        }
    }
}

impl What {
    /// Where the person stands once the change is written (`acked`: what it returned).
    pub fn done(
        self,
        bc: Box<Broadcast>,
        mut standing: Standing,
        acked: Option<NaiveDateTime>,
    ) -> Pressed {
        if self == What::Acknowledge {
            standing.acked_at = acked;
        }
        Pressed::Done(bc, standing)
    }
}

/// `user_id` pressed **I have read and understood**: refused, already acknowledged (nothing to
/// write: one query), or the acknowledgement to write, with a read if there was none (see
/// [`super::presses`]). The first time stands.
pub fn decide_ack(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Decided, StoreError> {
    let Pressing { bc, standing, read } = match pressing(conn, broadcast_id, user_id)? {
        Ok(p) => p,
        Err(refused) => return Ok(Decided::Done(refused)),
    };
    if !bc.ack {
        return Ok(Decided::Done(Pressed::NotAsked));
    }
    if standing.acked_at.is_some() {
        return Ok(Decided::Done(Pressed::Done(Box::new(bc), standing)));
    }
    let change = Change {
        broadcast_id: broadcast_id.to_string(),
        user_id: user_id.to_string(),
        now,
        read,
        what: What::Acknowledge,
    };
    Ok(Decided::Write(Box::new(bc), standing, change))
}

/// Records the acknowledgement unless there is one; returns the one that stands.
fn acknowledge(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<NaiveDateTime>, StoreError> {
    let added = run_on!(conn, |c| diesel::insert_into(a::table)
        .values((
            a::broadcast_id.eq(broadcast_id),
            a::user_id.eq(user_id),
            a::acked_at.eq(now.naive_utc()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if added == 1 {
        return Ok(Some(now.naive_utc()));
    }
    // Pressed twice at once: the first time stands.
    Ok(run_on!(conn, |c| a::table
        .filter(a::broadcast_id.eq(broadcast_id))
        .filter(a::user_id.eq(user_id))
        .select(a::acked_at)
        .first(c)
        .optional())?)
}

/// Stores `choice` as the person's latest; `changes` goes up by one when it differs from the
/// one before.
fn answer(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
    choice: i32,
    had: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let added = if had {
        0
    } else {
        run_on!(conn, |c| diesel::insert_into(ans::table)
            .values((
                ans::broadcast_id.eq(broadcast_id),
                ans::user_id.eq(user_id),
                ans::choice.eq(choice),
                ans::answered_at.eq(now.naive_utc()),
                ans::changes.eq(0),
            ))
            .on_conflict_do_nothing()
            .execute(c))?
    };
    if added == 0 {
        // One statement: two presses at once cannot both count as a change.
        run_on!(conn, |c| diesel::update(
            ans::table
                .filter(ans::broadcast_id.eq(broadcast_id))
                .filter(ans::user_id.eq(user_id))
                .filter(ans::choice.ne(choice))
        )
        .set((
            ans::choice.eq(choice),
            ans::answered_at.eq(now.naive_utc()),
            ans::changes.eq(ans::changes + 1),
        ))
        .execute(c))?;
    }
    Ok(())
}

type Written = Result<Option<NaiveDateTime>, StoreError>;

/// Writes the changes of concurrent presses together (see the module). Each submitter still
/// waits for its own change to be committed.
#[derive(Clone)]
pub struct PressWriter {
    writer: BatchWriter<Change, Written>,
}

impl PressWriter {
    /// Starts the writer thread; it ends when the last clone is dropped.
    pub fn start(db: Db) -> std::io::Result<PressWriter> {
        let writer = BatchWriter::start(db, "herald-presses", |conn, batch: Vec<Change>| {
            if let [change] = batch.as_slice() {
                // Alone in its batch: written as it would be without the writer, so a single
                // statement pays no BEGIN and COMMIT (on PostgreSQL two more round trips).
                return Ok(vec![Ok(change.write(conn)?)]);
            }
            let together = conn.write_transaction(|conn| {
                batch
                    .iter()
                    .map(|change| change.apply(conn))
                    .collect::<Result<Vec<_>, _>>()
            });
            match together {
                Ok(acked) => Ok(acked.into_iter().map(Ok).collect()),
                // One change failed and took the others' transaction with it: each on its
                // own, so only that one fails.
                Err(_) if batch.len() > 1 => Ok(batch.iter().map(|c| c.write(conn)).collect()),
                Err(e) => Err(e),
            }
        })?;
        Ok(PressWriter { writer })
    }

    /// Writes `change` with the others waiting; returns what [`Change::write`] would.
    pub async fn write(&self, change: Change) -> Written {
        self.writer.submit(change).await?
    }
}
