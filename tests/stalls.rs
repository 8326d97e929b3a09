//! Unauthenticated load: 500 connections that send a request's headers with no valid token, then
//! stall (their bodies never come, or their headers never end). A real `herald serve` process is
//! measured: its resident memory stays within 50 MiB of what it used idle, and genuine Teams
//! traffic is answered all along.
//!
//! `cargo test --release --test stalls -- --nocapture` prints the figures.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::tokens::*;
use common::{BEARER, TENANT};

const STALLED: usize = 500;
const HEADERS_ONLY: usize = 100;
const LIMIT_MIB: f64 = 50.0;

struct Herald(Child);

impl Drop for Herald {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Resident memory of `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}

async fn fakes() -> (MockServer, MockServer, MockServer) {
    let keys = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/channel/.well-known/openidconfiguration"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"jwks_uri": format!("{}/channel/keys", keys.uri())})),
        )
        .mount(&keys)
        .await;
    Mock::given(method("GET"))
        .and(path("/channel/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(channel_jwks()))
        .mount(&keys)
        .await;
    let login = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": BEARER
        })))
        .mount(&login)
        .await;
    let connector = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"/members/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(common::member_profile("29:x")))
        .mount(&connector)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "1:r"})))
        .mount(&connector)
        .await;
    (keys, login, connector)
}

fn start(dir: &Path, port: u16, keys: &str, login: &str) -> Herald {
    let config = dir.join("appsettings.toml");
    std::fs::write(
        &config,
        format!(
            r#"[server]
bind = "127.0.0.1:{port}"
[database]
url = "sqlite://{db}"
[bot]
app_id = "{APP_ID}"
app_password = "{APP_PASSWORD}"
openid_metadata_url = "{keys}/channel/.well-known/openidconfiguration"
emulator_openid_metadata_url = "{keys}/emulator/.well-known/openid-configuration"
token_endpoint = "{login}/{{tenant}}/oauth2/v2.0/token"
"#,
            db = dir.join("herald.db").display()
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("herald starts");
    Herald(child)
}

/// A genuine Teams message from person `n`, signed for `service_url`.
async fn valid_turn(client: &reqwest::Client, address: &str, service_url: &str, n: usize) -> u16 {
    let activity = json!({
        "type": "message", "id": format!("m-{n}-{}", uuid::Uuid::new_v4()), "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": format!("29:p{n}"), "aadObjectId": format!("aad-p{n}")},
        "recipient": {"id": format!("28:{APP_ID}")},
        "conversation": {"id": format!("a:p{n}"), "conversationType": "personal", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
        "text": "hello"
    });
    client
        .post(format!("{address}/api/messages"))
        .header("content-type", "application/json")
        .header(
            "authorization",
            format!("Bearer {}", channel_token(service_url)),
        )
        .body(activity.to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_stalled_unauthenticated_connections_cost_little_and_block_nothing() {
    let (keys, login, connector) = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let herald = start(dir.path(), port, &keys.uri(), &login.uri());
    let pid = herald.0.id();
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "herald never got ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let service_url = format!("{}/", connector.uri());

    // Idle, after a first round of genuine traffic (keys fetched, pool and caches warm).
    for n in 0..50 {
        assert_eq!(valid_turn(&client, &address, &service_url, n).await, 200);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_mib(pid);

    // Headers with no valid token (none, or a garbage one), a large declared body, a few bytes
    // of it, then nothing more; and some whose headers never end.
    let mut stalled = Vec::with_capacity(STALLED);
    for n in 0..STALLED {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let auth = if n % 2 == 0 {
            "Authorization: Bearer not.a.token\r\n"
        } else {
            ""
        };
        let head = if n < HEADERS_ONLY {
            "POST /api/messages HTTP/1.1\r\nHost: herald\r\nContent-Type: application/json\r\nX-Padding: "
                .to_string()
        } else {
            format!(
                "POST /api/messages HTTP/1.1\r\nHost: herald\r\nContent-Type: application/json\r\n\
                 Content-Length: 250000\r\n{auth}\r\n{{\"type\":\"message\",\"text\":\""
            )
        };
        stream.write_all(head.as_bytes()).await.expect("write");
        stalled.push(stream);
    }

    // Those with whole headers are refused at once, without their bodies.
    let mut refused = 0;
    for stream in stalled.iter_mut().skip(HEADERS_ONLY) {
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer before the body came")
            .unwrap_or(0);
        if buf[..n].starts_with(b"HTTP/1.1 401") {
            refused += 1;
        }
    }
    assert_eq!(refused, STALLED - HEADERS_ONLY, "401 before any body");

    // Genuine traffic all along, while every stalled connection is still open.
    let begun = Instant::now();
    let mut slowest = Duration::ZERO;
    for n in 50..150 {
        let t = Instant::now();
        assert_eq!(
            valid_turn(&client, &address, &service_url, n).await,
            200,
            "turn {n}"
        );
        slowest = slowest.max(t.elapsed());
    }
    let served = begun.elapsed();
    let loaded = rss_mib(pid);
    let grew = loaded - idle;
    println!(
        "stalls: idle RSS {idle:.1} MiB, with {STALLED} stalled connections {loaded:.1} MiB \
         (+{grew:.1} MiB); 100 genuine turns meanwhile in {:.0} ms, slowest {:.0} ms",
        served.as_secs_f64() * 1000.0,
        slowest.as_secs_f64() * 1000.0
    );
    assert!(
        grew < LIMIT_MIB,
        "RSS grew by {grew:.1} MiB with {STALLED} stalled connections"
    );
    drop(stalled);

    // A genuine token with a body that never ends: 408 once the read timeout has passed. Beyond
    // the readers' bound, a body waits for a reader, then gets 503 (the Bot Framework retries).
    let readers = herald::routes::MAX_CONCURRENT_BODIES;
    let token = channel_token(&service_url);
    let begun = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..readers + 2 {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let head = format!(
            "POST /api/messages HTTP/1.1\r\nHost: herald\r\nContent-Type: application/json\r\n\
             Content-Length: 1000\r\nAuthorization: Bearer {token}\r\n\r\n{{\"type\":"
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        slow.push(stream);
    }
    let mut answers = Vec::new();
    for stream in &mut slow {
        let mut buf = vec![0u8; 512];
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap_or(0);
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        answers.push((text, begun.elapsed()));
    }
    let timed_out = answers
        .iter()
        .filter(|(a, _)| a.starts_with("HTTP/1.1 408"))
        .count();
    let busy: Vec<_> = answers
        .iter()
        .filter(|(a, _)| a.starts_with("HTTP/1.1 503"))
        .collect();
    println!(
        "stalls: {} slow authenticated bodies: {timed_out} timed out (408), {} busy (503)",
        readers + 2,
        busy.len(),
    );
    assert_eq!(timed_out, readers, "each reader's body timed out");
    assert_eq!(busy.len(), 2, "two waited for a reader in vain");
    assert!(busy.iter().all(|(a, _)| a.contains("\"busy\"")));
    assert!(
        answers
            .iter()
            .filter(|(a, _)| a.starts_with("HTTP/1.1 408"))
            .all(|(a, t)| a.contains("body_timeout") && *t >= herald::routes::BODY_READ_TIMEOUT),
        "408 only once the timeout has passed"
    );
    drop(slow);
    assert_eq!(valid_turn(&client, &address, &service_url, 1000).await, 200);
    drop(herald);
}
