//! The audit log in the chat: recording an action that was carried out, and `audit [page]`,
//! the latest actions of the caller's tenant.

use chrono_tz::Tz;

use super::caller::Caller;
use super::reply::{Answer, Reply};
use super::{Bot, texts_lifecycle};
use crate::domain::Lang;
use crate::domain::text::escape_markdown;
use crate::store::{StoreError, audit};

impl Bot {
    /// Records an admin action that was carried out and returns its answer. The action has
    /// committed, so failing to record it must not fail the turn: the activity's claim would
    /// be released and the Bot Framework's redelivery would do it a second time (a second
    /// broadcast). The failure is logged and the admin told, in the answer.
    pub(super) async fn audit_done(
        &self,
        caller: &Caller,
        action: &str,
        reply: Reply,
        lang: Lang,
    ) -> Answer {
        let answer = reply.answer;
        match self.audit(caller, action, &reply.outcome).await {
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
        Answer::Progress(mut p) => {
            p.intro.push(note.to_string());
            if let Some(body) = p.card.get_mut("body").and_then(|b| b.as_array_mut()) {
                body.push(serde_json::json!({"type": "TextBlock", "text": note, "wrap": true}));
            }
            Answer::Progress(p)
        }
    }
}

/// Entries one `audit` answer shows: a reply stays small.
pub(super) const PER_PAGE: u32 = 20;

impl Bot {
    /// `audit [page]`: the latest actions of the caller's tenant, newest first, when (in the
    /// caller's zone), who, what, how it ended.
    pub(super) async fn audit_page(
        &self,
        caller: &Caller,
        page: u32,
        lang: Lang,
    ) -> Result<String, StoreError> {
        let tenant = caller.tenant.clone();
        let (entries, total) = self
            .db
            .run(move |conn| audit::page(conn, &tenant, page, PER_PAGE))
            .await?;
        let pages = u32::try_from((total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
            .unwrap_or(u32::MAX);
        if entries.is_empty() {
            return Ok(texts_lifecycle::audit_empty(lang, page, pages));
        }
        let tz: Tz = caller
            .time_zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(self.campaign_defaults.time_zone);
        let lines: Vec<String> = entries
            .iter()
            .map(|e| {
                let at =
                    e.at.and_utc()
                        .with_timezone(&tz)
                        .format("%Y-%m-%d %H:%M %Z");
                format!(
                    "- {at} · {} · `{}` · {}",
                    escape_markdown(&e.actor),
                    e.action.replace('`', "'"),
                    escape_markdown(&e.outcome)
                )
            })
            .collect();
        let mut text = format!(
            "{}\n\n{}",
            texts_lifecycle::audit_head(lang, page, pages),
            lines.join("\n")
        );
        if page < pages {
            text.push_str(&format!(
                "\n\n{}",
                texts_lifecycle::audit_more(lang, page + 1)
            ));
        }
        Ok(text)
    }
}
