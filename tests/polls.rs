//! Polls end to end (`choices: A | B | C`): recipients press a choice (an `adaptiveCard/action`
//! invoke) and get their card back showing it; a person's latest choice counts; a choice not
//! on the card is refused and changes nothing; `broadcast info` gives the tally. In French too,
//! with acknowledgements.

mod common;

use std::time::Duration;

use serde_json::{Value, json};

use common::*;

const ADMIN: &str = "29:boss";
const WAIT: Duration = Duration::from_secs(20);
const ADAPTIVE: &str = "application/vnd.microsoft.card.adaptive";

/// herald with `boss` as admin and installed recipients `29:u0…` (each in its locale) in the
/// list `staff`.
async fn setup(backend: Backend, locales: &[&str]) -> TestApp {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]\n").await;
    assert_eq!(
        app.post_signed(&app.install("f:boss", ADMIN))
            .await
            .status(),
        200
    );
    for (i, locale) in locales.iter().enumerate() {
        let mut install = app.install(&format!("f:u{i}"), &format!("29:u{i}"));
        install["locale"] = json!(locale);
        install["entities"][0]["locale"] = json!(locale);
        assert_eq!(app.post_signed(&install).await.status(), 200);
    }
    let members: Vec<String> = (0..locales.len())
        .map(|i| format!("ada.u{i}@contoso.com"))
        .collect();
    let reply = app
        .tell(
            ADMIN,
            &format!("list create staff {}", members.join(" ")),
            "en-US",
        )
        .await;
    assert!(reply.contains("created with"), "{reply}");
    app
}

/// The cards the connector received whose summary is `subject`, as JSON.
async fn cards(app: &TestApp, subject: &str) -> Vec<Value> {
    app.sent_messages()
        .await
        .into_iter()
        .filter_map(|r| r.body_json::<Value>().ok())
        .filter(|b| b["summary"] == subject)
        .collect()
}

/// Sends `command` as the admin (in `locale`) and waits for its `n` cards; returns the
/// broadcast's id.
async fn broadcast(app: &TestApp, command: &str, locale: &str, subject: &str, n: usize) -> String {
    let reply = app.tell(ADMIN, command, locale).await;
    assert!(reply.contains("#1"), "{reply}");
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

/// `user` (in `locale`) presses an action with `data`; returns the invoke response's body.
async fn invoke(app: &TestApp, user: &str, locale: &str, verb: &str, data: Value) -> Value {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, "");
    a.as_object_mut().unwrap().remove("text");
    a["type"] = json!("invoke");
    a["name"] = json!("adaptiveCard/action");
    a["locale"] = json!(locale);
    a["value"] = json!({"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"});
    let response = app.post_signed(&a).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("an invoke response")
}

async fn choose(app: &TestApp, user: &str, broadcast: &str, choice: Value) -> Value {
    let mut data = json!({"herald": "broadcast-choice", "broadcast": broadcast});
    if !choice.is_null() {
        data["choice"] = choice;
    }
    invoke(app, user, "en-US", "choose", data).await
}

/// Each recipient's stored choice.
async fn answers(app: &TestApp, broadcast: &str) -> Vec<(String, i32)> {
    let id = broadcast.to_string();
    let mut rows: Vec<_> = app
        .app_db
        .run(move |c| herald::store::broadcasts::answers::answers_by_user(c, &id))
        .await
        .unwrap()
        .into_iter()
        .collect();
    rows.sort();
    rows
}

/// How many times each recipient changed their answer, by user id.
async fn changes(app: &TestApp, broadcast: &str) -> Vec<i32> {
    use diesel::prelude::*;
    use herald::store::schema::broadcast_answers as ans;
    let id = broadcast.to_string();
    app.app_db
        .run(move |conn| {
            Ok(herald::run_on!(conn, |c| ans::table
                .filter(ans::broadcast_id.eq(&id))
                .order(ans::user_id)
                .select(ans::changes)
                .load::<i32>(c))?)
        })
        .await
        .unwrap()
}

async fn info(app: &TestApp, locale: &str, command: &str) -> String {
    app.tell(ADMIN, command, locale).await
}

/// The tally's lines of `broadcast info`'s card.
fn tally_of(info: &str) -> Vec<String> {
    let card: Value = serde_json::from_str(info).expect("the info card");
    card["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"].as_str())
        .filter(|l| l.starts_with("Poll:") || l.starts_with("• "))
        .map(str::to_string)
        .collect()
}

async fn the_latest_choice_counts_and_forged_ones_change_nothing(backend: Backend) {
    let app = setup(backend, &["en-US"; 6]).await;
    let id = broadcast(
        &app,
        "broadcast staff\nchoices: Yes | No | Maybe\nsubject: Party\nComing on Friday?",
        "en-US",
        "Party",
        6,
    )
    .await;
    let body = choose(&app, "29:u2", &id, json!(1)).await;
    assert_eq!(body["statusCode"], 200, "{body}");
    assert_eq!(body["type"], ADAPTIVE, "{body}");
    let card = body["value"].to_string();
    assert!(card.contains("Your answer: No"), "{card}");
    assert!(card.contains("✓ No") && !card.contains("✓ Yes"), "{card}");
    for (user, choice) in [("29:u0", 0), ("29:u1", 0), ("29:u3", 2), ("29:u4", 1)] {
        assert_eq!(
            choose(&app, user, &id, json!(choice)).await["statusCode"],
            200
        );
    }
    // u4 changes their mind: their latest choice counts.
    let body = choose(&app, "29:u4", &id, json!(0)).await;
    assert!(
        body["value"].to_string().contains("Your answer: Yes"),
        "{body}"
    );
    let expected = [
        "Poll: 5 answered of 6 reached",
        "• Yes: 3 (60%)",
        "• No: 1 (20%)",
        "• Maybe: 1 (20%)",
    ];
    let info1 = info(&app, "en-US", "broadcast info 1").await;
    assert_eq!(tally_of(&info1), expected, "{info1}");
    // Answers are reads.
    assert!(info1.contains("Read: 5 "), "{info1}");
    let stored = answers(&app, &id).await;
    assert_eq!(changes(&app, &id).await, [0, 0, 0, 0, 1], "u4 changed once");
    // Forged choices are refused, naming the problem; nothing changes.
    for (forged, says) in [
        (json!(7), "this poll has 3 choices"),
        (json!(-1), "`-1` is not a choice"),
        (json!("Yes"), "`\"Yes\"` is not a choice"),
        (json!(2.5), "`2.5` is not a choice"),
        (Value::Null, "No choice was given"),
    ] {
        for user in ["29:u5", "29:u4"] {
            let body = choose(&app, user, &id, forged.clone()).await;
            assert_eq!(body["statusCode"], 400, "{forged}: {body}");
            assert_eq!(body["type"], "application/vnd.microsoft.error", "{body}");
            assert_eq!(body["value"]["code"], "BadChoice", "{body}");
            let message = body["value"]["message"].as_str().unwrap();
            assert!(message.contains(says), "{forged}: {message}");
        }
    }
    assert_eq!(answers(&app, &id).await, stored);
    assert_eq!(changes(&app, &id).await, [0, 0, 0, 0, 1]);
    // Pressing the same choice again is no change.
    assert_eq!(
        choose(&app, "29:u4", &id, json!(0)).await["statusCode"],
        200
    );
    assert_eq!(changes(&app, &id).await, [0, 0, 0, 0, 1]);
    let info2 = info(&app, "en-US", "broadcast info 1").await;
    assert_eq!(tally_of(&info2), expected, "{info2}");
    assert!(info2.contains("Read: 5 "), "{info2}");
    // A choice by someone the broadcast did not reach.
    let body = choose(&app, ADMIN, &id, json!(0)).await;
    assert_eq!(body["value"]["code"], "NotARecipient", "{body}");
    assert_eq!(answers(&app, &id).await, stored);
}

async fn a_french_admin_asks_for_acks_and_a_poll(backend: Backend) {
    let app = setup(backend, &["fr-FR", "en-US"]).await;
    let id = broadcast(
        &app,
        "diffusion staff\naccusé: oui\nchoix: A | B | C\nsujet: Bureau fermé\nDemain.",
        "fr-FR",
        "Bureau fermé",
        2,
    )
    .await;
    let sent = app
        .sent_messages()
        .await
        .into_iter()
        .filter(|r| r.url.path().contains("conv-u0"))
        .filter_map(|r| r.body_json::<Value>().ok())
        .find(|b| b["summary"] == "Bureau fermé")
        .unwrap();
    let text = sent["attachments"][0]["content"].to_string();
    assert!(text.contains("J'ai lu et compris"), "{text}");
    let ack = json!({"herald": "broadcast-ack", "broadcast": id});
    let body = invoke(&app, "29:u0", "fr-FR", "ack", ack).await;
    assert_eq!(body["statusCode"], 200, "{body}");
    assert!(
        body["value"].to_string().contains("✓ Lu et compris le "),
        "{body}"
    );
    let choice = json!({"herald": "broadcast-choice", "broadcast": id, "choice": 1});
    let body = invoke(&app, "29:u0", "fr-FR", "choose", choice).await;
    let card = body["value"].to_string();
    assert!(
        card.contains("Votre réponse : B") && card.contains("✓ Lu et compris le "),
        "{card}"
    );
    let info = info(&app, "fr-FR", "diffusion info 1").await;
    assert!(info.contains("Accusés de lecture : 1 sur 2"), "{info}");
    assert!(
        info.to_lowercase()
            .contains("pas encore d'accusé de lecture (1) : ada.u1@contoso.com"),
        "{info}"
    );
    assert!(info.contains("Sondage : 1 sur 2"), "{info}");
    assert!(info.contains("• B : 1 (100 %)"), "{info}");
    assert!(info.contains("• A : 0 (0 %)"), "{info}");
    // A forged choice, refused in French.
    let forged = json!({"herald": "broadcast-choice", "broadcast": id, "choice": 9});
    let body = invoke(&app, "29:u0", "fr-FR", "choose", forged).await;
    assert_eq!(body["statusCode"], 400, "{body}");
    assert!(
        body["value"]["message"]
            .as_str()
            .unwrap()
            .contains("ce sondage a 3 choix"),
        "{body}"
    );
}

/// A burst of presses at once (they are written together, in shared transactions): every
/// answer and change is counted exactly, each person's card shows their own choice, and
/// acknowledgements pressed twice at once count once with one time.
async fn a_burst_of_presses_counts_exactly(backend: Backend) {
    const N: usize = 24;
    let app = setup(backend, &["en-US"; N]).await;
    let id = broadcast(
        &app,
        "broadcast staff\nack: yes\nchoices: Yes | No | Maybe\nsubject: Burst\nWho comes?",
        "en-US",
        "Burst",
        N,
    )
    .await;
    let names = ["Yes", "No", "Maybe"];
    let press = |i: usize, choice: usize| {
        let (app, id) = (&app, &id);
        async move {
            let body = choose(app, &format!("29:u{i}"), id, json!(choice)).await;
            assert_eq!(body["statusCode"], 200, "{body}");
            let card = body["value"].to_string();
            let says = format!("Your answer: {}", names[choice]);
            assert!(card.contains(&says), "u{i}: {card}");
        }
    };
    futures_util::future::join_all((0..N).map(|i| press(i, i % 3))).await;
    // Everyone changes their mind at once, to the next choice.
    futures_util::future::join_all((0..N).map(|i| press(i, (i + 1) % 3))).await;
    assert_eq!(changes(&app, &id).await, vec![1; N]);
    let stored = answers(&app, &id).await;
    assert_eq!(stored.len(), N);
    for choice in 0..3 {
        let chose = stored.iter().filter(|(_, c)| *c == choice).count();
        assert_eq!(chose, N / 3, "choice {choice}");
    }
    let info = info(&app, "en-US", "broadcast info 1").await;
    assert_eq!(
        tally_of(&info),
        [
            format!("Poll: {N} answered of {N} reached"),
            "• Yes: 8 (33%)".to_string(),
            "• No: 8 (33%)".to_string(),
            "• Maybe: 8 (33%)".to_string(),
        ],
        "{info}"
    );
    assert!(info.contains(&format!("Read: {N} ")), "{info}");
    // Each person acknowledges twice at once: one acknowledgement, the same time on both cards.
    let ack = |i: usize| {
        let (app, id) = (&app, &id);
        async move {
            let data = json!({"herald": "broadcast-ack", "broadcast": id});
            let body = invoke(app, &format!("29:u{i}"), "en-US", "ack", data).await;
            assert_eq!(body["statusCode"], 200, "{body}");
            let card = body["value"].to_string();
            let at = card
                .find("✓ Read and understood")
                .expect("the acknowledgement shown");
            card[at..].chars().take(60).collect::<String>()
        }
    };
    let shown = futures_util::future::join_all((0..N).flat_map(|i| [ack(i), ack(i)])).await;
    for pair in shown.chunks(2) {
        assert_eq!(pair[0], pair[1], "one time stands");
    }
    let info = app.tell(ADMIN, "broadcast info 1", "en-US").await;
    assert!(
        info.contains(&format!("Acknowledged: {N} of {N}")),
        "{info}"
    );
}

on_both_backends!(
    the_latest_choice_counts_and_forged_ones_change_nothing,
    a_french_admin_asks_for_acks_and_a_poll,
    a_burst_of_presses_counts_exactly,
);
