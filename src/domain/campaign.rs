//! A campaign's lifecycle: scheduled → running → completed, and, where approval is required,
//! awaiting approval → scheduled (or rejected) before it. The one place that says which moves
//! are allowed; every status write in the store goes through [`CampaignStatus::transition`].

use std::fmt;

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CampaignStatus {
    /// Waiting for its start; its settings may still change.
    Scheduled,
    /// Started: its deliveries are planned; its settings are final.
    Running,
    /// Nothing left pending.
    Completed,
    /// Saved where approval is required: not planned until an approver approves it.
    AwaitingApproval,
    /// An approver rejected it: not planned; an edit asks for approval again.
    Rejected,
}

/// A status move the lifecycle does not allow (for example completed → running).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a campaign cannot go from {from} to {to}")]
pub struct ForbiddenTransition {
    pub from: CampaignStatus,
    pub to: CampaignStatus,
}

/// A campaign's time zone, checked when the campaign was saved and read back typed (never
/// re-parsed with a fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignZone(pub chrono_tz::Tz);

/// A stored time zone that is not an IANA zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone `{0}`")]
pub struct UnknownZone(pub String);

impl CampaignZone {
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }
}

impl TryFrom<String> for CampaignZone {
    type Error = UnknownZone;

    fn try_from(s: String) -> Result<CampaignZone, UnknownZone> {
        s.parse().map(CampaignZone).map_err(|_| UnknownZone(s))
    }
}

impl fmt::Display for CampaignZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// A stored status that is none of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown campaign status `{0}`")]
pub struct UnknownStatus(pub String);

impl CampaignStatus {
    pub const ALL: [CampaignStatus; 5] = [
        CampaignStatus::Scheduled,
        CampaignStatus::Running,
        CampaignStatus::Completed,
        CampaignStatus::AwaitingApproval,
        CampaignStatus::Rejected,
    ];

    /// The stored words of the statuses whose settings may still change.
    pub const EDITABLE: [&'static str; 3] = [
        CampaignStatus::Scheduled.as_str(),
        CampaignStatus::AwaitingApproval.as_str(),
        CampaignStatus::Rejected.as_str(),
    ];

    /// The stored word.
    pub const fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Scheduled => "scheduled",
            CampaignStatus::Running => "running",
            CampaignStatus::Completed => "completed",
            CampaignStatus::AwaitingApproval => "awaiting approval",
            CampaignStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Result<CampaignStatus, UnknownStatus> {
        match s {
            "scheduled" => Ok(CampaignStatus::Scheduled),
            "running" => Ok(CampaignStatus::Running),
            "completed" => Ok(CampaignStatus::Completed),
            "awaiting approval" => Ok(CampaignStatus::AwaitingApproval),
            "rejected" => Ok(CampaignStatus::Rejected),
            other => Err(UnknownStatus(other.to_string())),
        }
    }

    /// The allowed moves: a scheduled campaign starts, a running one completes. Nothing goes
    /// back, nothing skips running, nothing moves to where it already is. Before it starts,
    /// approval moves it: saved where approval is required it awaits approval, which schedules
    /// or rejects it; an edit asks again (or, with approval off since, schedules it).
    pub fn transition(from: CampaignStatus, to: CampaignStatus) -> Result<(), ForbiddenTransition> {
        use CampaignStatus::*;
        match (from, to) {
            (Scheduled, Running) | (Running, Completed) => Ok(()),
            (Scheduled | Rejected, AwaitingApproval) => Ok(()),
            (AwaitingApproval, Scheduled | Rejected) | (Rejected, Scheduled) => Ok(()),
            (Scheduled | Running | Completed | AwaitingApproval | Rejected, _) => {
                Err(ForbiddenTransition { from, to })
            }
        }
    }

    /// It has started (running or completed): its deliveries were planned.
    pub fn started(self) -> bool {
        matches!(self, CampaignStatus::Running | CampaignStatus::Completed)
    }

    /// The one move back, taken only by `campaign resend`: a completed campaign runs again
    /// while what it resends is on its way, then completes again.
    pub fn reopen(from: CampaignStatus) -> Result<(), ForbiddenTransition> {
        match from {
            CampaignStatus::Completed => Ok(()),
            other => Err(ForbiddenTransition {
                from: other,
                to: CampaignStatus::Running,
            }),
        }
    }

    /// Its settings may change (edit) only before it starts.
    pub fn editable(self) -> bool {
        !self.started()
    }

    /// It may be deleted unless it is running.
    pub fn deletable(self) -> bool {
        self != CampaignStatus::Running
    }
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for CampaignStatus {
    type Error = UnknownStatus;

    fn try_from(s: String) -> Result<CampaignStatus, UnknownStatus> {
        CampaignStatus::parse(&s)
    }
}

impl PartialEq<str> for CampaignStatus {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CampaignStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::CampaignStatus::{self, *};

    #[test]
    fn every_move_is_judged_and_only_start_completion_and_approval_are_allowed() {
        for from in CampaignStatus::ALL {
            for to in CampaignStatus::ALL {
                let allowed = matches!(
                    (from, to),
                    (Scheduled, Running)
                        | (Running, Completed)
                        | (Scheduled, AwaitingApproval)
                        | (Rejected, AwaitingApproval)
                        | (AwaitingApproval, Scheduled)
                        | (AwaitingApproval, Rejected)
                        | (Rejected, Scheduled)
                );
                assert_eq!(
                    CampaignStatus::transition(from, to).is_ok(),
                    allowed,
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn only_a_completed_campaign_reopens_for_a_resend() {
        assert_eq!(CampaignStatus::reopen(Completed), Ok(()));
        for from in [Scheduled, Running, AwaitingApproval, Rejected] {
            let e = CampaignStatus::reopen(from).unwrap_err();
            assert_eq!((e.from, e.to), (from, Running));
        }
    }

    #[test]
    fn forbidden_moves_say_what_was_tried() {
        let e = CampaignStatus::transition(Completed, Running).unwrap_err();
        assert_eq!((e.from, e.to), (Completed, Running));
        assert_eq!(
            e.to_string(),
            "a campaign cannot go from completed to running"
        );
        assert!(CampaignStatus::transition(Running, Scheduled).is_err());
        assert!(CampaignStatus::transition(Scheduled, Completed).is_err());
    }

    #[test]
    fn the_stored_words_read_back() {
        for s in CampaignStatus::ALL {
            assert_eq!(CampaignStatus::parse(s.as_str()), Ok(s));
            assert_eq!(s, s.as_str());
        }
        assert!(CampaignStatus::parse("cancelled").is_err());
    }

    #[test]
    fn only_a_scheduled_campaign_is_edited_and_only_a_running_one_is_kept() {
        assert!(Scheduled.editable() && AwaitingApproval.editable() && Rejected.editable());
        assert!(!Running.editable() && !Completed.editable());
        assert!(Scheduled.deletable() && Completed.deletable());
        assert!(AwaitingApproval.deletable() && Rejected.deletable());
        assert_eq!(
            CampaignStatus::EDITABLE.map(|w| CampaignStatus::parse(w).unwrap().editable()),
            [true; 3]
        );
        assert!(!Running.deletable());
    }
}
