//! A poll's choices (`choices: A | B | C`): a person's latest choice counts, and the card shows
//! it; and the tally of `broadcast info`.

use chrono_tz::Tz;
use serde_json::Value;

use super::super::{Bot, BotError};
use super::ack::{answer, not_yours};
use crate::botframework::Activity;
use crate::botframework::invoke;
use crate::domain::Lang;
use crate::domain::ids::BroadcastId;
use crate::domain::text::escape_markdown;
use crate::store::broadcasts::Broadcast;
use crate::store::users::ConversationRef;
use crate::t;

impl Bot {
    /// The person at `who` pressed a choice; `data` is the action's data. Returns the invoke
    /// response. The choice must be a whole number from 0 (the card's own data); anything else
    /// is refused before anything is written (someone not on record hears first that the card
    /// is not theirs).
    pub(super) async fn choose(
        &self,
        activity: &Activity,
        who: &ConversationRef,
        data: &Value,
        lang: Lang,
    ) -> Result<Value, BotError> {
        let Some(broadcast) = data.get("broadcast").and_then(Value::as_str) else {
            return Ok(not_yours(lang));
        };
        let choice = match choice_of(data, lang) {
            Ok(n) => n,
            Err(refused) if self.user_of(who).await?.is_some() => return Ok(refused),
            Err(_) => return Ok(not_yours(lang)),
        };
        let Some((user, pressed)) = self
            .broadcasts()
            .choose(who, &BroadcastId::new(broadcast), choice)
            .await?
        else {
            return Ok(not_yours(lang));
        };
        let tz = self.reader_zone(activity, &user);
        Ok(answer(lang, tz, pressed, || t!(lang, "poll-not-a-poll")))
    }

    /// The lines `broadcast info` adds for a poll: how many answered of those reached, then
    /// every choice with its count and share of the answers (none without a poll).
    pub(super) async fn poll_lines(
        &self,
        bc: &Broadcast,
        lang: Lang,
        _tz: Tz,
    ) -> Result<Vec<String>, BotError> {
        let choices = bc.choices();
        if choices.is_empty() {
            return Ok(Vec::new());
        }
        let tally = self.broadcasts().tally(bc).await?;
        let mut lines = vec![t!(
            lang,
            "broadcast-info-poll",
            answered = tally.answered,
            reached = tally.reached
        )];
        for (choice, count) in choices.iter().zip(&tally.counts) {
            lines.push(t!(
                lang,
                "broadcast-info-poll-choice",
                choice = escape_markdown(choice),
                count = *count,
                percent = percent(*count, tally.answered),
            ));
        }
        Ok(lines)
    }
}

/// The choice pressed (a whole number from 0), or the invoke response refusing it.
fn choice_of(data: &Value, lang: Lang) -> Result<usize, Value> {
    match data.get("choice") {
        None | Some(Value::Null) => {
            Err(invoke::error(400, "BadChoice", &t!(lang, "poll-no-choice")))
        }
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                let shown: String = v.to_string().chars().take(40).collect();
                let text = t!(lang, "poll-choice-not-a-number", value = shown);
                invoke::error(400, "BadChoice", &text)
            }),
    }
}

/// `part` of `whole` in whole percent, rounded (0 when nobody answered).
fn percent(part: i64, whole: i64) -> i64 {
    if whole == 0 {
        0
    } else {
        (part * 200 + whole) / (2 * whole)
    }
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn percentages_round_to_the_nearest_whole() {
        assert_eq!(percent(0, 0), 0);
        assert_eq!(percent(2, 5), 40);
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(1, 8), 13);
    }
}
