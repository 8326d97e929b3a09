//! What recipients do with a broadcast card, in the chat: mark it read (button or Teams read
//! receipt) and reply, relayed 1:1 to the sender and back. Each turns the activity into a call
//! of `crate::broadcasts` and its result into a sentence from the catalogue.

use serde_json::Value;

use super::super::{Bot, BotError, Handled};
use crate::botframework::Activity;
use crate::botframework::activity::Checked;
use crate::broadcasts::Relayed;
use crate::domain::Lang;
use crate::domain::broadcast::{self as domain, action};
use crate::domain::ids::{BroadcastId, UserId};
use crate::domain::text::escape_markdown;
use crate::store::broadcasts::Read;
use crate::store::users::{self, User};
use crate::t;

/// The Teams event a read receipt arrives as.
pub const READ_RECEIPT_EVENT: &str = "application/vnd.microsoft.readReceipt";

/// What the replier (or the answering sender) is told.
fn relayed_text(lang: Lang, relayed: Relayed, reply: bool) -> String {
    match relayed {
        Relayed::Passed { to, subject } if reply => t!(
            lang,
            "broadcast-reply-passed",
            subject = super::q(&subject),
            to = escape_markdown(&to),
        ),
        Relayed::Passed { to, .. } => {
            t!(lang, "broadcast-answer-passed", to = escape_markdown(&to))
        }
        Relayed::Refused(problem) => crate::texts::problem(lang, &problem),
        Relayed::NotYours => t!(lang, "broadcast-not-yours"),
    }
}

impl Bot {
    pub(in crate::bot) fn key_of(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> users::ConversationRef {
        users::ConversationRef {
            tenant_id: activity.tenant_id().unwrap_or_default().to_string(),
            channel_id: checked.channel_id.clone(),
            channel_user_id: checked.from.id.clone(),
            ..users::ConversationRef::default()
        }
    }

    /// A Teams read receipt: marks every broadcast card (and campaign message) it covers as
    /// read.
    pub(in crate::bot) async fn read_receipt(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> Result<Handled, BotError> {
        let Some(last_read) = activity
            .value
            .as_ref()
            .and_then(|v| v.get("lastReadMessageId"))
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Err(BotError::BadActivity(
                "a read receipt needs `value.lastReadMessageId`".into(),
            ));
        };
        let key = self.key_of(activity, checked);
        let Some(user) = self.user_of(&key).await? else {
            return Ok(Handled::Ignored);
        };
        let (user_id, read_to, now) = (user.id.clone(), last_read.clone(), self.clock.now());
        let campaigns = self
            .db
            .run(move |conn| {
                crate::store::reports::record_campaign_receipt(conn, &user_id, &read_to, now)
            })
            .await?;
        let reader = UserId::new(user.id.as_str());
        let n = campaigns + self.broadcasts().receipt(&reader, &last_read).await?;
        if n > 0 {
            tracing::debug!(reads = n, "read receipt recorded");
        }
        Ok(Handled::Processed)
    }

    /// A card button pressed by anyone: mark as read, reply, answer.
    pub(in crate::bot) async fn card_action(
        &self,
        activity: &Activity,
        checked: &Checked,
        value: &Value,
        lang: Lang,
    ) -> Result<Handled, BotError> {
        let key = self.key_of(activity, checked);
        let Some(user) = self.user_of(&key).await? else {
            self.reply(activity, checked, super::super::texts::hint(lang))
                .await;
            return Ok(Handled::Processed);
        };
        let get = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or_default();
        let text = get(domain::TEXT_INPUT).trim().to_string();
        let answer = match value.get("herald").and_then(Value::as_str) {
            Some(action::READ) => {
                let (broadcast, reader) =
                    (BroadcastId::new(get("broadcast")), UserId::new(&user.id));
                match self.broadcasts().read(&broadcast, &reader).await? {
                    // The card itself changes to say it was read.
                    Read::New | Read::Already => None,
                    Read::NotARecipient => Some(t!(lang, "broadcast-not-yours")),
                    Read::Recalled => Some(t!(lang, "broadcast-recalled-by-sender")),
                }
            }
            Some(action::REPLY) => Some(
                self.relay_reply(&user, get("broadcast"), &text, lang)
                    .await?,
            ),
            Some(action::ANSWER) => {
                let relayed = self
                    .broadcasts()
                    .relay_answer(&user, get("thread"), &text)
                    .await?;
                Some(relayed_text(lang, relayed, false))
            }
            _ => return Ok(Handled::Ignored),
        };
        if let Some(answer) = answer {
            self.reply(activity, checked, answer).await;
        }
        Ok(Handled::Processed)
    }

    /// The broadcast a recipient's plain message answers, if any.
    pub(in crate::bot) async fn reply_target(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> Result<Option<(User, String)>, BotError> {
        let key = self.key_of(activity, checked);
        let quoting = activity
            .reply_to_id
            .as_deref()
            .is_some_and(|r| !r.is_empty());
        // Read before the database is: an enqueue committed after it moves it on.
        let generation = self.db.enqueue_generation();
        if let Some(g) = generation
            && !quoting
            && self.quiet.is_quiet(&key, g)
        {
            return Ok(None);
        }
        let (target, settled) = self
            .broadcasts()
            .reply_target_of(key.clone(), activity.reply_to_id.clone())
            .await?;
        if let Some(g) = generation
            && settled
        {
            self.quiet.remember(&key, g);
        }
        Ok(target.map(|(user, t)| (user, t.into_string())))
    }

    /// Relays a recipient's reply into the sender's chat; returns what the replier is told.
    pub(in crate::bot) async fn relay_reply(
        &self,
        replier: &User,
        broadcast_id: &str,
        text: &str,
        lang: Lang,
    ) -> Result<String, BotError> {
        let relayed = self
            .broadcasts()
            .relay_reply(replier, &BroadcastId::new(broadcast_id), text)
            .await?;
        Ok(relayed_text(lang, relayed, true))
    }
}
