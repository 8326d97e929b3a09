//! The report page put in words (the admin's language) and rendered with handlebars, which
//! HTML-escapes every value: names, addresses, subjects and answers come from outside.

use std::sync::LazyLock;

use base64::Engine as _;
use chrono::NaiveDateTime;
use handlebars::{Handlebars, RenderError, RenderErrorReason};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{PageData, Search};
use crate::domain::Lang;
use crate::domain::report_filter::StatusFilter;
use crate::domain::tracking::ReportKind;
use crate::store::reports::RecipientRow;
use crate::t;
use crate::texts::lookup;

const PAGE: &str = include_str!("page.hbs");
const ERROR: &str = include_str!("error.hbs");
/// The page's style and script, inlined and allowed by their hashes in the page's
/// Content-Security-Policy (nothing else may run or style it).
pub const PAGE_STYLE: &str = include_str!("page.css");
pub const PAGE_SCRIPT: &str = include_str!("page.js");

static TEMPLATES: LazyLock<Result<Handlebars<'static>, String>> = LazyLock::new(|| {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_template_string("page", PAGE)
        .map_err(|e| e.to_string())?;
    hb.register_template_string("error", ERROR)
        .map_err(|e| e.to_string())?;
    Ok(hb)
});

fn render_named(name: &str, data: &impl Serialize) -> Result<String, RenderError> {
    match &*TEMPLATES {
        Ok(hb) => hb.render(name, data),
        Err(e) => Err(RenderErrorReason::Other(e.clone()).into()),
    }
}

/// The Content-Security-Policy of the page and its error pages: only its own inline style and
/// script (by hash), images from herald, forms and fetches back to herald.
pub fn content_security_policy() -> String {
    let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s));
    format!(
        "default-src 'none'; img-src 'self' data:; style-src 'sha256-{}'; \
         script-src 'sha256-{}'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
         frame-ancestors 'none'",
        hash(PAGE_STYLE),
        hash(PAGE_SCRIPT)
    )
}

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Fr => "fr",
    }
}

#[derive(Serialize)]
struct Option_ {
    value: &'static str,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct Count {
    label: String,
    value: usize,
}

#[derive(Serialize)]
struct Cell {
    label: String,
    text: String,
    /// A machine-readable time, for `<time datetime>`.
    datetime: Option<String>,
}

#[derive(Serialize)]
struct Row {
    /// The row's header cell: the person's name, or their address when no name is known.
    who: String,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct View {
    lang: &'static str,
    style: &'static str,
    script: &'static str,
    title: String,
    heading: String,
    counts_title: String,
    counts: Vec<Count>,
    chart_src: String,
    chart_alt: String,
    csv_href: String,
    csv_label: String,
    controls_label: String,
    filter_label: String,
    filter_options: Vec<Option_>,
    search_label: String,
    search_value: String,
    apply: String,
    caption: String,
    name_header: String,
    headers: Vec<String>,
    rows: Vec<Row>,
    empty: Option<String>,
    pager_label: String,
    pager: String,
    previous: Option<String>,
    previous_label: String,
    next: Option<String>,
    next_label: String,
    expires: String,
}

fn filter_label(lang: Lang, f: StatusFilter) -> String {
    let id = match f {
        StatusFilter::All => "report-page-filter-all",
        StatusFilter::Delivered => "report-page-filter-delivered",
        StatusFilter::Read => "report-page-filter-read",
        StatusFilter::Unread => "report-page-filter-unread",
        StatusFilter::Waiting => "report-page-filter-waiting",
        StatusFilter::Failed => "report-page-filter-failed",
        StatusFilter::Expired => "report-page-filter-expired",
        StatusFilter::NotInstalled => "report-page-filter-not-installed",
        StatusFilter::Clicked => "report-page-filter-clicked",
        StatusFilter::Acknowledged => "report-page-filter-acknowledged",
    };
    lookup(lang, id, &[])
}

/// A row's status in words; a failure keeps its reason as recorded.
fn status_text(lang: Lang, status: &str) -> String {
    let id = match status {
        "delivered" => "report-page-status-delivered",
        "pending" => "report-page-status-pending",
        "waiting for presence" => "report-page-status-waiting",
        "expired" => "report-page-status-expired",
        "not installed" => "report-page-status-not-installed",
        other => match other.strip_prefix("failed") {
            Some(reason) => {
                let reason = reason.trim_start_matches(':').trim();
                return t!(lang, "report-page-status-failed", reason = reason);
            }
            None => return other.to_string(),
        },
    };
    lookup(lang, id, &[])
}

fn time_cell(label: &str, t: Option<NaiveDateTime>) -> Cell {
    Cell {
        label: label.to_string(),
        text: t
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
        datetime: t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    }
}

fn text_cell(label: &str, text: impl Into<String>) -> Cell {
    Cell {
        label: label.to_string(),
        text: text.into(),
        datetime: None,
    }
}

/// The column headers after the name, for a report of `kind`.
fn headers(lang: Lang, kind: ReportKind, answers: bool) -> Vec<String> {
    let mut ids = vec![
        "report-page-col-email",
        "report-page-col-status",
        "report-page-col-presence",
        "report-page-col-sent",
        "report-page-col-read",
        "report-page-col-clicks",
    ];
    if kind == ReportKind::Broadcast {
        ids.push("report-page-col-acknowledged");
    }
    ids.push("report-page-col-reactions");
    if answers {
        ids.push("report-page-col-answer");
    }
    ids.into_iter().map(|id| lookup(lang, id, &[])).collect()
}

fn row(lang: Lang, kind: ReportKind, answers: bool, h: &[String], r: &RecipientRow) -> Row {
    let presence = match (&r.presence.now_availability, &r.presence.now_activity) {
        (Some(a), Some(act)) if a != act => format!("{a} ({act})"),
        (Some(a), _) => a.clone(),
        _ => String::new(),
    };
    let mut cells = vec![
        text_cell(&h[0], r.email.clone()),
        text_cell(&h[1], status_text(lang, &r.status)),
        text_cell(&h[2], presence),
        time_cell(&h[3], r.sent_at),
        time_cell(&h[4], r.read_at),
        text_cell(&h[5], r.clicks.to_string()),
    ];
    let mut next = 6;
    if kind == ReportKind::Broadcast {
        cells.push(time_cell(&h[next], r.engagement.acknowledged_at));
        next += 1;
    }
    cells.push(text_cell(&h[next], r.engagement.reactions.join(", ")));
    if answers {
        cells.push(text_cell(
            &h[next + 1],
            r.engagement.answer.clone().unwrap_or_default(),
        ));
    }
    Row {
        who: if r.name.is_empty() {
            r.email.clone()
        } else {
            r.name.clone()
        },
        cells,
    }
}

/// The address of another page of the same view: `?status=…&q=…&page=…`, relative to the page.
fn page_href(status: StatusFilter, search: &Search, page: usize) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("status", status.as_str());
    let text = search.text();
    if !text.is_empty() {
        q.append_pair("q", &text);
    }
    q.append_pair("page", &page.to_string());
    format!("?{}", q.finish())
}

pub(super) fn render(d: &PageData) -> Result<String, RenderError> {
    let r = &d.request;
    let lang = r.lang;
    let h = headers(lang, r.kind, d.answers);
    let total = d.counts.first().map_or(0, |c| c.1);
    let view = View {
        lang: lang_code(lang),
        style: PAGE_STYLE,
        script: PAGE_SCRIPT,
        title: t!(lang, "report-page-title", title = d.title.as_str()),
        heading: d.title.clone(),
        counts_title: t!(lang, "report-page-counts"),
        counts: d
            .counts
            .iter()
            .map(|(f, n)| Count {
                label: filter_label(lang, *f),
                value: *n,
            })
            .collect(),
        chart_src: d.chart_href.clone(),
        chart_alt: t!(lang, "report-chart-alt"),
        csv_href: d.csv_href.clone(),
        csv_label: t!(lang, "report-page-csv", count = total),
        controls_label: t!(lang, "report-page-controls"),
        filter_label: t!(lang, "report-page-filter"),
        filter_options: d
            .counts
            .iter()
            .map(|(f, n)| Option_ {
                value: f.as_str(),
                label: format!("{} ({n})", filter_label(lang, *f)),
                selected: *f == r.status,
            })
            .collect(),
        search_label: t!(lang, "report-page-search"),
        search_value: r.search.text(),
        apply: t!(lang, "report-page-apply"),
        caption: t!(
            lang,
            "report-page-caption",
            shown = d.matching,
            total = total,
        ),
        name_header: t!(lang, "report-page-col-name"),
        rows: d
            .rows
            .iter()
            .map(|row_| row(lang, r.kind, d.answers, &h, row_))
            .collect(),
        headers: h,
        empty: (d.matching == 0).then(|| t!(lang, "report-page-none")),
        pager_label: t!(lang, "report-page-pages"),
        pager: t!(lang, "report-page-pager", page = d.page, pages = d.pages),
        previous: (d.page > 1).then(|| page_href(r.status, &r.search, d.page - 1)),
        previous_label: t!(lang, "report-page-previous"),
        next: (d.page < d.pages).then(|| page_href(r.status, &r.search, d.page + 1)),
        next_label: t!(lang, "report-page-next"),
        expires: t!(
            lang,
            "report-page-expires",
            at = chrono::DateTime::from_timestamp(r.expires, 0)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
        ),
    };
    render_named("page", &view)
}

#[derive(Serialize)]
struct ErrorView {
    lang: &'static str,
    style: &'static str,
    title: String,
    message: String,
}

/// A small page saying what went wrong with a report link, in `lang`.
fn render_error(lang: Lang, title: String, message: String) -> Result<String, RenderError> {
    render_named(
        "error",
        &ErrorView {
            lang: lang_code(lang),
            style: PAGE_STYLE,
            title,
            message,
        },
    )
}

/// The page of an expired report link, in the language it was made for.
pub fn expired_page(lang: Lang) -> Result<String, RenderError> {
    render_error(
        lang,
        t!(lang, "report-page-expired-title"),
        t!(lang, "report-page-expired"),
    )
}

/// What was wrong in the page's address (an unknown filter, a page that is not a number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadQuery {
    Status(String),
    Page(String),
}

/// The page answering a bad address, naming what was wrong.
pub fn bad_query_page(lang: Lang, bad: &BadQuery) -> Result<String, RenderError> {
    let message = match bad {
        BadQuery::Status(value) => t!(
            lang,
            "report-page-bad-status",
            value = value.chars().take(40).collect::<String>(),
            choices = StatusFilter::ALL
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        BadQuery::Page(value) => t!(
            lang,
            "report-page-bad-page",
            value = value.chars().take(40).collect::<String>(),
        ),
    };
    render_error(lang, t!(lang, "report-page-bad-title"), message)
}
