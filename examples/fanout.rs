//! Fan-out benchmark: one message to N recipients through the real delivery engine, with
//! durable bookkeeping (SQLite by default, `--database-url` for PostgreSQL), against a local
//! fake connector that answers 201 at once. The fake runs as a second process (this same
//! binary with `--fake-connector`), so the CPU and memory measured are the engine's alone.
//!
//!     cargo run --release --example fanout -- --recipients 100000
//!     cargo run --release --example fanout -- --rps 50 --seconds 60
//!     cargo run --release --example fanout -- --rps 50 --tenants 200 --recipients 1500
//!
//! Options: `--recipients N`, `--rps R` (the tenant's rate; paced mode), `--seconds S` (paced
//! run length), `--concurrency C` (sends in flight, default 64), `--database-url URL`,
//! `--tenants T` (with `--rps`: T tenants of `--recipients` R each, a message each, all due at
//! once; it runs until every send arrived, and reports per tenant from the receive times),
//! `--throttle-after S` (with `--tenants`: the fake answers one send of tenant 0, S seconds in,
//! with 429 and `Retry-After: 5`; the figures are then the other tenants', and tenant 0's
//! longest pause is printed).
//! The last line is exactly one of
//! `fanout recipients=N delivered=D distinct=C msgs_per_s=X cpu_s_per_1000=Y peak_rss_mib=Z`
//! `paced rps=R seconds=S delivered=D avg_rps=X max_1s=M`
//! `tenants T=… R=… rps=… delivered=D distinct=C total_msgs_per_s=X tenant_avg_min=… …`

#[path = "support/bench_db.rs"]
mod bench_db;
#[path = "support/fake_connector.rs"]
mod fake_connector;
#[path = "support/proc_stats.rs"]
mod proc_stats;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_db::{BenchDb, add_users};
use diesel::prelude::*;
use fake_connector::{Fake, run_fake};
use herald::domain::SystemClock;
use herald::engine::{Engine, EngineConfig};
use herald::store::{DatabaseUrl, Db};

struct Args {
    fake_connector: bool,
    keep_times: bool,
    recipients: Option<usize>,
    rps: Option<u32>,
    seconds: u64,
    concurrency: usize,
    database_url: Option<String>,
    tenants: usize,
    throttle_after: Option<f64>,
    per_tenant: Option<usize>,
}

fn parse_args() -> Args {
    let mut a = Args {
        fake_connector: false,
        keep_times: false,
        recipients: None,
        rps: None,
        seconds: 60,
        concurrency: 64,
        database_url: None,
        tenants: 1,
        throttle_after: None,
        per_tenant: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--recipients" => a.recipients = Some(value().parse().expect("--recipients N")),
            "--rps" => a.rps = Some(value().parse().expect("--rps R")),
            "--seconds" => a.seconds = value().parse().expect("--seconds S"),
            "--concurrency" => a.concurrency = value().parse().expect("--concurrency C"),
            "--database-url" => a.database_url = Some(value()),
            "--tenants" => a.tenants = value().parse().expect("--tenants T"),
            "--throttle-after" => a.throttle_after = Some(value().parse().expect("seconds")),
            "--per-tenant" => a.per_tenant = Some(value().parse().expect("--per-tenant R")),
            "--fake-connector" => a.fake_connector = true,
            "--keep-times" => a.keep_times = true,
            other => panic!("unknown flag {other}; see the header of examples/fanout.rs"),
        }
    }
    a
}
fn main() {
    herald::startup::tune_allocator();
    let args = parse_args();
    let paced = args.rps.is_some();
    let per_tenant = match args.tenants {
        0 | 1 => usize::MAX,
        _ => args.recipients.unwrap_or(1500),
    };
    let n = if per_tenant == usize::MAX {
        0
    } else {
        per_tenant * args.tenants
    };
    let n = if n > 0 {
        n
    } else {
        args.recipients.unwrap_or(match args.rps {
            // Enough to keep the engine busy for the whole paced run.
            Some(r) => (r as u64 * args.seconds * 12 / 10 + 100) as usize,
            None => 100_000,
        })
    };
    if args.fake_connector {
        let throttle = args
            .throttle_after
            .zip(args.per_tenant)
            .map(|(a, p)| (p, a));
        return run_fake(n, args.keep_times, throttle);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(bench(args, n, paced, per_tenant));
}

async fn bench(args: Args, n: usize, paced: bool, per_tenant: usize) {
    let throttle = args
        .throttle_after
        .filter(|_| per_tenant != usize::MAX)
        .map(|after| (per_tenant, after));
    let fake = Fake::start(n, paced, throttle);
    let stats_client = reqwest::Client::new();
    let service_url = format!("http://127.0.0.1:{}/", fake.port);

    let bench_db = BenchDb::new(args.database_url.as_deref());
    let db = Db::open(&DatabaseUrl::parse(&bench_db.url).unwrap(), 8).expect("database opens");
    let setup = Instant::now();
    let users = add_users(&db, &service_url, n, per_tenant);
    let now = chrono::Utc::now();
    db.run(move |conn| bench_db::enqueue_all(conn, &users, per_tenant, now))
        .await
        .unwrap();
    eprintln!(
        "setup: {n} users and deliveries stored in {:.1}s",
        setup.elapsed().as_secs_f64()
    );

    let config = EngineConfig {
        concurrency: args.concurrency,
        // Unpaced: the engine's own capacity, not Teams' ceiling, is what is measured.
        tenant_rps: args.rps.unwrap_or(1_000_000),
        ..EngineConfig::from_settings(&herald::config::Settings::default())
    };
    // The setup's own share of the peak printed at the end (users and rows written here).
    eprintln!(
        "after setup: peak RSS {:.1} MiB",
        proc_stats::peak_rss_mib("self")
    );
    let cpu0 = proc_stats::cpu_seconds("self");
    let t0 = Instant::now();
    let handle = Engine::start(
        herald::outbox::Outbox::new(db.clone()),
        // The fake connector checks no token.
        herald::botframework::ConnectorClient::without_credentials(
            herald::startup::http_client().unwrap(),
        ),
        Arc::new(SystemClock),
        Arc::new(herald::metrics::Metrics::new()),
        config,
        None,
    )
    .await
    .unwrap();

    if per_tenant != usize::MAX {
        let rps = args.rps.unwrap_or(50);
        let tenants = args.tenants;
        // Everything should arrive in R / rps seconds; give it three times that.
        let allowed = Duration::from_secs_f64(per_tenant as f64 / rps as f64 * 3.0 + 30.0);
        while fake.stats(&stats_client, false).await["total"]
            .as_u64()
            .unwrap_or(0)
            < n as u64
            && t0.elapsed() < allowed
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let cpu = proc_stats::cpu_seconds("self") - cpu0;
        let fake_cpu = proc_stats::cpu_seconds(&fake.child.id().to_string());
        handle.shutdown(Duration::from_secs(10)).await;
        let stats = fake.stats(&stats_client, true).await;
        let times: Vec<f64> = serde_json::from_value(stats["times_ms"].clone()).unwrap();
        let index: Vec<usize> = serde_json::from_value(stats["index"].clone()).unwrap();
        let total = times.len();
        let distinct = stats["distinct"].as_u64().unwrap_or(0);
        let mut per: Vec<Vec<f64>> = vec![Vec::new(); tenants];
        for (t, i) in times.iter().zip(&index) {
            if let Some(v) = per.get_mut(*i / per_tenant) {
                v.push(*t);
            }
        }
        let mut averages = Vec::new();
        let mut busiest = 0;
        if throttle.is_some() {
            // Tenant 0 was answered 429: its longest pause, then every other tenant's figures.
            let mut zero = per.remove(0);
            zero.sort_by(f64::total_cmp);
            let gap = zero.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
            println!(
                "throttled tenant 0: delivered={} longest_gap_s={:.2}",
                zero.len(),
                gap / 1000.0
            );
        }
        for v in &mut per {
            v.sort_by(f64::total_cmp);
            if v.len() > 1 {
                let span = (v[v.len() - 1] - v[0]) / 1000.0;
                averages.push((v.len() - 1) as f64 / span);
            }
            let mut start = 0;
            for end in 0..v.len() {
                while v[end] - v[start] >= 1000.0 {
                    start += 1;
                }
                busiest = busiest.max(end - start + 1);
            }
        }
        averages.sort_by(f64::total_cmp);
        let (first, last) = times
            .iter()
            .fold((f64::MAX, 0.0f64), |(a, b), t| (a.min(*t), b.max(*t)));
        let median = averages.get(averages.len() / 2).copied().unwrap_or(0.0);
        println!(
            "tenants T={tenants} R={per_tenant} rps={rps} delivered={total} distinct={distinct} total_msgs_per_s={:.0} tenant_avg_min={:.2} tenant_avg_median={:.2} tenants_below_99pct={} busiest_1s={busiest} cpu_s_per_1000={:.4} fake_cpu_s_per_1000={:.4} peak_rss_mib={:.1}",
            total as f64 / ((last - first) / 1000.0),
            averages.first().copied().unwrap_or(0.0),
            median,
            averages.iter().filter(|a| **a < rps as f64 * 0.99).count()
                + (tenants - averages.len()),
            cpu / (total as f64 / 1000.0),
            fake_cpu / (total as f64 / 1000.0),
            proc_stats::peak_rss_mib("self")
        );
        return;
    }
    if paced {
        let rps = args.rps.unwrap_or(50);
        tokio::time::sleep(Duration::from_secs(args.seconds)).await;
        handle.shutdown(Duration::from_secs(10)).await;
        let stats = fake.stats(&stats_client, true).await;
        let mut times: Vec<f64> = serde_json::from_value(stats["times_ms"].clone()).unwrap();
        times.sort_by(f64::total_cmp);
        let first = times.first().copied().unwrap_or(0.0);
        let in_run: Vec<f64> = times
            .into_iter()
            .filter(|t| *t < first + args.seconds as f64 * 1000.0)
            .collect();
        let mut max_1s = 0;
        let mut start = 0;
        for end in 0..in_run.len() {
            while in_run[end] - in_run[start] >= 1000.0 {
                start += 1;
            }
            max_1s = max_1s.max(end - start + 1);
        }
        let delivered = in_run.len();
        println!(
            "paced rps={rps} seconds={} delivered={delivered} avg_rps={:.2} max_1s={max_1s}",
            args.seconds,
            delivered as f64 / args.seconds as f64
        );
        return;
    }

    while fake.stats(&stats_client, false).await["total"]
        .as_u64()
        .unwrap_or(0)
        < n as u64
    {
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "fan-out did not finish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = t0.elapsed();
    // Every outcome is recorded before its send's slot is freed; wait for the last ones.
    let delivered = loop {
        let count = db
            .run(move |conn| {
                herald::run_on!(conn, |c| herald::store::schema::deliveries::table
                    .filter(herald::store::schema::deliveries::status.eq("delivered"))
                    .count()
                    .get_result::<i64>(c))
                .map_err(herald::store::StoreError::from)
            })
            .await
            .unwrap();
        if count as usize >= n || t0.elapsed() > elapsed + Duration::from_secs(30) {
            break count;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let cpu = proc_stats::cpu_seconds("self") - cpu0;
    handle.shutdown(Duration::from_secs(10)).await;
    let stats = fake.stats(&stats_client, true).await;
    let total = stats["total"].as_u64().unwrap_or(0);
    let distinct = stats["distinct"].as_u64().unwrap_or(0);
    eprintln!(
        "sends received {total} (duplicates {}), dispatch {:.2}s, CPU {:.2}s",
        total - distinct,
        elapsed.as_secs_f64(),
        cpu
    );
    println!(
        "fanout recipients={n} delivered={delivered} distinct={distinct} msgs_per_s={:.0} cpu_s_per_1000={:.4} peak_rss_mib={:.1}",
        n as f64 / elapsed.as_secs_f64(),
        cpu / (n as f64 / 1000.0),
        proc_stats::peak_rss_mib("self")
    );
}
