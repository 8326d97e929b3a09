//! The campaign report use case: a campaign's counts, clicks and read receipts, in one read.

use crate::domain::ids::MessageId;
use crate::store::campaigns::{self, Campaign, Counts};
use crate::store::reports::{self as store_reports, Engagement};
use crate::store::{Conn, Db, StoreError};

/// What `campaign report` shows.
#[derive(Debug, Clone)]
pub struct CampaignReport {
    pub campaign: Campaign,
    pub counts: Counts,
    pub clicks: Engagement,
    /// Read receipts.
    pub reads: i64,
}

impl CampaignReport {
    /// Delivered out of installed recipients, once the campaign has started.
    pub fn progress(&self) -> Option<(i64, i64)> {
        self.campaign.status.started().then_some((
            self.counts.delivered,
            self.counts.targeted - self.counts.not_installed,
        ))
    }
}

/// The tenant's campaign named `name`, reported; `None` when there is none.
pub async fn campaign_report(
    db: &Db,
    tenant: &str,
    name: &str,
) -> Result<Option<CampaignReport>, StoreError> {
    let (t, n) = (tenant.to_string(), name.to_string());
    db.run(move |conn| {
        let Some(campaign) = campaigns::find(conn, &t, &n)? else {
            return Ok(None);
        };
        report_in(conn, campaign).map(Some)
    })
    .await
}

/// The report of `campaign` as stored (a run of a repeating campaign is one).
pub async fn report_of(db: &Db, campaign: Campaign) -> Result<CampaignReport, StoreError> {
    db.run(move |conn| report_in(conn, campaign)).await
}

fn report_in(conn: &mut Conn<'_>, campaign: Campaign) -> Result<CampaignReport, StoreError> {
    // The campaign's deliveries are filed under its message, whose id is the campaign's.
    let message = MessageId::new(campaign.id.clone());
    let counts = campaigns::counts(conn, &campaign)?;
    let clicks = store_reports::engagement(conn, &[message.as_str().to_string()])?;
    let reads = store_reports::campaign_reads(conn, &campaign.id)?;
    Ok(CampaignReport {
        campaign,
        counts,
        clicks,
        reads,
    })
}
