//! Admin commands: checked against `bot.admins`, audited, answered in the admin's language.

use crate::domain::Lang;
use crate::domain::commands::{Command, parse_emails};
use crate::domain::text::escape_markdown;
use crate::store::lists;

use crate::store::{StoreError, audit};

pub(super) use super::caller::Caller;
use super::{Answer, Bot, BotError, forms, texts};

impl Bot {
    async fn list_named(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<lists::List>, StoreError> {
        let (tenant, name) = (tenant.to_string(), name.to_string());
        self.db
            .run(move |conn| lists::find(conn, &tenant, &name))
            .await
    }

    pub(super) async fn audit(
        &self,
        caller: &Caller,
        action: &str,
        outcome: &str,
    ) -> Result<(), StoreError> {
        let (tenant, actor, action, outcome) = (
            caller.tenant.clone(),
            caller.actor.clone(),
            action.to_string(),
            outcome.to_string(),
        );
        let now = self.clock.now();
        self.db
            .run(move |conn| audit::record(conn, &tenant, &actor, &action, &outcome, now))
            .await
    }

    /// Runs an admin command for an admin; returns the reply and the audit outcome.
    /// Runs an admin command for an admin: the answer (text or a card) and the audit outcome.
    pub(super) async fn admin_command(
        &self,
        caller: &Caller,
        command: Command,
        lang: Lang,
    ) -> Result<(Answer, String), BotError> {
        match command {
            Command::CampaignCreate { name, fields } if fields.trim().is_empty() => Ok((
                Answer::Card(forms::campaign_form(
                    lang,
                    false,
                    &name,
                    &serde_json::json!({}),
                    &[],
                )),
                "form".into(),
            )),
            Command::CampaignEdit { name, fields } if fields.trim().is_empty() => {
                match self.campaign_form_values(&caller.tenant, &name).await? {
                    Some(values) => Ok((
                        Answer::Card(forms::campaign_form(lang, true, &name, &values, &[])),
                        "form".into(),
                    )),
                    None => {
                        let (text, outcome) = self
                            .text_command(caller, Command::CampaignInfo { name }, lang)
                            .await?;
                        Ok((Answer::Text(text), outcome))
                    }
                }
            }
            Command::CampaignReport { name } => self
                .campaign_report(caller, &name, lang)
                .await
                .map(super::campaigns::answer_pair),
            Command::BroadcastInfo { id } => self
                .broadcast_info(caller, &id, lang)
                .await
                .map(super::broadcasts::answer_and_outcome),
            Command::Broadcast { target, rest } if rest.trim().is_empty() => Ok((
                Answer::Card(
                    self.broadcast_form(
                        caller,
                        lang,
                        &serde_json::json!({"audience": target}),
                        &[],
                    )
                    .await?,
                ),
                "form".into(),
            )),
            other => {
                let (text, outcome) = self.text_command(caller, other, lang).await?;
                Ok((Answer::Text(text), outcome))
            }
        }
    }

    /// A submitted campaign form: saved, or shown again with its errors.
    pub(super) async fn form_submit(
        &self,
        caller: &Caller,
        value: &serde_json::Value,
        lang: Lang,
    ) -> Result<(Answer, String), BotError> {
        let edit = value.get("mode").and_then(|m| m.as_str()) == Some("edit");
        let name = value
            .get("campaign")
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .trim()
            .to_string();
        let mode = if edit {
            super::campaigns::Mode::Edit
        } else {
            super::campaigns::Mode::Create
        };
        let fields = forms::submitted_fields(value);
        Ok(
            match self
                .save_campaign(caller, mode, &name, &fields, lang)
                .await?
            {
                super::campaigns::Saved::Answered(reply) => {
                    let (text, outcome) = super::campaigns::text_pair(reply);
                    (Answer::Text(text), outcome)
                }
                super::campaigns::Saved::Invalid(errors) => (
                    Answer::Card(forms::campaign_form(lang, edit, &name, value, &errors)),
                    "refused: invalid fields".into(),
                ),
            },
        )
    }

    /// Runs a text admin command; returns the reply and the audit outcome.
    async fn text_command(
        &self,
        caller: &Caller,
        command: Command,
        lang: Lang,
    ) -> Result<(String, String), BotError> {
        let fr = lang == Lang::Fr;
        let tenant = caller.tenant.clone();
        let now = self.clock.now();
        let quote = |s: &str| format!("**{}**", escape_markdown(s));
        let ok = |text: String| Ok((text, "ok".to_string()));
        let command_kind = match &command {
            Command::ListAdd { .. } => Kind::Add,
            _ => Kind::Other,
        };
        match command {
            Command::Lists => {
                let all = self.db.run(move |conn| lists::all(conn, &tenant)).await?;
                if all.is_empty() {
                    return ok(if fr {
                        "Aucune liste pour l'instant.".into()
                    } else {
                        "No lists yet.".into()
                    });
                }
                let lines: Vec<String> = all
                    .iter()
                    .map(|(l, n)| {
                        if fr {
                            format!("- {} ({n} membres)", quote(&l.name))
                        } else {
                            format!("- {} ({n} members)", quote(&l.name))
                        }
                    })
                    .collect();
                ok(lines.join("\n"))
            }
            Command::ListCreate { name, members } => {
                let (good, bad) = parse_emails(&members);
                let emails: Vec<String> = good.iter().map(|e| e.as_str().to_string()).collect();
                let count = emails.len();
                let (n, actor) = (name.clone(), caller.actor.clone());
                let created = self
                    .db
                    .run(move |conn| lists::create(conn, &tenant, &n, &actor, &emails, now))
                    .await?;
                if created.is_none() {
                    let text = if fr {
                        format!("Une liste nommée {} existe déjà.", quote(&name))
                    } else {
                        format!("A list named {} already exists.", quote(&name))
                    };
                    return Ok((text, "refused: duplicate name".into()));
                }
                let mut text = if fr {
                    format!("Liste {} créée avec {count} membres.", quote(&name))
                } else {
                    format!("List {} created with {count} members.", quote(&name))
                };
                text.push_str(&ignored(&bad, fr));
                ok(text)
            }
            Command::ListAdd { name, members } | Command::ListRemove { name, members } => {
                let adding = matches!(command_kind, Kind::Add);
                let (good, bad) = parse_emails(&members);
                let emails: Vec<String> = good.iter().map(|e| e.as_str().to_string()).collect();
                let Some(list) = self.list_named(&tenant, &name).await? else {
                    return Ok((no_such_list(&name, fr), "refused: unknown list".into()));
                };
                let id = list.id.clone();
                let (changed, total) = self
                    .db
                    .run(move |conn| {
                        let changed = if adding {
                            lists::add_members(conn, &id, &emails, now)?
                        } else {
                            lists::remove_members(conn, &id, &emails)?
                        };
                        let total = lists::member_count(conn, &id)?;
                        Ok((changed, total))
                    })
                    .await?;
                let mut text = match (adding, fr) {
                    (true, true) => format!(
                        "{changed} ajoutés à {} (maintenant {total}).",
                        quote(&list.name)
                    ),
                    (true, false) => {
                        format!("{changed} added to {} (now {total}).", quote(&list.name))
                    }
                    (false, true) => format!(
                        "{changed} retirés de {} (maintenant {total}).",
                        quote(&list.name)
                    ),
                    (false, false) => format!(
                        "{changed} removed from {} (now {total}).",
                        quote(&list.name)
                    ),
                };
                text.push_str(&ignored(&bad, fr));
                ok(text)
            }
            Command::ListShow { name, page } => {
                let Some(list) = self.list_named(&tenant, &name).await? else {
                    return Ok((no_such_list(&name, fr), "refused: unknown list".into()));
                };
                let (t, id) = (caller.tenant.clone(), list.id.clone());
                let members = self
                    .db
                    .run(move |conn| lists::members(conn, &t, &id, None))
                    .await?;
                ok(super::listing::members_page(
                    &list.name, &members, page, lang,
                ))
            }
            Command::ListDelete { name } => {
                let Some(list) = self.list_named(&tenant, &name).await? else {
                    return Ok((no_such_list(&name, fr), "refused: unknown list".into()));
                };
                let id = list.id.clone();
                match self.db.run(move |conn| lists::delete(conn, &id)).await? {
                    lists::Deleted::InUse(users) => Ok((
                        super::texts_lifecycle::list_in_use(lang, &list.name, &users),
                        "refused: list in use".into(),
                    )),
                    lists::Deleted::Gone => {
                        Ok((no_such_list(&name, fr), "refused: unknown list".into()))
                    }
                    lists::Deleted::Done => ok(if fr {
                        format!("Liste {} supprimée.", quote(&list.name))
                    } else {
                        format!("List {} deleted.", quote(&list.name))
                    }),
                }
            }
            campaign @ (Command::Campaigns
            | Command::CampaignCreate { .. }
            | Command::CampaignEdit { .. }
            | Command::CampaignInfo { .. }
            | Command::CampaignTest { .. }
            | Command::CampaignDelete { .. }
            | Command::CampaignReport { .. }) => self
                .campaign_command(caller, campaign, lang)
                .await
                .map(super::campaigns::text_pair),
            broadcast @ (Command::Broadcast { .. }
            | Command::Broadcasts
            | Command::BroadcastInfo { .. }
            | Command::BroadcastDelete { .. }) => self
                .broadcast_command(caller, broadcast, lang)
                .await
                .map(super::broadcasts::text_and_outcome),
            Command::Help => Ok((texts::help(lang, true), "ok".into())),
            Command::Audit { page } => {
                Ok((self.audit_page(caller, page, lang).await?, "ok".into()))
            }
        }
    }
}

enum Kind {
    Add,
    Other,
}

fn ignored(bad: &[String], fr: bool) -> String {
    if bad.is_empty() {
        return String::new();
    }
    let list: Vec<String> = bad.iter().map(|b| escape_markdown(b)).collect();
    if fr {
        format!("\n\nIgnorés (pas des emails) : {}", list.join(", "))
    } else {
        format!("\n\nIgnored (not emails): {}", list.join(", "))
    }
}

pub(super) fn no_such_list(name: &str, fr: bool) -> String {
    if fr {
        format!(
            "Il n'y a pas de liste nommée **{}**. Tapez **listes** pour les voir.",
            escape_markdown(name)
        )
    } else {
        format!(
            "There is no list named **{}**. Type **lists** to see them.",
            escape_markdown(name)
        )
    }
}
