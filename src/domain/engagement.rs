//! Engagement, the pure part: the option lines a broadcast may start with (`install:`,
//! `remind:`, `ack:`, `choices:`, `send:`, `timezone:`, and their French names), checked and
//! typed.

use super::commands::{FieldError, parse_yes_no};
use super::duration::WindowLength;
use super::problem::Problem;

/// Fewest and most choices a poll offers.
pub const CHOICES_MIN: usize = 2;
pub const CHOICES_MAX: usize = 6;
/// Longest choice (characters): it is a button's title.
pub const CHOICE_MAX: usize = 60;

const INSTALL_EXAMPLE: &str = "install: yes";
const REMIND_EXAMPLE: &str = "remind: 24h";
const ACK_EXAMPLE: &str = "ack: yes";
const CHOICES_EXAMPLE: &str = "choices: Yes | No | Maybe";

/// What a broadcast's option lines asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// `install: yes` (`None` when not said).
    pub install: Option<bool>,
    /// `remind: 24h`: remind the non-readers automatically after this long.
    pub remind_after: Option<WindowLength>,
    /// `ack: yes`: each recipient is asked to acknowledge.
    pub ack: bool,
    /// `choices: A | B | C`: a poll (empty: none).
    pub choices: Vec<String>,
    /// `send: 2026-12-01 09:00`: when it goes, in `time_zone` or the sender's (`None`: now).
    pub send: Option<chrono::NaiveDateTime>,
    /// `timezone: Europe/Paris`: the zone `send` is read in.
    pub time_zone: Option<chrono_tz::Tz>,
}

/// The option a key names, in English or French.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Install,
    Remind,
    Ack,
    Choices,
    Send,
    TimeZone,
}

fn key_of(key: &str) -> Option<Key> {
    match key.trim().to_lowercase().as_str() {
        "install" | "installer" => Some(Key::Install),
        "remind" | "reminder" | "relance" | "relancer" | "rappel" => Some(Key::Remind),
        "ack" | "acknowledge" | "acknowledgement" | "accusé" | "accuse" | "accusé de lecture" => {
            Some(Key::Ack)
        }
        "choices" | "choice" | "choix" => Some(Key::Choices),
        "send" | "send at" | "envoi" | "envoyer" | "envoi le" => Some(Key::Send),
        "timezone" | "time zone" | "fuseau" | "fuseau horaire" => Some(Key::TimeZone),
        _ => None,
    }
}

fn yes_no(field: &'static str, value: &str, example: &'static str) -> Result<bool, FieldError> {
    parse_yes_no(value).ok_or_else(|| {
        FieldError::new(
            field,
            Problem::new("field-not-yes-no").with("value", value.trim()),
            example,
        )
    })
}

/// `remind: 24h` (or `remind: no`): the delay, or `None` for no automatic reminder.
pub fn parse_remind(value: &str) -> Result<Option<WindowLength>, FieldError> {
    if parse_yes_no(value) == Some(false) || value.trim().is_empty() {
        return Ok(None);
    }
    WindowLength::parse(value)
        .map(Some)
        .map_err(|e| FieldError::new("remind", e.problem(), REMIND_EXAMPLE))
}

/// `ack: yes` / `accusé: oui`.
pub fn parse_ack(value: &str) -> Result<bool, FieldError> {
    yes_no("ack", value, ACK_EXAMPLE)
}

/// `choices: Yes | No | Maybe`: 2 to 6 distinct, non-empty choices of at most 60 characters.
/// An empty value means no poll.
pub fn parse_choices(value: &str) -> Result<Vec<String>, FieldError> {
    if value.trim().is_empty() {
        return Ok(Vec::new());
    }
    let err = |p: Problem| FieldError::new("choices", p, CHOICES_EXAMPLE);
    let choices: Vec<String> = value.split('|').map(|c| c.trim().to_string()).collect();
    if choices.len() < CHOICES_MIN || choices.len() > CHOICES_MAX {
        return Err(err(Problem::new("field-choices-count")
            .with_number("count", choices.len() as i64)
            .with_number("min", CHOICES_MIN as i64)
            .with_number("max", CHOICES_MAX as i64)));
    }
    for (i, c) in choices.iter().enumerate() {
        if c.is_empty() {
            return Err(err(
                Problem::new("field-choice-empty").with_number("position", i as i64 + 1)
            ));
        }
        let n = c.chars().count();
        if n > CHOICE_MAX {
            return Err(err(Problem::new("field-choice-too-long")
                .with("choice", c.as_str())
                .with_number("length", n as i64)
                .with_number("max", CHOICE_MAX as i64)));
        }
        if choices[..i]
            .iter()
            .any(|o| o.to_lowercase() == c.to_lowercase())
        {
            return Err(err(
                Problem::new("field-choice-twice").with("choice", c.as_str())
            ));
        }
    }
    Ok(choices)
}

/// The option lines that may come first in a typed broadcast, before its subject (any order,
/// each once): what they said, what was wrong with them, and the lines after them.
pub fn take_option_lines(text: &str) -> (BroadcastOptions, Vec<FieldError>, String) {
    let mut options = BroadcastOptions::default();
    let mut errors = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut used = 0;
    for line in &lines {
        if line.trim().is_empty() {
            used += 1;
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            break;
        };
        let Some(key) = key_of(key) else { break };
        used += 1;
        match key {
            Key::Install => match yes_no("install", value, INSTALL_EXAMPLE) {
                Ok(on) => options.install = Some(on),
                Err(e) => errors.push(e),
            },
            Key::Remind => match parse_remind(value) {
                Ok(after) => options.remind_after = after,
                Err(e) => errors.push(e),
            },
            Key::Ack => match parse_ack(value) {
                Ok(on) => options.ack = on,
                Err(e) => errors.push(e),
            },
            Key::Choices => match parse_choices(value) {
                Ok(choices) => options.choices = choices,
                Err(e) => errors.push(e),
            },
            Key::Send => match super::schedule::parse_send(value) {
                Ok(at) => options.send = Some(at),
                Err(e) => errors.push(e),
            },
            Key::TimeZone => match super::schedule::parse_zone(value) {
                Ok(zone) => options.time_zone = Some(zone),
                Err(e) => errors.push(e),
            },
        }
    }
    (options, errors, lines[used..].join("\n"))
}

/// The poll's choices as stored (`broadcasts.choices`: a JSON array; `None` for no poll).
pub fn choices_to_stored(choices: &[String]) -> Option<String> {
    (!choices.is_empty()).then(|| serde_json::to_string(choices).unwrap_or_default())
}

/// The poll's choices from their stored form (none when absent or unreadable).
pub fn choices_from_stored(stored: Option<&str>) -> Vec<String> {
    stored
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_lines_in_any_order_in_both_languages() {
        let (o, e, rest) = take_option_lines(
            "\nremind: 24h\naccusé: oui\nchoix: Oui | Non | Peut-être\nsubject: Hi\nBody",
        );
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(o.remind_after.map(|d| d.minutes()), Some(24 * 60));
        assert!(o.ack);
        assert_eq!(o.choices, ["Oui", "Non", "Peut-être"]);
        assert_eq!(rest, "subject: Hi\nBody");
        let (o, e, rest) = take_option_lines("Relance : 1h\nInstaller : oui\nsujet: S\nC");
        assert!(e.is_empty());
        assert_eq!(o.install, Some(true));
        assert_eq!(o.remind_after.map(|d| d.minutes()), Some(60));
        assert_eq!(rest, "sujet: S\nC");
        // Options after the subject are the body's text.
        let (o, _, rest) = take_option_lines("subject: S\nack: yes");
        assert_eq!(o, BroadcastOptions::default());
        assert_eq!(rest, "subject: S\nack: yes");
    }

    #[test]
    fn bad_options_are_named() {
        let (_, e, _) =
            take_option_lines("remind: soon\nack: perhaps\nchoices: Yes\nsubject: S\nB");
        let fields: Vec<_> = e.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["remind", "ack", "choices"]);
        assert_eq!(e[2].problem.id, "field-choices-count");
        let e = parse_choices("A | | C").unwrap_err();
        assert_eq!(e.problem.id, "field-choice-empty");
        let e = parse_choices("A | a").unwrap_err();
        assert_eq!(e.problem.id, "field-choice-twice");
        let e = parse_choices(&format!("A | {}", "x".repeat(61))).unwrap_err();
        assert_eq!(e.problem.id, "field-choice-too-long");
        assert!(parse_choices("1|2|3|4|5|6|7").is_err());
        assert_eq!(parse_choices("1|2|3|4|5|6").unwrap().len(), 6);
        assert_eq!(parse_remind("no").unwrap(), None);
    }

    #[test]
    fn send_and_timezone_lines_in_both_languages() {
        let (o, e, rest) =
            take_option_lines("send: 2026-12-01 09:00\ntimezone: Europe/Paris\nsubject: S\nB");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(
            o.send.map(|t| t.to_string()).as_deref(),
            Some("2026-12-01 09:00:00")
        );
        assert_eq!(o.time_zone, Some(chrono_tz::Europe::Paris));
        assert_eq!(rest, "subject: S\nB");
        let (o, e, _) =
            take_option_lines("Envoi : 2026-12-24 18:30\nfuseau: America/New_York\nsujet: S\nC");
        assert!(e.is_empty(), "{e:?}");
        assert!(o.send.is_some());
        assert_eq!(o.time_zone, Some(chrono_tz::America::New_York));
        let (_, e, _) = take_option_lines("send: tomorrow\nfuseau: Paris\nsubject: S\nB");
        let fields: Vec<_> = e.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["send", "timezone"]);
    }

    #[test]
    fn choices_round_trip_through_storage() {
        let c = vec!["Yes".to_string(), "No, \"never\"".to_string()];
        assert_eq!(choices_from_stored(choices_to_stored(&c).as_deref()), c);
        assert!(choices_to_stored(&[]).is_none());
        assert!(choices_from_stored(Some("not json")).is_empty());
    }
}
