//! `GET /metrics`: Prometheus exposition, optionally behind a bearer token
//! (`server.metrics_token`) and optionally on its own address (`server.metrics_bind`).

use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use super::AppState;
use crate::store::deliveries;

/// How one listener serves `/metrics`.
#[derive(Clone)]
pub struct MetricsEndpoint {
    /// False on the main address when metrics have an address of their own: 404 there.
    served_here: bool,
    /// SHA-256 of the token asked for, if any: compared digest to digest in constant time,
    /// so neither the token nor its length leaks through timing.
    token: Option<[u8; 32]>,
}

impl MetricsEndpoint {
    pub fn new(served_here: bool, token: Option<&str>) -> MetricsEndpoint {
        MetricsEndpoint {
            served_here,
            token: token.map(|t| Sha256::digest(t.as_bytes()).into()),
        }
    }

    fn authorized(&self, req: &HttpRequest) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        let given = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            // The scheme's case does not matter (RFC 9110); the token's does.
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .unwrap_or_default();
        let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        // Every byte compared whatever the others: no early exit.
        expected
            .iter()
            .zip(given)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// Routes `/metrics` alone: the app of `server.metrics_bind`.
pub fn configure_own(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics").route(web::get().to(metrics)));
}

/// Prometheus exposition. Queue depths are read from the database at most every few seconds.
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
    endpoint: Option<web::Data<MetricsEndpoint>>,
) -> HttpResponse {
    let endpoint = endpoint.map(|e| e.get_ref().clone());
    let endpoint = endpoint.unwrap_or_else(|| MetricsEndpoint::new(true, None));
    if !endpoint.served_here {
        return HttpResponse::NotFound().finish();
    }
    if !endpoint.authorized(&req) {
        return HttpResponse::Unauthorized()
            .insert_header((WWW_AUTHENTICATE, "Bearer"))
            .json(serde_json::json!({"error": {
                "code": "unauthorized",
                "message": "/metrics needs Authorization: Bearer <server.metrics_token>",
            }}));
    }
    let db = state.bot.db().clone();
    state
        .metrics
        .refresh_queue(|| async move {
            let now = chrono::Utc::now();
            db.run(move |conn| deliveries::queue_depth(conn, now)).await
        })
        .await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
