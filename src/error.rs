//! Error policy.
//!
//! Library code returns typed errors (thiserror) that say what happened. Only the HTTP edge
//! turns them into responses, here: bad input is a 4xx with a stable snake_case `code` and a
//! readable `message`; failed authentication 401; an unavailable database 503; anything else an
//! opaque 500 whose cause chain is logged and never sent. Bodies are always
//! `{"error":{"code":…,"message":…}}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::bot::BotError;
use crate::botframework::auth::AuthError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// An internal failure: the cause is logged here and only a generic message is sent.
    pub fn internal(cause: &dyn std::error::Error) -> ApiError {
        tracing::error!(error = %error_chain(cause), "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "herald could not handle this request; the cause is in its log",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .json(json!({"error": {"code": self.code, "message": self.message}}))
    }
}

/// `error: cause: cause…`, for logs.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        match e {
            AuthError::KeysUnavailable(_) => {
                tracing::error!(error = %e, "cannot authenticate requests");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "auth_keys_unavailable",
                    "signing keys cannot be fetched right now; retry later",
                )
            }
            other => {
                tracing::info!(reason = %other, "unauthenticated request refused");
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", other.to_string())
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(_) => {
                tracing::error!(error = %error_chain(&e), "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database is unavailable; retry later",
                )
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<BotError> for ApiError {
    fn from(e: BotError) -> ApiError {
        match e {
            BotError::BadActivity(m) => ApiError::bad_request("invalid_activity", m),
            BotError::ServiceUrlNotAllowed(e) => {
                // Authenticated and well formed, but pointing herald somewhere it will not go:
                // the sender is known and refused, so 403 (a new Microsoft host shows up here).
                tracing::warn!(reason = %e, "activity refused: its serviceUrl host is not in bot.service_url_hosts");
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "service_url_not_allowed",
                    format!("{e} (bot.service_url_hosts)"),
                )
            }
            BotError::ChannelMismatch(e) => {
                tracing::warn!(reason = %e, "activity refused: its channel and serviceUrl disagree");
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "channel_service_url_mismatch",
                    e.to_string(),
                )
            }
            BotError::Store(s) => s.into(),
            BotError::Fields(errors) => ApiError::bad_request(
                "invalid_fields",
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        }
    }
}
