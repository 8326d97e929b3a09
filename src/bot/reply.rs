//! What an admin action answers and what the audit log records of it: one type for every
//! handler, so routing, auditing and replying read the same everywhere.

use serde_json::Value;

/// What herald answers: text, or a card.
#[derive(Debug, Clone)]
pub enum Answer {
    Text(String),
    Card(Value),
    /// A live progress card: once posted, its id is recorded so it is updated in place.
    Progress(Box<Progress>),
}

/// A live progress card to post (see `crate::progress`), and what it follows.
#[derive(Debug, Clone)]
pub struct Progress {
    pub card: Value,
    pub broadcast_id: String,
    pub tenant_id: String,
    /// The reader's user row.
    pub user_id: String,
    pub lang: crate::domain::Lang,
    /// The paragraphs above the live part, shown again by every update.
    pub intro: Vec<String>,
}

/// Why an admin action was refused. The audit log records `refused: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotAdmin,
    /// The command did not parse; its error as the admin saw it.
    BadCommand(String),
    InvalidFields,
    DuplicateName,
    UnknownList,
    ListInUse,
    UnknownCampaign,
    AlreadyStarted,
    Running,
    TestRecipientNotInstalled,
    BadEmail,
    BadMessage,
    BadServiceUrl,
    ServiceUrlNotAllowed,
    UnknownBroadcast,
    NobodyToSendTo,
    SenderUnknown,
    AlreadyRecalled,
    PastRetention,
    NotACampaignCommand,
    NotABroadcastCommand,
    /// `campaign resend` of a campaign that has not started.
    NotStarted,
    /// `broadcast edit` of a broadcast that already went out.
    AlreadySent,
    /// A command that needs a sent broadcast, on one that is scheduled (or never went).
    NotSentYet,
    /// `campaign stop`, or a run's report, of a campaign that does not repeat.
    NotRepeating,
    /// `campaign report <name> <run>` of a run that is not (yet).
    UnknownRun,
    /// `campaign stop` of a series stopped before.
    AlreadyStopped,
}

impl Refusal {
    pub fn reason(&self) -> &str {
        match self {
            Refusal::NotAdmin => "not an admin",
            Refusal::BadCommand(e) => e,
            Refusal::InvalidFields => "invalid fields",
            Refusal::DuplicateName => "duplicate name",
            Refusal::UnknownList => "unknown list",
            Refusal::ListInUse => "list in use",
            Refusal::UnknownCampaign => "unknown campaign",
            Refusal::AlreadyStarted => "already started",
            Refusal::Running => "running",
            Refusal::TestRecipientNotInstalled => "test recipient not installed",
            Refusal::BadEmail => "bad email",
            Refusal::BadMessage => "bad message",
            Refusal::BadServiceUrl => "bad service url",
            Refusal::ServiceUrlNotAllowed => "service url not allowed",
            Refusal::UnknownBroadcast => "unknown broadcast",
            Refusal::NobodyToSendTo => "nobody to send to",
            Refusal::SenderUnknown => "sender unknown",
            Refusal::AlreadyRecalled => "already recalled",
            Refusal::PastRetention => "past retention",
            Refusal::NotACampaignCommand => "not a campaign command",
            Refusal::NotABroadcastCommand => "not a broadcast command",
            Refusal::NotStarted => "not started",
            Refusal::AlreadySent => "already sent",
            Refusal::NotSentYet => "not sent yet",
            Refusal::NotRepeating => "not repeating",
            Refusal::UnknownRun => "unknown run",
            Refusal::AlreadyStopped => "already stopped",
        }
    }
}

/// What an admin action came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Done, with what was done noted in the audit log (`ok: broadcast #3`).
    Noted(String),
    /// A form was shown; nothing changed yet.
    Form,
    Refused(Refusal),
    /// It was tried and failed (e.g. a `campaign test` the connector refused): the error.
    Error(String),
}

impl Outcome {
    /// As the audit log records it.
    pub fn audit_text(&self) -> String {
        match self {
            Outcome::Done => "ok".into(),
            Outcome::Noted(what) => format!("ok: {what}"),
            Outcome::Form => "form".into(),
            Outcome::Refused(why) => format!("refused: {}", why.reason()),
            Outcome::Error(e) => format!("error: {e}"),
        }
    }
}

/// An admin action's answer and outcome.
#[derive(Debug, Clone)]
pub struct Reply {
    pub answer: Answer,
    pub outcome: Outcome,
}

impl Reply {
    pub fn done(text: String) -> Reply {
        Reply {
            answer: Answer::Text(text),
            outcome: Outcome::Done,
        }
    }

    pub fn card(card: Value, outcome: Outcome) -> Reply {
        Reply {
            answer: Answer::Card(card),
            outcome,
        }
    }

    pub fn form(card: Value) -> Reply {
        Reply::card(card, Outcome::Form)
    }

    pub fn refused(text: String, why: Refusal) -> Reply {
        Reply {
            answer: Answer::Text(text),
            outcome: Outcome::Refused(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_in_the_audit_log_as_before() {
        assert_eq!(Outcome::Done.audit_text(), "ok");
        assert_eq!(Outcome::Form.audit_text(), "form");
        assert_eq!(
            Outcome::Noted("broadcast #3".into()).audit_text(),
            "ok: broadcast #3"
        );
        assert_eq!(
            Outcome::Refused(Refusal::NotAdmin).audit_text(),
            "refused: not an admin"
        );
        assert_eq!(
            Outcome::Refused(Refusal::BadCommand("unknown command `x`".into())).audit_text(),
            "refused: unknown command `x`"
        );
    }
}
