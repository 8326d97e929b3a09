//! Report page benchmark: a completed campaign of 100,000 recipients (70% delivered, of whom
//! 60% read and a tenth clicked; 10% failed, 10% expired, 10% still waiting), set up through
//! the store with bulk inserts (not timed). herald runs as its own process (the release binary,
//! `herald serve`) on that database. Timed: its report page through the signed link, for a
//! set of pages (first, middle and last page, each status filter, searches that find one
//! person or thousands, a search with a filter), each asked once to warm up (`first_ms`) and
//! then `--rounds` times in turn; on PostgreSQL after `ANALYZE`, as autovacuum would have run; then the
//! whole CSV, read as it streams, while herald's peak resident memory (VmHWM) is watched.
//!
//!     cargo build --release --bin herald --example bench_report_page
//!     target/release/examples/bench_report_page [--recipients 100000] [--rounds 15]
//!         [--postgres postgres://postgres@127.0.0.1:5432/postgres]
//!
//! It prints one line per page (`page=… rows=… median_ms=… p90_ms=… max_ms=…`), the median over
//! every page request, and `csv bytes=… lines=… seconds=… rss_before_mib=… peak_rss_mib=…`.

#[path = "support/proc_stats.rs"]
#[allow(dead_code)] // CPU time is not this bench's question.
mod proc_stats;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use herald::domain::Lang;
use herald::domain::delivery::{MessageKind, Operation};
use herald::domain::tracking::{ReportFile, ReportGrant, ReportKind, Signer};
use herald::store::deliveries::NewDelivery;
use herald::store::schema::{campaign_reads as cr, campaigns as c, deliveries as d, users as u};
use herald::store::{DatabaseUrl, Db, StoreError};

const TENANT: &str = "tenant-bench";

struct Args {
    recipients: usize,
    rounds: usize,
    postgres: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        recipients: 100_000,
        rounds: 15,
        postgres: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().expect("a value after each flag");
        match flag.as_str() {
            "--recipients" => a.recipients = value.parse().expect("--recipients N"),
            "--rounds" => a.rounds = value.parse().expect("--rounds N"),
            "--postgres" => a.postgres = Some(value),
            other => panic!("unknown flag {other}; see examples/bench_report_page.rs"),
        }
    }
    a
}

/// A PostgreSQL schema of the bench's own, dropped when done.
struct PgSchema {
    base: String,
    name: String,
    url: String,
}

impl PgSchema {
    fn create(base: &str) -> PgSchema {
        use diesel::connection::SimpleConnection;
        let name = format!("herald_report_{}", std::process::id());
        let mut conn = diesel::PgConnection::establish(base).expect("PostgreSQL reachable");
        conn.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))
        .expect("create the bench schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
        PgSchema {
            base: base.to_string(),
            name,
            url,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
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

fn herald_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|p| p.parent()).unwrap();
    let bin = dir.join("herald");
    assert!(
        bin.is_file(),
        "{} not found: run `cargo build --release --bin herald` first",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The completed campaign of `n` recipients; returns its id.
fn seed(conn: &mut herald::store::Conn<'_>, n: usize) -> Result<String, StoreError> {
    conn.write_transaction(|conn| {
        let now = Utc::now();
        let at = now.naive_utc();
        let id = uuid::Uuid::now_v7().to_string();
        let mut users = Vec::with_capacity(n);
        for start in (0..n).step_by(1000) {
            let chunk: Vec<String> = (start..(start + 1000).min(n))
                .map(|_| uuid::Uuid::now_v7().to_string())
                .collect();
            let rows: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(k, uid)| {
                    let i = start + k;
                    (
                        u::id.eq(uid.clone()),
                        u::tenant_id.eq(TENANT),
                        u::channel_id.eq("msteams"),
                        u::channel_user_id.eq(format!("29:r{i}")),
                        u::bot_id.eq("28:bot"),
                        u::service_url.eq("http://127.0.0.1:9/"),
                        u::conversation_id.eq(format!("a:r{i}")),
                        u::installed.eq(true),
                        u::installed_changed_at.eq(at),
                        u::created_at.eq(at),
                        u::updated_at.eq(at),
                        u::display_name.eq(format!("Person{i} Family{}", i % 1000)),
                        u::email.eq(format!("person{i}@contoso.com")),
                    )
                })
                .collect();
            herald::run_on!(conn, |x| diesel::insert_into(u::table)
                .values(&rows)
                .execute(x))?;
            users.extend(chunk);
        }
        herald::run_on!(conn, |x| diesel::insert_into(c::table)
            .values((
                c::id.eq(&id),
                c::tenant_id.eq(TENANT),
                c::name.eq("Bench"),
                c::name_key.eq("bench"),
                c::list_id.eq("list-bench"),
                c::channel.eq("msteams"),
                c::start_at.eq(at - TimeDelta::hours(3)),
                c::time_zone.eq("Europe/Paris"),
                c::duration_minutes.eq(120_i64),
                c::hours.eq("Mon-Sun 00:00-23:59"),
                c::presence.eq("any"),
                c::message.eq("Bonjour [FIRSTNAME]"),
                c::status.eq("completed"),
                c::seed.eq(1_i64),
                c::targeted.eq(n as i32),
                c::not_installed.eq(0),
                c::created_by.eq("bench"),
                c::created_at.eq(at),
                c::updated_at.eq(at),
                c::completed_at.eq(Some(at)),
                c::install.eq(false),
                c::herald_installed.eq(0),
                c::local_time.eq(false),
                c::zone_fallbacks.eq(0),
            ))
            .execute(x))?;
        let payload = serde_json::json!({"type": "message", "text": "Bonjour"});
        let kind = MessageKind::Campaign.as_str();
        herald::store::deliveries::create_message(conn, &id, TENANT, kind, &payload, now)?;
        for chunk in users.chunks(5000) {
            let items: Vec<NewDelivery> = chunk
                .iter()
                .map(|user| NewDelivery {
                    user_id: user.clone(),
                    operation: Operation::Send,
                    target_activity_id: None,
                    due: now + TimeDelta::days(30),
                    planned: None,
                })
                .collect();
            herald::store::deliveries::enqueue(conn, &id, TENANT, &items, now)?;
        }
        // Outcomes by position: 70% delivered, then failed, expired, and waiting (due in a
        // month, so herald's engine leaves them be).
        let ids: Vec<i64> = herald::run_on!(conn, |x| d::table
            .filter(d::message_id.eq(&id))
            .order(d::id)
            .select(d::id)
            .load(x))?;
        let cut = |p: usize| ids[(n * p / 100).min(n.saturating_sub(1))];
        for (from, to, status, failure) in [
            (0, 70, "delivered", None),
            (70, 80, "failed", Some("refused")),
            (80, 90, "expired", None),
        ] {
            let (lo, hi) = (cut(from), cut(to) - 1);
            herald::run_on!(conn, |x| diesel::update(
                d::table
                    .filter(d::message_id.eq(&id))
                    .filter(d::id.between(lo, hi))
            )
            .set((
                d::status.eq(status),
                d::failure.eq(failure),
                d::attempts.eq(1),
                d::last_attempt_at.eq(Some(at)),
                d::completed_at.eq(Some(at)),
                d::activity_id.eq(Some("1")),
            ))
            .execute(x))?;
        }
        // 60% of the delivered read it.
        let readers = &users[..n * 42 / 100];
        for chunk in readers.chunks(1000) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|user| {
                    (
                        cr::campaign_id.eq(id.clone()),
                        cr::user_id.eq(user.clone()),
                        cr::read_at.eq(at),
                        cr::source.eq("receipt"),
                    )
                })
                .collect();
            herald::run_on!(conn, |x| diesel::insert_into(cr::table)
                .values(&rows)
                .execute(x))?;
        }
        // A tenth of the delivered clicked the link once.
        let clicks = format!(
            "INSERT INTO link_clicks (delivery_id, idx, first_at, last_at, clicks) \
             SELECT id, 0, completed_at, completed_at, 1 FROM deliveries \
             WHERE message_id = '{id}' AND status = 'delivered' AND id % 10 = 0"
        );
        herald::run_on!(conn, |x| diesel::sql_query(&clicks).execute(x))?;
        Ok(id)
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args = args();
    let dir = tempfile::tempdir().unwrap();
    let schema = args.postgres.as_deref().map(PgSchema::create);
    let (backend, url) = match &schema {
        Some(s) => ("postgres", s.url.clone()),
        None => (
            "sqlite",
            format!("sqlite://{}", dir.path().join("bench.db").display()),
        ),
    };
    let db = Db::open(&DatabaseUrl::parse(&url).unwrap(), 2).expect("database opens");
    let n = args.recipients;
    let started = Instant::now();
    let id = db.run(move |conn| seed(conn, n)).await.expect("seeded");
    let secret = db
        .run(|conn| herald::store::tracking::shared_secret(conn, Utc::now()))
        .await
        .expect("the tracking secret");
    eprintln!(
        "seeded {n} recipients in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if schema.is_some() {
        // Statistics, as autovacuum gathers them soon after a bulk load: without them the
        // planner takes the fresh tables for empty.
        db.run(|conn| {
            herald::run_on!(conn, |x| diesel::sql_query("ANALYZE").execute(x))?;
            Ok(())
        })
        .await
        .expect("analysed");
    }
    drop(db);

    let port = free_port();
    let config = dir.path().join("appsettings.toml");
    // Nothing here calls Microsoft: the outbound addresses lead nowhere.
    std::fs::write(
        &config,
        format!(
            "[server]\nbind = \"127.0.0.1:{port}\"\n[database]\nurl = \"{url}\"\n\
             [bot]\napp_id = \"bench\"\napp_password = \"x\"\n\
             openid_metadata_url = \"http://127.0.0.1:9/openid\"\n\
             emulator_openid_metadata_url = \"http://127.0.0.1:9/openid\"\n\
             token_endpoint = \"http://127.0.0.1:9/token\"\n"
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
    let pid = herald.0.id().to_string();
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let waited = Instant::now();
    while client
        .get(format!("{address}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "herald did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let signer = Signer::new(secret.as_bytes());
    let expires = Utc::now().timestamp() + 3600;
    let link = |file: ReportFile, name: &str| {
        let grant = ReportGrant {
            kind: ReportKind::Campaign,
            id: id.clone(),
            file,
        };
        format!(
            "{address}/reports/{}/{name}",
            signer.report_token(&grant, expires)
        )
    };
    let page = link(ReportFile::Page(Lang::En), "bench.html");
    let last = n.div_ceil(100);
    let asked: Vec<(String, String)> = [
        ("first page", String::new()),
        ("middle page", format!("page={}", last / 2)),
        ("last page", format!("page={last}")),
        ("unread, page 50", "status=unread&page=50".into()),
        ("read, page 100", "status=read&page=100".into()),
        ("waiting", "status=waiting".into()),
        ("failed", "status=failed".into()),
        ("clicked", "status=clicked".into()),
        ("search one person", "q=person4242%40".into()),
        ("search a family (100)", "q=family77%20".into()),
        ("search many, page 20", "q=contoso&page=20".into()),
        ("unread + search", "status=unread&q=family9".into()),
    ]
    .into_iter()
    .map(|(name, query)| (name.to_string(), format!("{page}?{query}")))
    .collect();
    let mut all = Vec::new();
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); asked.len()];
    let mut rows_of = vec![0usize; asked.len()];
    let mut first = vec![0f64; asked.len()];
    // One warm-up round, not counted.
    for round in 0..=args.rounds {
        for (i, (_, url)) in asked.iter().enumerate() {
            let t = Instant::now();
            let r = client.get(url).send().await.expect("page answered");
            assert_eq!(r.status(), 200, "{url}");
            let html = r.text().await.unwrap();
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            rows_of[i] = html.matches("<tr><th scope=\"row\">").count();
            if round > 0 {
                per[i].push(ms);
                all.push(ms);
            } else {
                first[i] = ms;
            }
        }
    }
    println!("backend={backend} recipients={n} rounds={}", args.rounds);
    for (i, (name, _)) in asked.iter().enumerate() {
        println!(
            "page=\"{name}\" rows={} first_ms={:.1} median_ms={:.1} p90_ms={:.1} max_ms={:.1}",
            rows_of[i],
            first[i],
            median(per[i].clone()),
            percentile(per[i].clone(), 0.9),
            percentile(per[i].clone(), 1.0),
        );
    }
    println!(
        "pages requests={} median_ms={:.1} p90_ms={:.1}",
        all.len(),
        median(all.clone()),
        percentile(all, 0.9)
    );

    let rss_before = proc_stats::peak_rss_mib(&pid);
    let t = Instant::now();
    let mut r = client
        .get(link(ReportFile::Csv, "bench.csv"))
        .send()
        .await
        .expect("CSV answered");
    assert_eq!(r.status(), 200);
    let (mut bytes, mut lines) = (0usize, 0usize);
    let mut peak = rss_before;
    while let Some(chunk) = r.chunk().await.expect("CSV read") {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        peak = peak.max(proc_stats::peak_rss_mib(&pid));
    }
    let seconds = t.elapsed().as_secs_f64();
    assert_eq!(lines, n + 1, "a header and a line per recipient");
    println!(
        "csv bytes={bytes} lines={lines} seconds={seconds:.2} rss_before_mib={rss_before:.1} \
         peak_rss_mib={peak:.1}"
    );
    drop(herald);
}
