//! Scale-out benchmark: several herald instances (each a process of its own, running the real
//! delivery engine) share one PostgreSQL database and T tenants × R recipients, all due at
//! once, each tenant paced at `--rps`; the last instance starts `--late` seconds after the
//! others. The fake connector (another process) records every receive time, its recipient and
//! the instance that sent it (a header each instance's client adds), from which it reports:
//!
//! - total messages/s, each tenant's average rate over its busy period (min, median), and the
//!   busiest one-second window of any tenant;
//! - every recipient exactly once;
//! - sends of one tenant by two instances less than a second apart (must be none);
//! - how long after starting the late instance owned its share of the busy tenants (from the
//!   `tenant_dispatch` rows, sampled every 100 ms) and sent its first message, in seconds and
//!   in claim periods (a third of `delivery.tenant_lease`);
//! - each instance's messages, CPU seconds per 1,000 and peak RSS.
//!
//! Run it so:
//!
//!     cargo run --release --example scale_out -- \
//!         --database-url postgres://postgres@127.0.0.1:5432/postgres \
//!         --tenants 30 --recipients 3000 --instances 3 --late 30
//!
//! The last line is
//! `scale_out instances=N late_s=S T=… R=… delivered=D distinct=C … overlaps=0 late_share_s=…`.

#[path = "support/bench_db.rs"]
mod bench_db;
#[path = "support/fake_connector.rs"]
mod fake_connector;
#[path = "support/proc_stats.rs"]
mod proc_stats;

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_db::{BenchDb, add_users};
use diesel::prelude::*;
use fake_connector::{Fake, INSTANCE_HEADER, run_fake};
use herald::domain::SystemClock;
use herald::engine::{Engine, EngineConfig};
use herald::store::schema::deliveries as d;
use herald::store::{DatabaseUrl, Db, dispatch};

struct Args {
    fake_connector: bool,
    keep_times: bool,
    instance: Option<u8>,
    database_url: Option<String>,
    tenants: usize,
    recipients: usize,
    instances: u8,
    late: f64,
    rps: u32,
    concurrency: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        fake_connector: false,
        keep_times: false,
        instance: None,
        database_url: None,
        tenants: 30,
        recipients: 3000,
        instances: 3,
        late: 30.0,
        rps: 50,
        concurrency: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => a.database_url = Some(value()),
            "--tenants" => a.tenants = value().parse().expect("--tenants T"),
            "--recipients" => a.recipients = value().parse().expect("--recipients R"),
            "--instances" => a.instances = value().parse().expect("--instances N"),
            "--late" => a.late = value().parse().expect("--late S"),
            "--rps" => a.rps = value().parse().expect("--rps R"),
            "--concurrency" => a.concurrency = value().parse().expect("--concurrency C"),
            "--instance" => a.instance = Some(value().parse().expect("--instance K")),
            "--fake-connector" => a.fake_connector = true,
            "--keep-times" => a.keep_times = true,
            other => panic!("unknown flag {other}; see the header of examples/scale_out.rs"),
        }
    }
    a
}

fn main() {
    herald::startup::tune_allocator();
    let args = parse_args();
    if args.fake_connector {
        // Started by `Fake::start`: `--recipients` is then the total.
        return run_fake(args.recipients, args.keep_times, None);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match args.instance {
        Some(k) => runtime.block_on(instance(args, k)),
        None => runtime.block_on(bench(args)),
    }
}

/// The engine name of instance `k` (its owner name in `tenant_dispatch`).
fn name(k: u8) -> String {
    format!("bench-instance-{k}")
}

/// One instance: the engine on the shared database until its standard input closes, then a
/// clean shutdown; prints its CPU seconds and peak RSS.
async fn instance(args: Args, k: u8) {
    let url = args.database_url.expect("--database-url");
    let db = Db::open(&DatabaseUrl::parse(&url).unwrap(), 8).expect("database opens");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(INSTANCE_HEADER, k.to_string().parse().unwrap());
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let config = EngineConfig {
        instance: name(k),
        concurrency: args.concurrency,
        tenant_rps: args.rps,
        ..EngineConfig::from_settings(&herald::config::Settings::default())
    };
    let handle = Engine::start(
        herald::outbox::Outbox::new(db),
        // The fake connector checks no token.
        herald::botframework::ConnectorClient::without_credentials(client),
        Arc::new(SystemClock),
        Arc::new(herald::metrics::Metrics::new()),
        config,
        None,
    )
    .await
    .unwrap();
    println!("started");
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin().lock().read_line(&mut line).unwrap_or(0) > 0 {
            line.clear();
        }
    })
    .await
    .unwrap();
    handle.shutdown(Duration::from_secs(10)).await;
    println!(
        "cpu_s={:.3} peak_rss_mib={:.1}",
        proc_stats::cpu_seconds("self"),
        proc_stats::peak_rss_mib("self")
    );
}

/// An instance process; its standard input is the stop signal.
struct Instance {
    child: Child,
    started: Instant,
}

impl Instance {
    fn start(k: u8, args: &Args, url: &str) -> Instance {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--instance", &k.to_string(), "--database-url", url])
            .args(["--rps", &args.rps.to_string()])
            .args(["--concurrency", &args.concurrency.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start an instance");
        let mut line = String::new();
        let out = child.stdout.as_mut().unwrap();
        std::io::BufReader::new(out).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "started", "instance {k} did not start");
        Instance {
            child,
            started: Instant::now(),
        }
    }

    /// Stops it cleanly; its CPU seconds and peak RSS.
    fn stop(mut self) -> (f64, f64) {
        drop(self.child.stdin.take());
        let mut out = String::new();
        std::io::Read::read_to_string(self.child.stdout.as_mut().unwrap(), &mut out).unwrap();
        self.child.wait().unwrap();
        let field = |key: &str| -> f64 {
            out.split_whitespace()
                .find_map(|f| f.strip_prefix(key))
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN)
        };
        (field("cpu_s="), field("peak_rss_mib="))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Busy tenants (a pending delivery) and how many of them each owner holds now.
fn ownership(db: &Db) -> (usize, BTreeMap<String, usize>) {
    let mut conn = db.get().unwrap();
    let mut conn = conn.as_conn();
    let conn = &mut conn;
    let busy: Vec<String> = herald::run_on!(conn, |c| d::table
        .filter(d::status.eq("pending"))
        .select(d::tenant_id)
        .distinct()
        .load(c))
    .unwrap_or_default();
    let now = chrono::Utc::now();
    let mut held = BTreeMap::new();
    for (_, owner, expires) in dispatch::owners(conn).unwrap_or_default() {
        if expires > now {
            *held.entry(owner).or_insert(0) += 1;
        }
    }
    (busy.len(), held)
}

async fn bench(args: Args) {
    let url = args
        .database_url
        .clone()
        .expect("--database-url (PostgreSQL)");
    assert!(
        url.starts_with("postgres"),
        "several instances need PostgreSQL"
    );
    let (tenants, per_tenant) = (args.tenants, args.recipients);
    let n = tenants * per_tenant;
    let fake = Fake::start(n, true, None);
    let stats_client = reqwest::Client::new();
    let service_url = format!("http://127.0.0.1:{}/", fake.port);
    let bench_db = BenchDb::new(Some(&url));
    let db = Db::open(&DatabaseUrl::parse(&bench_db.url).unwrap(), 4).expect("database opens");
    let users = add_users(&db, &service_url, n, per_tenant);
    let now = chrono::Utc::now();
    db.run(move |conn| bench_db::enqueue_all(conn, &users, per_tenant, now))
        .await
        .unwrap();
    {
        use diesel::connection::SimpleConnection;
        let mut c = db.get().unwrap();
        if let herald::store::Conn::Postgres(c) = &mut c.as_conn() {
            c.batch_execute("ANALYZE").unwrap();
        }
    }
    eprintln!("setup: {n} recipients in {tenants} tenants");

    let late_k = args.instances - 1;
    let t0 = Instant::now();
    let mut running: Vec<(u8, Instance)> = (0..late_k)
        .map(|k| (k, Instance::start(k, &args, &bench_db.url)))
        .collect();
    let late_name = name(late_k);
    let mut late_started = None::<Instant>;
    // When it started, on the fake connector's clock.
    let mut late_at_ms = None::<f64>;
    let mut share_after = None::<f64>;
    let mut late_most = 0;
    let allowed = Duration::from_secs_f64(per_tenant as f64 / args.rps as f64 * 3.0 + 60.0);
    loop {
        let total = fake.stats(&stats_client, false).await["total"]
            .as_u64()
            .unwrap_or(0);
        if total >= n as u64 || t0.elapsed() > allowed {
            break;
        }
        if late_started.is_none() && t0.elapsed().as_secs_f64() >= args.late {
            let i = Instance::start(late_k, &args, &bench_db.url);
            late_started = Some(i.started);
            late_at_ms = Some(fake_connector::epoch_ms());
            running.push((late_k, i));
        }
        if let Some(started) = late_started {
            let (busy, held) = ownership(&db);
            let mine = held.get(&late_name).copied().unwrap_or(0);
            late_most = late_most.max(mine);
            if share_after.is_none() && busy > 0 && mine >= busy / args.instances as usize {
                share_after = Some(started.elapsed().as_secs_f64());
                eprintln!("late instance owns {mine} of {busy} busy tenants ({held:?})");
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let mut usage = BTreeMap::new();
    for (k, i) in running {
        usage.insert(k, i.stop());
    }
    let stats = fake.stats(&stats_client, true).await;
    let times: Vec<f64> = serde_json::from_value(stats["times_ms"].clone()).unwrap();
    let index: Vec<usize> = serde_json::from_value(stats["index"].clone()).unwrap();
    let by: Vec<u8> = serde_json::from_value(stats["by"].clone()).unwrap();
    let distinct = stats["distinct"].as_u64().unwrap_or(0);
    let total = times.len();

    // Per tenant: (receive ms, instance), in order.
    let mut per: Vec<Vec<(f64, u8)>> = vec![Vec::new(); tenants];
    for ((t, i), b) in times.iter().zip(&index).zip(&by) {
        if let Some(v) = per.get_mut(*i / per_tenant) {
            v.push((*t, *b));
        }
    }
    let mut averages = Vec::new();
    let (mut busiest, mut overlaps, mut closest) = (0, 0, f64::MAX);
    let mut sent_by: BTreeMap<u8, usize> = BTreeMap::new();
    let mut late_tenants = 0;
    let mut late_first = f64::MAX;
    for v in &mut per {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        if v.len() > 1 {
            averages.push((v.len() - 1) as f64 / ((v[v.len() - 1].0 - v[0].0) / 1000.0));
        }
        let mut start = 0;
        let mut last: BTreeMap<u8, f64> = BTreeMap::new();
        let mut overlapped = false;
        for end in 0..v.len() {
            while v[end].0 - v[start].0 >= 1000.0 {
                start += 1;
            }
            busiest = busiest.max(end - start + 1);
            let (t, b) = v[end];
            for (other, at) in &last {
                if *other != b {
                    closest = closest.min(t - at);
                    overlapped |= t - at < 1000.0;
                }
            }
            last.insert(b, t);
            *sent_by.entry(b).or_default() += 1;
        }
        overlaps += usize::from(overlapped);
        if let Some((t, _)) = v.iter().find(|(_, b)| *b == late_k) {
            late_tenants += 1;
            late_first = late_first.min(*t);
        }
    }
    averages.sort_by(f64::total_cmp);
    let (first, last) = times
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), t| (a.min(*t), b.max(*t)));
    let period = 10.0 / 3.0;
    let cpu: f64 = usage.values().map(|(c, _)| c).sum();
    let rss = usage.values().map(|(_, r)| *r).fold(0.0, f64::max);
    eprintln!("ran {elapsed:.1}s; messages per instance {sent_by:?}; (cpu s, peak MiB) {usage:?}");
    let late_first_s = late_at_ms.map(|at| (late_first - at) / 1000.0);
    println!(
        "scale_out instances={} late_s={} T={tenants} R={per_tenant} rps={} delivered={total} distinct={distinct} total_msgs_per_s={:.0} tenant_avg_min={:.2} tenant_avg_median={:.2} busiest_1s={busiest} overlaps={overlaps} closest_handover_s={:.2} late_share_s={} late_share_periods={} late_first_send_s={} late_tenants_sent={late_tenants} late_most_owned={late_most} cpu_s_per_1000={:.4} peak_rss_mib_max={rss:.1}",
        args.instances,
        args.late,
        args.rps,
        total as f64 / ((last - first) / 1000.0),
        averages.first().copied().unwrap_or(0.0),
        averages.get(averages.len() / 2).copied().unwrap_or(0.0),
        if closest == f64::MAX {
            0.0
        } else {
            closest / 1000.0
        },
        share_after.map_or("never".into(), |s| format!("{s:.2}")),
        share_after.map_or("never".into(), |s| format!("{:.2}", s / period)),
        late_first_s.map_or("never".into(), |s| format!("{s:.2}")),
        cpu / (total as f64 / 1000.0),
    );
    std::io::stdout().flush().unwrap();
}
