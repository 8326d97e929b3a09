//! Scheduled broadcasts (`send: 2026-12-01 09:00`): a broadcast held until its time (see
//! [`super::hold`]), which `broadcast edit` replaces and `broadcast delete` cancels while it is
//! still held.

use std::collections::HashMap;

use super::Broadcasts;
use crate::store::StoreError;
use crate::store::broadcasts::holds::{self, Edit, Hold};
use crate::store::broadcasts::{self as store, Broadcast};

/// What an edit or a cancel of a held broadcast came to.
#[derive(Debug, Clone)]
pub enum Changed {
    /// Done; the broadcast as it now stands.
    Done(Box<Broadcast>),
    /// It is no longer held: it went (or was cancelled) first.
    NotHeld,
}

impl Broadcasts {
    /// The hold of `bc`, if it was ever held.
    pub async fn hold_of(&self, bc: &Broadcast) -> Result<Option<Hold>, StoreError> {
        let id = bc.id.clone();
        self.outbox.db().run(move |c| holds::get(c, &id)).await
    }

    /// The holds of `broadcasts` (for `broadcasts`), by broadcast id.
    pub async fn holds_of(
        &self,
        broadcasts: &[Broadcast],
    ) -> Result<HashMap<String, Hold>, StoreError> {
        let ids: Vec<String> = broadcasts.iter().map(|b| b.id.clone()).collect();
        self.outbox.db().run(move |c| holds::of(c, &ids)).await
    }

    /// `broadcast edit`: replaces the content, options and time of `bc` while it is held.
    pub async fn edit_held(&self, bc: &Broadcast, edit: Edit) -> Result<Changed, StoreError> {
        let id = bc.id.clone();
        let changed = self
            .outbox
            .db()
            .run(move |conn| {
                conn.write_transaction(|conn| {
                    if !holds::edit(conn, &id, &edit)? {
                        return Ok(Changed::NotHeld);
                    }
                    let bc = store::get(conn, &id)?.ok_or(StoreError::Query(diesel::NotFound))?;
                    Ok(Changed::Done(Box::new(bc)))
                })
            })
            .await?;
        // Its time may be sooner than the one the engine waits for.
        self.outbox.wake();
        Ok(changed)
    }

    /// `broadcast delete` of a held broadcast: cancelled, nothing of it is ever sent.
    pub async fn cancel_held(
        &self,
        bc: &Broadcast,
        by: &str,
        by_user: Option<String>,
    ) -> Result<Changed, StoreError> {
        let (id, by, now) = (bc.id.clone(), by.to_string(), self.now());
        let changed = self
            .outbox
            .db()
            .run(move |conn| {
                conn.write_transaction(|conn| {
                    if !holds::cancel(conn, &id, &by, by_user.as_deref(), now)? {
                        return Ok(Changed::NotHeld);
                    }
                    let bc = store::get(conn, &id)?.ok_or(StoreError::Query(diesel::NotFound))?;
                    Ok(Changed::Done(Box::new(bc)))
                })
            })
            .await?;
        if let Changed::Done(bc) = &changed {
            tracing::info!(broadcast = bc.number, "held broadcast cancelled");
        }
        Ok(changed)
    }
}
