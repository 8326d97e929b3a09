//! Broadcasts, the pure part: what `broadcast <list|all>` says, the cards recipients and
//! senders get (in their language), and how a read receipt covers a message.

use super::commands::FieldError;
use super::problem::Problem;

/// What the buttons of herald's cards send back as `value.herald`.
pub mod action {
    /// **Mark as read** on a broadcast card.
    pub const READ: &str = "broadcast-read";
    /// **Reply** on a broadcast card, or on an answer relayed from the sender.
    pub const REPLY: &str = "broadcast-reply";
    /// **Answer** on a reply relayed to the sender.
    pub const ANSWER: &str = "relay-answer";
    /// The broadcast form.
    pub const FORM: &str = "broadcast-form";
    /// **I have read and understood** (an `Action.Execute`, verb [`ACK_VERB`]).
    pub const ACK: &str = "broadcast-ack";
    /// A poll's choice (an `Action.Execute`, verb [`CHOOSE_VERB`]; `choice` is its index).
    pub const CHOOSE: &str = "broadcast-choice";
    /// The verbs of those `Action.Execute`s.
    pub const ACK_VERB: &str = "ack";
    pub const CHOOSE_VERB: &str = "choose";
}

/// The input every reply box uses.
pub const TEXT_INPUT: &str = "text";

/// Longest subject (characters): it is the notification's text too.
pub const SUBJECT_MAX: usize = 200;
/// Longest body (characters); a card stays well under Teams' 28 KB message limit.
pub const BODY_MAX: usize = 10_000;
/// Longest reply or answer relayed (characters).
pub const REPLY_MAX: usize = 4_000;

/// Who a broadcast goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Everyone who installed herald in the tenant.
    All,
    List(String),
}

impl Audience {
    pub fn parse(word: &str) -> Audience {
        match word.trim().to_lowercase().as_str() {
            "all" | "everyone" | "tous" | "tout" | "toutes" => Audience::All,
            _ => Audience::List(word.trim().to_string()),
        }
    }
}

/// A broadcast's subject and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastText {
    pub subject: String,
    pub body: String,
}

const SUBJECT_EXAMPLE: &str = "subject: The office is closed tomorrow";
const BODY_EXAMPLE: &str = "a line under the subject: Please work from home.";

fn subject_key(key: &str) -> bool {
    matches!(key, "subject" | "sujet" | "objet")
}

fn body_key(key: &str) -> bool {
    matches!(key, "body" | "message" | "corps" | "texte" | "text")
}

/// Reads the lines after `broadcast <list|all>`: a `subject:` line (`sujet:`), then the body,
/// everything below it (an optional `body:` / `corps:` key on its first line is dropped).
pub fn parse_text(text: &str) -> Result<BroadcastText, Vec<FieldError>> {
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let mut errors = Vec::new();
    let subject = match lines.next().and_then(|l| l.split_once(':')) {
        Some((key, value)) if subject_key(&key.trim().to_lowercase()) => value.trim().to_string(),
        _ => {
            errors.push(FieldError {
                field: "subject",
                problem: Problem::new("field-subject-first"),
                example: SUBJECT_EXAMPLE,
            });
            String::new()
        }
    };
    let mut body: Vec<&str> = lines.collect();
    if let Some(first) = body.iter().position(|l| !l.trim().is_empty()) {
        body.drain(..first);
        if let Some((key, value)) = body[0].split_once(':')
            && body_key(&key.trim().to_lowercase())
        {
            body[0] = value;
        }
    }
    let body = body.join("\n").trim().to_string();
    check(&subject, &body, &mut errors);
    if errors.is_empty() {
        Ok(BroadcastText { subject, body })
    } else {
        Err(errors)
    }
}

/// Checks a subject and body (typed, or from the form).
pub fn check_text(subject: &str, body: &str) -> Result<BroadcastText, Vec<FieldError>> {
    let (subject, body) = (subject.trim(), body.trim());
    let mut errors = Vec::new();
    check(subject, body, &mut errors);
    if errors.is_empty() {
        Ok(BroadcastText {
            subject: subject.to_string(),
            body: body.to_string(),
        })
    } else {
        Err(errors)
    }
}

fn check(subject: &str, body: &str, errors: &mut Vec<FieldError>) {
    let has_subject_error = errors.iter().any(|e| e.field == "subject");
    if subject.is_empty() && !has_subject_error {
        errors.push(FieldError {
            field: "subject",
            problem: Problem::new("field-empty"),
            example: SUBJECT_EXAMPLE,
        });
    }
    if subject.contains('\n') {
        errors.push(FieldError {
            field: "subject",
            problem: Problem::new("field-one-line"),
            example: SUBJECT_EXAMPLE,
        });
    }
    let n = subject.chars().count();
    if n > SUBJECT_MAX {
        errors.push(FieldError {
            field: "subject",
            problem: Problem::new("field-too-long")
                .with_number("length", n as i64)
                .with_number("max", SUBJECT_MAX as i64),
            example: SUBJECT_EXAMPLE,
        });
    }
    if body.is_empty() {
        errors.push(FieldError {
            field: "body",
            problem: Problem::new("field-empty"),
            example: BODY_EXAMPLE,
        });
    }
    let n = body.chars().count();
    if n > BODY_MAX {
        errors.push(FieldError {
            field: "body",
            problem: Problem::new("field-too-long")
                .with_number("length", n as i64)
                .with_number("max", BODY_MAX as i64),
            example: BODY_EXAMPLE,
        });
    }
}

/// `3` or `#3`: the number admins see.
pub fn parse_number(text: &str) -> Option<i32> {
    text.trim()
        .trim_start_matches('#')
        .parse()
        .ok()
        .filter(|n| *n > 0)
}

/// Whether a read receipt up to `last_read` covers the message `activity_id`. Teams numbers
/// a chat's messages with increasing integers (milliseconds), so the comparison is numeric;
/// an id that is not a number is covered only by itself.
pub fn receipt_covers(activity_id: &str, last_read: &str) -> bool {
    let (a, l) = (activity_id.trim(), last_read.trim());
    match (a.parse::<u128>(), l.parse::<u128>()) {
        (Ok(a), Ok(l)) => a <= l,
        _ => a == l,
    }
}

mod card;

pub use card::*;

/// What a recall came to, per recipient chat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecallCounts {
    /// Deleted from the chat.
    pub removed: i64,
    /// The delete was refused or ran out of retries: the message may still be there.
    pub failed: i64,
    /// Never reached the chat (stopped before it was sent, or its send had failed).
    pub not_sent: i64,
    /// Deletes still to do.
    pub pending: i64,
}

/// Whether `text` can be relayed as a reply or an answer: not empty, not too long, and
/// still fitting in a Teams card once shown as written.
pub fn check_reply(text: &str) -> Result<(), Problem> {
    let n = text.chars().count();
    if text.trim().is_empty() {
        Err(Problem::new("broadcast-reply-empty"))
    } else if n > REPLY_MAX {
        Err(Problem::new("broadcast-reply-too-long")
            .with_number("count", n as i64)
            .with_number("max", REPLY_MAX as i64))
    } else if super::size::relayed_text(text) > super::size::RELAYED_MAX {
        // Shown as written, `<`, `&` and line breaks grow: the card must still fit in Teams.
        Err(Problem::new("broadcast-reply-too-heavy"))
    } else {
        Ok(())
    }
}

/// What a broadcast weighs at most once sent: its card (in either language, read or not)
/// with the body's links at their longest and a sender name as long as Entra allows. `cards`
/// renders every card a content can be sent as (each language, read or not).
pub fn weight(
    subject: &str,
    body: &str,
    options: &super::engagement::BroadcastOptions,
    public_url: Option<&str>,
    cards: &dyn Fn(&CardContent<'_>) -> Vec<serde_json::Value>,
) -> usize {
    let (marked, links) = super::tracking::mark_links(body);
    let body = super::size::longest_links(&marked, &links, public_url);
    let sender = "M".repeat(256);
    let id = "0".repeat(36);
    let content = CardContent {
        broadcast_id: &id,
        subject,
        body: &body,
        sender: &sender,
        ack: options.ack,
        choices: &options.choices,
    };
    let heaviest = cards(&content)
        .into_iter()
        .map(|card| super::size::counted(&card.to_string()))
        .max()
        .unwrap_or(0);
    heaviest + super::size::ADDRESSING
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_then_body_in_both_languages() {
        let t =
            parse_text("subject: Office closed\nThe office is closed.\nSee you Monday.").unwrap();
        assert_eq!(t.subject, "Office closed");
        assert_eq!(t.body, "The office is closed.\nSee you Monday.");
        let t = parse_text("\nSujet : Bureau fermé\n\ncorps: Le bureau est fermé.").unwrap();
        assert_eq!(t.subject, "Bureau fermé");
        assert_eq!(t.body, "Le bureau est fermé.");
        // A colon inside the body is just text.
        let t = parse_text("objet: A\nNote: bring your badge").unwrap();
        assert_eq!(t.body, "Note: bring your badge");
    }

    #[test]
    fn every_mistake_is_named() {
        let e = parse_text("Office closed\nbody").unwrap_err();
        assert_eq!(e[0].field, "subject");
        assert!(
            e[0].to_string().contains("for example `subject:"),
            "{}",
            e[0]
        );
        let e = parse_text("subject: Hi").unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "body");
        let e = parse_text("subject:   \n").unwrap_err();
        assert_eq!(
            e.iter().map(|e| e.field).collect::<Vec<_>>(),
            ["subject", "body"]
        );
        let long = "x".repeat(SUBJECT_MAX + 1);
        let e = check_text(&long, &"y".repeat(BODY_MAX + 1)).unwrap_err();
        assert_eq!(
            e[0].problem,
            Problem::new("field-too-long")
                .with_number("length", 201)
                .with_number("max", SUBJECT_MAX as i64),
            "{}",
            e[0]
        );
        assert_eq!(e[1].field, "body");
    }

    #[test]
    fn audiences_and_numbers() {
        assert_eq!(Audience::parse("ALL"), Audience::All);
        assert_eq!(Audience::parse("tous"), Audience::All);
        assert_eq!(
            Audience::parse("all-staff"),
            Audience::List("all-staff".into())
        );
        assert_eq!(parse_number("#12"), Some(12));
        assert_eq!(parse_number("3"), Some(3));
        assert_eq!(parse_number("0"), None);
        assert_eq!(parse_number("abc"), None);
    }

    #[test]
    fn receipts_compare_ids_as_numbers() {
        assert!(receipt_covers("1616564946331", "1616564946331"));
        assert!(receipt_covers("999", "1000"));
        assert!(!receipt_covers("1001", "1000"));
        assert!(receipt_covers("1:abc", "1:abc"));
        assert!(!receipt_covers("1:abc", "1:abd"));
        assert!(!receipt_covers("abc", "1000"));
    }
}
