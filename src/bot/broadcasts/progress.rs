//! The sender's confirmation of a broadcast as a live progress card: posted as the answer to
//! the command, its activity id recorded so the engine updates it in place while the broadcast
//! goes out (see `crate::progress`).

use super::super::reply::{Answer, Progress};
use super::{Bot, Tz};
use crate::domain::Lang;
use crate::domain::progress::Figures;
use crate::progress::{self, Snapshot};
use crate::store::broadcasts::Broadcast;

impl Bot {
    /// The confirmation of `bc`, sent by `user_id`: `paragraphs` above its figures as they
    /// stand at the start (everyone waiting).
    pub(super) fn progress_answer(
        &self,
        bc: &Broadcast,
        user_id: &str,
        paragraphs: Vec<String>,
        lang: Lang,
        tz: Tz,
    ) -> Answer {
        let start = Snapshot {
            figures: Figures {
                delivered: 0,
                failed: 0,
                waiting: i64::from(bc.targeted),
            },
            sending: true,
            last_planned: None,
        };
        let now = self.clock.now();
        let rps = self.sender.tenant_rps();
        let card = progress::render(lang, &paragraphs, &start, now, tz, rps);
        Answer::Progress(Box::new(Progress {
            card,
            broadcast_id: bc.id.clone(),
            tenant_id: bc.tenant_id.clone(),
            user_id: user_id.to_string(),
            lang,
            intro: paragraphs,
        }))
    }

    /// The confirmation card was posted as `activity_id`: from now on it follows the broadcast.
    /// A failure is logged: the broadcast went out, only its card stays as first shown.
    pub(in crate::bot) async fn follow_progress(&self, p: Progress, activity_id: String) {
        if activity_id.is_empty() {
            tracing::warn!("the confirmation card got no id from Teams; it cannot be updated");
            return;
        }
        let now = self.clock.now();
        let followed = self
            .db
            .run(move |conn| {
                progress::follow_broadcast(
                    conn,
                    &p.broadcast_id,
                    &p.tenant_id,
                    &p.user_id,
                    p.lang,
                    &p.intro,
                    &activity_id,
                    now,
                )
            })
            .await;
        if let Err(e) = followed {
            tracing::warn!(error = %e, "a broadcast's progress card could not be recorded");
        }
    }
}
