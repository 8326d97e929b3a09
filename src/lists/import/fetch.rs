//! Downloading a file a person sent the bot: Teams gives a pre-authenticated `downloadUrl` (no
//! token is sent). Only hosts of `bot.file_hosts` are called, redirects included, over https
//! (plain http only on the loopback interface), and a file larger than `bot.file_max_bytes` is
//! refused on its `Content-Length` and again while it streams in.

use std::time::Duration;

use reqwest::redirect;
use url::{Host, Url};

use crate::botframework::ServiceUrlPolicy;

/// Why a file could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("`{0}` is not an https URL")]
    BadUrl(String),
    #[error("`{0}` is not among bot.file_hosts")]
    HostNotAllowed(String),
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file host answered HTTP {0}")]
    Status(u16),
    #[error("the file host could not be reached: {0}")]
    Unreachable(String),
}

/// Downloads files from the allowed hosts, up to a size.
#[derive(Clone)]
pub struct Files {
    hosts: ServiceUrlPolicy,
    max_bytes: u64,
    http: reqwest::Client,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files")
            .field("hosts", &self.hosts)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl Default for Files {
    /// `bot.file_hosts` and `bot.file_max_bytes` at their defaults.
    fn default() -> Files {
        let bot = crate::config::BotSettings::default();
        // A constant list of valid patterns (a config test parses it).
        let hosts = ServiceUrlPolicy::new(&bot.file_hosts).expect("the default file hosts");
        Files::new(hosts, bot.file_max_bytes)
    }
}

/// https, or http to the loopback interface (tests, local tools).
fn secure(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

impl Files {
    pub fn new(hosts: ServiceUrlPolicy, max_bytes: u64) -> Files {
        let allowed = hosts.clone();
        // A redirect is followed only to an allowed host, at most 5 times.
        let policy = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if secure(attempt.url()) && allowed.allows_url(attempt.url()) {
                attempt.follow()
            } else {
                let host = attempt.url().host_str().unwrap_or_default().to_string();
                attempt.error(FetchError::HostNotAllowed(host))
            }
        });
        let http = reqwest::Client::builder()
            .redirect(policy)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Files {
            hosts,
            max_bytes,
            http,
        }
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Checks the URL without calling it.
    pub fn check(&self, url: &str) -> Result<Url, FetchError> {
        let parsed = Url::parse(url.trim()).map_err(|_| FetchError::BadUrl(url.to_string()))?;
        if !secure(&parsed) || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(FetchError::BadUrl(url.to_string()));
        }
        if !self.hosts.allows_url(&parsed) {
            return Err(FetchError::HostNotAllowed(
                parsed.host_str().unwrap_or_default().to_string(),
            ));
        }
        Ok(parsed)
    }

    /// The file's bytes.
    pub async fn download(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let url = self.check(url)?;
        let too_large = FetchError::TooLarge {
            limit: self.max_bytes,
        };
        let mut response = self.http.get(url).send().await.map_err(refused)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes)
        {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(refused)? {
            if (body.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// A failed request: a redirect off the allowed hosts keeps its own reason.
fn refused(e: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if let Some(own) = err.downcast_ref::<FetchError>() {
            return own.clone();
        }
        source = err.source();
    }
    if e.is_timeout() {
        return FetchError::Unreachable("timed out".into());
    }
    FetchError::Unreachable(e.without_url().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Files {
        Files::new(ServiceUrlPolicy::new(&["*.sharepoint.com"]).unwrap(), 100)
    }

    #[test]
    fn only_listed_https_hosts_are_called() {
        let f = files();
        assert!(
            f.check("https://contoso-my.sharepoint.com/_layouts/15/download.aspx?tempauth=x")
                .is_ok()
        );
        assert_eq!(
            f.check("https://evil.example.com/f.csv"),
            Err(FetchError::HostNotAllowed("evil.example.com".into()))
        );
        assert!(matches!(
            f.check("http://contoso-my.sharepoint.com/f.csv"),
            Err(FetchError::BadUrl(_))
        ));
        assert!(matches!(
            f.check("https://u:p@contoso-my.sharepoint.com/f.csv"),
            Err(FetchError::BadUrl(_))
        ));
        assert!(matches!(f.check("not a url"), Err(FetchError::BadUrl(_))));
    }
}
