//! Making user-supplied text (names) display literally inside Teams markdown.

/// Escapes markdown and HTML so `s` shows exactly as typed in a markdown message.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '*' | '_' | '`' | '[' | ']' | '(' | ')' | '#' | '~' | '|' | '{' | '}' | '!' => {
                out.push('\\');
                out.push(ch);
            }
            // A line break would let a name start a list or heading.
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// Escapes a text of several lines (a relayed reply) so it shows exactly as typed in a
/// markdown card: each line escaped as [`escape_markdown`] does, a line starting like a list
/// item or a rule (`-`, `+`, `=`, `1.`) escaped too, and each line its own paragraph (markdown
/// joins lines separated by a single line break).
pub fn escape_text(s: &str) -> String {
    let lines: Vec<String> = s
        .split('\n')
        .map(|line| {
            // `!` needs no escape once `[` has one (it only starts an image before `[`).
            let escaped = escape_markdown(line.trim_end_matches('\r')).replace("\\!", "!");
            let indent = escaped.len() - escaped.trim_start().len();
            let (lead, rest) = escaped.split_at(indent);
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if rest.starts_with(['-', '+', '=']) {
                format!("{lead}\\{rest}")
            } else if digits > 0 && rest[digits..].starts_with('.') {
                format!("{lead}{}\\{}", &rest[..digits], &rest[digits..])
            } else {
                escaped
            }
        })
        .collect();
    lines.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relayed_text_shows_as_written_line_by_line() {
        assert_eq!(
            escape_text("[x](https://evil) **b** <at>Boss</at>"),
            "\\[x\\]\\(https://evil\\) \\*\\*b\\*\\* &lt;at&gt;Boss&lt;/at&gt;"
        );
        assert_eq!(
            escape_text("Hi!\r\n- one\n 2. two\n---\n=\nok 3."),
            "Hi!\n\n\\- one\n\n 2\\. two\n\n\\---\n\n\\=\n\nok 3."
        );
    }

    #[test]
    fn a_relayed_reply_shows_as_written_in_the_senders_card() {
        let text = "[x](https://evil) **urgent** <at>Boss</at>";
        use crate::domain::broadcast::{RelayWords, reply_card};
        let words = RelayWords {
            head: "**Ada** replied to broadcast #1 \"S\":".into(),
            ..RelayWords::default()
        };
        let card = &reply_card(&words, "t", text)["attachments"][0]["content"]["body"][1];
        let shown = card["items"][0]["text"].as_str().unwrap();
        assert_eq!(shown, escape_text(text));
        assert!(!shown.contains("](") && !shown.contains("**") && !shown.contains("<at>"));
    }

    #[test]
    fn markup_is_neutralised() {
        assert_eq!(escape_markdown("Ada"), "Ada");
        assert_eq!(escape_markdown("**x**"), "\\*\\*x\\*\\*");
        assert_eq!(escape_markdown("<b>x</b>"), "&lt;b&gt;x&lt;/b&gt;");
        assert_eq!(escape_markdown("{{x}}"), "\\{\\{x\\}\\}");
        assert_eq!(escape_markdown("a\n# b"), "a \\# b");
        assert_eq!(escape_markdown("Zoë"), "Zoë");
    }
}
