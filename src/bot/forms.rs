//! The campaign form: an Adaptive Card (Action.Submit) for `campaign create|edit <name>` typed
//! without fields. Its submission goes through the same checks as the text command; a field
//! that does not hold up is shown again with its error under it.

use serde_json::{Value, json};

use crate::domain::Lang;
use crate::domain::cards::adaptive_card;
use crate::domain::commands::FieldError;
use crate::t;

/// Marks a submission as this form's (`value.herald`).
pub const FORM_ID: &str = "campaign-form";

/// The form's fields: input id, label (catalogue id), placeholder.
const FIELDS: [(&str, &str, &str); 8] = [
    ("list", "form-label-list", "all-staff"),
    ("start", "form-label-start", "2026-12-01 10:00"),
    ("duration", "form-label-duration", "2h"),
    ("hours", "form-label-hours", "Mon-Fri 09:00-18:00"),
    ("timezone", "form-label-timezone", "Europe/Paris"),
    ("presence", "form-label-presence", "any"),
    ("channel", "form-label-channel", "teams"),
    ("repeat", "form-label-repeat", "0 9 * * MON"),
];

/// Forms use Adaptive Cards 1.5 (input labels).
const FORM_VERSION: &str = "1.5";

/// The errors of one input, as attention-coloured lines to put under it.
fn field_errors<'a>(
    lang: Lang,
    errors: &'a [FieldError],
    field: &'a str,
) -> impl Iterator<Item = Value> + 'a {
    errors.iter().filter(move |e| e.field == field).map(move |e| {
        let text = format!("{}: {}", crate::texts::problem(lang, &e.problem), e.example);
        json!({"type": "TextBlock", "text": text, "color": "Attention", "wrap": true, "size": "Small"})
    })
}

/// The form, filled with `values` (input id → text) and each field's error under it.
pub fn campaign_form(
    lang: Lang,
    edit: bool,
    name: &str,
    values: &Value,
    errors: &[FieldError],
) -> Value {
    let (title, submit) = if edit {
        (
            t!(lang, "form-campaign-edit-title", name = name),
            t!(lang, "form-save"),
        )
    } else {
        (
            t!(lang, "form-campaign-new-title", name = name),
            t!(lang, "form-schedule"),
        )
    };
    let mut body = vec![
        json!({"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true}),
    ];
    for (id, label, placeholder) in FIELDS {
        body.push(json!({
            "type": "Input.Text",
            "id": id,
            "label": crate::texts::lookup(lang, label, &[]),
            "placeholder": placeholder,
            "value": values.get(id).and_then(Value::as_str).unwrap_or(""),
        }));
        body.extend(field_errors(lang, errors, id));
    }
    body.push(install_choice(lang, values));
    body.extend(field_errors(lang, errors, INSTALL));
    body.push(super::localtime::time_choice(lang, values));
    body.extend(field_errors(lang, errors, super::localtime::TIME));
    body.push(json!({
        "type": "Input.Text",
        "id": "message",
        "label": "Message",
        "isMultiline": true,
        "placeholder": "Bonjour [FIRSTNAME] [LASTNAME], …",
        "value": values.get("message").and_then(Value::as_str).unwrap_or(""),
    }));
    body.extend(field_errors(lang, errors, "message"));
    // Errors that belong to no single input (e.g. a line of the form that is not a field).
    for e in errors.iter().filter(|e| {
        !FIELDS.iter().any(|f| f.0 == e.field)
            && e.field != "message"
            && e.field != INSTALL
            && e.field != super::localtime::TIME
    }) {
        body.push(
            json!({"type": "TextBlock", "text": e.to_string(), "color": "Attention", "wrap": true}),
        );
    }
    adaptive_card(
        FORM_VERSION,
        body,
        vec![json!({
            "type": "Action.Submit",
            "title": submit,
            "data": {"herald": FORM_ID, "mode": if edit { "edit" } else { "create" }, "campaign": name},
        })],
    )
}

/// The `install` input: herald installs itself for members who lack it (`install: yes`).
const INSTALL: &str = "install";

/// The campaign form's `install` choice, no unless the values say yes.
fn install_choice(lang: Lang, values: &Value) -> Value {
    let on = values
        .get(INSTALL)
        .and_then(Value::as_str)
        .and_then(crate::domain::commands::parse_yes_no)
        .unwrap_or(false);
    json!({
        "type": "Input.ChoiceSet",
        "id": INSTALL,
        "label": t!(lang, "form-label-install"),
        "choices": [
            {"title": t!(lang, "install-no"), "value": "no"},
            {"title": t!(lang, "install-yes"), "value": "yes"},
        ],
        "value": if on { "yes" } else { "no" },
    })
}

/// The broadcast form: audience (everyone or one of `lists`), subject and body, filled with
/// `values` and each field's error under it. It sends at once.
pub fn broadcast_form(
    lang: Lang,
    lists: &[String],
    values: &Value,
    errors: &[FieldError],
) -> Value {
    use crate::domain::broadcast::{BODY_MAX, SUBJECT_MAX, action};
    let value = |id: &str| {
        values
            .get(id)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut choices = vec![json!({
        "title": t!(lang, "form-everyone"),
        "value": "all",
    })];
    choices.extend(lists.iter().map(|l| json!({"title": l, "value": l})));
    let audience = match value("audience") {
        a if a.is_empty() || a.eq_ignore_ascii_case("all") || a.eq_ignore_ascii_case("tous") => {
            "all".to_string()
        }
        a => lists
            .iter()
            .find(|l| l.to_lowercase() == a.to_lowercase())
            .cloned()
            .unwrap_or(a),
    };
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": t!(lang, "form-broadcast-title"),
        "weight": "Bolder",
        "size": "Medium",
    })];
    let mut field = |input: Value, id: &str| {
        body.push(input);
        body.extend(field_errors(lang, errors, id));
    };
    field(
        json!({
            "type": "Input.ChoiceSet",
            "id": "audience",
            "label": t!(lang, "form-label-audience"),
            "choices": choices,
            "value": audience,
        }),
        "audience",
    );
    field(
        json!({
            "type": "Input.Text",
            "id": "subject",
            "label": t!(lang, "form-label-subject"),
            "maxLength": SUBJECT_MAX,
            "value": value("subject"),
        }),
        "subject",
    );
    field(
        json!({
            "type": "Input.Text",
            "id": "body",
            "label": "Message",
            "isMultiline": true,
            "maxLength": BODY_MAX,
            "value": value("body"),
        }),
        "body",
    );
    let install = value(INSTALL);
    field(
        json!({
            "type": "Input.Toggle",
            "id": INSTALL,
            "title": t!(lang, "form-label-install"),
            "valueOn": "yes",
            "valueOff": "no",
            "value": if crate::domain::commands::parse_yes_no(&install) == Some(true) { "yes" } else { "no" },
        }),
        INSTALL,
    );
    field(
        json!({
            "type": "Input.Text",
            "id": "remind",
            "label": t!(lang, "form-label-remind"),
            "placeholder": "24h",
            "value": value("remind"),
        }),
        "remind",
    );
    let ack = value("ack");
    field(
        json!({
            "type": "Input.Toggle",
            "id": "ack",
            "title": t!(lang, "form-label-ack"),
            "valueOn": "yes",
            "valueOff": "no",
            "value": if crate::domain::commands::parse_yes_no(&ack) == Some(true) { "yes" } else { "no" },
        }),
        "ack",
    );
    field(
        json!({
            "type": "Input.Text",
            "id": "choices",
            "label": t!(lang, "form-label-choices"),
            "placeholder": t!(lang, "form-placeholder-choices"),
            "value": value("choices"),
        }),
        "choices",
    );
    // Scheduled broadcasts: empty `send` sends now.
    for (id, label, placeholder) in [
        ("send", "form-label-send", "2026-12-01 09:00"),
        ("timezone", "form-label-send-zone", "Europe/Paris"),
    ] {
        field(
            json!({
                "type": "Input.Text",
                "id": id,
                "label": crate::texts::lookup(lang, label, &[]),
                "placeholder": placeholder,
                "value": value(id),
            }),
            id,
        );
    }
    adaptive_card(
        FORM_VERSION,
        body,
        vec![json!({
            "type": "Action.Submit",
            "title": t!(lang, "form-send-or-schedule"),
            "data": {"herald": action::FORM},
        })],
    )
}

/// The field lines a submission stands for (empty inputs left out: defaults or current values).
pub fn submitted_fields(value: &Value) -> String {
    let mut lines = String::new();
    for (id, ..) in FIELDS {
        if let Some(v) = value
            .get(id)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            // One line per field: a value cannot smuggle in another field.
            let v = v.replace(['\n', '\r'], " ");
            lines.push_str(&format!("{id}: {v}\n"));
        }
    }
    // The choice is always written: the form shows the campaign's current value.
    if let Some(v) = value
        .get(INSTALL)
        .and_then(Value::as_str)
        .and_then(crate::domain::commands::parse_yes_no)
    {
        lines.push_str(&format!("install: {}\n", if v { "yes" } else { "no" }));
    }
    lines.push_str(&super::localtime::time_line(value));
    if let Some(m) = value
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
    {
        lines.push_str("message:\n");
        lines.push_str(m);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_becomes_field_lines_without_injection() {
        let v = json!({"list": "staff\nmessage: hijack", "duration": " 2h ", "start": "", "message": "Hi\n[FIRSTNAME]"});
        assert_eq!(
            submitted_fields(&v),
            "list: staff message: hijack\nduration: 2h\nmessage:\nHi\n[FIRSTNAME]"
        );
    }

    #[test]
    fn errors_appear_under_their_field() {
        let errors = vec![FieldError {
            field: "duration",
            problem: crate::domain::problem::Problem::new("field-invalid")
                .with("reason", "`2x` is not a duration"),
            example: "duration: 2h",
        }];
        let card = campaign_form(
            Lang::En,
            false,
            "welcome",
            &json!({"duration": "2x"}),
            &errors,
        );
        let body = card["body"].as_array().unwrap();
        let at = body.iter().position(|b| b["id"] == "duration").unwrap();
        assert_eq!(body[at]["value"], "2x");
        assert_eq!(body[at + 1]["color"], "Attention");
        assert!(
            body[at + 1]["text"]
                .as_str()
                .unwrap()
                .contains("not a duration")
        );
        assert_eq!(card["actions"][0]["data"]["herald"], FORM_ID);
    }

    #[test]
    fn the_install_choice_shows_the_current_value_and_becomes_a_line() {
        let card = campaign_form(Lang::Fr, true, "w", &json!({"install": "yes"}), &[]);
        let body = card["body"].as_array().unwrap();
        let choice = body.iter().find(|b| b["id"] == "install").unwrap();
        assert_eq!(choice["type"], "Input.ChoiceSet");
        assert_eq!(choice["value"], "yes");
        assert_eq!(choice["choices"][1]["title"], "oui");
        assert_eq!(
            submitted_fields(&json!({"install": "yes", "duration": "2h"})),
            "duration: 2h\ninstall: yes\n"
        );
        let broadcast = broadcast_form(Lang::En, &[], &json!({}), &[]);
        let toggle = broadcast["body"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == "install")
            .unwrap()
            .clone();
        assert_eq!(
            (toggle["type"].as_str(), toggle["value"].as_str()),
            (Some("Input.Toggle"), Some("no"))
        );
    }
}
