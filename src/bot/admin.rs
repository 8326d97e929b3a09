//! Admin turns: only configured admins act, the one place a command finds its handler, and the
//! audit log's record of every attempt.

use crate::domain::Lang;
use crate::domain::commands::{Command, CommandError};
use crate::store::{StoreError, audit};

use super::caller::Caller;
use super::campaigns::{Mode, Saved};
use super::reply::{Answer, Outcome, Refusal, Reply};
use super::{Bot, BotError, forms, texts};

/// An admin form submitted from a card.
pub(super) enum Form {
    Campaign,
    Broadcast,
}

/// What the audit log keeps of a typed command: its first line, at most 200 characters.
fn action_of(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

impl Bot {
    /// Records an admin action's outcome in the audit log.
    pub(super) async fn audit(
        &self,
        caller: &Caller,
        action: &str,
        outcome: &Outcome,
    ) -> Result<(), StoreError> {
        let (tenant, actor, action, outcome) = (
            caller.tenant.clone(),
            caller.actor.clone(),
            action.to_string(),
            outcome.audit_text(),
        );
        let now = self.clock.now();
        self.db
            .run(move |conn| audit::record(conn, &tenant, &actor, &action, &outcome, now))
            .await
    }

    /// An admin verb typed in the chat, well formed or not: refused unless the caller is an
    /// admin, otherwise run; audited either way.
    pub(super) async fn admin_text(
        &self,
        caller: &Caller,
        text: &str,
        parsed: Result<Command, CommandError>,
        attachments: &[serde_json::Value],
        lang: Lang,
    ) -> Result<Answer, BotError> {
        let action = action_of(text);
        if !self.is_admin(caller) {
            self.audit(caller, &action, &Outcome::Refused(Refusal::NotAdmin))
                .await?;
            return Ok(Answer::Text(texts::refusal(lang)));
        }
        let reply = match parsed {
            Ok(command) => self.run_command(caller, command, attachments, lang).await?,
            Err(e) => Reply::refused(
                crate::texts::problem(lang, &e.problem()),
                Refusal::BadCommand(e.to_string()),
            ),
        };
        Ok(self.audit_done(caller, &action, reply, lang).await)
    }

    /// A submitted admin form: refused unless the caller is an admin, otherwise saved or sent
    /// (or shown again with its errors); audited either way.
    pub(super) async fn admin_form(
        &self,
        caller: &Caller,
        form: Form,
        value: &serde_json::Value,
        lang: Lang,
    ) -> Result<Answer, BotError> {
        let action = match form {
            Form::Campaign => format!(
                "campaign form: {}",
                value
                    .get("campaign")
                    .and_then(|c| c.as_str())
                    .unwrap_or_default()
            ),
            Form::Broadcast => "broadcast form".to_string(),
        };
        if !self.is_admin(caller) {
            self.audit(caller, &action, &Outcome::Refused(Refusal::NotAdmin))
                .await?;
            return Ok(Answer::Text(texts::refusal(lang)));
        }
        let reply = match form {
            Form::Campaign => self.campaign_form_submit(caller, value, lang).await?,
            Form::Broadcast => self.broadcast_form_submit(caller, value, lang).await?,
        };
        Ok(self.audit_done(caller, &action, reply, lang).await)
    }

    /// The one place a parsed command finds its handler; `attachments` are the message's
    /// (a file sent with `list import`).
    async fn run_command(
        &self,
        caller: &Caller,
        command: Command,
        attachments: &[serde_json::Value],
        lang: Lang,
    ) -> Result<Reply, BotError> {
        use Command as C;
        match command {
            C::Help => Ok(Reply::done(texts::help(lang, true))),
            C::Audit { page } => Ok(Reply::done(self.audit_page(caller, page, lang).await?)),
            list @ (C::Lists
            | C::ListCreate { .. }
            | C::ListAdd { .. }
            | C::ListRemove { .. }
            | C::ListShow { .. }
            | C::ListDelete { .. }) => self.list_command(caller, list, lang).await,
            C::ListImport { name } => self.list_import(caller, &name, attachments, lang).await,
            C::CampaignCreate { name, fields } if fields.trim().is_empty() => Ok(Reply::form(
                forms::campaign_form(lang, false, &name, &serde_json::json!({}), &[]),
            )),
            C::CampaignEdit { name, fields } if fields.trim().is_empty() => {
                match self.campaign_form_values(&caller.tenant, &name).await? {
                    Some(values) => Ok(Reply::form(forms::campaign_form(
                        lang,
                        true,
                        &name,
                        &values,
                        &[],
                    ))),
                    None => {
                        self.campaign_command(caller, C::CampaignInfo { name }, lang)
                            .await
                    }
                }
            }
            C::CampaignReport { name } => self.campaign_report(caller, &name, lang).await,
            C::CampaignResend { name } => self.campaign_resend(caller, &name, lang).await,
            C::CampaignStop { name } => self.campaign_stop(caller, &name, lang).await,
            C::CampaignRunReport { name, run } => {
                self.campaign_run_report(caller, &name, &run, lang).await
            }
            campaign @ (C::Campaigns
            | C::CampaignCreate { .. }
            | C::CampaignEdit { .. }
            | C::CampaignInfo { .. }
            | C::CampaignTest { .. }
            | C::CampaignDelete { .. }) => self.campaign_command(caller, campaign, lang).await,
            C::Broadcast { target, rest } if rest.trim().is_empty() => {
                let values = serde_json::json!({ "audience": target });
                Ok(Reply::form(
                    self.broadcast_form(caller, lang, &values, &[]).await?,
                ))
            }
            C::BroadcastInfo { id } => self.broadcast_info(caller, &id, lang).await,
            C::BroadcastResend { id } => self.broadcast_resend(caller, &id, lang).await,
            C::BroadcastRemind { id } => self.broadcast_remind(caller, &id, lang).await,
            broadcast @ (C::Broadcast { .. } | C::Broadcasts | C::BroadcastDelete { .. }) => {
                self.broadcast_command(caller, broadcast, lang).await
            }
            C::BroadcastEdit { id, rest } => self.broadcast_edit(caller, &id, &rest, lang).await,
        }
    }

    /// A submitted campaign form: saved, or shown again with its errors.
    async fn campaign_form_submit(
        &self,
        caller: &Caller,
        value: &serde_json::Value,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let edit = value.get("mode").and_then(|m| m.as_str()) == Some("edit");
        let name = value
            .get("campaign")
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .trim()
            .to_string();
        let mode = if edit { Mode::Edit } else { Mode::Create };
        let fields = forms::submitted_fields(value);
        Ok(
            match self
                .save_campaign(caller, mode, &name, &fields, lang)
                .await?
            {
                Saved::Answered(reply) => reply,
                Saved::Invalid(errors) => Reply::card(
                    forms::campaign_form(lang, edit, &name, value, &errors),
                    Outcome::Refused(Refusal::InvalidFields),
                ),
            },
        )
    }
}
