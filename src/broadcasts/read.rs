//! Reads: **Mark as read** on a card, and Teams read receipts. A new read turns the
//! recipient's card into the read card, posted through the outbox.

use super::Broadcasts;
use crate::domain::ids::{BroadcastId, UserId};
use crate::store::StoreError;
use crate::store::broadcasts::{self as store, Read, ReadRecorded, ReadSource};

impl Broadcasts {
    /// `user_id` pressed **Mark as read** on the card of `broadcast_id`.
    pub async fn read(
        &self,
        broadcast_id: &BroadcastId,
        user_id: &UserId,
    ) -> Result<Read, StoreError> {
        let (broadcast_id, user_id, now) = (broadcast_id.clone(), user_id.clone(), self.now());
        self.outbox
            .write(move |conn, post| {
                let recorded = store::record_read(
                    conn,
                    broadcast_id.as_str(),
                    user_id.as_str(),
                    ReadSource::Button,
                    now,
                )?;
                post_update(conn, post, &recorded, now)?;
                Ok(recorded.read)
            })
            .await
    }

    /// A Teams read receipt from `user_id`: every card up to `last_read` is read. Returns how
    /// many reads were new.
    pub async fn receipt(&self, user_id: &UserId, last_read: &str) -> Result<usize, StoreError> {
        let (user_id, last_read, now) = (user_id.clone(), last_read.to_string(), self.now());
        // Most receipts cover nothing new: look first, and write only when there is something.
        let (u, l) = (user_id.clone(), last_read.clone());
        let candidates = self
            .outbox
            .db()
            .run(move |conn| store::receipt_candidates(conn, u.as_str(), &l))
            .await?;
        if candidates.is_empty() {
            return Ok(0);
        }
        self.outbox
            .write(move |conn, post| {
                let new = store::record_receipt(conn, user_id.as_str(), &last_read, now)?;
                for recorded in &new {
                    post_update(conn, post, recorded, now)?;
                }
                Ok(new.len())
            })
            .await
    }
}

fn post_update(
    conn: &mut crate::store::Conn<'_>,
    post: &mut crate::outbox::Posting,
    recorded: &ReadRecorded,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    if let Some(update) = &recorded.update {
        post.enqueue(
            conn,
            &update.message_id,
            &update.tenant_id,
            std::slice::from_ref(&update.delivery),
            now,
        )?;
    }
    Ok(())
}
