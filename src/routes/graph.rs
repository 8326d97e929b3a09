//! Microsoft Graph change notifications for presence: `POST /api/graph/notifications` and
//! `POST /api/graph/lifecycle`. Both answer Graph's validation handshake (the
//! `validationToken` query parameter echoed as text/plain); notifications are answered 202 at
//! once, their presences fetched afterwards. Without presence subscriptions: 404.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, X_CONTENT_TYPE_OPTIONS};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::error::ApiError;

use crate::presence::Keeper;
use crate::presence::notifications::{self, Batch};

/// Longest validation token echoed back.
const MAX_TOKEN: usize = 2048;
/// Largest notification body read (Graph's presence notifications carry no resource data:
/// 1,000 of them fit well within this).
pub const MAX_BODY: usize = 512 * 1024;

/// The body limit of both routes.
pub fn body_limit() -> web::PayloadConfig {
    web::PayloadConfig::new(MAX_BODY)
}

type Query = HashMap<String, String>;

/// The query string; its reading error otherwise.
fn query_of(req: &HttpRequest) -> Result<Query, String> {
    web::Query::<Query>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| e.to_string())
}

fn handshake(query: &Query) -> Option<HttpResponse> {
    let token = query.get("validationToken")?;
    Some(if token.len() > MAX_TOKEN {
        ApiError::bad_request(
            "validation_token_too_long",
            format!("validationToken is longer than {MAX_TOKEN} characters"),
        )
        .error_response()
    } else {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .insert_header((X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
            .body(token.clone())
    })
}

async fn answer<F, Fut>(
    keeper: Option<web::Data<Arc<Keeper>>>,
    req: HttpRequest,
    body: web::Bytes,
    act: F,
) -> HttpResponse
where
    F: FnOnce(Arc<Keeper>, Batch) -> Fut,
    Fut: std::future::Future<Output = Result<usize, crate::store::StoreError>>,
{
    let Some(keeper) = keeper else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "presence_notifications_off",
            "herald does not subscribe to presence changes (Microsoft Graph is off)",
        )
        .error_response();
    };
    let query = match query_of(&req) {
        Ok(query) => query,
        Err(e) => {
            return ApiError::bad_request("invalid_query", format!("unreadable query string: {e}"))
                .error_response();
        }
    };
    if let Some(response) = handshake(&query) {
        return response;
    }
    let batch = match notifications::parse(&body) {
        Ok(batch) => batch,
        Err(e) => {
            tracing::debug!(error = %e, "refused a Graph notification body");
            return ApiError::bad_request("invalid_notifications", e.to_string()).error_response();
        }
    };
    match act(keeper.get_ref().clone(), batch).await {
        Ok(_) => HttpResponse::Accepted().finish(),
        Err(e) => {
            // Graph delivers again later.
            tracing::warn!(error = %e, "Graph notifications not handled");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database cannot be reached; deliver again later",
            )
            .error_response()
        }
    }
}

pub async fn notifications(
    keeper: Option<web::Data<Arc<Keeper>>>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    answer(keeper, req, body, |k, b| async move {
        notifications::changed(&k, b).await
    })
    .await
}

pub async fn lifecycle(
    keeper: Option<web::Data<Arc<Keeper>>>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    answer(keeper, req, body, |k, b| async move {
        notifications::lifecycle(&k, b).await
    })
    .await
}
