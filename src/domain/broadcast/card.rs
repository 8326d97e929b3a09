//! The cards of a broadcast, built from their words: the card recipients get (and how it
//! shows as it is read, acknowledged, answered or sent as a reminder), and the replies and
//! answers relayed between a recipient and the sender.

use serde_json::{Value, json};

use super::{REPLY_MAX, TEXT_INPUT, action};

/// Cards recipients get are of this schema version (Teams supports it on every client).
const CARD_VERSION: &str = "1.4";

fn adaptive(body: Vec<Value>, actions: Vec<Value>) -> Value {
    crate::domain::cards::adaptive_card(CARD_VERSION, body, actions)
}

pub use crate::domain::cards::card_activity;

/// The words of a card, in its reader's language (from the text catalogue).
#[derive(Debug, Clone, Default)]
pub struct CardWords {
    /// "From <sender>".
    pub from: String,
    /// Shown once read.
    pub read: String,
    pub mark_read: String,
    pub reply: String,
    pub reply_placeholder: String,
    pub send: String,
    /// The acknowledgement's button.
    pub ack: String,
    /// Shown once acknowledged (with the time).
    pub acked: String,
    /// A reminder's notification text (naming the subject), and the line on its card.
    pub reminder: String,
    /// The person's answer to the poll.
    pub chosen: String,
}

/// The words of a relayed reply or answer, in its reader's language.
#[derive(Debug, Clone, Default)]
pub struct RelayWords {
    /// Who said it about what.
    pub head: String,
    /// The notification's text.
    pub summary: String,
    /// The button that opens the box to answer.
    pub title: String,
    pub placeholder: String,
    pub send: String,
}

/// A box to write in and a button that sends it with `data`.
fn reply_box(title: &str, placeholder: &str, send: &str, data: Value) -> Value {
    json!({
        "type": "Action.ShowCard",
        "title": title,
        "card": {
            "type": "AdaptiveCard",
            "body": [{
                "type": "Input.Text",
                "id": TEXT_INPUT,
                "isMultiline": true,
                "placeholder": placeholder,
                "maxLength": REPLY_MAX,
            }],
            "actions": [{"type": "Action.Submit", "title": send, "data": data}],
        },
    })
}

fn text_block(text: &str) -> Value {
    json!({"type": "TextBlock", "text": text, "wrap": true})
}

/// What one recipient's card shows, whoever reads it.
pub struct CardContent<'a> {
    pub broadcast_id: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub sender: &'a str,
    /// `ack: yes`: the card asks to acknowledge it.
    pub ack: bool,
    /// The poll's choices (empty: no poll).
    pub choices: &'a [String],
}

/// Where one recipient stands with the card: what it shows for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardState {
    pub read: bool,
    /// Sent as a reminder.
    pub reminder: bool,
    /// Acknowledged, and when (as the reader reads times: their zone, formatted).
    pub acked_at: Option<String>,
    /// Their latest answer to the poll (an index of the choices).
    pub chosen: Option<usize>,
}

impl CardState {
    /// As first sent (`read: false`), or as it shows once read.
    pub fn read(read: bool) -> CardState {
        CardState {
            read,
            ..CardState::default()
        }
    }
}

/// The card a recipient gets: subject, sender, body, then the actions it asks for:
/// **Mark as read** (or, with `ack: yes`, **I have read and understood**), one button per
/// choice of a poll, and **Reply**. As the state changes, the same card says so in place of
/// the buttons that no longer apply.
pub fn broadcast_card(w: &CardWords, c: &CardContent<'_>, s: &CardState) -> Value {
    let mut body = Vec::new();
    if s.reminder {
        body.push(json!({"type": "TextBlock", "text": w.reminder, "color": "Attention", "weight": "Bolder", "wrap": true}));
    }
    body.extend([
        json!({"type": "TextBlock", "text": c.subject, "weight": "Bolder", "size": "Medium", "wrap": true}),
        json!({"type": "TextBlock", "text": w.from, "isSubtle": true, "spacing": "None", "wrap": true}),
        text_block(c.body),
    ]);
    if !c.choices.is_empty() {
        let choices: Vec<Value> = c
            .choices
            .iter()
            .enumerate()
            .map(|(i, choice)| {
                let title = if s.chosen == Some(i) {
                    format!("✓ {choice}")
                } else {
                    choice.clone()
                };
                json!({
                    "type": "Action.Execute",
                    "title": title,
                    "verb": action::CHOOSE_VERB,
                    "data": {"herald": action::CHOOSE, "broadcast": c.broadcast_id, "choice": i},
                })
            })
            .collect();
        body.push(json!({"type": "ActionSet", "actions": choices}));
        if s.chosen.is_some() {
            body.push(
                json!({"type": "TextBlock", "text": w.chosen, "color": "Good", "wrap": true}),
            );
        }
    }
    let mut actions = Vec::new();
    if c.ack && s.acked_at.is_some() {
        body.push(json!({"type": "TextBlock", "text": w.acked, "color": "Good", "weight": "Bolder", "wrap": true}));
    } else if s.read {
        body.push(json!({
            "type": "TextBlock",
            "text": w.read,
            "color": "Good",
            "weight": "Bolder",
        }));
    }
    if c.ack && s.acked_at.is_none() {
        actions.push(json!({
            "type": "Action.Execute",
            "title": w.ack,
            "verb": action::ACK_VERB,
            "data": {"herald": action::ACK, "broadcast": c.broadcast_id},
        }));
    } else if !c.ack && !s.read {
        actions.push(json!({
            "type": "Action.Submit",
            "title": w.mark_read,
            "data": {"herald": action::READ, "broadcast": c.broadcast_id},
        }));
    }
    actions.push(reply_box(
        &w.reply,
        &w.reply_placeholder,
        &w.send,
        json!({"herald": action::REPLY, "broadcast": c.broadcast_id}),
    ));
    let summary = if s.reminder {
        w.reminder.as_str()
    } else {
        c.subject
    };
    card_activity(summary, adaptive(body, actions))
}

/// A recipient's reply on `thread_id`, shown to the broadcast's sender with a box to answer.
pub fn reply_card(w: &RelayWords, thread_id: &str, text: &str) -> Value {
    relayed_card(
        w,
        text,
        json!({"herald": action::ANSWER, "thread": thread_id}),
    )
}

/// The sender's answer about `broadcast_id`, shown to the recipient with a box to reply again.
pub fn answer_card(w: &RelayWords, broadcast_id: &str, text: &str) -> Value {
    relayed_card(
        w,
        text,
        json!({"herald": action::REPLY, "broadcast": broadcast_id}),
    )
}

/// A relayed message: who said it about what, what they said (shown exactly as typed, never
/// as markdown, links or mentions), and a box to answer with.
fn relayed_card(w: &RelayWords, text: &str, data: Value) -> Value {
    let text = crate::domain::text::escape_text(text);
    let answer_box = reply_box(&w.title, &w.placeholder, &w.send, data);
    let card = adaptive(
        vec![
            text_block(&w.head),
            json!({"type": "Container", "style": "emphasis", "items": [text_block(&text)]}),
        ],
        vec![answer_box],
    );
    card_activity(&w.summary, card)
}
