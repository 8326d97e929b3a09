//! The live progress card: what it shows of a send under way (delivered, failed, waiting, a bar,
//! the expected end) and when it may change. Pure: the figures come from the store, the words
//! from the catalogue, the card goes out through the engine.
//!
//! Cadence: a card changes at most once every [`MIN_GAP`] (Teams counts an update against the
//! chat's limits like a send, and a card that flickers helps nobody) and, while its send is under
//! way, at least every [`MAX_GAP`]: the job that updates it looks every second and takes a card
//! [`MIN_GAP`] after its last change, so the next change comes between the two.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Least time between two states of one card (the initial post counts as one). One second more
/// than the ten the product promises: the update's request may reach Teams a little after the
/// moment it was taken.
pub const MIN_GAP: TimeDelta = TimeDelta::seconds(11);
/// Most time between two states of a card whose send is under way.
pub const MAX_GAP: TimeDelta = TimeDelta::seconds(15);

/// The bar's element id: tells a progress card from other cards.
pub const BAR_ID: &str = "herald-progress-bar";

/// What a card follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Broadcast,
    Campaign,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Broadcast => "broadcast",
            Subject::Campaign => "campaign",
        }
    }

    pub fn parse(s: &str) -> Option<Subject> {
        match s {
            "broadcast" => Some(Subject::Broadcast),
            "campaign" => Some(Subject::Campaign),
            _ => None,
        }
    }
}

/// The figures a card shows: every recipient it counts is delivered, failed or waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub delivered: i64,
    /// Ended without the message: failed, expired, not sent.
    pub failed: i64,
    /// Not yet final (due now, planned later, waiting for presence).
    pub waiting: i64,
}

impl Figures {
    pub fn total(&self) -> i64 {
        self.delivered + self.failed + self.waiting
    }

    /// Whether every recipient has their outcome: the final state.
    pub fn finished(&self) -> bool {
        self.waiting == 0
    }

    /// Share of recipients with their outcome, in whole percent (rounded down: 100 only when
    /// finished).
    pub fn percent_done(&self) -> i64 {
        let total = self.total();
        if total == 0 {
            return 100;
        }
        (self.delivered + self.failed) * 100 / total
    }
}

/// What to do with a card whose time has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Show these figures; `last`: they are final, the card is done.
    Update { last: bool },
    /// Nothing changed and nothing is being sent: look again after [`MIN_GAP`].
    Wait,
}

/// Whether a card due now changes. A finished send shows its final state; a send under way
/// (`sending`: something is going out now) is shown even unchanged (its expected end moves);
/// an idle one (a campaign between its planned moments) only when its figures changed.
pub fn step(now: &Figures, shown: Option<&Figures>, sending: bool) -> Step {
    if now.finished() {
        Step::Update { last: true }
    } else if sending || shown != Some(now) {
        Step::Update { last: false }
    } else {
        Step::Wait
    }
}

/// When what is waiting should be done: at the tenant's pace (`rps` sends a second) from `now`,
/// and not before the last moment already planned (a campaign's spread, a retry).
pub fn expected_end(
    now: DateTime<Utc>,
    waiting: i64,
    rps: u32,
    last_planned: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let rps = i64::from(rps.max(1));
    // Rounded up to the second: 1 left at 50/s still takes a moment.
    let at_pace = now + TimeDelta::seconds((waiting.max(0) + rps - 1) / rps);
    last_planned.map_or(at_pace, |p| p.max(at_pace))
}

/// The card's words, from the catalogue in its reader's language.
#[derive(Debug, Clone, Default)]
pub struct Words {
    pub delivered: String,
    pub failed: String,
    pub waiting: String,
    /// "62% done", "Finished".
    pub status: String,
    /// "Expected end: …" or "Finished at …".
    pub timing: String,
    /// "Updated at …".
    pub updated: String,
}

/// The progress card: `intro` (the confirmation's paragraphs), the figures, a bar drawn as
/// columns whose widths are the shares of delivered, failed and waiting, the status and timing.
pub fn card(intro: &[String], f: &Figures, w: &Words) -> Value {
    let mut body: Vec<Value> = intro
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let mut block = json!({"type": "TextBlock", "text": text, "wrap": true});
            if i == 0 {
                block["weight"] = json!("Bolder");
            }
            block
        })
        .collect();
    let total = f.total();
    body.push(json!({
        "type": "FactSet",
        "facts": [
            {"title": w.delivered, "value": format!("{} / {total}", f.delivered)},
            {"title": w.failed, "value": f.failed.to_string()},
            {"title": w.waiting, "value": f.waiting.to_string()},
        ],
    }));
    body.push(bar(f));
    body.push(json!({"type": "TextBlock", "text": w.status, "wrap": true, "weight": "Bolder"}));
    body.push(json!({"type": "TextBlock", "text": w.timing, "wrap": true}));
    body.push(json!({
        "type": "TextBlock", "text": w.updated, "wrap": true, "isSubtle": true, "size": "Small",
    }));
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
    })
}

/// The bar: one column per non-empty share, its width weighted by the count (Adaptive Cards
/// share the row among weighted columns in proportion), coloured by container style.
fn bar(f: &Figures) -> Value {
    let columns: Vec<Value> = [
        (f.delivered, "good"),
        (f.failed, "attention"),
        (f.waiting, "emphasis"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, style)| {
        json!({
            "type": "Column",
            "width": n.to_string(),
            "style": style,
            "minHeight": "12px",
            "items": [],
        })
    })
    .collect();
    json!({"type": "ColumnSet", "id": BAR_ID, "spacing": "Small", "columns": columns})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_finished_send_shows_its_final_state_whatever_was_shown() {
        let done = Figures {
            delivered: 3,
            failed: 1,
            waiting: 0,
        };
        assert_eq!(step(&done, Some(&done), false), Step::Update { last: true });
        assert_eq!(step(&done, None, true), Step::Update { last: true });
    }

    #[test]
    fn a_send_under_way_is_shown_even_unchanged_and_an_idle_one_only_when_it_changed() {
        let f = Figures {
            delivered: 1,
            failed: 0,
            waiting: 9,
        };
        assert_eq!(step(&f, Some(&f), true), Step::Update { last: false });
        assert_eq!(step(&f, Some(&f), false), Step::Wait);
        let before = Figures { delivered: 0, ..f };
        assert_eq!(step(&f, Some(&before), false), Step::Update { last: false });
        assert_eq!(step(&f, None, false), Step::Update { last: false });
    }

    #[test]
    fn the_expected_end_is_what_is_left_at_the_tenants_pace_or_the_last_planned_moment() {
        let now = at("2026-12-01T09:00:00Z");
        assert_eq!(
            expected_end(now, 2000, 50, None),
            at("2026-12-01T09:00:40Z")
        );
        assert_eq!(expected_end(now, 1, 50, None), at("2026-12-01T09:00:01Z"));
        assert_eq!(expected_end(now, 0, 50, None), now);
        // A zero pace is taken as one a second rather than never.
        assert_eq!(expected_end(now, 5, 0, None), at("2026-12-01T09:00:05Z"));
        let planned = at("2026-12-01T11:00:00Z");
        assert_eq!(expected_end(now, 10, 50, Some(planned)), planned);
        assert_eq!(
            expected_end(now, 2000, 50, Some(at("2026-12-01T08:00:00Z"))),
            at("2026-12-01T09:00:40Z")
        );
    }

    #[test]
    fn the_bar_is_proportional_and_has_no_empty_column() {
        let f = Figures {
            delivered: 1500,
            failed: 20,
            waiting: 480,
        };
        assert_eq!(f.total(), 2000);
        assert_eq!(f.percent_done(), 76);
        let card = card(&["**#1**".into()], &f, &Words::default());
        let columns = card["body"][2]["columns"].as_array().unwrap().clone();
        let widths: Vec<&str> = columns
            .iter()
            .map(|c| c["width"].as_str().unwrap())
            .collect();
        assert_eq!(widths, ["1500", "20", "480"]);
        let done = Figures {
            delivered: 2,
            failed: 0,
            waiting: 0,
        };
        assert_eq!(done.percent_done(), 100);
        let card = super::card(&[], &done, &Words::default());
        assert_eq!(card["body"][1]["columns"].as_array().unwrap().len(), 1);
        assert_eq!(card["body"][0]["facts"][0]["value"], "2 / 2");
    }

    #[test]
    fn almost_done_is_not_shown_as_done() {
        let f = Figures {
            delivered: 1999,
            failed: 0,
            waiting: 1,
        };
        assert_eq!(f.percent_done(), 99);
        assert!(!f.finished());
    }

    #[test]
    fn subjects_read_back() {
        for s in [Subject::Broadcast, Subject::Campaign] {
            assert_eq!(Subject::parse(s.as_str()), Some(s));
        }
        assert_eq!(Subject::parse("list"), None);
    }
}
