//! The connector address an activity names. Only https, or plain http on the loopback interface
//! (local tools and tests), is accepted: anything else is refused before any call is made.
//! Which hosts herald calls at all is a [`ServiceUrlPolicy`], the allow-list in the settings.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

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
    #[error("herald does not call `{0}`: it is not among the allowed connector hosts")]
    HostNotAllowed(String),
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

    /// The host, parsed (a name, or an address).
    pub fn host(&self) -> Option<Host<&str>> {
        self.0.host()
    }

    /// The host, as written in URLs (`[::1]` for an IPv6 address).
    pub fn host_str(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// Compares as the Bot Framework does: the same URL, ignoring a trailing slash and case.
    pub fn same_as(&self, other: &str) -> bool {
        self.0
            .as_str()
            .trim_end_matches('/')
            .eq_ignore_ascii_case(other.trim().trim_end_matches('/'))
    }
}

/// The hosts herald calls as a connector: `bot.service_url_hosts`.
///
/// A pattern is a host name (`smba.trafficmanager.net`); `*.` and a domain, for any name below
/// that domain but not the domain itself (`*.botframework.com`); an IP address (`10.0.0.5`,
/// `fd00::1` or `[fd00::1]`); or `loopback`, for `localhost`, 127.0.0.0/8 and `::1`. Names
/// compare without case and without a trailing dot, addresses as addresses whatever their
/// spelling. Names are not resolved: the list says whom herald trusts with its token, and an IP
/// literal (private, link-local or public) is called only when listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrlPolicy {
    names: HashSet<String>,
    /// `botframework.com` for the pattern `*.botframework.com`.
    domains: Vec<String>,
    addresses: HashSet<IpAddr>,
    loopback: bool,
}

/// The connector hosts of Teams (public cloud and GCC, GCC High, DoD) and Skype, and the loopback
/// interface (Bot Framework Emulator, Agents Playground). Not Web Chat's or Direct Line's
/// (`*.botframework.com`): herald does not serve those channels, whose clients write what
/// Teams' service would vouch for. `trafficmanager.net` is a shared Azure zone anyone can add
/// names to: only Teams' own names in it are listed, never a wildcard.
pub const DEFAULT_SERVICE_URL_HOSTS: [&str; 6] = [
    "smba.trafficmanager.net",
    "smba.onyx.prod.teams.trafficmanager.net",
    "*.infra.gcc.teams.microsoft.com",
    "*.infra.gov.teams.microsoft.us",
    "*.infra.dod.teams.microsoft.us",
    "loopback",
];

impl Default for ServiceUrlPolicy {
    /// [`DEFAULT_SERVICE_URL_HOSTS`].
    fn default() -> ServiceUrlPolicy {
        // A constant list of valid patterns (a unit test parses it).
        ServiceUrlPolicy::new(&DEFAULT_SERVICE_URL_HOSTS).expect("the default hosts are valid")
    }
}

/// Why `bot.service_url_hosts` cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HostPatternError {
    #[error("`{0}` is not a host pattern: {1}")]
    Bad(String, &'static str),
    #[error(
        "no host is listed, so herald could answer no one; list at least one, e.g. smba.trafficmanager.net"
    )]
    Empty,
}

/// A domain name in lower case without its trailing dot, or `None` when a label is empty.
fn domain_name(d: &str) -> Option<String> {
    let d = d.strip_suffix('.').unwrap_or(d);
    (!d.split('.').any(str::is_empty)).then(|| d.to_ascii_lowercase())
}

impl ServiceUrlPolicy {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<ServiceUrlPolicy, HostPatternError> {
        let mut policy = ServiceUrlPolicy {
            names: HashSet::new(),
            domains: Vec::new(),
            addresses: HashSet::new(),
            loopback: false,
        };
        for pattern in patterns {
            let pattern = pattern.as_ref().trim();
            let bad = |reason| HostPatternError::Bad(pattern.to_string(), reason);
            if pattern == "*" {
                return Err(bad(
                    "it would let anyone's host receive herald's token; list hosts",
                ));
            }
            if pattern.eq_ignore_ascii_case("loopback") {
                policy.loopback = true;
                continue;
            }
            if let Ok(ip) = pattern.parse::<Ipv6Addr>() {
                policy.addresses.insert(IpAddr::V6(ip));
                continue;
            }
            let (wildcard, rest) = match pattern.strip_prefix("*.") {
                Some(rest) => (true, rest),
                None => (false, pattern),
            };
            let host = Host::parse(rest).map_err(|_| {
                bad("expected a host name, *.domain, an IP address or loopback, without scheme, port or path")
            })?;
            match host {
                Host::Domain(d) => {
                    let d = domain_name(&d).ok_or_else(|| bad("a label is empty"))?;
                    if d.contains('*') {
                        return Err(bad("`*` may only start a pattern, as in *.example.com"));
                    }
                    if wildcard {
                        if !d.contains('.') {
                            return Err(bad(
                                "a wildcard needs a domain of two labels or more, as in *.example.com",
                            ));
                        }
                        policy.domains.push(d);
                    } else {
                        policy.names.insert(d);
                    }
                }
                Host::Ipv4(_) | Host::Ipv6(_) if wildcard => {
                    return Err(bad("a wildcard applies to names, not to IP addresses"));
                }
                Host::Ipv4(ip) => {
                    policy.addresses.insert(IpAddr::V4(ip));
                }
                Host::Ipv6(ip) => {
                    policy.addresses.insert(IpAddr::V6(ip));
                }
            }
        }
        if policy.names.is_empty()
            && policy.domains.is_empty()
            && policy.addresses.is_empty()
            && !policy.loopback
        {
            return Err(HostPatternError::Empty);
        }
        Ok(policy)
    }

    /// Whether herald may call `url`: refused with [`ServiceUrlError::HostNotAllowed`].
    pub fn check(&self, url: &ServiceUrl) -> Result<(), ServiceUrlError> {
        if self.allows(url.0.host()) {
            Ok(())
        } else {
            Err(ServiceUrlError::HostNotAllowed(url.host_str().to_string()))
        }
    }

    /// Whether `url`'s host is listed (for URLs that are not connectors, such as a file's).
    pub fn allows_url(&self, url: &url::Url) -> bool {
        self.allows(url.host())
    }

    fn allows(&self, host: Option<Host<&str>>) -> bool {
        match host {
            Some(Host::Domain(d)) => {
                let Some(d) = domain_name(d) else {
                    return false;
                };
                (self.loopback && d == "localhost")
                    || self.names.contains(&d)
                    || self.domains.iter().any(|parent| {
                        d.strip_suffix(parent.as_str())
                            .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
                    })
            }
            Some(Host::Ipv4(ip)) => self.allows_address(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.allows_address(IpAddr::V6(ip)),
            None => false,
        }
    }

    fn allows_address(&self, ip: IpAddr) -> bool {
        (self.loopback && ip.is_loopback()) || self.addresses.contains(&ip)
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

    fn policy(patterns: &[&str]) -> ServiceUrlPolicy {
        ServiceUrlPolicy::new(patterns).unwrap()
    }

    fn allowed(policy: &ServiceUrlPolicy, url: &str) -> bool {
        let url = ServiceUrl::parse(url).unwrap();
        match policy.check(&url) {
            Ok(()) => true,
            Err(ServiceUrlError::HostNotAllowed(host)) => {
                assert_eq!(host, url.host_str());
                false
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_defaults_allow_the_connectors_and_loopback_only() {
        let p = policy(&DEFAULT_SERVICE_URL_HOSTS);
        for url in [
            "https://smba.trafficmanager.net/emea/",
            "https://SMBA.TrafficManager.NET/amer/",
            "https://smba.onyx.prod.teams.trafficmanager.net/teams/",
            "https://smba.infra.gcc.teams.microsoft.com/teams",
            "https://smba.infra.gov.teams.microsoft.us/teams",
            "https://smba.infra.dod.teams.microsoft.us/teams",
            "http://127.0.0.1:3979/",
            "http://localhost:56000",
            "http://[::1]:5000/",
        ] {
            assert!(allowed(&p, url), "{url}");
        }
        for url in [
            "https://169.254.169.254/",
            "https://10.0.0.5/",
            "https://192.168.1.1/",
            "https://0.0.0.0:3978/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://0xA9FEA9FE/",
            "https://2852039166/",
            "https://evil.trafficmanager.net/",
            "https://smba.trafficmanager.net.evil.example/",
            "https://smba.trafficmanager.net%2eevil.example/",
            "https://evil.example\\@smba.trafficmanager.net/",
            "https://botframework.com/",
            "https://webchat.botframework.com/",
            "https://europe.directline.botframework.com/",
            "https://evilbotframework.com/",
            "https://botframework.com.evil.example/",
            "https://teams.microsoft.us/",
            "https://169.254.169.254.nip.io/",
        ] {
            assert!(!allowed(&p, url), "{url}");
        }
    }

    #[test]
    fn a_wildcard_matches_names_below_its_domain_only() {
        let p = policy(&["*.Example.com."]);
        assert!(allowed(&p, "https://a.example.com/"));
        assert!(allowed(&p, "https://a.b.example.com./"));
        assert!(!allowed(&p, "https://example.com/"));
        assert!(!allowed(&p, "https://example.com./"));
        assert!(!allowed(&p, "https://evilexample.com/"));
        assert!(!allowed(&p, "https://a.example.com.evil.net/"));
        assert!(
            !allowed(&p, "https://127.0.0.1/"),
            "no loopback unless listed"
        );
    }

    #[test]
    fn an_exact_name_ignores_case_and_a_trailing_dot() {
        let p = policy(&["connector.example.org"]);
        assert!(allowed(&p, "https://CONNECTOR.example.org/"));
        assert!(allowed(&p, "https://connector.example.org./x/"));
        assert!(allowed(&p, "https://connector.example.org:8443/"));
        assert!(!allowed(&p, "https://a.connector.example.org/"));
        assert!(!allowed(&p, "https://example.org/"));
        let p = policy(&["bücher.example"]);
        assert!(allowed(&p, "https://xn--bcher-kva.example/"));
    }

    #[test]
    fn addresses_match_as_addresses_and_only_when_listed() {
        let p = policy(&["169.254.169.254", "fd00::1", "[2001:db8::5]"]);
        assert!(allowed(&p, "https://169.254.169.254/"));
        assert!(allowed(&p, "https://0xA9FEA9FE/"), "another spelling");
        assert!(allowed(&p, "https://[fd00:0::1]/"));
        assert!(allowed(&p, "https://[2001:DB8::5]/"));
        assert!(!allowed(&p, "https://169.254.169.253/"));
        assert!(!allowed(&p, "https://[fd00::2]/"));
        assert!(!allowed(&p, "http://127.0.0.1:5000/"));
    }

    #[test]
    fn loopback_is_a_pattern_of_its_own() {
        let p = policy(&["loopback"]);
        assert!(allowed(&p, "http://127.0.0.1:5000/"));
        assert!(allowed(&p, "https://127.1.2.3/"));
        assert!(allowed(&p, "http://LOCALHOST:5000/"));
        assert!(allowed(&p, "http://[::1]:5000/"));
        assert!(!allowed(&p, "https://smba.trafficmanager.net/emea/"));
        assert!(!allowed(&p, "https://a.localhost/"));
        // A name is only that name.
        let p = policy(&["localhost"]);
        assert!(allowed(&p, "http://localhost:5000/"));
        assert!(!allowed(&p, "http://127.0.0.1:5000/"));
    }

    #[test]
    fn bad_patterns_are_named() {
        for pattern in [
            "",
            "*",
            "*.com",
            "a.*.com",
            "**.example.com",
            "https://smba.trafficmanager.net",
            "smba.trafficmanager.net:443",
            "smba.trafficmanager.net/emea",
            "*.10.0.0.1",
            "exa mple.com",
            "a..example.com",
            "[fd00::1",
        ] {
            match ServiceUrlPolicy::new(&[pattern]) {
                Err(HostPatternError::Bad(p, _)) => assert_eq!(p, pattern),
                other => panic!("{pattern:?}: {other:?}"),
            }
        }
        assert_eq!(
            ServiceUrlPolicy::new::<&str>(&[]),
            Err(HostPatternError::Empty)
        );
    }
}
