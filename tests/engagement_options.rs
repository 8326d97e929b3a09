//! A broadcast's engagement options, typed and through the form: `remind:`, `ack:`,
//! `choices:` (and their French names) reach the card recipients get, and each mistake is named
//! without anything being sent.

mod common;

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

use common::*;

const ADMIN: &str = "29:boss";
const WAIT: Duration = Duration::from_secs(20);

/// herald with `boss` as admin and two installed recipients, `29:u0` and `29:u1` (the admin is installed too).
async fn setup(backend: Backend) -> TestApp {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]\n").await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities$"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "1700000000001"})))
        .with_priority(1)
        .mount(&app.connector)
        .await;
    for who in ["boss", "u0", "u1"] {
        let install = app.install(&format!("f:{who}"), &format!("29:{who}"));
        assert_eq!(app.post_signed(&install).await.status(), 200);
    }
    app
}

/// The broadcast cards the connector received.
async fn cards(app: &TestApp) -> Vec<Value> {
    app.sent_messages()
        .await
        .into_iter()
        .filter_map(|r| r.body_json::<Value>().ok())
        .filter(|b| b["attachments"][0]["content"]["body"].is_array() && b["replyToId"].is_null())
        .collect()
}

async fn press(app: &TestApp, value: Value) -> Vec<Value> {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), ADMIN, "");
    a.as_object_mut().unwrap().remove("text");
    a["value"] = value;
    app.replies_to(&a).await
}

/// Every `Action.Execute` of a card (top-level first, then those of its action sets), as
/// (verb, data).
fn executes(card: &Value) -> Vec<(String, Value)> {
    let content = &card["attachments"][0]["content"];
    let mut all: Vec<Value> = content["actions"].as_array().cloned().unwrap_or_default();
    for block in content["body"].as_array().into_iter().flatten() {
        if block["type"] == "ActionSet" {
            all.extend(block["actions"].as_array().cloned().unwrap_or_default());
        }
    }
    all.into_iter()
        .filter(|a| a["type"] == "Action.Execute")
        .map(|a| {
            (
                a["verb"].as_str().unwrap_or_default().to_string(),
                a["data"].clone(),
            )
        })
        .collect()
}

async fn typed_options_reach_the_card(backend: Backend) {
    let app = setup(backend).await;
    let reply = app
        .tell(
            ADMIN,
            "diffusion tous\nrelance : 24h\naccusé : oui\nchoix : Oui | Non | Peut-être\nsujet: Astreinte\nVos disponibilités ?",
            "fr-FR",
        )
        .await;
    assert!(reply.contains("en route vers 3 personnes"), "{reply}");
    wait_for(WAIT, "3 cards", || async { cards(&app).await.len() == 3 }).await;
    let card = &cards(&app).await[0];
    let actions = executes(card);
    let verbs: Vec<&str> = actions.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(verbs, ["ack", "choose", "choose", "choose"], "{card}");
    assert_eq!(actions[0].1["herald"], "broadcast-ack");
    assert_eq!(actions[3].1["choice"], 2);
    // With an acknowledgement asked, it replaces **Mark as read**.
    let text = card["attachments"][0]["content"].to_string();
    assert!(!text.contains("broadcast-read"), "{text}");
    let info = app.tell(ADMIN, "broadcast info 1", "en-US").await;
    assert!(info.contains("Broadcast **#1**"), "{info}");
}

async fn mistakes_in_options_are_named_and_nothing_is_sent(backend: Backend) {
    let app = setup(backend).await;
    let reply = app
        .tell(
            ADMIN,
            "broadcast all\nremind: soon\nack: perhaps\nchoices: Yes\nsubject: S\nBody",
            "en-US",
        )
        .await;
    assert!(reply.contains("The broadcast was not sent"), "{reply}");
    assert!(reply.contains("remind:"), "{reply}");
    assert!(reply.contains("ack:"), "{reply}");
    assert!(
        reply.contains("1 choice is given; a poll has 2 to 6"),
        "{reply}"
    );
    let reply = app
        .tell(
            ADMIN,
            "diffusion tous\nchoix: Oui | oui\nsujet: S\nCorps",
            "fr-FR",
        )
        .await;
    assert!(
        reply.contains("le choix `oui` est donné deux fois"),
        "{reply}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(cards(&app).await.is_empty());
    let list = app.tell(ADMIN, "broadcasts", "en-US").await;
    assert!(list.contains("No broadcasts yet"), "{list}");
}

async fn the_form_takes_the_options(backend: Backend) {
    let app = setup(backend).await;
    let mut a = app.message("1:form", ADMIN, "broadcast");
    a["locale"] = json!("en-US");
    let form = app.replies_to(&a).await;
    let body = form[0]["attachments"][0]["content"]["body"].to_string();
    for id in ["\"remind\"", "\"ack\"", "\"choices\""] {
        assert!(body.contains(id), "{id} in {body}");
    }
    let again = press(
        &app,
        json!({"herald": "broadcast-form", "audience": "all", "subject": "Hi", "body": "Hello",
               "remind": "tomorrow", "choices": "A | B"}),
    )
    .await;
    let shown = again[0]["attachments"][0]["content"].to_string();
    assert!(
        shown.contains("remind") && shown.contains("tomorrow"),
        "{shown}"
    );
    assert!(cards(&app).await.is_empty());
    let done = press(
        &app,
        json!({"herald": "broadcast-form", "audience": "all", "subject": "Hi", "body": "Hello",
               "remind": "2h", "ack": "yes", "choices": "A | B"}),
    )
    .await;
    assert!(
        reply_text(&done[0]).contains("is on its way to 3 people"),
        "{done:?}"
    );
    wait_for(WAIT, "3 cards", || async { cards(&app).await.len() == 3 }).await;
    let verbs: Vec<String> = executes(&cards(&app).await[0])
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    assert_eq!(verbs, ["ack", "choose", "choose"]);
}

on_both_backends!(
    typed_options_reach_the_card,
    mistakes_in_options_are_named_and_nothing_is_sent,
    the_form_takes_the_options,
);
