//! Campaign commands in the chat: create, edit, info, test, delete and the list of campaigns.
//! Each turns a command into a call of a use case of [`crate::campaigns`] and its typed result
//! into a reply; every sentence comes from the catalogue (`locales/*/campaigns.ftl`).

use super::caller::Caller;
use super::reply::{Answer, Outcome, Refusal, Reply};
use super::texts::bold as q;
use super::{Bot, BotError};
use crate::campaigns::{self as feature, Campaigns, Deleted, Resent, TestSent, TestTarget};
use crate::domain::Lang;
use crate::domain::campaign::CampaignStatus;
use crate::domain::commands::{CampaignFields, Command, FieldError};
use crate::domain::text::escape_markdown;
use crate::store::campaigns::Campaign;
use crate::t;

pub use crate::campaigns::{CampaignDefaults, Mode};

/// What saving a campaign came to, for the chat: an answer, or the fields that did not hold
/// up (a text command lists them; the form shows itself again with them).
pub(super) enum Saved {
    Answered(Reply),
    Invalid(Vec<FieldError>),
}

fn errors_text(lang: Lang, errors: &[FieldError]) -> String {
    super::texts::field_errors(lang, &t!(lang, "campaign-not-saved"), errors)
}

impl Bot {
    pub(super) fn campaigns(&self) -> Campaigns<'_> {
        Campaigns {
            db: &self.db,
            outbox: &self.outbox,
            defaults: &self.campaign_defaults,
            hold: false,
        }
    }

    /// Creates or edits a campaign from field lines; the same path for text and the form.
    pub(super) async fn save_campaign(
        &self,
        caller: &Caller,
        mode: Mode,
        name: &str,
        fields: &str,
        lang: Lang,
    ) -> Result<Saved, BotError> {
        let now = self.clock.now();
        let (given, errors) = self.parse_sized(fields);
        if !errors.is_empty() {
            return Ok(Saved::Invalid(errors));
        }
        if given.install == Some(true) && self.reach.graph.is_none() {
            return Ok(Saved::Invalid(vec![FieldError::new(
                "install",
                crate::domain::problem::Problem::new("install-needs-graph"),
                "install: no",
            )]));
        }
        let campaigns = Campaigns {
            hold: self.approval_required(caller),
            ..self.campaigns()
        };
        let saved = campaigns
            .save(&caller.tenant, &caller.actor, mode, name, given, now)
            .await?;
        Ok(Saved::Answered(match saved {
            feature::Saved::Done {
                campaign,
                list_name,
                unknown_placeholders,
                presence_unheeded,
            } => {
                let head = match mode {
                    _ if campaign.status == CampaignStatus::AwaitingApproval => {
                        self.ask_campaign_approval(caller, &campaign, lang).await?
                    }
                    Mode::Create => t!(lang, "campaign-scheduled", name = q(&campaign.name)),
                    Mode::Edit => t!(lang, "campaign-updated", name = q(&campaign.name)),
                };
                let info = info_text(lang, &campaign, list_name)
                    + &self.repeat_lines(lang, &campaign).await?;
                Reply::done(format!(
                    "{head}\n\n{info}{}{}",
                    placeholder_warning(lang, &unknown_placeholders),
                    super::texts::presence_warning(lang, presence_unheeded)
                ))
            }
            feature::Saved::UnknownCampaign => {
                Reply::refused(no_such_campaign(lang, name), Refusal::UnknownCampaign)
            }
            feature::Saved::AlreadyStarted(c) => Reply::refused(
                t!(lang, "campaign-started-no-edit", name = q(&c.name)),
                Refusal::AlreadyStarted,
            ),
            feature::Saved::NameTaken => Reply::refused(
                t!(lang, "campaign-name-taken", name = q(name)),
                Refusal::DuplicateName,
            ),
            feature::Saved::Invalid(errors) => return Ok(Saved::Invalid(errors)),
        }))
    }

    pub(super) async fn campaign_command(
        &self,
        caller: &Caller,
        command: Command,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let tenant = &caller.tenant;
        match command {
            Command::Campaigns => {
                let all = self.campaigns().overview(tenant).await?;
                if all.is_empty() {
                    return Ok(Reply::done(t!(lang, "campaigns-none")));
                }
                let lines: Vec<String> = all
                    .iter()
                    .map(|(c, counts)| {
                        let progress = if feature::in_progress(c) {
                            format!(
                                " `{}`",
                                crate::reports::progress_bar(
                                    counts.delivered,
                                    i64::from(c.targeted)
                                )
                            )
                        } else {
                            String::new()
                        };
                        t!(
                            lang,
                            "campaigns-line",
                            name = q(&c.name),
                            status = c.status.as_str(),
                            start = feature::local_start(c),
                            delivered = counts.delivered.to_string(),
                            targeted = c.targeted.to_string(),
                            progress = progress,
                        )
                    })
                    .collect();
                Ok(Reply::done(lines.join("\n")))
            }
            Command::CampaignCreate { name, fields } => {
                self.save_answer(caller, Mode::Create, &name, &fields, lang)
                    .await
            }
            Command::CampaignEdit { name, fields } => {
                self.save_answer(caller, Mode::Edit, &name, &fields, lang)
                    .await
            }
            Command::CampaignInfo { name } => match self.campaign_named(tenant, &name).await? {
                Some(c) => {
                    let list_name = self.campaigns().list_name(&c).await?;
                    let repeat = self.repeat_lines(lang, &c).await?;
                    Ok(Reply::done(info_text(lang, &c, list_name) + &repeat))
                }
                None => Ok(Reply::refused(
                    no_such_campaign(lang, &name),
                    Refusal::UnknownCampaign,
                )),
            },
            Command::CampaignDelete { name } => {
                Ok(match self.campaigns().delete(tenant, &name).await? {
                    Deleted::Done(c) => {
                        Reply::done(t!(lang, "campaign-deleted", name = q(&c.name)))
                    }
                    Deleted::UnknownCampaign => {
                        Reply::refused(no_such_campaign(lang, &name), Refusal::UnknownCampaign)
                    }
                    Deleted::Running(c) => Reply::refused(
                        t!(lang, "campaign-running-no-delete", name = q(&c.name)),
                        Refusal::Running,
                    ),
                })
            }
            Command::CampaignTest { name, email } => {
                match self.campaigns().test_target(tenant, &name, &email).await? {
                    TestTarget::Ready(c, user) => self.send_test(&c, &user, lang).await,
                    TestTarget::UnknownCampaign => Ok(Reply::refused(
                        no_such_campaign(lang, &name),
                        Refusal::UnknownCampaign,
                    )),
                    TestTarget::NotAnEmail => Ok(Reply::refused(
                        t!(
                            lang,
                            "campaign-not-an-email",
                            value = escape_markdown(&email)
                        ),
                        Refusal::BadEmail,
                    )),
                    TestTarget::NotInstalled(email) => Ok(Reply::refused(
                        t!(
                            lang,
                            "campaign-test-not-installed",
                            email = escape_markdown(email.as_str())
                        ),
                        Refusal::TestRecipientNotInstalled,
                    )),
                }
            }
            _ => Ok(Reply::refused(
                super::texts::hint(lang),
                Refusal::NotACampaignCommand,
            )),
        }
    }

    /// `campaign resend <name>`: sent again to those it missed, and how many.
    pub(super) async fn campaign_resend(
        &self,
        caller: &Caller,
        name: &str,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let now = self.clock.now();
        let resent = self
            .campaigns()
            .resend(&self.reach, &caller.tenant, name, now)
            .await?;
        Ok(match resent {
            Resent::Done {
                campaign: c,
                counts,
                at,
            } => {
                let mut text = if counts.total() == 0 {
                    t!(lang, "resend-campaign-none", name = q(&c.name))
                } else {
                    t!(
                        lang,
                        "resend-campaign-done",
                        name = q(&c.name),
                        total = counts.total(),
                        failed = counts.failed_again,
                        newly = counts.newly_reached,
                    )
                };
                if counts.total() > 0 && at > now {
                    let at = at.with_timezone(&feature::zone(&c));
                    let at = at.format("%Y-%m-%d %H:%M %Z").to_string();
                    text.push_str(&format!("\n{}", t!(lang, "resend-campaign-when", at = at)));
                }
                text.push_str(&super::texts::left_out(lang, &counts));
                Reply {
                    answer: Answer::Text(text),
                    outcome: Outcome::Noted(format!(
                        "resent {} of campaign {}",
                        counts.total(),
                        c.name
                    )),
                }
            }
            Resent::UnknownCampaign => {
                Reply::refused(no_such_campaign(lang, name), Refusal::UnknownCampaign)
            }
            Resent::NotStarted(c) => Reply::refused(
                t!(lang, "resend-not-started", name = q(&c.name)),
                Refusal::NotStarted,
            ),
        })
    }

    /// `campaign create|edit` typed as text: errors come back as a list.
    async fn save_answer(
        &self,
        caller: &Caller,
        mode: Mode,
        name: &str,
        fields: &str,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        Ok(
            match self.save_campaign(caller, mode, name, fields, lang).await? {
                Saved::Answered(reply) => reply,
                Saved::Invalid(errors) => {
                    Reply::refused(errors_text(lang, &errors), Refusal::InvalidFields)
                }
            },
        )
    }

    /// A scheduled campaign's current values, to prefill the edit form.
    pub(super) async fn campaign_form_values(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<serde_json::Value>, BotError> {
        let Some(c) = self.campaign_named(tenant, name).await? else {
            return Ok(None);
        };
        let f = self
            .campaigns()
            .merge(&c, CampaignFields::default())
            .await?;
        Ok(Some(serde_json::json!({
            "list": f.list.unwrap_or_default(),
            "start": f.start.map(|s| s.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
            "duration": f.duration.map(|d| d.to_string()).unwrap_or_default(),
            "hours": c.hours.to_string(),
            "timezone": c.time_zone.to_string(),
            "presence": c.presence.to_string(),
            "channel": channel_word(&c),
            "message": c.message,
            "install": if c.install { "yes" } else { "no" },
            "time": super::localtime::form_value(&c),
            "repeat": match f.repeat {
                Some(crate::domain::repeat::Repeat::Every(r)) => r.to_string(),
                _ => String::new(),
            },
        })))
    }

    pub(super) async fn campaign_named(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<Campaign>, BotError> {
        Ok(self.campaigns().named(tenant, name).await?)
    }

    /// `campaign test`: the personalised message to one installed user, now.
    async fn send_test(
        &self,
        c: &Campaign,
        user: &crate::store::users::User,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let sent = feature::send_test(&self.sender, c, user).await;
        Ok(match sent {
            TestSent::Sent { to } => Reply::done(t!(
                lang,
                "campaign-test-sent",
                name = q(&c.name),
                email = escape_markdown(&to)
            )),
            TestSent::BadMessage(problem) => {
                Reply::refused(crate::texts::problem(lang, &problem), Refusal::BadMessage)
            }
            TestSent::BadServiceUrl => Reply::refused(
                t!(lang, "campaign-test-bad-service-url"),
                Refusal::BadServiceUrl,
            ),
            TestSent::HostNotAllowed { host } => Reply::refused(
                t!(
                    lang,
                    "campaign-test-host-not-allowed",
                    host = escape_markdown(&host)
                ),
                Refusal::ServiceUrlNotAllowed,
            ),
            TestSent::Failed(error) => Reply {
                answer: Answer::Text(t!(lang, "campaign-test-failed", error = error.as_str())),
                outcome: Outcome::Error(error),
            },
        })
    }
}

fn channel_word(c: &Campaign) -> &'static str {
    if c.channel == "skype" {
        "skype"
    } else {
        "teams"
    }
}

/// `campaign info`: the campaign's settings, labelled in the reader's language.
fn info_text(lang: Lang, c: &Campaign, list_name: Option<String>) -> String {
    let list_name = list_name.unwrap_or_else(|| "?".into());
    let duration = crate::domain::duration::WindowLength::from_minutes(c.duration_minutes)
        .map(|d| d.to_string())
        .unwrap_or_default();
    let lines = [
        (
            t!(lang, "campaign-label-channel"),
            channel_word(c).to_string(),
        ),
        (t!(lang, "campaign-label-list"), escape_markdown(&list_name)),
        (t!(lang, "campaign-label-start"), feature::local_start(c)),
        (t!(lang, "campaign-label-duration"), duration),
        (t!(lang, "campaign-label-hours"), c.hours.to_string()),
        (t!(lang, "campaign-label-timezone"), c.time_zone.to_string()),
        (t!(lang, "campaign-label-presence"), c.presence.to_string()),
    ];
    let mut text = format!("{} ({})", q(&c.name), c.status);
    for (label, value) in lines {
        text.push_str(&format!("\n- {label} {value}"));
    }
    text.push_str(&super::localtime::info_lines(lang, c));
    let install = if c.install {
        t!(lang, "install-yes")
    } else {
        t!(lang, "install-no")
    };
    text.push_str(&format!(
        "\n- {} {install}",
        t!(lang, "campaign-label-install")
    ));
    if c.herald_installed > 0 {
        text.push_str(&format!(
            "\n- {}",
            t!(lang, "installed-by-herald", count = c.herald_installed)
        ));
    }
    text.push_str(&super::skype::notes(lang, c));
    text.push_str(&format!(
        "\n- {}\n{}",
        t!(lang, "campaign-label-message"),
        c.message
    ));
    text
}

pub(super) fn no_such_campaign(lang: Lang, name: &str) -> String {
    t!(lang, "campaign-unknown", name = q(name))
}

fn placeholder_warning(lang: Lang, unknown: &[String]) -> String {
    if unknown.is_empty() {
        return String::new();
    }
    let list: Vec<String> = unknown
        .iter()
        .map(|u| format!("[{}]", escape_markdown(u)))
        .collect();
    let warning = t!(
        lang,
        "campaign-unknown-placeholders",
        placeholders = list.join(", "),
        count = unknown.len(),
    );
    format!("\n\n{warning}")
}

#[cfg(test)]
mod tests {
    use super::placeholder_warning;
    use crate::domain::Lang;
    use crate::domain::duration::WindowLength;
    use crate::domain::presence::PresencePolicy;

    #[test]
    fn rule_errors_read_in_english_as_before_and_exist_in_french() {
        for input in [
            "2x",
            "",
            "h",
            "1m2h",
            "2",
            "0m",
            "400d",
            "99999999999999999999m",
        ] {
            let e = WindowLength::parse(input).unwrap_err();
            assert_eq!(crate::texts::problem(Lang::En, &e.problem()), e.to_string());
            let fr = crate::texts::problem(Lang::Fr, &e.problem());
            assert!(fr.contains("n'est pas une durée"), "{fr}");
        }
        let e = PresencePolicy::parse("sometimes").unwrap_err();
        assert_eq!(crate::texts::problem(Lang::En, &e.problem()), e.to_string());
    }

    #[test]
    fn unknown_placeholders_agree_with_their_number() {
        assert_eq!(
            placeholder_warning(Lang::En, &["PRENOM".into()]),
            "\n\nWarning: [PRENOM] is not a known placeholder ([FIRSTNAME] and [LASTNAME] are); \
             it will be sent as written."
        );
        assert!(
            placeholder_warning(Lang::En, &["A".into(), "B".into()])
                .contains("[A], [B] are not known placeholders")
        );
        assert!(
            placeholder_warning(Lang::Fr, &["A".into(), "B".into()])
                .contains("[A], [B] ne sont pas des champs connus")
        );
        assert_eq!(placeholder_warning(Lang::Fr, &[]), "");
    }
}
