//! Reactions to herald's messages (`messageReaction`): counted per campaign and broadcast and
//! per type. TO BE BUILT (issue 17, reactions).

use super::{Bot, BotError, Handled};
use crate::botframework::Activity;
use crate::botframework::activity::Checked;

impl Bot {
    pub(super) async fn reaction(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> Result<Handled, BotError> {
        let _ = (activity, checked);
        Ok(Handled::Ignored)
    }

    /// The line `broadcast info` and `campaign report` add for reactions (none without any).
    pub(in crate::bot) async fn reaction_lines(
        &self,
        subject_id: &str,
        lang: crate::domain::Lang,
    ) -> Result<Vec<String>, BotError> {
        let _ = (subject_id, lang);
        Ok(Vec::new())
    }
}
