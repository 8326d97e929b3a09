//! Four-eyes approval in the chat: what an admin is answered when what they send waits for an
//! approver, an approver's **Approve** / **Reject** (an `adaptiveCard/action` invoke), and the
//! release of an approved broadcast. The use cases are `crate::approvals`'.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::caller::Caller;
use super::reply::{Answer, Outcome, Refusal, Reply};
use super::{Bot, BotError};
use crate::approvals::cards::{self, decided_card};
use crate::approvals::{Approvals, Decided, Decision, HeldBroadcast, Requested};
use crate::botframework::invoke;
use crate::broadcasts::Sent;
use crate::domain::Lang;
use crate::domain::approval::Subject;
use crate::domain::schedule::shown;
use crate::domain::text::escape_markdown;
use crate::store::StoreError;
use crate::store::approvals::Approval;
use crate::store::broadcasts::holds::NewHold;
use crate::store::broadcasts::{Broadcast, NewBroadcast};
use crate::store::campaigns::Campaign;
use crate::store::users::{self, User};
use crate::t;

impl Bot {
    /// The approval use cases, on this bot's outbox, clock and `[approval]` rules.
    pub(super) fn approvals(&self) -> Approvals {
        Approvals::new(
            self.outbox.clone(),
            self.clock.clone(),
            self.approval.clone(),
        )
    }

    /// Whether what `caller` sends waits for an approver.
    pub(super) fn approval_required(&self, caller: &Caller) -> bool {
        self.approval.required(&caller.tenant)
    }

    async fn author(&self, caller: &Caller) -> Result<Option<User>, StoreError> {
        let key = caller.key.clone();
        self.db.run(move |conn| users::find(conn, &key)).await
    }

    /// A broadcast typed where approval is required: held, and the approvers asked.
    pub(super) async fn hold_broadcast(
        &self,
        caller: &Caller,
        sender: &User,
        new: NewBroadcast,
        when: Option<(DateTime<Utc>, Tz)>,
        lang: Lang,
    ) -> Result<Reply, BotError> {
        Ok(
            match self
                .approvals()
                .request_broadcast(sender, &caller.actor, &new, when)
                .await?
            {
                Requested::Asked { approvers, .. } => Reply {
                    answer: Answer::Text(t!(
                        lang,
                        "approval-held-broadcast",
                        subject = escape_markdown(&new.subject),
                        count = approvers,
                    )),
                    outcome: Outcome::Noted("awaiting approval".into()),
                },
                Requested::NoApprover => Reply::refused(
                    t!(lang, "approval-no-approver-broadcast"),
                    Refusal::BadCommand("no approver has installed herald".into()),
                ),
            },
        )
    }

    /// A campaign saved as awaiting approval: the approvers are asked; the line the author's
    /// answer starts with.
    pub(super) async fn ask_campaign_approval(
        &self,
        caller: &Caller,
        campaign: &Campaign,
        lang: Lang,
    ) -> Result<String, BotError> {
        let name = escape_markdown(&campaign.name);
        let Some(author) = self.author(caller).await? else {
            return Ok(t!(lang, "approval-no-approver-campaign", name = name));
        };
        Ok(
            match self
                .approvals()
                .request_campaign(&author, &caller.actor, campaign)
                .await?
            {
                Requested::Asked { approvers, .. } => {
                    t!(
                        lang,
                        "approval-held-campaign",
                        name = name,
                        count = approvers
                    )
                }
                Requested::NoApprover => t!(lang, "approval-no-approver-campaign", name = name),
            },
        )
    }

    /// The one place an approved broadcast leaves its hold: sent now through
    /// `Broadcasts::send`, or, with a `send:` time still to come, handed to the scheduler
    /// (held until then, as if typed now). A time that passed while it waited is not sent late.
    pub(super) async fn release_broadcast(
        &self,
        held: HeldBroadcast,
        actor: &str,
    ) -> Result<Released, StoreError> {
        let when = held.when();
        let new = held.into_new();
        match when {
            None => Ok(Released::Sent(self.broadcasts().send(new).await?)),
            Some((at, _)) if at <= self.clock.now() => Ok(Released::Late(at)),
            Some((at, zone)) => {
                let hold = NewHold {
                    send_at: Some(at),
                    time_zone: zone,
                    awaiting: None,
                    held_by: actor.to_string(),
                };
                let bc = self.broadcasts().hold(new, hold).await?;
                Ok(Released::Scheduled(Box::new(bc), at, zone))
            }
        }
    }

    /// An approver's press on a request's card (`data` as the card carries it, with the reason
    /// box's value). Returns the invoke response: the decided card, or why not.
    pub(in crate::bot) async fn approval_pressed(
        &self,
        user: &User,
        data: &Value,
        lang: Lang,
        tz: Tz,
    ) -> Result<Value, BotError> {
        let field = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or_default();
        let decision = match field("decision") {
            cards::APPROVE => Decision::Approve,
            cards::REJECT => Decision::Reject(field(cards::REASON).to_string()),
            _ => return Ok(refused(lang, "BadRequest", "approval-refused-not-approver")),
        };
        let decided = self
            .approvals()
            .decide(field("approval"), user, decision)
            .await?;
        let at = |a: &Approval| {
            a.decided_at
                .map(|at| {
                    at.and_utc()
                        .with_timezone(&tz)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default()
        };
        Ok(match decided {
            Decided::Done { approval, late } => {
                if approval.subject.0 == Subject::Broadcast
                    && approval.status.0 == crate::domain::approval::RequestStatus::Approved
                    && !late
                {
                    self.release(&approval).await?;
                }
                invoke::card(decided_card(lang, &approval, &at(&approval)))
            }
            Decided::AlreadyDecided(approval) => {
                invoke::card(decided_card(lang, &approval, &at(&approval)))
            }
            Decided::OwnRequest => refused(lang, "OwnRequest", "approval-refused-own"),
            Decided::NotApprover => refused(lang, "NotApprover", "approval-refused-not-approver"),
            Decided::NeedsReason => refused(lang, "NeedsReason", "approval-refused-needs-reason"),
            Decided::Gone => refused(lang, "Gone", "approval-gone"),
        })
    }

    /// Sends an approved broadcast and tells its author how that went.
    async fn release(&self, approval: &Approval) -> Result<(), BotError> {
        let Some(held) = HeldBroadcast::of(approval) else {
            tracing::error!(approval = %approval.id, "an approved broadcast's request does not read");
            return Ok(());
        };
        let by = escape_markdown(approval.decided_by_name.as_deref().unwrap_or("?"));
        let title = escape_markdown(&approval.title);
        let (outcome, told): (String, Box<dyn FnOnce(Lang) -> String + Send>) =
            match self.release_broadcast(held, &approval.author_actor).await? {
                Released::Scheduled(bc, at, zone) => (
                    format!("broadcast #{} scheduled for {}", bc.number, at.to_rfc3339()),
                    Box::new(move |lang| {
                        t!(
                            lang,
                            "approval-told-broadcast-scheduled",
                            by = by,
                            title = title,
                            number = bc.number,
                            at = shown(at.naive_utc(), zone),
                        )
                    }),
                ),
                Released::Late(at) => (
                    format!(
                        "not sent: its time {} passed while it waited",
                        at.to_rfc3339()
                    ),
                    Box::new(move |lang| {
                        t!(lang, "approval-told-broadcast-late", by = by, title = title)
                    }),
                ),
                Released::Sent(Sent::Sent(bc, _)) => (
                    format!("broadcast #{}", bc.number),
                    Box::new(move |lang| {
                        t!(
                            lang,
                            "approval-told-broadcast-sent",
                            by = by,
                            title = title,
                            number = bc.number,
                            count = bc.targeted,
                        )
                    }),
                ),
                Released::Sent(Sent::Nobody(_)) => (
                    "nobody to send to".into(),
                    Box::new(move |lang| {
                        t!(
                            lang,
                            "approval-told-broadcast-nobody",
                            by = by,
                            title = title
                        )
                    }),
                ),
                Released::Sent(Sent::Unresolved(_)) => (
                    "groups not resolved".into(),
                    Box::new(move |lang| {
                        t!(
                            lang,
                            "approval-told-broadcast-unresolved",
                            by = by,
                            title = title
                        )
                    }),
                ),
            };
        self.approvals().released(approval, &outcome, told).await?;
        Ok(())
    }
}

/// What became of an approved broadcast.
pub(super) enum Released {
    /// Sent now (or why not).
    Sent(Sent),
    /// Its `send:` time is still to come: held until then.
    Scheduled(Box<Broadcast>, DateTime<Utc>, Tz),
    /// Its `send:` time passed while it waited for approval: not sent.
    Late(DateTime<Utc>),
}

fn refused(lang: Lang, code: &str, id: &'static str) -> Value {
    invoke::error(400, code, &crate::texts::lookup(lang, id, &[]))
}
