//! Scheduled broadcasts in the chat: `send:` (`envoi:`) on a broadcast holds it until its time;
//! `broadcast edit <n>` (`diffusion modifier`) replaces it while it waits, `broadcast delete`
//! cancels it; `broadcasts` and `broadcast info` say when it goes (or why it did not).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::super::reply::{Answer, Outcome, Refusal, Reply};
use super::super::{Bot, BotError};
use super::{Caller, local_time, no_such_broadcast, q};
use crate::broadcasts::schedule::Changed;
use crate::domain::Lang;
use crate::domain::commands::FieldError;
use crate::domain::engagement::BroadcastOptions;
use crate::domain::problem::Problem;
use crate::domain::schedule::shown;
use crate::domain::text::escape_markdown;
use crate::store::broadcasts::holds::{Edit, Hold, HoldState, NewHold, Outcome as Went};
use crate::store::broadcasts::{Broadcast, NewBroadcast};
use crate::t;

type Result<T> = std::result::Result<T, BotError>;

/// When a held broadcast goes, as the admin reads it (or that it waits for something else).
fn when_text(hold: &Hold, lang: Lang) -> String {
    match hold.send_at {
        Some(at) => shown(at, hold.zone()),
        None => t!(lang, "schedule-no-time"),
    }
}

fn noted(text: String, note: String) -> Reply {
    Reply {
        answer: Answer::Text(text),
        outcome: Outcome::Noted(note),
    }
}

impl Bot {
    /// When a broadcast with `options` goes: `None` now, else the moment its `send:` line
    /// names in its `timezone:` (else the sender's zone, else `campaigns.time_zone`).
    pub(super) fn send_moment(
        &self,
        caller: &Caller,
        options: &BroadcastOptions,
    ) -> std::result::Result<Option<(DateTime<Utc>, Tz)>, FieldError> {
        let Some(local) = options.send else {
            return Ok(None);
        };
        let zone = options.time_zone.unwrap_or_else(|| self.zone(caller));
        crate::domain::schedule::send_moment(local, zone, self.clock.now())
            .map(|at| Some((at, zone)))
    }

    /// Records `new` held until `at`: numbered, nothing posted.
    pub(super) async fn schedule_broadcast(
        &self,
        caller: &Caller,
        new: NewBroadcast,
        (at, zone): (DateTime<Utc>, Tz),
        lang: Lang,
    ) -> Result<Reply> {
        let hold = NewHold {
            send_at: Some(at),
            time_zone: zone,
            awaiting: None,
            held_by: caller.actor.clone(),
        };
        let bc = self.broadcasts().hold(new, hold).await?;
        let text = t!(
            lang,
            "schedule-scheduled",
            number = bc.number,
            subject = q(&bc.subject),
            at = shown(at.naive_utc(), zone),
            audience = escape_markdown(&bc.audience),
        );
        Ok(noted(
            text,
            format!("broadcast #{} scheduled for {}", bc.number, at.to_rfc3339()),
        ))
    }

    /// The answer to a command that needs a sent broadcast (`remind`, `resend`) when `bc` has
    /// not gone out yet (or never will): `None` when it went.
    pub(in crate::bot) async fn not_sent_yet(
        &self,
        caller: &Caller,
        bc: &Broadcast,
        lang: Lang,
    ) -> Result<Option<Reply>> {
        let Some(hold) = self.broadcasts().hold_of(bc).await? else {
            return Ok(None);
        };
        Ok(match hold.state() {
            HoldState::Held => Some(Reply::refused(
                t!(
                    lang,
                    "schedule-not-sent-yet",
                    number = bc.number,
                    at = when_text(&hold, lang),
                ),
                Refusal::NotSentYet,
            )),
            HoldState::Released(Went::Sent) => None,
            HoldState::Released(_) | HoldState::Cancelled => Some(Reply::refused(
                self.held_summary(caller, bc, &hold, lang),
                Refusal::NotSentYet,
            )),
        })
    }

    /// What `broadcast info` says of a broadcast that did not go out (held, cancelled, or
    /// released to nobody); `None` for one that went.
    pub(in crate::bot) async fn held_info(
        &self,
        caller: &Caller,
        bc: &Broadcast,
        lang: Lang,
    ) -> Result<Option<Reply>> {
        let Some(hold) = self.broadcasts().hold_of(bc).await? else {
            return Ok(None);
        };
        if hold.state() == HoldState::Released(Went::Sent) {
            return Ok(None);
        }
        Ok(Some(Reply::done(
            self.held_summary(caller, bc, &hold, lang),
        )))
    }

    fn held_summary(&self, caller: &Caller, bc: &Broadcast, hold: &Hold, lang: Lang) -> String {
        let head = t!(
            lang,
            "broadcast-info-title",
            number = bc.number,
            subject = q(&bc.subject),
        );
        let tz = self.zone(caller);
        let line = match hold.state() {
            HoldState::Held => t!(
                lang,
                "schedule-info-held",
                number = bc.number,
                at = when_text(hold, lang),
                sender = escape_markdown(&bc.sender_name),
                audience = escape_markdown(&bc.audience),
            ),
            HoldState::Cancelled => t!(
                lang,
                "schedule-info-cancelled",
                at = local_time(hold.cancelled_at.unwrap_or(hold.held_at), tz),
            ),
            HoldState::Released(went) => t!(
                lang,
                "schedule-info-not-sent",
                at = local_time(hold.released_at.unwrap_or(hold.held_at), tz),
                reason = if went == Went::Unresolved {
                    "unresolved"
                } else {
                    "nobody"
                },
            ),
        };
        format!("{head}\n\n{line}")
    }

    /// The line `broadcasts` shows for a held, cancelled or unsent broadcast (`None`: the
    /// usual line).
    pub(super) fn held_line(
        &self,
        bc: &Broadcast,
        hold: Option<&Hold>,
        tz: Tz,
        lang: Lang,
    ) -> Option<String> {
        let hold = hold?;
        let state = match hold.state() {
            HoldState::Held => match hold.send_at {
                Some(at) => t!(lang, "schedule-list-held", at = shown(at, hold.zone())),
                None => t!(lang, "schedule-no-time"),
            },
            HoldState::Cancelled => t!(lang, "schedule-list-cancelled"),
            HoldState::Released(Went::Sent) => return None,
            HoldState::Released(_) => t!(
                lang,
                "schedule-list-not-sent",
                at = local_time(hold.released_at.unwrap_or(hold.held_at), tz),
            ),
        };
        Some(t!(
            lang,
            "schedule-list-line",
            number = bc.number,
            subject = q(&bc.subject),
            audience = escape_markdown(&bc.audience),
            state = state,
        ))
    }

    /// `broadcast delete` of a broadcast that was held: cancelled while it waits (`None` once
    /// it went: then it is recalled like any other).
    pub(super) async fn cancel_if_held(
        &self,
        caller: &Caller,
        bc: &Broadcast,
        lang: Lang,
    ) -> Result<Option<Reply>> {
        let broadcasts = self.broadcasts();
        let Some(hold) = broadcasts.hold_of(bc).await? else {
            return Ok(None);
        };
        match hold.state() {
            HoldState::Released(Went::Sent) => return Ok(None),
            HoldState::Held => {}
            _ => {
                return Ok(Some(Reply::refused(
                    self.held_summary(caller, bc, &hold, lang),
                    Refusal::AlreadyRecalled,
                )));
            }
        }
        let by_user = self.user_of(&caller.key).await?.map(|u| u.id);
        Ok(
            match broadcasts.cancel_held(bc, &caller.actor, by_user).await? {
                Changed::Done(bc) => Some(noted(
                    t!(
                        lang,
                        "schedule-cancelled",
                        number = bc.number,
                        subject = q(&bc.subject),
                        at = when_text(&hold, lang),
                    ),
                    format!("scheduled broadcast #{} cancelled", bc.number),
                )),
                // It went meanwhile: recalled like any other.
                Changed::NotHeld => None,
            },
        )
    }

    /// `broadcast edit <n>` followed by the lines of a broadcast: replaces its content, options
    /// and time while it waits. Without a `send:` line it keeps its time.
    pub(in crate::bot) async fn broadcast_edit(
        &self,
        caller: &Caller,
        id: &str,
        rest: &str,
        lang: Lang,
    ) -> Result<Reply> {
        if self.approval_required(caller) {
            // An edit would change what an approver approved, unseen.
            return Ok(Reply::refused(
                t!(lang, "schedule-edit-approval"),
                Refusal::BadCommand("edit while approval is required".into()),
            ));
        }
        let broadcasts = self.broadcasts();
        let Some(bc) = broadcasts.numbered(&caller.tenant, id).await? else {
            return Ok(no_such_broadcast(lang, id));
        };
        let gone = || {
            Reply::refused(
                t!(lang, "schedule-edit-gone", number = bc.number),
                Refusal::AlreadySent,
            )
        };
        // A broadcast that was never held went out when it was typed.
        let Some(hold) = broadcasts.hold_of(&bc).await? else {
            return Ok(gone());
        };
        match hold.state() {
            HoldState::Held => {}
            HoldState::Released(Went::Sent) => return Ok(gone()),
            HoldState::Cancelled => {
                return Ok(Reply::refused(
                    self.held_summary(caller, &bc, &hold, lang),
                    Refusal::AlreadyRecalled,
                ));
            }
            HoldState::Released(_) => {
                return Ok(Reply::refused(
                    self.held_summary(caller, &bc, &hold, lang),
                    Refusal::AlreadySent,
                ));
            }
        }
        let refuse = |errors: &[FieldError]| {
            let head = t!(lang, "schedule-not-edited-head", number = bc.number);
            Reply::refused(
                super::super::texts::field_errors(lang, &head, errors),
                Refusal::InvalidFields,
            )
        };
        let (options, text) = match self.options_and_text(rest) {
            Ok(parsed) => parsed,
            Err(errors) => return Ok(refuse(&errors)),
        };
        let (send_at, zone) = match self.send_moment(caller, &options) {
            Ok(Some(when)) => when,
            Ok(None) => match hold.send_at {
                Some(at) => (at.and_utc(), hold.zone()),
                None => {
                    let e = FieldError::new(
                        "send",
                        Problem::new("field-missing"),
                        crate::domain::schedule::SEND_EXAMPLE,
                    );
                    return Ok(refuse(&[e]));
                }
            },
            Err(e) => return Ok(refuse(&[e])),
        };
        let edit = Edit {
            subject: text.subject,
            body: text.body,
            install: options.install == Some(true) || self.reach.always_install,
            remind_after: options.remind_after,
            ack: options.ack,
            choices: options.choices,
            send_at,
            time_zone: zone,
        };
        Ok(match broadcasts.edit_held(&bc, edit).await? {
            Changed::Done(bc) => noted(
                t!(
                    lang,
                    "schedule-edited",
                    number = bc.number,
                    subject = q(&bc.subject),
                    at = shown(send_at.naive_utc(), zone),
                ),
                format!(
                    "scheduled broadcast #{} edited, now for {}",
                    bc.number,
                    send_at.to_rfc3339()
                ),
            ),
            Changed::NotHeld => gone(),
        })
    }
}
