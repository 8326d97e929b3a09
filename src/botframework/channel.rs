//! Which Bot Framework channel an activity came through, and what herald trusts on it.
//!
//! On Teams (`msteams`) and Skype (`skype`) the activity is written by Microsoft's channel
//! service: its `channelData.tenant.id` and `from.aadObjectId` say who sent it. On Web Chat,
//! Direct Line and the other channels, the *client* writes `channelData` and may write `from`:
//! their tokens are genuine, but nothing in their body says who the person is or which tenant
//! they belong to. herald serves Teams (everything) and Skype (installs and campaigns); any other
//! channel gets a short "not supported here" at most, never an install, a tenant or an admin.

use url::Host;

use super::service_url::ServiceUrl;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// `msteams`: installs, campaigns, broadcasts, admin commands.
    Teams,
    /// `skype`: installs and campaigns; no tenant, so no admin commands.
    Skype,
    /// Any other channel (`webchat`, `directline`, `emulator`, `slack`, …).
    Other(String),
}

/// Why an activity's channel and its connector address do not go together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an activity of channel `{channel}` cannot come from `{host}`: that host serves {serves}")]
pub struct ChannelMismatch {
    pub channel: String,
    pub host: String,
    pub serves: &'static str,
}

/// Domains of the Bot Framework's own channels (Web Chat, Direct Line, and the rest), in the
/// public, US Government and China clouds.
const BOT_FRAMEWORK_DOMAINS: [&str; 3] = [
    "botframework.com",
    "botframework.us",
    "botframework.azure.cn",
];

/// Domains where Teams and Skype connectors live: the public `smba` names under
/// `trafficmanager.net` and the government clouds' `teams.microsoft.*` hosts.
const TEAMS_DOMAINS: [&str; 3] = [
    "trafficmanager.net",
    "teams.microsoft.com",
    "teams.microsoft.us",
];

fn under(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

impl Channel {
    pub fn parse(channel_id: &str) -> Channel {
        match channel_id.trim().to_ascii_lowercase().as_str() {
            "msteams" => Channel::Teams,
            "skype" => Channel::Skype,
            other => Channel::Other(other.to_string()),
        }
    }

    /// Whether herald serves this channel at all.
    pub fn is_served(&self) -> bool {
        !matches!(self, Channel::Other(_))
    }

    /// Whether admin commands (and everything tenant-wide) may run on this channel.
    pub fn carries_tenant(&self) -> bool {
        matches!(self, Channel::Teams)
    }

    /// A Teams or Skype activity must come from a Teams connector, and no other channel's
    /// activity may come from one; the Bot Framework's own hosts serve only other channels.
    /// Hosts of neither family (loopback for local tools, an address the operator listed)
    /// are left to `bot.service_url_hosts`.
    pub fn check_service_url(&self, url: &ServiceUrl) -> Result<(), ChannelMismatch> {
        let host = match url.host() {
            Some(Host::Domain(d)) => d.trim_end_matches('.').to_ascii_lowercase(),
            _ => return Ok(()),
        };
        let bot_framework = BOT_FRAMEWORK_DOMAINS.iter().any(|d| under(&host, d));
        let teams = TEAMS_DOMAINS.iter().any(|d| under(&host, d));
        let mismatch = |serves| {
            Err(ChannelMismatch {
                channel: self.id().to_string(),
                host: host.clone(),
                serves,
            })
        };
        match self {
            Channel::Teams | Channel::Skype if bot_framework => {
                mismatch("the Bot Framework's own channels (Web Chat, Direct Line)")
            }
            Channel::Other(_) if teams => mismatch("Teams and Skype"),
            _ => Ok(()),
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Channel::Teams => "msteams",
            Channel::Skype => "skype",
            Channel::Other(id) => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> ServiceUrl {
        ServiceUrl::parse(s).unwrap()
    }

    #[test]
    fn only_teams_and_skype_are_served_and_only_teams_carries_a_tenant() {
        assert_eq!(Channel::parse(" MSTeams "), Channel::Teams);
        assert!(Channel::parse("skype").is_served());
        assert!(!Channel::parse("skype").carries_tenant());
        for other in ["webchat", "directline", "emulator", "slack", ""] {
            let c = Channel::parse(other);
            assert!(!c.is_served(), "{other}");
            assert!(!c.carries_tenant(), "{other}");
        }
    }

    #[test]
    fn a_channel_and_its_connector_host_must_agree() {
        let teams = Channel::Teams;
        teams
            .check_service_url(&url("https://smba.trafficmanager.net/emea/"))
            .unwrap();
        teams
            .check_service_url(&url("https://smba.infra.gov.teams.microsoft.us/"))
            .unwrap();
        teams
            .check_service_url(&url("http://127.0.0.1:3978/"))
            .unwrap();
        for host in [
            "https://webchat.botframework.com/",
            "https://directline.botframework.com/",
            "https://europe.directline.botframework.com/",
            "https://directline.botframework.us/",
            "https://BotFramework.com./",
        ] {
            let e = teams.check_service_url(&url(host)).unwrap_err();
            assert_eq!(e.channel, "msteams");
            assert!(Channel::Skype.check_service_url(&url(host)).is_err());
            Channel::parse("webchat")
                .check_service_url(&url(host))
                .unwrap();
        }
        assert!(
            Channel::parse("directline")
                .check_service_url(&url("https://smba.trafficmanager.net/amer/"))
                .is_err()
        );
        // Look-alikes are not the domain.
        teams
            .check_service_url(&url("https://evilbotframework.com/"))
            .unwrap();
    }
}
