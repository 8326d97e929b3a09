//! **I have read and understood** (`ack: yes`): recorded once, answered with the card showing
//! when; and the acknowledgement lines of `broadcast info`.

use chrono_tz::Tz;
use serde_json::Value;

use super::super::{Bot, BotError};
use super::UNREAD_SHOWN;
use crate::botframework::Activity;
use crate::botframework::invoke;
use crate::broadcasts::cards::broadcast_card;
use crate::domain::Lang;
use crate::domain::broadcast::{CardContent, CardState};
use crate::domain::ids::BroadcastId;
use crate::domain::text::escape_markdown;
use crate::store::broadcasts::Broadcast;
use crate::store::broadcasts::acks::{Pressed, Standing};
use crate::store::users::ConversationRef;
use crate::t;

impl Bot {
    /// The person at `who` pressed **I have read and understood**; `data` is the action's
    /// data. Returns the invoke response (`botframework::invoke`).
    pub(super) async fn acknowledge(
        &self,
        activity: &Activity,
        who: &ConversationRef,
        data: &Value,
        lang: Lang,
    ) -> Result<Value, BotError> {
        let Some(broadcast) = data.get("broadcast").and_then(Value::as_str) else {
            return Ok(not_yours(lang));
        };
        let Some((user, pressed)) = self
            .broadcasts()
            .acknowledge(who, &BroadcastId::new(broadcast))
            .await?
        else {
            return Ok(not_yours(lang));
        };
        let tz = self.reader_zone(activity, &user);
        Ok(answer(lang, tz, pressed, || t!(lang, "ack-not-asked")))
    }

    /// The lines `broadcast info` adds for acknowledgements (none when not asked): how many of
    /// those reached acknowledged, and who has not yet.
    pub(super) async fn ack_lines(
        &self,
        bc: &Broadcast,
        lang: Lang,
        _tz: Tz,
    ) -> Result<Vec<String>, BotError> {
        if !bc.ack {
            return Ok(Vec::new());
        }
        let s = self.broadcasts().acks(bc, UNREAD_SHOWN).await?;
        let mut lines = vec![t!(
            lang,
            "broadcast-info-acks",
            acked = s.acked,
            reached = s.reached
        )];
        if s.pending_total > 0 && !bc.recalled() {
            let mut names: Vec<String> = s.pending.iter().map(|n| escape_markdown(n)).collect();
            if s.pending_total > s.pending.len() {
                names.push(format!("+{}", s.pending_total - s.pending.len()));
            }
            lines.push(t!(
                lang,
                "broadcast-info-not-acked",
                count = s.pending_total,
                names = names.join(", "),
            ));
        }
        Ok(lines)
    }
}

/// The invoke response to a pressed action: the card as it now stands for this person, or why
/// not (`not_asked`: the broadcast does not ask for this action).
pub(super) fn answer(
    lang: Lang,
    tz: Tz,
    pressed: Pressed,
    not_asked: impl FnOnce() -> String,
) -> Value {
    match pressed {
        Pressed::Done(bc, standing) => {
            invoke::card(invoke::card_of(&standing_card(lang, tz, &bc, &standing)))
        }
        Pressed::NotARecipient => not_yours(lang),
        Pressed::Recalled => {
            invoke::error(400, "Recalled", &t!(lang, "broadcast-recalled-by-sender"))
        }
        Pressed::NotAsked => invoke::error(400, "NotAsked", &not_asked()),
        Pressed::NoSuchChoice(count) => invoke::error(
            400,
            "BadChoice",
            &t!(lang, "poll-no-such-choice", count = count),
        ),
    }
}

pub(super) fn not_yours(lang: Lang) -> Value {
    invoke::error(400, "NotARecipient", &t!(lang, "broadcast-not-yours"))
}

/// The card that replaces the pressed one: read, with the acknowledgement's time in the
/// reader's zone and their answer. Its body is the stored one: links the sent card tracked
/// point straight to their target here (clicks from the replaced card are not counted).
fn standing_card(lang: Lang, tz: Tz, bc: &Broadcast, standing: &Standing) -> Value {
    let choices = bc.choices();
    let content = CardContent {
        broadcast_id: &bc.id,
        subject: &bc.subject,
        body: &bc.body,
        sender: &bc.sender_name,
        ack: bc.ack,
        choices: &choices,
    };
    let state = CardState {
        read: true,
        acked_at: standing.acked_at.map(|at| {
            at.and_utc()
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        }),
        chosen: standing.chosen,
        ..CardState::default()
    };
    broadcast_card(lang, &content, &state)
}
