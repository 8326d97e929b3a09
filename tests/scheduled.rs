//! Scheduled broadcasts end to end (issue 18, part 1): `send:` holds a broadcast until its
//! time in the sender's zone; it goes at that time and not before, to the audience of that
//! moment; it survives a restart (and goes at start-up when its time passed meanwhile); an
//! edit before the time is what recipients get; a delete before the time sends nothing; two
//! instances send it once; French works the same; bad times are refused by name.

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::*;
use herald::domain::ManualClock;

const ADMIN: &str = "29:boss";
const ADMINS: &str = "admins = [\"aad-boss\"]\n";
const WAIT: Duration = Duration::from_secs(20);
/// Longer than the job's look (1 s): long enough for a broadcast that was due to go.
const QUIET: Duration = Duration::from_secs(3);

/// Tuesday 1 December 2026 at `h:m` in Paris (UTC+1).
fn paris(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap() - TimeDelta::hours(1)
}

fn conversation_of(path: &str) -> String {
    let segment = path.split('/').nth(3).unwrap_or_default();
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// A connector that numbers what it is sent (cards get distinct activity ids).
async fn numbering_connector(server: &MockServer) {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1_700_000_000_000));
    Mock::given(method("POST"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities$"))
        .respond_with(move |_: &wiremock::Request| {
            let id = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ResponseTemplate::new(201).set_body_json(json!({ "id": id.to_string() }))
        })
        .with_priority(1)
        .mount(server)
        .await;
}

async fn install_one(app: &TestApp, user: &str) {
    let install = app.install(&format!("f:{user}"), user);
    assert_eq!(app.post_signed(&install).await.status(), 200);
}

/// Installs `boss` (admin) and `n` recipients `29:u0…`, and makes the list `team` of `members`
/// recipients (some may not be installed yet).
async fn setup(app: &TestApp, n: usize, members: usize) {
    numbering_connector(&app.connector).await;
    install_one(app, ADMIN).await;
    for i in 0..n {
        install_one(app, &format!("29:u{i}")).await;
    }
    let emails: Vec<String> = (0..members)
        .map(|i| format!("ada.u{i}@contoso.com"))
        .collect();
    let reply = app
        .tell(
            ADMIN,
            &format!("list create team {}", emails.join(" ")),
            "en-US",
        )
        .await;
    assert!(reply.contains("created with"), "{reply}");
}

/// The broadcasts `db` holds. Fake servers are pooled across tests: a card some other test's
/// app posts late may land on ours, so only cards of our own broadcasts count.
async fn ours(db: &herald::store::Db) -> Vec<String> {
    use diesel::prelude::*;
    use herald::store::schema::broadcasts as b;
    db.run(|conn| {
        Ok(herald::run_on!(conn, |c| b::table
            .select(b::id)
            .load::<String>(c))?)
    })
    .await
    .unwrap()
}

/// Cards of `db`'s broadcasts posted to `connector`: (conversation, the card's content as text).
async fn cards_on(connector: &MockServer, db: &herald::store::Db) -> Vec<(String, String)> {
    let ours = ours(db).await;
    connector
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/activities"))
        .filter_map(|r| {
            let body: Value = r.body_json().ok()?;
            let content = body["attachments"][0]["content"].clone();
            let data = &content["actions"][0]["data"];
            let ours = data["broadcast"]
                .as_str()
                .is_some_and(|b| ours.iter().any(|o| o == b));
            (ours && (data["herald"] == "broadcast-read" || data["herald"] == "broadcast-ack"))
                .then(|| (conversation_of(r.url.path()), content.to_string()))
        })
        .collect()
}

async fn cards(app: &TestApp) -> Vec<(String, String)> {
    cards_on(&app.connector, &app.app_db).await
}

/// The conversations that got a card, sorted.
fn convs_of(cards: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = cards.iter().map(|(c, _)| c.clone()).collect();
    out.sort();
    out
}

fn convs(users: impl IntoIterator<Item = usize>) -> Vec<String> {
    let mut out: Vec<String> = users.into_iter().map(|i| format!("a:conv-u{i}")).collect();
    out.sort();
    out
}

/// Texts posted to the admin's chat that are not replies (the engine's notices).
async fn notices(connector: &MockServer) -> Vec<String> {
    connector
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && conversation_of(r.url.path()) == "a:conv-boss")
        .filter_map(|r| r.body_json::<Value>().ok())
        .filter(|b| b.get("replyToId").is_none())
        .filter_map(|b| b["text"].as_str().map(str::to_string))
        .collect()
}

const DRILL: &str = "subject: Fire drill\nThe drill is at noon.";

async fn scheduled_for_nine_goes_at_nine_not_before(backend: Backend) {
    let app = spawn_app_on_clock(backend, ADMINS, ManualClock::new(paris(8, 0))).await;
    // u3 is on the list but installs only later, before the time.
    setup(&app, 3, 4).await;
    let reply = app
        .tell(
            ADMIN,
            &format!("broadcast team\nsend: 2026-12-01 09:00\n{DRILL}"),
            "en-US",
        )
        .await;
    assert!(
        reply.contains(
            "**#1** **Fire drill** is scheduled for 2026-12-01 09:00 CET (Europe/Paris), to team"
        ),
        "{reply}"
    );
    let list = app.tell(ADMIN, "broadcasts", "en-US").await;
    assert!(
        list.contains(
            "**#1** **Fire drill** — scheduled for 2026-12-01 09:00 CET (Europe/Paris) — team"
        ),
        "{list}"
    );
    let info = app.tell(ADMIN, "broadcast info 1", "en-US").await;
    assert!(
        info.contains("Scheduled for 2026-12-01 09:00 CET"),
        "{info}"
    );
    let remind = app.tell(ADMIN, "broadcast remind 1", "en-US").await;
    assert!(remind.contains("has not gone out yet"), "{remind}");
    // The job waits for exactly the time (not a tick after it).
    wait_for_sleeper(
        app.manual.as_ref().unwrap(),
        paris(9, 0),
        "the job asleep until 09:00",
    )
    .await;
    install_one(&app, "29:u3").await;
    app.manual
        .as_ref()
        .unwrap()
        .set(paris(9, 0) - TimeDelta::seconds(1));
    tokio::time::sleep(QUIET).await;
    assert!(cards(&app).await.is_empty(), "nothing before 09:00");
    app.manual.as_ref().unwrap().set(paris(9, 0));
    wait_for(WAIT, "4 cards", || async { cards(&app).await.len() == 4 }).await;
    assert_eq!(
        convs_of(&cards(&app).await),
        convs(0..4),
        "the audience of 09:00, the newcomer included, once each"
    );
    assert!(
        cards(&app)
            .await
            .iter()
            .all(|(_, c)| c.contains("The drill is at noon."))
    );
    wait_for(WAIT, "the sender's notice", || async {
        notices(&app.connector).await.iter().any(|n| {
            n.contains("Your scheduled broadcast **#1** **Fire drill** is on its way to 4 people")
        })
    })
    .await;
    app.drained("the cards recorded").await;
    let info = app.tell(ADMIN, "broadcast info 1", "en-US").await;
    assert!(info.contains("delivered: 4"), "{info}");
    assert!(info.contains("09:00 CET"), "sent at its time: {info}");
    let late = app
        .tell(ADMIN, &format!("broadcast edit 1\n{DRILL}"), "en-US")
        .await;
    assert!(late.contains("has already gone out"), "{late}");
    app.advance(TimeDelta::hours(1));
    tokio::time::sleep(QUIET).await;
    assert_eq!(cards(&app).await.len(), 4, "it goes once");
}

async fn a_restart_in_between_still_sends_it_and_a_missed_time_goes_at_start_up(backend: Backend) {
    let db = TestDb::new(backend);
    let shared = db.shared();
    let first = spawn_app_on_db_clock(db, backend, "", ADMINS, ManualClock::new(paris(8, 0))).await;
    setup(&first, 3, 3).await;
    for (at, subject) in [("09:00", "Nine"), ("08:30", "Half past eight")] {
        let reply = first
            .tell(
                ADMIN,
                &format!("broadcast team\nsend: 2026-12-01 {at}\nsubject: {subject}\nBody"),
                "en-US",
            )
            .await;
        assert!(reply.contains("is scheduled for"), "{reply}");
    }
    first.shut_down().await;
    // Down from 08:00 to 08:40: #2's time passed meanwhile. The users' chats are on the first
    // app's fake connector, which stays up.
    let clock = ManualClock::new(paris(8, 40));
    let second = spawn_app_on_db_clock(shared, backend, "", ADMINS, clock).await;
    wait_for(WAIT, "#2 at start-up", || async {
        cards_on(&first.connector, &second.app_db).await.len() == 3
    })
    .await;
    assert!(
        cards_on(&first.connector, &second.app_db)
            .await
            .iter()
            .all(|(_, c)| c.contains("Half past eight"))
    );
    wait_for_sleeper(
        second.manual.as_ref().unwrap(),
        paris(9, 0),
        "asleep until 09:00",
    )
    .await;
    second.advance(TimeDelta::minutes(19));
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        cards_on(&first.connector, &second.app_db).await.len(),
        3,
        "#1 not before 09:00"
    );
    second.advance(TimeDelta::minutes(1));
    wait_for(WAIT, "#1 at 09:00", || async {
        cards_on(&first.connector, &second.app_db).await.len() == 6
    })
    .await;
    let nine: Vec<_> = cards_on(&first.connector, &second.app_db)
        .await
        .into_iter()
        .filter(|(_, c)| c.contains("Nine"))
        .collect();
    assert_eq!(convs_of(&nine), convs(0..3));
    second.shut_down().await;
}

async fn an_edit_before_the_time_is_what_recipients_get(backend: Backend) {
    let app = spawn_app_on_clock(backend, ADMINS, ManualClock::new(paris(8, 0))).await;
    setup(&app, 3, 3).await;
    app.tell(
        ADMIN,
        &format!("broadcast team\nsend: 2026-12-01 09:00\n{DRILL}"),
        "en-US",
    )
    .await;
    let reply = app
        .tell(
            ADMIN,
            "broadcast edit 1\nsend: 2026-12-01 09:30\nack: yes\nsubject: Drill moved\nThe drill is at one.",
            "en-US",
        )
        .await;
    assert!(
        reply.contains(
            "Scheduled broadcast **#1** is updated: **Drill moved**, for 2026-12-01 09:30 CET"
        ),
        "{reply}"
    );
    let bad = app
        .tell(
            ADMIN,
            "broadcast edit 1\nsend: soon\nsubject: X\nY",
            "en-US",
        )
        .await;
    assert!(
        bad.contains("Broadcast **#1** was not changed") && bad.contains("`soon` is not a date"),
        "{bad}"
    );
    app.manual.as_ref().unwrap().set(paris(9, 0));
    tokio::time::sleep(QUIET).await;
    let early = cards(&app).await;
    assert!(early.is_empty(), "the old time no longer holds: {early:?}");
    // Without a `send:` line the edit keeps the time.
    let reply = app
        .tell(
            ADMIN,
            "broadcast edit 1\nack: yes\nsubject: Drill moved\nThe drill is at one, in the yard.",
            "en-US",
        )
        .await;
    assert!(reply.contains("for 2026-12-01 09:30 CET"), "{reply}");
    app.manual.as_ref().unwrap().set(paris(9, 30));
    wait_for(WAIT, "3 cards", || async { cards(&app).await.len() == 3 }).await;
    for (_, card) in cards(&app).await {
        assert!(card.contains("Drill moved"), "{card}");
        assert!(card.contains("The drill is at one, in the yard."), "{card}");
        assert!(!card.contains("noon"), "{card}");
        assert!(
            card.contains("broadcast-ack"),
            "the edited options hold: {card}"
        );
    }
}

async fn a_delete_before_the_time_sends_nothing(backend: Backend) {
    let app = spawn_app_on_clock(backend, ADMINS, ManualClock::new(paris(8, 0))).await;
    setup(&app, 3, 3).await;
    app.tell(
        ADMIN,
        &format!("broadcast team\nsend: 2026-12-01 09:00\n{DRILL}"),
        "en-US",
    )
    .await;
    let reply = app.tell(ADMIN, "broadcast delete 1", "en-US").await;
    assert!(
        reply.contains("Scheduled broadcast **#1** **Fire drill** (for 2026-12-01 09:00 CET (Europe/Paris)) is cancelled: nothing was sent"),
        "{reply}"
    );
    app.manual.as_ref().unwrap().set(paris(10, 0));
    tokio::time::sleep(QUIET).await;
    assert!(cards(&app).await.is_empty(), "nothing is ever sent");
    assert!(
        app.connector_requests("DELETE", "").await.is_empty(),
        "nothing to delete either"
    );
    let list = app.tell(ADMIN, "broadcasts", "en-US").await;
    assert!(
        list.contains("cancelled before it went, never sent"),
        "{list}"
    );
    let again = app.tell(ADMIN, "broadcast delete 1", "en-US").await;
    assert!(
        again.contains("before it went: nothing was sent"),
        "{again}"
    );
    let edit = app
        .tell(ADMIN, &format!("broadcast edit 1\n{DRILL}"), "en-US")
        .await;
    assert!(edit.contains("nothing was sent"), "{edit}");
    // The next broadcast takes the next number.
    let next = app
        .tell(ADMIN, &format!("broadcast team\n{DRILL}"), "en-US")
        .await;
    assert!(next.contains("Broadcast **#2**"), "{next}");
}

async fn two_instances_send_it_once(backend: Backend) {
    let db = TestDb::new(backend);
    let shared = db.shared();
    let a = spawn_app_on_db_clock(db, backend, "", ADMINS, ManualClock::new(paris(8, 0))).await;
    let b = spawn_app_on_db_clock(shared, backend, "", ADMINS, ManualClock::new(paris(8, 0))).await;
    setup(&a, 20, 20).await;
    let reply = a
        .tell(
            ADMIN,
            "broadcast team\nsend: 2026-12-01 09:00\nsubject: Once only\nOne card each.",
            "en-US",
        )
        .await;
    assert!(reply.contains("is scheduled for"), "{reply}");
    // The other instance sees it too.
    let list = b.tell(ADMIN, "broadcasts", "en-US").await;
    assert!(list.contains("scheduled for 2026-12-01 09:00"), "{list}");
    wait_for_sleeper(
        a.manual.as_ref().unwrap(),
        paris(9, 0),
        "a asleep until 09:00",
    )
    .await;
    wait_for(WAIT, "b asleep until 09:00", || async {
        b.manual.as_ref().unwrap().sleepers().contains(&paris(9, 0))
    })
    .await;
    // Both reach 09:00 together.
    a.manual.as_ref().unwrap().set(paris(9, 0));
    b.manual.as_ref().unwrap().set(paris(9, 0));
    wait_for(WAIT, "20 cards", || async {
        cards_on(&a.connector, &a.app_db).await.len() >= 20
    })
    .await;
    tokio::time::sleep(QUIET).await;
    let all = cards_on(&a.connector, &a.app_db).await;
    assert_eq!(all.len(), 20, "each recipient exactly one card");
    assert_eq!(convs_of(&all), convs(0..20));
    let mut said = notices(&a.connector).await;
    said.extend(notices(&b.connector).await);
    let went = said
        .iter()
        .filter(|n| n.contains("Your scheduled broadcast **#1** **Once only**"))
        .count();
    assert_eq!(went, 1, "released once");
}

async fn in_french_envoi_and_diffusion_modifier(backend: Backend) {
    let app = spawn_app_on_clock(backend, ADMINS, ManualClock::new(paris(8, 0))).await;
    setup(&app, 2, 2).await;
    let reply = app
        .tell(
            ADMIN,
            "diffusion team\nenvoi : 2026-12-01 09:00\nsujet: Exercice\nL'exercice est à midi.",
            "fr-FR",
        )
        .await;
    assert!(
        reply.contains("La diffusion **#1** **Exercice** est programmée pour le 2026-12-01 09:00 CET (Europe/Paris), vers team"),
        "{reply}"
    );
    let reply = app
        .tell(
            ADMIN,
            "diffusion modifier 1\nfuseau: Europe/London\nenvoi: 2026-12-01 08:15\nsujet: Exercice déplacé\nL'exercice est à 13 h.",
            "fr-FR",
        )
        .await;
    assert!(
        reply.contains("La diffusion programmée **#1** est modifiée : **Exercice déplacé**, pour le 2026-12-01 08:15 GMT (Europe/London)"),
        "{reply}"
    );
    let list = app.tell(ADMIN, "diffusions", "fr-FR").await;
    assert!(
        list.contains("programmée pour le 2026-12-01 08:15 GMT"),
        "{list}"
    );
    let bad = app
        .tell(
            ADMIN,
            "diffusion modifier 1\nenvoi: demain\nsujet: X\nY",
            "fr-FR",
        )
        .await;
    assert!(
        bad.contains("n'a pas été modifiée") && bad.contains("`demain` n'est pas une date"),
        "{bad}"
    );
    // 08:15 in London is 09:15 in Paris.
    app.manual.as_ref().unwrap().set(paris(9, 14));
    tokio::time::sleep(QUIET).await;
    assert!(cards(&app).await.is_empty());
    app.manual.as_ref().unwrap().set(paris(9, 15));
    wait_for(WAIT, "2 cards", || async { cards(&app).await.len() == 2 }).await;
    assert!(cards(&app).await.iter().all(|(_, c)| c.contains("13 h")));
    let late = app
        .tell(ADMIN, "diffusion modifier 1\nsujet: X\nY", "fr-FR")
        .await;
    assert!(late.contains("est déjà partie"), "{late}");
    let reply = app
        .tell(
            ADMIN,
            "diffusion team\nenvoi: 2026-12-02 09:00\nsujet: Demain\nCorps",
            "fr-FR",
        )
        .await;
    assert!(reply.contains("**#2**"), "{reply}");
    let reply = app.tell(ADMIN, "diffusion supprimer 2", "fr-FR").await;
    assert!(
        reply.contains("est annulée : rien n'a été envoyé, et rien ne le sera"),
        "{reply}"
    );
}

async fn bad_times_are_refused_by_name(backend: Backend) {
    let app = spawn_app_on_clock(backend, ADMINS, ManualClock::new(paris(8, 0))).await;
    setup(&app, 1, 1).await;
    for (line, said, locale) in [
        (
            "send: 2026-12-01 07:59",
            "2026-12-01 07:59 (Europe/Paris) is in the past: it is 2026-12-01 08:00 there now",
            "en-US",
        ),
        (
            "send: tomorrow",
            "send: `tomorrow` is not a date and time as YYYY-MM-DD HH:MM (for example `send: 2026-12-01 09:00`)",
            "en-US",
        ),
        (
            "send: 2027-03-28 02:30",
            "2027-03-28 02:30 does not exist in Europe/Paris",
            "en-US",
        ),
        (
            "timezone: Mars/Olympus\nsend: 2026-12-02 09:00",
            "`Mars/Olympus` is not an IANA time zone",
            "en-US",
        ),
        (
            "envoi: 2026-11-30 10:00",
            "est passé : il est 2026-12-01 08:00 là-bas",
            "fr-FR",
        ),
    ] {
        let reply = app
            .tell(ADMIN, &format!("broadcast team\n{line}\n{DRILL}"), locale)
            .await;
        assert!(reply.contains(said), "`{line}`: {reply}");
    }
    // The form shows the error under its input, keeping what was typed.
    let mut a = app.message("1:form", ADMIN, "");
    a.as_object_mut().unwrap().remove("text");
    a["value"] = json!({"herald": "broadcast-form", "audience": "team", "subject": "Hi",
        "body": "Hello", "send": "2026-12-01 07:00"});
    let replies = app.replies_to(&a).await;
    let card = replies[0]["attachments"][0]["content"].to_string();
    assert!(
        card.contains("is in the past") && card.contains("2026-12-01 07:00"),
        "{card}"
    );
    let none = app.tell(ADMIN, "broadcasts", "en-US").await;
    assert!(
        none.contains("No broadcasts yet"),
        "nothing recorded: {none}"
    );
    // A right time through the form schedules it.
    let mut a = app.message("1:form2", ADMIN, "");
    a.as_object_mut().unwrap().remove("text");
    a["value"] = json!({"herald": "broadcast-form", "audience": "team", "subject": "Hi",
        "body": "Hello", "send": "2026-12-01 10:00", "timezone": "UTC"});
    let replies = app.replies_to(&a).await;
    let text = replies[0]["text"].as_str().unwrap_or_default().to_string();
    assert!(
        text.contains("is scheduled for 2026-12-01 10:00 UTC (UTC)"),
        "{replies:?}"
    );
    tokio::time::sleep(QUIET).await;
    assert!(cards(&app).await.is_empty());
}

on_both_backends!(
    scheduled_for_nine_goes_at_nine_not_before,
    a_restart_in_between_still_sends_it_and_a_missed_time_goes_at_start_up,
    an_edit_before_the_time_is_what_recipients_get,
    a_delete_before_the_time_sends_nothing,
    two_instances_send_it_once,
    in_french_envoi_and_diffusion_modifier,
    bad_times_are_refused_by_name,
);
