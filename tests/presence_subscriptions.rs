//! Presence kept current through Microsoft Graph change notifications (a fake Graph): one
//! subscription per 650 installed users, the validation handshake, clientState checks,
//! notified presence recorded, renewal before expiry, restarts, several instances.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use common::*;
use herald::domain::ManualClock;
use herald::store::presence_subs::{self, Subscription};
use herald::store::{DatabaseUrl, Db};

const PUBLIC: &str = "https://herald.contoso.com";
const GRAPH_ON: &str = "[graph]\nenabled = true\n";

fn server_toml() -> String {
    format!("public_url = \"{PUBLIC}\"")
}

fn aad(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

fn conversation(i: usize) -> herald::store::users::ConversationRef {
    herald::store::users::ConversationRef {
        tenant_id: TENANT.into(),
        channel_id: "msteams".into(),
        channel_user_id: format!("29:p{i}"),
        aad_object_id: Some(aad(i)),
        bot_id: "28:bot".into(),
        service_url: "https://smba.trafficmanager.net/emea/".into(),
        conversation_id: format!("a:p{i}"),
        display_name: None,
        locale: None,
        time_zone: None,
    }
}

/// Installs users `from..to` (Teams, with an Entra object id) in `db`.
async fn install(db: &Db, from: usize, to: usize) {
    db.run(move |conn| {
        for i in from..to {
            let r = conversation(i);
            let profile = herald::store::users::Profile::default();
            herald::store::users::record_install(conn, &r, &profile, Utc::now())?;
        }
        Ok(())
    })
    .await
    .expect("users installed");
}

/// A database already migrated, with users `0..n` installed, before any app starts.
async fn database_with_users(backend: Backend, n: usize) -> TestDb {
    let db = TestDb::new(backend);
    let url = DatabaseUrl::parse(&db.url).unwrap();
    let opened = tokio::task::spawn_blocking(move || Db::open(&url, 2))
        .await
        .unwrap()
        .expect("database opens");
    install(&opened, 0, n).await;
    db
}

/// The fake Graph's state: what every presence looked up is, the subscriptions it created.
struct FakeGraph {
    availability: Arc<Mutex<String>>,
    created: Arc<Mutex<Vec<Value>>>,
}

impl FakeGraph {
    fn created(&self) -> Vec<Value> {
        self.created.lock().unwrap().clone()
    }
}

/// Subscriptions, renewals and presence lookups on the fake Graph (a round that ran before
/// they were mounted failed, and is tried again).
async fn fake_graph(graph: &MockServer) -> FakeGraph {
    let created = Arc::new(Mutex::new(Vec::new()));
    let log = created.clone();
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .respond_with(move |req: &Request| {
            let body: Value = req.body_json().unwrap();
            log.lock().unwrap().push(body.clone());
            ResponseTemplate::new(201).set_body_json(json!({
                "id": uuid::Uuid::new_v4().to_string(),
                "resource": body["resource"],
                "expirationDateTime": body["expirationDateTime"],
            }))
        })
        .mount(graph)
        .await;
    Mock::given(method("PATCH"))
        .and(path_regex(r"^/v1.0/subscriptions/[^/]+$"))
        .respond_with(|req: &Request| {
            let body: Value = req.body_json().unwrap();
            let id = req.url.path().rsplit('/').next().unwrap().to_string();
            ResponseTemplate::new(200).set_body_json(json!({
                "id": id, "expirationDateTime": body["expirationDateTime"],
            }))
        })
        .mount(graph)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/v1.0/subscriptions/[^/]+$"))
        .respond_with(ResponseTemplate::new(204))
        .mount(graph)
        .await;
    let availability = Arc::new(Mutex::new("Available".to_string()));
    let shared = availability.clone();
    Mock::given(method("POST"))
        .and(path("/v1.0/communications/getPresencesByUserId"))
        .respond_with(move |req: &Request| {
            let body: Value = req.body_json().unwrap();
            let a = shared.lock().unwrap().clone();
            let value: Vec<Value> = body["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| json!({"id": id, "availability": a, "activity": a}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "value": value }))
        })
        .mount(graph)
        .await;
    FakeGraph {
        availability,
        created,
    }
}

async fn calls(graph: &MockServer, verb: &str, path_start: &str) -> Vec<Request> {
    graph
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == verb && r.url.path().starts_with(path_start))
        .collect()
}

async fn stored(db: &Db) -> Vec<Subscription> {
    db.run(presence_subs::list).await.expect("subscriptions")
}

/// Waits for `n` stored subscriptions. On the real clock, a first round that ran before the
/// fake Graph answered is retried after the keeper's back-off (5 s, then 10 s, 20 s): the bound
/// covers three such retries.
async fn wait_for_count(db: &Db, n: usize, what: &str) -> Vec<Subscription> {
    wait_for(Duration::from_secs(45), what, || async {
        stored(db).await.len() == n
    })
    .await;
    stored(db).await
}

fn counts(subs: &[Subscription]) -> Vec<usize> {
    let mut c: Vec<usize> = subs.iter().map(|s| s.users.len()).collect();
    c.sort();
    c
}

async fn presence_of(db: &Db, i: usize) -> Option<String> {
    let id = aad(i);
    db.run(move |conn| herald::store::users::find_by_aad(conn, TENANT, "msteams", Some(&id)))
        .await
        .unwrap()
        .and_then(|u| u.presence_availability)
}

/// 1,300 installed users give two subscriptions of 650, and one more install a third.
async fn subscriptions_follow_installs_in_chunks_of_650(backend: Backend) {
    let db = database_with_users(backend, 1300).await;
    let clock = ManualClock::new(Utc::now());
    let app = spawn_app_on_db_clock(db, backend, &server_toml(), GRAPH_ON, clock).await;
    let fake = fake_graph(&app.graph).await;
    // The first round may have run before the fake Graph answered: the next tick retries.
    app.advance(TimeDelta::seconds(61));
    let subs = wait_for_count(&app.app_db, 2, "two subscriptions").await;
    assert_eq!(counts(&subs), [650, 650]);
    let body = fake.created()[0].clone();
    assert_eq!(body["changeType"], "updated");
    assert_eq!(
        body["notificationUrl"],
        format!("{PUBLIC}/api/graph/notifications")
    );
    assert_eq!(
        body["lifecycleNotificationUrl"],
        format!("{PUBLIC}/api/graph/lifecycle")
    );
    let resource = body["resource"].as_str().unwrap();
    assert!(resource.starts_with("/communications/presences?$filter=id in ('"));
    assert_eq!(resource.matches("','").count(), 649, "650 ids");

    install(&app.app_db, 1300, 1301).await;
    app.advance(TimeDelta::seconds(61));
    let subs = wait_for_count(&app.app_db, 3, "a third subscription").await;
    assert_eq!(counts(&subs), [1, 650, 650]);
    assert_eq!(subs.iter().filter(|s| s.users == [aad(1300)]).count(), 1);
    // Another round changes nothing: nothing is created twice.
    app.advance(TimeDelta::seconds(61));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stored(&app.app_db).await.len(), 3);
    assert_eq!(fake.created().len(), 3, "each subscription created once");

    // Someone of a full chunk uninstalls: that chunk is replaced by one without them.
    app.app_db
        .run(|conn| {
            herald::store::users::record_uninstall(
                conn,
                &conversation(5),
                "uninstalled",
                Utc::now(),
            )
        })
        .await
        .unwrap();
    let left_chunk = subs
        .iter()
        .find(|s| s.users.contains(&aad(5)))
        .unwrap()
        .id
        .clone();
    app.advance(TimeDelta::seconds(61));
    wait_for(Duration::from_secs(10), "the chunk replaced", || async {
        counts(&stored(&app.app_db).await) == [1, 649, 650]
    })
    .await;
    let now = stored(&app.app_db).await;
    assert!(now.iter().all(|s| !s.users.contains(&aad(5))));
    assert!(now.iter().all(|s| s.id != left_chunk));
    let deleted = calls(&app.graph, "DELETE", "/v1.0/subscriptions/").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        deleted[0].url.path(),
        format!("/v1.0/subscriptions/{left_chunk}")
    );

    // An install through Teams wakes the keeper: the newcomer is subscribed to without waiting
    // for the next tick (the manual clock does not move).
    let stranger = "29:newcomer";
    assert_eq!(
        app.post_signed(&app.install("act-newcomer", stranger))
            .await
            .status(),
        200
    );
    wait_for(
        Duration::from_secs(10),
        "the newcomer subscribed to",
        || async {
            stored(&app.app_db)
                .await
                .iter()
                .any(|s| s.users.contains(&"aad-newcomer".to_string()))
        },
    )
    .await;
}

/// A crash leaves the presence duty held by an instance that is gone: the next instance waits
/// for that lease to lapse (nothing is created meanwhile), then finds the stored subscriptions,
/// keeps the live one and creates only the lapsed one again.
async fn a_crashed_instances_duty_is_taken_over_after_its_lease(backend: Backend) {
    let db = database_with_users(backend, 700).await;
    let shared = db.shared();
    let first_clock = ManualClock::new(Utc::now());
    let first = spawn_app_on_db_clock(db, backend, &server_toml(), GRAPH_ON, first_clock).await;
    fake_graph(&first.graph).await;
    // The first round may have run before the fake Graph answered: the next tick retries.
    first.advance(TimeDelta::seconds(61));
    let subs = wait_for_count(&first.app_db, 2, "two subscriptions").await;
    first.shut_down().await;
    let start = Utc::now();
    let (lapsed, past) = (subs[0].id.clone(), start - TimeDelta::minutes(1));
    first
        .app_db
        .run(move |conn| {
            presence_subs::renewed(conn, &lapsed, past, past)?;
            // What a crash leaves: the duty still held, for up to its lease, by the dead one.
            presence_subs::claim_duty(
                conn,
                herald::presence::DUTY,
                "crashed-instance",
                start,
                TimeDelta::minutes(3),
            )
        })
        .await
        .unwrap();

    let clock = ManualClock::new(start);
    let second = spawn_app_on_db_clock(shared, backend, &server_toml(), GRAPH_ON, clock).await;
    let fake = fake_graph(&second.graph).await;
    second.advance(TimeDelta::seconds(61));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        fake.created().is_empty(),
        "nothing done while the dead one's lease holds"
    );
    assert_eq!(stored(&second.app_db).await.len(), 2);

    second.advance(TimeDelta::minutes(3));
    wait_for(
        Duration::from_secs(15),
        "the lapsed one re-created and forgotten",
        // Graph answers the create before herald stores the new one and then forgets the
        // lapsed one: wait for the end of that sequence, not a moment inside it.
        || async {
            let now = stored(&second.app_db).await;
            fake.created().len() == 1 && now.len() == 2 && now.iter().all(|s| s.id != subs[0].id)
        },
    )
    .await;
    let now = stored(&second.app_db).await;
    assert!(now.iter().any(|s| s.id == subs[1].id), "the live one kept");
    assert!(
        now.iter().all(|s| s.id != subs[0].id),
        "the lapsed one gone"
    );
    assert_eq!(counts(&now), counts(&subs));
    second.advance(TimeDelta::seconds(61));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.created().len(), 1, "never created twice");
}

/// Duties are leases: one holder at a time, taken over only once lapsed, let go at shutdown.
async fn duties_are_leases(backend: Backend) {
    let db = database_with_users(backend, 0).await;
    let url = DatabaseUrl::parse(&db.url).unwrap();
    let db = tokio::task::spawn_blocking(move || Db::open(&url, 2))
        .await
        .unwrap()
        .unwrap();
    let t0 = Utc::now();
    let ttl = TimeDelta::minutes(3);
    let claim = |owner: &'static str, at: chrono::DateTime<Utc>| {
        let db = db.clone();
        async move {
            db.run(move |conn| presence_subs::claim_duty(conn, "presence", owner, at, ttl))
                .await
                .unwrap()
        }
    };
    assert!(claim("a", t0).await);
    assert!(!claim("b", t0 + TimeDelta::minutes(1)).await, "held by a");
    assert!(claim("a", t0 + TimeDelta::minutes(2)).await, "renewed");
    assert!(
        !claim("b", t0 + TimeDelta::minutes(4)).await,
        "renewed until 5 min"
    );
    assert!(
        claim("b", t0 + TimeDelta::minutes(6)).await,
        "lapsed: taken over"
    );
    assert!(!claim("a", t0 + TimeDelta::minutes(6)).await);
    let holder = db
        .run(|conn| presence_subs::duty_holder(conn, "presence"))
        .await
        .unwrap();
    assert_eq!(holder.map(|h| h.0).as_deref(), Some("b"));
    assert!(
        !db.run(|conn| presence_subs::release_duty(conn, "presence", "a"))
            .await
            .unwrap()
    );
    assert!(
        db.run(|conn| presence_subs::release_duty(conn, "presence", "b"))
            .await
            .unwrap()
    );
    assert!(
        claim("a", t0 + TimeDelta::minutes(6)).await,
        "free after release"
    );
}

/// Graph's validation handshake is answered with the token; notifications are checked against
/// the stored subscription's id and secret; a genuine one makes the new presence visible.
async fn notifications_are_checked_and_recorded(backend: Backend) {
    let db = database_with_users(backend, 3).await;
    let app = spawn_app_on(db, backend, |u| u.to_string(), &server_toml(), GRAPH_ON).await;
    let availability = fake_graph(&app.graph).await.availability;
    let subs = wait_for_count(&app.app_db, 1, "a subscription").await;
    let sub = &subs[0];

    for route in ["notifications", "lifecycle"] {
        let answer = app
            .client
            .post(format!(
                "{}/api/graph/{route}?validationToken=Validation%3A%20Testing%20client",
                app.address
            ))
            .header("content-type", "text/plain")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        assert_eq!(answer.text().await.unwrap(), "Validation: Testing client");
    }

    let notify = |state: &str, subscription: &str, user: usize| {
        json!({"value": [{
            "subscriptionId": subscription,
            "clientState": state,
            "changeType": "updated",
            "resource": format!("communications/presences('{}')", aad(user)),
            "resourceData": {"@odata.type": "#Microsoft.Graph.presence", "id": aad(user)},
            "tenantId": TENANT,
        }]})
    };
    let post = |body: Value| {
        let client = app.client.clone();
        let url = format!("{}/api/graph/notifications", app.address);
        async move { client.post(url).json(&body).send().await.unwrap() }
    };
    *availability.lock().unwrap() = "Busy".into();
    // A wrong secret, and a subscription herald does not keep: answered, not acted on.
    assert_eq!(post(notify("guessed", &sub.id, 0)).await.status(), 202);
    assert_eq!(
        post(notify(&sub.client_state, "someone-elses", 0))
            .await
            .status(),
        202
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        calls(
            &app.graph,
            "POST",
            "/v1.0/communications/getPresencesByUserId"
        )
        .await
        .is_empty(),
        "no lookup for a forged notification"
    );
    assert_eq!(presence_of(&app.app_db, 0).await, None);

    // Bad bodies: a 4xx, never a 500.
    for bad in ["not json", "{}", r#"{"value": 3}"#] {
        let answer = app
            .client
            .post(format!("{}/api/graph/notifications", app.address))
            .header("content-type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{bad}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["error"]["code"], "invalid_notifications", "{bad}");
    }

    let sent = std::time::Instant::now();
    assert_eq!(
        post(notify(&sub.client_state, &sub.id, 1)).await.status(),
        202
    );
    wait_for(
        Duration::from_secs(5),
        "the notified presence recorded",
        || async { presence_of(&app.app_db, 1).await.as_deref() == Some("Busy") },
    )
    .await;
    assert!(sent.elapsed() < Duration::from_secs(5));
    assert_eq!(
        presence_of(&app.app_db, 0).await,
        None,
        "only the notified user"
    );

    // Lifecycle: a forged one is ignored; reauthorizationRequired renews; subscriptionRemoved
    // makes herald subscribe again.
    let lifecycle = |state: &str, event: &str| {
        let body = json!({"value": [{
            "subscriptionId": sub.id, "clientState": state, "lifecycleEvent": event,
            "resource": "communications/presences", "tenantId": TENANT,
        }]});
        let client = app.client.clone();
        let url = format!("{}/api/graph/lifecycle", app.address);
        async move { client.post(url).json(&body).send().await.unwrap() }
    };
    assert_eq!(
        lifecycle("guessed", "subscriptionRemoved").await.status(),
        202
    );
    assert_eq!(
        lifecycle(&sub.client_state, "reauthorizationRequired")
            .await
            .status(),
        202
    );
    wait_for(Duration::from_secs(5), "the renewal", || async {
        !calls(&app.graph, "PATCH", "/v1.0/subscriptions/")
            .await
            .is_empty()
    })
    .await;
    assert_eq!(
        stored(&app.app_db).await[0].id,
        sub.id,
        "forged removal ignored"
    );
    assert_eq!(
        lifecycle(&sub.client_state, "subscriptionRemoved")
            .await
            .status(),
        202
    );
    wait_for(Duration::from_secs(10), "subscribed again", || async {
        let now = stored(&app.app_db).await;
        now.len() == 1 && now[0].id != sub.id
    })
    .await;
}

/// On a manual clock: a subscription is renewed before it expires.
async fn subscriptions_are_renewed_before_expiry(backend: Backend) {
    let db = database_with_users(backend, 3).await;
    let clock = ManualClock::new(Utc::now());
    let app = spawn_app_on_db_clock(db, backend, &server_toml(), GRAPH_ON, clock).await;
    fake_graph(&app.graph).await;
    app.advance(TimeDelta::seconds(61));
    let before = wait_for_count(&app.app_db, 1, "a subscription").await[0].clone();
    assert!(before.expires_at <= app.now() + TimeDelta::minutes(60));
    assert!(
        calls(&app.graph, "PATCH", "/v1.0/subscriptions/")
            .await
            .is_empty()
    );

    // Within a quarter of an hour of its expiry.
    let renew_at = before.expires_at - TimeDelta::minutes(14);
    app.advance(renew_at - app.now());
    wait_for(Duration::from_secs(10), "the renewal", || async {
        stored(&app.app_db).await[0].expires_at > before.expires_at
    })
    .await;
    assert!(app.now() < before.expires_at, "renewed before it expired");
    let patches = calls(&app.graph, "PATCH", "/v1.0/subscriptions/").await;
    assert_eq!(patches.len(), 1);
    assert_eq!(
        patches[0].url.path(),
        format!("/v1.0/subscriptions/{}", before.id)
    );
    let after = stored(&app.app_db).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, before.id, "renewed, not re-created");
}

/// A renewal Graph throttles is not sent again before its Retry-After (nor every second), and
/// one Graph refuses (403) makes the tenant polled, as a refused create does.
async fn a_failed_renewal_waits_for_retry_after(backend: Backend) {
    let db = database_with_users(backend, 3).await;
    let clock = ManualClock::new(Utc::now());
    let graph_toml = "[graph]\nenabled = true\npresence_refresh = \"2m\"\n";
    let app = spawn_app_on_db_clock(db, backend, &server_toml(), graph_toml, clock).await;
    let fake = fake_graph(&app.graph).await;
    app.advance(TimeDelta::seconds(61));
    let before = wait_for_count(&app.app_db, 1, "a subscription").await[0].clone();
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120"))
        .with_priority(1)
        .up_to_n_times(1)
        .mount(&app.graph)
        .await;
    let patches = || async {
        calls(&app.graph, "PATCH", "/v1.0/subscriptions/")
            .await
            .len()
    };
    app.advance(before.expires_at - TimeDelta::minutes(14) - app.now());
    wait_for(Duration::from_secs(10), "the throttled renewal", || async {
        patches().await == 1
    })
    .await;
    for step in [2, 3, 10, 30, 60] {
        app.advance(TimeDelta::seconds(step));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(patches().await, 1, "not again before Retry-After");
    }
    app.advance(TimeDelta::seconds(20));
    wait_for(
        Duration::from_secs(10),
        "the renewal after Retry-After",
        || async { stored(&app.app_db).await[0].expires_at > before.expires_at },
    )
    .await;
    assert_eq!(patches().await, 2);

    // Graph now refuses renewals: the tenant is polled, its subscription let go.
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": {"code": "Forbidden"}
        })))
        .with_priority(1)
        .mount(&app.graph)
        .await;
    *fake.availability.lock().unwrap() = "Away".into();
    let renewed = stored(&app.app_db).await[0].clone();
    app.advance(renewed.expires_at - TimeDelta::minutes(14) - app.now());
    wait_for(Duration::from_secs(10), "the tenant polled", || async {
        presence_of(&app.app_db, 2).await.as_deref() == Some("Away")
    })
    .await;
    wait_for_count(&app.app_db, 0, "the subscription let go").await;
    let refused = patches().await;
    app.advance(TimeDelta::seconds(5));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(patches().await, refused, "not renewed again");
}

/// After a restart, live subscriptions are kept and an expired one is re-created: never a
/// duplicate.
async fn a_restart_keeps_or_recreates_never_duplicates(backend: Backend) {
    let db = database_with_users(backend, 700).await;
    let shared = db.shared();
    let first_clock = ManualClock::new(Utc::now());
    let first = spawn_app_on_db_clock(db, backend, &server_toml(), GRAPH_ON, first_clock).await;
    fake_graph(&first.graph).await;
    // The first round may have run before the fake Graph answered: the next tick retries.
    first.advance(TimeDelta::seconds(61));
    let subs = wait_for_count(&first.app_db, 2, "two subscriptions").await;
    first.shut_down().await;
    // One of them lapsed while herald was down.
    let lapsed = subs[0].id.clone();
    let past = Utc::now() - TimeDelta::minutes(1);
    first
        .app_db
        .run(move |conn| presence_subs::renewed(conn, &lapsed, past, past))
        .await
        .unwrap();

    let second_clock = ManualClock::new(Utc::now());
    let second =
        spawn_app_on_db_clock(shared, backend, &server_toml(), GRAPH_ON, second_clock).await;
    let fake = fake_graph(&second.graph).await;
    second.advance(TimeDelta::seconds(61));
    wait_for(
        Duration::from_secs(15),
        "the lapsed one re-created",
        || async {
            let now = stored(&second.app_db).await;
            now.len() == 2 && now.iter().all(|s| s.expires_at > Utc::now())
        },
    )
    .await;
    let now = stored(&second.app_db).await;
    assert!(now.iter().any(|s| s.id == subs[1].id), "the live one kept");
    assert!(
        now.iter().all(|s| s.id != subs[0].id),
        "the lapsed one gone"
    );
    assert_eq!(counts(&now), counts(&subs));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let created = fake.created();
    assert_eq!(created.len(), 1, "only the lapsed one created again");
    assert_eq!(
        created[0]["resource"],
        herald::graph::subscriptions::presence_resource(&subs[0].users)
    );
}

/// Two instances on one database: only one manages the subscriptions.
async fn only_one_instance_manages_them(backend: Backend) {
    let db = database_with_users(backend, 1300).await;
    let shared = db.shared();
    let a = spawn_app_on(db, backend, |u| u.to_string(), &server_toml(), GRAPH_ON).await;
    let b = spawn_app_on(shared, backend, |u| u.to_string(), &server_toml(), GRAPH_ON).await;
    let fake_a = fake_graph(&a.graph).await;
    let fake_b = fake_graph(&b.graph).await;
    let subs = wait_for_count(&a.app_db, 2, "two subscriptions").await;
    assert_eq!(counts(&subs), [650, 650]);
    let holder = a
        .app_db
        .run(|conn| presence_subs::duty_holder(conn, herald::presence::DUTY))
        .await
        .unwrap()
        .expect("someone holds the duty")
        .0;
    let instances = [
        a.engine.instance().to_string(),
        b.engine.instance().to_string(),
    ];
    assert!(instances.contains(&holder), "{holder}");
    // A few more rounds' worth of time: nobody creates anything twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (by_a, by_b) = (fake_a.created().len(), fake_b.created().len());
    assert_eq!(by_a + by_b, 2, "created once, by one instance");
    let (holder_graph, other_graph) = if holder == instances[0] {
        (&a.graph, &b.graph)
    } else {
        (&b.graph, &a.graph)
    };
    assert!(
        calls(holder_graph, "POST", "/v1.0/subscriptions")
            .await
            .len()
            >= 2
    );
    assert!(
        calls(other_graph, "POST", "/v1.0/").await.is_empty(),
        "the other instance never asked Graph for anything"
    );
    assert_eq!(stored(&b.app_db).await.len(), 2);
}

/// Without a public URL: every installed user's presence is refreshed by polling, in calls of
/// 650, every `graph.presence_refresh`; no subscription is made.
async fn without_a_public_url_presence_is_polled(backend: Backend) {
    let db = database_with_users(backend, 1300).await;
    let clock = ManualClock::new(Utc::now());
    let graph_toml = "[graph]\nenabled = true\npresence_refresh = \"2m\"\n";
    let app = spawn_app_on_db_clock(db, backend, "", graph_toml, clock).await;
    let fake = fake_graph(&app.graph).await;
    let lookups = || async {
        calls(
            &app.graph,
            "POST",
            "/v1.0/communications/getPresencesByUserId",
        )
        .await
        .iter()
        .map(|r| {
            r.body_json::<Value>().unwrap()["ids"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect::<Vec<usize>>()
    };
    // The refresh at start may have found no fake yet; the next one, two minutes on, does.
    wait_for(Duration::from_secs(10), "the refresh at start", || async {
        !lookups().await.is_empty()
    })
    .await;
    // The refresh at start is over once the count holds still (under load, its two calls can
    // be far apart).
    let mut at_start = lookups().await.len();
    let mut still = 0;
    while still < 5 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = lookups().await.len();
        still = if now == at_start { still + 1 } else { 0 };
        at_start = now;
    }
    *fake.availability.lock().unwrap() = "Away".into();
    app.advance(TimeDelta::seconds(121));
    wait_for(Duration::from_secs(10), "a polling refresh", || async {
        presence_of(&app.app_db, 1299).await.as_deref() == Some("Away")
            && lookups().await.len() >= at_start + 2
    })
    .await;
    assert_eq!(presence_of(&app.app_db, 0).await.as_deref(), Some("Away"));
    let polled = lookups().await;
    assert_eq!(polled[at_start..], [650, 650]);
    // Not again before the next period.
    app.advance(TimeDelta::seconds(61));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(lookups().await.len(), polled.len());
    assert!(fake.created().is_empty());
    assert!(stored(&app.app_db).await.is_empty());
    let validation = app
        .client
        .post(format!(
            "{}/api/graph/notifications?validationToken=x",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(validation.status(), 200);
}

/// A polling refresh Graph throttles keeps what it got (each call of 650 recorded at once),
/// waits for Retry-After and resumes where it stopped, not from the start.
async fn a_throttled_refresh_resumes_where_it_stopped(backend: Backend) {
    let db = database_with_users(backend, 1300).await;
    let clock = ManualClock::new(Utc::now());
    let graph_toml = "[graph]\nenabled = true\npresence_refresh = \"10m\"\n";
    let app = spawn_app_on_db_clock(db, backend, "", graph_toml, clock).await;
    let first_ids = || async {
        calls(
            &app.graph,
            "POST",
            "/v1.0/communications/getPresencesByUserId",
        )
        .await
        .iter()
        .map(|r| {
            r.body_json::<Value>().unwrap()["ids"][0]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect::<Vec<String>>()
    };
    // The refresh at start finds no fake Graph (both calls fail); the next is ten minutes on.
    wait_for(Duration::from_secs(10), "the refresh at start", || async {
        first_ids().await.len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The second call (users from 650) is throttled once.
    let second = aad(650);
    Mock::given(method("POST"))
        .and(path("/v1.0/communications/getPresencesByUserId"))
        .and(move |r: &Request| {
            r.body_json::<Value>()
                .is_ok_and(|b| b["ids"][0] == second.as_str())
        })
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "90"))
        .with_priority(1)
        .up_to_n_times(1)
        .mount(&app.graph)
        .await;
    let fake = fake_graph(&app.graph).await;
    *fake.availability.lock().unwrap() = "Away".into();
    let before = first_ids().await.len();
    app.advance(TimeDelta::seconds(601));
    wait_for(
        Duration::from_secs(10),
        "the first chunk recorded",
        || async { presence_of(&app.app_db, 0).await.as_deref() == Some("Away") },
    )
    .await;
    wait_for(Duration::from_secs(10), "the throttled call", || async {
        first_ids().await.len() >= before + 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        presence_of(&app.app_db, 1299).await,
        None,
        "throttled: not yet"
    );
    let asked = first_ids().await.len();
    app.advance(TimeDelta::seconds(60));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(first_ids().await.len(), asked, "Retry-After honoured");
    app.advance(TimeDelta::seconds(31));
    wait_for(Duration::from_secs(10), "the refresh resumed", || async {
        presence_of(&app.app_db, 1299).await.as_deref() == Some("Away")
    })
    .await;
    let ids = first_ids().await;
    assert_eq!(
        ids[asked..],
        [aad(650)],
        "resumed at the throttled chunk only"
    );
}

/// `record` writes one UPDATE per presence value, matches ids in either case and never
/// overwrites a newer observation.
async fn record_groups_and_matches_any_case(backend: Backend) {
    use herald::store::presence::{Observed, record};
    let db = TestDb::new(backend);
    let url = DatabaseUrl::parse(&db.url).unwrap();
    let opened = tokio::task::spawn_blocking(move || Db::open(&url, 2))
        .await
        .unwrap()
        .expect("database opens");
    opened
        .run(|conn| {
            for i in 0..3 {
                let mut r = conversation(i);
                r.aad_object_id = Some(
                    aad(i)
                        .to_uppercase()
                        .replace("0000-4000-8000", "ABCD-4000-8000"),
                );
                herald::store::users::record_install(conn, &r, &Default::default(), Utc::now())?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let seen = |i: usize, a: &str| Observed {
        aad_object_id: aad(i).replace("0000-4000-8000", "abcd-4000-8000"),
        availability: a.into(),
        activity: a.into(),
    };
    let now = Utc::now();
    let obs = vec![seen(0, "Away"), seen(1, "Busy"), seen(2, "Away")];
    let changed = opened
        .run(move |conn| record(conn, TENANT, &obs, now))
        .await
        .unwrap();
    assert_eq!(changed, 3, "upper-case ids matched by Graph's lower case");
    let older = vec![seen(0, "Offline")];
    let changed = opened
        .run(move |conn| record(conn, TENANT, &older, now - TimeDelta::seconds(5)))
        .await
        .unwrap();
    assert_eq!(changed, 0, "an older observation is ignored");
    let availability = |i: usize| {
        let id = aad(i)
            .to_uppercase()
            .replace("0000-4000-8000", "ABCD-4000-8000");
        opened
            .run(move |conn| herald::store::users::find_by_aad(conn, TENANT, "msteams", Some(&id)))
    };
    let a0 = availability(0)
        .await
        .unwrap()
        .and_then(|u| u.presence_availability);
    let a1 = availability(1)
        .await
        .unwrap()
        .and_then(|u| u.presence_availability);
    assert_eq!(a0.as_deref(), Some("Away"));
    assert_eq!(a1.as_deref(), Some("Busy"));
}

/// A tenant where Graph refuses presence subscriptions (403) is polled instead, and not asked
/// again at every round.
async fn a_tenant_refusing_subscriptions_is_polled(backend: Backend) {
    let db = database_with_users(backend, 3).await;
    let clock = ManualClock::new(Utc::now());
    let graph_toml = "[graph]\nenabled = true\npresence_refresh = \"2m\"\n";
    let app = spawn_app_on_db_clock(db, backend, &server_toml(), graph_toml, clock).await;
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": {"code": "ExtensionError", "message": "Operation: Create; Exception: [Status Code: Forbidden]"}
        })))
        .with_priority(1)
        .mount(&app.graph)
        .await;
    let fake = fake_graph(&app.graph).await;
    *fake.availability.lock().unwrap() = "Away".into();
    app.advance(TimeDelta::seconds(61));
    wait_for(Duration::from_secs(10), "presence polled", || async {
        presence_of(&app.app_db, 2).await.as_deref() == Some("Away")
    })
    .await;
    let refusals = calls(&app.graph, "POST", "/v1.0/subscriptions").await.len();
    app.advance(TimeDelta::seconds(61));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        calls(&app.graph, "POST", "/v1.0/subscriptions").await.len(),
        refusals,
        "not asked again within the hour"
    );
    assert!(stored(&app.app_db).await.is_empty());
    assert!(fake.created().is_empty());
}

/// The open notification routes refuse, before the database, a batch naming more
/// subscriptions than herald could keep and a body over their limit; the echoed validation
/// token is not sniffed as anything but text.
async fn notification_routes_are_bounded(backend: Backend) {
    let app = spawn_app_configured(backend, &server_toml(), GRAPH_ON).await;
    let url = format!("{}/api/graph/notifications", app.address);
    let value: Vec<Value> = (0..201)
        .map(|i| json!({"subscriptionId": format!("s{i}"), "clientState": "x"}))
        .collect();
    for route in ["notifications", "lifecycle"] {
        let answer = app
            .client
            .post(format!("{}/api/graph/{route}", app.address))
            .json(&json!({ "value": value }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400);
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["error"]["code"], "invalid_notifications");
    }
    let huge = format!(r#"{{"value":[],"pad":"{}"}}"#, "x".repeat(600 * 1024));
    let answer = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    let validation = app
        .client
        .post(format!("{url}?validationToken=%3Cscript%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(validation.status(), 200);
    assert_eq!(validation.headers()["x-content-type-options"], "nosniff");
    assert_eq!(validation.text().await.unwrap(), "<script>");
}

/// A public URL Graph cannot reach (create answered 400 ValidationError): the tenant is polled
/// instead, and subscribing is not tried again at every round.
async fn a_public_url_graph_cannot_validate_falls_back_to_polling(backend: Backend) {
    let db = database_with_users(backend, 3).await;
    let clock = ManualClock::new(Utc::now());
    let graph_toml = "[graph]\nenabled = true\npresence_refresh = \"2m\"\n";
    let app = spawn_app_on_db_clock(db, backend, &server_toml(), graph_toml, clock).await;
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"code": "ValidationError", "message": "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."}
        })))
        .with_priority(1)
        .mount(&app.graph)
        .await;
    let fake = fake_graph(&app.graph).await;
    *fake.availability.lock().unwrap() = "Away".into();
    app.advance(TimeDelta::seconds(61));
    wait_for(Duration::from_secs(10), "presence polled", || async {
        presence_of(&app.app_db, 2).await.as_deref() == Some("Away")
    })
    .await;
    let refusals = calls(&app.graph, "POST", "/v1.0/subscriptions").await.len();
    app.advance(TimeDelta::seconds(61));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        calls(&app.graph, "POST", "/v1.0/subscriptions").await.len(),
        refusals,
        "not asked again within the hour"
    );
    assert!(stored(&app.app_db).await.is_empty());
    assert!(fake.created().is_empty());
}

/// With Graph off there is no notification route.
async fn with_graph_off_the_route_is_not_there(backend: Backend) {
    let app = spawn_app_configured(backend, &server_toml(), "").await;
    let answer = app
        .client
        .post(format!(
            "{}/api/graph/notifications?validationToken=x",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    let error: Value = answer.json().await.unwrap();
    assert_eq!(error["error"]["code"], "presence_notifications_off");
}

on_both_backends!(
    duties_are_leases,
    a_tenant_refusing_subscriptions_is_polled,
    without_a_public_url_presence_is_polled,
    with_graph_off_the_route_is_not_there,
    a_public_url_graph_cannot_validate_falls_back_to_polling,
    a_throttled_refresh_resumes_where_it_stopped,
    record_groups_and_matches_any_case,
    notification_routes_are_bounded,
    subscriptions_follow_installs_in_chunks_of_650,
    notifications_are_checked_and_recorded,
    subscriptions_are_renewed_before_expiry,
    a_failed_renewal_waits_for_retry_after,
    a_restart_keeps_or_recreates_never_duplicates,
    a_crashed_instances_duty_is_taken_over_after_its_lease,
    only_one_instance_manages_them,
);
