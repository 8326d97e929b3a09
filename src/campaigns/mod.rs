//! Campaigns: the use cases (save, i.e. create or edit; delete; show; the list with counts;
//! find the recipient of a test), each read top to bottom and answering typed results. No
//! chat text here: `bot/campaigns.rs` turns these results into sentences and cards.

mod repeat;
mod resend;
mod settle;
mod test;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::campaign::CampaignStatus;
use crate::domain::commands::{CampaignFields, Channel, Email, FieldError};
use crate::domain::duration::WindowLength;
use crate::domain::hours::BusinessHours;
use crate::domain::ids::CampaignId;
use crate::outbox::Outbox;
use crate::store::campaigns::{self, Campaign, Counts};
use crate::store::users::User;
use crate::store::{Db, StoreError, lists};

pub use crate::store::deliveries::resend::ResendCounts;
pub use repeat::{SeriesView, StopOutcome};
pub use resend::Resent;
pub use settle::{list_gone, settle};
pub use test::{TestSent, send_test};

/// Campaign settings that fields left out take.
#[derive(Debug, Clone)]
pub struct CampaignDefaults {
    pub time_zone: Tz,
    pub hours: BusinessHours,
    /// How recipients of a presence policy are treated when presence cannot be looked up
    /// (Graph is off); `None`: presence is looked up (Graph is on).
    pub presence_unheeded: Option<PresenceUnheeded>,
}

/// With Graph off, a presence policy cannot be applied: what `campaigns.unknown_presence` makes
/// of every recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceUnheeded {
    /// `send`: everyone is sent to, whatever their presence.
    SentAnyway,
    /// `wait`: everyone is treated as absent (the absence ladder, then expiry).
    TreatedAsAbsent,
}

impl PresenceUnheeded {
    /// `None` when Graph is on; else what `unknown_presence` says.
    pub fn from_settings(settings: &crate::config::Settings) -> Option<PresenceUnheeded> {
        if settings.graph.enabled {
            return None;
        }
        Some(match settings.campaigns.unknown_presence {
            crate::config::UnknownPresence::Send => PresenceUnheeded::SentAnyway,
            crate::config::UnknownPresence::Wait => PresenceUnheeded::TreatedAsAbsent,
        })
    }
}

/// Creating a campaign, or editing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Edit,
}

/// What saving a campaign came to.
#[derive(Debug)]
pub enum Saved {
    /// Saved (and the engine woken for its start); with the bracketed words the message does
    /// not know, sent as written.
    Done {
        campaign: Box<Campaign>,
        list_name: Option<String>,
        unknown_placeholders: Vec<String>,
        /// The campaign has a presence policy Graph is not on to apply: how its recipients
        /// will be treated instead (the admin is warned).
        presence_unheeded: Option<PresenceUnheeded>,
    },
    UnknownCampaign,
    /// It has started: its settings are final.
    AlreadyStarted(Box<Campaign>),
    NameTaken,
    Invalid(Vec<FieldError>),
}

/// What deleting a campaign came to.
#[derive(Debug)]
pub enum Deleted {
    Done(Box<Campaign>),
    UnknownCampaign,
    Running(Box<Campaign>),
}

/// Who a `campaign test` goes to.
#[derive(Debug)]
pub enum TestTarget {
    Ready(Box<Campaign>, Box<User>),
    UnknownCampaign,
    NotAnEmail,
    NotInstalled(Email),
}

/// The campaign use cases, over the store and the outbox.
pub struct Campaigns<'a> {
    pub db: &'a Db,
    pub outbox: &'a Outbox,
    pub defaults: &'a CampaignDefaults,
    /// Approval is required: a saved campaign awaits an approver instead of being scheduled.
    pub hold: bool,
}

impl Campaigns<'_> {
    /// The tenant's campaign named `name`.
    pub async fn named(&self, tenant: &str, name: &str) -> Result<Option<Campaign>, StoreError> {
        let (t, n) = (tenant.to_string(), name.to_string());
        self.db.run(move |conn| campaigns::find(conn, &t, &n)).await
    }

    /// The name of the campaign's list (`None` if it was deleted since).
    pub async fn list_name(&self, c: &Campaign) -> Result<Option<String>, StoreError> {
        let id = c.list_id.clone();
        self.db.run(move |conn| lists::name_of(conn, &id)).await
    }

    /// Creates or edits a campaign from the fields given (already read from field lines).
    /// A scheduled or edited campaign wakes the engine, whose planner starts it when due.
    #[allow(clippy::too_many_arguments)]
    pub async fn save(
        &self,
        tenant: &str,
        actor: &str,
        mode: Mode,
        name: &str,
        given: CampaignFields,
        now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let existing = match mode {
            Mode::Create => None,
            Mode::Edit => match self.named(tenant, name).await? {
                Some(c) if !c.status.editable() => return Ok(Saved::AlreadyStarted(Box::new(c))),
                Some(c) => Some(c),
                None => return Ok(Saved::UnknownCampaign),
            },
        };
        let fields = match &existing {
            Some(c) => self.merge(c, given).await?,
            None => given,
        };
        let install = fields.install.unwrap_or(false);
        let local_time = fields.local_time.unwrap_or(false);
        let rule = match &fields.repeat {
            Some(crate::domain::repeat::Repeat::Every(r)) => Some(r.clone()),
            _ => None,
        };
        let (mut settings, unknown_placeholders) =
            match settle(self.db, self.defaults, tenant, fields, now).await? {
                Ok(ok) => ok,
                Err(errors) => return Ok(Saved::Invalid(errors)),
            };
        // `repeat:` moves the start to the first run, and is saved with the settings.
        if let Some(rule) = &rule
            && let Err(e) = repeat::settle(rule, &mut settings, local_time)
        {
            return Ok(Saved::Invalid(vec![e]));
        }
        let rule = rule.map(|r| r.as_text().to_string());
        let (t, n, actor, seed) = (
            tenant.to_string(),
            name.to_string(),
            actor.to_string(),
            rand::random(),
        );
        let id = existing.as_ref().map(|c| c.id.clone());
        let hold = self.hold;
        let stored = self.db.run(move |conn| {
            conn.write_transaction(|conn| {
                let saved = match id {
                    None => campaigns::create(conn, &t, &n, &actor, &settings, seed, now)?,
                    Some(id) => campaigns::update(conn, &id, &settings, now)?,
                };
                if let campaigns::Saved::Done(c) = &saved {
                    crate::store::repeats::set_rule(conn, &c.id, rule.as_deref())?;
                }
                // `time: local` is saved with the settings, in the same transaction.
                let saved = match saved {
                    campaigns::Saved::Done(c) if c.local_time != local_time => {
                        crate::store::localtime::set_local_time(conn, &c.id, local_time)?;
                        campaigns::Saved::Done(Box::new(campaigns::Campaign { local_time, ..*c }))
                    }
                    other => other,
                };
                // Held for approval (or, approval off, scheduled) in the same transaction: the
                // planner never sees it scheduled unapproved.
                let saved = match saved {
                    campaigns::Saved::Done(c) => {
                        let to = if hold {
                            CampaignStatus::AwaitingApproval
                        } else {
                            CampaignStatus::Scheduled
                        };
                        match crate::store::approvals::move_campaign(conn, &c.id, to, now)? {
                            Some(moved) => campaigns::Saved::Done(Box::new(moved)),
                            None => campaigns::Saved::Started,
                        }
                    }
                    other => other,
                };
                // `install: yes` is saved with the settings, in the same transaction.
                Ok(match saved {
                    campaigns::Saved::Done(c) if c.install != install => {
                        campaigns::set_install(conn, &c.id, install)?;
                        match campaigns::get(conn, &c.id)? {
                            Some(c) => campaigns::Saved::Done(Box::new(c)),
                            None => campaigns::Saved::Done(c),
                        }
                    }
                    other => other,
                })
            })
        });
        let campaign = match (stored.await?, existing) {
            (campaigns::Saved::Done(c), _) => c,
            (campaigns::Saved::Started, Some(c)) => return Ok(Saved::AlreadyStarted(Box::new(c))),
            (campaigns::Saved::ListGone, _) => return Ok(Saved::Invalid(vec![list_gone()])),
            _ => return Ok(Saved::NameTaken),
        };
        self.outbox.wake();
        let list_name = self.list_name(&campaign).await?;
        let presence_unheeded = self
            .defaults
            .presence_unheeded
            .filter(|_| campaign.presence.needs_presence());
        Ok(Saved::Done {
            campaign,
            list_name,
            unknown_placeholders,
            presence_unheeded,
        })
    }

    /// The tenant's campaigns with their counts, by start.
    pub async fn overview(&self, tenant: &str) -> Result<Vec<(Campaign, Counts)>, StoreError> {
        let t = tenant.to_string();
        self.db
            .run(move |conn| {
                // A repeating campaign is listed once, as its latest run that has started.
                let later = crate::store::repeats::later_runs(conn, &t)?;
                let mut shown = Vec::new();
                for c in campaigns::all(conn, &t)? {
                    if later.contains(&c.id) {
                        continue;
                    }
                    let runs = crate::store::repeats::runs(conn, &c.id)?;
                    let latest = runs
                        .into_iter()
                        .rev()
                        .find(|(_, r)| r.status != CampaignStatus::Scheduled)
                        .map(|(_, r)| r);
                    shown.push(latest.unwrap_or(c));
                }
                shown
                    .into_iter()
                    .map(|c| Ok((campaigns::counts(conn, &c)?, c)))
                    .map(|r: Result<_, StoreError>| r.map(|(n, c)| (c, n)))
                    .collect()
            })
            .await
    }

    /// Deletes a campaign that is not running, with its deliveries.
    pub async fn delete(&self, tenant: &str, name: &str) -> Result<Deleted, StoreError> {
        let Some(c) = self.named(tenant, name).await? else {
            return Ok(Deleted::UnknownCampaign);
        };
        let id = CampaignId::new(c.id.clone());
        // A repeating campaign goes with all its runs.
        if !self
            .db
            .run(
                move |conn| match crate::store::repeats::series(conn, id.as_str())? {
                    Some(_) => crate::store::repeats::delete_series(conn, id.as_str()),
                    None => campaigns::delete(conn, id.as_str()),
                },
            )
            .await?
        {
            return Ok(Deleted::Running(Box::new(c)));
        }
        Ok(Deleted::Done(Box::new(c)))
    }

    /// The campaign and the installed user a test goes to.
    pub async fn test_target(
        &self,
        tenant: &str,
        name: &str,
        email: &str,
    ) -> Result<TestTarget, StoreError> {
        let Some(c) = self.named(tenant, name).await? else {
            return Ok(TestTarget::UnknownCampaign);
        };
        let Some(email) = Email::parse(email) else {
            return Ok(TestTarget::NotAnEmail);
        };
        let (t, e, ch) = (
            tenant.to_string(),
            email.as_str().to_string(),
            c.channel.clone(),
        );
        let user = self
            .db
            .run(move |conn| crate::store::users::find_installed_by_email(conn, &t, &ch, &e))
            .await?;
        Ok(match user {
            Some(user) => TestTarget::Ready(Box::new(c), Box::new(user)),
            None => TestTarget::NotInstalled(email),
        })
    }

    /// The stored campaign's fields, overridden by those given.
    pub async fn merge(
        &self,
        c: &Campaign,
        given: CampaignFields,
    ) -> Result<CampaignFields, StoreError> {
        let list_name = self.list_name(c).await?;
        let tz = zone(c);
        Ok(CampaignFields {
            list: given.list.or(list_name),
            channel: given.channel.or(Channel::parse(&c.channel)),
            start: given
                .start
                .or(Some(c.start_at.and_utc().with_timezone(&tz).naive_local())),
            duration: given
                .duration
                .or(WindowLength::from_minutes(c.duration_minutes)),
            hours: given.hours.or(Some(c.hours.clone())),
            time_zone: given.time_zone.or(Some(tz)),
            presence: given.presence.or(Some(c.presence)),
            message: given.message.or(Some(c.message.clone())),
            install: given.install.or(Some(c.install)),
            local_time: given.local_time.or(Some(c.local_time)),
            repeat: match given.repeat {
                Some(r) => Some(r),
                None => self.repeat_of(c).await?,
            },
        })
    }
}

/// The campaign's time zone.
pub fn zone(c: &Campaign) -> Tz {
    c.time_zone.tz()
}

/// The campaign's start in its own time zone, as `YYYY-MM-DD HH:MM`.
pub fn local_start(c: &Campaign) -> String {
    c.start_at
        .and_utc()
        .with_timezone(&zone(c))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Whether a campaign shows a progress bar: it is running.
pub fn in_progress(c: &Campaign) -> bool {
    c.status == CampaignStatus::Running
}
