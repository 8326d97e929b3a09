//! **I have read and understood** (`ack: yes`): recorded once, answered with the card showing
//! when. TO BE BUILT (issue 17, acknowledgements).

use chrono_tz::Tz;
use serde_json::Value;

use super::super::{Bot, BotError};
use crate::domain::Lang;
use crate::store::broadcasts::Broadcast;
use crate::store::users::User;

impl Bot {
    /// `user` pressed **I have read and understood**; `data` is the action's data. Returns the
    /// invoke response (`botframework::invoke`).
    pub(super) async fn acknowledge(
        &self,
        user: &User,
        data: &Value,
        lang: Lang,
        tz: Tz,
    ) -> Result<Value, BotError> {
        let _ = (user, data, lang, tz);
        todo!("issue 17: acknowledgements")
    }

    /// The lines `broadcast info` adds for acknowledgements (none when not asked).
    pub(super) async fn ack_lines(
        &self,
        bc: &Broadcast,
        lang: Lang,
        tz: Tz,
    ) -> Result<Vec<String>, BotError> {
        let _ = (bc, lang, tz);
        Ok(Vec::new())
    }
}
