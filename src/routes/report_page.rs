//! `GET /reports/{token}/{name}` when the token grants the report page: the HTML page, its
//! filter and search from the address (`?status=unread&q=ada&page=2`), and its answers in the
//! admin's language (an expired link, a bad filter) as small pages of their own.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;

use super::AppState;
use crate::domain::Lang;
use crate::domain::tracking::ReportGrant;
use crate::error::ApiError;
use crate::reports::page::{self, BadQuery, PageRequest, Search, StatusFilter};

/// The page's address parameters, as typed (checked in `request`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            page::content_security_policy(),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(("X-Robots-Tag", "noindex, nofollow"))
        .body(body)
}

fn rendered(status: StatusCode, body: Result<String, handlebars::RenderError>) -> HttpResponse {
    match body {
        Ok(body) => html(status, body),
        Err(e) => actix_web::ResponseError::error_response(&ApiError::internal(&e)),
    }
}

/// An expired page link: 410, said in the link's language.
pub fn expired(lang: Lang) -> HttpResponse {
    rendered(StatusCode::GONE, page::expired_page(lang))
}

fn request(
    grant: &ReportGrant,
    lang: Lang,
    expires: i64,
    name: String,
    query: &PageQuery,
) -> Result<PageRequest, BadQuery> {
    let status =
        StatusFilter::parse(&query.status).ok_or_else(|| BadQuery::Status(query.status.clone()))?;
    let page = match query.page.trim() {
        "" => 1,
        p => p
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| BadQuery::Page(query.page.clone()))?,
    };
    Ok(PageRequest {
        kind: grant.kind,
        id: grant.id.clone(),
        lang,
        expires,
        name,
        status,
        search: Search::new(&query.q),
        page,
    })
}

/// The page for a valid (unexpired) page grant; `None` when its report no longer exists.
pub async fn page(
    state: &AppState,
    grant: &ReportGrant,
    lang: Lang,
    expires: i64,
    name: String,
    query: &PageQuery,
) -> Result<Option<HttpResponse>, ApiError> {
    let request = match request(grant, lang, expires, name, query) {
        Ok(r) => r,
        Err(bad) => {
            return Ok(Some(rendered(
                StatusCode::BAD_REQUEST,
                page::bad_query_page(lang, &bad),
            )));
        }
    };
    match page::report_page(state.bot.db(), &state.tracker.signer, request).await {
        Ok(Some(body)) => Ok(Some(html(StatusCode::OK, body))),
        Ok(None) => Ok(None),
        Err(page::PageError::Store(e)) => Err(e.into()),
        Err(e) => Err(ApiError::internal(&e)),
    }
}
