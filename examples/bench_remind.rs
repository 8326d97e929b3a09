//! Reminder benchmark: a broadcast delivered to 100,000 installed recipients, 60,000 of whom
//! read it (bulk inserts through the store, not timed); timed: the remind use case deciding who
//! is reminded and enqueueing the 40,000 reminders in its one transaction (zones and business
//! hours worked out, as for the automatic reminder). Median of 5 runs, each on a fresh
//! broadcast with fresh reads, on SQLite (a temp file) and, with `--postgres URL`, on
//! PostgreSQL (a schema of its own, dropped after).
//!
//!     cargo run --release --example bench_remind -- [--recipients 100000] [--read 60000]
//!         [--runs 5] [--postgres postgres://postgres@127.0.0.1:5432/postgres]
//!
//! One line per backend: `remind backend=… recipients=N read=R reminded=… runs=… median_s=…
//! min_s=… max_s=…`.

use std::time::Instant;

use chrono::Utc;
use diesel::prelude::*;
use herald::broadcasts::remind::{Reminded, Reminder, Timing, remind_on};
use herald::domain::delivery::{MessageKind, Operation};
use herald::outbox::Outbox;
use herald::store::broadcasts::{self as store, Audience, NewBroadcast, Role};
use herald::store::deliveries::NewDelivery;
use herald::store::schema::{broadcast_reads as r, deliveries as d, users as u};
use herald::store::{DatabaseUrl, Db, StoreError};

const TENANT: &str = "tenant-bench";

struct Args {
    recipients: usize,
    read: usize,
    runs: usize,
    postgres: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        recipients: 100_000,
        read: 60_000,
        runs: 5,
        postgres: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().expect("a value after each flag");
        match flag.as_str() {
            "--recipients" => a.recipients = value.parse().expect("--recipients N"),
            "--read" => a.read = value.parse().expect("--read N"),
            "--runs" => a.runs = value.parse().expect("--runs N"),
            "--postgres" => a.postgres = Some(value),
            other => panic!("unknown flag {other}; see examples/bench_remind.rs"),
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
        let name = format!("herald_remind_{}", std::process::id());
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

/// `n` installed users; returns their ids.
async fn add_users(db: &Db, n: usize) -> Vec<String> {
    db.run(move |conn| {
        conn.write_transaction(|conn| {
            let now = Utc::now().naive_utc();
            let mut ids = Vec::with_capacity(n);
            for start in (0..n).step_by(1000) {
                let chunk: Vec<String> = (start..(start + 1000).min(n))
                    .map(|_| uuid::Uuid::now_v7().to_string())
                    .collect();
                let rows: Vec<_> = chunk
                    .iter()
                    .enumerate()
                    .map(|(k, id)| {
                        let i = start + k;
                        (
                            u::id.eq(id.clone()),
                            u::tenant_id.eq(TENANT),
                            u::channel_id.eq("msteams"),
                            u::channel_user_id.eq(format!("29:r{i}")),
                            u::bot_id.eq("28:bot"),
                            u::service_url.eq("https://smba.trafficmanager.net/emea/"),
                            u::conversation_id.eq(format!("a:r{i}")),
                            u::installed.eq(true),
                            u::installed_changed_at.eq(now),
                            u::created_at.eq(now),
                            u::updated_at.eq(now),
                            // A third in Paris, the others' zone unknown.
                            u::time_zone.eq((i % 3 == 0).then_some("Europe/Paris")),
                        )
                    })
                    .collect();
                herald::run_on!(conn, |c| diesel::insert_into(u::table)
                    .values(&rows)
                    .execute(c))?;
                ids.extend(chunk);
            }
            Ok::<_, StoreError>(ids)
        })
    })
    .await
    .expect("users added")
}

/// A broadcast whose card reached every user, read by the first `read`; returns its id.
async fn delivered_broadcast(db: &Db, users: &[String], read: usize) -> String {
    let users = users.to_vec();
    db.run(move |conn| {
        conn.write_transaction(|conn| {
            let now = Utc::now();
            let new = NewBroadcast {
                tenant_id: TENANT.into(),
                subject: "Fire drill".into(),
                body: "The drill is at noon.".into(),
                list_id: None,
                audience: "all".into(),
                sender_id: users[0].clone(),
                sender_name: "Boss".into(),
                links: Vec::new(),
                install: false,
                remind_after: None,
                ack: false,
                choices: Vec::new(),
            };
            let audience = Audience {
                recipients: users
                    .iter()
                    .map(|u| (u.clone(), herald::domain::Lang::En))
                    .collect(),
                not_installed: Vec::new(),
            };
            let id = store::insert(conn, &new, &audience, now)?;
            let card = uuid::Uuid::now_v7().to_string();
            let payload = serde_json::json!({"type": "message", "text": "card"});
            let kind = MessageKind::BroadcastCard.as_str();
            herald::store::deliveries::create_message(conn, &card, TENANT, kind, &payload, now)?;
            store::add_message(conn, &id, &card, Role::Card, herald::domain::Lang::En)?;
            for chunk in users.chunks(5000) {
                let items: Vec<NewDelivery> = chunk
                    .iter()
                    .map(|u| NewDelivery {
                        user_id: u.clone(),
                        operation: Operation::Send,
                        target_activity_id: None,
                        due: now,
                        planned: None,
                    })
                    .collect();
                herald::store::deliveries::enqueue(conn, &card, TENANT, &items, now)?;
            }
            herald::run_on!(conn, |c| diesel::update(
                d::table.filter(d::message_id.eq(&card))
            )
            .set((
                d::status.eq("delivered"),
                d::completed_at.eq(now.naive_utc()),
                d::activity_id.eq("1"),
            ))
            .execute(c))?;
            for chunk in users[..read].chunks(1000) {
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|u| {
                        (
                            r::broadcast_id.eq(id.clone()),
                            r::user_id.eq(u.clone()),
                            r::read_at.eq(now.naive_utc()),
                            r::source.eq("button"),
                        )
                    })
                    .collect();
                herald::run_on!(conn, |c| diesel::insert_into(r::table)
                    .values(&rows)
                    .execute(c))?;
            }
            Ok::<_, StoreError>(id)
        })
    })
    .await
    .expect("broadcast set up")
}

async fn bench(backend: &str, url: &str, a: &Args) {
    let db = Db::open(&DatabaseUrl::parse(url).unwrap(), 4).expect("database opens");
    let users = add_users(&db, a.recipients).await;
    let outbox = Outbox::new(db.clone());
    let mut times = Vec::with_capacity(a.runs);
    let mut reminded = 0;
    for _ in 0..a.runs {
        let id = delivered_broadcast(&db, &users, a.read).await;
        let reminder = Reminder {
            automatic: false,
            requested_by: Some("boss".into()),
            timing: Timing::Within {
                from: Utc::now(),
                hours: herald::domain::hours::BusinessHours::parse("Mon-Fri 09:00-18:00")
                    .expect("hours"),
                zone: chrono_tz::UTC,
            },
        };
        let started = Instant::now();
        let done = outbox
            .write(move |conn, post| remind_on(conn, post, &id, &reminder, Utc::now()))
            .await
            .expect("reminded");
        times.push(started.elapsed().as_secs_f64());
        match done {
            Reminded::Queued { count, .. } => reminded = count,
            other => panic!("unexpected {other:?}"),
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "remind backend={backend} recipients={} read={} reminded={reminded} runs={} \
         median_s={:.3} min_s={:.3} max_s={:.3}",
        a.recipients,
        a.read,
        a.runs,
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
    );
}

#[tokio::main]
async fn main() {
    let a = args();
    assert!(a.read <= a.recipients, "--read at most --recipients");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("remind.db").display());
    bench("sqlite", &sqlite, &a).await;
    if let Some(base) = &a.postgres {
        let schema = PgSchema::create(base);
        bench("postgres", &schema.url, &a).await;
    }
}
