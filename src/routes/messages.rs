//! `POST /api/messages`: where the Bot Framework delivers activities.
//!
//! Order of checks: with authentication off, that the caller is a local tool (403); content
//! type (415); declared size (413); the token, from the header alone (401), before a byte of the
//! body is read; then the body, read within [`BODY_READ_TIMEOUT`] (408) by one of at most
//! [`MAX_CONCURRENT_BODIES`] readers (503 when none frees up within [`BODY_PERMIT_WAIT`]), never past
//! [`MAX_BODY_BYTES`] (413), growing with what arrives rather than with what `Content-Length`
//! claims; JSON (400); the token's activity-bound claims (401); the activity's fields (400); the
//! connector host and channel (403, in the bot). An unauthenticated caller costs a header parse
//! and learns nothing about the body.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use tokio::time::Instant;

use super::AppState;
use crate::botframework::Activity;
use crate::botframework::activity::Checked;
use crate::botframework::auth::VerifiedToken;
use crate::error::ApiError;

/// Largest accepted activity body. Teams activities are a few KiB; cards stay well below.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How long a body may take to arrive, from the end of the headers (waiting for a reader
/// included). Teams sends a few KiB at once; a slower body is a slow-loris, not a client.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a body waits for a reader when [`MAX_CONCURRENT_BODIES`] are being read: then 503,
/// which the Bot Framework retries.
pub const BODY_PERMIT_WAIT: Duration = Duration::from_secs(2);

/// Most bodies read at once. Each holds at most [`MAX_BODY_BYTES`], so bodies never hold more
/// than 32 MiB together, whoever sends them.
pub const MAX_CONCURRENT_BODIES: usize = 128;

pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if state.auth.is_none() {
        super::local::local_only(&req)?;
    }
    require_json(&req)?;
    refuse_declared_too_large(&req)?;

    let verified = match &state.auth {
        Some(auth) => {
            let header = req
                .headers()
                .get(AUTHORIZATION)
                .and_then(|h| h.to_str().ok());
            Some(auth.authenticate(header).await?)
        }
        None => None,
    };

    let body = read_body(payload, &state.body_readers).await?;
    let (activity, checked) = parse_activity(&body, verified.as_ref())?;
    match state.bot.handle(&activity, &checked).await? {
        crate::bot::Handled::Invoke(body) => Ok(HttpResponse::Ok().json(body)),
        _ => Ok(HttpResponse::Ok().finish()),
    }
}

/// What the route does with a body once the token is verified: read it as JSON (400), check
/// the token's activity-bound claims against it (401), then the fields its type needs (400).
/// `verified` is `None` when authentication is off.
pub fn parse_activity(
    body: &[u8],
    verified: Option<&VerifiedToken>,
) -> Result<(Activity, Checked), ApiError> {
    let activity: Activity = serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => ApiError::bad_request(
                "invalid_activity",
                format!("the activity has a field of the wrong type: {e}"),
            ),
            _ => {
                ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
            }
        }
    })?;

    if let Some(verified) = verified {
        verified.check_activity(
            activity.service_url.as_deref().unwrap_or_default(),
            activity.channel_id.as_deref().unwrap_or_default(),
        )?;
    }

    let checked = activity
        .validate()
        .map_err(|e| ApiError::bad_request("invalid_activity", e.to_string()))?;
    Ok((activity, checked))
}

fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "activities must be sent as application/json, not `{}`",
                if content_type.is_empty() {
                    "(none)"
                } else {
                    content_type
                }
            ),
        ))
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "activities larger than {} KiB are refused",
            MAX_BODY_BYTES / 1024
        ),
    )
}

/// A declared `Content-Length` over the limit is refused before anything else is read.
fn refuse_declared_too_large(req: &HttpRequest) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    Ok(())
}

/// Reads the body within [`BODY_READ_TIMEOUT`], holding one of the readers' permits. The buffer
/// grows with what arrives, never with what `Content-Length` claims.
async fn read_body(
    mut payload: web::Payload,
    readers: &tokio::sync::Semaphore,
) -> Result<web::BytesMut, ApiError> {
    let deadline = Instant::now() + BODY_READ_TIMEOUT;
    let _permit = tokio::time::timeout(BODY_PERMIT_WAIT, readers.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many activities are being received at once; retry shortly",
            )
        })?;
    let mut body = web::BytesMut::new();
    loop {
        let chunk = match tokio::time::timeout_at(deadline, payload.next()).await {
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    format!(
                        "the body did not arrive within {} s",
                        BODY_READ_TIMEOUT.as_secs()
                    ),
                ));
            }
            Ok(None) => break,
            Ok(Some(chunk)) => chunk.map_err(|e| {
                ApiError::bad_request(
                    "unreadable_body",
                    format!("the body could not be read: {e}"),
                )
            })?,
        };
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
