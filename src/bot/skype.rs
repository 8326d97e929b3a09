//! What a Skype campaign's settings do not do there, said under its settings (`campaign info`
//! and the reply to create or edit): no presence (no Graph for Skype users), no installs.

use crate::domain::Lang;
use crate::domain::presence::PresencePolicy;
use crate::domain::skype::CHANNEL;
use crate::store::campaigns::Campaign;
use crate::t;

/// Lines (each `\n- …`) for a Skype campaign's presence policy and `install: yes`; empty
/// otherwise.
pub(super) fn notes(lang: Lang, c: &Campaign) -> String {
    let mut out = String::new();
    if c.channel != CHANNEL {
        return out;
    }
    if c.presence != PresencePolicy::Any {
        out.push_str(&format!("\n- {}", t!(lang, "skype-presence-unknown")));
    }
    if c.install {
        out.push_str(&format!("\n- {}", t!(lang, "skype-install-ignored")));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::botframework::channel::Channel;
    use crate::botframework::{ServiceUrl, ServiceUrlPolicy};

    #[test]
    fn skypes_connector_host_is_called_by_default() {
        // Skype's connector answers at the Teams connector's public name, under `/apis/`.
        let url = ServiceUrl::parse("https://smba.trafficmanager.net/apis/").unwrap();
        ServiceUrlPolicy::default().check(&url).unwrap();
        Channel::Skype.check_service_url(&url).unwrap();
    }
}
