//! Thin HTTP adapters: parse the request, call the bot or the store, map the answer.

mod graph;
mod health;
mod local;
mod messages;
mod metrics;
mod report_page;
mod state;
mod tracking;

use actix_web::web;

pub use local::local_only;
pub use messages::{
    BODY_PERMIT_WAIT, BODY_READ_TIMEOUT, MAX_BODY_BYTES, MAX_CONCURRENT_BODIES, parse_activity,
};
pub use metrics::{MetricsEndpoint, configure_own as configure_metrics};
pub use state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/messages").route(web::post().to(messages::post)))
        .service(
            web::resource("/api/graph/notifications")
                .app_data(graph::body_limit())
                .route(web::post().to(graph::notifications)),
        )
        .service(
            web::resource("/api/graph/lifecycle")
                .app_data(graph::body_limit())
                .route(web::post().to(graph::lifecycle)),
        )
        .service(web::resource("/healthz").route(web::get().to(health::healthz)))
        .service(web::resource("/readyz").route(web::get().to(health::readyz)))
        .service(web::resource("/metrics").route(web::get().to(metrics::metrics)))
        .service(web::resource("/l/{token}").route(web::get().to(tracking::link)))
        .service(web::resource("/reports/{token}/{name}").route(web::get().to(tracking::report)));
}
