//! A poll's choices (`choices: A | B | C`): a recipient's latest choice counts; and the tally
//! for `broadcast info`.

use super::Broadcasts;
use crate::domain::ids::BroadcastId;
use crate::store::StoreError;
use crate::store::broadcasts::Broadcast;
use crate::store::broadcasts::acks::Pressed;
use crate::store::broadcasts::answers::{self, Tally};
use crate::store::users::{ConversationRef, User};

impl Broadcasts {
    /// The person at `who` pressed the poll's choice number `choice` (from 0) on the card of
    /// `broadcast_id`. A choice not on the card is refused and changes nothing. `None` when
    /// nobody is on record at `who`.
    pub async fn choose(
        &self,
        who: &ConversationRef,
        broadcast_id: &BroadcastId,
        choice: usize,
    ) -> Result<Option<(User, Pressed)>, StoreError> {
        let (broadcast_id, now) = (broadcast_id.clone(), self.now());
        self.press_as(who, move |conn, user_id| {
            answers::decide_answer(conn, broadcast_id.as_str(), user_id, choice, now)
        })
        .await
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
