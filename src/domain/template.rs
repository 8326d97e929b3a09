//! Personalised messages: `Bonjour [FIRSTNAME] [LASTNAME]`.
//!
//! Nothing the admin or the recipient typed is ever template syntax. The message is cut into
//! literal text and placeholders; handlebars (strict mode) renders a template made only of
//! variable references, and every piece of text, the admin's and the names, is data. Names are
//! escaped for Teams markdown, so `*`, `{{` or `<b>` in a name display exactly as written.

use std::collections::BTreeMap;

use handlebars::Handlebars;

use super::problem::Problem;
use super::text::escape_markdown;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    First,
    Last,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the message is empty")]
    Empty,
    #[error("the message could not be prepared: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the message could not be personalised: {0}")]
pub struct RenderError(String);

impl TemplateError {
    /// The error as a catalogue problem (`template-empty`, `template-invalid`).
    pub fn problem(&self) -> Problem {
        match self {
            TemplateError::Empty => Problem::new("template-empty"),
            TemplateError::Invalid(why) => {
                Problem::new("template-invalid").with("reason", why.as_str())
            }
        }
    }
}

impl RenderError {
    /// The error as a catalogue problem (`template-not-personalised`).
    pub fn problem(&self) -> Problem {
        Problem::new("template-not-personalised").with("reason", self.0.as_str())
    }
}

/// A message ready to personalise, and the bracketed words it did not recognise.
pub struct MessageTemplate {
    parts: Vec<Part>,
    registry: Handlebars<'static>,
    /// `[SOMETHING]` words that are not placeholders: warn the admin, send them as written.
    pub unknown_placeholders: Vec<String>,
}

const TEMPLATE: &str = "message";

impl MessageTemplate {
    pub fn parse(text: &str) -> Result<MessageTemplate, TemplateError> {
        if text.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut parts = Vec::new();
        let mut unknown = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('[') {
            let (before, after) = rest.split_at(open);
            literal.push_str(before);
            let Some(close) = after.find(']') else {
                literal.push_str(after);
                rest = "";
                break;
            };
            // A `[` left open before it is text: `]` closes the last one, as in
            // `[[FIRSTNAME]]` or the link `[Hi [FIRSTNAME]](https://…)`.
            let inner = after[..close].rfind('[').unwrap_or(0);
            literal.push_str(&after[..inner]);
            let (after, close) = (&after[inner..], close - inner);
            let word = &after[1..close];
            let placeholder = match word.to_uppercase().as_str() {
                "FIRSTNAME" | "PRENOM" | "PRÉNOM" => Some(Part::First),
                "LASTNAME" | "NOM" => Some(Part::Last),
                _ => None,
            };
            match placeholder {
                Some(p) => {
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(p);
                }
                None => {
                    let looks_like_one = !word.is_empty()
                        && word.len() <= 32
                        && word.chars().all(|c| c.is_alphabetic() || c == '_');
                    if looks_like_one && !unknown.iter().any(|u: &String| u == word) {
                        unknown.push(word.to_string());
                    }
                    literal.push_str(&after[..=close]);
                }
            }
            rest = &after[close + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        // The template references variables only: t0, t1, … for text, first and last.
        let source: String = parts
            .iter()
            .enumerate()
            .map(|(i, p)| match p {
                Part::Text(_) => format!("{{{{t{i}}}}}"),
                Part::First => "{{first}}".to_string(),
                Part::Last => "{{last}}".to_string(),
            })
            .collect();
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        // Markdown, not HTML: names are escaped for markdown before rendering.
        registry.register_escape_fn(handlebars::no_escape);
        registry
            .register_template_string(TEMPLATE, source)
            .map_err(|e| TemplateError::Invalid(e.to_string()))?;
        Ok(MessageTemplate {
            parts,
            registry,
            unknown_placeholders: unknown,
        })
    }

    /// The message as written, with the placeholders shown (for `campaign info`).
    pub fn uses_names(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Text(_)))
    }

    /// The message for one person. A missing given name falls back to the first word of the
    /// display name; a missing surname is left out.
    pub fn render(
        &self,
        given_name: Option<&str>,
        surname: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<String, RenderError> {
        let clean = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let first = clean(given_name)
            .or_else(|| {
                display_name
                    .and_then(|d| d.split_whitespace().next())
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let last = clean(surname).unwrap_or_default();
        let mut data: BTreeMap<String, String> = BTreeMap::new();
        data.insert("first".into(), escape_markdown(&first));
        data.insert("last".into(), escape_markdown(&last));
        for (i, p) in self.parts.iter().enumerate() {
            if let Part::Text(t) = p {
                // A missing name takes the space before it along: "Bonjour Ada," not "Ada ,".
                let next_is_missing = match self.parts.get(i + 1) {
                    Some(Part::First) => first.is_empty(),
                    Some(Part::Last) => last.is_empty(),
                    _ => false,
                };
                let text = if next_is_missing {
                    t.trim_end_matches(' ')
                } else {
                    t
                };
                data.insert(format!("t{i}"), text.to_string());
            }
        }
        self.registry
            .render(TEMPLATE, &data)
            .map_err(|e| RenderError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_from_the_profile() {
        let t = MessageTemplate::parse("Bonjour [FIRSTNAME] [LASTNAME], la réunion est à 10h.")
            .unwrap();
        assert!(t.unknown_placeholders.is_empty());
        assert_eq!(
            t.render(Some("Ada"), Some("Lovelace"), None).unwrap(),
            "Bonjour Ada Lovelace, la réunion est à 10h."
        );
        // No given name: the display name's first word.
        assert_eq!(
            t.render(None, Some("Hopper"), Some("Grace B. Hopper"))
                .unwrap(),
            "Bonjour Grace Hopper, la réunion est à 10h."
        );
        assert_eq!(
            t.render(Some("Ada"), None, None).unwrap(),
            "Bonjour Ada, la réunion est à 10h."
        );
    }

    #[test]
    fn names_are_data_never_markup() {
        let t = MessageTemplate::parse("Hello [FIRSTNAME] [LASTNAME]!").unwrap();
        let out = t
            .render(Some("{{first}}"), Some("*<b>x</b>*"), None)
            .unwrap();
        assert_eq!(out, "Hello \\{\\{first\\}\\} \\*&lt;b&gt;x&lt;/b&gt;\\*!");
        assert!(!out.contains("[FIRSTNAME]") && !out.contains("[LASTNAME]"));
    }

    #[test]
    fn the_admins_text_is_not_template_syntax_either() {
        let text =
            "Literal {{first}} and {{{x}}} and \\{{y}} and [link](https://example.com) [FIRSTNAME]";
        let t = MessageTemplate::parse(text).unwrap();
        let out = t.render(Some("Ada"), None, None).unwrap();
        assert_eq!(
            out,
            "Literal {{first}} and {{{x}}} and \\{{y}} and [link](https://example.com) Ada"
        );
    }

    #[test]
    fn unknown_bracketed_words_are_reported_once_and_kept() {
        let t =
            MessageTemplate::parse("Hi [FIRSTNAME], [COMPANY] says hi. [COMPANY]! [1] [").unwrap();
        assert_eq!(t.unknown_placeholders, vec!["COMPANY".to_string()]);
        assert_eq!(
            t.render(Some("Ada"), None, None).unwrap(),
            "Hi Ada, [COMPANY] says hi. [COMPANY]! [1] ["
        );
    }

    #[test]
    fn a_bracket_left_open_before_a_placeholder_does_not_hide_it() {
        // Found by the `template` fuzz target: the placeholder was sent as written.
        let t = MessageTemplate::parse("Bonj;ur [FIRAMEY[Prénom] [nom]ur [nomv]").unwrap();
        assert_eq!(
            t.render(Some("Ada"), Some("Lovelace"), None).unwrap(),
            "Bonj;ur [FIRAMEYAda Lovelaceur [nomv]"
        );
        let t =
            MessageTemplate::parse("[[FIRSTNAME]] and [Hi [LASTNAME]](https://x.example)").unwrap();
        assert_eq!(
            t.render(Some("Ada"), Some("Lovelace"), None).unwrap(),
            "[Ada] and [Hi Lovelace](https://x.example)"
        );
        assert!(t.unknown_placeholders.is_empty());
    }

    #[test]
    fn lowercase_and_french_placeholders() {
        let t = MessageTemplate::parse("Bonjour [prenom] [Nom]").unwrap();
        assert_eq!(
            t.render(Some("Zoë"), Some("Ærø"), None).unwrap(),
            "Bonjour Zoë Ærø"
        );
        assert!(matches!(
            MessageTemplate::parse("   "),
            Err(TemplateError::Empty)
        ));
    }

    proptest::proptest! {
        /// A message with no bracket is sent exactly as written, to anyone.
        #[test]
        fn a_message_without_brackets_is_sent_as_written(
            text in "(?s)[^\\[]{1,200}",
            given in proptest::option::of("(?s).{0,20}"),
            surname in proptest::option::of("(?s).{0,20}"),
        ) {
            proptest::prop_assume!(!text.trim().is_empty());
            let t = MessageTemplate::parse(&text).unwrap();
            proptest::prop_assert!(!t.uses_names());
            let sent = t.render(given.as_deref(), surname.as_deref(), None).unwrap();
            proptest::prop_assert_eq!(sent, text);
        }

        /// Whatever a given name holds, it is shown escaped, never read as markup.
        #[test]
        fn any_given_name_is_shown_escaped(given in "(?s).{0,40}") {
            let t = MessageTemplate::parse("Hi [FIRSTNAME]!").unwrap();
            let expected = match given.trim() {
                "" => "Hi!".to_string(),
                name => format!("Hi {}!", escape_markdown(name)),
            };
            proptest::prop_assert_eq!(t.render(Some(&given), None, None).unwrap(), expected);
        }
    }
}
