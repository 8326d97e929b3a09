//! The plain sections of the settings: campaigns, delivery, database, Graph, tracking, manifest.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphSettings {
    /// Look presence up (needs the `Presence.Read.All` application permission). When off,
    /// presence is unknown and `campaigns.unknown_presence` decides. Also resolves the Entra ID
    /// groups of lists (`GroupMember.Read.All`, `User.Read.All`); when off, lists name none.
    pub enabled: bool,
    /// Graph's root; empty: the cloud's (`bot.cloud`).
    #[serde(deserialize_with = "super::bot::empty_or_url")]
    pub base_url: Option<Url>,
    /// `{tenant}` is replaced by each tenant's id: app-only Graph tokens belong to one tenant.
    /// Empty: the cloud's login host.
    pub token_endpoint: String,
    /// Install herald for every recipient of a tenant's sends who lacks it (as if each campaign
    /// and broadcast said `install: yes`). Needs `TeamsAppInstallation.ReadWriteSelfForUser.All`
    /// and `AppCatalog.Read.All`.
    pub proactive_install: bool,
    /// The Teams app id (in the tenant's app catalog) installed for users; empty: found in the
    /// catalog by the manifest's id (`bot.app_id`, the id `herald manifest` gives the package).
    pub teams_app_id: String,
    /// A presence observed at most this long ago decides a gated send without asking Graph;
    /// an older one is looked up again (in batches of 650).
    #[serde(with = "humantime_serde")]
    pub presence_max_age: Duration,
    /// Without `server.public_url` (no change notifications can reach herald), how often the
    /// presence of every installed user is refreshed by polling; `0s`: never.
    #[serde(with = "humantime_serde")]
    pub presence_refresh: Duration,
}

impl Default for GraphSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: None,
            token_endpoint: String::new(),
            proactive_install: false,
            teams_app_id: String::new(),
            presence_max_age: Duration::from_secs(60),
            presence_refresh: Duration::from_secs(300),
        }
    }
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
