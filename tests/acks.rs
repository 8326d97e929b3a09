//! Acknowledgements end to end (`ack: yes`): the recipient presses **I have read and
//! understood** (an `adaptiveCard/action` invoke) and gets the card back showing when; it
//! counts once, is a read, and `broadcast info` says who has not acknowledged. Presses that
//! are not the recipient's are refused and record nothing.

mod common;

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

use common::*;

const ADMIN: &str = "29:boss";
const WAIT: Duration = Duration::from_secs(20);
const ADAPTIVE: &str = "application/vnd.microsoft.card.adaptive";

/// herald with `boss` as admin, `n` installed recipients `29:u0…` in the list `staff`, and a
/// connector that accepts sends, updates and deletes.
async fn setup(backend: Backend, n: usize) -> TestApp {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]\n").await;
    Mock::given(method("PUT"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities/[^/]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x"})))
        .mount(&app.connector)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities/[^/]+$"))
        .respond_with(ResponseTemplate::new(200))
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
    let members: Vec<String> = (0..n).map(|i| format!("ada.u{i}@contoso.com")).collect();
    let reply = app
        .tell(
            ADMIN,
            &format!("list create staff {}", members.join(" ")),
            "en-US",
        )
        .await;
    assert!(
        reply.contains(&format!("created with {n} members")),
        "{reply}"
    );
    app
}

/// The cards with `subject` the connector received, as JSON.
async fn cards(app: &TestApp, subject: &str) -> Vec<Value> {
    app.sent_messages()
        .await
        .into_iter()
        .filter_map(|r| r.body_json::<Value>().ok())
        .filter(|b| b["summary"] == subject)
        .collect()
}

/// Sends `command` as the admin and waits for its `n` cards; returns the broadcast's id.
async fn broadcast(app: &TestApp, command: &str, subject: &str, n: usize) -> String {
    let reply = app.tell(ADMIN, command, "en-US").await;
    assert!(reply.contains("is on its way"), "{reply}");
    wait_for(WAIT, "the cards", || async {
        cards(app, subject).await.len() == n
    })
    .await;
    // Posted is not yet recorded: presses and receipts need the cards' delivered rows.
    app.drained("the cards recorded").await;
    let card = cards(app, subject).await[0]["attachments"][0]["content"].to_string();
    let at = card
        .find("\"broadcast\":\"")
        .expect("the broadcast's id on the card")
        + 13;
    card[at..at + 36].to_string()
}

/// `user` presses the ack action of `broadcast` (with `data` as the card carries it, or
/// forged); returns the invoke response's body.
async fn invoke(app: &TestApp, user: &str, data: Value) -> Value {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, "");
    a.as_object_mut().unwrap().remove("text");
    a["type"] = json!("invoke");
    a["name"] = json!("adaptiveCard/action");
    a["value"] = json!({"action": {"type": "Action.Execute", "verb": "ack", "data": data}, "trigger": "manual"});
    send(app, &a).await
}

async fn send(app: &TestApp, activity: &Value) -> Value {
    let response = app.post_signed(activity).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("an invoke response")
}

fn ack(broadcast: &str) -> Value {
    json!({"herald": "broadcast-ack", "broadcast": broadcast})
}

/// When each recipient acknowledged, as stored.
async fn acks(app: &TestApp, broadcast: &str) -> Vec<(String, chrono::NaiveDateTime)> {
    let id = broadcast.to_string();
    let mut rows: Vec<_> = app
        .app_db
        .run(move |c| herald::store::broadcasts::acks::acked_at_by_user(c, &id))
        .await
        .unwrap()
        .into_iter()
        .collect();
    rows.sort();
    rows
}

async fn info(app: &TestApp) -> String {
    app.tell(ADMIN, "broadcast info 1", "en-US").await
}

/// The times a press between `before` and now shows in Paris (the test client's zone).
fn paris_minutes(before: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    let tz: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    [before, chrono::Utc::now()]
        .iter()
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .collect()
}

fn refused(body: &Value, code: &str) {
    assert_eq!(body["statusCode"], 400, "{body}");
    assert_eq!(body["type"], "application/vnd.microsoft.error", "{body}");
    assert_eq!(body["value"]["code"], code, "{body}");
}

async fn acknowledging_returns_the_card_and_counts_once(backend: Backend) {
    let app = setup(backend, 4).await;
    let id = broadcast(
        &app,
        "broadcast staff\nack: yes\nsubject: New policy\nPlease read https://example.com/policy",
        "New policy",
        4,
    )
    .await;
    let sent = cards(&app, "New policy").await[0]["attachments"][0]["content"].to_string();
    assert!(
        sent.contains("I have read and understood") && !sent.contains("Mark as read"),
        "{sent}"
    );
    let before = chrono::Utc::now();
    let body = invoke(&app, "29:u0", ack(&id)).await;
    assert_eq!(body["statusCode"], 200, "{body}");
    assert_eq!(body["type"], ADAPTIVE, "{body}");
    assert_eq!(body["value"]["type"], "AdaptiveCard", "{body}");
    let card = body["value"].to_string();
    assert!(
        paris_minutes(before)
            .iter()
            .any(|at| card.contains(&format!("✓ Read and understood on {at}"))),
        "{card}"
    );
    assert!(!card.contains("I have read and understood"), "{card}");
    assert!(card.contains("New policy") && card.contains("https://example.com/policy"));
    let first = acks(&app, &id).await;
    assert_eq!(first.len(), 1);
    // A second press keeps the first time and counts once.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let again = invoke(&app, "29:u0", ack(&id)).await;
    assert_eq!(again["statusCode"], 200, "{again}");
    assert_eq!(acks(&app, &id).await, first);
    // The acknowledgement was a read; a later read receipt finds it read and updates nothing.
    let mut receipt = app.message(&format!("1:{}", uuid::Uuid::new_v4()), "29:u0", "");
    receipt.as_object_mut().unwrap().remove("text");
    receipt["type"] = json!("event");
    receipt["name"] = json!("application/vnd.microsoft.readReceipt");
    receipt["value"] = json!({"lastReadMessageId": "99999999999999"});
    assert_eq!(app.post_signed(&receipt).await.status(), 200);
    app.drained("nothing left to send").await;
    // (The admin's own chat holds the live progress card, updated on its own cadence.)
    let card_updates = app.connector_requests("PUT", "").await;
    assert!(
        card_updates
            .iter()
            .all(|r| r.url.path().contains("conv-boss")),
        "no recipient's card updated"
    );
    let info = info(&app).await;
    assert!(info.contains("Acknowledged: 1 of 4"), "{info}");
    assert!(
        info.contains("Read: 1 (1 by button, 0 by read receipt)"),
        "{info}"
    );
    let lower = info.to_lowercase();
    assert!(lower.contains("not acknowledged yet (3)"), "{info}");
    let line = lower
        .lines()
        .find(|l| l.contains("not acknowledged yet"))
        .unwrap()
        .to_string();
    for i in 1..4 {
        assert!(line.contains(&format!("ada.u{i}@contoso.com")), "{line}");
    }
    assert!(!line.contains("ada.u0@"), "{line}");
}

async fn presses_not_the_recipients_are_refused_and_record_nothing(backend: Backend) {
    let app = setup(backend, 3).await;
    let id = broadcast(
        &app,
        "broadcast staff\nack: yes\nsubject: New policy\nPlease read it.",
        "New policy",
        3,
    )
    .await;
    // The admin did not get it.
    refused(&invoke(&app, ADMIN, ack(&id)).await, "NotARecipient");
    // The same person, from another tenant.
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), "29:u1", "");
    a.as_object_mut().unwrap().remove("text");
    a["type"] = json!("invoke");
    a["name"] = json!("adaptiveCard/action");
    a["conversation"]["tenantId"] = json!("tenant-fabrikam");
    a["channelData"]["tenant"]["id"] = json!("tenant-fabrikam");
    a["value"] = json!({"action": {"type": "Action.Execute", "verb": "ack", "data": ack(&id)}});
    refused(&send(&app, &a).await, "NotARecipient");
    // No broadcast, or one that does not exist.
    refused(
        &invoke(&app, "29:u1", json!({"herald": "broadcast-ack"})).await,
        "NotARecipient",
    );
    refused(
        &invoke(&app, "29:u1", ack("0190a0a0-0000-7000-8000-000000000000")).await,
        "NotARecipient",
    );
    // A broadcast that does not ask for an acknowledgement.
    let plain = broadcast(&app, "broadcast staff\nsubject: Lunch\nPizza.", "Lunch", 3).await;
    let body = invoke(&app, "29:u1", ack(&plain)).await;
    refused(&body, "NotAsked");
    assert!(
        body["value"]["message"]
            .as_str()
            .unwrap()
            .contains("does not ask for an acknowledgement"),
        "{body}"
    );
    // Recalled: the card is refused, saying so.
    app.tell(ADMIN, "broadcast delete 1", "en-US").await;
    let body = invoke(&app, "29:u2", ack(&id)).await;
    refused(&body, "Recalled");
    assert!(
        body["value"]["message"]
            .as_str()
            .unwrap()
            .contains("recalled"),
        "{body}"
    );
    assert!(acks(&app, &id).await.is_empty());
    assert!(acks(&app, &plain).await.is_empty());
    let info = info(&app).await;
    assert!(info.contains("Acknowledged: 0 of 3"), "{info}");
    assert!(info.contains("Read: 0 "), "{info}");
}

/// A read receipt's card update still waiting (Teams said 429, retry in a minute) would
/// bring the acknowledgement button back over the acknowledged card: acknowledging stops it.
async fn acknowledging_stops_a_read_update_still_waiting(backend: Backend) {
    let app = setup(backend, 2).await;
    Mock::given(method("PUT"))
        .and(path_regex(r"conv-u1/activities/[^/]+$"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "60"))
        .with_priority(1)
        .mount(&app.connector)
        .await;
    // Teams-like numeric ids, so that a read receipt covers the card.
    Mock::given(method("POST"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities$"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "1700000000001"})))
        .with_priority(1)
        .mount(&app.connector)
        .await;
    let id = broadcast(
        &app,
        "broadcast staff\nack: yes\nsubject: Badge\nWear it.",
        "Badge",
        2,
    )
    .await;
    let mut receipt = app.message(&format!("1:{}", uuid::Uuid::new_v4()), "29:u1", "");
    receipt.as_object_mut().unwrap().remove("text");
    receipt["type"] = json!("event");
    receipt["name"] = json!("application/vnd.microsoft.readReceipt");
    receipt["value"] = json!({"lastReadMessageId": "99999999999999"});
    assert_eq!(app.post_signed(&receipt).await.status(), 200);
    wait_for(WAIT, "the update refused once", || async {
        app.connector_requests("PUT", "")
            .await
            .iter()
            .any(|r| !r.url.path().contains("conv-boss"))
    })
    .await;
    let updates = || async {
        app.app_db
            .run(|conn| {
                use diesel::prelude::*;
                use herald::store::schema::deliveries as d;
                Ok(herald::run_on!(conn, |c| d::table
                    .filter(d::operation.eq("update"))
                    .select((d::status, d::failure, d::leased_by))
                    .load::<(String, Option<String>, Option<String>)>(c))?)
            })
            .await
            .unwrap()
    };
    wait_for(WAIT, "the update waiting for its retry", || async {
        // Back in the queue, no longer held by the dispatcher.
        updates()
            .await
            .iter()
            .any(|(s, _, held)| s == "pending" && held.is_none())
    })
    .await;
    let body = invoke(&app, "29:u1", ack(&id)).await;
    assert_eq!(body["statusCode"], 200, "{body}");
    let rows: Vec<_> = updates()
        .await
        .into_iter()
        .map(|(s, f, _)| (s, f))
        .collect();
    assert_eq!(
        rows,
        vec![("failed".to_string(), Some("superseded".to_string()))],
        "{rows:?}"
    );
}

on_both_backends!(
    acknowledging_stops_a_read_update_still_waiting,
    acknowledging_returns_the_card_and_counts_once,
    presses_not_the_recipients_are_refused_and_record_nothing,
);
