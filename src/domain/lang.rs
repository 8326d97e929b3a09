//! The language herald answers in: French for `fr-*` locales, English otherwise.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn from_locale(locale: Option<&str>) -> Lang {
        match locale.map(str::trim) {
            Some(l)
                if l.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("fr"))
                    && matches!(l.as_bytes().get(2), None | Some(b'-' | b'_')) =>
            {
                Lang::Fr
            }
            _ => Lang::En,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_locales_are_french() {
        for l in ["fr", "fr-FR", "fr-CA", "FR-be", "fr_CH"] {
            assert_eq!(Lang::from_locale(Some(l)), Lang::Fr, "{l}");
        }
    }

    #[test]
    fn everything_else_is_english() {
        for l in [
            None,
            Some(""),
            Some("en-US"),
            Some("de-DE"),
            Some("fry"),
            Some("f"),
            Some("éé"),
        ] {
            assert_eq!(Lang::from_locale(l), Lang::En, "{l:?}");
        }
    }
}
