//! The field lines that follow `campaign create|edit <name>` (and the e-mail addresses and
//! channels they name). Every mistake is collected as a catalogue problem with an example.

use chrono::{Datelike, NaiveDateTime};
use chrono_tz::Tz;

use crate::domain::problem::Problem;

use crate::domain::duration::WindowLength;
use crate::domain::hours::BusinessHours;
use crate::domain::presence::PresencePolicy;

/// An email address or UPN, compared in lower case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Option<Email> {
        let t = text
            .trim()
            .trim_matches(|c| c == '<' || c == '>' || c == ';')
            .to_lowercase();
        let (local, domain) = t.split_once('@')?;
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && t.chars().all(|c| !c.is_whitespace() && !c.is_control());
        ok.then_some(Email(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Emails separated by spaces, commas, semicolons or new lines; the ones that are not emails.
pub fn parse_emails(text: &str) -> (Vec<Email>, Vec<String>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
        if word.trim().is_empty() {
            continue;
        }
        match Email::parse(word) {
            Some(e) if !good.contains(&e) => good.push(e),
            Some(_) => {}
            None => bad.push(word.trim().to_string()),
        }
    }
    (good, bad)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Teams,
    Skype,
}

impl Channel {
    pub fn parse(text: &str) -> Option<Channel> {
        match text.trim().to_lowercase().as_str() {
            "teams" | "msteams" | "microsoft teams" => Some(Channel::Teams),
            "skype" => Some(Channel::Skype),
            _ => None,
        }
    }

    /// The Bot Framework `channelId`.
    pub fn channel_id(self) -> &'static str {
        match self {
            Channel::Teams => "msteams",
            Channel::Skype => "skype",
        }
    }
}

/// The fields given after `campaign create|edit`; `None` where a line was absent.
#[derive(Debug, Clone, Default)]
pub struct CampaignFields {
    pub list: Option<String>,
    pub channel: Option<Channel>,
    pub start: Option<NaiveDateTime>,
    pub duration: Option<WindowLength>,
    pub hours: Option<BusinessHours>,
    pub time_zone: Option<Tz>,
    pub presence: Option<PresencePolicy>,
    pub message: Option<String>,
    /// `install: yes`: herald installs itself for members who lack it (through Graph).
    pub install: Option<bool>,
    /// `time: local`: start, window and hours in each recipient's own zone.
    pub local_time: Option<bool>,
    /// `repeat: 0 9 * * MON | daily | weekly | monthly | no`: each occurrence is a run.
    pub repeat: Option<crate::domain::repeat::Repeat>,
}

/// `yes`/`no` (`oui`/`non`, `true`/`false`, `on`/`off`).
pub fn parse_yes_no(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "yes" | "y" | "oui" | "o" | "true" | "on" | "1" => Some(true),
        "no" | "n" | "non" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}

const INSTALL_EXAMPLE: &str = "install: yes";

fn install_value(value: &str) -> Result<bool, FieldError> {
    parse_yes_no(value).ok_or_else(|| {
        field_error(
            "install",
            Problem::new("field-not-yes-no").with("value", value.trim()),
            INSTALL_EXAMPLE,
        )
    })
}

/// One field that could not be read: which, what was wrong (a sentence of the catalogue, said
/// in the reader's language), a right example.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem} (for example `{example}`)")]
pub struct FieldError {
    pub field: &'static str,
    pub problem: Problem,
    pub example: &'static str,
}

impl FieldError {
    pub fn new(field: &'static str, problem: Problem, example: &'static str) -> FieldError {
        FieldError {
            field,
            problem,
            example,
        }
    }
}

fn field_error(field: &'static str, problem: Problem, example: &'static str) -> FieldError {
    FieldError::new(field, problem, example)
}

/// A rule's own error (business hours), whose text is not yet in the catalogue, as a problem.
fn reason(e: impl std::fmt::Display) -> Problem {
    Problem::new("field-invalid").with("reason", e.to_string())
}

/// Reads field lines; collects every error rather than stopping at the first.
pub fn parse_fields(lines: &str) -> (CampaignFields, Vec<FieldError>) {
    let mut fields = CampaignFields::default();
    let mut errors = Vec::new();
    let mut iter = lines.lines();
    while let Some(line) = iter.next() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            errors.push(field_error(
                "line",
                Problem::new("field-not-a-line").with("line", line.trim()),
                "duration: 2h",
            ));
            continue;
        };
        let value = value.trim();
        match key.trim().to_lowercase().as_str() {
            "message" => {
                // Everything after `message:` is the message, lines included.
                let mut text = value.to_string();
                for rest in iter.by_ref() {
                    text.push('\n');
                    text.push_str(rest);
                }
                let text = text.trim().to_string();
                if text.is_empty() {
                    errors.push(field_error(
                        "message",
                        Problem::new("field-empty"),
                        "message: Bonjour [FIRSTNAME] [LASTNAME], …",
                    ));
                } else {
                    fields.message = Some(text);
                }
            }
            "list" | "liste" => {
                if value.is_empty() {
                    errors.push(field_error(
                        "list",
                        Problem::new("field-no-list-named"),
                        "list: all-staff",
                    ));
                } else {
                    fields.list = Some(value.to_string());
                }
            }
            "channel" | "canal" => match Channel::parse(value) {
                Some(c) => fields.channel = Some(c),
                None => errors.push(field_error(
                    "channel",
                    Problem::new("field-not-a-channel").with("value", value),
                    "channel: teams",
                )),
            },
            "start" | "début" | "debut" => {
                // Four-digit years, as the format says: chrono also reads `+262142-12-31`,
                // whose window would run past the end of its calendar.
                match NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M")
                    .ok()
                    .filter(|t| (1..=9999).contains(&t.year()))
                {
                    Some(t) => fields.start = Some(t),
                    None => errors.push(field_error(
                        "start",
                        Problem::new("field-not-a-date-time").with("value", value),
                        "start: 2026-12-01 10:00",
                    )),
                }
            }
            "duration" | "durée" | "duree" => match WindowLength::parse(value) {
                Ok(d) => fields.duration = Some(d),
                Err(e) => errors.push(field_error("duration", e.problem(), "duration: 2h")),
            },
            "hours" | "horaires" => match BusinessHours::parse(value) {
                Ok(h) => fields.hours = Some(h),
                Err(e) => errors.push(field_error(
                    "hours",
                    reason(e),
                    "hours: Mon-Fri 09:00-18:00",
                )),
            },
            "timezone" | "time zone" | "fuseau" | "fuseau horaire" => match value.parse::<Tz>() {
                Ok(tz) => fields.time_zone = Some(tz),
                Err(_) => errors.push(field_error(
                    "timezone",
                    Problem::new("field-not-a-time-zone").with("value", value),
                    "timezone: Europe/Paris",
                )),
            },
            "install" | "installer" => match install_value(value) {
                Ok(on) => fields.install = Some(on),
                Err(e) => errors.push(e),
            },
            "time" | "heure" => match crate::domain::localtime::parse_time_mode(value) {
                Some(on) => fields.local_time = Some(on),
                None => errors.push(field_error(
                    "time",
                    Problem::new("localtime-field-not-a-mode").with("value", value),
                    "time: local",
                )),
            },
            "presence" | "présence" => match PresencePolicy::parse(value) {
                Ok(p) => fields.presence = Some(p),
                Err(e) => errors.push(field_error("presence", e.problem(), "presence: available")),
            },
            "repeat" | "répéter" | "repeter" => {
                match crate::domain::repeat::Repeat::parse(value) {
                    Ok(r) => fields.repeat = Some(r),
                    Err(p) => errors.push(field_error("repeat", p, "repeat: 0 9 * * MON")),
                }
            }
            other => errors.push(field_error(
                "line",
                Problem::new("field-unknown").with("name", other),
                "duration: 2h",
            )),
        }
    }
    (fields, errors)
}

#[cfg(test)]
mod install_tests {
    use super::*;

    #[test]
    fn install_is_a_yes_or_no_field_in_both_languages() {
        let (f, e) = parse_fields("install: yes\nmessage: hi");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(f.install, Some(true));
        let (f, _) = parse_fields("installer: non");
        assert_eq!(f.install, Some(false));
        let (_, e) = parse_fields("install: maybe");
        assert_eq!(e[0].field, "install");
        assert_eq!(
            e[0].problem,
            Problem::new("field-not-yes-no").with("value", "maybe")
        );
    }

    #[test]
    fn a_broadcast_may_start_with_an_install_line() {
        use crate::domain::engagement::take_option_lines;
        let (said, e, rest) = take_option_lines("\ninstall: yes\nsubject: Hi\nBody");
        assert_eq!((said.install, e.len()), (Some(true), 0));
        assert_eq!(rest, "subject: Hi\nBody");
        let (said, _, rest) = take_option_lines("Installer : oui\nsujet: Salut\nCorps");
        assert_eq!(said.install, Some(true));
        assert_eq!(rest, "sujet: Salut\nCorps");
        let (said, _, rest) = take_option_lines("subject: Hi\ninstall: yes");
        assert_eq!(said.install, None, "only lines before the subject count");
        assert_eq!(rest, "subject: Hi\ninstall: yes");
        let (_, e, _) = take_option_lines("install: perhaps\nsubject: Hi\nBody");
        assert!(matches!(e.as_slice(), [e] if e.field == "install"));
    }
}
