//! **I have read and understood** (`ack: yes`): a recipient acknowledges a broadcast, once; and
//! how acknowledgements stand for `broadcast info`.

use super::Broadcasts;
use crate::domain::ids::{BroadcastId, UserId};
use crate::store::StoreError;
use crate::store::broadcasts::Broadcast;
use crate::store::broadcasts::acks::{self, AckSummary, Pressed};
use crate::store::broadcasts::presses::{self, Decided};

impl Broadcasts {
    /// `user_id` pressed **I have read and understood** on the card of `broadcast_id`: the
    /// acknowledgement (and a read) is recorded once; the result says where they now stand.
    pub async fn acknowledge(
        &self,
        broadcast_id: &BroadcastId,
        user_id: &UserId,
    ) -> Result<Pressed, StoreError> {
        let (broadcast_id, user_id, now) = (broadcast_id.clone(), user_id.clone(), self.now());
        let decided = self
            .outbox
            .db()
            .run(move |conn| {
                presses::decide_ack(conn, broadcast_id.as_str(), user_id.as_str(), now)
            })
            .await?;
        self.press(decided).await
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
