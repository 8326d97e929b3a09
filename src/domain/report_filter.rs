//! What a report page is asked to show: a status filter and a search, as named in the page's
//! address and typed in its box. The database applies them (`store::reports::select`).

use crate::domain::tracking::ReportKind;

/// A status filter of the page, as named in its address (`?status=unread`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusFilter {
    All,
    Delivered,
    Read,
    /// Delivered and not read.
    Unread,
    /// Pending or waiting for presence.
    Waiting,
    Failed,
    Expired,
    NotInstalled,
    Clicked,
    /// Broadcasts only.
    Acknowledged,
}

impl StatusFilter {
    /// Every filter, in the order the page offers them.
    pub const ALL: [StatusFilter; 10] = [
        StatusFilter::All,
        StatusFilter::Delivered,
        StatusFilter::Read,
        StatusFilter::Unread,
        StatusFilter::Waiting,
        StatusFilter::Failed,
        StatusFilter::Expired,
        StatusFilter::NotInstalled,
        StatusFilter::Clicked,
        StatusFilter::Acknowledged,
    ];

    /// The filters a report of `kind` offers (acknowledgements exist for broadcasts only).
    pub fn offered(kind: ReportKind) -> impl Iterator<Item = StatusFilter> {
        Self::ALL
            .into_iter()
            .filter(move |f| kind == ReportKind::Broadcast || *f != StatusFilter::Acknowledged)
    }

    /// The name in the page's address.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Delivered => "delivered",
            StatusFilter::Read => "read",
            StatusFilter::Unread => "unread",
            StatusFilter::Waiting => "waiting",
            StatusFilter::Failed => "failed",
            StatusFilter::Expired => "expired",
            StatusFilter::NotInstalled => "not-installed",
            StatusFilter::Clicked => "clicked",
            StatusFilter::Acknowledged => "acknowledged",
        }
    }

    /// The filter named `s` (an empty value is `all`); `None` for an unknown name.
    pub fn parse(s: &str) -> Option<StatusFilter> {
        let s = s.trim();
        if s.is_empty() {
            return Some(StatusFilter::All);
        }
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
    }
}

/// A search as typed: case-insensitive words that must all appear in the name or the address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Search {
    words: Vec<String>,
}

/// The longest search kept: a longer one is cut (nobody types more to find a person).
pub const MAX_SEARCH: usize = 200;

impl Search {
    pub fn new(text: &str) -> Search {
        let text: String = text.chars().take(MAX_SEARCH).collect();
        Search {
            words: text.split_whitespace().map(str::to_lowercase).collect(),
        }
    }

    /// The search as it is kept (cut, spaces folded), to show back in the box.
    pub fn text(&self) -> String {
        self.words.join(" ")
    }

    /// The words, lowercase: each must appear in the name or the address.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether every word appears in `name` or `address` (case aside): for rows the database
    /// does not search (members who were not installed).
    pub fn matches(&self, name: &str, address: &str) -> bool {
        let name = name.to_lowercase();
        let address = address.to_lowercase();
        self.words
            .iter()
            .all(|w| name.contains(w.as_str()) || address.contains(w.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_named_in_the_address_and_parsed_back() {
        for f in StatusFilter::ALL {
            assert_eq!(StatusFilter::parse(f.as_str()), Some(f));
        }
        assert_eq!(StatusFilter::parse(""), Some(StatusFilter::All));
        assert_eq!(StatusFilter::parse(" UNREAD "), Some(StatusFilter::Unread));
        assert_eq!(StatusFilter::parse("unred"), None);
        assert!(
            !StatusFilter::offered(ReportKind::Campaign).any(|f| f == StatusFilter::Acknowledged)
        );
        assert_eq!(StatusFilter::offered(ReportKind::Broadcast).count(), 10);
    }

    #[test]
    fn a_search_is_lowercase_words_cut_at_its_limit() {
        let s = Search::new("  lOVE  Élodie ");
        assert_eq!(s.text(), "love élodie");
        assert_eq!(s.words(), ["love", "élodie"]);
        assert!(s.matches("Élodie Lovelace", ""));
        assert!(s.matches("Élodie", "ada.lovelace@contoso.com"));
        assert!(!s.matches("Élodie", "grace@contoso.com"));
        assert!(Search::default().matches("", ""));
        assert_eq!(Search::new(&"x".repeat(1_000)).text().len(), MAX_SEARCH);
    }
}
