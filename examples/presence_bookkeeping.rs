//! Presence bookkeeping benchmark: 100,000 installed users across a few tenants, a fake
//! Microsoft Graph in this process (wiremock, request recording off). Timed: one round of
//! subscription management from nothing (every user covered by subscriptions of 650), a
//! second round (steady state: nothing to do), and one full polling refresh (every user's
//! presence asked in calls of 650 and recorded), on SQLite.
//!
//!     cargo run --release --example presence_bookkeeping -- [--users 100000] [--tenants 10]
//!
//! The last line is `presence users=N tenants=T subscriptions=S plan_calls=… plan_s=…
//! steady_s=… poll_calls=… recorded=… poll_s=… cpu_s=… peak_rss_mib=…`. CPU time and peak RSS
//! (VmHWM) are the whole process's, the fake Graph's answers included.

#[path = "support/proc_stats.rs"]
mod proc_stats;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::Utc;
use diesel::prelude::*;
use herald::domain::SystemClock;
use herald::graph::GraphClient;
use herald::presence::{Keeper, Mode};
use herald::store::schema::users as u;
use herald::store::{DatabaseUrl, Db};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn aad(i: usize) -> String {
    format!("{i:08x}-1111-4222-8333-444455556666")
}

#[tokio::main]
async fn main() {
    let (mut users, mut tenants) = (100_000usize, 10usize);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match flag.as_str() {
            "--users" => users = value.expect("--users N"),
            "--tenants" => tenants = value.expect("--tenants N"),
            other => panic!("unknown flag {other}; see examples/presence_bookkeeping.rs"),
        }
    }
    let tenants = tenants.max(1);

    // The fake Graph: tokens, subscriptions, presence lookups (counted).
    let graph = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/[^/]+/oauth2/v2.0/token$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3600, "access_token": "bench"
        })))
        .mount(&graph)
        .await;
    let subscribed = Arc::new(AtomicUsize::new(0));
    let counter = subscribed.clone();
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .respond_with(move |req: &Request| {
            let body: Value = req.body_json().unwrap();
            counter.fetch_add(1, Ordering::Relaxed);
            ResponseTemplate::new(201).set_body_json(json!({
                "id": uuid::Uuid::new_v4().to_string(),
                "expirationDateTime": body["expirationDateTime"],
            }))
        })
        .mount(&graph)
        .await;
    let looked_up = Arc::new(AtomicUsize::new(0));
    let counter = looked_up.clone();
    Mock::given(method("POST"))
        .and(path("/v1.0/communications/getPresencesByUserId"))
        .respond_with(move |req: &Request| {
            counter.fetch_add(1, Ordering::Relaxed);
            let body: Value = req.body_json().unwrap();
            let value: Vec<Value> = body["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| json!({"id": id, "availability": "Busy", "activity": "InACall"}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "value": value }))
        })
        .mount(&graph)
        .await;

    // Setup (not timed): the installed users, spread over the tenants.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("presence.db").display());
    let db = Db::open(&DatabaseUrl::parse(&url).unwrap(), 4).expect("database opens");
    let now = Utc::now().naive_utc();
    db.run(move |conn| {
        conn.write_transaction(|conn| {
            for start in (0..users).step_by(1000) {
                let rows: Vec<_> = (start..(start + 1000).min(users))
                    .map(|i| {
                        (
                            u::id.eq(uuid::Uuid::now_v7().to_string()),
                            u::tenant_id.eq(format!("tenant-{}", i % tenants)),
                            u::channel_id.eq("msteams"),
                            u::channel_user_id.eq(format!("29:p{i}")),
                            u::aad_object_id.eq(aad(i)),
                            u::bot_id.eq("28:bot"),
                            u::service_url.eq("https://smba.trafficmanager.net/emea/"),
                            u::conversation_id.eq(format!("a:p{i}")),
                            u::installed.eq(true),
                            u::installed_changed_at.eq(now),
                            u::created_at.eq(now),
                            u::updated_at.eq(now),
                        )
                    })
                    .collect();
                herald::run_on!(conn, |c| diesel::insert_into(u::table)
                    .values(&rows)
                    .execute(c))?;
            }
            Ok::<_, herald::store::StoreError>(())
        })
    })
    .await
    .unwrap();
    let base = graph.uri();
    let client = Arc::new(GraphClient::new(
        herald::startup::http_client().unwrap(),
        &base,
        &format!("{base}/{{tenant}}/oauth2/v2.0/token"),
        "bench-app",
        secrecy::SecretString::from("secret"),
    ));
    let subscribe = Mode::Subscribe {
        notification_url: "https://herald.example.com/api/graph/notifications".into(),
        lifecycle_url: "https://herald.example.com/api/graph/lifecycle".into(),
        fallback_poll: std::time::Duration::from_secs(300),
    };
    let keeper = Keeper::new(
        db.clone(),
        client.clone(),
        Arc::new(SystemClock),
        "bench",
        subscribe,
    );

    let cpu0 = proc_stats::cpu_seconds("self");
    let started = Instant::now();
    let first = keeper.manage().await.expect("subscriptions managed");
    let plan_s = started.elapsed().as_secs_f64();
    assert_eq!(first.failed, 0);
    let started = Instant::now();
    let steady = keeper.manage().await.expect("second round");
    let steady_s = started.elapsed().as_secs_f64();
    assert_eq!((steady.created, steady.removed), (0, 0));
    let stored = db
        .run(herald::store::presence_subs::list)
        .await
        .unwrap()
        .len();
    println!(
        "subscriptions: {stored} for {users} users in {tenants} tenants; {} create calls, \
         {plan_s:.3} s; steady round {steady_s:.3} s",
        subscribed.load(Ordering::Relaxed)
    );

    let poller = Keeper::new(
        db.clone(),
        client,
        Arc::new(SystemClock),
        "bench",
        Mode::Poll {
            every: std::time::Duration::from_secs(300),
        },
    );
    let started = Instant::now();
    let refreshed = poller.refresh_all().await.expect("refresh");
    let poll_s = started.elapsed().as_secs_f64();
    assert_eq!(refreshed.recorded, users);
    let cpu_s = proc_stats::cpu_seconds("self") - cpu0;
    println!(
        "polling refresh: {} users, {} presence calls ({} at the fake), {} recorded, {poll_s:.3} s",
        refreshed.users,
        refreshed.graph_calls,
        looked_up.load(Ordering::Relaxed),
        refreshed.recorded
    );
    println!(
        "presence users={users} tenants={tenants} subscriptions={stored} plan_calls={} \
         plan_s={plan_s:.3} steady_s={steady_s:.3} poll_calls={} recorded={} poll_s={poll_s:.3} \
         cpu_s={cpu_s:.2} peak_rss_mib={:.1}",
        first.graph_calls,
        refreshed.graph_calls,
        refreshed.recorded,
        proc_stats::peak_rss_mib("self")
    );
}
