//! Admin commands typed in the 1:1 chat, in English or French (DESIGN §5), and the field lines
//! that follow `campaign create|edit <name>`. Every mistake says what was wrong and how to
//! write it right.
//!
//! `fields` reads the field lines; this file reads the command line.

mod fields;
#[cfg(test)]
mod tests;

use super::problem::Problem;

pub use fields::parse_yes_no;
pub use fields::{CampaignFields, Channel, Email, FieldError, parse_emails, parse_fields};

/// A command, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Lists,
    ListCreate {
        name: String,
        members: String,
    },
    ListAdd {
        name: String,
        members: String,
    },
    ListRemove {
        name: String,
        members: String,
    },
    ListShow {
        name: String,
        page: usize,
    },
    ListDelete {
        name: String,
    },
    /// `list import <name>`: the list made from the file sent with the command.
    ListImport {
        name: String,
    },
    Campaigns,
    CampaignCreate {
        name: String,
        fields: String,
    },
    CampaignEdit {
        name: String,
        fields: String,
    },
    CampaignInfo {
        name: String,
    },
    CampaignTest {
        name: String,
        email: String,
    },
    CampaignDelete {
        name: String,
    },
    CampaignReport {
        name: String,
    },
    CampaignResend {
        name: String,
    },
    Broadcast {
        target: String,
        rest: String,
    },
    Broadcasts,
    BroadcastInfo {
        id: String,
    },
    BroadcastDelete {
        id: String,
    },
    BroadcastResend {
        id: String,
    },
    /// `broadcast remind <n>` (`diffusion relancer`): a reminder to those who have not read it.
    BroadcastRemind {
        id: String,
    },
    Audit {
        page: u32,
    },
    /// `broadcast edit <n>` (`diffusion modifier`) and the lines of a broadcast: replaces a
    /// scheduled broadcast while it waits.
    BroadcastEdit {
        id: String,
        rest: String,
    },
    /// `campaign stop <name>` (`campagne arrêter`): a repeating campaign makes no further run.
    CampaignStop {
        name: String,
    },
    /// `campaign report <name> <run>`: one run of a repeating campaign.
    CampaignRunReport {
        name: String,
        run: String,
    },
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

impl CommandError {
    /// What was wrong, as a sentence of the catalogue (the Display above is for logs).
    pub fn problem(&self) -> Problem {
        match self {
            CommandError::Unknown(word) => Problem::new("command-unknown").with("word", word),
            CommandError::Missing {
                command,
                what,
                example,
            } => {
                let what = match *what {
                    "a name" => "name",
                    "a page number" => "page",
                    "a page number after the name" => "page-after-name",
                    "an action" => "action",
                    "an email" => "email",
                    "an id" => "id",
                    _ => "other",
                };
                Problem::new("command-missing")
                    .with("command", *command)
                    .with("what", what)
                    .with("example", *example)
            }
            CommandError::UnknownAction {
                command, action, ..
            } => Problem::new("command-unknown-action")
                .with("command", *command)
                .with("action", action.as_str()),
        }
    }
}

/// The page asked for after `list show <name>`: 1 when none is given.
fn page_argument(text: &str) -> Result<usize, CommandError> {
    if text.trim().is_empty() {
        return Ok(1);
    }
    super::pages::page_number(text).ok_or(CommandError::Missing {
        command: "list show",
        what: "a page number after the name",
        example: "list show all-staff 2",
    })
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
                        let page = page_argument(&rest_of_line)?;
                        Ok(Command::ListShow { name, page })
                    }
                    "delete" | "supprimer" => Ok(Command::ListDelete { name }),
                    "import" | "importer" => Ok(Command::ListImport { name }),
                    other => Err(CommandError::UnknownAction {
                        command: "list",
                        action: other.to_string(),
                        allowed: "create, add, remove, show, import or delete",
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
                    "report" | "rapport" if !rest_of_line.trim().is_empty() => {
                        Ok(Command::CampaignRunReport {
                            name,
                            run: rest_of_line.trim().to_string(),
                        })
                    }
                    "report" | "rapport" => Ok(Command::CampaignReport { name }),
                    "resend" | "renvoyer" => Ok(Command::CampaignResend { name }),
                    "stop" | "arrêter" | "arreter" => Ok(Command::CampaignStop { name }),
                    other => Err(CommandError::UnknownAction {
                        command: "campaign",
                        action: other.to_string(),
                        allowed: "create, edit, info, test, delete, report, resend or stop",
                    }),
                }
            }
            "broadcasts" | "diffusions" => Ok(Command::Broadcasts),
            "broadcast" | "diffusion" => match action.as_deref() {
                Some("edit") | Some("modifier") => {
                    let id = name.ok_or(CommandError::Missing {
                        command: "broadcast edit",
                        what: "an id",
                        example: "broadcast edit 3",
                    })?;
                    Ok(Command::BroadcastEdit {
                        id,
                        rest: with_body(&rest_of_line),
                    })
                }
                Some("info") | Some("delete") | Some("supprimer") | Some("resend")
                | Some("renvoyer") | Some("remind") | Some("relancer") | Some("relance") => {
                    let id = name.ok_or(CommandError::Missing {
                        command: "broadcast",
                        what: "an id",
                        example: "broadcast info 3",
                    })?;
                    match action.as_deref() {
                        Some("info") => Ok(Command::BroadcastInfo { id }),
                        Some("resend") | Some("renvoyer") => Ok(Command::BroadcastResend { id }),
                        Some("remind") | Some("relancer") | Some("relance") => {
                            Ok(Command::BroadcastRemind { id })
                        }
                        _ => Ok(Command::BroadcastDelete { id }),
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
