//! `GET /l/{token}`: a tracked link (count the click, redirect), and `GET /reports/{token}/…`:
//! a report's chart, CSV or page (`report_page`). Tokens are signed; nothing in them is trusted
//! but ids.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::AppState;
use crate::domain::tracking::ReportFile;
use crate::error::ApiError;
use crate::reports::{ChartData, chart_png, report_csv_stream};
use crate::store::reports::{self as store_reports, Scope};

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "this link is not one of herald's, or no longer leads anywhere",
    )
}

/// Counts the click, then sends the person on to the original link.
pub async fn link(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    // Expired links answer as unknown ones: nothing is recorded either way.
    let Ok((delivery, idx)) = state.tracker.signer.open_link(&token, now.timestamp()) else {
        return Err(not_found());
    };
    let url = state
        .bot
        .db()
        .run(move |conn| crate::store::tracking::click(conn, delivery, idx, now))
        .await?;
    match url {
        Some(url) => Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()),
        None => Err(not_found()),
    }
}

/// A report file; the name in the path is only what the browser saves it as.
pub async fn report(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<super::report_page::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (token, name) = path.into_inner();
    let now = state.clock.now();
    let (grant, expires) = match state.tracker.signer.read_report(&token) {
        Ok(g) => g,
        Err(_) => return Err(not_found()),
    };
    if now.timestamp() >= expires {
        return match grant.file {
            ReportFile::Page(lang) => Ok(super::report_page::expired(lang)),
            _ => Err(ApiError::new(
                StatusCode::GONE,
                "expired",
                "this report link has expired; ask herald for the report again",
            )),
        };
    }
    if let ReportFile::Page(lang) = grant.file {
        return super::report_page::page(&state, &grant, lang, expires, name, &query)
            .await?
            .ok_or_else(not_found);
    }
    let (kind, id) = (grant.kind, grant.id.clone());
    let file = grant.file;
    let db = state.bot.db().clone();
    let built = db
        .run(move |conn| {
            let scope: Option<Scope> = crate::reports::page::scope(conn, kind, &id)?;
            let Some(scope) = scope else {
                return Ok(None);
            };
            Ok(Some(match file {
                ReportFile::Chart => {
                    let (delivered, clicked) =
                        store_reports::timeline(conn, &scope.sends, &scope.all)?;
                    let reactions = crate::store::engagement::report_reactions(
                        conn,
                        scope.reads_of.as_ref().map(store_reports::ReadsOf::subject),
                    )?;
                    Built::Chart(scope, delivered, clicked, reactions)
                }
                // (The page was answered above.) The CSV is read while it is sent.
                ReportFile::Csv | ReportFile::Page(_) => Built::Csv(scope),
            }))
        })
        .await?;
    let Some(built) = built else {
        return Err(not_found());
    };
    match built {
        Built::Chart(scope, delivered, clicked, reactions) => {
            let png = chart_png(&ChartData {
                title: &scope.title,
                delivered: ("delivered", &delivered),
                clicked: ("clicked", &clicked),
                audience: scope.audience,
                reactions: &reactions,
            })
            .map_err(|e| ApiError::internal(&e))?;
            Ok(HttpResponse::Ok()
                .content_type("image/png")
                .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
                .body(png))
        }
        Built::Csv(scope) => {
            let file_name: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            let file_name = if file_name.is_empty() {
                "recipients.csv".to_string()
            } else {
                file_name
            };
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file_name}\""),
                ))
                .insert_header((header::CACHE_CONTROL, "private, no-store"))
                .streaming(report_csv_stream(db, kind, scope)))
        }
    }
}

enum Built {
    Chart(
        Scope,
        Vec<chrono::NaiveDateTime>,
        Vec<chrono::NaiveDateTime>,
        Vec<(String, i64)>,
    ),
    Csv(Scope),
}
