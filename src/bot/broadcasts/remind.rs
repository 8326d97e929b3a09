//! `broadcast remind <n>` (`diffusion relancer`): a reminder to those who have not read (or
//! acknowledged) it. TO BE BUILT (issue 17, reminders).

use chrono_tz::Tz;

use super::super::reply::Reply;
use super::super::{Bot, BotError};
use super::Caller;
use crate::domain::Lang;
use crate::store::broadcasts::Broadcast;

impl Bot {
    pub(in crate::bot) async fn broadcast_remind(
        &self,
        caller: &Caller,
        id: &str,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let _ = (caller, id, lang);
        todo!("issue 17: reminders")
    }

    /// The lines `broadcast info` adds for reminders: sent, and reads after one.
    pub(super) async fn reminder_lines(
        &self,
        bc: &Broadcast,
        lang: Lang,
        tz: Tz,
    ) -> Result<Vec<String>, BotError> {
        let _ = (bc, lang, tz);
        Ok(Vec::new())
    }
}
