//! The cards of a broadcast, worded from the catalogue in their reader's language: the card a
//! recipient gets, a reply relayed to the sender, an answer relayed back.

use serde_json::Value;

use crate::domain::Lang;
use crate::domain::broadcast::{self as domain, CardContent, CardState, CardWords, RelayWords};
use crate::t;

/// The card a recipient reading `lang` gets, as it shows in `state`.
pub fn broadcast_card(lang: Lang, c: &CardContent<'_>, state: &CardState) -> Value {
    let chosen = state
        .chosen
        .and_then(|i| c.choices.get(i))
        .map(|choice| t!(lang, "broadcast-card-chosen", choice = choice.as_str()))
        .unwrap_or_default();
    let acked = state
        .acked_at
        .as_deref()
        .map(|at| t!(lang, "broadcast-card-acked", at = at))
        .unwrap_or_default();
    let words = CardWords {
        from: t!(lang, "broadcast-card-from", sender = c.sender),
        read: t!(lang, "broadcast-card-read"),
        mark_read: t!(lang, "broadcast-card-mark-read"),
        reply: t!(lang, "broadcast-card-reply"),
        reply_placeholder: t!(lang, "broadcast-card-reply-placeholder"),
        send: t!(lang, "broadcast-card-send"),
        ack: t!(lang, "broadcast-card-ack"),
        acked,
        reminder: t!(lang, "broadcast-card-reminder", subject = c.subject),
        chosen,
    };
    domain::broadcast_card(&words, c, state)
}

/// Every card `c` can be sent or shown as: in each language, unread and read, as a reminder,
/// acknowledged, and with its longest choice chosen.
pub fn every_card(c: &CardContent<'_>) -> Vec<Value> {
    let longest = (0..c.choices.len()).max_by_key(|i| c.choices[*i].chars().count());
    let states = [
        CardState::read(false),
        CardState::read(true),
        CardState {
            reminder: true,
            ..CardState::default()
        },
        CardState {
            read: true,
            acked_at: Some("2026-12-31 23:59 CEST".into()),
            chosen: longest,
            ..CardState::default()
        },
    ];
    [Lang::En, Lang::Fr]
        .into_iter()
        .flat_map(|lang| states.iter().map(move |s| broadcast_card(lang, c, s)))
        .collect()
}

/// A recipient's reply, shown to the broadcast's sender with a box to answer.
pub struct RelayedReply<'a> {
    pub thread_id: &'a str,
    /// Their name, escaped for markdown.
    pub replier: &'a str,
    pub number: i32,
    pub subject: &'a str,
    pub text: &'a str,
}

pub fn reply_card(lang: Lang, r: &RelayedReply<'_>) -> Value {
    let words = RelayWords {
        head: t!(
            lang,
            "broadcast-reply-card-head",
            replier = r.replier,
            number = r.number,
            subject = r.subject,
        ),
        summary: t!(lang, "broadcast-reply-card-summary", replier = r.replier),
        title: t!(lang, "broadcast-reply-card-answer"),
        placeholder: t!(
            lang,
            "broadcast-reply-card-placeholder",
            replier = r.replier
        ),
        send: t!(lang, "broadcast-card-send"),
    };
    domain::reply_card(&words, r.thread_id, r.text)
}

/// The sender's answer, shown to the recipient with a box to reply again.
pub struct RelayedAnswer<'a> {
    pub broadcast_id: &'a str,
    /// Their name, escaped for markdown.
    pub sender: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
}

pub fn answer_card(lang: Lang, a: &RelayedAnswer<'_>) -> Value {
    let words = RelayWords {
        head: t!(
            lang,
            "broadcast-answer-card-head",
            sender = a.sender,
            subject = a.subject,
        ),
        summary: t!(lang, "broadcast-answer-card-summary", sender = a.sender),
        title: t!(lang, "broadcast-card-reply"),
        placeholder: t!(lang, "broadcast-card-reply-placeholder"),
        send: t!(lang, "broadcast-card-send"),
    };
    domain::answer_card(&words, a.broadcast_id, a.text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::broadcast::action;

    #[test]
    fn the_card_has_the_subject_as_summary_and_two_actions() {
        let c = CardContent {
            broadcast_id: "b1",
            subject: "Office closed",
            body: "Tomorrow.",
            sender: "Alice",
            ack: false,
            choices: &[],
        };
        let a = broadcast_card(Lang::En, &c, &CardState::read(false));
        assert_eq!(a["summary"], "Office closed");
        let actions = &a["attachments"][0]["content"]["actions"];
        assert_eq!(actions[0]["title"], "Mark as read");
        assert_eq!(actions[0]["data"]["herald"], action::READ);
        assert_eq!(actions[1]["title"], "Reply");
        assert_eq!(
            actions[1]["card"]["actions"][0]["data"]["herald"],
            action::REPLY
        );
        let read = broadcast_card(Lang::Fr, &c, &CardState::read(true));
        let actions = read["attachments"][0]["content"]["actions"]
            .as_array()
            .unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0]["title"], "Répondre");
    }

    #[test]
    fn relayed_cards_say_who_and_what_in_their_readers_language() {
        let r = RelayedReply {
            thread_id: "t1",
            replier: "Bob",
            number: 3,
            subject: "Office closed",
            text: "Thanks",
        };
        let card = reply_card(Lang::Fr, &r);
        assert_eq!(card["summary"], "Réponse de Bob");
        let body = &card["attachments"][0]["content"]["body"];
        assert_eq!(
            body[0]["text"],
            "**Bob** a répondu à la diffusion #3 « Office closed » :"
        );
        let a = answer_card(
            Lang::En,
            &RelayedAnswer {
                broadcast_id: "b1",
                sender: "Alice",
                subject: "Office closed",
                text: "You're welcome",
            },
        );
        assert_eq!(a["summary"], "Answer from Alice");
        let body = &a["attachments"][0]["content"]["body"];
        assert_eq!(
            body[0]["text"],
            "**Alice** answered you about \"Office closed\":"
        );
    }
}
