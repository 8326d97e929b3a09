//! A poll's choices (`choices: A | B | C`): a person's latest choice counts, and the card shows
//! it. TO BE BUILT (issue 17, polls).

use chrono_tz::Tz;
use serde_json::Value;

use super::super::{Bot, BotError};
use crate::domain::Lang;
use crate::store::broadcasts::Broadcast;
use crate::store::users::User;

impl Bot {
    /// `user` pressed a choice; `data` is the action's data. Returns the invoke response.
    pub(super) async fn choose(
        &self,
        user: &User,
        data: &Value,
        lang: Lang,
        tz: Tz,
    ) -> Result<Value, BotError> {
        let _ = (user, data, lang, tz);
        todo!("issue 17: polls")
    }

    /// The lines `broadcast info` adds for a poll: the tally (none without a poll).
    pub(super) async fn poll_lines(
        &self,
        bc: &Broadcast,
        lang: Lang,
        tz: Tz,
    ) -> Result<Vec<String>, BotError> {
        let _ = (bc, lang, tz);
        Ok(Vec::new())
    }
}
