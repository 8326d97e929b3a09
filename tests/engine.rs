//! The delivery engine against a fake connector: retries, refusals, Teams' rate limits, crashes
//! and concurrent dispatchers.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use herald::domain::SystemClock;
use herald::domain::delivery::MessageKind;
use herald::store::deliveries::{self, Delivery};
use herald::store::users;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

on_both_backends!(
    a_429_is_waited_out_exactly_and_the_message_arrives_once,
    a_retry_after_huge_negative_nan_or_far_off_never_stalls_the_tenant_past_retry_max,
    transient_failures_are_retried_until_delivered,
    blocked_recipients_fail_at_once_and_are_marked_not_installed,
    conversation_not_found_fails_with_its_code,
    a_delivery_leaves_at_its_moment_not_at_the_tick,
    a_hundred_messages_to_one_conversation_keep_every_teams_window,
    a_thousand_recipients_never_exceed_the_tenant_rate,
    a_crashed_dispatcher_loses_nothing_and_duplicates_only_what_was_in_flight,
    two_dispatchers_on_one_database_never_send_the_same_delivery,
    metrics_count_outcomes_and_queue_depth,
    shutdown_finishes_in_flight_sends_and_gives_back_every_lease,
    a_test_clock_runs_hours_of_schedule_at_once,
    a_stored_service_url_off_the_allow_list_is_never_called,
);

const FAST_RETRIES: &str = "[delivery]\nretry_base = \"50ms\"\nretry_max = \"200ms\"\n";

fn message() -> Value {
    json!({"type": "message", "text": "Bonjour", "summary": "Annonce"})
}

async fn message_deliveries(app: &TestApp, message_id: &str) -> Vec<Delivery> {
    let id = message_id.to_string();
    app.app_db
        .run(move |conn| deliveries::of_message(conn, &id))
        .await
        .unwrap()
}

async fn wait_all_final(app: &TestApp, message_id: &str, timeout: Duration) -> Vec<Delivery> {
    wait_for(timeout, "every delivery to end", || async move {
        message_deliveries(app, message_id)
            .await
            .iter()
            .all(|d| d.status != "pending")
    })
    .await;
    message_deliveries(app, message_id).await
}

/// Mounts a recording responder in front of the fake connector's sends to `conversation`.
async fn record_sends<F>(app: &TestApp, conversation: &str, respond: F) -> Received
where
    F: Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
{
    let received = Received::default();
    let encoded = conversation.replace(':', "%3A");
    Mock::given(method("POST"))
        .and(path(format!("/v3/conversations/{encoded}/activities")))
        .respond_with(Recording {
            received: received.clone(),
            respond,
        })
        .with_priority(1)
        .mount(&app.connector)
        .await;
    received
}

/// One message to one new user (`{prefix}0`) whose sends the fake answers with `respond`;
/// returns once the delivery has ended.
async fn deliver_one<F>(
    app: &TestApp,
    prefix: &str,
    respond: F,
    timeout: Duration,
) -> (Received, Delivery)
where
    F: Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
{
    let users = add_users(&app.app_db, &app.service_url(), prefix, 1).await;
    let received = record_sends(app, &format!("a:{prefix}0"), respond).await;
    let id = app
        .engine
        .enqueue(TENANT, MessageKind::Notice, message(), due_now(&users))
        .await
        .unwrap();
    let done = wait_all_final(app, &id, timeout).await;
    (received, done.into_iter().next().unwrap())
}

/// Answers with `first` for the first `n` requests, then accepts.
fn first_n_then_ok(
    n: usize,
    first: ResponseTemplate,
) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    move |_| {
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < n {
            first.clone()
        } else {
            sent()
        }
    }
}

fn ok(_: &Request) -> ResponseTemplate {
    sent()
}

async fn a_429_is_waited_out_exactly_and_the_message_arrives_once(backend: Backend) {
    // A Retry-After is waited exactly when it is within `retry_max`.
    let app = spawn_app_with(
        backend,
        "[delivery]\nretry_base = \"50ms\"\nretry_max = \"5s\"\n",
    )
    .await;
    let throttled = ResponseTemplate::new(429).insert_header("Retry-After", "2");
    let (received, done) = deliver_one(
        &app,
        "t429-",
        first_n_then_ok(1, throttled),
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(done.status, "delivered");
    assert_eq!(done.attempts, 2);
    assert_eq!(done.activity_id.as_deref(), Some("1:sent"));
    let times = received.times();
    assert_eq!(times.len(), 2, "one throttled send, one accepted");
    let waited = times[1] - times[0];
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}");
    assert!(waited < Duration::from_secs(4), "retried after {waited:?}");
}

async fn a_retry_after_huge_negative_nan_or_far_off_never_stalls_the_tenant_past_retry_max(
    backend: Backend,
) {
    let retry_max = Duration::from_secs(1);
    let app = spawn_app_with(
        backend,
        "[delivery]\nretry_base = \"50ms\"\nretry_max = \"1s\"\n",
    )
    .await;
    // (Retry-After, whether it asks for more than retry_max.) Before the cap, `1e30` and `inf`
    // panicked the send task (the row stayed leased until restart) and the far-off ones paused
    // the tenant for centuries.
    let answers = [
        ("1e30", true),
        ("inf", true),
        ("99999999999", true),
        ("Mon, 01 Jan 2300 00:00:00 GMT", true),
        ("-1", false),
        ("NaN", false),
        ("garbage", false),
    ];
    let users = add_users(&app.app_db, &app.service_url(), "ra-", answers.len() + 3).await;
    let mut throttled = Vec::new();
    for (i, (value, long)) in answers.iter().enumerate() {
        let first = ResponseTemplate::new(429).insert_header("Retry-After", *value);
        let received = record_sends(&app, &format!("a:ra-{i}"), first_n_then_ok(1, first)).await;
        throttled.push((*value, *long, received));
    }
    let id = app
        .engine
        .enqueue(TENANT, MessageKind::Notice, message(), due_now(&users))
        .await
        .unwrap();
    // Every send of the tenant goes on: the throttled ones once retried, the others at all.
    let done = wait_all_final(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(done.len(), users.len());
    assert!(
        done.iter().all(|d| d.status == "delivered"),
        "{:?}",
        done.iter()
            .map(|d| (&d.status, &d.last_error))
            .collect::<Vec<_>>()
    );
    // The retry was planned `retry_max` after the 429 (or a backoff, with no usable value)...
    for (i, (value, long, _)) in throttled.iter().enumerate() {
        let d = done.iter().find(|d| d.user_id == users[i]).unwrap();
        let error = d.last_error.as_deref().unwrap_or_default();
        let expected = if *long {
            "Retry-After capped at 1s"
        } else {
            "throttled (429)"
        };
        assert!(error.ends_with(expected), "{value}: {error}");
        assert_eq!(d.attempts, 2, "{value}");
    }
    // ...and happened then: scheduling slack on a loaded machine, where a stall would be
    // centuries, or forever.
    let slack = Duration::from_secs(10);
    for (value, long, received) in throttled {
        let times = received.times();
        assert_eq!(times.len(), 2, "{value}: one throttled send, one accepted");
        let waited = times[1] - times[0];
        assert!(
            waited <= retry_max + slack,
            "{value}: retried after {waited:?}"
        );
        if long {
            // Waited the cap, not nothing.
            assert!(
                waited >= retry_max - Duration::from_millis(100),
                "{value}: {waited:?}"
            );
        }
    }
}

async fn transient_failures_are_retried_until_delivered(backend: Backend) {
    let app = spawn_app_with(backend, FAST_RETRIES).await;
    let unavailable = ResponseTemplate::new(503);
    let (received, done) = deliver_one(
        &app,
        "t503-",
        first_n_then_ok(3, unavailable),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(done.status, "delivered");
    assert_eq!(done.attempts, 4);
    assert_eq!(
        received.len(),
        4,
        "three 503s and one success: delivered once"
    );
    assert!(done.last_error.as_deref().unwrap_or("").contains("503"));
}

async fn blocked_recipients_fail_at_once_and_are_marked_not_installed(backend: Backend) {
    // On a clock of the test's own, so that "later" can be a day later.
    let clock = herald::domain::ManualClock::new(chrono::Utc::now());
    let app = spawn_app_on_clock(backend, FAST_RETRIES, clock).await;
    let users = add_users(&app.app_db, &app.service_url(), "blk-", 2).await;
    let blocked = record_sends(&app, "a:blk-0", |_| {
        ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": "ConversationBlockedByUser", "message": "User blocked the conversation with the bot."}}))
    })
    .await;
    let writes = record_sends(&app, "a:blk-1", |_| {
        ResponseTemplate::new(403).set_body_json(json!({
            "errorCode": 209,
            "message": "{\r\n  \"subCode\": \"MessageWritesBlocked\",\r\n  \"details\": \"Thread is blocked from message writes.\"\r\n}"
        }))
    })
    .await;
    let mut items = due_now(&users);
    for item in &mut items {
        item.due = app.now();
    }
    let id = app
        .engine
        .enqueue(TENANT, MessageKind::Notice, message(), items)
        .await
        .unwrap();
    let done = wait_all_final(&app, &id, Duration::from_secs(10)).await;
    for d in &done {
        assert_eq!(d.status, "failed");
        assert_eq!(d.failure.as_deref(), Some("not_installed_or_blocked"));
        assert_eq!(d.attempts, 1);
    }
    // No retry, even a day later: none is pending (one would have become due and been sent
    // by the time the queue drains), and once the engine has stopped nothing is in flight.
    app.advance(chrono::TimeDelta::days(1));
    app.drained("no retry pending").await;
    app.shut_down().await;
    assert_eq!(blocked.len(), 1);
    assert_eq!(writes.len(), 1);
    for (user, code) in users
        .iter()
        .zip(["ConversationBlockedByUser", "MessageWritesBlocked"])
    {
        let id = user.clone();
        let u = app
            .app_db
            .run(move |conn| users::get(conn, &id))
            .await
            .unwrap()
            .unwrap();
        assert!(!u.installed, "{code}");
        assert_eq!(u.not_installed_reason.as_deref(), Some(code));
    }
}

async fn conversation_not_found_fails_with_its_code(backend: Backend) {
    let app = spawn_app_with(backend, FAST_RETRIES).await;
    let not_found = |_: &Request| {
        ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": "ConversationNotFound", "message": "Conversation not found."}}))
    };
    // The chat is opened again (self-repair); the fake connector knows no such user (404):
    // they removed herald, so the delivery ends not installed (see tests/repair.rs).
    let (received, done) = deliver_one(&app, "nf-", not_found, Duration::from_secs(10)).await;
    assert_eq!(done.status, "failed");
    assert_eq!(done.failure.as_deref(), Some("not_installed"));
    assert_eq!(
        app.connector_requests("POST", "/v3/conversations")
            .await
            .len(),
        1
    );
    assert!(
        done.last_error
            .as_deref()
            .unwrap()
            .contains("ConversationNotFound")
    );
    // No retry: none is pending, and once the engine has stopped nothing is in flight either.
    app.drained("no retry pending").await;
    app.shut_down().await;
    assert_eq!(received.len(), 1);
}

async fn a_delivery_leaves_at_its_moment_not_at_the_tick(backend: Backend) {
    // The tick is 30 s: anything that arrives within a second of its moment was not waiting
    // for it.
    let app = spawn_app(backend).await;
    let users = add_users(&app.app_db, &app.service_url(), "when-", 2).await;
    let now_sent = record_sends(&app, "a:when-0", ok).await;
    let later_sent = record_sends(&app, "a:when-1", ok).await;
    let start = Instant::now();
    let mut items = due_now(&users);
    items[1].due = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    app.engine
        .enqueue(TENANT, MessageKind::Notice, message(), items)
        .await
        .unwrap();
    wait_for(Duration::from_secs(5), "both sends", || {
        let (a, b) = (now_sent.clone(), later_sent.clone());
        async move { a.len() == 1 && b.len() == 1 }
    })
    .await;
    let first = now_sent.times()[0] - start;
    let second = later_sent.times()[0] - start;
    assert!(
        first < Duration::from_secs(1),
        "due now, sent after {first:?}"
    );
    assert!(
        second >= Duration::from_millis(1900) && second < Duration::from_secs(3),
        "due in 2 s, sent after {second:?}"
    );
}

async fn a_hundred_messages_to_one_conversation_keep_every_teams_window(backend: Backend) {
    let app = spawn_app_with(backend, "[delivery]\nwindow_margin = \"30ms\"\n").await;
    let users = add_users(&app.app_db, &app.service_url(), "one-", 1).await;
    let received = record_sends(&app, "a:one-0", ok).await;
    // A hundred messages to the same person, all due now.
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(
            app.engine
                .enqueue(TENANT, MessageKind::Notice, message(), due_now(&users))
                .await
                .unwrap(),
        );
    }
    wait_for(Duration::from_secs(90), "100 sends", || {
        let r = received.clone();
        async move { r.len() >= 100 }
    })
    .await;
    let times = received.times();
    assert_eq!(times.len(), 100);
    for (n, window) in herald::botframework::ratelimit::CONVERSATION_WINDOWS {
        let seen = max_in_window(&times, window);
        assert!(seen <= n, "{seen} sends within {window:?} (limit {n})");
    }
    for id in ids {
        // The last outcomes are committed a few milliseconds after their receipt.
        let rows = wait_all_final(&app, &id, Duration::from_secs(5)).await;
        assert_eq!(rows[0].status, "delivered");
    }
}

async fn a_thousand_recipients_never_exceed_the_tenant_rate(backend: Backend) {
    // A debug build on a busy two-core machine delays receipts by more than the 7 ms a release
    // build needs (the paced benchmark holds with it): this test allows 60 ms of jitter (30 ms
    // was once exceeded when CI shared the machine with another test run).
    let app = spawn_app_with(
        backend,
        "[delivery]\nglobal_rps = 100\nconcurrency = 32\nwindow_margin = \"60ms\"\n",
    )
    .await;
    let users = add_users(&app.app_db, &app.service_url(), "many-", 1000).await;
    let received = record_posts(
        &app.connector,
        r"^/v3/conversations/a%3Amany-\d+/activities$",
        ok,
    )
    .await;
    let id = app
        .engine
        .enqueue(TENANT, MessageKind::Notice, message(), due_now(&users))
        .await
        .unwrap();
    let done = wait_all_final(&app, &id, Duration::from_secs(60)).await;
    assert!(done.iter().all(|d| d.status == "delivered"));
    let times = received.times();
    assert_eq!(times.len(), 1000);
    let peak = max_in_window(&times, Duration::from_secs(1));
    assert!(peak <= 100, "{peak} sends in one second (limit 100)");
    let mut paths = received.paths();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 1000, "each recipient exactly once");
}

/// An engine of its own (no HTTP server), for crash and concurrency tests.
async fn bare_engine(
    db: &herald::store::Db,
    concurrency: usize,
    lease: Duration,
    tenant_rps: u32,
) -> herald::engine::EngineHandle {
    bare_engine_on(db, concurrency, lease, tenant_rps, Arc::new(SystemClock)).await
}

async fn bare_engine_on(
    db: &herald::store::Db,
    concurrency: usize,
    lease: Duration,
    tenant_rps: u32,
    clock: Arc<dyn herald::domain::Clock>,
) -> herald::engine::EngineHandle {
    let config = bare_config(concurrency, lease, tenant_rps);
    start_bare_engine(db, clock, config).await
}

async fn slow_connector() -> (MockServer, Received) {
    let connector = MockServer::start().await;
    let received = record_posts(&connector, ACTIVITIES, |_| {
        sent().set_delay(Duration::from_millis(40))
    })
    .await;
    (connector, received)
}

async fn a_crashed_dispatcher_loses_nothing_and_duplicates_only_what_was_in_flight(
    backend: Backend,
) {
    let test_db = TestDb::new(backend);
    let db = herald::store::Db::open(&herald::store::DatabaseUrl::parse(&test_db.url).unwrap(), 4)
        .unwrap();
    let (connector, received) = slow_connector().await;
    let users = add_users(&db, &format!("{}/", connector.uri()), "crash-", 300).await;
    const CONCURRENCY: usize = 8;
    const LEASE: Duration = Duration::from_secs(1);

    // The first dispatcher runs on a runtime of its own, killed mid-run with no cleanup.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (first_db, first_users) = (db.clone(), users.clone());
    let message_id = runtime
        .spawn(async move {
            let handle = bare_engine(&first_db, CONCURRENCY, LEASE, 1_000).await;
            let id = handle
                .engine()
                .enqueue(
                    TENANT,
                    MessageKind::Notice,
                    message(),
                    due_now(&first_users),
                )
                .await
                .unwrap();
            std::mem::forget(handle); // never shut down: it dies with its runtime
            id
        })
        .await
        .unwrap();
    wait_for(
        Duration::from_secs(30),
        "100 sends before the crash",
        || {
            let r = received.clone();
            async move { r.len() >= 100 }
        },
    )
    .await;
    runtime.shutdown_background();
    let crashed_at = Instant::now();
    let before_crash = received.len();

    // A new dispatcher takes over once the dead one's leases run out.
    let second = bare_engine(&db, CONCURRENCY, LEASE, 1_000).await;
    let id = message_id.clone();
    wait_delivered(&db, &id, None, Duration::from_secs(60)).await;
    second.shutdown(Duration::from_secs(5)).await;

    let log = received.0.lock().unwrap().clone();
    let mut counts = std::collections::HashMap::<String, Vec<Instant>>::new();
    for (t, p) in &log {
        counts.entry(p.clone()).or_default().push(*t);
    }
    assert_eq!(counts.len(), 300, "every recipient received the message");
    let duplicates: Vec<_> = counts.iter().filter(|(_, ts)| ts.len() > 1).collect();
    eprintln!(
        "crash test: {before_crash} sends before the crash, {} in all, {} duplicates",
        log.len(),
        duplicates.len()
    );
    // In flight = sent, outcome not yet committed: at most CONCURRENCY sends on the wire plus
    // the outcomes waiting (a few milliseconds) to share a transaction.
    assert!(
        duplicates.len() <= 2 * CONCURRENCY,
        "{} duplicates, more than the sends that can be in flight",
        duplicates.len()
    );
    // A send written to the socket just before the crash can be read by the fake just after
    // it; a copy from the second dispatcher cannot come before the dead one's lease ran out.
    for (path, times) in duplicates {
        assert_eq!(times.len(), 2, "{path} sent {} times", times.len());
        assert!(
            times[0] < crashed_at + LEASE,
            "{path}: its first send was in flight at the crash"
        );
    }
}

async fn two_dispatchers_on_one_database_never_send_the_same_delivery(backend: Backend) {
    let test_db = TestDb::new(backend);
    let url = herald::store::DatabaseUrl::parse(&test_db.url).unwrap();
    let db = herald::store::Db::open(&url, 4).unwrap();
    let users = add_users(&db, "https://example.invalid/", "race-", 400).await;
    let now = chrono::Utc::now();
    db.run(move |conn| {
        deliveries::create_message(conn, "m-race", TENANT, "test", &message(), now)?;
        deliveries::enqueue(conn, "m-race", TENANT, &due_now(&users), now)
    })
    .await
    .unwrap();

    // Two dispatchers lease in lock-step, released by a barrier each round.
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let threads: Vec<_> = ["left", "right"]
        .into_iter()
        .map(|owner| {
            let (db, barrier) = (db.clone(), barrier.clone());
            let tenants = vec![TENANT.to_string()];
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                let mut conn = db.get().unwrap();
                loop {
                    barrier.wait();
                    let now = chrono::Utc::now();
                    let until = now + chrono::TimeDelta::minutes(5);
                    let got =
                        deliveries::lease(&mut conn.as_conn(), owner, &tenants, &[], now, until, 7)
                            .unwrap();
                    let done = got.is_empty();
                    mine.extend(got.into_iter().map(|l| l.delivery.id));
                    barrier.wait();
                    if done {
                        // Both saw an empty queue in the same round or will in the next one.
                        let again = deliveries::lease(
                            &mut conn.as_conn(),
                            owner,
                            &tenants,
                            &[],
                            now,
                            until,
                            7,
                        )
                        .unwrap();
                        assert!(again.is_empty());
                        barrier.wait();
                        break mine;
                    }
                }
            })
        })
        .collect();
    let results: Vec<Vec<i64>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let (left, right) = (&results[0], &results[1]);
    let overlap = left.iter().filter(|id| right.contains(id)).count();
    assert_eq!(overlap, 0, "the same delivery was leased twice");
    assert_eq!(left.len() + right.len(), 400);
    assert!(
        !left.is_empty() && !right.is_empty(),
        "both dispatchers got work"
    );

    // End to end: two engines on the same database deliver each recipient once.
    let (connector, received) = slow_connector().await;
    let users = add_users(&db, &format!("{}/", connector.uri()), "duo-", 200).await;
    let a = bare_engine(&db, 8, Duration::from_secs(30), 1_000).await;
    let b = bare_engine(&db, 8, Duration::from_secs(30), 1_000).await;
    let id = a
        .engine()
        .enqueue(TENANT, MessageKind::Notice, message(), due_now(&users))
        .await
        .unwrap();
    b.engine().wake();
    wait_for(Duration::from_secs(30), "200 sends", || {
        let r = received.clone();
        async move { r.len() >= 200 }
    })
    .await;
    // Every delivery is delivered (none left to lease) and both engines have stopped, their
    // in-flight sends finished: a duplicate would have arrived by now.
    wait_delivered(&db, &id, Some(200), Duration::from_secs(30)).await;
    a.shutdown(Duration::from_secs(5)).await;
    b.shutdown(Duration::from_secs(5)).await;
    let mut paths = received.paths();
    assert_eq!(paths.len(), 200, "no duplicates");
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 200);
    let delivered = db
        .run(move |conn| deliveries::of_message(conn, &id))
        .await
        .unwrap();
    let by_a = delivered.iter().filter(|d| d.status == "delivered").count();
    assert_eq!(by_a, 200);
}

async fn metrics_count_outcomes_and_queue_depth(backend: Backend) {
    let app = spawn_app_with(backend, FAST_RETRIES).await;
    let users = add_users(&app.app_db, &app.service_url(), "met-", 3).await;
    record_sends(&app, "a:met-2", |_| ResponseTemplate::new(404)).await;
    let id = app
        .engine
        .enqueue(TENANT, MessageKind::Notice, message(), due_now(&users))
        .await
        .unwrap();
    wait_all_final(&app, &id, Duration::from_secs(10)).await;
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("herald_deliveries_total{outcome=\"delivered\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("herald_deliveries_total{outcome=\"failed\"} 1"),
        "{text}"
    );
    assert!(text.contains("herald_queue_due 0"), "{text}");
    assert!(
        text.contains("herald_connector_request_seconds_count 3"),
        "{text}"
    );
}

async fn shutdown_finishes_in_flight_sends_and_gives_back_every_lease(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = herald::store::Db::open(&herald::store::DatabaseUrl::parse(&test_db.url).unwrap(), 4)
        .unwrap();
    let (connector, received) = slow_connector().await;
    let users = add_users(&db, &format!("{}/", connector.uri()), "stop-", 20).await;
    // One send per second: most leased rows are waiting for their moment when the stop comes.
    let handle = bare_engine(&db, 6, Duration::from_secs(60), 1).await;
    let id = handle
        .engine()
        .enqueue(TENANT, MessageKind::Notice, message(), due_now(&users))
        .await
        .unwrap();
    wait_for(Duration::from_secs(10), "the first send", || {
        let r = received.clone();
        async move { r.len() >= 1 }
    })
    .await;
    handle.shutdown(Duration::from_secs(5)).await;
    let rows = db
        .run(move |conn| deliveries::of_message(conn, &id))
        .await
        .unwrap();
    let delivered = rows.iter().filter(|d| d.status == "delivered").count();
    assert!(
        delivered >= 1 && delivered <= received.len(),
        "{delivered} delivered"
    );
    assert!(
        rows.iter().all(|d| d.leased_by.is_none()),
        "a lease was kept after shutdown"
    );
    assert_eq!(
        rows.iter().filter(|d| d.status == "pending").count(),
        20 - delivered
    );
}

async fn a_test_clock_runs_hours_of_schedule_at_once(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = herald::store::Db::open(&herald::store::DatabaseUrl::parse(&test_db.url).unwrap(), 4)
        .unwrap();
    let (connector, received) = slow_connector().await;
    let users = add_users(&db, &format!("{}/", connector.uri()), "clock-", 3).await;
    let start = chrono::Utc::now();
    let clock = herald::domain::ManualClock::new(start);
    let handle = bare_engine_on(
        &db,
        4,
        Duration::from_secs(60),
        1_000,
        Arc::new(clock.clone()),
    )
    .await;
    // Due in 3 hours, 26 hours and a week.
    let mut items = due_now(&users);
    for (item, hours) in items.iter_mut().zip([3, 26, 24 * 7]) {
        item.due = start + chrono::TimeDelta::hours(hours);
    }
    let message_id = handle
        .engine()
        .enqueue(TENANT, MessageKind::Notice, message(), items)
        .await
        .unwrap();
    // A probe due now, enqueued after the three, to a chat on a connector of its own: once it
    // is delivered, the dispatcher has leased from a queue holding the three; once nothing is
    // leased either, anything it took by mistake has reached `received`.
    let probe_connector = MockServer::start().await;
    let probe_sent = record_posts(&probe_connector, ACTIVITIES, |_| sent()).await;
    let probe_user = add_users(&db, &format!("{}/", probe_connector.uri()), "probe-", 1).await;
    let mut probe = due_now(&probe_user);
    probe[0].due = start;
    let probe_id = handle
        .engine()
        .enqueue(TENANT, MessageKind::Notice, message(), probe)
        .await
        .unwrap();
    wait_delivered(&db, &probe_id, Some(1), Duration::from_secs(10)).await;
    assert_eq!(probe_sent.len(), 1);
    let depth = db
        .run(move |conn| deliveries::queue_depth(conn, start))
        .await
        .unwrap();
    assert_eq!(depth, (0, 0), "nothing due or leased");
    assert_eq!(received.len(), 0, "nothing is due yet");
    for (hours, expected) in [(3, 1), (23, 2), (24 * 6, 3)] {
        clock.advance(chrono::TimeDelta::hours(hours));
        wait_for(Duration::from_secs(5), "the next moment's send", || {
            let r = received.clone();
            async move { r.len() >= expected }
        })
        .await;
        // Leases are measured on this clock too: let the send's outcome land before the next
        // jump, or the jump would make it look abandoned.
        let id = message_id.clone();
        wait_for(Duration::from_secs(5), "the outcome", || {
            let (db, id) = (db.clone(), id.clone());
            async move {
                db.run(move |conn| deliveries::of_message(conn, &id))
                    .await
                    .unwrap()
                    .iter()
                    .filter(|d| d.status == "delivered")
                    .count()
                    == expected
            }
        })
        .await;
        assert_eq!(received.len(), expected);
    }
    handle.shutdown(Duration::from_secs(5)).await;
}

/// A user stored with a connector address that is not (or no longer) among
/// `bot.service_url_hosts`: the delivery fails naming the host, and the address is never called.
async fn a_stored_service_url_off_the_allow_list_is_never_called(backend: Backend) {
    let app = spawn_app_with(
        backend,
        "service_url_hosts = [\"smba.trafficmanager.net\"]\n",
    )
    .await;
    let users = add_users(&app.app_db, &app.service_url(), "off-", 3).await;
    let id = app
        .engine
        .enqueue(TENANT, MessageKind::Notice, message(), due_now(&users))
        .await
        .unwrap();
    let done = wait_all_final(&app, &id, Duration::from_secs(10)).await;
    for d in &done {
        assert_eq!(d.status, "failed");
        assert_eq!(d.failure.as_deref(), Some("bad_message"));
        let error = d.last_error.as_deref().unwrap_or_default();
        assert!(
            error.contains("127.0.0.1") && error.contains("not among the allowed"),
            "{error}"
        );
    }
    assert!(
        app.sent_messages().await.is_empty(),
        "the fake connector was called"
    );
}
