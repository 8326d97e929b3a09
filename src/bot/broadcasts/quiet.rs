//! People known to have nothing their plain message could answer: no broadcast card within the
//! reply window, no thread, nothing on its way to them. That can only change when deliveries
//! are enqueued (a card must reach them first), so each answer is kept with the enqueue
//! generation read before the database was asked (`Db::enqueue_generation`), and trusted while
//! the generation has not moved on. Ordinary chat from such a person is then answered without
//! a database visit.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::users::ConversationRef;

/// Most people remembered; past it, the memory starts afresh.
const MOST: usize = 100_000;

/// Who wrote: tenant, channel, and the channel's id of the person.
type Key = (String, String, String);

fn key_of(r: &ConversationRef) -> Key {
    (
        r.tenant_id.clone(),
        r.channel_id.clone(),
        r.channel_user_id.clone(),
    )
}

#[derive(Default)]
pub(in crate::bot) struct Quiet {
    known: Mutex<HashMap<Key, u64>>,
}

impl Quiet {
    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<Key, u64>> {
        // A poisoned lock only means a panic elsewhere; the map is still whole.
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `who` was found with nothing to answer under `generation`.
    pub fn is_quiet(&self, who: &ConversationRef, generation: u64) -> bool {
        self.known().get(&key_of(who)) == Some(&generation)
    }

    /// `who` has nothing to answer, as found under `generation`.
    pub fn remember(&self, who: &ConversationRef, generation: u64) {
        let mut known = self.known();
        if known.len() >= MOST {
            known.clear();
        }
        known.insert(key_of(who), generation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(id: &str) -> ConversationRef {
        ConversationRef {
            tenant_id: "t".into(),
            channel_id: "msteams".into(),
            channel_user_id: id.into(),
            ..ConversationRef::default()
        }
    }

    #[test]
    fn an_answer_holds_only_under_its_generation() {
        let quiet = Quiet::default();
        assert!(!quiet.is_quiet(&who("29:a"), 1));
        quiet.remember(&who("29:a"), 1);
        assert!(quiet.is_quiet(&who("29:a"), 1));
        assert!(
            !quiet.is_quiet(&who("29:a"), 2),
            "something was enqueued since"
        );
        assert!(!quiet.is_quiet(&who("29:b"), 1));
    }
}
