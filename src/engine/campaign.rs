//! What makes a campaign delivery different from a plain one: each recipient's text is
//! personalised, presence may hold it back, and an absent recipient climbs the absence ladder
//! until delivered or expired. The rules live in `domain`; this applies them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Inner;
use crate::domain::hours::BusinessHours;
use crate::domain::ladder;
use crate::domain::presence::{PresenceDecision, PresencePolicy};
use crate::domain::template::MessageTemplate;
use crate::store::campaigns::Campaign;
use crate::store::deliveries::{Outcome, Recipient, Work};

/// A campaign, ready for its deliveries.
pub(super) struct CampaignRender {
    template: MessageTemplate,
    tz: Tz,
    hours: BusinessHours,
    pub(super) policy: PresencePolicy,
    /// A Skype campaign: Graph knows no presence there, so none is looked up and its policy
    /// meets an unknown presence (`campaigns.unknown_presence`).
    pub(super) skype: bool,
    /// `time: local`: the ladder climbs in each recipient's planned zone.
    local_time: bool,
}

impl CampaignRender {
    /// `None` when the stored campaign cannot be read back (it was checked when created).
    /// With `tracked`, the message's links are markers to fill per recipient.
    pub(super) fn new(c: &Campaign, tracked: bool) -> Option<CampaignRender> {
        let message = if tracked {
            crate::domain::tracking::mark_links(&c.message).0
        } else {
            c.message.clone()
        };
        Some(CampaignRender {
            template: MessageTemplate::parse(&message).ok()?,
            tz: c.time_zone.tz(),
            hours: c.hours.clone(),
            policy: c.presence,
            skype: c.channel == crate::domain::skype::CHANNEL,
            local_time: c.local_time,
        })
    }

    /// The recipient's text, or why it could not be made.
    pub(super) fn text_for(&self, user: &Recipient) -> Result<String, String> {
        // A name is data: the characters that mark tracked links are taken out of it.
        let clean = |n: &Option<String>| {
            n.as_deref()
                .map(|n| n.replace(['\u{E000}', '\u{E001}'], ""))
        };
        self.template
            .render(
                clean(&user.given_name).as_deref(),
                clean(&user.surname).as_deref(),
                clean(&user.display_name).as_deref(),
            )
            .map_err(|e| e.to_string())
    }

    /// The zone the recipient's hours are read in: theirs for a local-time campaign.
    fn zone_of(&self, work: &Work) -> Tz {
        match (self.local_time, work.planned_zone.as_deref()) {
            (true, Some(zone)) => zone.parse().unwrap_or(self.tz),
            _ => self.tz,
        }
    }

    /// Whether to send now given the looked-up `availability`; otherwise the ladder's outcome.
    pub(super) fn hold_back(
        &self,
        inner: &Inner,
        work: &Work,
        availability: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<Outcome> {
        let absent = match self.policy.decide(availability) {
            PresenceDecision::Send => false,
            PresenceDecision::Absent => true,
            PresenceDecision::Unknown => !inner.config.unknown_presence_sends,
        };
        if !absent {
            return None;
        }
        let planned = work.planned_at.map(|p| p.and_utc()).unwrap_or(now);
        let tz = self.zone_of(work);
        let rungs = ladder::attempts(planned, tz, &self.hours, inner.config.absence_cycles);
        let next = work.ladder_step.max(0) as usize + 1;
        let presence = availability.map(str::to_string);
        Some(match rungs.get(next) {
            Some(at) => Outcome::Absent {
                id: work.id,
                at: (*at).max(now),
                step: next as i32,
                presence,
            },
            None => Outcome::Expired {
                id: work.id,
                presence,
            },
        })
    }
}
