//! Settings: `appsettings.toml`, then `HERALD__SECTION__KEY` variables, then the Bot Framework
//! names (`MicrosoftAppId`, …). Unknown keys and bad values stop start-up with the key named.
//!
//! Every key is documented in `appsettings.example.toml`; keep the two in step.

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::ExposeSecret;
use serde::Deserialize;

use chrono_tz::Tz;

use crate::botframework::service_url::ServiceUrlPolicy;
use crate::domain::hours::BusinessHours;

pub mod approval;
mod bot;
pub mod retention;
mod sections;
mod server;
mod typed;
pub use bot::{
    AppType, BotSettings, CHANNEL_OPENID_METADATA, EMULATOR_OPENID_METADATA,
    MULTI_TENANT_TOKEN_ENDPOINT, SINGLE_TENANT_TOKEN_ENDPOINT,
};
pub use sections::{
    CampaignSettings, DatabaseSettings, DeliverySettings, GraphSettings, ManifestSettings,
    TrackingSettings, UnknownPresence,
};
pub use server::ServerSettings;
use typed::Parsed;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub bot: BotSettings,
    pub campaigns: CampaignSettings,
    pub delivery: DeliverySettings,
    pub graph: GraphSettings,
    pub tracking: TrackingSettings,
    pub manifest: ManifestSettings,
    pub retention: retention::RetentionSettings,
    pub approval: approval::ApprovalSettings,
    /// The settings that have a type of their own, parsed once when the settings are loaded.
    #[serde(skip)]
    parsed: Parsed,
}

/// A setting that cannot be used, with the key that holds it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(Box<figment::Error>),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        ConfigError::Load(Box::new(e))
    }
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// The Bot Framework variable names Azure App Service and the samples use.
const BOT_FRAMEWORK_VARIABLES: [(&str, &str); 4] = [
    ("microsoftappid", "bot.app_id"),
    ("microsoftapppassword", "bot.app_password"),
    ("microsoftapptype", "bot.app_type"),
    ("microsoftapptenantid", "bot.tenant_id"),
];

impl Settings {
    /// Loads settings from `path` (or `./appsettings.toml` when present), then the environment.
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let file = match path {
            Some(p) if !p.is_file() => {
                return Err(ConfigError::File {
                    path: p.to_path_buf(),
                    message: "no such file".into(),
                });
            }
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("appsettings.toml")).filter(|p| p.is_file()),
        };
        let mut figment = Figment::new();
        if let Some(file) = &file {
            figment = figment.merge(Toml::file_exact(file));
        }
        Self::from_figment(figment.merge(Self::environment()))
    }

    /// Settings from a TOML string with defaults and no environment: for tests and tools.
    pub fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(text)))
    }

    fn environment() -> Figment {
        Figment::new()
            .merge(Env::prefixed("HERALD__").split("__"))
            .merge(Env::raw().filter_map(|key| {
                BOT_FRAMEWORK_VARIABLES
                    .iter()
                    .find(|(name, _)| key == *name)
                    .map(|(_, path)| (*path).into())
            }))
    }

    fn from_figment(figment: Figment) -> Result<Settings, ConfigError> {
        let mut settings: Settings = figment.extract()?;
        settings.parsed = settings.validate()?;
        Ok(settings)
    }

    /// Checks that hold whatever the command; the typed values parsed on the way.
    fn validate(&self) -> Result<Parsed, ConfigError> {
        crate::store::DatabaseUrl::parse(self.database.url.expose_secret())
            .map_err(|e| invalid("database.url", e.to_string()))?;
        if self.bot.app_type == AppType::SingleTenant && self.bot.tenant_id.trim().is_empty() {
            return Err(invalid(
                "bot.tenant_id",
                "required when bot.app_type is SingleTenant (or set MicrosoftAppTenantId)",
            ));
        }
        self.server.validate()?;
        let d = &self.delivery;
        if d.global_rps == 0 {
            return Err(invalid(
                "delivery.global_rps",
                "must be at least 1 (Teams allows 50)",
            ));
        }
        if d.concurrency == 0 {
            return Err(invalid(
                "delivery.concurrency",
                "must be at least 1, e.g. 16",
            ));
        }
        if d.retry_base.is_zero() || d.retry_max < d.retry_base {
            return Err(invalid(
                "delivery.retry_max",
                "retry_base must be above zero and retry_max at least retry_base, e.g. 1s and 5m",
            ));
        }
        if d.window_margin > Duration::from_millis(500) {
            return Err(invalid(
                "delivery.window_margin",
                "must be at most 500ms, e.g. 2ms",
            ));
        }
        if d.tenant_lease < Duration::from_secs(3) || d.tenant_lease > Duration::from_secs(600) {
            return Err(invalid(
                "delivery.tenant_lease",
                "must be between 3s and 10m, e.g. 10s",
            ));
        }
        if d.lease < Duration::from_secs(1) {
            return Err(invalid("delivery.lease", "must be at least 1s, e.g. 60s"));
        }
        self.retention.check().map_err(|(key, m)| invalid(key, m))?;
        self.approval.check().map_err(|(key, m)| invalid(key, m))?;
        // A tracked link finds its delivery row: purging deliveries sooner would break links
        // that were promised to work for their whole lifetime.
        if let Some(deliveries) = self.retention.deliveries
            && deliveries < self.tracking.link_lifetime
        {
            return Err(invalid(
                "retention.deliveries",
                format!(
                    "{} days is shorter than tracking.link_lifetime ({} days): tracked links \
                     would stop working before they expire; keep deliveries at least as long",
                    deliveries.as_secs() / 86_400,
                    self.tracking.link_lifetime.as_secs() / 86_400
                ),
            ));
        }
        if self.campaigns.tick < Duration::from_secs(1) {
            return Err(invalid("campaigns.tick", "must be at least 1s, e.g. 30s"));
        }
        let parsed = Parsed::parse(&self.campaigns, &self.bot)?;
        if !(1..=10).contains(&self.campaigns.absence_cycles) {
            return Err(invalid(
                "campaigns.absence_cycles",
                "must be between 1 and 10, e.g. 3",
            ));
        }
        self.validate_endpoints()?;
        Ok(parsed)
    }

    /// Checks that only `serve` needs: a bot that can authenticate, or a loopback-only dev mode.
    pub fn validate_for_serve(&self) -> Result<(), ConfigError> {
        if self.auth_disabled() && !self.server.bind.ip().is_loopback() {
            return Err(invalid(
                "bot.app_id",
                format!(
                    "empty, which turns authentication off, but server.bind is {} which is not a \
                     loopback address. Set bot.app_id and bot.app_password (or MicrosoftAppId and \
                     MicrosoftAppPassword), or bind to 127.0.0.1 for local development",
                    self.server.bind
                ),
            ));
        }
        if self.auth_disabled() {
            // Credentials, a tenant or a public address without an app id: a mistyped
            // MicrosoftAppId in a deployment, not local development. Serving it unauthenticated
            // behind a proxy that adds no header of its own would let anyone be an admin.
            let given = [
                (
                    "bot.app_password",
                    !self.bot.app_password.expose_secret().is_empty(),
                ),
                (
                    "bot.certificate_path",
                    !self.bot.certificate_path.trim().is_empty(),
                ),
                ("bot.tenant_id", !self.bot.tenant_id.trim().is_empty()),
                ("server.public_url", self.server.public_url.is_some()),
            ];
            if let Some((key, _)) = given.iter().find(|(_, set)| *set) {
                return Err(invalid(
                    "bot.app_id",
                    format!(
                        "empty, which turns authentication off, while {key} is set: this looks                          like a deployment with a missing or mistyped app id (MicrosoftAppId).                          Set bot.app_id, or remove {key} for local development"
                    ),
                ));
            }
        }
        self.validate_credential()
    }

    /// The default campaign time zone (`campaigns.time_zone`), parsed at load.
    pub fn campaign_time_zone(&self) -> Tz {
        self.parsed.campaign_time_zone
    }

    /// The default campaign business hours (`campaigns.business_hours`), parsed at load.
    pub fn campaign_hours(&self) -> BusinessHours {
        self.parsed.campaign_hours.clone()
    }

    /// The connector hosts herald calls (`bot.service_url_hosts`), parsed at load.
    pub fn service_url_policy(&self) -> ServiceUrlPolicy {
        self.parsed.service_urls.clone()
    }

    /// Authentication is off when no app id is configured (local development only).
    pub fn auth_disabled(&self) -> bool {
        self.bot.app_id.trim().is_empty()
    }
}

#[cfg(test)]
mod tests;
