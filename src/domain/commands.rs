//! Admin commands typed in the 1:1 chat, in English or French (DESIGN §5), and the field lines
//! that follow `campaign create|edit <name>`. Every mistake says what was wrong and how to
//! write it right.

use chrono::{Datelike, NaiveDateTime};
use chrono_tz::Tz;

use super::problem::Problem;

use super::duration::WindowLength;
use super::hours::BusinessHours;
use super::presence::PresencePolicy;

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

/// A rule's own error, whose text is not yet in the catalogue, as a problem.
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
                Err(e) => errors.push(field_error("duration", reason(e), "duration: 2h")),
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
            "presence" | "présence" => match PresencePolicy::parse(value) {
                Ok(p) => fields.presence = Some(p),
                Err(e) => errors.push(field_error("presence", reason(e), "presence: available")),
            },
            other => errors.push(field_error(
                "line",
                Problem::new("field-unknown").with("name", other),
                "duration: 2h",
            )),
        }
    }
    (fields, errors)
}

/// A command, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Lists,
    ListCreate { name: String, members: String },
    ListAdd { name: String, members: String },
    ListRemove { name: String, members: String },
    ListShow { name: String, page: usize },
    ListDelete { name: String },
    Campaigns,
    CampaignCreate { name: String, fields: String },
    CampaignEdit { name: String, fields: String },
    CampaignInfo { name: String },
    CampaignTest { name: String, email: String },
    CampaignDelete { name: String },
    CampaignReport { name: String },
    Broadcast { target: String, rest: String },
    Broadcasts,
    BroadcastInfo { id: String },
    BroadcastDelete { id: String },
    Audit { page: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command `{0}`")]
    Unknown(String),
    #[error("`{command}` needs {what}, for example `{example}`")]
    Missing {
        command: &'static str,
        what: &'static str,
        example: &'static str,
    },
    #[error("`{command}` does not know `{action}`; use {allowed}")]
    UnknownAction {
        command: &'static str,
        action: String,
        allowed: &'static str,
    },
}

impl Command {
    /// Whether this is an admin command (everything but help).
    pub fn is_admin(&self) -> bool {
        !matches!(self, Command::Help)
    }

    /// Parses the text of a message. The first line holds the command; the rest is its body.
    pub fn parse(text: &str) -> Result<Command, CommandError> {
        let text = text.trim();
        let (first, body) = match text.split_once('\n') {
            Some((f, b)) => (f.trim(), b),
            None => (text, ""),
        };
        let mut words = first.split_whitespace();
        let verb = words.next().unwrap_or("").to_lowercase();
        let verb = if verb == "?" {
            verb
        } else {
            verb.trim_end_matches(['!', '.', '?']).to_string()
        };
        let action = words.next().map(str::to_lowercase);
        let name = words.next().map(str::to_string);
        let rest_of_line: Vec<&str> = words.collect();
        let rest_of_line = rest_of_line.join(" ");
        let with_body = |inline: &str| {
            if body.trim().is_empty() {
                inline.to_string()
            } else if inline.is_empty() {
                body.to_string()
            } else {
                format!("{inline}\n{body}")
            }
        };
        let need_name = |command: &'static str, example: &'static str| CommandError::Missing {
            command,
            what: "a name",
            example,
        };
        match verb.as_str() {
            "help" | "aide" | "?" => Ok(Command::Help),
            "lists" | "listes" => Ok(Command::Lists),
            "audit" => match action.as_deref().map_or(Ok(1), str::parse) {
                Ok(page) if page > 0 => Ok(Command::Audit { page }),
                _ => Err(CommandError::Missing {
                    command: "audit",
                    what: "a page number",
                    example: "audit 2",
                }),
            },
            "list" | "liste" => {
                let action = action.ok_or(CommandError::Missing {
                    command: "list",
                    what: "an action",
                    example: "list show all-staff",
                })?;
                let name =
                    name.ok_or_else(|| need_name("list", "list create all-staff ada@contoso.com"))?;
                let members = with_body(&rest_of_line);
                match action.as_str() {
                    "create" | "créer" | "creer" => Ok(Command::ListCreate { name, members }),
                    "add" | "ajouter" => Ok(Command::ListAdd { name, members }),
                    "remove" | "retirer" => Ok(Command::ListRemove { name, members }),
                    "show" | "afficher" => {
                        let page = super::pages::page_argument(&rest_of_line)?;
                        Ok(Command::ListShow { name, page })
                    }
                    "delete" | "supprimer" => Ok(Command::ListDelete { name }),
                    other => Err(CommandError::UnknownAction {
                        command: "list",
                        action: other.to_string(),
                        allowed: "create, add, remove, show or delete",
                    }),
                }
            }
            "campaigns" | "campagnes" => Ok(Command::Campaigns),
            "campaign" | "campagne" => {
                let action = action.ok_or(CommandError::Missing {
                    command: "campaign",
                    what: "an action",
                    example: "campaign info welcome",
                })?;
                let name = name.ok_or_else(|| need_name("campaign", "campaign info welcome"))?;
                match action.as_str() {
                    "create" | "créer" | "creer" => Ok(Command::CampaignCreate {
                        name,
                        fields: with_body(&rest_of_line),
                    }),
                    "edit" | "modifier" => Ok(Command::CampaignEdit {
                        name,
                        fields: with_body(&rest_of_line),
                    }),
                    "info" => Ok(Command::CampaignInfo { name }),
                    "test" | "essayer" | "tester" => {
                        let email = rest_of_line.trim().to_string();
                        if email.is_empty() {
                            return Err(CommandError::Missing {
                                command: "campaign test",
                                what: "an email",
                                example: "campaign test welcome ada@contoso.com",
                            });
                        }
                        Ok(Command::CampaignTest { name, email })
                    }
                    "delete" | "supprimer" => Ok(Command::CampaignDelete { name }),
                    "report" | "rapport" => Ok(Command::CampaignReport { name }),
                    other => Err(CommandError::UnknownAction {
                        command: "campaign",
                        action: other.to_string(),
                        allowed: "create, edit, info, test, delete or report",
                    }),
                }
            }
            "broadcasts" | "diffusions" => Ok(Command::Broadcasts),
            "broadcast" | "diffusion" => match action.as_deref() {
                Some("info") | Some("delete") | Some("supprimer") => {
                    let id = name.ok_or(CommandError::Missing {
                        command: "broadcast",
                        what: "an id",
                        example: "broadcast info 3",
                    })?;
                    if action.as_deref() == Some("info") {
                        Ok(Command::BroadcastInfo { id })
                    } else {
                        Ok(Command::BroadcastDelete { id })
                    }
                }
                Some(target) => {
                    let inline = [name.unwrap_or_default(), rest_of_line]
                        .join(" ")
                        .trim()
                        .to_string();
                    Ok(Command::Broadcast {
                        target: target.to_string(),
                        rest: with_body(&inline),
                    })
                }
                // The form.
                None => Ok(Command::Broadcast {
                    target: String::new(),
                    rest: String::new(),
                }),
            },
            other => Err(CommandError::Unknown(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn english_and_french_commands() {
        assert_eq!(Command::parse("help").unwrap(), Command::Help);
        assert_eq!(Command::parse("Aide").unwrap(), Command::Help);
        assert_eq!(Command::parse("listes").unwrap(), Command::Lists);
        assert_eq!(
            Command::parse("liste créer equipe a@x.fr, b@x.fr").unwrap(),
            Command::ListCreate {
                name: "equipe".into(),
                members: "a@x.fr, b@x.fr".into()
            }
        );
        assert_eq!(
            Command::parse("campagne rapport bienvenue").unwrap(),
            Command::CampaignReport {
                name: "bienvenue".into()
            }
        );
        assert_eq!(
            Command::parse("campaign test welcome ada@contoso.com").unwrap(),
            Command::CampaignTest {
                name: "welcome".into(),
                email: "ada@contoso.com".into()
            }
        );
        assert_eq!(
            Command::parse("diffusion supprimer 3").unwrap(),
            Command::BroadcastDelete { id: "3".into() }
        );
    }

    #[test]
    fn bodies_follow_the_first_line() {
        let c = Command::parse(
            "campaign create welcome\nlist: all-staff\nmessage:\nBonjour [FIRSTNAME]",
        )
        .unwrap();
        assert_eq!(
            c,
            Command::CampaignCreate {
                name: "welcome".into(),
                fields: "list: all-staff\nmessage:\nBonjour [FIRSTNAME]".into()
            }
        );
        let c = Command::parse("list add team\na@x.com\nb@x.com").unwrap();
        assert_eq!(
            c,
            Command::ListAdd {
                name: "team".into(),
                members: "a@x.com\nb@x.com".into()
            }
        );
    }

    #[test]
    fn mistakes_say_what_to_type() {
        assert!(
            matches!(Command::parse("launch rockets"), Err(CommandError::Unknown(w)) if w == "launch")
        );
        let e = Command::parse("campaign").unwrap_err().to_string();
        assert!(
            e.contains("an action") && e.contains("campaign info"),
            "{e}"
        );
        let e = Command::parse("campaign fly x").unwrap_err().to_string();
        assert!(e.contains("`fly`") && e.contains("create, edit"), "{e}");
        let e = Command::parse("campaign test welcome")
            .unwrap_err()
            .to_string();
        assert!(e.contains("an email"), "{e}");
        let e = Command::parse("list show").unwrap_err().to_string();
        assert!(e.contains("a name"), "{e}");
    }

    #[test]
    fn field_lines_in_both_languages() {
        let (f, errors) = parse_fields(
            "liste: all-staff\ncanal: teams\ndébut: 2026-12-01 10:00\ndurée: 1h30m\n\
             horaires: Lun-Ven 09:00-18:00\nfuseau: Europe/Paris\nprésence: disponible\n\
             message:\nBonjour [FIRSTNAME],\nà bientôt.",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(f.list.as_deref(), Some("all-staff"));
        assert_eq!(f.channel, Some(Channel::Teams));
        assert_eq!(f.start.unwrap().to_string(), "2026-12-01 10:00:00");
        assert_eq!(f.duration.unwrap().minutes(), 90);
        assert_eq!(f.hours.unwrap().to_string(), "Mon-Fri 09:00-18:00");
        assert_eq!(f.time_zone.unwrap().name(), "Europe/Paris");
        assert_eq!(f.presence, Some(PresencePolicy::Available));
        assert_eq!(
            f.message.as_deref(),
            Some("Bonjour [FIRSTNAME],\nà bientôt.")
        );
    }

    #[test]
    fn each_bad_field_is_named_with_an_example() {
        let (_, errors) = parse_fields(
            "channel: fax\nstart: tomorrow\nduration: 2x\nhours: Mon-Fri\ntimezone: Mars/Olympus\n\
             presence: sleepy\ncolour: red\nno colon here\nmessage:   ",
        );
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "channel", "start", "duration", "hours", "timezone", "presence", "line", "line",
                "message"
            ]
        );
        for e in &errors {
            assert!(e.to_string().contains("for example"), "{e}");
        }
        // The catalogue's sentence gives the format (YYYY-MM-DD HH:MM).
        assert_eq!(errors[1].problem.id, "field-not-a-date-time");
    }

    #[test]
    fn a_start_beyond_year_9999_is_refused() {
        // Found while writing the `admin` fuzz target: chrono reads signed years up to 262142,
        // and `campaign create` then panicked checking the window past its calendar's end.
        for start in [
            "+262142-12-31 23:59",
            "-262143-01-01 00:00",
            "+10000-01-01 00:00",
        ] {
            let (f, errors) = parse_fields(&format!("start: {start}\nduration: 366d"));
            assert!(f.start.is_none(), "{start}");
            assert_eq!(errors.len(), 1, "{start}");
            assert_eq!(errors[0].problem.id, "field-not-a-date-time");
        }
        let (f, _) = parse_fields("start: 9999-12-31 23:59");
        assert!(f.start.is_some());
    }

    #[test]
    fn emails_are_split_every_way_and_checked() {
        let (good, bad) = parse_emails(
            "Ada@Contoso.com, grace@contoso.com;\nnot-an-email ada@contoso.com <linus@example.org>",
        );
        assert_eq!(
            good.iter().map(Email::as_str).collect::<Vec<_>>(),
            ["ada@contoso.com", "grace@contoso.com", "linus@example.org"]
        );
        assert_eq!(bad, ["not-an-email"]);
        assert!(Email::parse("a@b").is_none());
        assert!(Email::parse("@b.com").is_none());
    }

    /// Every verb, English and French.
    const VERBS: &str = "help aide ? lists listes list liste campaigns campagnes campaign \
                         campagne broadcasts diffusions broadcast diffusion";

    const SEPARATORS: [&str; 7] = [" ", ",", ";", "\n", ", ", ";\r\n", "\t"];

    proptest! {
        /// `CAMPAIGN info x` is `campaign info x`, whatever follows the verb.
        #[test]
        fn the_verb_is_case_insensitive(
            verb in prop::sample::select(VERBS.split_whitespace().collect::<Vec<_>>()),
            rest in "(?s).{0,80}",
        ) {
            let shouted = format!("{} {rest}", verb.to_ascii_uppercase());
            let typed = format!("{verb} {rest}");
            prop_assert_eq!(Command::parse(&shouted), Command::parse(&typed));
        }

        /// Addresses pasted with any separators come back once each, in order, in lower case.
        #[test]
        fn emails_separated_any_way_read_back(
            emails in prop::collection::vec(
                "[A-Za-z0-9._%+-]{1,12}@[A-Za-z0-9-]{1,12}\\.[A-Za-z]{2,6}",
                1..8,
            ),
            separators in prop::collection::vec(prop::sample::select(&SEPARATORS[..]), 8),
        ) {
            let text: String = emails
                .iter()
                .zip(&separators)
                .map(|(e, sep)| format!("{e}{sep}"))
                .collect();
            let mut expected: Vec<String> = Vec::new();
            for e in &emails {
                let e = e.to_lowercase();
                if !expected.contains(&e) {
                    expected.push(e);
                }
            }
            let (good, bad) = parse_emails(&text);
            prop_assert!(bad.is_empty(), "{:?}", bad);
            prop_assert_eq!(good.iter().map(Email::as_str).collect::<Vec<_>>(), expected);
        }
    }
}
