//! Adaptive Card envelopes: the card itself and the message activity that carries it.

use serde_json::{Value, json};

/// An Adaptive Card of schema `version` with `body` elements and `actions`.
pub fn adaptive_card(version: &str, body: Vec<Value>, actions: Vec<Value>) -> Value {
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": version,
        "body": body,
        "actions": actions,
    })
}

/// A message activity carrying one Adaptive Card; `summary` is what notifications show.
pub fn card_activity(summary: &str, card: Value) -> Value {
    json!({
        "type": "message",
        "summary": summary,
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": card,
        }],
    })
}
