//! Which recipients the report page shows: a status filter and a search, applied on the
//! server to the rows of the CSV (so the browser only ever holds one page of the table).

use crate::domain::tracking::ReportKind;
use crate::store::reports::RecipientRow;

/// A status filter of the page, as named in its address (`?status=unread`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// Whether `row` passes the filter.
    pub fn matches(self, row: &RecipientRow) -> bool {
        let delivered = row.status == "delivered";
        match self {
            StatusFilter::All => true,
            StatusFilter::Delivered => delivered,
            StatusFilter::Read => row.read_at.is_some(),
            StatusFilter::Unread => delivered && row.read_at.is_none(),
            StatusFilter::Waiting => {
                row.status == "pending" || row.status == "waiting for presence"
            }
            StatusFilter::Failed => row.status.starts_with("failed"),
            StatusFilter::Expired => row.status == "expired",
            StatusFilter::NotInstalled => row.status == "not installed",
            StatusFilter::Clicked => row.clicks > 0,
            StatusFilter::Acknowledged => row.engagement.acknowledged_at.is_some(),
        }
    }
}

/// A search as typed: case-insensitive words that must all appear in the name or the address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

    pub fn matches(&self, row: &RecipientRow) -> bool {
        if self.words.is_empty() {
            return true;
        }
        let haystack = format!("{} {}", row.name, row.email).to_lowercase();
        self.words.iter().all(|w| haystack.contains(w.as_str()))
    }
}

/// How many rows pass each offered filter (the search ignored): the page's counts.
pub fn counts(kind: ReportKind, rows: &[RecipientRow]) -> Vec<(StatusFilter, usize)> {
    StatusFilter::offered(kind)
        .map(|f| (f, rows.iter().filter(|r| f.matches(r)).count()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::reports::RecipientEngagement;

    fn at() -> chrono::NaiveDateTime {
        chrono::DateTime::from_timestamp(1_795_000_000, 0)
            .unwrap()
            .naive_utc()
    }

    fn row(name: &str, status: &str) -> RecipientRow {
        RecipientRow {
            name: name.into(),
            email: format!("{}@contoso.com", name.to_lowercase().replace(' ', ".")),
            status: status.into(),
            attempts: 1,
            last_attempt: None,
            next_attempt: None,
            sent_at: None,
            read_at: None,
            first_click: None,
            clicks: 0,
            error: String::new(),
            repairs: 0,
            resends: 0,
            presence: Default::default(),
            planned_zone: None,
            planned_at: None,
            engagement: RecipientEngagement::default(),
        }
    }

    fn rows() -> Vec<RecipientRow> {
        let mut read = row("Ada Lovelace", "delivered");
        read.read_at = Some(at());
        read.clicks = 2;
        let mut acked = row("Grace Hopper", "delivered");
        acked.engagement.acknowledged_at = Some(at());
        vec![
            read,
            acked,
            row("Alan Turing", "waiting for presence"),
            row("Edsger Dijkstra", "pending"),
            row("Barbara Liskov", "expired"),
            row("Donald Knuth", "failed: refused"),
            row("", "not installed"),
        ]
    }

    fn names(f: StatusFilter, s: &Search) -> Vec<String> {
        rows()
            .into_iter()
            .filter(|r| f.matches(r) && s.matches(r))
            .map(|r| r.name)
            .collect()
    }

    #[test]
    fn each_filter_keeps_exactly_its_recipients() {
        let any = Search::default();
        assert_eq!(names(StatusFilter::All, &any).len(), 7);
        assert_eq!(
            names(StatusFilter::Delivered, &any),
            ["Ada Lovelace", "Grace Hopper"]
        );
        assert_eq!(names(StatusFilter::Read, &any), ["Ada Lovelace"]);
        assert_eq!(names(StatusFilter::Unread, &any), ["Grace Hopper"]);
        assert_eq!(
            names(StatusFilter::Waiting, &any),
            ["Alan Turing", "Edsger Dijkstra"]
        );
        assert_eq!(names(StatusFilter::Failed, &any), ["Donald Knuth"]);
        assert_eq!(names(StatusFilter::Expired, &any), ["Barbara Liskov"]);
        assert_eq!(names(StatusFilter::NotInstalled, &any), [""]);
        assert_eq!(names(StatusFilter::Clicked, &any), ["Ada Lovelace"]);
        assert_eq!(names(StatusFilter::Acknowledged, &any), ["Grace Hopper"]);
    }

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
    fn the_search_finds_people_by_any_part_of_their_name_or_address() {
        let s = Search::new("  lOVE  ");
        assert_eq!(names(StatusFilter::All, &s), ["Ada Lovelace"]);
        assert_eq!(s.text(), "love");
        assert_eq!(
            names(StatusFilter::All, &Search::new("hopper contoso")),
            ["Grace Hopper"]
        );
        assert_eq!(
            names(StatusFilter::All, &Search::new("grace turing")),
            Vec::<String>::new()
        );
        // With a filter, both must hold.
        assert_eq!(
            names(StatusFilter::Unread, &Search::new("ada")),
            Vec::<String>::new()
        );
        assert_eq!(Search::new(&"x".repeat(1_000)).text().len(), MAX_SEARCH);
    }

    #[test]
    fn counts_cover_every_offered_filter() {
        let c = counts(ReportKind::Campaign, &rows());
        assert_eq!(c.len(), 9);
        assert_eq!(c[0], (StatusFilter::All, 7));
        assert!(c.contains(&(StatusFilter::Unread, 1)));
        assert!(c.contains(&(StatusFilter::Waiting, 2)));
    }
}
