//! The dispatcher: lease what is due, send each within the limits, record the outcome.
//! Pure functions in `domain::delivery` decide when to retry; this only does what they say.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::tenancy::Epoch;
use super::{Inner, broadcast, campaign, planner};
use crate::botframework::ratelimit::Slot;
use crate::botframework::{
    Activity, ChannelAccount, ConnectorError, ConversationAccount, ServiceUrl, ServiceUrlError,
};
use crate::domain::delivery::{Decision, RetryPolicy, SendFailure, later, reason};
use crate::store::broadcasts::{self, DeleteTarget};
use crate::store::deliveries::{self, Leased, Operation, Outcome, Recipient};

/// Most deliveries leased in one transaction.
const MAX_LEASE: usize = 256;
/// Pause before trying again when the database fails.
const DATABASE_BACKOFF: Duration = Duration::from_secs(1);
/// Pause when work is due but none could be leased (another instance holds it this instant).
const CONTENDED: Duration = Duration::from_millis(50);
/// Most often finished recalls are looked for while deliveries keep the dispatcher busy.
const RECALL_CHECK: Duration = Duration::from_secs(1);
/// Pause before a recall's delete asks again after its card, still being sent.
const CARD_IN_FLIGHT: chrono::TimeDelta = chrono::TimeDelta::seconds(2);

pub(super) async fn run(inner: Arc<Inner>) {
    let concurrency = inner.config.concurrency.max(1);
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    // Leased rows waiting for a free slot. Leasing ahead (up to two rounds of slots) makes one
    // lease transaction serve many sends instead of one each time a slot frees up.
    let mut ready: VecDeque<(Leased, Option<Option<String>>, Epoch)> = VecDeque::new();
    let refill_below = concurrency.div_ceil(2);
    let lease_up_to = (2 * concurrency).min(MAX_LEASE);
    let mut next_plan = inner.clock.now();
    let mut recall_checked = Instant::now();
    loop {
        while tasks.try_join_next().is_some() {}
        if inner.stop.is_cancelled() {
            break;
        }
        if (ready.is_empty() || recall_checked.elapsed() >= RECALL_CHECK)
            && inner.signals.take_recalls_due()
        {
            recall_checked = Instant::now();
            broadcast::finish_recalls(&inner).await;
        }
        if inner.clock.now() >= next_plan || inner.signals.take_replan() {
            planner::plan_due(&inner).await;
            next_plan = planner::next_check(&inner).await;
        }
        if ready.len() < refill_below {
            let now = inner.clock.now();
            let until = now
                + chrono::TimeDelta::from_std(inner.config.lease)
                    .unwrap_or(chrono::TimeDelta::seconds(60));
            let (owner, wanted) = (inner.config.instance.clone(), lease_up_to - ready.len());
            let claims = inner.tenancy.owned();
            let tenants: Vec<String> = claims.keys().cloned().collect();
            let held: Vec<i64> = inner.held().iter().copied().collect();
            match inner
                .db
                .run(move |conn| {
                    deliveries::lease(conn, &owner, &tenants, &held, now, until, wanted)
                })
                .await
            {
                Ok(rows) => {
                    inner.held().extend(rows.iter().map(|r| r.delivery.id));
                    for (row, presence) in with_presence(&inner, rows).await {
                        // Leased just now from the tenants of `claims`.
                        let epoch = claims.get(&row.delivery.tenant_id).copied();
                        if let Some(epoch) = epoch {
                            ready.push_back((row, presence, epoch));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "leasing deliveries failed; retrying");
                    if ready.is_empty() {
                        tokio::select! {
                            _ = tokio::time::sleep(DATABASE_BACKOFF) => continue,
                            _ = inner.stop.cancelled() => break,
                        }
                    }
                }
            }
        }
        if ready.is_empty() {
            idle(&inner, next_plan).await;
            continue;
        }
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = inner.stop.cancelled() => break,
        };
        if let Some((row, presence, epoch)) = ready.pop_front() {
            let inner = inner.clone();
            tasks.spawn(async move { deliver(&inner, row, presence, epoch, permit).await });
        }
    }
    // Stopping: no more leasing; what was leased ahead is given back by the shutdown; let what
    // is in flight finish.
    while tasks.join_next().await.is_some() {}
}

/// Leased rows with the presence their campaign needs (looked up in batches), if any.
async fn with_presence(inner: &Inner, rows: Vec<Leased>) -> Vec<(Leased, Option<Option<String>>)> {
    let mut flagged = Vec::with_capacity(rows.len());
    for row in rows {
        let needs = match inner.payload(&row.delivery.message_id).await {
            Ok(Some(p)) => p
                .campaign
                .as_ref()
                .is_some_and(|c| c.policy.needs_presence()),
            _ => false,
        };
        flagged.push((row, needs));
    }
    if !flagged.iter().any(|(_, needs)| *needs) {
        return flagged.into_iter().map(|(row, _)| (row, None)).collect();
    }
    let mut found = campaign::presence_for(inner, &flagged).await;
    flagged
        .into_iter()
        .map(|(row, needs)| {
            let presence = needs.then(|| found.remove(&row.delivery.id).flatten());
            (row, presence)
        })
        .collect()
}

/// Sleeps until the earliest due delivery of the tenants dispatched here, the planner's next
/// look, a wake-up (work enqueued, or a tenant claimed), the tick, or the stop.
async fn idle(inner: &Inner, next_plan: chrono::DateTime<chrono::Utc>) {
    let tenants: Vec<String> = inner.tenancy.owned().into_keys().collect();
    let next = inner
        .db
        .run(move |conn| deliveries::next_due(conn, &tenants))
        .await;
    let now = inner.clock.now();
    let tick =
        chrono::TimeDelta::from_std(inner.config.tick).unwrap_or(chrono::TimeDelta::seconds(30));
    let wake_at = next_plan.min(now + tick);
    let sleep = match next {
        Ok(Some(t)) if t > now => inner.clock.sleep_until(t.min(wake_at)),
        Ok(Some(_)) => Box::pin(tokio::time::sleep(CONTENDED)),
        Ok(None) => inner.clock.sleep_until(wake_at),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the next due time");
            Box::pin(tokio::time::sleep(DATABASE_BACKOFF))
        }
    };
    tokio::select! {
        _ = sleep => {}
        _ = inner.signals.dispatcher.notified() => {}
        _ = inner.stop.cancelled() => {}
    }
}

/// Attempts one delivery, frees its sending slot, then records what happened (the row stays
/// leased until then, so nobody else takes it meanwhile).
async fn deliver(
    inner: &Inner,
    leased: Leased,
    presence: Option<Option<String>>,
    epoch: Epoch,
    slot: tokio::sync::OwnedSemaphorePermit,
) {
    let outcome = attempt(inner, &leased, presence, epoch).await;
    drop(slot);
    let m = &inner.metrics;
    match &outcome {
        Outcome::Delivered { .. } => m.delivered.inc(),
        Outcome::Retry { .. } => m.retried.inc(),
        Outcome::Failed { .. } => m.failed.inc(),
        Outcome::Released { .. } => m.released.inc(),
        Outcome::Absent { .. } => m.absent.inc(),
        Outcome::Expired { .. } => m.expired.inc(),
    }
    let requeued = matches!(
        outcome,
        Outcome::Retry { .. } | Outcome::Released { .. } | Outcome::Absent { .. }
    );
    let recall_step = leased.delivery.operation == Operation::Delete.as_str()
        && matches!(outcome, Outcome::Delivered { .. } | Outcome::Failed { .. });
    record_outcome(inner, leased.delivery.id, outcome).await;
    inner.held().remove(&leased.delivery.id);
    if recall_step {
        inner.signals.recalls_changed();
    }
    if requeued || recall_step {
        // The dispatcher may be asleep until a moment computed before this row came back.
        inner.signals.dispatcher.notify_one();
    }
}

/// Records an outcome, trying again for as long as the database is away: this instance never
/// leases its own rows again, so a send whose outcome waits here is not repeated once the
/// database returns. Only a shutdown gives up (the delivery is then tried again after its
/// lease runs out: a send repeated, never one lost).
async fn record_outcome(inner: &Inner, id: i64, outcome: Outcome) {
    let mut pause = Duration::from_millis(100);
    loop {
        match inner.recorder.submit(outcome.clone()).await {
            Ok(_) => return,
            Err(e) if inner.stop.is_cancelled() => {
                tracing::warn!(delivery_id = id, error = %e,
                    "outcome not recorded; the lease will run out and the delivery be tried again");
                return;
            }
            Err(e) => {
                tracing::debug!(delivery_id = id, error = %e, "outcome not recorded yet; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
    }
}

fn failed(id: i64, reason: &str, error: impl Into<String>) -> Outcome {
    Outcome::Failed {
        id,
        reason: reason.to_string(),
        error: error.into(),
        user_gone: None,
    }
}

#[tracing::instrument(skip_all, fields(delivery_id = leased.delivery.id, tenant = %leased.delivery.tenant_id))]
async fn attempt(
    inner: &Inner,
    leased: &Leased,
    presence: Option<Option<String>>,
    epoch: Epoch,
) -> Outcome {
    let (d, user) = (&leased.delivery, &leased.user);
    let Some(operation) = Operation::parse(&d.operation) else {
        return failed(
            d.id,
            reason::BAD_MESSAGE,
            format!("unknown operation `{}`", d.operation),
        );
    };
    if !user.installed {
        let why = user
            .not_installed_reason
            .as_deref()
            .unwrap_or("not installed");
        return failed(d.id, reason::NOT_INSTALLED, why);
    }
    let service_url = match inner.service_url(&user.service_url) {
        Ok(url) => url,
        Err(e) => {
            return failed(
                d.id,
                reason::BAD_MESSAGE,
                format!("the user's service URL cannot be called: {e}"),
            );
        }
    };
    // A recall's delete of a card that was still on its way when the recall began.
    let mut found_target = None;
    if operation == Operation::Delete && d.target_activity_id.is_none() {
        let (message_id, user_id, now) = (d.message_id.clone(), user.id.clone(), inner.clock.now());
        match inner
            .db
            .run(move |conn| broadcasts::resolve_delete_target(conn, &message_id, &user_id, now))
            .await
        {
            Ok(DeleteTarget::Activity(a)) => found_target = Some(a),
            Ok(DeleteTarget::Wait) => {
                return Outcome::Released {
                    id: d.id,
                    at: Some(inner.clock.now() + CARD_IN_FLIGHT),
                };
            }
            Ok(DeleteTarget::Nothing) => {
                return failed(d.id, reason::NOT_SENT, "the card never reached this chat");
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not look up what to delete");
                return Outcome::Released {
                    id: d.id,
                    at: Some(inner.clock.now() + CARD_IN_FLIGHT),
                };
            }
        }
    }
    let target = d.target_activity_id.as_deref().or(found_target.as_deref());
    if operation != Operation::Send && target.is_none() {
        return failed(d.id, reason::BAD_MESSAGE, "no activity to update or delete");
    }
    let prepared = match operation {
        Operation::Delete => Prepared::Delete,
        Operation::Send | Operation::Update => match inner.payload(&d.message_id).await {
            Ok(Some(p)) if operation == Operation::Send => match &p.campaign {
                None if p.links.is_empty() => Prepared::Send(p.body_for(user)),
                None => {
                    let body = String::from_utf8(p.body_for(user)).unwrap_or_default();
                    Prepared::Send(inner.fill_links(&body, &p.links, d.id).into_bytes())
                }
                Some(c) => {
                    let now = inner.clock.now();
                    if let Some(held) = c.hold_back(inner, d, presence.flatten().as_deref(), now) {
                        return held;
                    }
                    match c.text_for(user) {
                        Ok(text) => {
                            let mut a = addressed(&p.activity, user);
                            a.text = Some(inner.fill_links(&text, &p.links, d.id));
                            // Serialising an activity (strings, numbers, JSON values) cannot fail.
                            Prepared::Send(serde_json::to_vec(&a).unwrap_or_default())
                        }
                        Err(e) => return failed(d.id, reason::BAD_MESSAGE, e),
                    }
                }
            },
            Ok(Some(p)) => {
                let mut a = addressed(&p.activity, user);
                if !p.links.is_empty() {
                    // Serialising and reading back an activity cannot fail.
                    let json = serde_json::to_string(&a).unwrap_or_default();
                    if let Ok(filled) =
                        serde_json::from_str(&inner.fill_links(&json, &p.links, d.id))
                    {
                        a = filled;
                    }
                }
                Prepared::Update(Box::new(a))
            }
            Ok(None) => {
                return failed(
                    d.id,
                    reason::BAD_MESSAGE,
                    "the message no longer exists or is not an activity",
                );
            }
            // The database failed, not the message: put it back for later.
            Err(()) => return Outcome::Released { id: d.id, at: None },
        },
    };

    // Wait for a moment that keeps every limit; hand the row back if that is far off.
    let deadline = Instant::now() + inner.config.lease / 2;
    let reserved = loop {
        match inner.limits.reserve(
            &d.tenant_id,
            &user.conversation_id,
            Instant::now(),
            deadline,
        ) {
            Slot::NotBefore(t) => {
                let wait = t.saturating_duration_since(Instant::now());
                return Outcome::Released {
                    id: d.id,
                    at: Some(later(inner.clock.now(), wait)),
                };
            }
            Slot::At(t) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(t) => {}
                    _ = inner.stop.cancelled() => return Outcome::Released { id: d.id, at: None },
                }
                // A 429 may have paused the tenant while this send waited.
                if inner
                    .limits
                    .paused_until(&d.tenant_id, Instant::now())
                    .is_none()
                {
                    break t;
                }
            }
        }
    };

    // This instance's claim on the tenant lapsed while the send waited (the database is away,
    // or the claim was lost, even if won back since): another instance may be sending for the
    // tenant, and may have sent this very delivery.
    if !inner.tenancy.owns(&d.tenant_id, epoch) {
        return Outcome::Released { id: d.id, at: None };
    }
    // Recalled while this send waited: it must not go out.
    if operation == Operation::Send && inner.signals.is_withdrawn(&d.message_id) {
        return failed(
            d.id,
            reason::RECALLED,
            "the broadcast was recalled before this send",
        );
    }
    let started = Instant::now();
    inner
        .limits
        .sent(&d.tenant_id, &user.conversation_id, reserved, started);
    let conversation = user.conversation_id.as_str();
    let result = match (prepared, target) {
        (Prepared::Send(body), _) => inner
            .connector
            .send_json(&service_url, conversation, body)
            .await
            .map(|r| r.id),
        (Prepared::Update(mut a), Some(target)) => {
            // The replacement carries the id of the activity it replaces, as Teams expects.
            a.id = Some(target.to_string());
            inner
                .connector
                .update_activity(&service_url, conversation, target, &a)
                .await
                .map(|()| Some(target.to_string()))
        }
        (Prepared::Delete, Some(target)) => inner
            .connector
            .delete_activity(&service_url, conversation, target)
            .await
            .map(|()| None),
        // Ruled out above: sends and updates have an activity, updates and deletes a target.
        _ => return failed(d.id, reason::BAD_MESSAGE, "incomplete delivery"),
    };
    inner
        .metrics
        .connector_seconds
        .observe(started.elapsed().as_secs_f64());

    let error = match result {
        Ok(activity_id) => {
            return Outcome::Delivered {
                id: d.id,
                activity_id,
            };
        }
        Err(e) => e,
    };
    let attempts = d.attempts.max(0) as u32 + 1;
    let jitter: f64 = rand::random();
    let failure = match error {
        ConnectorError::Throttled { retry_after } => {
            inner.metrics.throttled.inc();
            // Capped at `retry_max`: a huge or far-future Retry-After must not stall the tenant.
            let wait =
                RetryPolicy::throttle_wait(&inner.config.retry, retry_after, attempts, jitter);
            // The whole tenant slows down, not only this message.
            let limits = &inner.limits;
            limits.pause_tenant_for(&d.tenant_id, Instant::now(), wait);
            SendFailure::Throttled { retry_after }
        }
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

/// `from` (the bot), `recipient` (the user) and `conversation` (their 1:1 chat).
fn addressing(user: &Recipient) -> (ChannelAccount, ChannelAccount, ConversationAccount) {
    (
        ChannelAccount {
            id: user.bot_id.clone(),
            ..ChannelAccount::default()
        },
        ChannelAccount {
            id: user.channel_user_id.clone(),
            name: user.display_name.clone(),
            ..ChannelAccount::default()
        },
        ConversationAccount {
            id: user.conversation_id.clone(),
            ..ConversationAccount::default()
        },
    )
}

/// The message's activity, addressed to one user's 1:1 chat with the bot.
fn addressed(template: &Activity, user: &Recipient) -> Activity {
    let mut a = template.clone();
    a.kind.get_or_insert_with(|| "message".to_string());
    let (from, recipient, conversation) = addressing(user);
    a.from = Some(from);
    a.recipient = Some(recipient);
    a.conversation = Some(conversation);
    a
}

/// What a delivery sends, ready to go.
enum Prepared {
    Send(Vec<u8>),
    Update(Box<Activity>),
    Delete,
}

/// A message's activity, and its JSON without the addressing fields: each recipient's body is
/// that JSON with their own `from`, `recipient` and `conversation` put in front.
pub(super) struct Payload {
    activity: Activity,
    tail: String,
    /// The message's tracked links, by number: its text holds markers in their place.
    links: Vec<String>,
    /// Set when the message is a campaign's: each recipient's text is personalised.
    pub(super) campaign: Option<campaign::CampaignRender>,
}

impl Payload {
    fn new(activity: Activity) -> Payload {
        let mut bare = activity.clone();
        bare.from = None;
        bare.recipient = None;
        bare.conversation = None;
        bare.kind.get_or_insert_with(|| "message".to_string());
        // Serialising an activity (strings, numbers and JSON values) cannot fail.
        let tail = serde_json::to_string(&bare).unwrap_or_else(|_| "{}".to_string());
        Payload {
            activity,
            tail,
            links: Vec::new(),
            campaign: None,
        }
    }

    /// The activity for `user`, serialised.
    fn body_for(&self, user: &Recipient) -> Vec<u8> {
        let a = addressing(user);
        let mut out = Vec::with_capacity(self.tail.len() + 256);
        out.extend_from_slice(b"{\"from\":");
        // Plain strings into memory: these writes cannot fail.
        let _ = serde_json::to_writer(&mut out, &a.0);
        out.extend_from_slice(b",\"recipient\":");
        let _ = serde_json::to_writer(&mut out, &a.1);
        out.extend_from_slice(b",\"conversation\":");
        let _ = serde_json::to_writer(&mut out, &a.2);
        let rest = self.tail.strip_prefix('{').unwrap_or("}");
        if rest != "}" {
            out.push(b',');
        }
        out.extend_from_slice(rest.as_bytes());
        out
    }
}

/// Message payloads, parsed once: a broadcast's thousands of deliveries share one.
#[derive(Default)]
pub(super) struct Payloads {
    cache: Mutex<HashMap<String, Arc<Payload>>>,
}

/// Parsed service URLs, by their text: a tenant's users share a handful.
#[derive(Default)]
pub(super) struct ServiceUrls {
    cache: Mutex<HashMap<String, ServiceUrl>>,
}

impl Inner {
    /// The parsed URL, if it may be called (`bot.service_url_hosts`).
    fn service_url(&self, text: &str) -> Result<ServiceUrl, ServiceUrlError> {
        // A poisoned lock only means a panic elsewhere; the map is still whole.
        let mut cache = self
            .service_urls
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(url) = cache.get(text) {
            return Ok(url.clone());
        }
        let url = ServiceUrl::parse(text)?;
        // A refused URL is never cached: a change of the list takes effect at the next start.
        self.config.service_urls.check(&url)?;
        if cache.len() >= PAYLOAD_CACHE {
            cache.clear();
        }
        cache.insert(text.to_string(), url.clone());
        Ok(url)
    }
}

impl Inner {
    fn held(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<i64>> {
        // A poisoned lock only means a panic elsewhere; the set is still whole.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `text` with each link marker replaced by this delivery's tracked URL (or, with tracking
    /// off since, the link itself).
    fn fill_links(&self, text: &str, links: &[String], delivery_id: i64) -> String {
        let now = self.clock.now();
        let tracker = self.config.tracker.as_deref();
        crate::domain::tracking::fill_links(text, links.len(), |i| {
            tracker
                .and_then(|t| t.link_url(delivery_id, i, now))
                .unwrap_or_else(|| links[i].clone())
        })
    }
}

/// Payloads kept at most; the cache is emptied when it grows past this.
const PAYLOAD_CACHE: usize = 1024;

impl Inner {
    /// The message's activity; `Ok(None)` when it is gone or unreadable, `Err` when the
    /// database could not be asked.
    async fn payload(&self, message_id: &str) -> Result<Option<Arc<Payload>>, ()> {
        // A poisoned lock only means a panic elsewhere; the map is still whole.
        if let Some(a) = self
            .payloads
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(message_id)
        {
            return Ok(Some(a.clone()));
        }
        let id = message_id.to_string();
        let loaded = self
            .db
            .run(move |conn| {
                let Some((kind, text)) = deliveries::message(conn, &id)? else {
                    return Ok(None);
                };
                let campaign = if kind == "campaign" {
                    crate::store::campaigns::get(conn, &id)?
                } else {
                    None
                };
                let links = crate::store::tracking::links(conn, &id)?;
                Ok(Some((text, campaign, links)))
            })
            .await;
        let (text, campaign_row, links) = match loaded {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            Err(e) => {
                tracing::warn!(error = %e, "could not load a message");
                return Err(());
            }
        };
        let activity: Activity = match serde_json::from_str(&text) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, message_id, "a stored message is not an activity");
                return Ok(None);
            }
        };
        let mut payload = Payload::new(activity);
        let tracked = !links.is_empty();
        payload.links = links;
        if let Some(row) = &campaign_row {
            match campaign::CampaignRender::new(row, tracked) {
                Some(render) => payload.campaign = Some(render),
                None => {
                    tracing::error!(message_id, "a stored campaign cannot be read back");
                    return Ok(None);
                }
            }
        }
        let activity = Arc::new(payload);
        let mut cache = self
            .payloads
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() >= PAYLOAD_CACHE {
            cache.clear();
        }
        cache.insert(message_id.to_string(), activity.clone());
        Ok(Some(activity))
    }
}
