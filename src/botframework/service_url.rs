//! The connector address an activity names. Only https, or plain http on the loopback interface
//! (local tools and tests), is accepted: anything else is refused before any call is made.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

#[derive(Clone, PartialEq, Eq)]
pub struct ServiceUrl(Url);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ServiceUrlError {
    #[error("not an absolute URL")]
    NotAbsolute,
    #[error("only https is allowed (http only on loopback), got `{0}`")]
    Scheme(String),
    #[error("URLs with credentials, query or fragment are not service URLs")]
    Extras,
    #[error("service URLs cannot contain spaces or control characters")]
    Characters,
}

fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl ServiceUrl {
    pub fn parse(s: &str) -> Result<ServiceUrl, ServiceUrlError> {
        let s = s.trim();
        // The URL parser silently drops tabs and line breaks and encodes spaces: the address
        // called would not be the one written (nor the one a token's claim names).
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ServiceUrlError::Characters);
        }
        let url = Url::parse(s).map_err(|_| ServiceUrlError::NotAbsolute)?;
        if url.host().is_none() {
            return Err(ServiceUrlError::NotAbsolute);
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(url.host()) => {}
            other => return Err(ServiceUrlError::Scheme(other.to_string())),
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(ServiceUrlError::Extras);
        }
        Ok(ServiceUrl(url))
    }

    /// `path` appended to the service URL, with exactly one slash between them.
    pub fn join(&self, path: &str) -> String {
        let base = self.0.as_str().trim_end_matches('/');
        format!("{base}/{}", path.trim_start_matches('/'))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Compares as the Bot Framework does: the same URL, ignoring a trailing slash and case.
    pub fn same_as(&self, other: &str) -> bool {
        self.0
            .as_str()
            .trim_end_matches('/')
            .eq_ignore_ascii_case(other.trim().trim_end_matches('/'))
    }
}

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceUrl({})", self.0)
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_accepted_and_joined() {
        let u = ServiceUrl::parse("https://smba.trafficmanager.net/emea/").unwrap();
        assert_eq!(
            u.join("/v3/conversations/a/activities"),
            "https://smba.trafficmanager.net/emea/v3/conversations/a/activities"
        );
        assert!(u.same_as("https://smba.trafficmanager.net/emea"));
        assert!(!u.same_as("https://smba.trafficmanager.net/amer/"));
    }

    #[test]
    fn http_only_on_loopback() {
        assert!(ServiceUrl::parse("http://127.0.0.1:5000").is_ok());
        assert!(ServiceUrl::parse("http://localhost:5000/").is_ok());
        assert!(ServiceUrl::parse("http://[::1]:5000/").is_ok());
        assert_eq!(
            ServiceUrl::parse("http://169.254.169.254/"),
            Err(ServiceUrlError::Scheme("http".into()))
        );
        assert!(ServiceUrl::parse("http://example.com/").is_err());
        assert!(ServiceUrl::parse("ftp://example.com/").is_err());
    }

    #[test]
    fn relative_or_decorated_urls_are_refused() {
        assert_eq!(ServiceUrl::parse("/v3"), Err(ServiceUrlError::NotAbsolute));
        assert_eq!(
            ServiceUrl::parse("https://u:p@example.com/"),
            Err(ServiceUrlError::Extras)
        );
        assert_eq!(
            ServiceUrl::parse("https://example.com/?x=1"),
            Err(ServiceUrlError::Extras)
        );
    }

    #[test]
    fn control_characters_and_spaces_are_refused_not_dropped() {
        for s in [
            "https://smba.trafficmanager.net/emea/\r\nX-Evil: 1",
            "https://smba.trafficmanager.net/emea/\nX-Evil:1",
            "https://smba.trafficmanager.net/em ea/",
            "https://smba.traffic\tmanager.net/",
            "https://169.254.169.254\0.smba.trafficmanager.net/",
        ] {
            assert_eq!(
                ServiceUrl::parse(s),
                Err(ServiceUrlError::Characters),
                "{s:?}"
            );
        }
        // Surrounding whitespace is only trimmed.
        assert!(ServiceUrl::parse(" https://smba.trafficmanager.net/emea/\r\n").is_ok());
    }
}
