//! Building and running the application: what `herald serve` and the tests start.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use secrecy::ExposeSecret;

use crate::bot::Bot;
use crate::bot::access::Access;
use crate::bot::campaigns::CampaignDefaults;
use crate::botframework::ConnectorClient;
use crate::botframework::auth::Authenticator;
use crate::botframework::token::TokenProvider;
use crate::config::Settings;
use crate::domain::{Clock, SystemClock};
use crate::engine::{Engine, EngineConfig, EngineHandle};
use crate::graph::GraphClient;
use crate::metrics::Metrics;
use crate::routes::{self, AppState};
use crate::store::broadcasts::presses::PressWriter;
use crate::store::inbound::{self, ClaimWriter};
use crate::store::{DatabaseUrl, Db};

/// How long in-flight sends get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long remembered inbound activity ids are kept.
const INBOUND_MEMORY: chrono::TimeDelta = chrono::TimeDelta::hours(24);

pub struct Application {
    port: u16,
    server: Server,
    /// `/metrics` on `server.metrics_bind`, when set.
    metrics_server: Option<Server>,
    metrics_port: Option<u16>,
    db: Db,
    clock: Arc<dyn Clock>,
    engine: EngineHandle,
    /// Keeps installed users' presence current (Graph on, and a public URL or polling).
    presence: Option<Arc<crate::presence::Keeper>>,
}

/// Keeps the C allocator from holding on to freed memory: on Linux with glibc, blocks of 256 KiB
/// or more are always mapped on their own and unmapped when freed, unless
/// `MALLOC_MMAP_THRESHOLD_` says otherwise. Call first, before any thread starts.
///
/// glibc raises that threshold each time such a block is freed, up to 32 MiB: after the rate
/// limiter's conversation table grew (a few MiB, moved at each doubling), every later block
/// under its size came from the arenas instead, and each arena (up to eight per core, one per
/// thread that allocates under contention) kept what was freed in it. Measured at 200 tenants
/// and 300,000 recipients on two cores, the live heap peaking at 77 MiB: 291-301 MiB peak RSS
/// with glibc's defaults, 151-157 MiB with the threshold fixed, for the same CPU. (Fewer arenas
/// also held less, 159-171 MiB with two, but made the inbound turn slower.)
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: `mallopt` only sets a tunable of glibc's allocator; no thread has started
        // (the caller's promise), and a value it refuses is ignored (it returns 0).
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}

/// Blocks at least this large are mapped on their own (twice glibc's initial 128 KiB, kept
/// fixed).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 256 * 1024;

/// The HTTP client for every outbound call, with bounded timeouts. It never follows a redirect:
/// a 307/308 would re-send a secret or a token to wherever it points. Callers report a 3xx as a
/// failure naming its status and target host.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .context("building the HTTP client")
}

/// Opens the database named in the settings and applies migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Db> {
    let url = DatabaseUrl::parse(settings.database.url.expose_secret())
        .context("configuration key `database.url`")?;
    let max = settings.database.max_connections;
    tracing::info!(database = %url, "opening the database");
    tokio::task::spawn_blocking(move || Db::open(&url, max))
        .await
        .context("database task")?
        .context("opening the database")
}

impl Application {
    /// Builds the app on the wall clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the app: database migrated, listener bound (port 0 picks a free one).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        settings.validate_for_serve()?;
        let db = open_database(&settings).await?;
        let http = http_client()?;

        let credential = settings.credential()?;
        let tokens = Arc::new(TokenProvider::with_credential(
            settings.token_endpoint(),
            settings.bot.app_id.trim().to_string(),
            credential.clone(),
            settings.bot_scope(),
            http.clone(),
        ));
        let connector = ConnectorClient::new(http.clone(), tokens);
        let metrics = Arc::new(Metrics::new());
        let graph = settings.graph.enabled.then(|| {
            Arc::new(GraphClient::with_credential(
                http.clone(),
                &settings.graph_base_url(),
                &settings.graph_token_endpoint(),
                &settings.graph_scope(),
                settings.bot.app_id.trim(),
                credential,
            ))
        });
        let tracker = Arc::new(crate::tracking::Tracker::load(&settings, &db, clock.now()).await?);
        if !tracker.enabled() {
            tracing::info!("server.public_url is not set: links are not tracked");
        }
        let outbox = crate::outbox::Outbox::new(db.clone());
        let engine = Engine::start(
            outbox.clone(),
            connector.clone(),
            clock.clone(),
            metrics.clone(),
            EngineConfig {
                tracker: Some(tracker.clone()),
                ..EngineConfig::from_settings(&settings)
            },
            graph.clone(),
        )
        .await?;
        let presence = match (&graph, crate::presence::Mode::from_settings(&settings)) {
            (Some(graph), Some(mode)) => Some(crate::presence::Keeper::new(
                db.clone(),
                graph.clone(),
                clock.clone(),
                engine.engine().instance(),
                mode,
            )),
            _ => None,
        };
        if settings.bot.app_type == crate::config::AppType::SingleTenant
            && settings.bot.allowed_tenants.is_empty()
            && uuid::Uuid::parse_str(settings.bot.tenant_id.trim()).is_err()
        {
            // Teams names the tenant by its id: a domain here would match no activity.
            tracing::warn!(
                tenant_id = %settings.bot.tenant_id,
                "a SingleTenant bot serves only bot.tenant_id, and Teams activities name their \
                 tenant by its id (a GUID): if this is a domain name, no activity will be \
                 handled; set bot.tenant_id to the directory id, or list bot.allowed_tenants"
            );
        }
        let auth = if settings.auth_disabled() {
            tracing::warn!(
                "bot.app_id is empty: inbound authentication is OFF (local development only). \
                 /api/messages accepts activities without a token, from this machine only: a \
                 loopback peer, a Host of localhost, 127.0.0.1 or [::1], and no Forwarded or \
                 X-Forwarded-* header (anything else gets 403). Whoever can send such a request \
                 can name any tenant and any admin's object id, and herald sends no token to \
                 connectors. Set bot.app_id and bot.app_password (MicrosoftAppId, \
                 MicrosoftAppPassword) before anything but a local tool talks to herald."
            );
            None
        } else {
            Some(Authenticator::new(
                settings.bot.app_id.trim(),
                settings.bot.cloud,
                settings.channel_metadata_url()?,
                settings.emulator_metadata_url()?,
                http,
            ))
        };
        // Other instances' enqueues, so the bot may keep who has nothing to answer.
        db.watch_enqueued();
        let state = web::Data::new(AppState {
            bot: Bot::new(
                db.clone(),
                Access::from_settings(&settings.bot),
                CampaignDefaults {
                    time_zone: settings.campaign_time_zone(),
                    hours: settings.campaign_hours(),
                    presence_unheeded: crate::campaigns::PresenceUnheeded::from_settings(&settings),
                },
                outbox,
                ClaimWriter::start(db.clone()).context("starting the claim writer")?,
                connector,
                engine.engine().sender(),
                settings.service_url_policy(),
                clock.clone(),
            )
            .with_tracker(tracker.clone())
            .with_presses(PressWriter::start(db.clone()).context("starting the press writer")?)
            .with_files(crate::lists::import::Files::new(
                settings.file_host_policy(),
                settings.bot.file_max_bytes,
            ))
            .with_reach(crate::audience::Reach {
                graph,
                ..crate::audience::Reach::from_settings(&settings)
            })
            .with_presence(presence.clone())
            .with_approval(settings.approval.policy()),
            auth,
            metrics,
            tracker,
            clock: clock.clone(),
            body_readers: tokio::sync::Semaphore::new(routes::MAX_CONCURRENT_BODIES),
        });

        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("binding {} (server.bind)", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let (metrics_server, metrics_port) = metrics_server(&settings, &state)?;
        let main_metrics = web::Data::new(routes::MetricsEndpoint::new(
            metrics_server.is_none(),
            settings.server.metrics_token(),
        ));
        let presence_data = presence.clone().map(web::Data::new);
        let server = HttpServer::new(move || {
            let app = App::new()
                .app_data(state.clone())
                .app_data(main_metrics.clone());
            match &presence_data {
                Some(keeper) => app.app_data(keeper.clone()),
                None => app,
            }
            .configure(routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        tracing::info!(address = %settings.server.bind.ip(), port, "herald listening");
        Ok(Application {
            port,
            server,
            metrics_server,
            metrics_port,
            db,
            clock,
            engine,
            presence,
        })
    }

    /// The port of `server.metrics_bind`, when metrics have an address of their own.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server gracefully from elsewhere (tests).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The delivery engine, to enqueue work.
    pub fn engine(&self) -> Engine {
        self.engine.engine()
    }

    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// Serves until SIGINT/SIGTERM (or the handle's stop), finishing in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let housekeeping = tokio::spawn(housekeeping(self.db.clone(), self.clock.clone()));
        let presence = self
            .presence
            .map(|keeper| (keeper.clone(), tokio::spawn(keeper.run())));
        let metrics = self.metrics_server.map(|s| (s.handle(), tokio::spawn(s)));
        let result = self.server.await;
        if let Some((keeper, task)) = presence {
            keeper.shutdown();
            let _ = task.await;
        }
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        housekeeping.abort();
        self.engine.shutdown(SHUTDOWN_GRACE).await;
        tracing::info!("herald stopped");
        result
    }
}

/// The server of `server.metrics_bind` (only `/metrics`) and its port, when it is set.
fn metrics_server(
    settings: &Settings,
    state: &web::Data<AppState>,
) -> anyhow::Result<(Option<Server>, Option<u16>)> {
    let Some(address) = settings.server.metrics_bind else {
        return Ok((None, None));
    };
    let listener = TcpListener::bind(address)
        .with_context(|| format!("binding {address} (server.metrics_bind)"))?;
    let port = listener.local_addr()?.port();
    let endpoint = web::Data::new(routes::MetricsEndpoint::new(
        true,
        settings.server.metrics_token(),
    ));
    let state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(endpoint.clone())
            .configure(routes::configure_metrics)
    })
    .workers(1)
    .listen(listener)?
    .shutdown_timeout(5)
    .run();
    tracing::info!(address = %address.ip(), port, "metrics listening");
    Ok((Some(server), Some(port)))
}

/// Forgets old inbound activity ids, hourly.
async fn housekeeping(db: Db, clock: Arc<dyn Clock>) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let before = clock.now() - INBOUND_MEMORY;
        match db.run(move |conn| inbound::prune(conn, before)).await {
            Ok(n) if n > 0 => tracing::debug!(pruned = n, "old inbound activity ids forgotten"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning inbound activity ids failed"),
        }
    }
}
