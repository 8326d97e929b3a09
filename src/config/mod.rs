//! Settings: `appsettings.toml`, then `HERALD__SECTION__KEY` variables, then the Bot Framework
//! names (`MicrosoftAppId`, …). Unknown keys and bad values stop start-up with the key named.
//!
//! Every key is documented in `appsettings.example.toml`; keep the two in step.

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use chrono_tz::Tz;

use crate::botframework::service_url::ServiceUrlPolicy;
use crate::domain::hours::BusinessHours;

mod bot;
pub mod retention;
mod server;
pub use bot::{
    AppType, BotSettings, CHANNEL_OPENID_METADATA, EMULATOR_OPENID_METADATA,
    MULTI_TENANT_TOKEN_ENDPOINT, SINGLE_TENANT_TOKEN_ENDPOINT,
};
pub use server::ServerSettings;

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
    /// The settings that have a type of their own, parsed once when the settings are loaded.
    #[serde(skip)]
    parsed: Parsed,
}

/// `campaigns.time_zone`, `campaigns.business_hours` and `bot.service_url_hosts` as typed
/// values: parsed (and checked) by `Settings::validate`, read by the accessors without fallback.
#[derive(Debug, Clone)]
struct Parsed {
    campaign_time_zone: Tz,
    campaign_hours: BusinessHours,
    service_urls: ServiceUrlPolicy,
}

impl Parsed {
    fn parse(campaigns: &CampaignSettings, bot: &BotSettings) -> Result<Parsed, ConfigError> {
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
        Ok(Parsed {
            campaign_time_zone,
            campaign_hours,
            service_urls,
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

/// What `herald manifest` puts in the Teams app package besides the bot id and domain.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManifestSettings {
    /// The publisher shown in Teams' app details (your company).
    pub developer_name: String,
    /// Your website, privacy statement and terms of use (https); empty: `server.public_url`.
    pub website_url: String,
    pub privacy_url: String,
    pub terms_url: String,
}

impl Default for ManifestSettings {
    fn default() -> Self {
        Self {
            developer_name: "herald".into(),
            website_url: String::new(),
            privacy_url: String::new(),
            terms_url: String::new(),
        }
    }
}

/// Tracked links and report downloads (both need `server.public_url`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackingSettings {
    /// Signs link and report tokens. When empty, herald generates one and keeps it in the
    /// database, so every instance shares it.
    pub secret: SecretString,
    /// How long a tracked link keeps working after its message was sent.
    #[serde(with = "humantime_serde")]
    pub link_lifetime: Duration,
    /// How long a report download (chart, CSV) link keeps working.
    #[serde(with = "humantime_serde")]
    pub report_lifetime: Duration,
}

impl Default for TrackingSettings {
    fn default() -> Self {
        Self {
            secret: SecretString::from(String::new()),
            link_lifetime: Duration::from_secs(180 * 24 * 3600),
            report_lifetime: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignSettings {
    /// How often the engine's safety-net tick runs (`30s`, `1m`): it plans campaigns that reach
    /// their start and wakes the dispatcher. Deliveries themselves leave at their own moment.
    #[serde(with = "humantime_serde")]
    pub tick: Duration,
    /// Time zone of campaigns that do not name one (IANA name).
    pub time_zone: String,
    /// Business hours of campaigns that do not give theirs.
    pub business_hours: String,
    /// Cycles of the absence ladder (four attempts each) before a recipient expires.
    pub absence_cycles: u32,
    /// What to do when presence cannot be looked up: `send` or `wait` (treat as absent).
    pub unknown_presence: UnknownPresence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownPresence {
    Send,
    Wait,
}

/// Microsoft Graph, for presence.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphSettings {
    /// Look presence up (needs the `Presence.Read.All` application permission). When off,
    /// presence is unknown and `campaigns.unknown_presence` decides.
    pub enabled: bool,
    /// Graph's root; empty: the cloud's (`bot.cloud`).
    #[serde(deserialize_with = "bot::empty_or_url")]
    pub base_url: Option<Url>,
    /// `{tenant}` is replaced by each tenant's id: app-only Graph tokens belong to one tenant.
    /// Empty: the cloud's login host.
    pub token_endpoint: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySettings {
    /// Most connector requests per second per tenant, across all instances (Teams allows 50).
    pub global_rps: u32,
    /// Most sends in flight at once in this instance.
    pub concurrency: u32,
    /// Retries after a throttled or transient failure (429, 412, 502, 503, 504, timeout)
    /// before the delivery fails with the reason.
    pub max_transport_retries: u32,
    /// First retry delay; each further retry doubles it, with jitter, up to `retry_max`.
    #[serde(with = "humantime_serde")]
    pub retry_base: Duration,
    #[serde(with = "humantime_serde")]
    pub retry_max: Duration,
    /// How long a leased delivery is reserved for this instance. Must exceed the longest
    /// send (the HTTP timeout is 30 s); a crashed instance's leases are taken again after it.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// Slack added to every rate window (Teams' and `global_rps`), so network jitter between
    /// herald and Teams never makes a window look overfull.
    #[serde(with = "humantime_serde")]
    pub window_margin: Duration,
    /// How long an instance's claim on a tenant's dispatch holds without renewal (renewed every
    /// third of it). When the owner dies, another instance takes the tenant over after this.
    #[serde(with = "humantime_serde")]
    pub tenant_lease: Duration,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(30),
            time_zone: "UTC".to_string(),
            business_hours: "Mon-Fri 09:00-18:00".to_string(),
            absence_cycles: 3,
            unknown_presence: UnknownPresence::Send,
        }
    }
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            global_rps: 50,
            concurrency: 16,
            max_transport_retries: 5,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            lease: Duration::from_secs(60),
            window_margin: crate::botframework::ratelimit::DEFAULT_MARGIN,
            tenant_lease: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (or a bare path) or `postgres://…`/`postgresql://…`.
    pub url: SecretString,
    /// Largest number of pooled connections; 0 picks a size for the backend.
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://data/herald.db"),
            max_connections: 0,
        }
    }
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
                "must be at most 500ms, e.g. 7ms",
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
