//! **I have read and understood** (`ack: yes`): a recipient acknowledges a broadcast, once; and
//! how acknowledgements stand for `broadcast info`.

use super::Broadcasts;
use crate::domain::ids::BroadcastId;
use crate::store::broadcasts::Broadcast;
use crate::store::broadcasts::acks::{self, AckSummary, Pressed};
use crate::store::broadcasts::presses::{self, Decided};
use crate::store::users::{self, ConversationRef, User};
use crate::store::{Conn, StoreError};

impl Broadcasts {
    /// The person at `who` pressed **I have read and understood** on the card of
    /// `broadcast_id`: the acknowledgement (and a read) is recorded once; the result says where
    /// they now stand. `None` when nobody is on record at `who`.
    pub async fn acknowledge(
        &self,
        who: &ConversationRef,
        broadcast_id: &BroadcastId,
    ) -> Result<Option<(User, Pressed)>, StoreError> {
        let (broadcast_id, now) = (broadcast_id.clone(), self.now());
        self.press_as(who, move |conn, user_id| {
            presses::decide_ack(conn, broadcast_id.as_str(), user_id, now)
        })
        .await
    }

    /// Finds the person at `who` and decides their press in one visit to the database (one
    /// pooled connection, and on PostgreSQL one liveness check, instead of two), then writes
    /// what it decided. `None` when nobody is on record at `who`.
    pub(super) async fn press_as<F>(
        &self,
        who: &ConversationRef,
        decide: F,
    ) -> Result<Option<(User, Pressed)>, StoreError>
    where
        F: FnOnce(&mut Conn<'_>, &str) -> Result<Decided, StoreError> + Send + 'static,
    {
        let who = who.clone();
        let found = self
            .outbox
            .db()
            .run(move |conn| {
                let Some(user) = users::find(conn, &who)? else {
                    return Ok(None);
                };
                let decided = decide(conn, &user.id)?;
                Ok(Some((user, decided)))
            })
            .await?;
        let Some((user, decided)) = found else {
            return Ok(None);
        };
        Ok(Some((user, self.press(decided).await?)))
    }

    /// Writes what a press decided, if anything, through the press writer when there is one
    /// (the writes of a burst share a transaction); returns where the person now stands.
    pub(super) async fn press(&self, decided: Decided) -> Result<Pressed, StoreError> {
        let (bc, standing, change) = match decided {
            Decided::Done(pressed) => return Ok(pressed),
            Decided::Write(bc, standing, change) => (bc, standing, change),
        };
        let what = change.what;
        let acked = match &self.presses {
            Some(writer) => writer.write(change).await?,
            None => self.outbox.db().run(move |conn| change.write(conn)).await?,
        };
        Ok(what.done(bc, standing, acked))
    }

    /// Who acknowledged `bc` of those it reached, and the first `shown` who have not.
    pub async fn acks(&self, bc: &Broadcast, shown: usize) -> Result<AckSummary, StoreError> {
        let bc = bc.clone();
        self.outbox
            .db()
            .run(move |conn| acks::ack_summary(conn, &bc, shown))
            .await
    }
}
