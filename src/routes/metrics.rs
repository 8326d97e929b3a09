use actix_web::{HttpResponse, web};

use crate::startup::AppState;
use crate::store::deliveries;

/// Prometheus exposition. Queue depths are read from the database at each scrape.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let now = chrono::Utc::now();
    match state
        .bot
        .db()
        .run(move |conn| deliveries::queue_depth(conn, now))
        .await
    {
        Ok((due, leased)) => {
            state.metrics.queue_due.set(due);
            state.metrics.queue_leased.set(leased);
        }
        Err(e) => tracing::warn!(error = %e, "queue depth unavailable for metrics"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
