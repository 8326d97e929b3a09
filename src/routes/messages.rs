//! `POST /api/messages`: where the Bot Framework delivers activities.
//!
//! Order of checks: content type (415), size (413), token (401), JSON (400), the token's
//! activity-bound claims (401), the activity's fields (400), the connector host against
//! `bot.service_url_hosts` (403, in the bot). An unauthenticated caller learns nothing about the
//! body.

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use crate::botframework::Activity;
use crate::botframework::activity::Checked;
use crate::botframework::auth::VerifiedToken;
use crate::error::ApiError;
use crate::startup::AppState;

/// Largest accepted activity body. Teams activities are a few KiB; cards stay well below.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_json(&req)?;
    let body = read_body(&req, payload).await?;

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

    let (activity, checked) = parse_activity(&body, verified.as_ref())?;
    state.bot.handle(&activity, &checked).await?;
    Ok(HttpResponse::Ok().finish())
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

async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<web::BytesMut, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(4096).min(MAX_BODY_BYTES));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request(
                "unreadable_body",
                format!("the body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
