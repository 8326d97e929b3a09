//! Test support: the real app on a random port, its own database (temporary SQLite file or a
//! fresh PostgreSQL schema, dropped afterwards), and local fakes for every outside service.
#![allow(dead_code)]

pub mod proxy;
pub mod tokens;
pub mod trace;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use herald::config::Settings;
use herald::domain::{Clock, ManualClock, SystemClock};
use herald::startup::Application;

use tokens::*;

/// Set to a PostgreSQL URL (e.g. `postgres://postgres@127.0.0.1:5432/postgres`) to run every
/// storage test on PostgreSQL too. When set, an unreachable server fails those tests; when not,
/// `build.rs` leaves `cfg(herald_postgres)` unset and the PostgreSQL variants are reported as
/// ignored, with the reason, in the output and in the closing count.
pub const POSTGRES_URL_VAR: &str = "HERALD_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares each listed `async fn name(backend: Backend)` as a test on SQLite and on PostgreSQL
/// (ignored, saying why, unless `HERALD_TEST_POSTGRES_URL` was set at build time).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(
                    not(herald_postgres),
                    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
                )]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// A database of its own for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("herald.db").display());
                TestDb {
                    url,
                    cleanup: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let base = std::env::var(POSTGRES_URL_VAR).expect("postgres URL variable");
                let schema = format!("herald_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&base).unwrap_or_else(|e| {
                    panic!("{POSTGRES_URL_VAR} is set but PostgreSQL is unreachable at {base}: {e}")
                });
                conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create test schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                TestDb {
                    url,
                    cleanup: Some((base, schema)),
                    _dir: None,
                }
            }
        }
    }
}

impl TestDb {
    /// The same database for a second app (another instance, or a restart): removed only
    /// when the original is dropped.
    pub fn shared(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            cleanup: None,
            _dir: None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.cleanup.take()
            && let Ok(mut conn) = diesel::PgConnection::establish(&base)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// A running herald with its fakes.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub backend: Backend,
    pub db: TestDb,
    pub config_path: PathBuf,
    pub keys: MockServer,
    pub login: MockServer,
    pub connector: MockServer,
    /// The fake Microsoft Graph (on only when the test's settings enable it).
    pub graph: MockServer,
    pub client: reqwest::Client,
    pub handle: actix_web::dev::ServerHandle,
    /// The port of `server.metrics_bind`, when the test set one.
    pub metrics_port: Option<u16>,
    pub engine: herald::engine::Engine,
    pub app_db: herald::store::Db,
    /// The clock the app runs on: the wall clock, or `manual` when the test drives time.
    pub clock: Arc<dyn Clock>,
    /// Set by `spawn_app_on_clock`: the clock the test advances.
    pub manual: Option<ManualClock>,
    /// The app's serving task; it ends once the server stopped and the engine shut down.
    running: Mutex<Option<tokio::task::JoinHandle<std::io::Result<()>>>>,
    _config_dir: tempfile::TempDir,
}

/// The token the fake Graph hands out.
pub const GRAPH_BEARER: &str = "graph-token";
pub const BEARER: &str = "connector-token-from-login";
pub const TENANT: &str = "tenant-contoso";

/// The profile the fake connector returns for a member.
pub fn member_profile(user_id: &str) -> Value {
    let n = user_id.trim_start_matches("29:");
    json!({
        "id": user_id,
        "name": format!("Ada Lovelace {n}"),
        "objectId": format!("aad-{n}"),
        "givenName": "Ada",
        "surname": format!("Lovelace{n}"),
        "email": format!("Ada.{n}@Contoso.com"),
        "userPrincipalName": format!("ada.{n}@contoso.com"),
        "tenantId": TENANT,
        "userRole": "user"
    })
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, "").await
}

/// Starts herald; `extra_toml` is appended to the generated settings (in `[bot]`, where more
/// sections may follow).
pub async fn spawn_app_with(backend: Backend, extra_toml: &str) -> TestApp {
    spawn_app_configured(backend, "", extra_toml).await
}

/// `spawn_app_with`, with `server_toml` added to the `[server]` section.
pub async fn spawn_app_configured(
    backend: Backend,
    server_toml: &str,
    extra_toml: &str,
) -> TestApp {
    spawn_app_on(
        TestDb::new(backend),
        backend,
        |url| url.to_string(),
        server_toml,
        extra_toml,
    )
    .await
}

/// `spawn_app_with` on `clock`: time moves only when the test says (`TestApp::advance`).
pub async fn spawn_app_on_clock(backend: Backend, extra_toml: &str, clock: ManualClock) -> TestApp {
    spawn_app_clocked(
        TestDb::new(backend),
        backend,
        |url| url.to_string(),
        "",
        extra_toml,
        Some(clock),
    )
    .await
}

/// `spawn_app_on` on `clock`: time moves only when the test says (`TestApp::advance`).
pub async fn spawn_app_on_db_clock(
    db: TestDb,
    backend: Backend,
    server_toml: &str,
    extra_toml: &str,
    clock: ManualClock,
) -> TestApp {
    spawn_app_clocked(
        db,
        backend,
        |url| url.to_string(),
        server_toml,
        extra_toml,
        Some(clock),
    )
    .await
}

/// Starts herald on `db`, reaching it at `app_url(db.url)` (e.g. through a proxy).
pub async fn spawn_app_on(
    db: TestDb,
    backend: Backend,
    app_url: impl Fn(&str) -> String,
    server_toml: &str,
    extra_toml: &str,
) -> TestApp {
    spawn_app_clocked(db, backend, app_url, server_toml, extra_toml, None).await
}

/// Starts herald on `db` (see `spawn_app_on`), on `manual` when given, else the wall clock.
async fn spawn_app_clocked(
    db: TestDb,
    backend: Backend,
    app_url: impl Fn(&str) -> String,
    server_toml: &str,
    extra_toml: &str,
    manual: Option<ManualClock>,
) -> TestApp {
    let keys = MockServer::start().await;
    let key_sets = [
        (
            "channel",
            "/.well-known/openidconfiguration",
            channel_jwks(),
        ),
        (
            "emulator",
            "/.well-known/openid-configuration",
            emulator_jwks(),
        ),
    ];
    for (name, metadata, jwks) in key_sets {
        let jwks_uri = format!("{}/{name}/keys", keys.uri());
        Mock::given(method("GET"))
            .and(path(format!("/{name}{metadata}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"jwks_uri": jwks_uri})))
            .mount(&keys)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/{name}/keys")))
            .respond_with(ResponseTemplate::new(200).set_body_json(jwks))
            .mount(&keys)
            .await;
    }

    let login = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/botframework.com/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": BEARER
        })))
        .mount(&login)
        .await;

    let connector = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v3/conversations/[^/]+/members/[^/]+$"))
        .respond_with(|req: &Request| {
            let member = req.url.path().rsplit('/').next().unwrap_or_default();
            let member = percent_decode(member);
            ResponseTemplate::new(200).set_body_json(member_profile(&member))
        })
        .mount(&connector)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities$"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "1:reply"})))
        .mount(&connector)
        .await;

    // A fake Graph: its token endpoint answers every tenant; tests mount what else they need.
    // Graph stays off unless a test's settings say `[graph] enabled = true`.
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/[^/]+/oauth2/v2.0/token$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3600, "access_token": GRAPH_BEARER
        })))
        .mount(&graph)
        .await;
    let graph_keys = format!(
        "base_url = \"{0}\"\ntoken_endpoint = \"{0}/{{tenant}}/oauth2/v2.0/token\"\n",
        graph.uri()
    );
    let extra_toml = if extra_toml.contains("[graph]") {
        extra_toml.replacen("[graph]", &format!("[graph]\n{graph_keys}"), 1)
    } else {
        format!("{extra_toml}\n[graph]\n{graph_keys}")
    };
    let toml = format!(
        r#"
[server]
bind = "127.0.0.1:0"
{server_toml}

[database]
url = "{db_url}"
max_connections = 4

[bot]
app_id = "{APP_ID}"
app_password = "{APP_PASSWORD}"
openid_metadata_url = "{keys}/channel/.well-known/openidconfiguration"
emulator_openid_metadata_url = "{keys}/emulator/.well-known/openid-configuration"
token_endpoint = "{login}/{{tenant}}/oauth2/v2.0/token"
{extra_toml}
"#,
        db_url = app_url(&db.url),
        keys = keys.uri(),
        login = login.uri(),
    );
    let config_dir = tempfile::tempdir().expect("temp dir");
    let config_path = config_dir.path().join("appsettings.toml");
    std::fs::write(&config_path, &toml).expect("write settings");
    let settings = Settings::from_toml(&toml).expect("test settings are valid");
    let clock: Arc<dyn Clock> = match &manual {
        Some(manual) => Arc::new(manual.clone()),
        None => Arc::new(SystemClock),
    };
    let app = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("app builds");
    let port = app.port();
    let handle = app.handle();
    let metrics_port = app.metrics_port();
    let engine = app.engine();
    let app_db = app.db();
    let running = tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        backend,
        db,
        config_path,
        keys,
        login,
        connector,
        graph,
        client: reqwest::Client::new(),
        handle,
        metrics_port,
        engine,
        app_db,
        clock,
        manual,
        running: Mutex::new(Some(running)),
        _config_dir: config_dir,
    }
}

/// A reply's text, or for a card its content as JSON text (facts, lines, actions).
pub fn reply_text(body: &Value) -> String {
    match body["text"].as_str() {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => body["attachments"][0]["content"].to_string(),
    }
}

/// Receive times of the requests a mock answered, with their paths.
#[derive(Clone, Default)]
pub struct Received(pub Arc<Mutex<Vec<(Instant, String)>>>);

impl Received {
    pub fn times(&self) -> Vec<Instant> {
        self.0.lock().unwrap().iter().map(|(t, _)| *t).collect()
    }

    pub fn paths(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, p)| p.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A responder that records each request's receive time, then answers as `respond` says.
pub struct Recording<F> {
    pub received: Received,
    pub respond: F,
}

impl<F: Fn(&Request) -> ResponseTemplate + Send + Sync> wiremock::Respond for Recording<F> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.received
            .0
            .lock()
            .unwrap()
            .push((Instant::now(), request.url.path().to_string()));
        (self.respond)(request)
    }
}

/// Every chat's activities path on the fake connector.
pub const ACTIVITIES: &str = r"^/v3/conversations/[^/]+/activities$";

/// The connector's answer to a send: 201 with the new activity's id.
pub fn sent() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"id": "1:sent"}))
}

/// Records each POST `server` receives on a path matching the regex `path`, ahead of its
/// other mocks, answering with `respond`.
pub async fn record_posts<F>(server: &MockServer, path: &str, respond: F) -> Received
where
    F: Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
{
    let received = Received::default();
    Mock::given(method("POST"))
        .and(path_regex(path))
        .respond_with(Recording {
            received: received.clone(),
            respond,
        })
        .with_priority(1)
        .mount(server)
        .await;
    received
}

/// The most events any interval of `window` holds (half-open, as Teams counts).
pub fn max_in_window(times: &[Instant], window: Duration) -> usize {
    let mut times = times.to_vec();
    times.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= window {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

/// Polls `check` every 20 ms until it holds or `timeout` passes.
pub async fn wait_for<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until a sleeper on `clock` waits for exactly `t`: e.g. the dispatcher, having seen
/// the queue, has gone idle until the first moment something is due. Proves, without sleeping,
/// that nothing due before `t` is left to do.
pub async fn wait_for_sleeper(clock: &ManualClock, t: chrono::DateTime<chrono::Utc>, what: &str) {
    wait_for(Duration::from_secs(10), what, || {
        let found = clock.sleepers().contains(&t);
        async move { found }
    })
    .await;
}

/// Whether no delivery is pending, whatever its moment (so none is leased or in flight: a row
/// stays pending and leased until its send's outcome is recorded).
pub async fn queue_drained(db: &herald::store::Db) -> bool {
    // Pending rows due by the year 9999: every pending row, leased or not.
    let end_of_time = "9999-12-31T00:00:00Z".parse().expect("a moment");
    db.run(move |conn| herald::store::deliveries::queue_depth(conn, end_of_time))
        .await
        .is_ok_and(|(pending, leased)| pending == 0 && leased == 0)
}

/// Waits until every delivery in `db` has its final outcome (see `queue_drained`): no send is
/// left to happen, now or later, unless something new is enqueued.
pub async fn wait_drained(db: &herald::store::Db, what: &str) {
    wait_for(Duration::from_secs(30), what, || queue_drained(db)).await;
}

/// The PostgreSQL backend process serving `conn`, for `wait_until_blocked`.
pub fn backend_pid(conn: &mut herald::store::Conn<'_>) -> i32 {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let herald::store::Conn::Postgres(c) = conn else {
        panic!("PostgreSQL only")
    };
    diesel::RunQueryDsl::get_result::<Pid>(diesel::sql_query("SELECT pg_backend_pid() AS pid"), *c)
        .unwrap()
        .pid
}

/// Waits until the PostgreSQL backend `pid` waits for a lock: the barrier, with no sleep guessed.
pub fn wait_until_blocked(db: &herald::store::Db, pid: i32) {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    const WAIT: Duration = Duration::from_secs(20);
    let mut pooled = db.get().unwrap();
    let herald::store::Conn::Postgres(c) = pooled.as_conn() else {
        panic!("PostgreSQL only")
    };
    let start = Instant::now();
    loop {
        let n = diesel::RunQueryDsl::get_result::<N>(
            diesel::sql_query("SELECT count(*) AS n FROM pg_locks WHERE pid = $1 AND NOT granted")
                .bind::<diesel::sql_types::Integer, _>(pid),
            c,
        )
        .unwrap()
        .n;
        if n > 0 {
            return;
        }
        assert!(
            start.elapsed() < WAIT,
            "backend {pid} never waited for a lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Installed users `29:{prefix}{i}` whose conversations are `a:{prefix}{i}` at `service_url`.
pub async fn add_users(
    db: &herald::store::Db,
    service_url: &str,
    prefix: &str,
    n: usize,
) -> Vec<String> {
    let service_url = service_url.to_string();
    let prefix = prefix.to_string();
    db.run(move |conn| {
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let r = herald::store::users::ConversationRef {
                tenant_id: TENANT.into(),
                channel_id: "msteams".into(),
                channel_user_id: format!("29:{prefix}{i}"),
                aad_object_id: None,
                bot_id: format!("28:{APP_ID}"),
                service_url: service_url.clone(),
                conversation_id: format!("a:{prefix}{i}"),
                display_name: Some(format!("User {prefix}{i}")),
                locale: None,
                time_zone: None,
            };
            let profile = herald::store::users::Profile::default();
            let (user, _) =
                herald::store::users::record_install(conn, &r, &profile, chrono::Utc::now())?;
            ids.push(user.id);
        }
        Ok(ids)
    })
    .await
    .expect("users added")
}

/// An engine's settings for tests without an HTTP server: quick retries.
pub fn bare_config(
    concurrency: usize,
    lease: Duration,
    tenant_rps: u32,
) -> herald::engine::EngineConfig {
    herald::engine::EngineConfig {
        concurrency,
        lease,
        retry: herald::domain::delivery::RetryPolicy {
            max_retries: 5,
            base: Duration::from_millis(50),
            max: Duration::from_millis(200),
        },
        tenant_rps,
        ..herald::engine::EngineConfig::from_settings(&Settings::default())
    }
}

/// An engine of its own (no HTTP server) on `db`, sending without credentials.
pub async fn start_bare_engine(
    db: &herald::store::Db,
    clock: Arc<dyn herald::domain::Clock>,
    config: herald::engine::EngineConfig,
) -> herald::engine::EngineHandle {
    let client = herald::startup::http_client().unwrap();
    start_engine_with_client(db, clock, config, client).await
}

/// The header naming the engine that sent a request, for tests with several engines.
pub const SENT_BY: &str = "x-test-sent-by";

/// Like [`start_bare_engine`], each request carrying [`SENT_BY`]: `name`.
pub async fn start_bare_engine_named(
    db: &herald::store::Db,
    clock: Arc<dyn herald::domain::Clock>,
    config: herald::engine::EngineConfig,
    name: &str,
) -> herald::engine::EngineHandle {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(SENT_BY, name.parse().unwrap());
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    start_engine_with_client(db, clock, config, client).await
}

async fn start_engine_with_client(
    db: &herald::store::Db,
    clock: Arc<dyn herald::domain::Clock>,
    config: herald::engine::EngineConfig,
    client: reqwest::Client,
) -> herald::engine::EngineHandle {
    let connector = herald::botframework::ConnectorClient::without_credentials(client);
    herald::engine::Engine::start(
        herald::outbox::Outbox::new(db.clone()),
        connector,
        clock,
        Arc::new(herald::metrics::Metrics::new()),
        config,
        None,
    )
    .await
    .unwrap()
}

/// Waits until `message_id` has `count` deliveries (any number, when `None`), all delivered.
pub async fn wait_delivered(
    db: &herald::store::Db,
    message_id: &str,
    count: Option<usize>,
    timeout: Duration,
) {
    wait_for(timeout, "every delivery delivered", || {
        let (db, id) = (db.clone(), message_id.to_string());
        async move {
            db.run(move |conn| herald::store::deliveries::of_message(conn, &id))
                .await
                .map(|rows| {
                    count.is_none_or(|n| rows.len() == n)
                        && rows.iter().all(|d| d.status == "delivered")
                })
                .unwrap_or(false)
        }
    })
    .await;
}

/// One delivery due now for each user.
pub fn due_now(users: &[String]) -> Vec<herald::store::deliveries::NewDelivery> {
    users
        .iter()
        .map(|u| herald::store::deliveries::NewDelivery {
            user_id: u.clone(),
            operation: herald::store::deliveries::Operation::Send,
            target_activity_id: None,
            due: chrono::Utc::now(),
            planned: None,
        })
        .collect()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the workers so they release their database connections.
        // The stop command is sent when `stop` is called; its completion is not awaited.
        drop(self.handle.stop(false));
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

impl TestApp {
    /// The serviceUrl activities carry: the fake connector.
    pub fn service_url(&self) -> String {
        format!("{}/", self.connector.uri())
    }

    pub async fn post_activity(&self, activity: &Value, token: Option<&str>) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/api/messages", self.address))
            .header("content-type", "application/json")
            .body(activity.to_string());
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.send().await.expect("request sent")
    }

    /// Posts with a valid channel token for the activity's serviceUrl.
    pub async fn post_signed(&self, activity: &Value) -> reqwest::Response {
        let url = activity["serviceUrl"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.post_activity(activity, Some(&channel_token(&url)))
            .await
    }

    /// Requests the fake connector received, by method and path suffix.
    pub async fn connector_requests(&self, verb: &str, suffix: &str) -> Vec<Request> {
        self.connector
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == verb && r.url.path().ends_with(suffix))
            .collect()
    }

    /// Sends `text` as `user` in `locale`; expects exactly one message back and returns its text.
    pub async fn say(&self, user: &str, text: &str, locale: &str) -> String {
        self.say_expecting(user, text, locale, 1).await
    }

    /// Like `say`, expecting exactly `replies` messages sent; returns the last one's text.
    pub async fn say_expecting(
        &self,
        user: &str,
        text: &str,
        locale: &str,
        replies: usize,
    ) -> String {
        let before = self.sent_messages().await.len();
        let mut activity = self.message(&format!("1:{}", uuid::Uuid::new_v4()), user, text);
        activity["locale"] = json!(locale);
        assert_eq!(self.post_signed(&activity).await.status(), 200);
        let sent = self.sent_messages().await;
        assert_eq!(
            sent.len(),
            before + replies,
            "{replies} message(s) for `{text}`"
        );
        let body: Value = sent.last().unwrap().body_json().unwrap();
        reply_text(&body)
    }

    /// Sends `text` as `user` in `locale`; expects exactly one reply to it (by `replyToId`, so
    /// that cards the engine sends meanwhile do not count) and returns its text.
    pub async fn tell(&self, user: &str, text: &str, locale: &str) -> String {
        let mut activity = self.message(&format!("1:{}", uuid::Uuid::new_v4()), user, text);
        activity["locale"] = json!(locale);
        let replies = self.replies_to(&activity).await;
        assert_eq!(replies.len(), 1, "one reply to `{text}`");
        reply_text(&replies[0])
    }

    /// Posts `activity` (signed) and returns what the bot sent in reply to it (by `replyToId`;
    /// messages the engine sends meanwhile are not replies).
    pub async fn replies_to(&self, activity: &Value) -> Vec<Value> {
        assert_eq!(self.post_signed(activity).await.status(), 200);
        let id = activity["id"].clone();
        self.sent_messages()
            .await
            .iter()
            .filter_map(|r| r.body_json::<Value>().ok())
            .filter(|b| b["replyToId"] == id)
            .collect()
    }

    /// Messages the bot sent (POSTs to `…/activities`).
    pub async fn sent_messages(&self) -> Vec<Request> {
        self.connector_requests("POST", "/activities").await
    }

    pub async fn jwks_fetches(&self) -> usize {
        self.keys
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == "/channel/keys")
            .count()
    }

    /// `herald users [ARGS]` against this app's database: its standard output.
    pub fn users_command(&self, args: &[&str]) -> Vec<u8> {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["--config"])
            .arg(&self.config_path)
            .arg("users")
            .args(args)
            .output()
            .expect("herald users runs");
        assert!(
            output.status.success(),
            "herald users failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// `herald users --json` against this app's database.
    pub fn users_json(&self) -> Vec<Value> {
        serde_json::from_slice(&self.users_command(&["--json"]))
            .expect("herald users --json prints JSON")
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }

    /// Stops the app and waits until its engine has shut down, in-flight sends finished: from
    /// then on nothing more reaches the fake connector.
    pub async fn shut_down(&self) {
        self.handle.stop(true).await;
        let running = self.running.lock().unwrap().take();
        if let Some(running) = running {
            running
                .await
                .expect("the app's task ended cleanly")
                .expect("the app stopped cleanly");
        }
    }

    /// The app's time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Moves the app's manual clock forward (`spawn_app_on_clock`).
    pub fn advance(&self, by: chrono::TimeDelta) {
        self.manual
            .as_ref()
            .expect("advance needs an app started by spawn_app_on_clock")
            .advance(by);
    }

    /// Waits until every delivery has its final outcome: see `wait_drained`.
    pub async fn drained(&self, what: &str) {
        wait_drained(&self.app_db, what).await;
    }

    // Activities -------------------------------------------------------------------------

    fn base(&self, kind: &str, id: &str, user: &str) -> Value {
        json!({
            "type": kind,
            "id": id,
            "timestamp": "2026-11-21T08:00:00.000Z",
            "serviceUrl": self.service_url(),
            "channelId": "msteams",
            "from": {"id": user, "name": "Ada Lovelace", "aadObjectId": format!("aad-{}", user.trim_start_matches("29:"))},
            "recipient": {"id": format!("28:{APP_ID}"), "name": "herald"},
            "conversation": {"id": format!("a:conv-{}", user.trim_start_matches("29:")), "conversationType": "personal", "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-US",
            "entities": [{"type": "clientInfo", "locale": "en-US", "timezone": "Europe/Paris"}],
        })
    }

    pub fn install(&self, id: &str, user: &str) -> Value {
        let mut a = self.base("installationUpdate", id, user);
        a["action"] = json!("add");
        a
    }

    pub fn uninstall(&self, id: &str, user: &str) -> Value {
        let mut a = self.base("installationUpdate", id, user);
        a["action"] = json!("remove");
        a
    }

    pub fn message(&self, id: &str, user: &str, text: &str) -> Value {
        let mut a = self.base("message", id, user);
        a["text"] = json!(text);
        a["textFormat"] = json!("plain");
        a
    }
}
