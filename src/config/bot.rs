//! `[bot]`: the bot's identity, its cloud and credential, who may use it, and which connector
//! hosts it calls. Every URL setting left empty takes the value of `bot.cloud`.

use std::path::Path;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use url::Url;

use super::{ConfigError, Settings, invalid};
use crate::botframework::cloud::Cloud;
use crate::botframework::credential::{ClientCertificate, Credential};
use crate::botframework::service_url::{
    DEFAULT_SERVICE_URL_HOSTS, HostPatternError, ServiceUrlPolicy,
};

/// Where the public cloud's channel (Teams, Skype) publishes its signing keys.
pub const CHANNEL_OPENID_METADATA: &str =
    "https://login.botframework.com/v1/.well-known/openidconfiguration";
/// Where the public cloud's Emulator (and Agents Playground) signing keys are published.
pub const EMULATOR_OPENID_METADATA: &str =
    "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration";
/// Multi-tenant bots of the public cloud get their outbound token from the botframework.com tenant.
pub const MULTI_TENANT_TOKEN_ENDPOINT: &str =
    "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token";
/// Single-tenant bots get it from their own tenant; `{tenant}` is replaced by `bot.tenant_id`.
pub const SINGLE_TENANT_TOKEN_ENDPOINT: &str =
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BotSettings {
    /// The Entra application (client) id of the bot. Empty turns authentication off.
    pub app_id: String,
    /// The app's client secret; not needed with `certificate_path`.
    pub app_password: SecretString,
    /// One PEM file with the app's certificate and its (unencrypted) RSA private key: herald
    /// then signs client assertions instead of sending `app_password`. Empty: no certificate.
    pub certificate_path: String,
    pub app_type: AppType,
    /// The bot's home tenant; required for `SingleTenant`.
    pub tenant_id: String,
    /// `public`, `gcc`, `gcchigh` or `dod`: picks the issuers and endpoints below.
    pub cloud: Cloud,
    /// Channel signing keys' metadata; empty: the cloud's.
    #[serde(deserialize_with = "empty_or_url")]
    pub openid_metadata_url: Option<Url>,
    /// Emulator signing keys' metadata; empty: the cloud's.
    #[serde(deserialize_with = "empty_or_url")]
    pub emulator_openid_metadata_url: Option<Url>,
    /// Outbound token endpoint; empty picks the cloud's for `app_type`. `{tenant}` is replaced.
    pub token_endpoint: String,
    /// Tenants whose activities are handled; empty allows every tenant.
    pub allowed_tenants: Vec<String>,
    /// Who may use admin commands: an Entra object id or a UPN (any tenant), or
    /// `TENANT_ID/ID_OR_UPN` for one tenant only.
    pub admins: Vec<String>,
    /// The only hosts herald calls as a connector (an activity's `serviceUrl`): names,
    /// `*.domain` for any name below a domain, IP addresses, and `loopback`. An activity naming
    /// another host is refused (403) before anything is recorded or sent.
    pub service_url_hosts: Vec<String>,
    /// The only hosts `list import` downloads a file from (the pre-authenticated `downloadUrl`
    /// Teams gives for a file sent to the bot): the same patterns as `service_url_hosts`.
    pub file_hosts: Vec<String>,
    /// The largest file `list import` downloads, in bytes.
    pub file_max_bytes: u64,
}

/// Where Teams keeps a file sent to a bot in a personal chat: the sender's OneDrive for Business,
/// a SharePoint site (`contoso-my.sharepoint.com`), in the public cloud and GCC. Teams bots do not
/// receive files in GCC High, DoD or 21Vianet.
pub const DEFAULT_FILE_HOSTS: [&str; 1] = ["*.sharepoint.com"];

/// 5 MiB: some 100,000 addresses in a CSV file.
pub const DEFAULT_FILE_MAX_BYTES: u64 = 5 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AppType {
    #[serde(alias = "multitenant", alias = "multi_tenant")]
    MultiTenant,
    #[serde(alias = "singletenant", alias = "single_tenant")]
    SingleTenant,
}

impl Default for BotSettings {
    fn default() -> Self {
        Self {
            app_id: String::new(),
            app_password: SecretString::from(""),
            certificate_path: String::new(),
            app_type: AppType::MultiTenant,
            tenant_id: String::new(),
            cloud: Cloud::Public,
            openid_metadata_url: None,
            emulator_openid_metadata_url: None,
            token_endpoint: String::new(),
            allowed_tenants: Vec::new(),
            admins: Vec::new(),
            service_url_hosts: DEFAULT_SERVICE_URL_HOSTS.map(String::from).to_vec(),
            file_hosts: DEFAULT_FILE_HOSTS.map(String::from).to_vec(),
            file_max_bytes: DEFAULT_FILE_MAX_BYTES,
        }
    }
}

/// `""` (or blanks) for "not set", otherwise an absolute URL.
pub(crate) fn empty_or_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    let text = String::deserialize(d)?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Url::parse(text).map(Some).map_err(|e| {
        serde::de::Error::custom(format!(
            "{e}; expected an absolute URL, or \"\" for the cloud's default"
        ))
    })
}

/// A URL of the cloud's own (valid by construction: a test checks every one).
fn cloud_url(key: &'static str, s: &str) -> Result<Url, ConfigError> {
    Url::parse(s).map_err(|e| invalid(key, format!("the cloud's default {s}: {e}")))
}

/// Hosts that belong to other clouds than `cloud`: a URL setting naming one is a mistake (a
/// public-cloud value left in a GCC High configuration, or the reverse).
fn foreign_hosts(cloud: Cloud) -> Vec<String> {
    let hosts = |c: Cloud| -> Vec<String> {
        let e = c.endpoints();
        [
            e.channel_openid_metadata,
            e.emulator_openid_metadata,
            e.login,
            e.graph,
        ]
        .iter()
        .filter_map(|u| Url::parse(u).ok()?.host_str().map(str::to_string))
        .collect()
    };
    let own = hosts(cloud);
    [Cloud::Public, Cloud::GccHigh, Cloud::Dod]
        .into_iter()
        .flat_map(hosts)
        .filter(|h| !own.contains(h))
        .collect()
}

/// `bot.file_hosts` and `bot.file_max_bytes`, checked.
pub(super) fn file_host_policy(bot: &BotSettings) -> Result<ServiceUrlPolicy, ConfigError> {
    if bot.file_max_bytes == 0 {
        return Err(invalid(
            "bot.file_max_bytes",
            format!("0 would refuse every file; the default is {DEFAULT_FILE_MAX_BYTES}"),
        ));
    }
    ServiceUrlPolicy::new(&bot.file_hosts).map_err(|e| match e {
        HostPatternError::Empty => invalid(
            "bot.file_hosts",
            "no host is listed, so no file could be imported; list at least one, e.g. \
             *.sharepoint.com",
        ),
        other => invalid("bot.file_hosts", other.to_string()),
    })
}

impl Settings {
    /// The hosts `list import` downloads from (`bot.file_hosts`), parsed at load.
    pub fn file_host_policy(&self) -> ServiceUrlPolicy {
        self.parsed.file_hosts.clone()
    }

    /// Where the channel's signing keys are published.
    pub fn channel_metadata_url(&self) -> Result<Url, ConfigError> {
        match &self.bot.openid_metadata_url {
            Some(url) => Ok(url.clone()),
            None => cloud_url(
                "bot.openid_metadata_url",
                self.bot.cloud.endpoints().channel_openid_metadata,
            ),
        }
    }

    /// Where the Emulator's signing keys are published.
    pub fn emulator_metadata_url(&self) -> Result<Url, ConfigError> {
        match &self.bot.emulator_openid_metadata_url {
            Some(url) => Ok(url.clone()),
            None => cloud_url(
                "bot.emulator_openid_metadata_url",
                self.bot.cloud.endpoints().emulator_openid_metadata,
            ),
        }
    }

    /// The outbound token endpoint with `{tenant}` filled in.
    pub fn token_endpoint(&self) -> String {
        let cloud = self.bot.cloud;
        let template = if !self.bot.token_endpoint.trim().is_empty() {
            self.bot.token_endpoint.trim().to_string()
        } else if self.bot.app_type == AppType::SingleTenant {
            cloud.tenant_token_endpoint()
        } else {
            cloud.multi_tenant_token_endpoint()
        };
        let tenant = if self.bot.tenant_id.is_empty() {
            cloud.endpoints().bot_token_tenant
        } else {
            self.bot.tenant_id.as_str()
        };
        template.replace("{tenant}", tenant)
    }

    /// Scope of connector tokens in the bot's cloud.
    pub fn bot_scope(&self) -> &'static str {
        self.bot.cloud.endpoints().bot_scope
    }

    /// Graph's root (no `/v1.0`).
    pub fn graph_base_url(&self) -> String {
        match &self.graph.base_url {
            Some(url) => url.as_str().to_string(),
            None => self.bot.cloud.endpoints().graph.to_string(),
        }
    }

    /// Graph's token endpoint, `{tenant}` left to fill per tenant.
    pub fn graph_token_endpoint(&self) -> String {
        match self.graph.token_endpoint.trim() {
            "" => self.bot.cloud.tenant_token_endpoint(),
            set => set.to_string(),
        }
    }

    /// Scope of app-only Graph tokens in the bot's cloud.
    pub fn graph_scope(&self) -> String {
        self.bot.cloud.graph_scope()
    }

    /// The app's credential: its certificate when `bot.certificate_path` is set (read and
    /// checked now), else its client secret.
    pub fn credential(&self) -> Result<Credential, ConfigError> {
        let path = self.bot.certificate_path.trim();
        if path.is_empty() {
            return Ok(Credential::Secret(self.bot.app_password.clone()));
        }
        ClientCertificate::from_pem_file(Path::new(path))
            .map(|c| Credential::Certificate(Arc::new(c)))
            .map_err(|e| invalid("bot.certificate_path", format!("{path}: {e}")))
    }

    /// `serve` only: a bot with an app id has a secret or a usable certificate.
    pub(super) fn validate_credential(&self) -> Result<(), ConfigError> {
        if self.auth_disabled() {
            return Ok(());
        }
        if self.bot.certificate_path.trim().is_empty()
            && self.bot.app_password.expose_secret().is_empty()
        {
            return Err(invalid(
                "bot.app_password",
                "empty while bot.app_id is set; set it (or MicrosoftAppPassword) to the client \
                 secret of the bot's Entra application, or set bot.certificate_path to a PEM file \
                 holding the application's certificate and private key",
            ));
        }
        self.credential().map(drop)
    }

    /// URL settings parse, and none names another cloud's host.
    pub(super) fn validate_endpoints(&self) -> Result<(), ConfigError> {
        let token = |key: &'static str, template: &str| -> Result<Option<Url>, ConfigError> {
            if template.trim().is_empty() {
                return Ok(None);
            }
            Url::parse(&template.trim().replace("{tenant}", "t"))
                .map(Some)
                .map_err(|e| {
                    invalid(
                        key,
                        format!("{e}; expected a URL such as {SINGLE_TENANT_TOKEN_ENDPOINT}"),
                    )
                })
        };
        let set = [
            (
                "bot.openid_metadata_url",
                self.bot.openid_metadata_url.clone(),
            ),
            (
                "bot.emulator_openid_metadata_url",
                self.bot.emulator_openid_metadata_url.clone(),
            ),
            (
                "bot.token_endpoint",
                token("bot.token_endpoint", &self.bot.token_endpoint)?,
            ),
            ("graph.base_url", self.graph.base_url.clone()),
            (
                "graph.token_endpoint",
                token("graph.token_endpoint", &self.graph.token_endpoint)?,
            ),
        ];
        let foreign = foreign_hosts(self.bot.cloud);
        for (key, url) in set {
            if let Some(host) = url.as_ref().and_then(|u| u.host_str())
                && foreign.iter().any(|f| f.eq_ignore_ascii_case(host))
            {
                return Err(invalid(
                    key,
                    format!(
                        "{host} belongs to another cloud than bot.cloud = {}; leave it empty \
                         for the cloud's own endpoint",
                        self.bot.cloud.name()
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_says_the_file_defaults() {
        let s = Settings::from_toml(include_str!("../../appsettings.example.toml")).unwrap();
        let d = BotSettings::default();
        assert_eq!(s.bot.file_hosts, d.file_hosts);
        assert_eq!(s.bot.file_max_bytes, d.file_max_bytes);
    }

    #[test]
    fn file_hosts_default_to_sharepoint_and_are_checked_at_load() {
        let s = Settings::from_toml("").unwrap();
        assert_eq!(s.bot.file_max_bytes, 5 * 1024 * 1024);
        let policy = s.file_host_policy();
        let allowed = |u: &str| policy.allows_url(&Url::parse(u).unwrap());
        assert!(allowed(
            "https://contoso-my.sharepoint.com/personal/ada/_layouts/15/download.aspx?UniqueId=1&tempauth=x"
        ));
        assert!(!allowed("https://sharepoint.com/x"));
        assert!(!allowed("https://evil.example.com/x"));
        assert!(
            !allowed("http://127.0.0.1:8080/x"),
            "loopback only when listed"
        );

        let s = Settings::from_toml("[bot]\nfile_hosts = [\"loopback\"]\nfile_max_bytes = 10\n")
            .unwrap();
        assert!(
            s.file_host_policy()
                .allows_url(&Url::parse("http://127.0.0.1:8080/f.csv").unwrap())
        );
        assert_eq!(s.bot.file_max_bytes, 10);

        for (bad, named) in [
            ("file_hosts = [\"*\"]", "`*` is not a host pattern"),
            (
                "file_hosts = [\"https://x.example.com/\"]",
                "https://x.example.com/",
            ),
            ("file_hosts = []", "no file could be imported"),
            ("file_max_bytes = 0", "bot.file_max_bytes"),
        ] {
            let err = Settings::from_toml(&format!("[bot]\n{bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("bot.file_"), "{err}");
            assert!(err.contains(named), "{err}");
        }
    }
}
