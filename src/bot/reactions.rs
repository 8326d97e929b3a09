//! Reactions to herald's messages (`messageReaction`): counted per campaign and broadcast and
//! per type. A reaction is to the message its `replyToId` names: herald finds the campaign or
//! broadcast it delivered to the reacting person as that activity, and records nothing for any
//! other message (relayed replies, notices, ids it never gave them).

use super::{Bot, BotError, Handled};
use crate::botframework::Activity;
use crate::botframework::activity::{Checked, MessageReaction};
use crate::domain::Lang;
use crate::domain::text::escape_markdown;
use crate::store::{reactions, users};
use crate::t;

/// The longest reaction type recorded (Teams' are short names; longer is not a reaction).
pub const MAX_REACTION_LEN: usize = 64;

/// The types of an activity's reactions worth recording: trimmed, empty ones dropped, too long
/// ones refused (logged), each once.
fn reaction_types(list: Option<&[MessageReaction]>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for reaction in list.unwrap_or_default() {
        let kind = reaction.kind.trim();
        if kind.is_empty() {
            continue;
        }
        if kind.chars().count() > MAX_REACTION_LEN {
            tracing::warn!(
                length = kind.chars().count(),
                "reaction type over {MAX_REACTION_LEN} characters ignored"
            );
            continue;
        }
        if !out.iter().any(|k| k == kind) {
            out.push(kind.to_string());
        }
    }
    out
}

/// A reaction type as shown: the emoji of Teams' six, then its name.
fn shown(kind: &str) -> String {
    let emoji = match kind {
        "like" => "👍",
        "heart" => "❤️",
        "laugh" => "😆",
        "surprised" => "😮",
        "sad" => "😢",
        "angry" => "😠",
        _ => return escape_markdown(kind),
    };
    format!("{emoji} {kind}")
}

/// "👍 like 2 · ❤️ heart 1", or nothing without reactions.
fn summary(counts: &[(String, i64)]) -> Option<String> {
    (!counts.is_empty()).then(|| {
        counts
            .iter()
            .map(|(kind, n)| format!("{} {n}", shown(kind)))
            .collect::<Vec<_>>()
            .join(" · ")
    })
}

impl Bot {
    /// Someone reacted to a message in their chat with herald (or took a reaction back):
    /// recorded against the campaign or broadcast it belongs to; nothing is said in the chat.
    pub(super) async fn reaction(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> Result<Handled, BotError> {
        let added = reaction_types(activity.reactions_added.as_deref());
        let removed = reaction_types(activity.reactions_removed.as_deref());
        let Some(reply_to) = activity
            .reply_to_id
            .clone()
            .filter(|r| !r.trim().is_empty())
        else {
            return Ok(Handled::Ignored);
        };
        if added.is_empty() && removed.is_empty() {
            return Ok(Handled::Ignored);
        }
        // Per tenant: another tenant's activity finds nobody.
        let key = self.key_of(activity, checked);
        let now = self.clock.now();
        let recorded = self
            .db
            .run(move |conn| {
                let Some(user) = users::find(conn, &key)? else {
                    return Ok(None);
                };
                let found = reactions::subject_of(conn, &user.id, &reply_to)?;
                let Some(subject) = found else {
                    return Ok(None);
                };
                reactions::record(conn, &subject, &user.id, &added, &removed, now)
                    .map(|n| Some((subject, n)))
            })
            .await?;
        Ok(match recorded {
            Some((subject, changed)) => {
                tracing::debug!(subject = %subject.id, kind = subject.kind, changed, "reaction recorded");
                Handled::Processed
            }
            None => Handled::Ignored,
        })
    }

    /// The line `broadcast info` and `campaign report` add for reactions (none without any).
    pub(in crate::bot) async fn reaction_lines(
        &self,
        subject_id: &str,
        lang: Lang,
    ) -> Result<Vec<String>, BotError> {
        let id = subject_id.to_string();
        let counts = self
            .db
            .run(move |conn| reactions::counts(conn, &id))
            .await?;
        Ok(summary(&counts)
            .map(|reactions| t!(lang, "reaction-line", reactions = reactions))
            .into_iter()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(kinds: &[&str]) -> Vec<MessageReaction> {
        kinds
            .iter()
            .map(|k| MessageReaction {
                kind: k.to_string(),
            })
            .collect()
    }

    #[test]
    fn types_are_trimmed_deduplicated_and_bounded() {
        let long = "x".repeat(MAX_REACTION_LEN + 1);
        let edge = "y".repeat(MAX_REACTION_LEN);
        let got = reaction_types(Some(&list(&[
            " like ", "", "  ", "like", &long, &edge, "heart",
        ])));
        assert_eq!(got, vec!["like".to_string(), edge, "heart".to_string()]);
        assert!(reaction_types(None).is_empty());
    }

    #[test]
    fn summary_shows_emoji_for_teams_types_and_raw_names_otherwise() {
        let counts = vec![
            ("like".to_string(), 2),
            ("heart".to_string(), 1),
            ("1f600_grinningface".to_string(), 1),
            ("a*b".to_string(), 1),
        ];
        assert_eq!(
            summary(&counts).unwrap(),
            "👍 like 2 · ❤️ heart 1 · 1f600\\_grinningface 1 · a\\*b 1"
        );
        assert_eq!(summary(&[]), None);
    }
}
