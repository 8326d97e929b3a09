//! The report page: a campaign's or broadcast's counts, its chart and its recipients, as an
//! HTML page behind the same kind of signed, expiring link as the CSV (the link carries the
//! admin's language). Filter and search run on the server over the CSV's own rows, and the
//! table is cut in pages, so a page of a large report stays small in the browser.

mod filter;
mod view;

pub use filter::{MAX_SEARCH, Search, StatusFilter};
pub use view::{BadQuery, bad_query_page, content_security_policy, expired_page};

use crate::domain::Lang;
use crate::domain::tracking::{ReportFile, ReportGrant, ReportKind, Signer};
use crate::store::reports::{self as store_reports, RecipientRow, Scope};
use crate::store::{Db, StoreError};

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
    let (kind, id) = (request.kind, request.id.clone());
    let loaded = db
        .run(move |conn| {
            let Some(scope) = scope(conn, kind, &id)? else {
                return Ok(None);
            };
            let rows = store_reports::recipients(
                conn,
                &scope.sends,
                &scope.all,
                scope.reads_of.as_ref(),
                &scope.not_installed,
            )?;
            Ok(Some((scope.title, rows)))
        })
        .await?;
    let Some((title, rows)) = loaded else {
        return Ok(None);
    };
    let data = select(signer, request, title, rows);
    Ok(Some(view::render(&data)?))
}

/// Filters, searches and cuts the rows; signs the chart and CSV links.
fn select(
    signer: &Signer,
    request: PageRequest,
    title: String,
    rows: Vec<RecipientRow>,
) -> PageData {
    let counts = filter::counts(request.kind, &rows);
    let answers = rows.iter().any(|r| r.engagement.answer.is_some());
    let matching: Vec<RecipientRow> = rows
        .into_iter()
        .filter(|r| request.status.matches(r) && request.search.matches(r))
        .collect();
    let pages = matching.len().div_ceil(PAGE_SIZE).max(1);
    let page = request.page.clamp(1, pages);
    let total = matching.len();
    let rows: Vec<RecipientRow> = matching
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
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
        title,
        counts,
        matching: total,
        rows,
        page,
        pages,
        chart_href,
        csv_href,
        answers,
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
