//! Live progress cards end to end: the sender's confirmation of a broadcast, and the author's
//! card of a campaign that started, are updated in place (PUT on the card's activity) while the
//! send goes out: never twice within 10 s, at least every 15 s while sending, and their last
//! state is what `broadcast info` / `campaign report` count. French cards are worded in French.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, Request, ResponseTemplate};

use common::*;
use herald::domain::progress::{BAR_ID, Subject};
use herald::domain::{Clock, ManualClock};
use herald::store::progress::Card;

on_both_backends!(
    a_broadcast_card_follows_two_thousand_sends_at_fifty_a_second,
    a_campaign_start_card_reaches_its_author_in_french_and_ends_as_its_report,
    the_card_goes_on_after_a_restart_from_the_state_in_the_database,
);

const ADMIN: &str = "29:boss";
/// The admin's chat on the fake connector (its id is percent-encoded in paths).
const ADMIN_CHAT: &str = r"^/v3/conversations/[^/]*conv-boss/activities";

/// One request the admin's chat received: when (wall clock, and the app's clock), the method,
/// and the body.
type Seen = (Instant, DateTime<Utc>, String, Value);

/// What the admin's chat received.
#[derive(Clone, Default)]
struct Chat(Arc<Mutex<Vec<Seen>>>);

impl Chat {
    /// Card changes: the confirmation (a reply, or the start card) and every update.
    fn changes(&self) -> Vec<Seen> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, verb, body)| {
                verb == "PUT"
                    || body["attachments"][0]["content"]
                        .to_string()
                        .contains(BAR_ID)
            })
            .cloned()
            .collect()
    }

    fn puts(&self) -> Vec<(Instant, DateTime<Utc>, Value)> {
        self.changes()
            .into_iter()
            .filter(|c| c.2 == "PUT")
            .map(|(t, at, _, body)| (t, at, body))
            .collect()
    }
}

/// Records what the admin's chat receives, ahead of the other mocks; sends answer with a card id.
async fn watch_admin_chat(app: &TestApp) -> Chat {
    let chat = Chat::default();
    for verb in ["POST", "PUT"] {
        let (seen, clock) = (chat.clone(), app.clock.clone());
        Mock::given(method(verb))
            .and(path_regex(format!("{ADMIN_CHAT}(/[^/]+)?$")))
            .respond_with(move |req: &Request| {
                let body: Value = req.body_json().unwrap_or(Value::Null);
                let verb = req.method.as_str().to_string();
                seen.0
                    .lock()
                    .unwrap()
                    .push((Instant::now(), clock.now(), verb.clone(), body));
                match verb.as_str() {
                    "POST" => ResponseTemplate::new(201).set_body_json(json!({"id": "card-1"})),
                    _ => ResponseTemplate::new(200).set_body_json(json!({"id": "card-1"})),
                }
            })
            .with_priority(1)
            .mount(&app.connector)
            .await;
    }
    chat
}

async fn card(app: &TestApp, subject: Subject, id: &str) -> Option<Card> {
    let id = id.to_string();
    app.app_db
        .run(move |conn| herald::store::progress::get(conn, subject, &id))
        .await
        .unwrap()
}

/// The card's figures as its facts show them: (delivered, total), failed, waiting.
fn facts(body: &Value) -> (String, String, String) {
    let facts = body["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "FactSet")
        .unwrap()["facts"]
        .clone();
    let value = |i: usize| facts[i]["value"].as_str().unwrap().to_string();
    (value(0), value(1), value(2))
}

async fn a_broadcast_card_follows_two_thousand_sends_at_fifty_a_second(backend: Backend) {
    let app = spawn_app_with(
        backend,
        "admins = [\"aad-boss\"]\n[delivery]\nglobal_rps = 50\n",
    )
    .await;
    let chat = watch_admin_chat(&app).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x"})))
        .mount(&app.connector)
        .await;
    assert_eq!(
        app.post_signed(&app.install("f:boss", ADMIN))
            .await
            .status(),
        200
    );
    add_users(&app.app_db, &app.service_url(), "r", 2000).await;
    // Everyone installed: the 2,000 and the admin.
    let reply = app
        .tell(
            ADMIN,
            "broadcast all\nsubject: Fire drill\nThe drill is at noon.",
            "en-US",
        )
        .await;
    assert!(reply.contains("is on its way to 2001 people"), "{reply}");
    assert!(reply.contains("Expected end"), "{reply}");
    let bc = app
        .app_db
        .run(|conn| herald::store::broadcasts::find(conn, TENANT, 1))
        .await
        .unwrap()
        .unwrap();
    let started = Instant::now();
    wait_for(
        Duration::from_secs(120),
        "the card's final state",
        || async {
            card(&app, Subject::Broadcast, &bc.id)
                .await
                .is_some_and(|c| c.finished_at.is_some())
        },
    )
    .await;
    // Paced at 50 a second, 2,001 cards take 40 s: the card had time to follow them.
    assert!(started.elapsed() >= Duration::from_secs(35));
    let row = card(&app, Subject::Broadcast, &bc.id).await.unwrap();
    assert_eq!(row.activity_id.as_deref(), Some("card-1"));
    assert!(row.failure.is_none(), "{:?}", row.failure);

    let changes = chat.changes();
    let puts = chat.puts();
    assert!(puts.len() >= 3, "{} updates", puts.len());
    assert_eq!(row.updates as usize, puts.len());
    assert_eq!(
        changes.len(),
        puts.len() + 1,
        "the confirmation, then updates"
    );
    assert_eq!(changes[0].2, "POST");
    // Never twice within 10 s, and at least every 15 s until the final state.
    for pair in changes.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(gap >= Duration::from_secs(10), "two changes {gap:?} apart");
        assert!(gap <= Duration::from_secs(15), "no change for {gap:?}");
    }
    // Each update replaces the confirmation in place, and shows the send moving on.
    let mut delivered_before = -1;
    for (_, _, body) in &puts {
        assert_eq!(body["id"], "card-1");
        let (delivered, _, _) = facts(body);
        let n: i64 = delivered.split(" / ").next().unwrap().parse().unwrap();
        assert!(n >= delivered_before, "{n} after {delivered_before}");
        delivered_before = n;
    }
    let (_, _, first) = &puts[0];
    let text = first.to_string();
    assert!(
        text.contains("Expected end") && text.contains("% done"),
        "{text}"
    );
    // The last state is `broadcast info`'s.
    let (_, _, last) = puts.last().unwrap();
    assert_eq!(facts(last), ("2001 / 2001".into(), "0".into(), "0".into()));
    assert!(last.to_string().contains("Finished"), "{last}");
    let info = app.tell(ADMIN, "broadcast info 1", "en-US").await;
    assert!(
        info.contains("Recipients: 2001 · delivered: 2001 · pending: 0 · failed: 0"),
        "{info}"
    );
    // Done: nothing more comes.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(chat.puts().len(), puts.len());
}

/// Moves the app's clock on by `by`; when the card was due, waits until the job took it.
async fn tick(app: &TestApp, clock: &ManualClock, id: &str, by: TimeDelta) {
    clock.advance(by);
    app.engine.wake();
    let now = clock.now();
    wait_for(Duration::from_secs(30), "the card taken", || async {
        card(app, Subject::Campaign, id)
            .await
            .is_none_or(|c| c.finished_at.is_some() || c.next_update_at.and_utc() > now)
    })
    .await;
}

async fn a_campaign_start_card_reaches_its_author_in_french_and_ends_as_its_report(
    backend: Backend,
) {
    let start: DateTime<Utc> = "2026-11-30T09:00:00Z".parse().unwrap();
    let clock = ManualClock::new(start - TimeDelta::minutes(5));
    let app = spawn_app_on_clock(backend, "admins = [\"aad-boss\"]\n", clock.clone()).await;
    let chat = watch_admin_chat(&app).await;
    let mut boss = app.install("f:boss", ADMIN);
    boss["locale"] = json!("fr-FR");
    assert_eq!(app.post_signed(&boss).await.status(), 200);
    let n = 12;
    for i in 0..n {
        let install = app.install(&format!("f:u{i}"), &format!("29:u{i}"));
        assert_eq!(app.post_signed(&install).await.status(), 200);
    }
    let members: Vec<String> = (0..n).map(|i| format!("ada.u{i}@contoso.com")).collect();
    app.tell(
        ADMIN,
        &format!("liste créer equipe {}", members.join(" ")),
        "fr-FR",
    )
    .await;
    let reply = app
        .tell(
            ADMIN,
            "campagne créer essai\nliste: equipe\ndébut: 2026-11-30 10:00\ndurée: 1m\n\
             horaires: always\nfuseau: Europe/Paris\nmessage:\nBonjour [FIRSTNAME]",
            "fr-FR",
        )
        .await;
    assert!(reply.contains("essai"), "{reply}");
    let id = {
        let c = app
            .app_db
            .run(|conn| herald::store::campaigns::find(conn, TENANT, "essai"))
            .await
            .unwrap()
            .unwrap();
        c.id
    };
    // Nothing before it starts.
    assert!(card(&app, Subject::Campaign, &id).await.is_none());
    clock.set(start);
    app.engine.wake();
    wait_for(Duration::from_secs(30), "the start card posted", || async {
        card(&app, Subject::Campaign, &id)
            .await
            .is_some_and(|c| c.activity_id.is_some())
    })
    .await;
    let posted = chat.changes();
    assert_eq!(posted.len(), 1);
    let text = posted[0].3.to_string();
    assert!(
        text.contains("La campagne **essai** a démarré : elle part vers 12 personnes."),
        "{text}"
    );
    for words in ["Remis", "Échecs", "En attente", "Fin prévue"] {
        assert!(text.contains(words), "{words}: {text}");
    }
    // The window is a minute long: two seconds at a time, until well after it.
    while clock.now() < start + TimeDelta::seconds(100) {
        tick(&app, &clock, &id, TimeDelta::seconds(2)).await;
    }
    let row = card(&app, Subject::Campaign, &id).await.unwrap();
    assert!(row.finished_at.is_some(), "finished");
    assert!(row.failure.is_none(), "{:?}", row.failure);
    let changes = chat.changes();
    assert!(changes.len() >= 3, "{} changes", changes.len());
    // Never twice within 10 s of the app's clock.
    for pair in changes.windows(2) {
        let gap = pair[1].1 - pair[0].1;
        assert!(gap >= TimeDelta::seconds(10), "two changes {gap} apart");
    }
    let (_, _, last) = chat.puts().pop().unwrap();
    let report = {
        let c = app
            .app_db
            .run(|conn| herald::store::campaigns::find(conn, TENANT, "essai"))
            .await
            .unwrap()
            .unwrap();
        app.app_db
            .run(move |conn| herald::store::campaigns::counts(conn, &c))
            .await
            .unwrap()
    };
    assert_eq!(report.delivered, n);
    assert_eq!(
        facts(&last),
        (
            format!("{} / {n}", report.delivered),
            "0".into(),
            "0".into()
        )
    );
    assert!(last.to_string().contains("Terminé"), "{last}");
}

async fn the_card_goes_on_after_a_restart_from_the_state_in_the_database(backend: Backend) {
    const SETTINGS: &str = "admins = [\"aad-boss\"]\n[delivery]\nglobal_rps = 25\n";
    let first = spawn_app_with(backend, SETTINGS).await;
    let chat = watch_admin_chat(&first).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x"})))
        .mount(&first.connector)
        .await;
    first.post_signed(&first.install("f:boss", ADMIN)).await;
    add_users(&first.app_db, &first.service_url(), "r", 999).await;
    let reply = first
        .tell(ADMIN, "broadcast all\nsubject: Drill\nAt noon.", "en-US")
        .await;
    assert!(reply.contains("is on its way to 1000 people"), "{reply}");
    let bc = first
        .app_db
        .run(|conn| herald::store::broadcasts::find(conn, TENANT, 1))
        .await
        .unwrap()
        .unwrap();
    wait_for(Duration::from_secs(30), "a first update", || async {
        !chat.puts().is_empty()
    })
    .await;
    first.shut_down().await;
    let before = chat.puts().len();
    let row = card(&first, Subject::Broadcast, &bc.id).await.unwrap();
    assert!(row.finished_at.is_none(), "still sending when stopped");
    // The same database, another process: recipients and the admin are reached where they
    // were (the first app's fake connector).
    let second = spawn_app_on(
        first.db.shared(),
        backend,
        |url| url.to_string(),
        "",
        SETTINGS,
    )
    .await;
    wait_for(
        Duration::from_secs(90),
        "the card's final state",
        || async {
            card(&second, Subject::Broadcast, &bc.id)
                .await
                .is_some_and(|c| c.finished_at.is_some())
        },
    )
    .await;
    let puts = chat.puts();
    assert!(puts.len() > before, "the second instance updated the card");
    let changes = chat.changes();
    for pair in changes.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(gap >= Duration::from_secs(10), "two changes {gap:?} apart");
    }
    let counts = {
        let bc = bc.clone();
        second
            .app_db
            .run(move |conn| herald::store::broadcasts::counts(conn, &bc))
            .await
            .unwrap()
    };
    assert_eq!(
        (counts.delivered, counts.pending, counts.failed),
        (1000, 0, 0)
    );
    let (_, _, last) = puts.last().unwrap();
    assert_eq!(facts(last), ("1000 / 1000".into(), "0".into(), "0".into()));
    let row = card(&second, Subject::Broadcast, &bc.id).await.unwrap();
    assert_eq!(row.updates as usize, puts.len());
}
