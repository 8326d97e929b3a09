//! `broadcast resend <n>`: the card again to those it missed, and how many.

use super::super::reply::{Answer, Outcome, Refusal, Reply};
use super::super::{Bot, BotError};
use super::{Caller, no_such_broadcast};
use crate::broadcasts::resend::Resent;
use crate::domain::Lang;
use crate::t;

impl Bot {
    pub(in crate::bot) async fn broadcast_resend(
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
        Ok(match broadcasts.resend(&bc).await? {
            Resent::Done(counts) => {
                let mut text = if counts.total() == 0 {
                    t!(lang, "resend-broadcast-none", number = bc.number)
                } else {
                    t!(
                        lang,
                        "resend-broadcast-done",
                        number = bc.number,
                        total = counts.total(),
                        failed = counts.failed_again,
                        newly = counts.newly_reached,
                    )
                };
                text.push_str(&super::super::texts::left_out(lang, &counts));
                Reply {
                    answer: Answer::Text(text),
                    outcome: Outcome::Noted(format!(
                        "resent {} of broadcast #{}",
                        counts.total(),
                        bc.number
                    )),
                }
            }
            Resent::Recalled => Reply::refused(
                t!(lang, "resend-recalled", number = bc.number),
                Refusal::AlreadyRecalled,
            ),
        })
    }
}
