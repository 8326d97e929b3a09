//! Campaign commands: create, edit, info, test, delete, report, and the list of campaigns.
//! Every field is checked with a specific message; the lifecycle is enforced (no edit or delete
//! once started, no cancel; delete again once completed).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::admin::Caller;
use super::{Bot, BotError};
use crate::domain::Lang;
use crate::domain::commands::{CampaignFields, Channel, Email, FieldError};
use crate::domain::duration::WindowLength;
use crate::domain::hours::{BusinessHours, Side, resolve};
use crate::domain::presence::PresencePolicy;
use crate::domain::problem::Problem;
use crate::domain::template::MessageTemplate;
use crate::domain::text::escape_markdown;
use crate::store::campaigns::{self, Campaign, Settings, status};
use crate::store::lists;

use super::texts_lifecycle::list_gone;

/// Campaign settings that fields left out take.
#[derive(Debug, Clone)]
pub struct CampaignDefaults {
    pub time_zone: Tz,
    pub hours: BusinessHours,
}

type Reply = Result<(String, String), BotError>;

/// Creating a campaign, or editing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Create,
    Edit,
}

/// What saving a campaign came to.
pub(super) enum Saved {
    Done(String),
    Refused(String, &'static str),
    Invalid(Vec<FieldError>),
}

use super::texts::bold as q;

fn refused(text: String, why: &str) -> Reply {
    Ok((text, format!("refused: {why}")))
}

fn errors_text(errors: &[FieldError], fr: bool) -> String {
    let head = if fr {
        "La campagne n'a pas été enregistrée :"
    } else {
        "The campaign was not saved:"
    };
    super::texts::field_errors(if fr { Lang::Fr } else { Lang::En }, head, errors)
}

fn missing(field: &'static str, example: &'static str) -> FieldError {
    FieldError {
        field,
        problem: Problem::new("field-missing"),
        example,
    }
}

impl Bot {
    /// Checks merged fields and turns them into stored settings, or every problem found.
    async fn settle_fields(
        &self,
        tenant: &str,
        f: CampaignFields,
        now: DateTime<Utc>,
    ) -> Result<(Settings, Vec<String>), BotError> {
        let mut errors = Vec::new();
        let tz = f.time_zone.unwrap_or(self.campaign_defaults.time_zone);
        let hours = f
            .hours
            .unwrap_or_else(|| self.campaign_defaults.hours.clone());
        let channel = f.channel.unwrap_or(Channel::Teams);
        let presence = f.presence.unwrap_or(PresencePolicy::Any);
        if f.list.is_none() {
            errors.push(missing("list", "list: all-staff"));
        }
        if f.start.is_none() {
            errors.push(missing("start", "start: 2026-12-01 10:00"));
        }
        if f.duration.is_none() {
            errors.push(missing("duration", "duration: 2h"));
        }
        let mut warnings = Vec::new();
        match f.message.as_deref().map(MessageTemplate::parse) {
            None => errors.push(missing(
                "message",
                "message: Bonjour [FIRSTNAME] [LASTNAME], …",
            )),
            Some(Err(e)) => errors.push(FieldError {
                field: "message",
                problem: Problem::new("field-invalid").with("reason", e.to_string()),
                example: "message: Bonjour [FIRSTNAME] [LASTNAME], …",
            }),
            Some(Ok(t)) => warnings.extend(t.unknown_placeholders),
        }
        let list_id = match &f.list {
            Some(name) => {
                let (t, n) = (tenant.to_string(), name.clone());
                match self.db.run(move |conn| lists::find(conn, &t, &n)).await? {
                    Some(l) => Some(l.id),
                    None => {
                        errors.push(FieldError {
                            field: "list",
                            problem: Problem::new("field-unknown-list").with("name", name),
                            example: "list: all-staff",
                        });
                        None
                    }
                }
            }
            None => None,
        };
        let start = f.start.map(|s| resolve(tz, s, Side::Earliest));
        if let Some(s) = start
            && s < now
        {
            errors.push(FieldError {
                field: "start",
                problem: Problem::new("field-start-in-past").with(
                    "start",
                    s.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string(),
                ),
                example: "start: 2026-12-01 10:00",
            });
        }
        if let (Some(s), Some(d)) = (start, f.duration)
            && hours.open_intervals(tz, s, s + d.as_delta()).is_empty()
        {
            errors.push(FieldError {
                field: "hours",
                problem: Problem::new("field-window-outside-hours")
                    .with("duration", d.to_string())
                    .with("hours", hours.to_string()),
                example: "hours: Mon-Fri 09:00-18:00",
            });
        }
        match (errors.is_empty(), list_id, start, f.duration, f.message) {
            (true, Some(list_id), Some(start_at), Some(d), Some(message)) => Ok((
                Settings {
                    list_id,
                    channel: channel.channel_id().to_string(),
                    start_at,
                    time_zone: tz.name().to_string(),
                    duration_minutes: d.minutes(),
                    hours: hours.to_string(),
                    presence: presence.to_string(),
                    message,
                },
                warnings,
            )),
            _ => Err(BotError::Fields(errors)),
        }
    }

    /// `campaign create|edit` typed as text: errors come back as a list.
    async fn save_answer(
        &self,
        caller: &Caller,
        mode: Mode,
        name: &str,
        fields: &str,
        lang: Lang,
    ) -> Reply {
        match self.save_campaign(caller, mode, name, fields, lang).await? {
            Saved::Done(text) => Ok((text, "ok".into())),
            Saved::Refused(text, why) => refused(text, why),
            Saved::Invalid(errors) => {
                refused(errors_text(&errors, lang == Lang::Fr), "invalid fields")
            }
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
        let fr = lang == Lang::Fr;
        let now = self.clock.now();
        let tenant = caller.tenant.clone();
        let (given, errors) = self.parse_sized(fields, lang);
        if !errors.is_empty() {
            return Ok(Saved::Invalid(errors));
        }
        let existing = match mode {
            Mode::Create => None,
            Mode::Edit => match self.campaign_named(&tenant, name).await? {
                Some(c) if c.status != status::SCHEDULED => {
                    return Ok(Saved::Refused(started(&c, fr, "edited"), "already started"));
                }
                Some(c) => Some(c),
                None => {
                    return Ok(Saved::Refused(
                        no_such_campaign(name, fr),
                        "unknown campaign",
                    ));
                }
            },
        };
        let fields = match &existing {
            Some(c) => self.merge(c, given).await?,
            None => given,
        };
        let (settings, warnings) = match self.settle_fields(&tenant, fields, now).await {
            Ok(ok) => ok,
            Err(BotError::Fields(errors)) => return Ok(Saved::Invalid(errors)),
            Err(e) => return Err(e),
        };
        let (n, actor, seed) = (name.to_string(), caller.actor.clone(), rand::random());
        let id = existing.as_ref().map(|c| c.id.clone());
        let stored = self.db.run(move |conn| match id {
            None => campaigns::create(conn, &tenant, &n, &actor, &settings, seed, now),
            Some(id) => campaigns::update(conn, &id, &settings, now),
        });
        let saved = match (stored.await?, existing) {
            (campaigns::Saved::Done(c), _) => *c,
            (campaigns::Saved::Started, Some(c)) => {
                return Ok(Saved::Refused(started(&c, fr, "edited"), "already started"));
            }
            (campaigns::Saved::ListGone, _) => return Ok(Saved::Invalid(vec![list_gone()])),
            _ => {
                let text = if fr {
                    format!("Une campagne nommée {} existe déjà.", q(name))
                } else {
                    format!("A campaign named {} already exists.", q(name))
                };
                return Ok(Saved::Refused(text, "duplicate name"));
            }
        };
        self.wake_engine();
        let info = self.info_text(&saved, fr).await?;
        let head = match (mode, fr) {
            (Mode::Create, true) => format!("Campagne {} programmée.", q(&saved.name)),
            (Mode::Create, false) => format!("Campaign {} scheduled.", q(&saved.name)),
            (Mode::Edit, true) => format!("Campagne {} modifiée.", q(&saved.name)),
            (Mode::Edit, false) => format!("Campaign {} updated.", q(&saved.name)),
        };
        Ok(Saved::Done(format!(
            "{head}\n\n{info}{}",
            placeholder_warning(&warnings, fr)
        )))
    }

    pub(super) async fn campaign_command(
        &self,
        caller: &Caller,
        command: crate::domain::commands::Command,
        lang: Lang,
    ) -> Reply {
        use crate::domain::commands::Command as C;
        let fr = lang == Lang::Fr;
        let tenant = caller.tenant.clone();
        match command {
            C::Campaigns => {
                let all = self
                    .db
                    .run(move |conn| campaigns::all(conn, &tenant))
                    .await?;
                if all.is_empty() {
                    return Ok((
                        if fr {
                            "Aucune campagne.".into()
                        } else {
                            "No campaigns yet.".into()
                        },
                        "ok".into(),
                    ));
                }
                let mut lines = Vec::new();
                for c in all {
                    let counts = {
                        let c2 = c.clone();
                        self.db
                            .run(move |conn| campaigns::counts(conn, &c2))
                            .await?
                    };
                    let progress = if c.status == status::RUNNING {
                        format!(
                            " `{}`",
                            crate::reports::progress_bar(counts.delivered, i64::from(c.targeted))
                        )
                    } else {
                        String::new()
                    };
                    lines.push(format!(
                        "- {} — {} — {} — {}/{} {}{progress}",
                        q(&c.name),
                        c.status,
                        local_start(&c),
                        counts.delivered,
                        c.targeted,
                        if fr { "remis" } else { "delivered" }
                    ));
                }
                Ok((lines.join("\n"), "ok".into()))
            }
            C::CampaignCreate { name, fields } => {
                self.save_answer(caller, Mode::Create, &name, &fields, lang)
                    .await
            }
            C::CampaignEdit { name, fields } => {
                self.save_answer(caller, Mode::Edit, &name, &fields, lang)
                    .await
            }
            C::CampaignInfo { name } => match self.campaign_named(&caller.tenant, &name).await? {
                Some(c) => Ok((self.info_text(&c, fr).await?, "ok".into())),
                None => refused(no_such_campaign(&name, fr), "unknown campaign"),
            },
            C::CampaignDelete { name } => {
                let Some(c) = self.campaign_named(&caller.tenant, &name).await? else {
                    return refused(no_such_campaign(&name, fr), "unknown campaign");
                };
                let id = c.id.clone();
                if !self
                    .db
                    .run(move |conn| campaigns::delete(conn, &id))
                    .await?
                {
                    return refused(started(&c, fr, "deleted"), "running");
                }
                Ok((
                    if fr {
                        format!("Campagne {} supprimée.", q(&c.name))
                    } else {
                        format!("Campaign {} deleted.", q(&c.name))
                    },
                    "ok".into(),
                ))
            }
            C::CampaignTest { name, email } => {
                let Some(c) = self.campaign_named(&caller.tenant, &name).await? else {
                    return refused(no_such_campaign(&name, fr), "unknown campaign");
                };
                let Some(email) = Email::parse(&email) else {
                    return refused(
                        if fr {
                            format!("`{}` n'est pas un email.", escape_markdown(&email))
                        } else {
                            format!("`{}` is not an email.", escape_markdown(&email))
                        },
                        "bad email",
                    );
                };
                let (t, e, ch) = (
                    caller.tenant.clone(),
                    email.as_str().to_string(),
                    c.channel.clone(),
                );
                let user = self
                    .db
                    .run(move |conn| {
                        crate::store::users::find_installed_by_email(conn, &t, &ch, &e)
                    })
                    .await?;
                let Some(user) = user else {
                    let text = if fr {
                        format!(
                            "{} n'a pas installé herald.",
                            escape_markdown(email.as_str())
                        )
                    } else {
                        format!(
                            "{} has not installed herald.",
                            escape_markdown(email.as_str())
                        )
                    };
                    return refused(text, "test recipient not installed");
                };
                self.send_test(&c, &user, fr).await
            }
            _ => Ok((
                super::texts::hint(lang),
                "refused: not a campaign command".into(),
            )),
        }
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
        let f = self.merge(&c, CampaignFields::default()).await?;
        Ok(Some(serde_json::json!({
            "list": f.list.unwrap_or_default(),
            "start": f.start.map(|s| s.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
            "duration": f.duration.map(|d| d.to_string()).unwrap_or_default(),
            "hours": c.hours,
            "timezone": c.time_zone,
            "presence": c.presence,
            "channel": if c.channel == "skype" { "skype" } else { "teams" },
            "message": c.message,
        })))
    }

    pub(super) async fn campaign_named(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<Campaign>, BotError> {
        let (t, n) = (tenant.to_string(), name.to_string());
        Ok(self
            .db
            .run(move |conn| campaigns::find(conn, &t, &n))
            .await?)
    }

    /// The name of the campaign's list (`None` if it was deleted since).
    async fn list_name(&self, c: &Campaign) -> Result<Option<String>, BotError> {
        let id = c.list_id.clone();
        Ok(self.db.run(move |conn| lists::name_of(conn, &id)).await?)
    }

    /// The stored campaign's fields, overridden by those given.
    async fn merge(&self, c: &Campaign, given: CampaignFields) -> Result<CampaignFields, BotError> {
        let list_name = self.list_name(c).await?;
        let tz: Tz = c.time_zone.parse().unwrap_or(chrono_tz::UTC);
        Ok(CampaignFields {
            list: given.list.or(list_name),
            channel: given.channel.or(Channel::parse(&c.channel)),
            start: given
                .start
                .or(Some(c.start_at.and_utc().with_timezone(&tz).naive_local())),
            duration: given
                .duration
                .or(WindowLength::from_minutes(c.duration_minutes)),
            hours: given.hours.or(BusinessHours::parse(&c.hours).ok()),
            time_zone: given.time_zone.or(Some(tz)),
            presence: given.presence.or(PresencePolicy::parse(&c.presence).ok()),
            message: given.message.or(Some(c.message.clone())),
        })
    }

    async fn info_text(&self, c: &Campaign, fr: bool) -> Result<String, BotError> {
        let list_name = self.list_name(c).await?.unwrap_or_else(|| "?".into());
        let duration = WindowLength::from_minutes(c.duration_minutes)
            .map(|d| d.to_string())
            .unwrap_or_default();
        let channel = if c.channel == "skype" {
            "skype"
        } else {
            "teams"
        };
        Ok(if fr {
            format!(
                "{} ({})\n- canal : {channel}\n- liste : {}\n- début : {}\n- durée : {duration}\n- horaires : {}\n- fuseau : {}\n- présence : {}\n- message :\n{}",
                q(&c.name),
                c.status,
                escape_markdown(&list_name),
                local_start(c),
                c.hours,
                c.time_zone,
                c.presence,
                c.message
            )
        } else {
            format!(
                "{} ({})\n- channel: {channel}\n- list: {}\n- start: {}\n- duration: {duration}\n- hours: {}\n- timezone: {}\n- presence: {}\n- message:\n{}",
                q(&c.name),
                c.status,
                escape_markdown(&list_name),
                local_start(c),
                c.hours,
                c.time_zone,
                c.presence,
                c.message
            )
        })
    }

    /// `campaign test`: the personalised message to one installed user, now. Nothing of the
    /// campaign changes.
    async fn send_test(&self, c: &Campaign, user: &crate::store::users::User, fr: bool) -> Reply {
        let template = match MessageTemplate::parse(&c.message) {
            Ok(t) => t,
            Err(e) => return refused(e.to_string(), "bad message"),
        };
        let text = match template.render(
            user.given_name.as_deref(),
            user.surname.as_deref(),
            user.display_name.as_deref(),
        ) {
            Ok(t) => t,
            Err(e) => return refused(e.to_string(), "bad message"),
        };
        let Ok(service_url) = crate::botframework::ServiceUrl::parse(&user.service_url) else {
            return refused(
                "the user's service URL is not valid".into(),
                "bad service url",
            );
        };
        if self.service_urls.check(&service_url).is_err() {
            // Recorded before bot.service_url_hosts changed: never called.
            let host = escape_markdown(service_url.host_str());
            let text = if fr {
                format!(
                    "Le test n'a pas été envoyé : herald n'appelle pas {host}, absent de bot.service_url_hosts."
                )
            } else {
                format!(
                    "The test was not sent: herald does not call {host}, which is not in bot.service_url_hosts."
                )
            };
            return refused(text, "service url not allowed");
        }
        let activity = crate::botframework::Activity {
            kind: Some("message".into()),
            from: Some(crate::botframework::ChannelAccount {
                id: user.bot_id.clone(),
                ..Default::default()
            }),
            recipient: Some(crate::botframework::ChannelAccount {
                id: user.channel_user_id.clone(),
                name: user.display_name.clone(),
                ..Default::default()
            }),
            conversation: Some(crate::botframework::ConversationAccount {
                id: user.conversation_id.clone(),
                ..Default::default()
            }),
            text: Some(text),
            text_format: Some("markdown".into()),
            ..Default::default()
        };
        let who = user
            .email
            .clone()
            .or(user.user_principal_name.clone())
            .unwrap_or_default();
        match self
            .connector
            .send_to_conversation(&service_url, &user.conversation_id, &activity)
            .await
        {
            Ok(_) => Ok((
                if fr {
                    format!("Test de {} envoyé à {}.", q(&c.name), escape_markdown(&who))
                } else {
                    format!("Test of {} sent to {}.", q(&c.name), escape_markdown(&who))
                },
                "ok".into(),
            )),
            Err(e) => Ok((
                if fr {
                    format!("Le test n'a pas pu être envoyé : {e}")
                } else {
                    format!("The test could not be sent: {e}")
                },
                format!("error: {e}"),
            )),
        }
    }
}

fn local_start(c: &Campaign) -> String {
    let tz: Tz = c.time_zone.parse().unwrap_or(chrono_tz::UTC);
    c.start_at
        .and_utc()
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub(super) fn no_such_campaign(name: &str, fr: bool) -> String {
    if fr {
        format!(
            "Il n'y a pas de campagne nommée {}. Tapez **campagnes** pour les voir.",
            q(name)
        )
    } else {
        format!(
            "There is no campaign named {}. Type **campaigns** to see them.",
            q(name)
        )
    }
}

fn started(c: &Campaign, fr: bool, what: &str) -> String {
    match (fr, what) {
        (true, "edited") => format!(
            "La campagne {} a commencé : elle ne peut plus être modifiée.",
            q(&c.name)
        ),
        (true, _) => format!(
            "La campagne {} est en cours : elle ne peut être ni annulée ni supprimée avant la fin.",
            q(&c.name)
        ),
        (false, "edited") => format!(
            "Campaign {} has started; it can no longer be edited.",
            q(&c.name)
        ),
        (false, _) => format!(
            "Campaign {} is running; it can be neither cancelled nor deleted before it completes.",
            q(&c.name)
        ),
    }
}

fn placeholder_warning(unknown: &[String], fr: bool) -> String {
    if unknown.is_empty() {
        return String::new();
    }
    let list: Vec<String> = unknown
        .iter()
        .map(|u| format!("[{}]", escape_markdown(u)))
        .collect();
    if fr {
        format!(
            "\n\nAttention : {} n'est pas un champ connu ([FIRSTNAME] et [LASTNAME] le sont) ; le texte partira tel quel.",
            list.join(", ")
        )
    } else {
        format!(
            "\n\nWarning: {} is not a known placeholder ([FIRSTNAME] and [LASTNAME] are); it will be sent as written.",
            list.join(", ")
        )
    }
}
