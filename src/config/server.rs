//! `[server]`: where herald listens, its public address, and how `/metrics` is served.

use std::net::SocketAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::{ConfigError, invalid};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address and port the HTTP server listens on.
    pub bind: SocketAddr,
    /// The public https address Teams reaches herald at (used for links and the app package).
    pub public_url: Option<Url>,
    /// When set, `/metrics` is served on this address only (and answers 404 on `bind`), so
    /// it can stay off the address the internet reaches.
    pub metrics_bind: Option<SocketAddr>,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`
    /// (401 otherwise). Empty: no token asked.
    pub metrics_token: SecretString,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 3978)),
            public_url: None,
            metrics_bind: None,
            metrics_token: SecretString::from(String::new()),
        }
    }
}

/// Fewest characters of a metrics token: guessing it must be hopeless.
const TOKEN_MIN: usize = 16;

impl ServerSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.public_url
            && url.scheme() != "https"
            && url.scheme() != "http"
        {
            return Err(invalid(
                "server.public_url",
                "expected an http(s) URL such as https://herald.example.com",
            ));
        }
        if let Some(metrics) = self.metrics_bind
            && metrics == self.bind
            && metrics.port() != 0
        {
            return Err(invalid(
                "server.metrics_bind",
                format!(
                    "{metrics} is server.bind itself; give another port, e.g. 127.0.0.1:9090, \
                     or leave it out to serve /metrics on server.bind"
                ),
            ));
        }
        let token = self.metrics_token.expose_secret();
        if !token.is_empty()
            && (token.chars().count() < TOKEN_MIN || token.chars().any(|c| c.is_whitespace()))
        {
            return Err(invalid(
                "server.metrics_token",
                format!(
                    "must be at least {TOKEN_MIN} characters without spaces (e.g. the output \
                     of `openssl rand -hex 32`), or empty for no token"
                ),
            ));
        }
        Ok(())
    }

    /// The metrics token, when one is asked.
    pub fn metrics_token(&self) -> Option<&str> {
        Some(self.metrics_token.expose_secret()).filter(|t| !t.is_empty())
    }
}
