//! Every sentence a person reads, from one catalogue per language (`locales/<lang>/*.ftl`,
//! Fluent syntax, compiled into the binary). Code names a message by its id and passes named
//! arguments; plurals and word order are the catalogue's business:
//!
//! ```text
//! let text = t!(lang, "list-created", name = bold(&name), count = members);
//! ```
//!
//! Adding a language means adding a folder of `.ftl` files and a `Lang` variant, not editing
//! handlers. `tests` below fail when a message exists in one language only or when code names a
//! message that exists in none.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

use crate::domain::Lang;

fluent_templates::static_loader! {
    static CATALOGUE = {
        locales: "./locales",
        fallback_language: "en",
        // Chat clients show Unicode isolation marks as stray characters in markdown.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: LanguageIdentifier = langid!("en");
static FR: LanguageIdentifier = langid!("fr");

fn language(lang: Lang) -> &'static LanguageIdentifier {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// A named argument's value: text, or a number (which also chooses plural forms).
pub enum Arg {
    Text(String),
    Number(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Arg {
                Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
numbers!(i32, i64, u32, u64, usize);

/// The message `id` in `lang` with its named arguments. A message missing from the catalogue
/// (which the tests rule out) shows its id rather than nothing.
pub fn lookup(lang: Lang, id: &str, args: &[(&'static str, Arg)]) -> String {
    let language = language(lang);
    if args.is_empty() {
        return CATALOGUE.lookup(language, id);
    }
    let args: HashMap<Cow<'static, str>, FluentValue> = args
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Arg::Text(s) => FluentValue::from(s.clone()),
                Arg::Number(n) => FluentValue::from(*n),
            };
            (Cow::Borrowed(*name), value)
        })
        .collect();
    CATALOGUE.lookup_with_args(language, id, &args)
}

/// Why herald could not install the app for someone, from the code stored with them
/// (`kind` or `kind:detail`, see `graph::install::reason`), said in `lang`.
pub fn install_reason(lang: Lang, code: &str) -> String {
    let (kind, detail) = code.split_once(':').unwrap_or((code, ""));
    crate::t!(lang, "install-reason", kind = kind, detail = detail)
}

/// A problem the pure rules found, said in `lang`.
pub fn problem(lang: Lang, problem: &crate::domain::problem::Problem) -> String {
    use crate::domain::problem::Value;
    let args: Vec<(&'static str, Arg)> = problem
        .args
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Text(s) => Arg::Text(s.clone()),
                Value::Number(n) => Arg::Number(*n),
            };
            (*name, value)
        })
        .collect();
    lookup(lang, problem.id, &args)
}

/// `t!(lang, "message-id", name = value, …)`: a sentence from the catalogue.
#[macro_export]
macro_rules! t {
    ($lang:expr, $id:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::texts::lookup(
            $lang,
            $id,
            &[$((stringify!($name), $crate::texts::Arg::from($value))),*],
        )
    };
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};
    use fluent_templates::fluent_bundle::FluentResource;

    use super::*;

    #[test]
    fn install_reasons_are_said_in_each_language() {
        assert_eq!(install_reason(Lang::En, "blocked"), "app blocked by policy");
        assert_eq!(
            install_reason(Lang::Fr, "blocked"),
            "application bloquée par une stratégie"
        );
        let said = install_reason(Lang::Fr, "permissions:HTTP 403 Forbidden");
        assert!(
            said.contains("HTTP 403 Forbidden") && said.contains("autorisations"),
            "{said}"
        );
        // A code this version does not know still reads as a refusal with its detail.
        let said = install_reason(Lang::En, "something:HTTP 500 X");
        assert!(
            said.starts_with("refused by Graph") && said.contains("HTTP 500 X"),
            "{said}"
        );
    }

    /// Message id → the variables it uses, for every `.ftl` file of one language.
    fn catalogue(lang: &str) -> BTreeMap<String, BTreeSet<String>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang);
        let mut messages = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("locale folder") {
            let path = entry.expect("locale file").path();
            if path.extension().is_none_or(|e| e != "ftl") {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("readable .ftl");
            let resource = FluentResource::try_new(source)
                .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", path.display()));
            for entry in resource.entries() {
                if let Entry::Message(m) = entry {
                    let mut vars = BTreeSet::new();
                    if let Some(p) = &m.value {
                        variables(p, &mut vars);
                    }
                    let id = m.id.name.to_string();
                    assert!(
                        messages.insert(id.clone(), vars).is_none(),
                        "{id} defined twice in {lang}"
                    );
                }
            }
        }
        messages
    }

    fn variables(pattern: &Pattern<&str>, out: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let PatternElement::Placeable { expression } = element {
                expression_variables(expression, out);
            }
        }
    }

    fn expression_variables(e: &Expression<&str>, out: &mut BTreeSet<String>) {
        match e {
            Expression::Inline(i) => inline_variables(i, out),
            Expression::Select { selector, variants } => {
                inline_variables(selector, out);
                for v in variants {
                    variables(&v.value, out);
                }
            }
        }
    }

    fn inline_variables(e: &InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match e {
            InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_string());
            }
            InlineExpression::Placeable { expression } => expression_variables(expression, out),
            _ => {}
        }
    }

    #[test]
    fn every_message_exists_in_english_and_french_with_the_same_arguments() {
        let (en, fr) = (catalogue("en"), catalogue("fr"));
        let only_en: Vec<_> = en.keys().filter(|k| !fr.contains_key(*k)).collect();
        let only_fr: Vec<_> = fr.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(only_en.is_empty(), "missing in French: {only_en:?}");
        assert!(only_fr.is_empty(), "missing in English: {only_fr:?}");
        for (id, vars) in &en {
            assert_eq!(vars, &fr[id], "{id} takes other arguments in French");
        }
    }

    /// Every `t!(…, "id"` and `Problem::new("id"` in the sources names a message of the
    /// catalogue.
    #[test]
    fn every_message_the_code_names_is_in_the_catalogue() {
        let en = catalogue("en");
        let mut missing = Vec::new();
        let mut named = 0;
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![src];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src folder") {
                let path = entry.expect("src entry").path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).expect("readable source");
                let uses = source
                    .match_indices("t!(")
                    .chain(source.match_indices("Problem::new("));
                for (i, _) in uses {
                    // Only the macro: not `format!(`, `assert!(` and the like.
                    let before = source[..i].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"') {
                        continue;
                    }
                    let line_start = source[..i].rfind('\n').map_or(0, |n| n + 1);
                    if source[line_start..i].trim_start().starts_with("//") {
                        continue;
                    }
                    let rest = &source[i..];
                    let Some(open) = rest.find('"') else { continue };
                    let id: String = rest[open + 1..].chars().take_while(|c| *c != '"').collect();
                    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                        continue; // the text `t!(` inside a string or a comment
                    }
                    named += 1;
                    if !en.contains_key(&id) {
                        missing.push(format!("{}: {id}", path.display()));
                    }
                }
            }
        }
        assert!(named > 0, "no t!( found: the scan is broken");
        assert!(missing.is_empty(), "not in the catalogue: {missing:?}");
    }

    #[test]
    fn plurals_agree_in_both_languages() {
        for (lang, one, many, zero) in [
            (
                Lang::En,
                "with 1 member.",
                "with 2 members.",
                "with 0 members.",
            ),
            (
                Lang::Fr,
                "avec 1 membre.",
                "avec 2 membres.",
                "avec 0 membre.",
            ),
        ] {
            let created = |n: i64| crate::t!(lang, "list-created", name = "x", count = n);
            assert!(created(1).ends_with(one), "{}", created(1));
            assert!(created(2).ends_with(many), "{}", created(2));
            assert!(created(0).ends_with(zero), "{}", created(0));
        }
    }

    #[test]
    fn arguments_are_not_wrapped_in_isolation_marks() {
        let text = crate::t!(Lang::Fr, "list-created", name = "x", count = 3);
        assert!(
            !text.contains('\u{2068}') && !text.contains('\u{2069}'),
            "{text:?}"
        );
    }
}
