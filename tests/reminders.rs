//! Broadcast reminders end to end: `broadcast remind` reminds exactly those whose card was
//! delivered and who have not read (or acknowledged) it; `remind: 1h` goes once, after the
//! hour, inside business hours in each recipient's zone; whoever reads between queueing and
//! sending gets nothing.

mod common;

use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

use common::*;
use herald::domain::ManualClock;
use herald::store::schema::{broadcast_acks, broadcast_messages, deliveries, users};

const ADMIN: &str = "29:boss";
const WAIT: Duration = Duration::from_secs(20);
/// Longer than the reminder job's look (2 s): long enough for a reminder that was due to go.
const QUIET: Duration = Duration::from_secs(4);

fn conversation_of(path: &str) -> String {
    let segment = path.split('/').nth(3).unwrap_or_default();
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

async fn tell(app: &TestApp, user: &str, text: &str, locale: &str) -> String {
    let mut activity = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, text);
    activity["locale"] = json!(locale);
    let replies = app.replies_to(&activity).await;
    assert_eq!(replies.len(), 1, "one reply to `{text}`");
    reply_text(&replies[0])
}

/// Installs `boss` (admin) and `n` recipients `29:u0…` on a connector that numbers what it is
/// sent.
async fn install(app: &TestApp, n: usize) {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1_700_000_000_000));
    Mock::given(method("POST"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities$"))
        .respond_with(move |_: &wiremock::Request| {
            let id = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ResponseTemplate::new(201).set_body_json(json!({ "id": id.to_string() }))
        })
        .with_priority(1)
        .mount(&app.connector)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities/[^/]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x"})))
        .mount(&app.connector)
        .await;
    assert_eq!(
        app.post_signed(&app.install("f:boss", ADMIN))
            .await
            .status(),
        200
    );
    for i in 0..n {
        let install = app.install(&format!("f:u{i}"), &format!("29:u{i}"));
        assert_eq!(app.post_signed(&install).await.status(), 200);
    }
}

/// Cards posted (not updates): (conversation, is a reminder).
async fn posted(app: &TestApp) -> Vec<(String, bool)> {
    app.sent_messages()
        .await
        .into_iter()
        .filter_map(|r| {
            let body: Value = r.body_json().ok()?;
            let content = body["attachments"][0]["content"].clone();
            let herald = content["actions"][0]["data"]["herald"].clone();
            (herald == "broadcast-read" || herald == "broadcast-ack").then(|| {
                (
                    conversation_of(r.url.path()),
                    content.to_string().contains("Reminder"),
                )
            })
        })
        .collect()
}

async fn cards(app: &TestApp) -> usize {
    posted(app).await.iter().filter(|(_, r)| !r).count()
}

/// Conversations that got a reminder, sorted (one entry per reminder).
async fn reminded(app: &TestApp) -> Vec<String> {
    let mut out: Vec<String> = posted(app)
        .await
        .into_iter()
        .filter(|(_, r)| *r)
        .map(|(c, _)| c)
        .collect();
    out.sort();
    out
}

fn convs(users: impl IntoIterator<Item = usize>) -> Vec<String> {
    let mut out: Vec<String> = users.into_iter().map(|i| format!("a:conv-u{i}")).collect();
    out.sort();
    out
}

/// Sends `options` + a standard broadcast to the `n` recipients (a list); waits for its `n` cards; returns its id.
async fn broadcast(app: &TestApp, options: &str, n: usize) -> String {
    let members: Vec<String> = (0..n).map(|i| format!("ada.u{i}@contoso.com")).collect();
    let reply = tell(
        app,
        ADMIN,
        &format!("list create team {}", members.join(" ")),
        "en-US",
    )
    .await;
    assert!(
        reply.contains(&format!("created with {n} members")),
        "{reply}"
    );
    let reply = tell(
        app,
        ADMIN,
        &format!("broadcast team\n{options}subject: Fire drill\nThe drill is at noon."),
        "en-US",
    )
    .await;
    assert!(reply.contains("is on its way"), "{reply}");
    wait_for(WAIT, "the cards", || async { cards(app).await == n }).await;
    // Posted is not yet recorded: reads and presses need the cards' delivered rows.
    app.drained("the cards recorded").await;
    app.sent_messages()
        .await
        .iter()
        .filter_map(|r| r.body_json::<Value>().ok())
        .find_map(|b| {
            b["attachments"][0]["content"]["actions"][0]["data"]["broadcast"]
                .as_str()
                .map(str::to_string)
        })
        .expect("a card")
}

async fn press_read(app: &TestApp, user: &str, broadcast: &str) {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, "");
    a.as_object_mut().unwrap().remove("text");
    a["value"] = json!({"herald": "broadcast-read", "broadcast": broadcast});
    app.replies_to(&a).await;
}

async fn read_receipt(app: &TestApp, user: &str) {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, "");
    a["type"] = json!("event");
    a["name"] = json!("application/vnd.microsoft.readReceipt");
    a.as_object_mut().unwrap().remove("text");
    a["value"] = json!({ "lastReadMessageId": "99999999999999" });
    assert_eq!(app.post_signed(&a).await.status(), 200);
}

/// The reminder sends of `user`: (status, failure).
async fn reminder_rows(app: &TestApp, user: &str) -> Vec<(String, Option<String>)> {
    let user = user.to_string();
    app.app_db
        .run(move |conn| {
            Ok(herald::run_on!(conn, |c| deliveries::table
                .inner_join(
                    broadcast_messages::table
                        .on(broadcast_messages::message_id.eq(deliveries::message_id)),
                )
                .filter(broadcast_messages::role.eq("reminder"))
                .filter(deliveries::user_id.eq(&user))
                .select((deliveries::status, deliveries::failure))
                .load::<(String, Option<String>)>(c))?)
        })
        .await
        .unwrap()
}

/// Stored user id of `29:uN`.
async fn user_ids(app: &TestApp) -> Vec<(String, String)> {
    app.app_db
        .run(|conn| {
            Ok(herald::run_on!(conn, |c| users::table
                .select((users::id, users::channel_user_id))
                .load::<(String, String)>(c))?)
        })
        .await
        .unwrap()
}

async fn id_of(app: &TestApp, teams_id: &str) -> String {
    user_ids(app)
        .await
        .into_iter()
        .find(|(_, t)| t == teams_id)
        .map(|(id, _)| id)
        .unwrap()
}

async fn ten_recipients_six_reminded_then_five(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]\n").await;
    install(&app, 10).await;
    let unknown = tell(&app, ADMIN, "broadcast remind 7", "en-US").await;
    assert!(unknown.contains("There is no broadcast"), "{unknown}");
    let bc = broadcast(&app, "", 10).await;
    press_read(&app, "29:u0", &bc).await;
    press_read(&app, "29:u1", &bc).await;
    read_receipt(&app, "29:u2").await;
    read_receipt(&app, "29:u3").await;
    let info = tell(&app, ADMIN, "broadcast info 1", "en-US").await;
    assert!(
        info.contains("Read: 4 (2 by button, 2 by read receipt)"),
        "{info}"
    );
    let reply = tell(&app, ADMIN, "broadcast remind 1", "en-US").await;
    assert!(
        reply.contains("Reminder 1 of broadcast **#1** is on its way to 6 people"),
        "{reply}"
    );
    wait_for(WAIT, "6 reminders", || async {
        reminded(&app).await.len() == 6
    })
    .await;
    assert_eq!(reminded(&app).await, convs(4..10));
    app.drained("the reminders sent").await;
    press_read(&app, "29:u4", &bc).await;
    // A French admin asks in French and is answered in French.
    let reply = tell(&app, ADMIN, "diffusion relancer 1", "fr-FR").await;
    assert!(
        reply.contains("La relance 2 de la diffusion **#1** part vers 5 personnes"),
        "{reply}"
    );
    wait_for(WAIT, "11 reminders", || async {
        reminded(&app).await.len() == 11
    })
    .await;
    let mut expected = convs(4..10);
    expected.extend(convs(5..10));
    expected.sort();
    assert_eq!(
        reminded(&app).await,
        expected,
        "nobody who read is reminded"
    );
    app.drained("the second reminders sent").await;
    assert_eq!(cards(&app).await, 10, "the broadcast's own cards went once");
    let info = tell(&app, ADMIN, "broadcast info 1", "en-US").await;
    assert!(info.contains("Reminders: 2 rounds, 11 delivered"), "{info}");
    assert!(
        info.contains("Read after their first reminder: 1."),
        "{info}"
    );
    assert!(
        info.contains("delivered: 10 · pending: 0 · failed: 0"),
        "{info}"
    );
    for i in 5..10 {
        press_read(&app, &format!("29:u{i}"), &bc).await;
    }
    let reply = tell(&app, ADMIN, "broadcast remind 1", "en-US").await;
    assert!(
        reply.contains("has read it: nobody was reminded"),
        "{reply}"
    );
    let first = app
        .app_db
        .run(move |conn| herald::store::broadcasts::remind::first_reminders(conn, &bc))
        .await
        .unwrap();
    assert_eq!(first.len(), 6);
}

/// Friday 4 December 2026 at `h:m` UTC.
fn friday(h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, h, m, 0).unwrap()
}

async fn remind_after_an_hour_goes_once(backend: Backend) {
    let app = spawn_app_on_clock(
        backend,
        "admins = [\"aad-boss\"]\n",
        ManualClock::new(friday(10, 0)),
    )
    .await;
    install(&app, 10).await;
    let bc = broadcast(&app, "remind: 1h\n", 10).await;
    press_read(&app, "29:u0", &bc).await;
    app.advance(TimeDelta::minutes(59));
    tokio::time::sleep(QUIET).await;
    assert!(reminded(&app).await.is_empty(), "nothing before the hour");
    app.advance(TimeDelta::minutes(2));
    wait_for(WAIT, "9 reminders", || async {
        reminded(&app).await.len() == 9
    })
    .await;
    assert_eq!(reminded(&app).await, convs(1..10));
    app.advance(TimeDelta::minutes(30));
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        reminded(&app).await.len(),
        9,
        "the automatic reminder goes once"
    );
    let info = tell(&app, ADMIN, "broadcast info 1", "en-US").await;
    assert!(info.contains("Reminders: 1 round, 9 delivered"), "{info}");
    assert!(info.contains("(automatic), 9 queued"), "{info}");
}

async fn outside_business_hours_it_waits_and_skips_new_readers(backend: Backend) {
    // Business hours Mon-Fri 09:00-18:00 (the default); the default zone is UTC.
    let app = spawn_app_on_clock(
        backend,
        "admins = [\"aad-boss\"]\n",
        ManualClock::new(friday(16, 30)),
    )
    .await;
    install(&app, 10).await;
    // u0…u4 are in Paris (one hour ahead); the others' zone is unknown.
    let ids = user_ids(&app).await;
    let paris: Vec<String> = ids
        .iter()
        .filter(|(_, t)| ["29:u0", "29:u1", "29:u2", "29:u3", "29:u4"].contains(&t.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    app.app_db
        .run(move |conn| {
            herald::run_on!(conn, |c| diesel::update(users::table)
                .set(users::time_zone.eq(None::<String>))
                .execute(c))?;
            herald::run_on!(conn, |c| diesel::update(
                users::table.filter(users::id.eq_any(&paris))
            )
            .set(users::time_zone.eq("Europe/Paris"))
            .execute(c))?;
            Ok(())
        })
        .await
        .unwrap();
    let bc = broadcast(&app, "remind: 1h\n", 10).await;
    // 17:31 UTC: open in UTC, 18:31 in Paris (closed until Monday 09:00, 08:00 UTC).
    app.advance(TimeDelta::minutes(61));
    wait_for(WAIT, "5 reminders", || async {
        reminded(&app).await.len() == 5
    })
    .await;
    assert_eq!(reminded(&app).await, convs(5..10));
    // u0 reads between the queueing and the sending of their reminder.
    press_read(&app, "29:u0", &bc).await;
    // Reminded again by hand meanwhile: u1…u4's reminders are still on their way, so only
    // u5…u9 get a second one.
    let reply = tell(&app, ADMIN, "broadcast remind 1", "en-US").await;
    assert!(reply.contains("on its way to 5 people"), "{reply}");
    wait_for(WAIT, "10 reminders", || async {
        reminded(&app).await.len() == 10
    })
    .await;
    let monday = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
    app.manual
        .as_ref()
        .unwrap()
        .set(monday - TimeDelta::minutes(1));
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        reminded(&app).await.len(),
        10,
        "nothing before Monday's opening in Paris"
    );
    app.manual.as_ref().unwrap().set(monday);
    wait_for(WAIT, "14 reminders", || async {
        reminded(&app).await.len() == 14
    })
    .await;
    app.drained("every reminder decided").await;
    let mut expected = convs(1..10);
    expected.extend(convs(5..10));
    expected.sort();
    assert_eq!(
        reminded(&app).await,
        expected,
        "u0 read meanwhile: not reminded"
    );
    let u0 = id_of(&app, "29:u0").await;
    assert_eq!(
        reminder_rows(&app, &u0).await,
        vec![("failed".to_string(), Some("reminder_settled".to_string()))]
    );
    let info = tell(&app, ADMIN, "broadcast info 1", "en-US").await;
    assert!(
        info.contains("delivered: 10 · pending: 0 · failed: 0"),
        "{info}"
    );
    assert!(info.contains("Reminders: 2 rounds, 14 delivered"), "{info}");
}

async fn ack_broadcast_reminds_those_who_have_not_acknowledged(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]\n").await;
    install(&app, 10).await;
    let bc = broadcast(&app, "ack: yes\n", 10).await;
    // Reading is not acknowledging: u0 and u1 are still reminded.
    press_read(&app, "29:u0", &bc).await;
    press_read(&app, "29:u1", &bc).await;
    // Acknowledged with the card's button (an `adaptiveCard/action` invoke).
    for u in ["29:u2", "29:u3", "29:u4"] {
        let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), u, "");
        a["type"] = json!("invoke");
        a["name"] = json!("adaptiveCard/action");
        a.as_object_mut().unwrap().remove("text");
        a["value"] = json!({"action": {"type": "Action.Execute", "verb": "ack",
            "data": {"herald": "broadcast-ack", "broadcast": bc}}, "trigger": "manual"});
        let response = app.post_signed(&a).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["statusCode"], 200, "{body}");
    }
    let id = bc.clone();
    let acks: i64 = app
        .app_db
        .run(move |conn| {
            Ok(herald::run_on!(conn, |c| broadcast_acks::table
                .filter(broadcast_acks::broadcast_id.eq(&id))
                .count()
                .get_result(c))?)
        })
        .await
        .unwrap();
    assert_eq!(acks, 3);
    let reply = tell(&app, ADMIN, "broadcast remind 1", "en-US").await;
    assert!(reply.contains("on its way to 7 people"), "{reply}");
    wait_for(WAIT, "7 reminders", || async {
        reminded(&app).await.len() == 7
    })
    .await;
    let mut expected = convs(0..2);
    expected.extend(convs(5..10));
    expected.sort();
    assert_eq!(reminded(&app).await, expected);
}

/// A recall takes the reminders with the cards: every card and every reminder delivered is
/// deleted from the chats.
async fn a_recall_deletes_the_reminders_too(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]\n").await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities/[^/]+$"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&app.connector)
        .await;
    install(&app, 4).await;
    let bc = broadcast(&app, "", 4).await;
    press_read(&app, "29:u0", &bc).await;
    let reply = tell(&app, ADMIN, "broadcast remind 1", "en-US").await;
    assert!(reply.contains("on its way to 3 people"), "{reply}");
    wait_for(WAIT, "3 reminders", || async {
        reminded(&app).await.len() == 3
    })
    .await;
    wait_drained(&app.app_db, "the reminders recorded").await;
    let reply = tell(&app, ADMIN, "broadcast delete 1", "en-US").await;
    assert!(reply.contains("from 4 chat"), "{reply}");
    wait_for(WAIT, "7 deletes", || async {
        app.connector_requests("DELETE", "").await.len() == 7
    })
    .await;
    let mut deleted: Vec<String> = app
        .connector_requests("DELETE", "")
        .await
        .iter()
        .map(|r| conversation_of(r.url.path()))
        .collect();
    deleted.sort();
    let mut expected = convs(0..4);
    expected.extend(convs(1..4));
    expected.sort();
    assert_eq!(deleted, expected);
    tokio::time::sleep(QUIET).await;
    assert_eq!(app.connector_requests("DELETE", "").await.len(), 7);
}

on_both_backends!(
    a_recall_deletes_the_reminders_too,
    ten_recipients_six_reminded_then_five,
    remind_after_an_hour_goes_once,
    outside_business_hours_it_waits_and_skips_new_readers,
    ack_broadcast_reminds_those_who_have_not_acknowledged,
);
