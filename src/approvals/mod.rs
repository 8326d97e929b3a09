//! Four-eyes approval, the use cases: a campaign or broadcast an admin saves where approval is
//! required waits; each approver who installed herald gets a card ([`cards`]); the first
//! decision wins (one conditional update); the author is told through the outbox; every step is
//! in the audit log. A campaign waits as `awaiting approval` (the planner plans only scheduled
//! ones); a broadcast is held here as typed and sent once approved (the chat layer releases it
//! through `Broadcasts::send`). Results are typed; `bot/approvals.rs` words them.

pub mod cards;
pub mod held;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::broadcasts::name_of;
use crate::domain::Lang;
use crate::domain::approval::{ApprovalPolicy, RequestStatus, Subject};
use crate::domain::campaign::CampaignStatus;
use crate::domain::clock::Clock;
use crate::domain::delivery::{MessageKind, Operation};
use crate::outbox::{Outbox, Posting};
use crate::store::approvals::{self as store, Approval, NewApproval};
use crate::store::broadcasts::{NewBroadcast, lang_of_user};
use crate::store::campaigns::Campaign;
use crate::store::deliveries::NewDelivery;
use crate::store::users::User;
use crate::store::{Conn, StoreError, audit};

pub use held::HeldBroadcast;

/// What asking for approval came to.
#[derive(Debug)]
pub enum Requested {
    /// Recorded; a card on its way to each of `approvers`.
    Asked {
        approval: Box<Approval>,
        approvers: usize,
    },
    /// No approver (other than the author) has installed herald: nothing recorded.
    NoApprover,
}

/// An approver's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject(String),
}

/// What a press of **Approve** or **Reject** came to.
#[derive(Debug)]
pub enum Decided {
    /// This press decided it. `late`: a campaign approved after its start (nothing goes; the
    /// author is told to pick a new start). A held broadcast approved is to be released.
    Done { approval: Approval, late: bool },
    /// Decided before (by whoever `approval` names), or superseded by an edit.
    AlreadyDecided(Approval),
    /// The author's own request: an author cannot approve their own message.
    OwnRequest,
    /// The presser is not an approver of the request's tenant.
    NotApprover,
    /// A rejection without a reason.
    NeedsReason,
    /// No such request (or its campaign was deleted).
    Gone,
}

/// The approval use cases, over the outbox (and its database).
#[derive(Clone)]
pub struct Approvals {
    outbox: Outbox,
    clock: Arc<dyn Clock>,
    policy: ApprovalPolicy,
}

/// What the approver cards need to show, rendered per approver inside the request's
/// transaction.
type Render<'a> = dyn Fn(&mut Conn<'_>, &Approval, &User) -> Result<serde_json::Value, StoreError>
    + Send
    + Sync
    + 'a;

impl Approvals {
    pub fn new(outbox: Outbox, clock: Arc<dyn Clock>, policy: ApprovalPolicy) -> Approvals {
        Approvals {
            outbox,
            clock,
            policy,
        }
    }

    pub fn policy(&self) -> &ApprovalPolicy {
        &self.policy
    }

    /// Whether what admins of `tenant` send waits for approval.
    pub fn required(&self, tenant: &str) -> bool {
        self.policy.required(tenant)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Asks the approvers of `campaign` (saved as awaiting approval by `author`).
    pub async fn request_campaign(
        &self,
        author: &User,
        actor: &str,
        campaign: &Campaign,
    ) -> Result<Requested, StoreError> {
        let c = campaign.clone();
        let new = Request {
            subject: Subject::Campaign,
            campaign_id: Some(c.id.clone()),
            held: None,
            title: c.name.clone(),
        };
        let author_name = name_of(author);
        let render: Box<Render<'static>> = Box::new(move |conn, a, approver| {
            held::campaign_card(conn, a, &author_name, &c, approver)
        });
        self.request(author, actor, new, render).await
    }

    /// Holds broadcast `new` (typed by `author`) and asks the approvers.
    pub async fn request_broadcast(
        &self,
        author: &User,
        actor: &str,
        new: &NewBroadcast,
        when: Option<(DateTime<Utc>, Tz)>,
    ) -> Result<Requested, StoreError> {
        let held = HeldBroadcast::from_new(new, when);
        let json = serde_json::to_string(&held)
            .map_err(|e| StoreError::Query(diesel::result::Error::SerializationError(e.into())))?;
        let request = Request {
            subject: Subject::Broadcast,
            campaign_id: None,
            held: Some(json),
            title: new.subject.clone(),
        };
        let render: Box<Render<'static>> =
            Box::new(move |conn, a, approver| held::broadcast_card(conn, a, &held, approver));
        self.request(author, actor, request, render).await
    }

    async fn request(
        &self,
        author: &User,
        actor: &str,
        request: Request,
        render: Box<Render<'static>>,
    ) -> Result<Requested, StoreError> {
        let rule = self.policy.rule(&author.tenant_id);
        let identities: Vec<String> = rule.approvers.into_iter().collect();
        let (author, actor, now) = (author.clone(), actor.to_string(), self.now());
        self.outbox
            .write(move |conn, post| {
                let approvers: Vec<User> =
                    store::users_known_as(conn, &author.tenant_id, &identities)?
                        .into_iter()
                        .filter(|u| u.id != author.id)
                        .collect();
                if approvers.is_empty() {
                    return Ok(Requested::NoApprover);
                }
                let approval = store::insert(
                    conn,
                    &NewApproval {
                        tenant_id: &author.tenant_id,
                        subject: request.subject,
                        campaign_id: request.campaign_id.as_deref(),
                        held: request.held.as_deref(),
                        title: &request.title,
                        author_id: &author.id,
                        author_actor: &actor,
                        asked: approvers.len() as i32,
                    },
                    now,
                )?;
                for approver in &approvers {
                    let card = render(conn, &approval, approver)?;
                    send(conn, post, &approval.tenant_id, &approver.id, &card, now)?;
                }
                audit::record(
                    conn,
                    &approval.tenant_id,
                    &actor,
                    &format!("approval request: {} {}", request.subject, request.title),
                    &format!("asked {} approvers", approvers.len()),
                    now,
                )?;
                Ok(Requested::Asked {
                    approvers: approvers.len(),
                    approval: Box::new(approval),
                })
            })
            .await
    }

    /// `approver` pressed **Approve** or **Reject** on request `id`. The first decision wins;
    /// the author is told (of an approved broadcast, once it is released: [`Approvals::released`]);
    /// every press is audited.
    pub async fn decide(
        &self,
        id: &str,
        approver: &User,
        decision: Decision,
    ) -> Result<Decided, StoreError> {
        let identities: Vec<&str> = [
            approver.aad_object_id.as_deref(),
            approver.user_principal_name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let is_approver = self.policy.is_approver(&approver.tenant_id, &identities);
        let actor = identities
            .first()
            .map(|s| s.to_string())
            .unwrap_or_else(|| approver.id.clone());
        let (id, approver, now) = (id.to_string(), approver.clone(), self.now());
        let decided = self
            .outbox
            .write(move |conn, post| {
                decide_on(
                    conn,
                    post,
                    &id,
                    &approver,
                    &actor,
                    is_approver,
                    decision,
                    now,
                )
            })
            .await?;
        if matches!(&decided, Decided::Done { approval, late: false }
            if approval.subject.0 == Subject::Campaign && approval.status.0 == RequestStatus::Approved)
        {
            // Scheduled now: the planner looks at its start.
            self.outbox.wake();
        }
        Ok(decided)
    }

    /// An approved broadcast was released: the outcome is noted, audited and told its author
    /// (`told`: the sentence, in the author's language, from the chat layer).
    pub async fn released(
        &self,
        approval: &Approval,
        outcome: &str,
        told: impl FnOnce(Lang) -> String + Send + 'static,
    ) -> Result<(), StoreError> {
        let (a, outcome, now) = (approval.clone(), outcome.to_string(), self.now());
        self.outbox
            .write(move |conn, post| {
                store::set_outcome(conn, &a.id, &outcome)?;
                let lang = lang_of_user(conn, &a.author_id)?;
                notify(conn, post, &a.tenant_id, &a.author_id, &told(lang), now)?;
                audit::record(
                    conn,
                    &a.tenant_id,
                    &a.author_actor,
                    &format!("approved broadcast released: {}", a.title),
                    &outcome,
                    now,
                )
            })
            .await
    }
}

/// What a request is about, before it is recorded.
struct Request {
    subject: Subject,
    campaign_id: Option<String>,
    held: Option<String>,
    title: String,
}

#[allow(clippy::too_many_arguments)]
fn decide_on(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    id: &str,
    approver: &User,
    actor: &str,
    is_approver: bool,
    decision: Decision,
    now: DateTime<Utc>,
) -> Result<Decided, StoreError> {
    let Some(a) = store::get(conn, id)? else {
        return Ok(Decided::Gone);
    };
    let verb = match &decision {
        Decision::Approve => "approve",
        Decision::Reject(_) => "reject",
    };
    let action = format!("{verb} {}: {}", a.subject.0, a.title);
    let refuse = |conn: &mut Conn<'_>, why: &str, result: Decided| -> Result<Decided, StoreError> {
        audit::record(
            conn,
            &a.tenant_id,
            actor,
            &action,
            &format!("refused: {why}"),
            now,
        )?;
        Ok(result)
    };
    if a.tenant_id != approver.tenant_id || !is_approver {
        return refuse(conn, "not an approver", Decided::NotApprover);
    }
    if a.author_id == approver.id {
        return refuse(conn, "own request", Decided::OwnRequest);
    }
    if a.status.0 != RequestStatus::Pending {
        let why = format!("already {}", a.status.0);
        return refuse(conn, &why, Decided::AlreadyDecided(a.clone()));
    }
    let (to, reason) = match &decision {
        Decision::Approve => (RequestStatus::Approved, None),
        Decision::Reject(r) => match crate::domain::approval::reason(r) {
            Some(r) => (RequestStatus::Rejected, Some(r)),
            None => return refuse(conn, "no reason", Decided::NeedsReason),
        },
    };
    let campaign = match &a.campaign_id {
        Some(cid) => match crate::store::campaigns::get(conn, cid)? {
            Some(c) => Some(c),
            None => return Ok(Decided::Gone),
        },
        None => None,
    };
    let name = name_of(approver);
    if !store::decide(conn, &a.id, to, approver, &name, reason.as_deref(), now)? {
        let now_stands = store::get(conn, &a.id)?.unwrap_or(a.clone());
        return refuse(conn, "already decided", Decided::AlreadyDecided(now_stands));
    }
    let late = to == RequestStatus::Approved
        && campaign
            .as_ref()
            .is_some_and(|c| c.start_at.and_utc() <= now);
    if let Some(c) = &campaign {
        if late {
            store::set_outcome(conn, &a.id, "start passed: not sent")?;
        } else {
            let status = if to == RequestStatus::Approved {
                CampaignStatus::Scheduled
            } else {
                CampaignStatus::Rejected
            };
            store::move_campaign(conn, &c.id, status, now)?;
            store::set_outcome(conn, &a.id, status.as_str())?;
        }
    }
    let outcome = match (&reason, late) {
        (Some(r), _) => format!("rejected: {r}"),
        (None, true) => "approved after the start: not sent".to_string(),
        (None, false) => "approved".to_string(),
    };
    audit::record(conn, &a.tenant_id, actor, &action, &outcome, now)?;
    let a = store::get(conn, &a.id)?.unwrap_or(a);
    // The author hears now, except of an approved broadcast: once it is released.
    if a.subject.0 == Subject::Campaign || to == RequestStatus::Rejected {
        let lang = lang_of_user(conn, &a.author_id)?;
        let text = held::decision_notice(lang, &a, campaign.as_ref(), late);
        notify(conn, post, &a.tenant_id, &a.author_id, &text, now)?;
    }
    Ok(Decided::Done { approval: a, late })
}

/// Posts `activity` to `user_id` through the outbox.
fn send(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    tenant: &str,
    user_id: &str,
    activity: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let message_id = uuid::Uuid::now_v7().to_string();
    post.message(
        conn,
        &message_id,
        tenant,
        MessageKind::Notice,
        activity,
        now,
    )?;
    let item = NewDelivery {
        user_id: user_id.to_string(),
        operation: Operation::Send,
        target_activity_id: None,
        due: now,
        planned: None,
    };
    post.enqueue(conn, &message_id, tenant, &[item], now)?;
    Ok(())
}

/// A proactive text message to `user_id` (the author).
fn notify(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    tenant: &str,
    user_id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let notice = serde_json::json!({"type": "message", "textFormat": "markdown", "text": text});
    send(conn, post, tenant, user_id, &notice, now)
}
