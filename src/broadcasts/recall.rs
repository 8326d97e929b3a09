//! `broadcast delete`: the broadcast is marked recalled, its cards not yet sent are stopped and
//! every other card is deleted through the outbox (cards this instance holds ready to send are
//! withdrawn). Once every delete is done, the admin who recalled it hears how it went.

use chrono::NaiveDateTime;

use super::Broadcasts;
use crate::domain::broadcast::RecallCounts;
use crate::domain::delivery::MessageKind;
use crate::domain::text::escape_markdown;
use crate::store::StoreError;
use crate::store::broadcasts::{self as store, Broadcast};
use crate::store::deliveries::{NewDelivery, Operation};

/// What a recall came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recall {
    /// Deleting: `deletes` cards from chats, `stopped` sends stopped before they went out.
    Started { deletes: usize, stopped: usize },
    /// Recalled before (at this moment, when known).
    AlreadyRecalled(Option<NaiveDateTime>),
    /// Its details were purged: the cards can no longer be found.
    PastRetention,
}

impl Broadcasts {
    /// Recalls `bc` on behalf of `by` (the actor as audited; `by_user`, their user id, hears
    /// how it went).
    pub async fn recall(
        &self,
        bc: &Broadcast,
        by: &str,
        by_user: Option<String>,
    ) -> Result<Recall, StoreError> {
        if let Some(at) = bc.recalled_at {
            return Ok(Recall::AlreadyRecalled(Some(at)));
        }
        if self.folded(bc).await? {
            return Ok(Recall::PastRetention);
        }
        let (b2, by, now) = (bc.clone(), by.to_string(), self.now());
        let started = self
            .outbox
            .write(move |conn, post| {
                let Some(started) = store::recall(conn, &b2, &by, by_user.as_deref(), now)? else {
                    return Ok(None);
                };
                let mut deletes = 0;
                for (message_id, items) in &started.deletes {
                    deletes += post.enqueue(conn, message_id, &b2.tenant_id, items, now)?;
                }
                // Reminders go too; the admin is told about the cards (one per chat).
                for (message_id, items) in &started.reminders {
                    post.enqueue(conn, message_id, &b2.tenant_id, items, now)?;
                }
                Ok(Some((deletes, started.stopped, started.cards)))
            })
            .await?;
        let Some((deletes, stopped, cards)) = started else {
            return Ok(Recall::AlreadyRecalled(None));
        };
        // Cards this instance holds ready to send are dropped before they go out.
        self.outbox.withdraw(&cards);
        tracing::info!(
            broadcast = bc.number,
            deletes,
            stopped,
            "broadcast recalled"
        );
        Ok(Recall::Started { deletes, stopped })
    }

    /// Reports each recall whose deletes are all done (once, whichever instance sees it
    /// first): the admin who recalled it (the sender, for older recalls) gets a notice in
    /// their language. Returns how many were reported.
    pub async fn report_finished_recalls(&self) -> Result<usize, StoreError> {
        let open = self.outbox.db().run(store::recalls_to_report).await?;
        let now = self.now();
        let mut reported = 0;
        for bc in open {
            let done = self
                .outbox
                .write(move |conn, post| {
                    let counts = store::counts(conn, &bc)?;
                    if counts.recall.pending > 0 || !store::mark_recall_reported(conn, &bc.id, now)?
                    {
                        return Ok(false);
                    }
                    let to = bc
                        .recalled_by_user
                        .clone()
                        .unwrap_or_else(|| bc.sender_id.clone());
                    let lang = store::lang_of_user(conn, &to)?;
                    let text = recall_report(lang, &bc, &counts.recall);
                    let notice = serde_json::json!({
                        "type": "message", "textFormat": "markdown", "text": text,
                    });
                    let message_id = uuid::Uuid::now_v7().to_string();
                    post.message(
                        conn,
                        &message_id,
                        &bc.tenant_id,
                        MessageKind::Notice,
                        &notice,
                        now,
                    )?;
                    let item = NewDelivery {
                        user_id: to,
                        operation: Operation::Send,
                        target_activity_id: None,
                        due: now,
                        planned: None,
                    };
                    post.enqueue(conn, &message_id, &bc.tenant_id, &[item], now)?;
                    Ok(true)
                })
                .await?;
            if done {
                reported += 1;
            }
        }
        Ok(reported)
    }
}

/// The notice the admin gets once every delete of a recall is done.
pub fn recall_report(lang: crate::domain::Lang, bc: &Broadcast, c: &RecallCounts) -> String {
    let mut text = crate::t!(
        lang,
        "broadcast-recall-report",
        number = bc.number,
        subject = escape_markdown(&bc.subject),
        removed = c.removed,
        failed = c.failed,
    );
    if c.not_sent > 0 {
        text.push(' ');
        text.push_str(&crate::t!(
            lang,
            "broadcast-recall-report-not-sent",
            count = c.not_sent
        ));
    }
    text
}
