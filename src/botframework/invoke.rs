//! What an `invoke` activity is answered with: the HTTP response's body carries the result.
//! For `adaptiveCard/action` (a card's `Action.Execute`), Teams reads an Adaptive Card
//! invoke response: `{statusCode, type, value}`, where a card replaces the one pressed and an
//! error is shown to the person who pressed.

use serde_json::{Value, json};

/// The invoke `name` of a card's `Action.Execute`.
pub const ADAPTIVE_CARD_ACTION: &str = "adaptiveCard/action";

const CARD_TYPE: &str = "application/vnd.microsoft.card.adaptive";
const MESSAGE_TYPE: &str = "application/vnd.microsoft.activity.message";
const ERROR_TYPE: &str = "application/vnd.microsoft.error";

/// The pressed card is replaced by `card` (an Adaptive Card, not an activity).
pub fn card(card: Value) -> Value {
    json!({"statusCode": 200, "type": CARD_TYPE, "value": card})
}

/// The card stays as it is; Teams shows `text` to the person who pressed.
pub fn message(text: &str) -> Value {
    json!({"statusCode": 200, "type": MESSAGE_TYPE, "value": text})
}

/// The action was refused (`status` 4xx): Teams shows `message` as the error.
pub fn error(status: u16, code: &str, message: &str) -> Value {
    json!({
        "statusCode": status,
        "type": ERROR_TYPE,
        "value": {"code": code, "message": message},
    })
}

/// The Adaptive Card an activity built by `domain::cards::card_activity` carries.
pub fn card_of(activity: &Value) -> Value {
    activity["attachments"][0]["content"].clone()
}

/// The `Action.Execute` of an `adaptiveCard/action` invoke's value: its verb and its data.
pub fn action_of(value: Option<&Value>) -> Option<(String, Value)> {
    let action = value?.get("action")?;
    if action.get("type").and_then(Value::as_str) != Some("Action.Execute") {
        return None;
    }
    let verb = action.get("verb").and_then(Value::as_str)?.to_string();
    Some((verb, action.get("data").cloned().unwrap_or(Value::Null)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_and_actions_have_the_shape_teams_reads() {
        let r = card(json!({"type": "AdaptiveCard"}));
        assert_eq!(r["statusCode"], 200);
        assert_eq!(r["type"], CARD_TYPE);
        assert_eq!(r["value"]["type"], "AdaptiveCard");
        let e = error(400, "BadRequest", "no");
        assert_eq!(
            (e["statusCode"].as_u64(), e["value"]["code"].as_str()),
            (Some(400), Some("BadRequest"))
        );
        assert_eq!(message("done")["value"], "done");
        let value = json!({"action": {"type": "Action.Execute", "verb": "ack", "data": {"herald": "x"}}, "trigger": "manual"});
        assert_eq!(
            action_of(Some(&value)),
            Some(("ack".into(), json!({"herald": "x"})))
        );
        assert_eq!(
            action_of(Some(&json!({"action": {"type": "Action.Submit"}}))),
            None
        );
        assert_eq!(action_of(None), None);
    }
}
