//! How much a message weighs once sent, so that one Teams would refuse is refused at create
//! time with a clear error, instead of failing with a permanent 413 (`MessageSizeTooBig`) for
//! every recipient.
//!
//! Teams counts the whole activity, JSON and all, encoded as UTF-16 (2 bytes per character,
//! 4 for one outside the Basic Multilingual Plane). Its documented limit has moved between
//! revisions (about 28 KB, then 40 KB, now 100 KB with 80 KB advised); herald keeps under the
//! lowest, [`LIMIT`], so a message accepted here is accepted by every revision.
//!
//! The weight is the worst case over recipients: each `[FIRSTNAME]`/`[LASTNAME]` filled with
//! the longest name Entra allows made of the character that grows most when escaped, each
//! link replaced by the longer of itself and its tracked URL (`{public_url}/l/{token}`, the
//! token of fixed length), and room kept for the addressing added at send time.

use serde_json::json;

use super::template::MessageTemplate;
use super::tracking::{fill_links, mark_links};

/// Most bytes (as Teams counts them) a whole message activity may weigh: 28 KB.
pub const LIMIT: usize = 28 * 1024;

/// Kept for what is added around the text at send time: the bot, the recipient (ids and
/// display name) and the conversation id. Teams' ids are under 200 characters; a display name
/// at most 256.
pub const ADDRESSING: usize = 2 * 1024;

/// Characters of a link token (`Signer::link_token`: 34 bytes in unpadded base64).
const LINK_TOKEN_CHARS: usize = 46;

/// A name as long as a placeholder can be, each character the one that grows most once escaped
/// for markdown (`&` becomes `&amp;`): a given name or surname has at most 64 characters, but a
/// missing given name falls back to the first word of the display name, which may have 256.
fn worst_name() -> String {
    "&".repeat(256)
}

/// Most bytes a relayed reply or answer may weigh once escaped to show as written, leaving the
/// rest of [`LIMIT`] to its card (names, broadcast subject, actions) and the addressing.
pub const RELAYED_MAX: usize = LIMIT - 8 * 1024;

/// What a relayed reply or answer weighs in its card, escaped to show exactly as typed.
pub fn relayed_text(text: &str) -> usize {
    counted(&super::text::escape_text(text))
}

/// Bytes of `text` as Teams counts them (UTF-16).
pub fn counted(text: &str) -> usize {
    text.encode_utf16().count() * 2
}

/// `text` (its links already marked) with each marker replaced by the longer of the link
/// and its tracked URL under `public_url`.
pub fn longest_links(marked: &str, links: &[String], public_url: Option<&str>) -> String {
    let tracked = public_url.map(|u| {
        format!(
            "{}/l/{}",
            u.trim_end_matches('/'),
            "A".repeat(LINK_TOKEN_CHARS)
        )
    });
    fill_links(marked, links.len(), |i| match &tracked {
        Some(t) if t.len() > links[i].len() => t.clone(),
        _ => links[i].clone(),
    })
}

/// What a campaign message weighs at most once sent: personalised (as the engine does: links
/// marked, names filled, links put back), serialised, addressed.
pub fn campaign_message(message: &str, public_url: Option<&str>) -> usize {
    let (marked, links) = mark_links(message);
    let worst = worst_name();
    let personal = MessageTemplate::parse(&marked)
        .ok()
        .and_then(|t| t.render(Some(&worst), Some(&worst), None).ok())
        .unwrap_or(marked);
    let text = longest_links(&personal, &links, public_url);
    let activity = json!({"type": "message", "textFormat": "markdown", "text": text});
    counted(&activity.to_string()) + ADDRESSING
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_counts_two_bytes_a_character_and_four_beyond_the_bmp() {
        assert_eq!(counted("abc"), 6);
        assert_eq!(counted("é"), 2);
        assert_eq!(counted("😀"), 4);
    }

    #[test]
    fn a_campaign_weighs_its_text_its_names_its_links_and_the_envelope() {
        let plain = campaign_message("Hello", None);
        let base = campaign_message("", None);
        assert!(base > ADDRESSING && base < ADDRESSING + 200, "{base}");
        assert_eq!(plain, base + counted("Hello"));
        // Each placeholder counts as the longest escaped name.
        let named = campaign_message("Hello [FIRSTNAME] [LASTNAME]", None);
        assert_eq!(
            named,
            base + counted("Hello  ") + 2 * counted(&"&amp;".repeat(256))
        );
        // JSON escaping counts: a quote is two characters.
        assert_eq!(campaign_message("\"", None), base + counted("\\\""));
        // A short link counts as its tracked URL; a long one as itself.
        let short = "https://a.io";
        let tracked = campaign_message(short, Some("https://herald.example.com/"));
        let url_len = "https://herald.example.com/l/".len() + LINK_TOKEN_CHARS;
        assert_eq!(tracked, base + 2 * url_len);
        assert_eq!(campaign_message(short, None), base + counted(short));
        let long = format!("https://a.io/{}", "p".repeat(200));
        assert_eq!(
            campaign_message(&long, Some("https://herald.example.com")),
            base + counted(&long)
        );
    }

    #[test]
    fn a_broadcast_weighs_its_heaviest_card() {
        let words = crate::domain::broadcast::CardWords {
            from: "From Mallory".into(),
            read: "Read".into(),
            mark_read: "Mark as read".into(),
            reply: "Reply".into(),
            reply_placeholder: "Your reply to the sender".into(),
            send: "Send".into(),
            ..Default::default()
        };
        let cards = |c: &crate::domain::broadcast::CardContent<'_>| {
            [false, true]
                .map(|read| {
                    let state = crate::domain::broadcast::CardState::read(read);
                    crate::domain::broadcast::broadcast_card(&words, c, &state)
                })
                .to_vec()
        };
        let none = crate::domain::engagement::BroadcastOptions::default();
        let light = crate::domain::broadcast::weight("Subject", "Body", &none, None, &cards);
        let heavy =
            crate::domain::broadcast::weight("Subject", &"x".repeat(1000), &none, None, &cards);
        assert_eq!(heavy - light, 2 * (1000 - "Body".len()));
        assert!(light > ADDRESSING + 1000, "{light}");
        assert!(light < LIMIT / 4, "{light}");
    }

    #[test]
    fn a_relayed_reply_of_the_longest_allowed_length_can_still_be_too_heavy() {
        let plain = "a".repeat(super::super::broadcast::REPLY_MAX);
        assert!(relayed_text(&plain) <= RELAYED_MAX);
        let angles = "<".repeat(super::super::broadcast::REPLY_MAX);
        assert!(
            relayed_text(&angles) > RELAYED_MAX,
            "4,000 `<` become 16,000 characters"
        );
    }
}
