//! The report page: a campaign's or broadcast's counts, its chart and its recipients, as an
//! HTML page behind the same kind of signed, expiring link as the CSV (the link carries the
//! admin's language). The counts, the filter, the search and the paging run in the database
//! (`store::reports::select`; the counts kept a few seconds, `counts`); only the page's own rows
//! are read in full, so a page of a large report stays quick, and small in the browser.

mod counts;
mod view;

pub use crate::domain::report_filter::{MAX_SEARCH, Search, StatusFilter};
pub use view::{BadQuery, bad_query_page, content_security_policy, expired_page};

use crate::domain::Lang;
use crate::domain::tracking::{ReportFile, ReportGrant, ReportKind, Signer};
use crate::store::reports::select::{self, SendCounts};
use crate::store::reports::{self as store_reports, RecipientRow, Scope, not_installed_row};
use crate::store::{Conn, Db, StoreError};

/// Rows per page of the table.
pub const PAGE_SIZE: usize = 100;

/// What one request for the page asks.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub kind: ReportKind,
    /// The campaign's or broadcast's id.
    pub id: String,
    pub lang: Lang,
    /// When the page's link expires (epoch seconds): its chart and CSV links expire with it.
    pub expires: i64,
    /// The file name in the page's address (`spring.html`): the CSV is saved after it.
    pub name: String,
    pub status: StatusFilter,
    pub search: Search,
    /// From 1; past the last page is the last page.
    pub page: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the report page could not be rendered")]
    Render(#[from] handlebars::RenderError),
}

/// What the page shows, before it is put in words.
pub(crate) struct PageData {
    pub request: PageRequest,
    pub title: String,
    pub counts: Vec<(StatusFilter, usize)>,
    /// The rows passing the filter and search (their number), and the current page of them.
    pub matching: usize,
    pub rows: Vec<RecipientRow>,
    pub page: usize,
    pub pages: usize,
    /// Relative links (`../<token>/<name>`) to the chart and the CSV, signed until the page's
    /// own expiry.
    pub chart_href: String,
    pub csv_href: String,
    /// Whether any recipient answered the broadcast's poll (the answer column is shown then).
    pub answers: bool,
}

/// The scope of report `kind`/`id`, `None` when it is gone.
pub fn scope(
    conn: &mut crate::store::Conn<'_>,
    kind: ReportKind,
    id: &str,
) -> Result<Option<Scope>, StoreError> {
    match kind {
        ReportKind::Campaign => store_reports::campaign_scope(conn, id),
        ReportKind::Broadcast => store_reports::broadcast_scope(conn, id),
    }
}

/// The page's HTML, or `None` when the campaign or broadcast no longer exists.
pub async fn report_page(
    db: &Db,
    signer: &Signer,
    request: PageRequest,
) -> Result<Option<String>, PageError> {
    let asked = request.clone();
    let Some(selected) = db.run(move |conn| select_rows(conn, &asked)).await? else {
        return Ok(None);
    };
    let data = page_data(signer, request, selected);
    Ok(Some(view::render(&data)?))
}

/// What the database answered for one page.
struct Selected {
    title: String,
    counts: Vec<(StatusFilter, usize)>,
    matching: usize,
    rows: Vec<RecipientRow>,
    page: usize,
    pages: usize,
    answers: bool,
}

/// Counts, filters, searches and cuts the report's recipients: the sends in the database, then
/// the members who were not installed (a list of addresses kept with the report).
fn select_rows(conn: &mut Conn<'_>, request: &PageRequest) -> Result<Option<Selected>, StoreError> {
    let Some(scope) = scope(conn, request.kind, &request.id)? else {
        return Ok(None);
    };
    let report = scope.report();
    let (filter, search) = (request.status, &request.search);
    let sends: SendCounts = counts::send_counts(conn, request.kind, &request.id, report)?;
    let with_absent = |f: StatusFilter| matches!(f, StatusFilter::All | StatusFilter::NotInstalled);
    let counts = StatusFilter::offered(request.kind)
        .map(|f| {
            let absent = if with_absent(f) {
                scope.not_installed.len()
            } else {
                0
            };
            (f, count(sends.of(f)) + absent)
        })
        .collect();
    let absent: Vec<&(String, Option<String>)> = if with_absent(filter) {
        scope
            .not_installed
            .iter()
            .filter(|(email, _)| search.matches("", email))
            .collect()
    } else {
        Vec::new()
    };
    // How many sends match (the cached counts without a search; with one, found live), then
    // the page asked for; past the last page is the last page.
    let hits = if filter == StatusFilter::NotInstalled || search.words().is_empty() {
        None
    } else {
        Some(counts::search_hits(
            conn,
            request.kind,
            &request.id,
            report,
            filter,
            search,
        )?)
    };
    let matching_sends = match &hits {
        _ if filter == StatusFilter::NotInstalled => 0,
        Some(hits) => count(hits.total()),
        None => count(sends.of(filter)),
    };
    let matching = matching_sends + absent.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = request.page.clamp(1, pages);
    let offset = |page: usize| (page - 1) * PAGE_SIZE;
    let (at, size) = (offset(page) as i64, PAGE_SIZE as i64);
    let mut rows = match &hits {
        _ if offset(page) >= matching_sends => Vec::new(),
        Some(hits) => select::hits_page(conn, report, filter, search, hits, at, size)?,
        None => select::sends_page(conn, report, filter, at, size)?,
    };
    let skip = offset(page).saturating_sub(matching_sends);
    let room = PAGE_SIZE - rows.len();
    rows.extend(
        absent
            .into_iter()
            .skip(skip)
            .take(room)
            .map(not_installed_row),
    );
    let answers = select::any_answer(conn, report)?;
    Ok(Some(Selected {
        title: scope.title,
        counts,
        matching,
        rows,
        page,
        pages,
        answers,
    }))
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// Signs the chart and CSV links of the selected page.
fn page_data(signer: &Signer, request: PageRequest, selected: Selected) -> PageData {
    let link = |file: ReportFile, name: &str| {
        let grant = ReportGrant {
            kind: request.kind,
            id: request.id.clone(),
            file,
        };
        // `name` is ours (letters, digits, `-`, `_`, `.`): nothing to encode.
        format!("../{}/{name}", signer.report_token(&grant, request.expires))
    };
    let chart_href = link(ReportFile::Chart, "chart.png");
    let csv_href = link(ReportFile::Csv, &csv_name(&request.name));
    PageData {
        title: selected.title,
        counts: selected.counts,
        matching: selected.matching,
        rows: selected.rows,
        page: selected.page,
        pages: selected.pages,
        chart_href,
        csv_href,
        answers: selected.answers,
        request,
    }
}

/// The CSV's file name after the page's: `spring.html` → `spring-recipients.csv`.
fn csv_name(page_name: &str) -> String {
    let stem: String = page_name
        .trim_end_matches(".html")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    if stem.is_empty() {
        "recipients.csv".into()
    } else {
        format!("{stem}-recipients.csv")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_is_named_after_the_page() {
        assert_eq!(csv_name("spring.html"), "spring-recipients.csv");
        assert_eq!(csv_name("broadcast-3.html"), "broadcast-3-recipients.csv");
        assert_eq!(csv_name("../é.html"), "recipients.csv");
    }
}
