//! The retention job: every few minutes, whether a purge is due (`retention.every` since the
//! last one by any instance, on the engine's clock); if so, it folds finished reports and
//! purges old rows in short batches (see `store::retention`), beside the sends.

use std::sync::Arc;
use std::time::Duration;

use super::Inner;
use crate::store::retention;

/// How often the job looks whether a purge is due.
const CHECK: Duration = Duration::from_secs(600);

pub(super) async fn run(inner: Arc<Inner>) {
    let check = CHECK.min(inner.config.retention.every);
    loop {
        tokio::select! {
            _ = inner.stop.cancelled() => break,
            _ = tokio::time::sleep(check) => {}
        }
        let (settings, now) = (inner.config.retention.clone(), inner.clock.now());
        let started = std::time::Instant::now();
        let purged = inner
            .db
            .run(move |conn| {
                retention::purge_if_due(conn, &settings.policy(), now, &mut |table, n| {
                    tracing::debug!(?table, rows = n, "retention batch");
                })
            })
            .await;
        match purged {
            Ok(Some(p)) => tracing::info!(
                folded = p.folded,
                batches = p.batches,
                rows = ?p.rows,
                elapsed = ?started.elapsed(),
                "retention purge done"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "retention purge failed; it will be tried again"),
        }
    }
}
