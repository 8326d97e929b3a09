//! Campaigns through the engine, on a test clock: planning at the start, personalised sends at
//! each planned moment, presence and the absence ladder.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use herald::domain::ManualClock;
use herald::engine::{Engine, EngineConfig, EngineHandle};
use herald::store::campaigns::{self, Campaign};
use herald::store::deliveries::{self, Delivery};
use herald::store::users::{ConversationRef, Profile};
use herald::store::{DatabaseUrl, Db, lists};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

on_both_backends!(
    a_campaign_reaches_each_installed_member_personalised_at_their_moment,
    absent_recipients_climb_the_ladder_until_available_or_expired,
);

/// Installed users with profiles; `names[i]` is (given name, surname), email `m{i}@contoso.com`.
async fn add_people(db: &Db, service_url: &str, names: &[(String, String)]) {
    let (service_url, names) = (service_url.to_string(), names.to_vec());
    db.run(move |conn| {
        for (i, (given, surname)) in names.iter().enumerate() {
            let r = ConversationRef {
                tenant_id: TENANT.into(),
                channel_id: "msteams".into(),
                channel_user_id: format!("29:m{i}"),
                aad_object_id: Some(format!("aad-m{i}")),
                bot_id: "28:bot".into(),
                service_url: service_url.clone(),
                conversation_id: format!("a:m{i}"),
                display_name: Some(format!("{given} {surname}")),
                locale: None,
                time_zone: None,
            };
            let profile = Profile {
                given_name: Some(given.clone()),
                surname: Some(surname.clone()),
                email: Some(format!("m{i}@contoso.com")),
                ..Profile::default()
            };
            herald::store::users::record_install(conn, &r, &profile, Utc::now())?;
        }
        Ok(())
    })
    .await
    .unwrap();
}

async fn create_campaign(db: &Db, members: usize, settings: campaigns::Settings) -> Campaign {
    let now = Utc::now();
    db.run(move |conn| {
        let emails: Vec<String> = (0..members).map(|i| format!("m{i}@contoso.com")).collect();
        let list = lists::create(conn, TENANT, "all-staff", "admin", &emails, now)?.unwrap();
        let s = campaigns::Settings {
            list_id: list.id,
            ..settings
        };
        Ok(
            campaigns::create(conn, TENANT, "welcome", "admin", &s, 42, now)?
                .campaign()
                .unwrap(),
        )
    })
    .await
    .unwrap()
}

async fn engine(db: &Db, clock: &ManualClock, graph: Option<&MockServer>) -> EngineHandle {
    let http = herald::startup::http_client().unwrap();
    let graph = graph.map(|g| {
        Arc::new(herald::graph::GraphClient::new(
            http.clone(),
            &g.uri(),
            &format!("{}/{{tenant}}/token", g.uri()),
            "app",
            secrecy::SecretString::from("secret"),
        ))
    });
    let config = EngineConfig {
        concurrency: 8,
        tenant_rps: 1_000,
        ..EngineConfig::from_settings(&herald::config::Settings::default())
    };
    Engine::start(
        herald::outbox::Outbox::new(db.clone()),
        herald::botframework::ConnectorClient::without_credentials(http),
        Arc::new(clock.clone()),
        Arc::new(herald::metrics::Metrics::new()),
        config,
        graph,
    )
    .await
    .unwrap()
}

async fn rows(db: &Db, id: &str) -> Vec<Delivery> {
    let id = id.to_string();
    db.run(move |conn| deliveries::of_message(conn, &id))
        .await
        .unwrap()
}

/// Waits until the planner has started the campaign.
async fn wait_started(db: &Db, id: &str) {
    wait_for(Duration::from_secs(10), "the campaign to start", || {
        let (db, id) = (db.clone(), id.to_string());
        async move {
            db.run(move |conn| campaigns::get(conn, &id))
                .await
                .unwrap()
                .is_some_and(|c| c.status != "scheduled")
        }
    })
    .await;
}

/// Waits until nothing due at the clock's time is still pending (the engine caught up).
async fn settle(db: &Db, clock: &ManualClock, id: &str) {
    let now = herald::domain::Clock::now(clock).naive_utc();
    wait_for(Duration::from_secs(10), "the engine to catch up", || {
        let (db, id) = (db.clone(), id.to_string());
        async move {
            rows(&db, &id).await.iter().all(|d| {
                d.status != "pending" || (d.next_attempt_at > now && d.leased_by.is_none())
            })
        }
    })
    .await;
}

async fn a_campaign_reaches_each_installed_member_personalised_at_their_moment(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 4).unwrap();
    let received = Received::default();
    let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
    let connector = MockServer::start().await;
    let seen = bodies.clone();
    Mock::given(method("POST"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities$"))
        .respond_with(Recording {
            received: received.clone(),
            respond: move |r: &Request| {
                seen.lock().unwrap().push(r.body_json().unwrap());
                ResponseTemplate::new(201).set_body_json(json!({"id": "1:sent"}))
            },
        })
        .mount(&connector)
        .await;
    // 50 members, 47 installed; one with a name that tries to be markup.
    let mut names: Vec<(String, String)> = (0..47)
        .map(|i| (format!("Given{i}"), format!("Sur{i}")))
        .collect();
    names[0] = ("{{x}}".into(), "*<b>y</b>*".into());
    add_people(&db, &format!("{}/", connector.uri()), &names).await;

    let opened: DateTime<Utc> = "2026-12-01T08:00:00Z".parse().unwrap();
    let clock = ManualClock::new(opened);
    let start: DateTime<Utc> = "2026-12-01T09:00:00Z".parse().unwrap();
    let campaign = create_campaign(
        &db,
        50,
        campaigns::Settings {
            list_id: String::new(),
            channel: "msteams".into(),
            start_at: start,
            time_zone: "UTC".into(),
            duration_minutes: 120,
            hours: "always".into(),
            presence: "any".into(),
            message: "Bonjour [FIRSTNAME] [LASTNAME], bienvenue.".into(),
        },
    )
    .await;
    let handle = engine(&db, &clock, None).await;
    handle.engine().wake();
    // The planner has looked (the campaign was there before the engine started) and the
    // dispatcher has gone idle until the planner's next look, one tick later: nothing planned.
    let tick =
        TimeDelta::from_std(EngineConfig::from_settings(&herald::config::Settings::default()).tick)
            .unwrap();
    wait_for_sleeper(
        &clock,
        opened + tick,
        "the dispatcher idle until its next look",
    )
    .await;
    assert!(
        rows(&db, &campaign.id).await.is_empty(),
        "nothing planned before the start"
    );
    assert_eq!(received.len(), 0, "nothing before the start");

    // Walk through the window five minutes at a time.
    let step = TimeDelta::minutes(5);
    clock.set(start);
    wait_started(&db, &campaign.id).await;
    while herald::domain::Clock::now(&clock) < start + TimeDelta::minutes(125) {
        settle(&db, &clock, &campaign.id).await;
        clock.advance(step);
    }
    settle(&db, &clock, &campaign.id).await;

    let done = rows(&db, &campaign.id).await;
    assert_eq!(done.len(), 47);
    assert_eq!(
        received.len(),
        47,
        "exactly one message per installed member"
    );
    for d in &done {
        assert_eq!(d.status, "delivered");
        let planned = d.planned_at.unwrap();
        let sent = d.completed_at.unwrap();
        assert!(
            planned >= start.naive_utc() && planned < (start + TimeDelta::minutes(120)).naive_utc()
        );
        assert!(
            sent >= planned && sent - planned <= step,
            "sent {sent}, planned {planned}"
        );
    }
    let texts: Vec<String> = bodies
        .lock()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        texts
            .iter()
            .all(|t| !t.contains("[FIRSTNAME]") && !t.contains("[LASTNAME]"))
    );
    for i in 1..47 {
        let want = format!("Bonjour Given{i} Sur{i}, bienvenue.");
        assert!(texts.contains(&want), "{want} missing");
    }
    let literal = "Bonjour \\{\\{x\\}\\} \\*&lt;b&gt;y&lt;/b&gt;\\*, bienvenue.";
    assert!(
        texts.iter().any(|t| t == literal),
        "the markup name arrives escaped: {texts:?}"
    );

    let (report, after) = {
        let id = campaign.id.clone();
        db.run(move |conn| {
            let c = campaigns::get(conn, &id)?.unwrap();
            Ok((campaigns::counts(conn, &c)?, c))
        })
        .await
        .unwrap()
    };
    assert_eq!(report.targeted, 50);
    assert_eq!(report.not_installed, 3);
    assert_eq!(report.delivered, 47);
    assert_eq!(
        report.planned + report.waiting_for_presence + report.expired,
        0
    );
    // Completed at the planner's next look (one tick).
    clock.advance(TimeDelta::minutes(1));
    let id = campaign.id.clone();
    wait_for(Duration::from_secs(5), "completion", || {
        let (db, id) = (db.clone(), id.clone());
        async move {
            db.run(move |conn| campaigns::get(conn, &id))
                .await
                .unwrap()
                .unwrap()
                .status
                == "completed"
        }
    })
    .await;
    assert_ne!(after.status, "scheduled");
    handle.shutdown(Duration::from_secs(5)).await;
}

async fn absent_recipients_climb_the_ladder_until_available_or_expired(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 4).unwrap();
    let connector = MockServer::start().await;
    let received = record_posts(&connector, ACTIVITIES, |_| sent()).await;
    // m0 is Away twice then Available; m1 is Offline throughout.
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant-contoso/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3600, "access_token": "graph"})))
        .mount(&graph)
        .await;
    let asked: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counter = asked.clone();
    Mock::given(method("POST"))
        .and(path("/v1.0/communications/getPresencesByUserId"))
        .respond_with(move |r: &Request| {
            let body: Value = r.body_json().unwrap();
            let mut asked = counter.lock().unwrap();
            let value: Vec<Value> = body["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| {
                    let id = id.as_str().unwrap().to_string();
                    let n = asked.entry(id.clone()).or_default();
                    *n += 1;
                    let availability = match (id.as_str(), *n) {
                        ("aad-m0", 1 | 2) => "Away",
                        ("aad-m0", _) => "Available",
                        _ => "Offline",
                    };
                    json!({"id": id, "availability": availability, "activity": availability})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "value": value }))
        })
        .mount(&graph)
        .await;
    add_people(
        &db,
        &format!("{}/", connector.uri()),
        &[("Ada".into(), "L".into()), ("Off".into(), "Line".into())],
    )
    .await;
    // Monday 30 November 2026, 14:27 UTC: a one-minute window pins the planned moments.
    let start: DateTime<Utc> = "2026-11-30T14:27:00Z".parse().unwrap();
    let clock = ManualClock::new(start - TimeDelta::minutes(30));
    let campaign = create_campaign(
        &db,
        2,
        campaigns::Settings {
            list_id: String::new(),
            channel: "msteams".into(),
            start_at: start,
            time_zone: "UTC".into(),
            duration_minutes: 1,
            hours: "Mon-Fri 09:00-18:00".into(),
            presence: "available".into(),
            message: "Bonjour [FIRSTNAME]".into(),
        },
    )
    .await;
    let handle = engine(&db, &clock, Some(&graph)).await;
    handle.engine().wake();

    // Follow the ladder: jump to each next attempt the engine planned, until none is left.
    clock.set(start);
    wait_started(&db, &campaign.id).await;
    let mut jumps = 0;
    loop {
        settle(&db, &clock, &campaign.id).await;
        let pending: Vec<Delivery> = rows(&db, &campaign.id)
            .await
            .into_iter()
            .filter(|d| d.status == "pending")
            .collect();
        let Some(next) = pending.iter().map(|d| d.next_attempt_at).min() else {
            break;
        };
        clock.set(next.and_utc());
        jumps += 1;
        assert!(jumps < 40, "the ladder never ends");
    }
    let done = rows(&db, &campaign.id).await;
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked["aad-m0"], 3, "Away, Away, Available");
    assert_eq!(
        asked["aad-m1"], 12,
        "12 attempts for the one always Offline"
    );
    assert_eq!(received.len(), 1, "only the available one received it");
    let delivered: Vec<&Delivery> = done.iter().filter(|d| d.status == "delivered").collect();
    let expired: Vec<&Delivery> = done.iter().filter(|d| d.status == "expired").collect();
    assert_eq!((delivered.len(), expired.len()), (1, 1));
    // Delivered at the third rung: T, T+10 min, then the first full hour after, 15:00.
    assert_eq!(
        delivered[0].completed_at.unwrap().and_utc(),
        "2026-11-30T15:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(delivered[0].ladder_step, 2);
    assert_eq!(expired[0].presence.as_deref(), Some("Offline"));
    assert_eq!(expired[0].ladder_step, 11);
    handle.shutdown(Duration::from_secs(5)).await;
}
