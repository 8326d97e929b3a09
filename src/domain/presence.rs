//! Presence policies: send only while the recipient's Teams presence allows it.

use std::fmt;

use super::problem::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresencePolicy {
    /// Send whatever the presence.
    Any,
    /// Available or AvailableIdle.
    Available,
    /// Also Away, BeRightBack, Busy and BusyIdle.
    AvailableAwayBusy,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a presence policy. Use any, available, or available,away,busy")]
pub struct PresenceError(String);

impl PresenceError {
    /// The error as a catalogue problem (`presence-invalid`).
    pub fn problem(&self) -> Problem {
        Problem::new("presence-invalid").with("value", self.0.as_str())
    }
}

/// What to do with a recipient now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceDecision {
    Send,
    /// Not available enough: the absence ladder takes over.
    Absent,
    /// Presence could not be had: `campaigns.unknown_presence` decides.
    Unknown,
}

impl PresencePolicy {
    pub fn parse(text: &str) -> Result<PresencePolicy, PresenceError> {
        Self::parse_text(text)
    }

    fn parse_text(text: &str) -> Result<PresencePolicy, PresenceError> {
        let mut words: Vec<String> = text
            .split([',', ' ', '+'])
            .map(|w| w.trim().to_lowercase())
            .filter(|w| !w.is_empty())
            .map(|w| {
                match w.as_str() {
                    "disponible" => "available",
                    "absent" => "away",
                    "occupé" | "occupe" => "busy",
                    "tous" | "toutes" | "n'importe" => "any",
                    other => other,
                }
                .to_string()
            })
            .collect();
        words.sort();
        words.dedup();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["any"] => Ok(PresencePolicy::Any),
            ["available"] => Ok(PresencePolicy::Available),
            ["available", "away", "busy"] => Ok(PresencePolicy::AvailableAwayBusy),
            _ => Err(PresenceError(text.trim().to_string())),
        }
    }

    pub fn needs_presence(self) -> bool {
        self != PresencePolicy::Any
    }

    /// The decision for a Graph `availability` (`None` when it could not be looked up).
    pub fn decide(self, availability: Option<&str>) -> PresenceDecision {
        if self == PresencePolicy::Any {
            return PresenceDecision::Send;
        }
        let Some(a) = availability else {
            return PresenceDecision::Unknown;
        };
        let allowed: &[&str] = match self {
            PresencePolicy::Any => return PresenceDecision::Send,
            PresencePolicy::Available => &["Available", "AvailableIdle"],
            PresencePolicy::AvailableAwayBusy => &[
                "Available",
                "AvailableIdle",
                "Away",
                "BeRightBack",
                "Busy",
                "BusyIdle",
            ],
        };
        if allowed.iter().any(|x| x.eq_ignore_ascii_case(a)) {
            PresenceDecision::Send
        } else if a.eq_ignore_ascii_case("PresenceUnknown") {
            PresenceDecision::Unknown
        } else {
            // DoNotDisturb and Offline never satisfy a policy.
            PresenceDecision::Absent
        }
    }
}

impl fmt::Display for PresencePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PresencePolicy::Any => "any",
            PresencePolicy::Available => "available",
            PresencePolicy::AvailableAwayBusy => "available,away,busy",
        })
    }
}

/// As stored: the text `Display` wrote.
impl TryFrom<String> for PresencePolicy {
    type Error = PresenceError;

    fn try_from(s: String) -> Result<PresencePolicy, PresenceError> {
        PresencePolicy::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PresenceDecision::*;

    #[test]
    fn policies_in_english_and_french() {
        assert_eq!(PresencePolicy::parse("any").unwrap(), PresencePolicy::Any);
        assert_eq!(
            PresencePolicy::parse("Available").unwrap(),
            PresencePolicy::Available
        );
        assert_eq!(
            PresencePolicy::parse("disponible").unwrap(),
            PresencePolicy::Available
        );
        assert_eq!(
            PresencePolicy::parse("available, away, busy").unwrap(),
            PresencePolicy::AvailableAwayBusy
        );
        assert_eq!(
            PresencePolicy::parse("busy,available,away").unwrap(),
            PresencePolicy::AvailableAwayBusy
        );
        assert_eq!(
            PresencePolicy::parse("disponible,absent,occupé").unwrap(),
            PresencePolicy::AvailableAwayBusy
        );
        let e = PresencePolicy::parse("away").unwrap_err().to_string();
        assert!(
            e.contains("`away`") && e.contains("available,away,busy"),
            "{e}"
        );
        for p in [
            PresencePolicy::Any,
            PresencePolicy::Available,
            PresencePolicy::AvailableAwayBusy,
        ] {
            assert_eq!(PresencePolicy::parse(&p.to_string()).unwrap(), p);
        }
    }

    #[test]
    fn what_each_policy_allows() {
        let all = [
            "Available",
            "AvailableIdle",
            "Away",
            "BeRightBack",
            "Busy",
            "BusyIdle",
            "DoNotDisturb",
            "Offline",
        ];
        let available = all.map(|a| PresencePolicy::Available.decide(Some(a)));
        assert_eq!(
            available,
            [Send, Send, Absent, Absent, Absent, Absent, Absent, Absent]
        );
        let wide = all.map(|a| PresencePolicy::AvailableAwayBusy.decide(Some(a)));
        assert_eq!(wide, [Send, Send, Send, Send, Send, Send, Absent, Absent]);
        assert!(
            all.iter()
                .all(|a| PresencePolicy::Any.decide(Some(a)) == Send)
        );
        assert_eq!(PresencePolicy::Available.decide(None), Unknown);
        assert_eq!(
            PresencePolicy::Available.decide(Some("PresenceUnknown")),
            Unknown
        );
        assert_eq!(PresencePolicy::Any.decide(None), Send);
    }
}
