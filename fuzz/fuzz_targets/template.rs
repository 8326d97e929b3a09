#![no_main]
//! A campaign message personalised for a recipient, and a message's links marked and filled
//! again, as the engine does for campaigns and broadcasts.
//!
//! Input: the message, then optionally the given name, surname and display name, separated by
//! NUL characters.

use herald::domain::Lang;
use herald::domain::broadcast::{CardContent, broadcast_card};
use herald::domain::template::MessageTemplate;
use herald::domain::tracking::{fill_links, mark_links};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const MARKERS: [char; 2] = ['\u{E000}', '\u{E001}'];
const PLACEHOLDERS: [&str; 5] = ["[FIRSTNAME]", "[PRENOM]", "[PRÉNOM]", "[LASTNAME]", "[NOM]"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let message = parts.next().unwrap_or_default();
    // As the engine does: a name never carries link markers.
    let names: Vec<Option<String>> = (0..3)
        .map(|_| parts.next().map(|n| n.replace(MARKERS, "")))
        .collect();
    let (given, surname, display) = (
        names[0].as_deref(),
        names[1].as_deref(),
        names[2].as_deref(),
    );

    if let Ok(t) = MessageTemplate::parse(message) {
        t.render(given, surname, display)
            .expect("a parsed template renders for anyone");
        let named = t
            .render(Some("Ada"), Some("Lovelace"), None)
            .expect("a parsed template renders");
        // Every placeholder was filled, wherever it stood (brackets are compared as the
        // parser does, in upper case).
        let shown = named.to_uppercase();
        for p in PLACEHOLDERS {
            assert!(!shown.contains(p), "{message:?} rendered as {named:?}");
        }
        if !t.uses_names() {
            // Without placeholders the message is sent exactly as written.
            assert_eq!(named, message);
        }
        for word in &t.unknown_placeholders {
            assert!(message.contains(&format!("[{word}]")), "{word:?}");
        }
    }

    if message.contains(MARKERS) {
        return;
    }
    // Links: marked when stored, filled per recipient when sent.
    let (marked, links) = mark_links(message);
    for l in &links {
        let lower = l.to_ascii_lowercase();
        assert!(
            lower.starts_with("https://") || lower.starts_with("http://"),
            "{l}"
        );
    }
    let original = |i: usize| links[i].clone();
    assert_eq!(fill_links(&marked, links.len(), original), message);

    // A campaign: marking links first changes nothing in the personalised text.
    if let (Ok(plain), Ok(tracked)) = (
        MessageTemplate::parse(message),
        MessageTemplate::parse(&marked),
    ) {
        let expected = plain.render(given, surname, display).expect("renders");
        let sent = tracked.render(given, surname, display).expect("renders");
        assert_eq!(fill_links(&sent, links.len(), original), expected);
    }

    // A broadcast: the card is serialised with the markers in, then filled with tracked URLs.
    let card = broadcast_card(
        Lang::En,
        &CardContent {
            broadcast_id: "b1",
            subject: "Subject",
            body: &marked,
            sender: "Ada",
        },
        false,
    );
    let json = serde_json::to_string(&card).expect("a card serialises");
    let tracked = |i: usize| format!("https://herald.example.com/l/{i}");
    let filled: Value = serde_json::from_str(&fill_links(&json, links.len(), tracked))
        .expect("a filled card is still JSON");
    let shown = filled["attachments"][0]["content"]["body"][2]["text"]
        .as_str()
        .expect("the body's text block");
    assert_eq!(shown, fill_links(&marked, links.len(), tracked));
});
