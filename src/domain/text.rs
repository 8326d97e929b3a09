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

#[cfg(test)]
mod tests {
    use super::*;

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
