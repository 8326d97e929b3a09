//! What every request handler shares. It lives with the routes that read it; `startup` builds it.

use std::sync::Arc;

use crate::bot::Bot;
use crate::botframework::auth::Authenticator;
use crate::domain::Clock;
use crate::metrics::Metrics;

/// Shared by every request handler.
pub struct AppState {
    pub bot: Bot,
    /// `None` when authentication is off (local development).
    pub auth: Option<Authenticator>,
    pub metrics: Arc<Metrics>,
    pub tracker: Arc<crate::tracking::Tracker>,
    pub clock: Arc<dyn Clock>,
    /// Permits to read an activity's body: at most `MAX_CONCURRENT_BODIES` at once.
    pub body_readers: tokio::sync::Semaphore,
}
