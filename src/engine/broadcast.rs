//! Broadcast recalls: once every delete of a recall is done, its sender hears how it went.

use super::Inner;
use crate::domain::broadcast::recall_report;
use crate::domain::text::escape_markdown;
use crate::store::broadcasts;

/// Reports each recall whose deletes are all done (once, whichever instance sees it first).
pub(super) async fn finish_recalls(inner: &Inner) {
    let now = inner.clock.now();
    let reported = inner
        .db
        .run(move |conn| {
            broadcasts::finish_recalls(
                conn,
                &|b, counts, lang| {
                    let text = recall_report(lang, b.number, &escape_markdown(&b.subject), counts);
                    serde_json::json!({"type": "message", "textFormat": "markdown", "text": text})
                },
                now,
            )
        })
        .await;
    match reported {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(recalls = n, "broadcast recalls reported");
            inner.signals.dispatcher.notify_one();
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not report finished recalls; will look again");
            inner.signals.recalls_changed();
        }
    }
}
