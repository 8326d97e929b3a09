//! Broadcast recalls: once every delete of a recall is done, its sender hears how it went
//! (`crate::broadcasts` writes and posts the notice).

use super::Inner;
use crate::broadcasts::Broadcasts;

/// Reports each recall whose deletes are all done (once, whichever instance sees it first).
pub(super) async fn finish_recalls(inner: &Inner) {
    let broadcasts = Broadcasts::new(inner.outbox.clone(), inner.clock.clone());
    match broadcasts.report_finished_recalls().await {
        Ok(0) => {}
        // The notices went through the outbox, which woke the dispatcher for them.
        Ok(n) => tracing::info!(recalls = n, "broadcast recalls reported"),
        Err(e) => {
            tracing::warn!(error = %e, "could not report finished recalls; will look again");
            inner.signals.mark_recalls_due();
        }
    }
}
