//! A PostgreSQL outage mid-send: herald reaches its database through a TCP proxy the test can
//! cut. `/readyz` must answer 503 while the database is away, and once it is back every
//! delivery must go out exactly once; and an instance cut off stops sending before its claim on
//! the tenant could run out (PostgreSQL only: an embedded SQLite cannot go away).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use herald::domain::delivery::MessageKind;
use serde_json::json;

use common::proxy::Proxy;
use common::*;

/// herald reaching PostgreSQL through a proxy the test can cut; `extra_toml` as in
/// `spawn_app_with`.
async fn behind_proxy(extra_toml: &str) -> (Proxy, TestApp) {
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let proxied = proxy.addr.clone();
    let app = spawn_app_on(
        TestDb::new(Backend::Postgres),
        Backend::Postgres,
        move |url| url.replacen("127.0.0.1:5432", &proxied, 1),
        "",
        extra_toml,
    )
    .await;
    (proxy, app)
}

/// A broadcast to `users`, due now; its message id.
async fn fire_drill(app: &TestApp, users: &[String]) -> String {
    app.engine
        .enqueue(
            TENANT,
            MessageKind::BroadcastCard,
            json!({"type": "message", "text": "Fire drill at 11:00"}),
            due_now(users),
        )
        .await
        .unwrap()
}

/// Each of the `n` recipients got the message exactly once.
async fn assert_each_once(app: &TestApp, n: usize) {
    let mut per_chat: HashMap<String, usize> = HashMap::new();
    for r in app.sent_messages().await {
        *per_chat.entry(r.url.path().to_string()).or_default() += 1;
    }
    assert_eq!(per_chat.len(), n, "every recipient reached");
    let repeated: Vec<_> = per_chat.iter().filter(|(_, k)| **k > 1).collect();
    assert!(repeated.is_empty(), "sent twice: {repeated:?}");
}

async fn ready(app: &TestApp) -> u16 {
    app.client
        .get(format!("{}/readyz", app.address))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(herald_postgres),
    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
)]
async fn a_database_outage_is_reported_and_survived_without_loss_or_duplicates() {
    let (proxy, app) = behind_proxy("[delivery]\nlease = \"5s\"\nglobal_rps = 40").await;
    let n = 300;
    let users = add_users(&app.app_db, &app.service_url(), "o", n).await;
    let message = fire_drill(&app, &users).await;
    wait_for(Duration::from_secs(20), "the first sends", || async {
        app.sent_messages().await.len() >= 60
    })
    .await;
    assert_eq!(ready(&app).await, 200);

    // Ten seconds without a database.
    proxy.cut().await;
    let cut = Instant::now();
    let mut first_503 = None;
    while cut.elapsed() < Duration::from_secs(10) {
        let status = ready(&app).await;
        if status == 503 && first_503.is_none() {
            first_503 = Some(cut.elapsed());
        }
        if first_503.is_some() {
            assert_eq!(status, 503, "ready again while the database is away");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let first_503 = first_503.expect("/readyz said 503 during the outage");
    assert!(
        first_503 < Duration::from_secs(3),
        "503 after {first_503:?}"
    );
    proxy.restore();
    wait_for(Duration::from_secs(20), "ready again", || async {
        ready(&app).await == 200
    })
    .await;

    // Everyone gets the message, once.
    wait_for(Duration::from_secs(60), "every delivery", || async {
        let id = message.clone();
        app.app_db
            .run(move |conn| herald::store::deliveries::of_message(conn, &id))
            .await
            .map(|rows| rows.iter().all(|d| d.status == "delivered"))
            .unwrap_or(false)
    })
    .await;
    // Once the app has stopped (its engine waits for in-flight sends), no duplicate can still
    // be on its way.
    app.shut_down().await;
    assert_each_once(&app, n).await;
    eprintln!("outage: /readyz said 503 {first_503:?} after the cut; {n} delivered once each");
}

/// Cut off from the database, an instance stops sending for its tenants before its claim could
/// run out (another instance may take them over then), even with sends already leased and
/// waiting for their turn; it resumes when the database returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(herald_postgres),
    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
)]
async fn an_instance_cut_off_stops_sending_before_its_claim_can_run_out() {
    // 2 per second with 8 sending slots: 16 rows leased ahead take 8 s to send.
    let (proxy, app) = behind_proxy(
        "[delivery]\nglobal_rps = 2\nconcurrency = 8\ntenant_lease = \"3s\"\nlease = \"60s\"",
    )
    .await;
    let users = add_users(&app.app_db, &app.service_url(), "f", 40).await;
    let received = record_posts(
        &app.connector,
        r"^/v3/conversations/a%3Af\d+/activities$",
        |_| sent(),
    )
    .await;
    let message = fire_drill(&app, &users).await;
    wait_for(Duration::from_secs(20), "the first sends", || async {
        received.len() >= 4
    })
    .await;
    proxy.cut().await;
    let cut = Instant::now();
    let at_cut = received.len();
    tokio::time::sleep(Duration::from_secs(8)).await;
    // The last round began before the cut, and a claim is relied on for the lease (3 s) less
    // 1.5 s after its round began: nothing may leave later than that (and some slack).
    let fence = cut + Duration::from_millis(1_500 + 300);
    let late: Vec<_> = received
        .times()
        .into_iter()
        .filter(|t| *t > fence)
        .collect();
    assert!(
        late.is_empty(),
        "{} sends after the fence ({} before it, since the cut)",
        late.len(),
        received.len() - at_cut - late.len()
    );
    eprintln!(
        "fence: {} sends in the 1.8 s after the cut, none later ({} still to send)",
        received.len() - at_cut,
        40 - at_cut
    );
    proxy.restore();
    wait_delivered(&app.app_db, &message, Some(40), Duration::from_secs(60)).await;
    assert_each_once(&app, 40).await;
}
