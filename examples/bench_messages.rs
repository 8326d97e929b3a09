//! Inbound benchmark: signed message activities at N concurrent connections, each producing one
//! reply to a local fake connector. herald runs as its own process (the release binary), so its
//! CPU time and peak RSS are measured alone, from /proc.
//!
//!     cargo build --release && cargo run --release --example bench_messages -- \
//!         [--requests 20000] [--concurrency 32] [--warmup 2000] [--database-url URL]
//!
//! The last line is machine-readable:
//! `messages requests=N concurrency=C rps=X p50_ms=A p99_ms=B cpu_ms_per_req=Y peak_rss_mib=Z`

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
use serde_json::json;

struct Args {
    requests: usize,
    concurrency: usize,
    warmup: usize,
    database_url: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        requests: 20_000,
        concurrency: 32,
        warmup: 2_000,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--requests" => args.requests = value().parse().expect("--requests N"),
            "--concurrency" => args.concurrency = value().parse().expect("--concurrency N"),
            "--warmup" => args.warmup = value().parse().expect("--warmup N"),
            "--database-url" => args.database_url = Some(value()),
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
    let token = Arc::new(format!("Bearer {}", tokens::channel_token(&service_url)));
    let body = |i: usize| {
        json!({
            "type": "message", "id": format!("1:{i}"), "channelId": "msteams",
            "serviceUrl": service_url,
            "from": {"id": format!("29:user-{}", i % 1000), "name": "Bench User", "aadObjectId": "aad"},
            "recipient": {"id": format!("28:{}", tokens::APP_ID), "name": "herald"},
            "conversation": {"id": format!("a:conv-{}", i % 1000), "conversationType": "personal", "tenantId": "t"},
            "channelData": {"tenant": {"id": "t"}},
            "locale": "en-US",
            "text": "help"
        })
        .to_string()
    };

    let run = |from: usize, count: usize| {
        let bodies: Vec<String> = (from..from + count).map(body).collect();
        let bodies = Arc::new(bodies);
        let next = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..args.concurrency)
            .map(|_| {
                let (client, token, bodies, next) =
                    (client.clone(), token.clone(), bodies.clone(), next.clone());
                let url = format!("{address}/api/messages");
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        if i >= bodies.len() {
                            break latencies;
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
                        latencies.push(t.elapsed());
                    }
                })
            })
            .collect();
        async move {
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap());
            }
            all
        }
    };

    run(0, args.warmup).await;
    let replies_before = replies.load(Ordering::Relaxed);
    let cpu_before = proc_stats::cpu_seconds(&pid.to_string()) * 1000.0;
    let t0 = Instant::now();
    let mut latencies = run(args.warmup, args.requests).await;
    let wall = t0.elapsed();
    let cpu = proc_stats::cpu_seconds(&pid.to_string()) * 1000.0 - cpu_before;
    // Replies are sent before each answer, so all have arrived by now.
    let replied = replies.load(Ordering::Relaxed) - replies_before;
    latencies.sort();
    let rss = proc_stats::peak_rss_mib(&pid.to_string());

    println!(
        "backend={} requests={} concurrency={} wall_s={:.2} replies={}",
        if database_url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        },
        args.requests,
        args.concurrency,
        wall.as_secs_f64(),
        replied
    );
    assert_eq!(replied as usize, args.requests, "one reply per request");
    println!(
        "messages requests={} concurrency={} rps={:.0} p50_ms={:.2} p99_ms={:.2} cpu_ms_per_req={:.4} peak_rss_mib={:.1}",
        args.requests,
        args.concurrency,
        args.requests as f64 / wall.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        cpu / args.requests as f64,
        rss
    );
}
