//! The figures reports show, as plain values: what the live rows count and what a folded
//! report keeps once they are purged (see `folded` and `fold`).

use chrono::NaiveDateTime;

use crate::domain::broadcast::RecallCounts;

/// What a report counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CampaignCounts {
    pub targeted: i64,
    pub not_installed: i64,
    /// Pending at their first planned moment.
    pub planned: i64,
    pub delivered: i64,
    /// Absent so far, with a next attempt planned.
    pub waiting_for_presence: i64,
    pub next_attempt: Option<NaiveDateTime>,
    pub expired: i64,
    /// Failures by reason.
    pub failed: Vec<(String, i64)>,
    /// Chats opened again after they were gone (self-repair), over every send.
    #[serde(default)]
    pub repairs: i64,
    /// Recipients sent the campaign again by `campaign resend`, and how many of them got it.
    #[serde(default)]
    pub resent: i64,
    #[serde(default)]
    pub resent_delivered: i64,
    /// Members herald could not install the app for, by Graph's reason.
    #[serde(default)]
    pub not_installed_reasons: Vec<(String, i64)>,
}

/// What `broadcasts` and `broadcast info` count (and a folded report keeps).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BroadcastCounts {
    /// Installed recipients the card was sent to.
    pub targeted: i64,
    pub not_installed: i64,
    pub delivered: i64,
    pub pending: i64,
    /// Sends that failed (recipient gone, refused, retries exhausted).
    pub failed: i64,
    pub read_button: i64,
    pub read_receipt: i64,
    /// Recipients who replied at least once.
    pub repliers: i64,
    pub recall: RecallCounts,
    /// Chats opened again after they were gone (self-repair).
    #[serde(default)]
    pub repairs: i64,
    /// Recipients sent the card again by `broadcast resend`, and how many of them got it.
    #[serde(default)]
    pub resent: i64,
    #[serde(default)]
    pub resent_delivered: i64,
    /// Members herald could not install the app for, by Graph's reason.
    #[serde(default)]
    pub not_installed_reasons: Vec<(String, i64)>,
}

impl BroadcastCounts {
    pub fn read(&self) -> i64 {
        self.read_button + self.read_receipt
    }
}

/// Clicks on a report's links: people who clicked at least once, and clicks in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Engagement {
    pub people: i64,
    pub clicks: i64,
}

/// Counts of each reason, in the order of the reasons' names.
pub fn by_reason(reasons: impl IntoIterator<Item = String>) -> Vec<(String, i64)> {
    let mut counts = std::collections::BTreeMap::<String, i64>::new();
    for r in reasons {
        *counts.entry(r).or_default() += 1;
    }
    counts.into_iter().collect()
}
