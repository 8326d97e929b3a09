use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers; otherwise 503 so a load balancer stops sending traffic here.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.bot.db().ping().await {
        HttpResponse::Ok().json(json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(
            json!({"error": {"code": "database_unavailable", "message": "the database does not answer"}}),
        )
    }
}
