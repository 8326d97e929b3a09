//! Self-repair: a send answered 404 `ConversationNotFound` (the chat was deleted) or 403
//! `BotNotInConversationRoster` opens the 1:1 chat again through the connector, records it, and
//! sends once more; a recipient whose chat cannot be opened again ends not installed. Nobody
//! drops out silently.

mod common;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

use common::*;
use herald::store::deliveries::{self, Delivery};
use herald::store::{campaigns, users};

on_both_backends!(
    a_deleted_chat_is_opened_again_and_the_message_delivered,
    a_card_update_in_a_deleted_chat_fails_without_a_repair,
);

const ADMIN: &str = "29:boss";
const SETTINGS: &str =
    "admins = [\"aad-boss\"]\n[delivery]\nretry_base = \"50ms\"\nretry_max = \"200ms\"\n";
const WAIT: Duration = Duration::from_secs(30);

async fn setup(backend: Backend, users: usize) -> TestApp {
    let clock = herald::domain::ManualClock::new(Utc::now());
    let app = spawn_app_on_clock(backend, SETTINGS, clock).await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    for i in 0..users {
        app.post_signed(&app.install(&format!("f:u{i}"), &format!("29:u{i}")))
            .await;
    }
    app
}

/// Records the sends to `conversation` (as stored, e.g. `a:conv-u0`), answered by `respond`.
async fn sends_to<F>(app: &TestApp, conversation: &str, respond: F) -> Received
where
    F: Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
{
    let encoded = conversation.replace(':', "%3A");
    record_posts(
        &app.connector,
        &format!("^/v3/conversations/{encoded}/activities$"),
        respond,
    )
    .await
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"error": {
        "code": "ConversationNotFound", "message": "Conversation not found."}}))
}

fn out_of_roster() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({"error": {
        "code": "BotNotInConversationRoster", "message": "The bot is not part of the conversation roster."}}))
}

/// `POST /v3/conversations`: 29:u0 gets `a:new-u0`; anyone else is refused (403), as Teams
/// answers for a user who removed the app.
async fn reopening(app: &TestApp) {
    Mock::given(method("POST"))
        .and(path("/v3/conversations"))
        .respond_with(|r: &Request| {
            let body: Value = r.body_json().unwrap();
            let member = body["members"][0]["id"].as_str().unwrap_or_default();
            if member == "29:u0" {
                ResponseTemplate::new(200).set_body_json(json!({"id": "a:new-u0"}))
            } else {
                ResponseTemplate::new(403).set_body_json(json!({"error": {
                    "code": "Forbidden", "message": "The app is not installed for this user."}}))
            }
        })
        .mount(&app.connector)
        .await;
}

async fn user(app: &TestApp, channel_user: &str) -> users::User {
    let channel_user = channel_user.to_string();
    app.app_db
        .run(move |conn| {
            Ok(users::list(conn)?
                .into_iter()
                .find(|u| u.channel_user_id == channel_user))
        })
        .await
        .unwrap()
        .unwrap()
}

async fn deliveries_of(app: &TestApp, message: &str) -> Vec<Delivery> {
    let message = message.to_string();
    app.app_db
        .run(move |conn| deliveries::of_message(conn, &message))
        .await
        .unwrap()
}

/// The facts of the card the admin gets for `text`.
async fn card_facts(app: &TestApp, text: &str) -> Vec<(String, String)> {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), ADMIN, text);
    a["locale"] = json!("en-US");
    let reply = app.replies_to(&a).await.pop().expect("a reply");
    let content = &reply["attachments"][0]["content"];
    content["body"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "FactSet")
        .unwrap()["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["title"].as_str().unwrap().to_string(),
                f["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn a_deleted_chat_is_opened_again_and_the_message_delivered(backend: Backend) {
    let app = setup(backend, 3).await;
    let deleted = sends_to(&app, "a:conv-u0", |_| not_found()).await;
    let repaired = sends_to(&app, "a:new-u0", |_| sent()).await;
    let removed = sends_to(&app, "a:conv-u1", |_| out_of_roster()).await;
    let fine = sends_to(&app, "a:conv-u2", |_| sent()).await;
    reopening(&app).await;
    app.tell(
        ADMIN,
        "list create trio ada.u0@contoso.com ada.u1@contoso.com ada.u2@contoso.com",
        "en-US",
    )
    .await;
    let start = app.now() + TimeDelta::minutes(2);
    let reply = app
        .tell(
            ADMIN,
            &format!(
                "campaign create mend\nlist: trio\nstart: {}\nduration: 1h\nhours: always\n\
                 timezone: UTC\npresence: any\nmessage:\nHello [FIRSTNAME]",
                start.format("%Y-%m-%d %H:%M")
            ),
            "en-US",
        )
        .await;
    assert!(reply.starts_with("Campaign **mend** scheduled."), "{reply}");
    // Past the whole window: every recipient is due.
    app.advance(TimeDelta::hours(2));
    app.engine.wake();
    let c = app
        .app_db
        .run(|conn| campaigns::find(conn, TENANT, "mend"))
        .await
        .unwrap()
        .unwrap();
    let id = c.id.clone();
    wait_for(WAIT, "three deliveries ended", || {
        let app = &app;
        let id = id.clone();
        async move {
            let rows = deliveries_of(app, &id).await;
            rows.len() == 3 && rows.iter().all(|d| d.status != "pending")
        }
    })
    .await;
    app.drained("nothing left to send").await;

    let rows = deliveries_of(&app, &c.id).await;
    let u0 = user(&app, "29:u0").await;
    let u1 = user(&app, "29:u1").await;
    let u2 = user(&app, "29:u2").await;
    let row = |u: &users::User| rows.iter().find(|d| d.user_id == u.id).unwrap().clone();
    // u0's chat was deleted: opened again, recorded, and the message sent there, once.
    assert_eq!(row(&u0).status, "delivered", "{:?}", row(&u0));
    assert_eq!(u0.conversation_id, "a:new-u0");
    assert!(u0.installed);
    assert_eq!(deleted.len(), 1);
    assert_eq!(repaired.len(), 1);
    // u1 removed the app: opening the chat again is refused, so they are not installed.
    let r1 = row(&u1);
    assert_eq!(r1.status, "failed");
    assert_eq!(r1.failure.as_deref(), Some("not_installed"));
    assert!(
        r1.last_error
            .as_deref()
            .unwrap()
            .contains("BotNotInConversationRoster"),
        "{r1:?}"
    );
    assert!(!u1.installed);
    assert_eq!(u1.conversation_id, "a:conv-u1");
    assert_eq!(removed.len(), 1, "no send after the refusal");
    // u2 was never in trouble.
    assert_eq!(row(&u2).status, "delivered");
    assert_eq!(fine.len(), 1);
    // The reopening request named the user, the tenant and the bot.
    let opened = app.connector_requests("POST", "/v3/conversations").await;
    assert_eq!(opened.len(), 2);
    for r in &opened {
        let body: Value = r.body_json().unwrap();
        assert_eq!(body["tenantId"], TENANT);
        assert_eq!(body["bot"]["id"], format!("28:{}", tokens::APP_ID));
        assert_eq!(body["isGroup"], false);
    }
    // The repair is counted on the delivery and in the report.
    let repairs: Vec<i32> = {
        let id = c.id.clone();
        app.app_db
            .run(move |conn| {
                use diesel::prelude::*;
                use herald::store::schema::deliveries as d;
                Ok(herald::run_on!(conn, |x| d::table
                    .filter(d::message_id.eq(&id))
                    .order(d::id)
                    .select(d::repairs)
                    .load::<i32>(x))?)
            })
            .await
            .unwrap()
    };
    assert_eq!(repairs.iter().sum::<i32>(), 1, "{repairs:?}");
    let facts = card_facts(&app, "campaign report mend").await;
    let fact = |t: &str| facts.iter().find(|f| f.0 == t).unwrap().1.clone();
    assert_eq!(fact("Chats repaired"), "1", "{facts:?}");
    assert_eq!(fact("Delivered"), "2", "{facts:?}");
    assert_eq!(fact("Failed"), "1 not_installed", "{facts:?}");

    // The next message goes straight to the repaired chat.
    let next = app
        .engine
        .enqueue(
            TENANT,
            herald::domain::delivery::MessageKind::Notice,
            json!({"type": "message", "text": "again"}),
            due_now(std::slice::from_ref(&u0.id))
                .into_iter()
                .map(|mut n| {
                    n.due = app.now();
                    n
                })
                .collect(),
        )
        .await
        .unwrap();
    wait_for(WAIT, "the next message delivered", || {
        let app = &app;
        let next = next.clone();
        async move { deliveries_of(app, &next).await[0].status == "delivered" }
    })
    .await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(repaired.len(), 2);
}

async fn a_card_update_in_a_deleted_chat_fails_without_a_repair(backend: Backend) {
    let app = setup(backend, 1).await;
    reopening(&app).await;
    let u0 = user(&app, "29:u0").await;
    let updates = app
        .connector
        .received_requests()
        .await
        .unwrap_or_default()
        .len();
    Mock::given(method("PUT"))
        .respond_with(not_found())
        .mount(&app.connector)
        .await;
    let id = app
        .engine
        .enqueue(
            TENANT,
            herald::domain::delivery::MessageKind::Notice,
            json!({"type": "message", "text": "read"}),
            vec![deliveries::NewDelivery {
                user_id: u0.id.clone(),
                operation: deliveries::Operation::Update,
                target_activity_id: Some("1:old".into()),
                due: app.now(),
                planned: None,
            }],
        )
        .await
        .unwrap();
    wait_for(WAIT, "the update ended", || {
        let app = &app;
        let id = id.clone();
        async move { deliveries_of(app, &id).await[0].status != "pending" }
    })
    .await;
    let d = deliveries_of(&app, &id).await.remove(0);
    assert_eq!(d.status, "failed");
    assert_eq!(d.failure.as_deref(), Some("chat_gone"));
    assert!(
        d.last_error
            .as_deref()
            .unwrap()
            .contains("ConversationNotFound")
    );
    // No chat opened again, and the user keeps herald.
    assert!(
        app.connector_requests("POST", "/v3/conversations")
            .await
            .is_empty()
    );
    assert!(user(&app, "29:u0").await.installed);
    let after = app.connector.received_requests().await.unwrap_or_default();
    assert_eq!(after.len(), updates + 1, "one PUT, nothing else");
}
