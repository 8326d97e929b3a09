//! `broadcast remind <n>` (`diffusion relancer`): a reminder to those who have not read (or
//! acknowledged) it, now; and what `broadcast info` says of reminders.

use chrono_tz::Tz;

use super::super::reply::{Answer, Outcome, Refusal, Reply};
use super::super::{Bot, BotError};
use super::{Caller, local_time, no_such_broadcast};
use crate::broadcasts::remind::{Reminded, Reminder, Timing};
use crate::domain::Lang;
use crate::store::broadcasts::Broadcast;
use crate::store::broadcasts::remind as reminders;
use crate::t;

impl Bot {
    pub(in crate::bot) async fn broadcast_remind(
        &self,
        caller: &Caller,
        id: &str,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        let broadcasts = self.broadcasts();
        let Some(bc) = broadcasts.numbered(&caller.tenant, id).await? else {
            return Ok(no_such_broadcast(lang, id));
        };
        if let Some(not_yet) = self.not_sent_yet(caller, &bc, lang).await? {
            return Ok(not_yet);
        }
        let reminder = Reminder {
            automatic: false,
            requested_by: Some(caller.actor.clone()),
            timing: Timing::Now,
        };
        let number = bc.number;
        let done = |text: String, note: String| Reply {
            answer: Answer::Text(text),
            outcome: Outcome::Noted(note),
        };
        Ok(match broadcasts.remind(&bc, reminder).await? {
            Reminded::Queued { round, count } => done(
                if bc.ack {
                    t!(
                        lang,
                        "remind-queued-ack",
                        number = number,
                        count = count,
                        round = round
                    )
                } else {
                    t!(
                        lang,
                        "remind-queued",
                        number = number,
                        count = count,
                        round = round
                    )
                },
                format!("reminded {count} of broadcast #{number} (round {round})"),
            ),
            Reminded::Nobody if bc.ack => done(
                t!(lang, "remind-nobody-acked", number = number),
                format!("nobody to remind of broadcast #{number}"),
            ),
            Reminded::Nobody => done(
                t!(lang, "remind-nobody-read", number = number),
                format!("nobody to remind of broadcast #{number}"),
            ),
            Reminded::Recalled | Reminded::Taken => Reply::refused(
                t!(lang, "remind-recalled", number = number),
                Refusal::AlreadyRecalled,
            ),
            Reminded::PastRetention => Reply::refused(
                t!(lang, "remind-past-retention", number = number),
                Refusal::PastRetention,
            ),
        })
    }

    /// The lines `broadcast info` adds for reminders: the rounds (when, how many queued), the
    /// reminders delivered, and who read (or acknowledged) after their first reminder.
    pub(super) async fn reminder_lines(
        &self,
        bc: &Broadcast,
        lang: Lang,
        tz: Tz,
    ) -> Result<Vec<String>, BotError> {
        let b = bc.clone();
        let figures = self
            .db
            .run(move |conn| reminders::figures(conn, &b))
            .await?;
        if figures.rounds.is_empty() {
            return Ok(Vec::new());
        }
        let rounds: Vec<String> = figures
            .rounds
            .iter()
            .map(|r| {
                let at = local_time(r.at, tz);
                if r.automatic {
                    t!(
                        lang,
                        "remind-info-round-auto",
                        round = r.round,
                        at = at,
                        queued = r.queued
                    )
                } else {
                    t!(
                        lang,
                        "remind-info-round",
                        round = r.round,
                        at = at,
                        queued = r.queued
                    )
                }
            })
            .collect();
        let after = if bc.ack {
            t!(
                lang,
                "remind-info-acked-after",
                people = figures.after_reminder
            )
        } else {
            t!(
                lang,
                "remind-info-read-after",
                people = figures.after_reminder
            )
        };
        Ok(vec![
            t!(
                lang,
                "remind-info-rounds",
                rounds = figures.rounds.len(),
                delivered = figures.delivered,
                list = rounds.join(" · "),
            ),
            after,
        ])
    }
}
