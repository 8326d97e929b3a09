//! The audit log in the chat: recording an action that was carried out, and `audit [page]`,
//! the latest actions of the caller's tenant.

use super::admin::Caller;
use super::{Answer, Bot, texts_lifecycle};
use crate::domain::Lang;

impl Bot {
    /// Records an admin action that was carried out and returns its answer. The action has
    /// committed, so failing to record it must not fail the turn: the activity's claim would
    /// be released and the Bot Framework's redelivery would do it a second time (a second
    /// broadcast). The failure is logged and the admin told, in the answer.
    pub(super) async fn audit_done(
        &self,
        caller: &Caller,
        action: &str,
        outcome: &str,
        answer: Answer,
        lang: Lang,
    ) -> Answer {
        match self.audit(caller, action, outcome).await {
            Ok(()) => answer,
            Err(e) => {
                tracing::error!(error = ?e, tenant = %caller.tenant, "an admin action was done but could not be audited");
                with_note(answer, &texts_lifecycle::not_audited(lang))
            }
        }
    }
}

/// `answer` with `note` after it: a paragraph of text, or a last line of the card.
fn with_note(answer: Answer, note: &str) -> Answer {
    match answer {
        Answer::Text(text) => Answer::Text(format!("{text}\n\n{note}")),
        Answer::Card(mut card) => {
            if let Some(body) = card.get_mut("body").and_then(|b| b.as_array_mut()) {
                body.push(serde_json::json!({
                    "type": "TextBlock", "text": note, "wrap": true, "color": "Attention",
                }));
            }
            Answer::Card(card)
        }
    }
}
