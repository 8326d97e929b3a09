//! The settings that have a type of their own, parsed once when the settings are loaded.

use chrono_tz::Tz;

use super::{BotSettings, CampaignSettings, ConfigError, invalid};
use crate::botframework::service_url::ServiceUrlPolicy;
use crate::domain::hours::BusinessHours;

/// `campaigns.time_zone`, `campaigns.business_hours` and `bot.service_url_hosts` as typed
/// values: parsed (and checked) by `Settings::validate`, read by the accessors without fallback.
#[derive(Debug, Clone)]
pub(super) struct Parsed {
    pub(super) campaign_time_zone: Tz,
    pub(super) campaign_hours: BusinessHours,
    pub(super) service_urls: ServiceUrlPolicy,
    /// `bot.file_hosts`.
    pub(super) file_hosts: ServiceUrlPolicy,
}

impl Parsed {
    pub(super) fn parse(
        campaigns: &CampaignSettings,
        bot: &BotSettings,
    ) -> Result<Parsed, ConfigError> {
        let campaign_time_zone = campaigns.time_zone.trim().parse().map_err(|_| {
            invalid(
                "campaigns.time_zone",
                format!(
                    "`{}` is not an IANA time zone, e.g. Europe/Paris",
                    campaigns.time_zone
                ),
            )
        })?;
        let campaign_hours = BusinessHours::parse(&campaigns.business_hours)
            .map_err(|e| invalid("campaigns.business_hours", e.to_string()))?;
        let service_urls = ServiceUrlPolicy::new(&bot.service_url_hosts)
            .map_err(|e| invalid("bot.service_url_hosts", e.to_string()))?;
        let file_hosts = super::bot::file_host_policy(bot)?;
        Ok(Parsed {
            campaign_time_zone,
            campaign_hours,
            service_urls,
            file_hosts,
        })
    }
}

impl Default for Parsed {
    fn default() -> Self {
        // Constant defaults (a unit test loads them).
        Parsed::parse(&CampaignSettings::default(), &BotSettings::default())
            .expect("the default settings are valid")
    }
}
