//! A poll's choices (`choices: A | B | C`): a recipient's latest choice counts; and the tally
//! for `broadcast info`.

use super::Broadcasts;
use crate::domain::ids::{BroadcastId, UserId};
use crate::store::StoreError;
use crate::store::broadcasts::Broadcast;
use crate::store::broadcasts::acks::Pressed;
use crate::store::broadcasts::answers::{self, Tally};

impl Broadcasts {
    /// `user_id` pressed the poll's choice number `choice` (from 0) on the card of
    /// `broadcast_id`. A choice not on the card is refused and changes nothing.
    pub async fn choose(
        &self,
        broadcast_id: &BroadcastId,
        user_id: &UserId,
        choice: usize,
    ) -> Result<Pressed, StoreError> {
        let (broadcast_id, user_id, now) = (broadcast_id.clone(), user_id.clone(), self.now());
        let decided = self
            .outbox
            .db()
            .run(move |conn| {
                answers::decide_answer(conn, broadcast_id.as_str(), user_id.as_str(), choice, now)
            })
            .await?;
        self.press(decided).await
    }

    /// The tally of `bc`'s poll (every choice, even those nobody chose).
    pub async fn tally(&self, bc: &Broadcast) -> Result<Tally, StoreError> {
        let (id, choices) = (bc.id.clone(), bc.choices().len());
        self.outbox
            .db()
            .run(move |conn| answers::tally(conn, &id, choices))
            .await
    }
}
