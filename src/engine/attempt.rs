//! One delivery: decide whether it can go, prepare what it sends, wait for its slot, send it
//! through the [`Sender`](super::send::Sender), repair the recipient's chat if it was gone,
//! and judge what the connector answered. Each step either hands the next what it needs or
//! ends the attempt with its [`Outcome`].

use tokio::time::Instant;

use super::Inner;
use super::send::{Post, Turn, addressed};
use super::tenancy::Epoch;
use crate::botframework::{Activity, ConnectorError, ServiceUrl};
use crate::domain::delivery::{Decision, Operation, SendFailure, later, reason};
use crate::store::broadcasts::{self, DeleteTarget};
use crate::store::deliveries::{Leased, Outcome, Recipient, Work};

/// Pause before a recall's delete asks again after its card, still being sent.
const CARD_IN_FLIGHT: chrono::TimeDelta = chrono::TimeDelta::seconds(2);

/// What a delivery sends, ready to go.
enum Prepared {
    Send(Vec<u8>),
    Update(Box<Activity>),
    Delete,
}

/// A step's verdict: go on with `T`, or end the attempt with this outcome.
type Step<T> = Result<T, Outcome>;

fn failed(id: i64, reason: &str, error: impl Into<String>) -> Outcome {
    Outcome::Failed {
        id,
        reason: reason.to_string(),
        error: error.into(),
        user_gone: None,
    }
}

#[tracing::instrument(skip_all, fields(delivery_id = leased.delivery.id, tenant = %leased.delivery.tenant_id))]
pub(super) async fn attempt(
    inner: &Inner,
    leased: &Leased,
    presence: Option<Option<String>>,
    epoch: Epoch,
) -> Outcome {
    match try_attempt(inner, leased, presence, epoch).await {
        Ok(outcome) | Err(outcome) => outcome,
    }
}

async fn try_attempt(
    inner: &Inner,
    leased: &Leased,
    presence: Option<Option<String>>,
    epoch: Epoch,
) -> Step<Outcome> {
    let (d, user) = (&leased.delivery, &leased.user);
    let operation = match &d.operation {
        Ok(op) => *op,
        Err(unknown) => return Err(failed(d.id, reason::BAD_MESSAGE, unknown.to_string())),
    };
    let service_url = reachable(inner, d, user)?;
    let target = target(inner, d, user, operation).await?;
    let prepared = prepare(inner, d, user, operation, presence.clone()).await?;
    let reserved = wait_turn(inner, d, user).await?;
    // One of the engine's sending slots, from now until the attempt ends (a repair included).
    let Ok(_slot) = inner.sending.acquire().await else {
        return Err(Outcome::Released { id: d.id, at: None });
    };
    still_ours(inner, d, operation, epoch)?;
    let post = match (prepared, target.as_deref()) {
        (Prepared::Send(body), _) => Post::Send(body),
        (Prepared::Update(a), Some(target)) => Post::Update(a, target),
        (Prepared::Delete, Some(target)) => Post::Delete(target),
        // Ruled out above: sends and updates have an activity, updates and deletes a target.
        _ => return Err(failed(d.id, reason::BAD_MESSAGE, "incomplete delivery")),
    };
    let attempts = d.attempts.max(0) as u32 + 1;
    let jitter: f64 = rand::random();
    let sent = inner
        .sender
        .post(
            &d.tenant_id,
            &service_url,
            user,
            post,
            reserved,
            attempts,
            jitter,
        )
        .await;
    let error = match sent {
        Ok(activity_id) => {
            return Ok(Outcome::Delivered {
                id: d.id,
                activity_id,
            });
        }
        Err(error) => error,
    };
    let Some(gone) = chat_gone(&error) else {
        return Ok(judge(inner, d, user, error, attempts, jitter));
    };
    if operation != Operation::Send {
        // A chat opened again holds none of the old messages: nothing to update or delete
        // there, and no repair loop. A bot out of the roster is judged as before (gone).
        if matches!(error, ConnectorError::Permanent { .. }) {
            return Err(failed(
                d.id,
                reason::CHAT_GONE,
                format!("{gone}: the chat was deleted, and with it the message to change"),
            ));
        }
        return Ok(judge(inner, d, user, error, attempts, jitter));
    }
    let tries = Tries { attempts, jitter };
    Ok(repair(inner, d, user, &service_url, presence, epoch, gone, tries).await)
}

/// The code of a connector answer that says the recipient's 1:1 chat is gone (deleted, or the
/// bot no longer in it), which opening the chat again may mend.
fn chat_gone(error: &ConnectorError) -> Option<String> {
    match error {
        ConnectorError::Permanent { status: 404, code } if code == "ConversationNotFound" => {
            Some(code.clone())
        }
        ConnectorError::RecipientGone { code } if code == "BotNotInConversationRoster" => {
            Some(code.clone())
        }
        _ => None,
    }
}

/// This attempt's number (counting it) and its jitter, for backoffs.
#[derive(Clone, Copy)]
struct Tries {
    attempts: u32,
    jitter: f64,
}

/// The self-repair: the recipient's chat was gone (`gone`), so it is opened again through the
/// connector (within the tenant's limits), recorded as theirs with one more repair on the
/// delivery, and the send tried once more, right away. If the connector refuses to open it
/// (403/404: they removed herald), they are not installed and the delivery ends so.
#[allow(clippy::too_many_arguments)]
async fn repair(
    inner: &Inner,
    d: &Work,
    user: &Recipient,
    url: &ServiceUrl,
    presence: Option<Option<String>>,
    epoch: Epoch,
    gone: String,
    tries: Tries,
) -> Outcome {
    let Tries { attempts, jitter } = tries;
    let reserved = match wait_turn(inner, d, user).await {
        Ok(reserved) => reserved,
        Err(outcome) => return outcome,
    };
    if let Err(outcome) = still_ours(inner, d, Operation::Send, epoch) {
        return outcome;
    }
    let opened = inner
        .sender
        .reopen(&d.tenant_id, url, user, reserved, attempts, jitter)
        .await;
    let conversation = match opened {
        Ok(conversation) => conversation,
        Err(
            e @ (ConnectorError::Permanent {
                status: 403 | 404, ..
            }
            | ConnectorError::RecipientGone { .. }),
        ) => {
            tracing::info!(%gone, error = %e, "chat gone and not opened again: not installed");
            return Outcome::Failed {
                id: d.id,
                reason: reason::NOT_INSTALLED.to_string(),
                error: format!("{gone}; opening the chat again was refused: {e}"),
                user_gone: Some(user.id.clone()),
            };
        }
        Err(e) => return judge(inner, d, user, e, attempts, jitter),
    };
    let (owner, id, user_id, now) = (
        inner.config.instance.clone(),
        d.id,
        user.id.clone(),
        inner.clock.now(),
    );
    let chat = conversation.clone();
    match inner
        .db
        .run(move |conn| {
            crate::store::deliveries::record_repair(conn, &owner, id, &user_id, &chat, now)
        })
        .await
    {
        Ok(true) => {}
        // The lease is no longer ours: someone else has the delivery now.
        Ok(false) => return Outcome::Released { id: d.id, at: None },
        Err(e) => {
            // The next attempt meets the gone chat again and repairs it then.
            tracing::warn!(error = %e, "could not record the repaired chat");
            return Outcome::Released { id: d.id, at: None };
        }
    }
    tracing::info!(%gone, "chat opened again; sending once more");
    let mut repaired = user.clone();
    repaired.conversation_id = conversation;
    let body = match prepare(inner, d, &repaired, Operation::Send, presence).await {
        Ok(Prepared::Send(body)) => body,
        Ok(_) => return failed(d.id, reason::BAD_MESSAGE, "incomplete delivery"),
        Err(outcome) => return outcome,
    };
    let reserved = match wait_turn(inner, d, &repaired).await {
        Ok(reserved) => reserved,
        Err(outcome) => return outcome,
    };
    if let Err(outcome) = still_ours(inner, d, Operation::Send, epoch) {
        return outcome;
    }
    let sent = inner
        .sender
        .post(
            &d.tenant_id,
            url,
            &repaired,
            Post::Send(body),
            reserved,
            attempts,
            jitter,
        )
        .await;
    match sent {
        Ok(activity_id) => Outcome::Delivered {
            id: d.id,
            activity_id,
        },
        Err(error) => judge(inner, d, &repaired, error, attempts, jitter),
    }
}

/// The recipient can be reached: installed, at a service URL herald may call.
fn reachable(inner: &Inner, d: &Work, user: &Recipient) -> Step<ServiceUrl> {
    if !user.installed {
        let why = user
            .not_installed_reason
            .as_deref()
            .unwrap_or("not installed");
        return Err(failed(d.id, reason::NOT_INSTALLED, why));
    }
    inner.sender.service_url(&user.service_url).map_err(|e| {
        failed(
            d.id,
            reason::BAD_MESSAGE,
            format!("the user's service URL cannot be called: {e}"),
        )
    })
}

/// The activity an update or a delete acts on: the row's, or (for a recall's delete of a card
/// that was still on its way when the recall began) the card's, once it is known.
async fn target(
    inner: &Inner,
    d: &Work,
    user: &Recipient,
    operation: Operation,
) -> Step<Option<String>> {
    let mut target = d.target_activity_id.clone();
    if operation == Operation::Delete && target.is_none() {
        let (message_id, user_id, now) = (d.message_id.clone(), user.id.clone(), inner.clock.now());
        let wait = Outcome::Released {
            id: d.id,
            at: Some(inner.clock.now() + CARD_IN_FLIGHT),
        };
        match inner
            .db
            .run(move |conn| broadcasts::resolve_delete_target(conn, &message_id, &user_id, now))
            .await
        {
            Ok(DeleteTarget::Activity(a)) => target = Some(a),
            Ok(DeleteTarget::Wait) => return Err(wait),
            Ok(DeleteTarget::Nothing) => {
                return Err(failed(
                    d.id,
                    reason::NOT_SENT,
                    "the card never reached this chat",
                ));
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not look up what to delete");
                return Err(wait);
            }
        }
    }
    if operation != Operation::Send && target.is_none() {
        return Err(failed(
            d.id,
            reason::BAD_MESSAGE,
            "no activity to update or delete",
        ));
    }
    Ok(target)
}

/// What the delivery sends: the message addressed to the recipient, a campaign's text
/// personalised for them (unless presence holds it back), tracked links filled in.
async fn prepare(
    inner: &Inner,
    d: &Work,
    user: &Recipient,
    operation: Operation,
    presence: Option<Option<String>>,
) -> Step<Prepared> {
    if operation == Operation::Delete {
        return Ok(Prepared::Delete);
    }
    let p = match inner.payload(&d.message_id).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Err(failed(
                d.id,
                reason::BAD_MESSAGE,
                "the message no longer exists or is not an activity",
            ));
        }
        // The database failed, not the message: put it back for later.
        Err(()) => return Err(Outcome::Released { id: d.id, at: None }),
    };
    if operation == Operation::Update {
        let mut a = addressed(&p.activity, user);
        if !p.links.is_empty() {
            // Serialising and reading back an activity cannot fail.
            let json = serde_json::to_string(&a).unwrap_or_default();
            if let Ok(filled) = serde_json::from_str(&inner.fill_links(&json, &p.links, d.id)) {
                a = filled;
            }
        }
        return Ok(Prepared::Update(Box::new(a)));
    }
    let Some(c) = &p.campaign else {
        if p.links.is_empty() {
            return Ok(Prepared::Send(p.body_for(user)));
        }
        let body = String::from_utf8(p.body_for(user)).unwrap_or_default();
        return Ok(Prepared::Send(
            inner.fill_links(&body, &p.links, d.id).into_bytes(),
        ));
    };
    let now = inner.clock.now();
    if let Some(held) = c.hold_back(inner, d, presence.flatten().as_deref(), now) {
        return Err(held);
    }
    let text = c
        .text_for(user)
        .map_err(|e| failed(d.id, reason::BAD_MESSAGE, e))?;
    let mut a = addressed(&p.activity, user);
    a.text = Some(inner.fill_links(&text, &p.links, d.id));
    // Serialising an activity (strings, numbers, JSON values) cannot fail.
    Ok(Prepared::Send(serde_json::to_vec(&a).unwrap_or_default()))
}

/// Waits for a moment that keeps every limit; hands the row back if that is far off.
async fn wait_turn(inner: &Inner, d: &Work, user: &Recipient) -> Step<Instant> {
    let deadline = Instant::now() + inner.config.lease / 2;
    match inner
        .sender
        .wait_turn(&d.tenant_id, &user.conversation_id, deadline)
        .await
    {
        Turn::Go(reserved) => Ok(reserved),
        Turn::NotBefore(wait) => Err(Outcome::Released {
            id: d.id,
            at: Some(later(inner.clock.now(), wait)),
        }),
        Turn::Stopped => Err(Outcome::Released { id: d.id, at: None }),
    }
}

/// Nothing changed while the send waited that forbids it now.
fn still_ours(inner: &Inner, d: &Work, operation: Operation, epoch: Epoch) -> Step<()> {
    // This instance's claim on the tenant lapsed while the send waited (the database is away,
    // or the claim was lost, even if won back since): another instance may be sending for the
    // tenant, and may have sent this very delivery.
    if !inner.tenancy.owns(&d.tenant_id, epoch) {
        return Err(Outcome::Released { id: d.id, at: None });
    }
    // Recalled while this send waited: it must not go out.
    if operation == Operation::Send && inner.signals.is_withdrawn(&d.message_id) {
        return Err(failed(
            d.id,
            reason::RECALLED,
            "the broadcast was recalled before this send",
        ));
    }
    Ok(())
}

/// What to do after the connector refused: retry later, or give up (and, when the recipient
/// removed or blocked the bot, say so).
fn judge(
    inner: &Inner,
    d: &Work,
    user: &Recipient,
    error: ConnectorError,
    attempts: u32,
    jitter: f64,
) -> Outcome {
    let failure = match error {
        // The sender already paused the tenant.
        ConnectorError::Throttled { retry_after } => SendFailure::Throttled { retry_after },
        ConnectorError::Transient { status, detail } => SendFailure::Transient {
            detail: match status {
                Some(s) => format!("HTTP {s} {detail}"),
                None => detail,
            },
        },
        ConnectorError::RecipientGone { code } => SendFailure::RecipientGone { code },
        ConnectorError::Permanent { status, code } => SendFailure::Permanent { status, code },
        ConnectorError::Token(e) => SendFailure::Transient {
            detail: format!("bot token: {e}"),
        },
    };
    match inner.config.retry.decide(&failure, attempts, jitter) {
        Decision::Retry { after, detail } => {
            inner.metrics.retries.inc();
            tracing::debug!(attempts, ?after, %detail, "send failed; will retry");
            Outcome::Retry {
                id: d.id,
                at: later(inner.clock.now(), after),
                error: detail,
            }
        }
        Decision::Fail {
            reason,
            detail,
            recipient_gone,
        } => {
            tracing::info!(attempts, reason, %detail, "delivery failed");
            Outcome::Failed {
                id: d.id,
                reason: reason.to_string(),
                error: detail,
                user_gone: recipient_gone.then(|| user.id.clone()),
            }
        }
    }
}
