//! The delivery engine: leases due deliveries, sends them within Teams' limits, records what
//! happened. A delivery row is the durable unit of work; nothing is held locked across a send.
//!
//! The dispatcher sleeps until the earliest due delivery or a wake-up (new work enqueued), so a
//! delivery leaves at its moment; the cron tick is a safety net that wakes it regularly.

mod attempt;
mod broadcast;
mod campaign;
mod dispatcher;
mod gated;
mod localtime;
mod payload;
pub mod planner;
mod progress;
mod queues;
mod reminders;
mod repeat;
mod retention;
mod scheduled;
mod send;
mod tenancy;

pub use send::{SendError, Sender};

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;

use crate::botframework::ConnectorClient;
use crate::botframework::ratelimit::SendLimits;
use crate::config::Settings;
use crate::domain::Clock;
use crate::domain::delivery::{MessageKind, RetryPolicy};
use crate::metrics::Metrics;
use crate::outbox::{Outbox, Signals};
use crate::store::Db;
use crate::store::batch::{BatchWriter, Linger};
use crate::store::deliveries::{self, Outcome};

/// How outcomes wait for others to share their transaction: fewer than 256 wait 2 ms once
/// for more, and up to 1,024 go together. Rows of many tenants sent at once lie all over the
/// table, so each transaction writes a page per row or so: the more rows per transaction, the
/// fewer pages per row. The wait stays short: an outcome not yet written shows its delivery
/// still pending (to `broadcast info`, to reminders), and what is sent but not recorded is
/// repeated after a crash.
const OUTCOME_LINGER: Linger = Linger {
    wait: Duration::from_millis(2),
    below: 256,
    most: 1024,
};

/// How the engine runs; from `[delivery]` and `[campaigns]` settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This instance's name in lease rows.
    pub instance: String,
    pub concurrency: usize,
    pub lease: Duration,
    pub retry: RetryPolicy,
    pub tick: Duration,
    pub tenant_rps: u32,
    /// Cycles of the absence ladder before an absent recipient expires.
    pub absence_cycles: u32,
    /// Send when presence is unknown (else treat the recipient as absent).
    pub unknown_presence_sends: bool,
    /// A presence observed at most this long ago decides a gated send without asking Graph
    /// (`graph.presence_max_age`).
    pub presence_max_age: Duration,
    /// Slack added to every rate window.
    pub window_margin: Duration,
    /// Link tracking; `None`: links are sent as written.
    pub tracker: Option<Arc<crate::tracking::Tracker>>,
    /// How long a claim on a tenant's dispatch holds without renewal.
    pub tenant_lease: Duration,
    /// The connector hosts herald may call (`bot.service_url_hosts`).
    pub service_urls: crate::botframework::ServiceUrlPolicy,
    /// What the retention job purges, and when.
    pub retention: crate::config::retention::RetentionSettings,
    /// Groups and proactive installs when a campaign starts (its Graph client is the engine's).
    pub reach: crate::audience::Reach,
    /// When automatic broadcast reminders may go out (`campaigns.business_hours`), and the zone
    /// of recipients whose own is unknown (`campaigns.time_zone`).
    pub reminder_hours: crate::domain::hours::BusinessHours,
    pub reminder_zone: chrono_tz::Tz,
}

impl EngineConfig {
    pub fn from_settings(settings: &Settings) -> EngineConfig {
        let d = &settings.delivery;
        EngineConfig {
            instance: instance_name(),
            concurrency: d.concurrency as usize,
            lease: d.lease,
            retry: RetryPolicy {
                max_retries: d.max_transport_retries,
                base: d.retry_base,
                max: d.retry_max,
            },
            tick: settings.campaigns.tick,
            tenant_rps: d.global_rps,
            absence_cycles: settings.campaigns.absence_cycles,
            unknown_presence_sends: settings.campaigns.unknown_presence
                == crate::config::UnknownPresence::Send,
            presence_max_age: settings.graph.presence_max_age,
            window_margin: d.window_margin,
            tracker: None,
            tenant_lease: d.tenant_lease,
            service_urls: settings.service_url_policy(),
            retention: settings.retention.clone(),
            reach: crate::audience::Reach::from_settings(settings),
            reminder_hours: settings.campaign_hours(),
            reminder_zone: settings.campaign_time_zone(),
        }
    }
}

/// `host-pid-random`: unique per process, readable in the database.
pub fn instance_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "herald".into());
    let tag = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &tag[..8])
}

pub(crate) struct Inner {
    db: Db,
    clock: Arc<dyn Clock>,
    /// The one send path (rate limits, service URLs, connector), shared with `Engine::sender`.
    sender: Sender,
    /// Sends posting at once (`delivery.concurrency`): a send takes one when its tenant's and
    /// its conversation's limits let it go, not while it waits for them.
    sending: tokio::sync::Semaphore,
    metrics: Arc<Metrics>,
    config: EngineConfig,
    recorder: BatchWriter<Outcome, bool>,
    payloads: payload::Payloads,
    /// Presence lookups; `None` when Graph is off.
    graph: Option<Arc<crate::graph::GraphClient>>,
    /// Which tenants this instance dispatches.
    tenancy: tenancy::Tenancy,
    /// Deliveries leased here and not yet recorded (waiting, in flight, or their outcome on its
    /// way): the only rows of ours never leased again.
    held: std::sync::Mutex<std::collections::HashSet<i64>>,
    /// The outbox use cases post work through, and its signals (wake-ups, withdrawn messages).
    outbox: Outbox,
    signals: Arc<Signals>,
    stop: CancellationToken,
    /// Tenants whose mailbox-zone lookups Graph throttled or refused, until when.
    mailbox_pauses: localtime::MailboxPauses,
}

/// A running engine. Cheap to clone; `wake` after enqueueing work that is due now.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// Owns the engine's tasks; `shutdown` stops them cleanly.
pub struct EngineHandle {
    engine: Engine,
    dispatcher: tokio::task::JoinHandle<()>,
    tenancy: tokio::task::JoinHandle<()>,
    scheduler: Option<JobScheduler>,
}

impl Engine {
    /// Starts the dispatcher and the tick on the current runtime; the engine sends what is
    /// posted through `outbox`.
    pub async fn start(
        outbox: Outbox,
        connector: ConnectorClient,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        mut config: EngineConfig,
        graph: Option<Arc<crate::graph::GraphClient>>,
    ) -> anyhow::Result<EngineHandle> {
        config.reach.graph = graph.clone();
        let db = outbox.db().clone();
        let owner = config.instance.clone();
        let tenant_lease = config.tenant_lease;
        let recorder_clock = clock.clone();
        // Outcomes linger to share a transaction: nothing user-facing waits on them.
        let recorder = BatchWriter::start_lingering(
            db.clone(),
            "herald-outcomes",
            OUTCOME_LINGER,
            move |conn, batch: Vec<Outcome>| {
                deliveries::record(conn, &owner, &batch, recorder_clock.now())
            },
        )
        .context("starting the outcome writer")?;
        let stop = CancellationToken::new();
        let sender = Sender::new(
            connector,
            SendLimits::with_margin(config.tenant_rps, config.window_margin),
            config.service_urls.clone(),
            config.retry,
            config.lease / 2,
            metrics.clone(),
            stop.clone(),
        );
        let engine = Engine {
            inner: Arc::new(Inner {
                db,
                clock,
                sender,
                sending: tokio::sync::Semaphore::new(config.concurrency.max(1)),
                metrics,
                config,
                recorder,
                payloads: payload::Payloads::default(),
                graph,
                tenancy: tenancy::Tenancy::new(tenant_lease),
                held: std::sync::Mutex::default(),
                signals: outbox.signals(),
                outbox,
                stop,
                mailbox_pauses: localtime::MailboxPauses::default(),
            }),
        };
        let tenancy = tokio::spawn(tenancy::run(engine.inner.clone()));
        let dispatcher = tokio::spawn(dispatcher::run(engine.inner.clone()));
        // Ends with the engine's stop token.
        tokio::spawn(retention::run(engine.inner.clone()));
        tokio::spawn(reminders::run(engine.inner.clone()));
        tokio::spawn(scheduled::run(engine.inner.clone()));
        tokio::spawn(progress::run(engine.inner.clone()));
        let scheduler = engine.start_tick().await;
        tracing::info!(instance = %engine.inner.config.instance, "delivery engine started");
        Ok(EngineHandle {
            engine,
            dispatcher,
            tenancy,
            scheduler,
        })
    }

    async fn start_tick(&self) -> Option<JobScheduler> {
        let weak = Arc::downgrade(&self.inner);
        let started = async {
            let scheduler = JobScheduler::new().await?;
            let job = Job::new_repeated_async(self.inner.config.tick, move |_, _| {
                let weak = weak.clone();
                Box::pin(async move {
                    if let Some(inner) = weak.upgrade() {
                        inner.signals.replan();
                    }
                })
            })?;
            scheduler.add(job).await?;
            scheduler.start().await?;
            Ok::<_, tokio_cron_scheduler::JobSchedulerError>(scheduler)
        };
        match started.await {
            Ok(s) => Some(s),
            Err(e) => {
                // The dispatcher still sleeps until due work and wakes on new work; only the
                // safety net is missing.
                tracing::error!(error = %e, "the engine tick could not start");
                None
            }
        }
    }

    /// The engine's send path, for use cases that send to one person at once (`campaign test`,
    /// chat replies): the same addressing, campaign render, service-URL check and rate limits
    /// as every delivery. See [`Sender`].
    pub fn sender(&self) -> Sender {
        self.inner.sender.clone()
    }

    pub fn instance(&self) -> &str {
        &self.inner.config.instance
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Posts a message (`payload` is the activity every recipient gets) with one delivery per
    /// recipient, due when each says, through this engine's outbox. Returns the message id.
    /// For tools and tests that drive the engine directly; use cases post through their outbox.
    pub async fn enqueue(
        &self,
        tenant_id: &str,
        kind: MessageKind,
        payload: serde_json::Value,
        recipients: Vec<deliveries::NewDelivery>,
    ) -> Result<String, crate::store::StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.inner.clock.now();
        let (message_id, tenant) = (id.clone(), tenant_id.to_string());
        self.inner
            .outbox
            .write(move |conn, post| {
                post.message(conn, &message_id, &tenant, kind, &payload, now)?;
                post.enqueue(conn, &message_id, &tenant, &recipients, now)
            })
            .await?;
        Ok(id)
    }

    /// Tells the dispatcher to look for due work (and newly scheduled campaigns) now.
    pub fn wake(&self) {
        self.inner.signals.wake();
    }
}

impl EngineHandle {
    pub fn engine(&self) -> Engine {
        self.engine.clone()
    }

    /// Stops leasing, lets in-flight sends finish (at most `grace`), then gives back every
    /// lease still held so another instance (or the next start) takes those deliveries at once.
    pub async fn shutdown(mut self, grace: Duration) {
        let inner = self.engine.inner.clone();
        inner.stop.cancel();
        if let Some(mut s) = self.scheduler.take() {
            let _ = s.shutdown().await;
        }
        if tokio::time::timeout(grace, &mut self.dispatcher)
            .await
            .is_err()
        {
            tracing::warn!(
                ?grace,
                "in-flight sends did not finish in time; their leases will run out"
            );
            self.dispatcher.abort();
        }
        let owner = inner.config.instance.clone();
        match inner
            .db
            .run(move |conn| deliveries::release_all(conn, &owner))
            .await
        {
            Ok(n) if n > 0 => tracing::info!(released = n, "leases given back"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not give back leases; they will run out"),
        }
        // The claims task stopped with the others; give the tenants up for the next owner.
        let _ = (&mut self.tenancy).await;
        tenancy::release(&inner).await;
        tracing::info!("delivery engine stopped");
    }
}
