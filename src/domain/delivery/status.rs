//! Where a delivery stands, and the one function that says which moves are allowed: every write
//! of a delivery's status goes through [`DeliveryStatus::transition`].

use std::fmt;

use super::stored_name;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for its moment (`next_attempt_at`), first try or retry; may be leased.
    Pending,
    /// The connector accepted it; the sent activity's id is kept.
    Delivered,
    /// Given up, with a reason: the recipient is gone, the request was refused, or retries ran out.
    Failed,
    /// A campaign recipient absent at every rung of the absence ladder.
    Expired,
}

/// A move between two states that a delivery may not make (out of a final state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForbiddenTransition {
    pub from: DeliveryStatus,
    pub to: DeliveryStatus,
}

impl fmt::Display for ForbiddenTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} delivery cannot become {}", self.from, self.to)
    }
}

impl std::error::Error for ForbiddenTransition {}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
        DeliveryStatus::Expired,
    ];

    /// As stored (`deliveries.status`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Expired => "expired",
        }
    }

    /// The only moves a delivery can make: a pending delivery stays pending (a retry, a
    /// release, the next rung of the absence ladder) or ends; delivered, failed and expired
    /// are final.
    pub fn transition(from: DeliveryStatus, to: DeliveryStatus) -> Result<(), ForbiddenTransition> {
        match from {
            DeliveryStatus::Pending => Ok(()),
            DeliveryStatus::Delivered | DeliveryStatus::Failed | DeliveryStatus::Expired => {
                Err(ForbiddenTransition { from, to })
            }
        }
    }

    /// The one move out of a final state, taken only by `campaign resend` and `broadcast
    /// resend`: a failed delivery goes back to pending, to be sent once more. Delivered and
    /// expired deliveries are never resent (an expired one was away at every rung of the
    /// absence ladder: it did not fail), nor a pending one (it is still on its way).
    pub fn resend(from: DeliveryStatus) -> Result<(), ForbiddenTransition> {
        match from {
            DeliveryStatus::Failed => Ok(()),
            _ => Err(ForbiddenTransition {
                from,
                to: DeliveryStatus::Pending,
            }),
        }
    }

    /// Whether `self` may become `next` (see [`DeliveryStatus::transition`]).
    pub fn can_become(self, next: DeliveryStatus) -> bool {
        DeliveryStatus::transition(self, next).is_ok()
    }

    /// The states a delivery may be in for a write to move it to `to`: what a status-writing
    /// statement filters on.
    pub fn sources_of(to: DeliveryStatus) -> Vec<DeliveryStatus> {
        DeliveryStatus::ALL
            .into_iter()
            .filter(|from| from.can_become(to))
            .collect()
    }

    pub fn is_final(self) -> bool {
        !matches!(self, DeliveryStatus::Pending)
    }
}

stored_name!(DeliveryStatus, "delivery status");

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    #[test]
    fn transitions_are_exactly_the_allowed_ones() {
        let table = [
            (Pending, Pending, true),
            (Pending, Delivered, true),
            (Pending, Failed, true),
            (Pending, Expired, true),
            (Delivered, Pending, false),
            (Delivered, Delivered, false),
            (Delivered, Failed, false),
            (Delivered, Expired, false),
            (Failed, Pending, false),
            (Failed, Delivered, false),
            (Failed, Failed, false),
            (Failed, Expired, false),
            (Expired, Pending, false),
            (Expired, Delivered, false),
            (Expired, Failed, false),
            (Expired, Expired, false),
        ];
        assert_eq!(table.len(), DeliveryStatus::ALL.len().pow(2));
        for (from, to, allowed) in table {
            let got = DeliveryStatus::transition(from, to);
            if allowed {
                assert_eq!(got, Ok(()), "{from} -> {to}");
            } else {
                assert_eq!(got, Err(ForbiddenTransition { from, to }), "{from} -> {to}");
            }
            assert_eq!(from.can_become(to), allowed, "{from} -> {to}");
        }
        assert!(Delivered.is_final() && Failed.is_final() && Expired.is_final());
        assert!(!Pending.is_final());
        for to in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::sources_of(to), vec![Pending], "{to}");
        }
        assert_eq!(
            ForbiddenTransition {
                from: Delivered,
                to: Failed
            }
            .to_string(),
            "a delivered delivery cannot become failed"
        );
    }

    #[test]
    fn only_a_failed_delivery_is_resent() {
        assert_eq!(DeliveryStatus::resend(Failed), Ok(()));
        for from in [Pending, Delivered, Expired] {
            assert_eq!(
                DeliveryStatus::resend(from),
                Err(ForbiddenTransition { from, to: Pending }),
                "{from}"
            );
        }
        // The engine's own moves still never leave a final state.
        assert!(!Failed.can_become(Pending));
    }

    #[test]
    fn status_names_round_trip() {
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(s.as_str()), Some(s));
            assert_eq!(DeliveryStatus::try_from(s.as_str().to_string()), Ok(s));
            assert!(s == s.as_str());
        }
        assert_eq!(DeliveryStatus::parse("lost"), None);
        assert!(DeliveryStatus::try_from("lost".to_string()).is_err());
    }
}
