//! A card's `Action.Execute` (`adaptiveCard/action` invokes): **I have read and understood**
//! ([`super::ack`]) and a poll's choices ([`super::poll`]). Each answers with the updated card
//! (or why not), returned as the HTTP response's body.

use chrono_tz::Tz;
use serde_json::Value;

use super::super::{Bot, BotError, Handled};
use crate::botframework::Activity;
use crate::botframework::activity::Checked;
use crate::botframework::invoke;
use crate::domain::Lang;
use crate::domain::broadcast::action;
use crate::t;

impl Bot {
    /// An `adaptiveCard/action` invoke from a recipient's card.
    pub(in crate::bot) async fn card_invoke(
        &self,
        activity: &Activity,
        checked: &Checked,
        lang: Lang,
    ) -> Result<Handled, BotError> {
        let refused =
            |code: &str, text: String| Ok(Handled::Invoke(invoke::error(400, code, &text)));
        let Some((_verb, data)) = invoke::action_of(activity.value.as_ref()) else {
            return refused("BadRequest", t!(lang, "broadcast-not-yours"));
        };
        let key = self.key_of(activity, checked);
        let verb = data.get("herald").and_then(Value::as_str);
        // A recipient's press finds them itself, in the same visit to the database that
        // decides it; someone not on record is told the card is not theirs, as below.
        match verb {
            Some(action::ACK) => {
                let response = self.acknowledge(activity, &key, &data, lang).await?;
                return Ok(Handled::Invoke(response));
            }
            Some(action::CHOOSE) => {
                let response = self.choose(activity, &key, &data, lang).await?;
                return Ok(Handled::Invoke(response));
            }
            _ => {}
        }
        let Some(user) = self.user_of(&key).await? else {
            return refused("NotARecipient", t!(lang, "broadcast-not-yours"));
        };
        let tz = self.reader_zone(activity, &user);
        let response = match verb {
            Some(crate::approvals::cards::ACTION) => {
                self.approval_pressed(&user, &data, lang, tz).await?
            }
            _ => invoke::error(400, "BadRequest", &t!(lang, "broadcast-not-yours")),
        };
        Ok(Handled::Invoke(response))
    }

    /// The zone times are shown in to a recipient: their Teams client's, else the one herald
    /// knows for them, else the campaigns' default.
    pub(in crate::bot) fn reader_zone(
        &self,
        activity: &Activity,
        user: &crate::store::users::User,
    ) -> Tz {
        activity
            .time_zone()
            .or(user.time_zone.as_deref())
            .and_then(|z| z.parse().ok())
            .unwrap_or(self.campaign_defaults.time_zone)
    }
}
