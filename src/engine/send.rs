//! The one send path: address a recipient, render a campaign's text for them, check their
//! service URL, wait for the tenant's and the conversation's rate limits, post through the
//! connector. The dispatcher sends every delivery through it; use cases that answer one person
//! at once (a `campaign test`, a chat reply) use [`Sender::send_now`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::campaign::CampaignRender;
use crate::botframework::ratelimit::{SendLimits, Slot};
use crate::botframework::{
    Activity, ChannelAccount, ConnectorClient, ConnectorError, ConversationAccount, ServiceUrl,
    ServiceUrlError, ServiceUrlPolicy,
};
use crate::domain::delivery::RetryPolicy;
use crate::domain::ids::TenantId;
use crate::metrics::Metrics;
use crate::store::campaigns::Campaign;
use crate::store::deliveries::Recipient;

/// Parsed service URLs kept at most; the cache is emptied when it grows past this.
const SERVICE_URL_CACHE: usize = 1024;

/// Sends to one person's 1:1 chat with the bot, within every limit the engine keeps.
///
/// Cheap to clone: every clone shares the engine's [`SendLimits`] (so a send through it counts
/// against the same tenant and conversation windows as the dispatcher's, and waits when a 429
/// paused the tenant), its service-URL policy (`bot.service_url_hosts`) and its connector.
/// Get one with [`super::Engine::sender`].
///
/// - [`Sender::send_now`]: address, check, wait for a slot, post; the sent activity's id.
/// - [`Sender::campaign_activity`]: a campaign's message as the engine renders it for one
///   recipient (what `campaign test` sends to the admin), addressed to them.
/// - [`Sender::addressed`]: any activity addressed to a recipient's chat.
#[derive(Clone)]
pub struct Sender {
    shared: Arc<Shared>,
}

struct Shared {
    connector: ConnectorClient,
    limits: SendLimits,
    policy: ServiceUrlPolicy,
    retry: RetryPolicy,
    /// Longest a send waits for its slot.
    max_wait: Duration,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
    /// Parsed service URLs, by their text: a tenant's users share a handful.
    service_urls: Mutex<HashMap<String, ServiceUrl>>,
}

/// Why [`Sender::send_now`] sent nothing (or the connector refused).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The recipient's service URL is not a valid one, or its host is not allowed.
    #[error("the user's service URL cannot be called: {0}")]
    ServiceUrl(#[from] ServiceUrlError),
    /// The tenant's or the conversation's limits allow no send before `wait` has passed (or
    /// the tenant is paused after a 429).
    #[error("too many messages are being sent right now; try again in {}s", wait.as_secs().max(1))]
    Busy { wait: Duration },
    /// The engine is stopping.
    #[error("herald is stopping")]
    Stopping,
    #[error(transparent)]
    Connector(#[from] ConnectorError),
}

/// When a send may go.
pub(super) enum Turn {
    /// Now: the slot reserved for it (hand it to [`Sender::post`]).
    Go(Instant),
    /// Not before `wait` from now (further off than the caller waits).
    NotBefore(Duration),
    /// The engine is stopping.
    Stopped,
}

/// What a post does to the conversation.
pub(super) enum Post<'a> {
    /// A new activity, serialised.
    Send(Vec<u8>),
    /// Replaces activity `target` (the replacement carries its id, as Teams expects).
    Update(Box<Activity>, &'a str),
    /// Deletes activity `target`.
    Delete(&'a str),
}

impl Sender {
    pub(super) fn new(
        connector: ConnectorClient,
        limits: SendLimits,
        policy: ServiceUrlPolicy,
        retry: RetryPolicy,
        max_wait: Duration,
        metrics: Arc<Metrics>,
        stop: CancellationToken,
    ) -> Sender {
        Sender {
            shared: Arc::new(Shared {
                connector,
                limits,
                policy,
                retry,
                max_wait,
                metrics,
                stop,
                service_urls: Mutex::default(),
            }),
        }
    }

    /// Sends `activity` (addressed to `recipient` here) to `recipient`'s chat in `tenant` now,
    /// or as soon as the tenant's and the conversation's limits allow (at most half the lease
    /// away, as for the dispatcher's sends). Returns the sent activity's id (empty when the
    /// channel gave none). A 429 pauses the whole tenant, for the dispatcher too.
    pub async fn send_now(
        &self,
        tenant: &TenantId,
        recipient: &Recipient,
        activity: &Activity,
    ) -> Result<String, SendError> {
        let url = self.service_url(&recipient.service_url)?;
        let addressed = self.addressed(activity, recipient);
        let deadline = Instant::now() + self.shared.max_wait;
        let reserved = match self
            .wait_turn(tenant.as_str(), &recipient.conversation_id, deadline)
            .await
        {
            Turn::Go(reserved) => reserved,
            Turn::NotBefore(wait) => return Err(SendError::Busy { wait }),
            Turn::Stopped => return Err(SendError::Stopping),
        };
        // Serialising an activity (strings, numbers and JSON values) cannot fail.
        let body = serde_json::to_vec(&addressed).unwrap_or_default();
        let sent = self
            .post(
                tenant.as_str(),
                &url,
                recipient,
                Post::Send(body),
                reserved,
                1,
                rand::random(),
            )
            .await?;
        Ok(sent.unwrap_or_default())
    }

    /// Replaces activity `target` in `recipient`'s chat with `activity` (addressed here), now or
    /// as soon as the tenant's and the conversation's limits allow (an update counts like a
    /// send), at most half the lease away. A 429 pauses the whole tenant, as for a send.
    pub async fn update_now(
        &self,
        tenant: &TenantId,
        recipient: &Recipient,
        target: &str,
        activity: &Activity,
    ) -> Result<(), SendError> {
        let url = self.service_url(&recipient.service_url)?;
        let addressed = self.addressed(activity, recipient);
        let deadline = Instant::now() + self.shared.max_wait;
        let reserved = match self
            .wait_turn(tenant.as_str(), &recipient.conversation_id, deadline)
            .await
        {
            Turn::Go(reserved) => reserved,
            Turn::NotBefore(wait) => return Err(SendError::Busy { wait }),
            Turn::Stopped => return Err(SendError::Stopping),
        };
        let post = Post::Update(Box::new(addressed), target);
        self.post(
            tenant.as_str(),
            &url,
            recipient,
            post,
            reserved,
            1,
            rand::random(),
        )
        .await?;
        Ok(())
    }

    /// `campaign`'s message as the engine renders it for `recipient` (their names in it; links
    /// as written), addressed to their chat; or why it cannot be rendered.
    pub fn campaign_activity(
        &self,
        campaign: &Campaign,
        recipient: &Recipient,
    ) -> Result<Activity, String> {
        let render = CampaignRender::new(campaign, false)
            .ok_or_else(|| "the stored campaign cannot be read back".to_string())?;
        let mut a = self.addressed(&campaign_template(), recipient);
        a.text = Some(render.text_for(recipient)?);
        Ok(a)
    }

    /// Sends a second each tenant is paced at (`delivery.global_rps`).
    pub fn tenant_rps(&self) -> u32 {
        self.shared.limits.tenant_rps()
    }

    /// `template` addressed to `recipient`'s 1:1 chat with the bot.
    pub fn addressed(&self, template: &Activity, recipient: &Recipient) -> Activity {
        addressed(template, recipient)
    }

    /// The parsed URL, if it may be called (`bot.service_url_hosts`).
    pub fn service_url(&self, text: &str) -> Result<ServiceUrl, ServiceUrlError> {
        // A poisoned lock only means a panic elsewhere; the map is still whole.
        let mut cache = self
            .shared
            .service_urls
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(url) = cache.get(text) {
            return Ok(url.clone());
        }
        let url = ServiceUrl::parse(text)?;
        // A refused URL is never cached: a change of the list takes effect at the next start.
        self.shared.policy.check(&url)?;
        if cache.len() >= SERVICE_URL_CACHE {
            cache.clear();
        }
        cache.insert(text.to_string(), url.clone());
        Ok(url)
    }

    /// Waits for a moment that keeps every limit of `tenant` and `conversation`, unless that
    /// is after `deadline`.
    pub(super) async fn wait_turn(
        &self,
        tenant: &str,
        conversation: &str,
        deadline: Instant,
    ) -> Turn {
        let limits = &self.shared.limits;
        loop {
            match limits.reserve(tenant, conversation, Instant::now(), deadline) {
                Slot::NotBefore(t) => {
                    return Turn::NotBefore(t.saturating_duration_since(Instant::now()));
                }
                Slot::At(t) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(t) => {}
                        _ = self.shared.stop.cancelled() => return Turn::Stopped,
                    }
                    // A 429 may have paused the tenant while this send waited.
                    if limits.paused_until(tenant, Instant::now()).is_none() {
                        return Turn::Go(t);
                    }
                }
            }
        }
    }

    /// Posts in the slot `reserved` for it, timing the call. A 429 pauses the whole tenant
    /// (`attempts`: this send's, counting it; `jitter` in `[0, 1)`, for the pause's backoff).
    /// Returns the activity id the connector gave, if any.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn post(
        &self,
        tenant: &str,
        url: &ServiceUrl,
        recipient: &Recipient,
        post: Post<'_>,
        reserved: Instant,
        attempts: u32,
        jitter: f64,
    ) -> Result<Option<String>, ConnectorError> {
        let (connector, conversation) =
            (&self.shared.connector, recipient.conversation_id.as_str());
        let started = Instant::now();
        self.shared
            .limits
            .sent(tenant, conversation, reserved, started);
        let result = match post {
            Post::Send(body) => connector
                .send_json(url, conversation, body)
                .await
                .map(|r| r.id),
            Post::Update(mut a, target) => {
                a.id = Some(target.to_string());
                connector
                    .update_activity(url, conversation, target, &a)
                    .await
                    .map(|()| Some(target.to_string()))
            }
            Post::Delete(target) => connector
                .delete_activity(url, conversation, target)
                .await
                .map(|()| None),
        };
        // Received by then: the windows count from the answer.
        self.shared
            .limits
            .sent(tenant, conversation, started.max(reserved), Instant::now());
        let metrics = &self.shared.metrics;
        metrics
            .connector_seconds
            .observe(started.elapsed().as_secs_f64());
        if let Err(ConnectorError::Throttled { retry_after }) = &result {
            metrics.throttled.inc();
            // Capped at `retry_max`: a huge or far-future Retry-After must not stall the tenant.
            let wait = self
                .shared
                .retry
                .throttle_wait(*retry_after, attempts, jitter);
            // The whole tenant slows down, not only this message.
            self.shared
                .limits
                .pause_tenant_for(tenant, Instant::now(), wait);
        }
        result
    }
}

impl Sender {
    /// Opens `recipient`'s 1:1 chat with the bot again (`POST /v3/conversations` with their
    /// channel id, the tenant and the bot's id) in the slot `reserved` for the call: the
    /// self-repair after their chat was gone. Returns the chat's id. A 429 pauses the whole
    /// tenant, as for a send.
    pub(super) async fn reopen(
        &self,
        tenant: &str,
        url: &ServiceUrl,
        recipient: &Recipient,
        reserved: Instant,
        attempts: u32,
        jitter: f64,
    ) -> Result<String, ConnectorError> {
        let started = Instant::now();
        self.shared
            .limits
            .sent(tenant, &recipient.conversation_id, reserved, started);
        let result = self
            .shared
            .connector
            .create_personal_conversation(
                url,
                &recipient.bot_id,
                &recipient.channel_user_id,
                tenant,
            )
            .await;
        self.shared.limits.sent(
            tenant,
            &recipient.conversation_id,
            started.max(reserved),
            Instant::now(),
        );
        self.shared
            .metrics
            .connector_seconds
            .observe(started.elapsed().as_secs_f64());
        if let Err(ConnectorError::Throttled { retry_after }) = &result {
            self.shared.metrics.throttled.inc();
            let wait = self
                .shared
                .retry
                .throttle_wait(*retry_after, attempts, jitter);
            self.shared
                .limits
                .pause_tenant_for(tenant, Instant::now(), wait);
        }
        result
    }
}

/// The activity a campaign's deliveries carry, before each recipient's text is put in.
pub(super) fn campaign_template() -> Activity {
    Activity {
        kind: Some("message".into()),
        text_format: Some("markdown".into()),
        ..Activity::default()
    }
}

/// `from` (the bot), `recipient` (the user) and `conversation` (their 1:1 chat).
pub(super) fn addressing(
    user: &Recipient,
) -> (ChannelAccount, ChannelAccount, ConversationAccount) {
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
pub(super) fn addressed(template: &Activity, user: &Recipient) -> Activity {
    let mut a = template.clone();
    a.kind.get_or_insert_with(|| "message".to_string());
    let (from, recipient, conversation) = addressing(user);
    a.from = Some(from);
    a.recipient = Some(recipient);
    a.conversation = Some(conversation);
    a
}
