//! Inbound benchmark: signed activities at N concurrent connections to herald, which runs as its
//! own process (the release binary), so its CPU time and peak RSS are measured alone, from /proc.
//!
//!     cargo build --release && cargo run --release --example bench_messages -- \
//!         [--requests 20000] [--concurrency 32] [--warmup 2000] [--database-url URL] \
//!         [--kind help,text,reaction,ack,choice] [--text "hello from the load driver"] \
//!         [--users 1000]
//!
//! Before the run, `--users` load users are stored as installed, with one broadcast (an
//! acknowledgement and a three-choice poll) delivered to each a month ago (outside the reply
//! window, so ordinary text is not relayed as a reply). Then each `--kind`, in order, in the same
//! herald process: `help` and `text` (`--text`) are messages answered with one reply through the
//! fake connector; `reaction` is a `messageReaction` on the person's card (adds, then removes);
//! `ack` and `choice` are the card's `adaptiveCard/action` invokes, answered in the HTTP body.
//! Each kind gets a short warm-up of its own, not counted.
//!
//! One machine-readable line per kind:
//! `messages kind=K requests=N concurrency=C rps=X p50_ms=A p99_ms=B cpu_ms_per_req=Y
//! peak_rss_mib=Z replies=R invoke_ok=I recorded=D` (`recorded`: the kind's rows in the
//! database afterwards, reactions, acknowledgements or answers).

#[path = "support/proc_stats.rs"]
mod proc_stats;
#[path = "../tests/common/tokens.rs"]
mod tokens;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use herald::store::{DatabaseUrl, Db};
use serde_json::json;

struct Args {
    requests: usize,
    concurrency: usize,
    warmup: usize,
    database_url: Option<String>,
    kinds: Vec<Kind>,
    text: String,
    users: usize,
}

/// What each request of a burst is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Help,
    Text,
    Reaction,
    Ack,
    Choice,
}

impl Kind {
    fn parse(s: &str) -> Kind {
        match s {
            "help" => Kind::Help,
            "text" => Kind::Text,
            "reaction" => Kind::Reaction,
            "ack" => Kind::Ack,
            "choice" => Kind::Choice,
            other => panic!("--kind {other}: help, text, reaction, ack or choice"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Help => "help",
            Kind::Text => "text",
            Kind::Reaction => "reaction",
            Kind::Ack => "ack",
            Kind::Choice => "choice",
        }
    }

    /// Connector sends each request causes (messages are answered in the chat, the rest not).
    fn replies(self) -> usize {
        match self {
            Kind::Help | Kind::Text => 1,
            Kind::Reaction | Kind::Ack | Kind::Choice => 0,
        }
    }
}

fn parse_args() -> Args {
    let mut args = Args {
        requests: 20_000,
        concurrency: 32,
        warmup: 2_000,
        database_url: None,
        kinds: vec![Kind::Help],
        text: "hello from the load driver".into(),
        users: 1000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--requests" => args.requests = value().parse().expect("--requests N"),
            "--concurrency" => args.concurrency = value().parse().expect("--concurrency N"),
            "--warmup" => args.warmup = value().parse().expect("--warmup N"),
            "--database-url" => args.database_url = Some(value()),
            "--kind" => args.kinds = value().split(',').map(Kind::parse).collect(),
            "--text" => args.text = value(),
            "--users" => args.users = value().parse().expect("--users N"),
            other => panic!("unknown flag {other}; see the header of examples/bench_messages.rs"),
        }
    }
    args
}

/// The fake outside world: OpenID metadata and keys, the token endpoint, and a connector that
/// answers every send at once and counts it.
fn start_fakes(replies: Arc<AtomicU64>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let base = format!("http://127.0.0.1:{port}");
            HttpServer::new(move || {
                let base = base.clone();
                let replies = replies.clone();
                App::new()
                    .route(
                        "/openid",
                        web::get().to(move || {
                            let base = base.clone();
                            async move {
                                HttpResponse::Ok().json(json!({"jwks_uri": format!("{base}/keys")}))
                            }
                        }),
                    )
                    .route(
                        "/keys",
                        web::get().to(|| async { HttpResponse::Ok().json(tokens::channel_jwks()) }),
                    )
                    .route(
                        "/token",
                        web::post().to(|| async {
                            HttpResponse::Ok().json(json!({
                                "token_type": "Bearer", "expires_in": 3600, "access_token": "bench-token"
                            }))
                        }),
                    )
                    .route(
                        "/v3/conversations/{id}/activities",
                        // Taking the body matters: actix closes connections whose request body
                        // was left unread, which would bench TCP set-up instead of herald.
                        web::post().to(move |_body: web::Bytes| {
                            let replies = replies.clone();
                            async move {
                                replies.fetch_add(1, Ordering::Relaxed);
                                HttpResponse::Created().json(json!({"id": "1:reply"}))
                            }
                        }),
                    )
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    port
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn herald_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|p| p.parent()).unwrap();
    let bin = dir.join("herald");
    assert!(
        bin.is_file(),
        "{} not found: run `cargo build --release` first",
        bin.display()
    );
    bin
}

struct PgSchema {
    base: String,
    name: String,
    url: String,
}

impl PgSchema {
    fn create(url: Option<&str>) -> Option<PgSchema> {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let base = url.filter(|u| u.starts_with("postgres"))?.to_string();
        let name = format!("herald_bench_{}", std::process::id());
        let mut conn = diesel::PgConnection::establish(&base).expect("PostgreSQL reachable");
        conn.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))
        .expect("create the bench schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
        Some(PgSchema { base, name, url })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.base) {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

struct Herald(Child);

impl Drop for Herald {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let replies = Arc::new(AtomicU64::new(0));
    let fake_port = start_fakes(replies.clone());
    let fake = format!("http://127.0.0.1:{fake_port}");

    let dir = tempfile::tempdir().unwrap();
    // PostgreSQL: a schema of its own, dropped at the end, so runs never see each other's rows.
    let schema = PgSchema::create(args.database_url.as_deref());
    let database_url = match (&schema, &args.database_url) {
        (Some(s), _) => s.url.clone(),
        (None, Some(url)) => url.clone(),
        (None, None) => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let port = free_port();
    let config = dir.path().join("appsettings.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nbind = \"127.0.0.1:{port}\"\n[database]\nurl = \"{database_url}\"\n\
             [bot]\napp_id = \"{}\"\napp_password = \"x\"\nopenid_metadata_url = \"{fake}/openid\"\n\
             emulator_openid_metadata_url = \"{fake}/openid\"\ntoken_endpoint = \"{fake}/token\"\n",
            tokens::APP_ID
        ),
    )
    .unwrap();
    let child = Command::new(herald_binary())
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start herald");
    let herald = Herald(child);
    let pid = herald.0.id();

    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .unwrap();
    let started = Instant::now();
    while client
        .get(format!("{address}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "herald did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let service_url = format!("{fake}/");
    let broadcast = setup(&database_url, &service_url, args.users);
    let card_broadcast = broadcast.clone();
    let token = Arc::new(format!("Bearer {}", tokens::channel_token(&service_url)));
    let users = args.users;
    let text = args.text.clone();
    // Request `i` of a burst of `kind`: from load user `i % users`, with an id of its own.
    let body = move |kind: Kind, i: usize| {
        let u = i % users;
        let mut activity = json!({
            "type": "message", "id": format!("1:{}-{i}", kind.name()), "channelId": "msteams",
            "serviceUrl": service_url,
            "from": {"id": format!("29:user-{u}"), "name": "Bench User", "aadObjectId": format!("aad-{u}")},
            "recipient": {"id": format!("28:{}", tokens::APP_ID), "name": "herald"},
            "conversation": {"id": format!("a:conv-{u}"), "conversationType": "personal", "tenantId": "t"},
            "channelData": {"tenant": {"id": "t"}},
            "locale": "en-US",
        });
        let card = format!("1:card-{u}");
        let round = i / users;
        match kind {
            Kind::Help => activity["text"] = json!("help"),
            Kind::Text => activity["text"] = json!(text),
            Kind::Reaction => {
                // Each person's reactions go like, heart, laugh…, then come off again.
                let types = ["like", "heart", "laugh", "surprised", "sad", "angry"];
                let reaction = json!([{"type": types[round % types.len()]}]);
                activity["type"] = json!("messageReaction");
                activity["replyToId"] = json!(card);
                let field = if (round / types.len()).is_multiple_of(2) {
                    "reactionsAdded"
                } else {
                    "reactionsRemoved"
                };
                activity[field] = reaction;
            }
            Kind::Ack | Kind::Choice => {
                let (verb, data) = if kind == Kind::Ack {
                    (
                        "ack",
                        json!({"herald": "broadcast-ack", "broadcast": card_broadcast}),
                    )
                } else {
                    // A person changes their answer each round.
                    let choice = (u + round) % 3;
                    (
                        "choose",
                        json!({"herald": "broadcast-choice", "broadcast": card_broadcast, "choice": choice}),
                    )
                };
                activity["type"] = json!("invoke");
                activity["name"] = json!("adaptiveCard/action");
                activity["replyToId"] = json!(card);
                activity["value"] = json!({
                    "action": {"type": "Action.Execute", "verb": verb, "data": data},
                    "trigger": "manual"
                });
            }
        }
        activity.to_string()
    };

    // Each request's latency, and whether an invoke was answered with status 200.
    let run = |kind: Kind, from: usize, count: usize| {
        let bodies: Vec<String> = (from..from + count).map(|i| body(kind, i)).collect();
        let bodies = Arc::new(bodies);
        let next = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..args.concurrency)
            .map(|_| {
                let (client, token, bodies, next) =
                    (client.clone(), token.clone(), bodies.clone(), next.clone());
                let url = format!("{address}/api/messages");
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut invoke_ok = 0usize;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        if i >= bodies.len() {
                            break (latencies, invoke_ok);
                        }
                        let t = Instant::now();
                        let response = client
                            .post(&url)
                            .header("content-type", "application/json")
                            .header("authorization", token.as_str())
                            .body(bodies[i].clone())
                            .send()
                            .await
                            .expect("request sent");
                        assert_eq!(response.status(), 200, "request {i}");
                        let answer = response.bytes().await.expect("response read");
                        latencies.push(t.elapsed());
                        if matches!(kind, Kind::Ack | Kind::Choice)
                            && serde_json::from_slice::<serde_json::Value>(&answer)
                                .is_ok_and(|v| v["statusCode"] == 200)
                        {
                            invoke_ok += 1;
                        }
                    }
                })
            })
            .collect();
        async move {
            let mut all = Vec::new();
            let mut ok = 0;
            for t in tasks {
                let (latencies, invoke_ok) = t.await.unwrap();
                all.extend(latencies);
                ok += invoke_ok;
            }
            (all, ok)
        }
    };

    let backend = if database_url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    run(Kind::Help, 0, args.warmup).await;
    let mut from = args.warmup;
    for &kind in &args.kinds {
        // A warm-up of the kind's own (its statements prepared, its pages cached).
        let warm = (args.warmup / 4).min(args.requests);
        run(kind, from, warm).await;
        from += warm;
        let replies_before = replies.load(Ordering::Relaxed);
        let cpu_before = proc_stats::cpu_seconds(&pid.to_string()) * 1000.0;
        let t0 = Instant::now();
        let (mut latencies, invoke_ok) = run(kind, from, args.requests).await;
        let wall = t0.elapsed();
        let cpu = proc_stats::cpu_seconds(&pid.to_string()) * 1000.0 - cpu_before;
        from += args.requests;
        // Replies are sent before each answer, so all have arrived by now.
        let replied = replies.load(Ordering::Relaxed) - replies_before;
        latencies.sort();
        let rss = proc_stats::peak_rss_mib(&pid.to_string());
        println!(
            "backend={backend} kind={} requests={} concurrency={} wall_s={:.2} replies={}",
            kind.name(),
            args.requests,
            args.concurrency,
            wall.as_secs_f64(),
            replied
        );
        assert_eq!(
            replied as usize,
            args.requests * kind.replies(),
            "{} replies per {} request",
            kind.replies(),
            kind.name()
        );
        println!(
            "messages kind={} requests={} concurrency={} rps={:.0} p50_ms={:.2} p99_ms={:.2} cpu_ms_per_req={:.4} peak_rss_mib={:.1} replies={} invoke_ok={} recorded={}",
            kind.name(),
            args.requests,
            args.concurrency,
            args.requests as f64 / wall.as_secs_f64(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            cpu / args.requests as f64,
            rss,
            replied,
            invoke_ok,
            recorded(&database_url, kind, &broadcast),
        );
    }
}

fn open_db(database_url: &str) -> Db {
    Db::open(&DatabaseUrl::parse(database_url).expect("database URL"), 2).expect("database opens")
}

/// The load users, installed (`29:user-{i}` in `a:conv-{i}`), and one broadcast with an
/// acknowledgement and a poll delivered to each of them a month ago as `1:card-{i}`, written
/// as herald writes them. Returns the broadcast's id.
fn setup(database_url: &str, service_url: &str, n: usize) -> String {
    use herald::domain::Lang;
    use herald::domain::broadcast::{CardContent, CardState};
    use herald::store::broadcasts::{self, Audience, NewBroadcast, Role};
    use herald::store::schema::{deliveries as d, users as u};

    let db = open_db(database_url);
    let mut pooled = db.get().expect("a connection");
    let mut conn = pooled.as_conn();
    let then = Utc::now() - TimeDelta::days(31);
    let at = then.naive_utc();
    let ids: Vec<String> = (0..n).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    conn.write_transaction(|conn| {
        for (start, chunk) in ids.chunks(500).enumerate() {
            let rows: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    let i = start * 500 + k;
                    (
                        u::id.eq(id.clone()),
                        u::tenant_id.eq("t"),
                        u::channel_id.eq("msteams"),
                        u::channel_user_id.eq(format!("29:user-{i}")),
                        u::aad_object_id.eq(format!("aad-{i}")),
                        u::bot_id.eq(format!("28:{}", tokens::APP_ID)),
                        u::service_url.eq(service_url),
                        u::conversation_id.eq(format!("a:conv-{i}")),
                        u::installed.eq(true),
                        u::installed_changed_at.eq(at),
                        u::created_at.eq(at),
                        u::updated_at.eq(at),
                    )
                })
                .collect();
            herald::run_on!(conn, |c| diesel::insert_into(u::table)
                .values(&rows)
                .execute(c))?;
        }
        // The sender: an admin, not one of the load users.
        herald::run_on!(conn, |c| diesel::insert_into(u::table)
            .values((
                u::id.eq("bench-admin"),
                u::tenant_id.eq("t"),
                u::channel_id.eq("msteams"),
                u::channel_user_id.eq("29:bench-admin"),
                u::bot_id.eq(format!("28:{}", tokens::APP_ID)),
                u::service_url.eq(service_url),
                u::conversation_id.eq("a:conv-admin"),
                u::installed.eq(true),
                u::installed_changed_at.eq(at),
                u::created_at.eq(at),
                u::updated_at.eq(at),
            ))
            .execute(c))?;
        let choices: Vec<String> = ["Yes", "No", "Maybe"].map(String::from).to_vec();
        let new = NewBroadcast {
            tenant_id: "t".into(),
            subject: "Availability for the busy period".into(),
            body: "Can you work the weekend of the sale?".into(),
            list_id: None,
            audience: "all".into(),
            sender_id: "bench-admin".into(),
            sender_name: "Bench Admin".into(),
            links: Vec::new(),
            install: false,
            remind_after: None,
            ack: true,
            choices: choices.clone(),
        };
        let audience = Audience {
            recipients: ids.iter().map(|id| (id.clone(), Lang::En)).collect(),
            not_installed: Vec::new(),
        };
        let id = broadcasts::insert(conn, &new, &audience, then)?;
        let content = CardContent {
            broadcast_id: &id,
            subject: &new.subject,
            body: &new.body,
            sender: &new.sender_name,
            ack: true,
            choices: &choices,
        };
        let card =
            herald::broadcasts::cards::broadcast_card(Lang::En, &content, &CardState::read(false));
        let message_id = uuid::Uuid::now_v7().to_string();
        herald::store::deliveries::create_message(
            conn,
            &message_id,
            "t",
            herald::domain::delivery::MessageKind::BroadcastCard.as_str(),
            &card,
            then,
        )?;
        broadcasts::add_message(conn, &id, &message_id, Role::Card, Lang::En)?;
        for (start, chunk) in ids.chunks(500).enumerate() {
            let rows: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(k, user)| {
                    (
                        d::message_id.eq(message_id.clone()),
                        d::tenant_id.eq("t"),
                        d::user_id.eq(user.clone()),
                        d::operation.eq("send"),
                        d::status.eq("delivered"),
                        d::attempts.eq(1),
                        d::next_attempt_at.eq(at),
                        d::activity_id.eq(format!("1:card-{}", start * 500 + k)),
                        d::created_at.eq(at),
                        d::updated_at.eq(at),
                        d::completed_at.eq(at),
                        d::last_attempt_at.eq(at),
                    )
                })
                .collect();
            herald::run_on!(conn, |c| diesel::insert_into(d::table)
                .values(&rows)
                .execute(c))?;
        }
        Ok::<_, herald::store::StoreError>(id)
    })
    .expect("load users and their broadcast stored")
}

/// The rows a burst of `kind` leaves: reactions, acknowledgements or answers of the broadcast.
fn recorded(database_url: &str, kind: Kind, broadcast: &str) -> i64 {
    use herald::store::schema::{
        broadcast_acks as a, broadcast_answers as an, message_reactions as mr,
    };
    let db = open_db(database_url);
    let mut pooled = db.get().expect("a connection");
    let mut conn = pooled.as_conn();
    let conn = &mut conn;
    let count: Result<i64, diesel::result::Error> = match kind {
        Kind::Help | Kind::Text => Ok(0),
        Kind::Reaction => herald::run_on!(conn, |c| mr::table
            .filter(mr::subject_id.eq(broadcast))
            .count()
            .get_result(c)),
        Kind::Ack => herald::run_on!(conn, |c| a::table
            .filter(a::broadcast_id.eq(broadcast))
            .count()
            .get_result(c)),
        Kind::Choice => herald::run_on!(conn, |c| an::table
            .filter(an::broadcast_id.eq(broadcast))
            .count()
            .get_result(c)),
    };
    count.expect("counted")
}
