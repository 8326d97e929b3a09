//! The fake Bot Framework connector of the fan-out benchmarks, run as a process of its own
//! (the benchmark's binary with `--fake-connector`) so the CPU and memory measured are
//! herald's alone. It answers every send with 201, counts it per recipient (conversations are
//! `a:f-{index}`), and with `--keep-times` keeps each receive time and the sending instance
//! (the `x-bench-instance` header, 0 when absent); `GET /stats` reports them.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

/// Now, in milliseconds since the Unix epoch.
pub fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
        * 1000.0
}

/// The header naming the herald instance that sent a request.
pub const INSTANCE_HEADER: &str = "x-bench-instance";

/// What the fake connector saw: how often each recipient was reached, and when.
struct Seen {
    counts: Vec<AtomicU64>,
    total: AtomicU64,
    /// Receive times (ms since the Unix epoch, the same clock in every process), recipient,
    /// instance.
    times: Mutex<Vec<(f64, usize, u8)>>,
    keep_times: bool,
    /// With `--throttle-after S`: recipients per tenant; the first send to tenant 0 arriving S
    /// seconds or more after the first send of all is answered 429 with `Retry-After: 5`.
    throttle: Option<(usize, f64)>,
    first: std::sync::OnceLock<Instant>,
    throttled: std::sync::atomic::AtomicBool,
}

/// The fake connector process: answers every send with 201, counts it, and reports at
/// `GET /stats` (`?times=1` adds the distinct count and each receive time, in ms).
pub fn run_fake(n: usize, keep_times: bool, throttle: Option<(usize, f64)>) {
    let seen = Arc::new(Seen {
        throttle,
        first: std::sync::OnceLock::new(),
        throttled: std::sync::atomic::AtomicBool::new(false),
        counts: (0..n).map(|_| AtomicU64::new(0)).collect(),
        total: AtomicU64::new(0),
        times: Mutex::new(Vec::with_capacity(if keep_times { n } else { 0 })),
        keep_times,
    });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            let (seen, stats) = (seen.clone(), seen.clone());
            App::new()
                .route(
                    "/v3/conversations/{id}/activities",
                    web::post().to(move |req: HttpRequest, _body: web::Bytes| {
                        let seen = seen.clone();
                        async move {
                            let at = Instant::now();
                            // Conversation ids are `a:f-{index}` (percent-encoded in the path).
                            let index = req
                                .match_info()
                                .get("id")
                                .and_then(|id| id.rsplit('-').next())
                                .and_then(|n| n.parse::<usize>().ok());
                            let first = *seen.first.get_or_init(|| at);
                            if let (Some((per, after)), Some(i)) = (seen.throttle, index)
                                && i / per == 0
                                && (at - first).as_secs_f64() >= after
                                && !seen.throttled.swap(true, Ordering::Relaxed)
                            {
                                return HttpResponse::TooManyRequests()
                                    .insert_header(("Retry-After", "5"))
                                    .finish();
                            }
                            if let Some(c) = index.and_then(|i| seen.counts.get(i)) {
                                c.fetch_add(1, Ordering::Relaxed);
                            }
                            seen.total.fetch_add(1, Ordering::Relaxed);
                            if seen.keep_times {
                                let i = index.unwrap_or(usize::MAX);
                                let by = req
                                    .headers()
                                    .get(INSTANCE_HEADER)
                                    .and_then(|v| v.to_str().ok())
                                    .and_then(|v| v.parse().ok())
                                    .unwrap_or(0);
                                seen.times.lock().unwrap().push((epoch_ms(), i, by));
                            }
                            HttpResponse::Created().json(json!({"id": "1:sent"}))
                        }
                    }),
                )
                .route(
                    "/stats",
                    web::get().to(move |req: HttpRequest| {
                        let seen = stats.clone();
                        async move {
                            let mut body = json!({"total": seen.total.load(Ordering::Relaxed)});
                            if req.query_string().contains("times=1") {
                                let distinct = seen
                                    .counts
                                    .iter()
                                    .filter(|c| c.load(Ordering::Relaxed) > 0)
                                    .count();
                                let kept = seen.times.lock().unwrap();
                                let times: Vec<f64> = kept.iter().map(|(t, _, _)| *t).collect();
                                let index: Vec<usize> = kept.iter().map(|(_, i, _)| *i).collect();
                                let by: Vec<u8> = kept.iter().map(|(_, _, b)| *b).collect();
                                body["distinct"] = json!(distinct);
                                body["times_ms"] = json!(times);
                                body["index"] = json!(index);
                                body["by"] = json!(by);
                            }
                            HttpResponse::Ok().json(body)
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
}

/// The fake connector child process; killed when dropped.
pub struct Fake {
    pub child: std::process::Child,
    pub port: u16,
}

impl Fake {
    pub fn start(n: usize, keep_times: bool, throttle: Option<(usize, f64)>) -> Fake {
        use std::io::BufRead;
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args(["--fake-connector", "--recipients", &n.to_string()]);
        if let Some((per, after)) = throttle {
            cmd.args(["--per-tenant", &per.to_string()]);
            cmd.args(["--throttle-after", &after.to_string()]);
        }
        if keep_times {
            cmd.arg("--keep-times");
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the fake connector");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .expect("the fake connector prints its port");
        Fake { child, port }
    }

    pub async fn stats(&self, client: &reqwest::Client, times: bool) -> serde_json::Value {
        let q = if times { "?times=1" } else { "" };
        client
            .get(format!("http://127.0.0.1:{}/stats{q}", self.port))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
