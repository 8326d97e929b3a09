//! Each person's own time (`time: local`) in the chat: the campaign form's choice, the lines of
//! `campaign info` and the report's fact.

use serde_json::{Value, json};

use crate::domain::Lang;
use crate::domain::localtime::parse_time_mode;
use crate::store::campaigns::Campaign;
use crate::t;

/// The form's `time` input.
pub(super) const TIME: &str = "time";

/// The campaign form's choice: the campaign's zone unless the values say local.
pub(super) fn time_choice(lang: Lang, values: &Value) -> Value {
    let local = values
        .get(TIME)
        .and_then(Value::as_str)
        .and_then(parse_time_mode)
        .unwrap_or(false);
    json!({
        "type": "Input.ChoiceSet",
        "id": TIME,
        "label": t!(lang, "localtime-form-label"),
        "choices": [
            {"title": t!(lang, "localtime-campaign"), "value": "campaign"},
            {"title": t!(lang, "localtime-local"), "value": "local"},
        ],
        "value": if local { "local" } else { "campaign" },
    })
}

/// The field line the form's choice stands for (always written: the form shows the current
/// value).
pub(super) fn time_line(value: &Value) -> String {
    match value
        .get(TIME)
        .and_then(Value::as_str)
        .and_then(parse_time_mode)
    {
        Some(true) => "time: local\n".to_string(),
        Some(false) => "time: campaign\n".to_string(),
        None => String::new(),
    }
}

/// The form's prefilled value.
pub(super) fn form_value(c: &Campaign) -> &'static str {
    if c.local_time { "local" } else { "campaign" }
}

/// `campaign info`'s lines: the time mode; before it starts, when a local-time campaign is
/// planned (edits stop then); once started, how many fell back.
pub(super) fn info_lines(lang: Lang, c: &Campaign) -> String {
    let mode = if c.local_time {
        t!(lang, "localtime-local")
    } else {
        t!(lang, "localtime-campaign")
    };
    let mut text = format!("\n- {} {mode}", t!(lang, "localtime-label"));
    if c.local_time && c.started_at.is_none() {
        // Planned (and no longer editable) when the first zone's day may begin.
        let tz = c.time_zone.tz();
        let from = crate::domain::localtime::earliest_start(tz, c.start_at.and_utc());
        text.push_str(&format!(
            "\n- {}",
            t!(
                lang,
                "localtime-planned-from",
                when = from.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                zone = c.time_zone.to_string()
            )
        ));
    }
    if c.local_time && c.started_at.is_some() {
        text.push_str(&format!(
            "\n- {}",
            t!(
                lang,
                "localtime-fallbacks",
                count = c.zone_fallbacks,
                zone = c.time_zone.to_string()
            )
        ));
    }
    text
}

/// The report's fact for a local-time campaign: how many fell back to the campaign's zone.
pub(super) fn report_fact(lang: Lang, c: &Campaign) -> Option<(String, String)> {
    c.local_time.then(|| {
        (
            t!(lang, "localtime-report-fallbacks"),
            c.zone_fallbacks.to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::commands::parse_fields;

    #[test]
    fn the_field_reads_in_both_languages_and_says_what_is_wrong() {
        let (f, e) = parse_fields("time: local\nmessage: hi");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(f.local_time, Some(true));
        let (f, _) = parse_fields("heure: campagne");
        assert_eq!(f.local_time, Some(false));
        let (f, _) = parse_fields("Heure : locale");
        assert_eq!(f.local_time, Some(true));
        let (_, e) = parse_fields("time: utc");
        assert_eq!(e[0].field, "time");
        for lang in [Lang::En, Lang::Fr] {
            let said = crate::texts::problem(lang, &e[0].problem);
            assert!(said.contains("`utc`"), "{said}");
        }
    }

    #[test]
    fn the_form_shows_the_choice_and_writes_it_as_a_line() {
        let choice = time_choice(Lang::Fr, &json!({"time": "local"}));
        assert_eq!(choice["value"], "local");
        assert_eq!(choice["id"], TIME);
        assert_eq!(time_choice(Lang::En, &json!({}))["value"], "campaign");
        assert_eq!(time_line(&json!({"time": "local"})), "time: local\n");
        assert_eq!(time_line(&json!({"time": "campaign"})), "time: campaign\n");
        assert_eq!(time_line(&json!({})), "");
    }
}
