//! `campaign resend <name>`: send the campaign once more, only to those it missed: recipients
//! whose delivery failed (whatever the reason, a recall aside) and who still have herald, and
//! list members who had not installed herald when it started and have it now. Recipients who
//! expired (away at every rung of the absence ladder) did not fail and are not resent;
//! failed recipients who have since removed herald are skipped and counted.
//!
//! The resend goes now, or at the next opening of the campaign's business hours; its window
//! has passed and is not used again. A completed campaign runs again until it is sent
//! ([`crate::domain::campaign::CampaignStatus::reopen`]). Failed rows go back to pending through
//! [`DeliveryStatus::resend`](crate::domain::delivery::DeliveryStatus::resend) with one more
//! resend counted and a fresh set of retries; newly reached people get rows of their own,
//! counted as resent once. A second resend finds only those who failed again.

use chrono::{DateTime, Utc};

use super::Campaigns;
use crate::audience::Reach;
use crate::domain::delivery::Operation;
use crate::store::StoreError;
use crate::store::campaigns::{self, Campaign};
use crate::store::deliveries::NewDelivery;
use crate::store::deliveries::resend::{self as store, ResendCounts};

/// What `campaign resend` came to.
#[derive(Debug)]
pub enum Resent {
    /// Sent again (or nothing to send, when the total is 0), due at `at`.
    Done {
        campaign: Box<Campaign>,
        counts: ResendCounts,
        at: DateTime<Utc>,
    },
    UnknownCampaign,
    /// It has not started: there is nothing to resend yet.
    NotStarted(Box<Campaign>),
}

impl Campaigns<'_> {
    /// Resends campaign `name` of `tenant` to those it missed (see the module).
    pub async fn resend(
        &self,
        reach: &Reach,
        tenant: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Resent, StoreError> {
        let Some(c) = self.named(tenant, name).await? else {
            return Ok(Resent::UnknownCampaign);
        };
        if !c.status.started() {
            return Ok(Resent::NotStarted(Box::new(c)));
        }
        // Proactive installs call Graph: before the transaction, for an `install: yes` campaign.
        if c.install || reach.always_install {
            reach
                .prepare(self.db, tenant, Some(&c.list_id), &c.channel, c.install)
                .await?;
        }
        let id = c.id.clone();
        let resent = self
            .outbox
            .write(move |conn, post| {
                let Some(c) = campaigns::get(conn, &id)? else {
                    return Ok(Resent::UnknownCampaign);
                };
                let messages = [c.id.clone()];
                let failed = store::failed_sends(conn, &messages)?;
                let (again, gone): (Vec<_>, Vec<_>) = failed.into_iter().partition(|f| f.reachable);
                let missed = store::campaign_not_installed(conn, &c.id)?;
                let newly =
                    store::reachable_now(conn, &c.tenant_id, &c.channel, &missed, &messages)?;
                let mut counts = ResendCounts {
                    failed_again: again.len(),
                    newly_reached: newly.len(),
                    unreachable: gone.len(),
                    still_not_installed: missed.len() - newly.len(),
                };
                // Now, or at the next opening of its hours.
                let at = c.hours.next_open(c.time_zone.tz(), now).unwrap_or(now);
                if counts.total() == 0 {
                    return Ok(Resent::Done {
                        campaign: Box::new(c),
                        counts,
                        at,
                    });
                }
                let ids: Vec<i64> = again.iter().map(|f| f.id).collect();
                counts.failed_again = store::requeue(conn, &ids, at, Some(at), now)?;
                let items: Vec<NewDelivery> = newly
                    .iter()
                    .map(|(_, user_id)| NewDelivery {
                        user_id: user_id.clone(),
                        operation: Operation::Send,
                        target_activity_id: None,
                        due: at,
                        planned: Some(at),
                    })
                    .collect();
                post.enqueue(conn, &c.id, &c.tenant_id, &items, now)?;
                let users: Vec<String> = newly.iter().map(|(_, u)| u.clone()).collect();
                store::mark_resent(conn, &c.id, &users)?;
                let identities: Vec<String> = newly.into_iter().map(|(i, _)| i).collect();
                store::campaign_reached(conn, &c.id, &identities)?;
                store::reopen_campaign(conn, &c.id, now)?;
                let campaign = campaigns::get(conn, &c.id)?.unwrap_or(c);
                Ok(Resent::Done {
                    campaign: Box::new(campaign),
                    counts,
                    at,
                })
            })
            .await?;
        // Rows back to pending are not enqueued: the dispatcher is told here.
        self.outbox.wake();
        Ok(resent)
    }
}
