//! Broadcasts end to end: the admin types `broadcast`, recipients get cards through the engine,
//! mark them read (button or read receipt), reply (relayed to the sender and back), and the
//! admin recalls the broadcast from every chat.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, Request, ResponseTemplate};

use common::*;

const ADMIN: &str = "29:boss";
const WAIT: Duration = Duration::from_secs(20);

/// Activity ids the fake connector gave, by conversation: Teams-like increasing numbers.
#[derive(Clone, Default)]
struct Ids(Arc<Mutex<HashMap<String, Vec<String>>>>);

fn conversation_of(path: &str) -> String {
    let segment = path.split('/').nth(3).unwrap_or_default();
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// Sends `text` as `user`; returns the text of the one reply to it (cards the engine sends
/// meanwhile are not replies).
async fn tell(app: &TestApp, user: &str, text: &str, locale: &str) -> String {
    let mut activity = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, text);
    activity["locale"] = json!(locale);
    let replies = app.replies_to(&activity).await;
    assert_eq!(replies.len(), 1, "one reply to `{text}`");
    reply_text(&replies[0])
}

/// herald with `boss` as admin, `n` installed recipients `29:u0…`, and a connector that
/// numbers sent activities and accepts updates and deletes.
async fn setup(backend: Backend, n: usize) -> (TestApp, Ids) {
    setup_with(backend, n, "", Duration::ZERO).await
}

/// `setup`, with settings appended and every send answered after `delay`.
async fn setup_with(backend: Backend, n: usize, extra: &str, delay: Duration) -> (TestApp, Ids) {
    let app = spawn_app_with(backend, &format!("admins = [\"aad-boss\"]\n{extra}")).await;
    let ids = Ids::default();
    let next = Arc::new(AtomicU64::new(1_700_000_000_000));
    let given = ids.clone();
    Mock::given(method("POST"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities$"))
        .respond_with(move |req: &Request| {
            let id = next.fetch_add(1, Ordering::SeqCst).to_string();
            given
                .0
                .lock()
                .unwrap()
                .entry(conversation_of(req.url.path()))
                .or_default()
                .push(id.clone());
            ResponseTemplate::new(201)
                .set_body_json(json!({ "id": id }))
                .set_delay(delay)
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
    (app, ids)
}

/// The broadcast cards the connector received: (conversation, body).
async fn cards(app: &TestApp) -> Vec<(String, Value)> {
    app.sent_messages()
        .await
        .into_iter()
        .filter_map(|r| {
            let body: Value = r.body_json().ok()?;
            let first = body["attachments"][0]["content"]["actions"][0]["data"]["herald"].clone();
            (first == "broadcast-read").then(|| (conversation_of(r.url.path()), body))
        })
        .collect()
}

/// Messages posted into one conversation, as JSON.
async fn posted_to(app: &TestApp, conversation: &str) -> Vec<Value> {
    app.sent_messages()
        .await
        .iter()
        .filter(|r| conversation_of(r.url.path()) == conversation)
        .filter_map(|r| r.body_json().ok())
        .collect()
}

fn card_text(body: &Value) -> String {
    body["attachments"][0]["content"].to_string()
}

fn member_emails(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| format!("ada.u{i}@contoso.com"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A card button pressed by `user`: a message with `value` and no text. Returns the replies.
async fn press(app: &TestApp, user: &str, value: Value) -> Vec<Value> {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, "");
    a.as_object_mut().unwrap().remove("text");
    a["value"] = value;
    app.replies_to(&a).await
}

async fn read_receipt(app: &TestApp, user: &str, last_read: &str) {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, "");
    a["type"] = json!("event");
    a["name"] = json!("application/vnd.microsoft.readReceipt");
    a.as_object_mut().unwrap().remove("text");
    a["value"] = json!({ "lastReadMessageId": last_read });
    assert_eq!(app.post_signed(&a).await.status(), 200);
}

/// Sends the standard broadcast to `staff` and waits for its 18 cards.
async fn broadcast_to_staff(app: &TestApp) -> String {
    let reply = tell(
        app,
        ADMIN,
        "broadcast staff\nsubject: Office closed\nThe office is closed tomorrow.\nWork from home.",
        "en-US",
    )
    .await;
    assert!(
        reply.contains("Broadcast **#1** **Office closed** is on its way to 18 people"),
        "{reply}"
    );
    assert!(
        reply.contains("2 members of **staff** have not installed herald"),
        "{reply}"
    );
    assert!(reply.contains("ghost1@contoso.com"), "{reply}");
    wait_for(WAIT, "18 cards", || async { cards(app).await.len() == 18 }).await;
    let (_, first) = &cards(app).await[0];
    first["attachments"][0]["content"]["actions"][0]["data"]["broadcast"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn staff_of_twenty(app: &TestApp) {
    let reply = tell(
        app,
        ADMIN,
        &format!(
            "list create staff {} ghost1@contoso.com ghost2@contoso.com",
            member_emails(0..18)
        ),
        "en-US",
    )
    .await;
    assert!(reply.contains("created with 20 members"), "{reply}");
}

async fn info(app: &TestApp) -> String {
    tell(app, ADMIN, "broadcast info 1", "en-US").await
}

async fn eighteen_cards_with_subject_summary_and_two_actions(backend: Backend) {
    let (app, _) = setup(backend, 18).await;
    staff_of_twenty(&app).await;
    broadcast_to_staff(&app).await;
    let cards = cards(&app).await;
    let mut conversations: Vec<String> = cards.iter().map(|(c, _)| c.clone()).collect();
    conversations.sort();
    conversations.dedup();
    assert_eq!(conversations.len(), 18, "one card per person");
    for (_, card) in &cards {
        assert_eq!(card["summary"], "Office closed");
        let content = &card["attachments"][0]["content"];
        assert_eq!(
            card["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        let titles: Vec<&str> = content["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["Mark as read", "Reply"]);
        assert!(
            content
                .to_string()
                .contains("The office is closed tomorrow.")
        );
        assert!(
            content.to_string().contains("From Ada Lovelace boss"),
            "{content}"
        );
    }
    let info = info(&app).await;
    assert!(
        info.contains("Recipients: 18 · delivered: 18 · pending: 0 · failed: 0 · not installed: 2"),
        "{info}"
    );
    assert!(info.contains("Read: 0 "), "{info}");
    assert!(info.contains("Not read yet (18)"), "{info}");
    let list = tell(&app, ADMIN, "broadcasts", "en-US").await;
    assert!(
        list.contains("**#1** **Office closed**")
            && list.contains("18 recipients, 18 delivered, 0 read"),
        "{list}"
    );
}

async fn button_and_receipt_give_two_reads_once_each(backend: Backend) {
    let (app, ids) = setup(backend, 18).await;
    staff_of_twenty(&app).await;
    let broadcast = broadcast_to_staff(&app).await;
    let read = json!({"herald": "broadcast-read", "broadcast": broadcast});
    press(&app, "29:u0", read.clone()).await;
    // u1's receipt reaches past every message of their chat; u2's stops before the card.
    read_receipt(&app, "29:u1", "99999999999999").await;
    read_receipt(&app, "29:u2", "1").await;
    // The same reads again change nothing.
    press(&app, "29:u0", read).await;
    read_receipt(&app, "29:u1", "99999999999999").await;
    let info = info(&app).await;
    assert!(
        info.contains("Read: 2 (1 by button, 1 by read receipt)"),
        "{info}"
    );
    assert!(info.contains("Not read yet (16)"), "{info}");
    assert!(
        !info.contains("ada.u0@") && !info.contains("ada.u1@"),
        "{info}"
    );
    // Each reader's card turns into the read card, in place, once.
    // (The admin's chat holds the live progress card, updated on its own cadence.)
    let recipient_puts = || async {
        let mut puts = app.connector_requests("PUT", "").await;
        puts.retain(|r| !r.url.path().contains("conv-boss"));
        puts
    };
    wait_for(WAIT, "two card updates", || async {
        recipient_puts().await.len() == 2
    })
    .await;
    // Every delivery has its outcome: no other update is left to go out.
    app.drained("every card update sent").await;
    let puts = recipient_puts().await;
    assert_eq!(puts.len(), 2);
    let sent = ids.0.lock().unwrap().clone();
    for put in puts {
        let conversation = conversation_of(put.url.path());
        assert!(conversation == "a:conv-u0" || conversation == "a:conv-u1");
        let card_id = sent[&conversation].last().unwrap();
        assert!(put.url.path().ends_with(&format!("/activities/{card_id}")));
        let body: Value = put.body_json().unwrap();
        assert_eq!(body["id"], card_id.as_str());
        assert!(card_text(&body).contains("✓ Read"));
        assert!(!card_text(&body).contains("Mark as read"));
    }
    // A button for a broadcast the user never got is refused, and records nothing.
    let replies = press(
        &app,
        ADMIN,
        json!({"herald": "broadcast-read", "broadcast": broadcast}),
    )
    .await;
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0]["text"]
            .as_str()
            .unwrap()
            .contains("not sent to you"),
        "{replies:?}"
    );
    assert!(info_reads(&app).await.contains("Read: 2 "));
}

async fn info_reads(app: &TestApp) -> String {
    info(app).await
}

/// Waits for a relayed card in `conversation` whose content contains `needle`.
async fn relayed(app: &TestApp, conversation: &str, needle: &str) -> Value {
    let start = std::time::Instant::now();
    loop {
        if let Some(found) = posted_to(app, conversation)
            .await
            .into_iter()
            .find(|b| card_text(b).contains(needle))
        {
            return found;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for `{needle}`");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn replies_are_relayed_both_ways(backend: Backend) {
    let (app, _) = setup(backend, 18).await;
    staff_of_twenty(&app).await;
    let broadcast = broadcast_to_staff(&app).await;
    // A plain message from a recipient is a reply to the broadcast they got.
    let told = tell(&app, "29:u3", "Will the car park be open?", "en-US").await;
    assert!(
        told.contains("Your reply to **Office closed** was passed on to Ada Lovelace boss"),
        "{told}"
    );
    let to_sender = relayed(&app, "a:conv-boss", "Will the car park be open?").await;
    let text = card_text(&to_sender);
    assert!(
        text.contains("Ada Lovelace u3")
            && text.contains("replied to broadcast #1")
            && text.contains("Office closed"),
        "{text}"
    );
    assert_eq!(to_sender["summary"], "Reply from Ada Lovelace u3");
    let answer = &to_sender["attachments"][0]["content"]["actions"][0];
    assert_eq!(answer["title"], "Answer");
    let data = answer["card"]["actions"][0]["data"].clone();
    assert_eq!(data["herald"], "relay-answer");
    // The sender answers from the card: it reaches the recipient.
    let mut value = data.clone();
    value["text"] = json!("Yes, as usual.");
    press(&app, ADMIN, value).await;
    let to_recipient = relayed(&app, "a:conv-u3", "Yes, as usual.").await;
    let text = card_text(&to_recipient);
    assert!(
        text.contains("Ada Lovelace boss") && text.contains("Office closed"),
        "{text}"
    );
    // The recipient's Reply button on the answer continues the same thread.
    let reply =
        &to_recipient["attachments"][0]["content"]["actions"][0]["card"]["actions"][0]["data"];
    assert_eq!(reply["broadcast"], broadcast.as_str());
    let mut value = reply.clone();
    value["text"] = json!("Thanks!");
    press(&app, "29:u3", value).await;
    let again = relayed(&app, "a:conv-boss", "Thanks!").await;
    assert_eq!(
        again["attachments"][0]["content"]["actions"][0]["card"]["actions"][0]["data"]["thread"],
        data["thread"],
        "one thread per broadcast and person"
    );
    // Someone else cannot answer in that thread, and empty replies are refused.
    let mut stolen = data.clone();
    stolen["text"] = json!("hijack");
    press(&app, "29:u4", stolen).await;
    // A relay would have been enqueued by the press itself: once every delivery has its
    // outcome, anything relayed has reached the fake connector.
    app.drained("every relay sent").await;
    assert!(
        !posted_to(&app, "a:conv-u3")
            .await
            .iter()
            .any(|b| card_text(b).contains("hijack"))
    );
    let replies = press(
        &app,
        "29:u5",
        json!({"herald": "broadcast-reply", "broadcast": broadcast, "text": "  "}),
    )
    .await;
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0]["text"].as_str().unwrap().contains("empty"),
        "{replies:?}"
    );
    let info = info(&app).await;
    assert!(info.contains("replied: 1"), "{info}");
}

/// Ordinary chat from someone with no broadcast to answer gets the hint, also when asked again
/// (then answered from memory); once a broadcast reaches them, their next message is a reply,
/// and a message quoting a card is always looked up.
async fn chat_before_a_broadcast_is_not_a_reply_and_after_it_is(backend: Backend) {
    let (app, _) = setup(backend, 18).await;
    staff_of_twenty(&app).await;
    let hint = "I didn't understand that. Type **help** to see what I can do.";
    for _ in 0..3 {
        assert_eq!(tell(&app, "29:u3", "hello there", "en-US").await, hint);
    }
    // Someone herald has never seen, twice.
    for _ in 0..2 {
        assert_eq!(tell(&app, "29:stranger", "hello", "en-US").await, hint);
    }
    broadcast_to_staff(&app).await;
    app.drained("every card's outcome recorded").await;
    let told = tell(&app, "29:u3", "Will the car park be open?", "en-US").await;
    assert!(
        told.contains("Your reply to **Office closed** was passed on to Ada Lovelace boss"),
        "{told}"
    );
    relayed(&app, "a:conv-boss", "Will the car park be open?").await;
    // The admin's own chat is never a reply.
    assert_eq!(tell(&app, ADMIN, "hello", "en-US").await, hint);
}

async fn recall_deletes_every_card_through_a_429_and_keeps_threads(backend: Backend) {
    let (app, ids) = setup(backend, 18).await;
    let deletes = Arc::new(AtomicUsize::new(0));
    let seen = deletes.clone();
    let times: Arc<Mutex<Vec<(std::time::Instant, String, u16)>>> = Arc::default();
    let log = times.clone();
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities/[^/]+$"))
        .respond_with(move |req: &Request| {
            let status = if seen.fetch_add(1, Ordering::SeqCst) == 3 {
                429
            } else {
                200
            };
            log.lock().unwrap().push((
                std::time::Instant::now(),
                req.url.path().to_string(),
                status,
            ));
            if status == 429 {
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_json(json!({"error": {"code": "Throttled", "message": "slow down"}}))
            } else {
                ResponseTemplate::new(200)
            }
        })
        .mount(&app.connector)
        .await;
    staff_of_twenty(&app).await;
    broadcast_to_staff(&app).await;
    tell(&app, "29:u3", "Will the car park be open?", "en-US").await;
    relayed(&app, "a:conv-boss", "car park").await;

    let reply = tell(&app, ADMIN, "broadcast delete 1", "en-US").await;
    assert!(
        reply.contains("Recalling broadcast **#1** **Office closed**: deleting it from 18 chat(s)"),
        "{reply}"
    );
    let report = "recalled: removed from 18 chat(s), 0 failed.";
    wait_for(WAIT, "the recall report", || async {
        posted_to(&app, "a:conv-boss")
            .await
            .iter()
            .any(|b| b["text"].as_str().is_some_and(|t| t.contains(report)))
    })
    .await;
    // One DELETE per card, on its own chat and id; the throttled one was tried again.
    let requests = app.connector_requests("DELETE", "").await;
    assert_eq!(requests.len(), 19, "18 deletes and one retry after the 429");
    let sent = ids.0.lock().unwrap().clone();
    let mut deleted: Vec<String> = requests.iter().map(|r| r.url.path().to_string()).collect();
    deleted.sort();
    deleted.dedup();
    assert_eq!(deleted.len(), 18);
    for path in &deleted {
        let conversation = conversation_of(path);
        assert!(
            sent[&conversation]
                .iter()
                .any(|id| path.ends_with(&format!("/activities/{id}"))),
            "{path}"
        );
    }
    // The 429 was waited out: its retry came a second (Retry-After) later.
    let times = times.lock().unwrap().clone();
    let (throttled_at, throttled_path, _) = times.iter().find(|t| t.2 == 429).unwrap().clone();
    let (retried_at, ..) = times
        .iter()
        .find(|t| t.1 == throttled_path && t.2 == 200)
        .expect("the throttled delete was tried again");
    let waited = retried_at.duration_since(throttled_at);
    assert!(
        waited >= Duration::from_millis(990),
        "retried after {waited:?}"
    );
    let info = info(&app).await;
    assert!(
        info.contains("removed from 18 chat(s), 0 failed, 0 pending"),
        "{info}"
    );
    // Recalled twice: refused.
    let again = tell(&app, ADMIN, "broadcast delete 1", "en-US").await;
    assert!(again.contains("already recalled"), "{again}");
    // A recalled card cannot be marked read any more (the button may linger in a client).
    let bid =
        cards(&app).await[0].1["attachments"][0]["content"]["actions"][0]["data"]["broadcast"]
            .clone();
    let replies = press(
        &app,
        "29:u5",
        json!({"herald": "broadcast-read", "broadcast": bid}),
    )
    .await;
    assert!(
        replies[0]["text"].as_str().unwrap().contains("recalled"),
        "{replies:?}"
    );
    assert!(info_reads(&app).await.contains("Read: 0 "));
    // The reply thread lives on.
    let told = tell(&app, "29:u3", "And on Monday?", "en-US").await;
    assert!(told.contains("passed on"), "{told}");
    relayed(&app, "a:conv-boss", "And on Monday?").await;
}

/// Waits for the recall report in the admin's chat; returns its text.
async fn recall_report(app: &TestApp) -> String {
    let start = std::time::Instant::now();
    loop {
        if let Some(t) = posted_to(app, "a:conv-boss")
            .await
            .iter()
            .filter_map(|b| b["text"].as_str().map(str::to_string))
            .find(|t| t.contains("recalled: removed from"))
        {
            return t;
        }
        assert!(
            start.elapsed() < WAIT,
            "timed out waiting for the recall report"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_recall_while_cards_are_still_going_out_leaves_none_behind(backend: Backend) {
    // Two sends at a time, each answered after 150 ms: the recall comes mid-way.
    let (app, ids) = setup_with(
        backend,
        18,
        "[delivery]\nconcurrency = 2",
        Duration::from_millis(150),
    )
    .await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/v3/conversations/[^/]+/activities/[^/]+$"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&app.connector)
        .await;
    staff_of_twenty(&app).await;
    let reply = tell(
        &app,
        ADMIN,
        "broadcast staff\nsubject: Oops\nWrong message",
        "en-US",
    )
    .await;
    assert!(reply.contains("on its way to 18 people"), "{reply}");
    wait_for(WAIT, "a first card", || async {
        !cards(&app).await.is_empty()
    })
    .await;
    let reply = tell(&app, ADMIN, "broadcast delete 1", "en-US").await;
    assert!(reply.contains("Recalling broadcast **#1**"), "{reply}");
    let report = recall_report(&app).await;
    // Every card, delete and report has its outcome: nothing more is going out.
    app.drained("every send and delete of the recall").await;
    // Every card that reached a chat was deleted there; the others were never sent.
    let delivered = cards(&app).await;
    assert!(delivered.len() < 18, "the recall stopped some sends");
    let sent = ids.0.lock().unwrap().clone();
    let deletes: Vec<String> = app
        .connector_requests("DELETE", "")
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(deletes.len(), delivered.len());
    for (conversation, _) in &delivered {
        let card_id = sent[conversation].last().unwrap();
        assert!(
            deletes
                .iter()
                .any(|p| conversation_of(p) == *conversation && p.ends_with(&format!("/{card_id}"))),
            "{conversation} still has its card"
        );
    }
    let not_sent = 18 - delivered.len();
    assert!(
        report.contains(&format!(
            "removed from {} chat(s), 0 failed. {not_sent} had not been sent yet.",
            delivered.len()
        )),
        "{report}"
    );
}

async fn non_admins_cannot_broadcast_and_mistakes_are_named(backend: Backend) {
    let (app, _) = setup(backend, 2).await;
    let before = app.sent_messages().await.len();
    let reply = tell(
        &app,
        "29:u0",
        "broadcast all\nsubject: Free pizza\nIn the kitchen",
        "en-US",
    )
    .await;
    assert!(
        reply.starts_with("Sorry, only herald's administrators"),
        "{reply}"
    );
    let reply = tell(&app, "29:u1", "broadcasts", "en-US").await;
    assert!(reply.starts_with("Sorry"), "{reply}");
    assert_eq!(
        app.sent_messages().await.len(),
        before + 2,
        "only the two refusals"
    );
    let reply = tell(&app, ADMIN, "broadcast all\nFree pizza", "en-US").await;
    assert!(
        reply.contains("subject: the first line must be the subject"),
        "{reply}"
    );
    let reply = tell(&app, ADMIN, "broadcast nowhere\nsubject: x\ny", "en-US").await;
    assert!(
        reply.contains("There is no list named **nowhere**"),
        "{reply}"
    );
    let reply = tell(&app, ADMIN, "broadcast info 7", "en-US").await;
    assert!(reply.contains("There is no broadcast **7**"), "{reply}");
    let reply = tell(&app, ADMIN, "diffusions", "fr-FR").await;
    assert_eq!(reply, "Aucune diffusion pour l'instant.");
    // `all`: everyone installed, the admin included; French recipients get French cards.
    app.post_signed(&{
        let mut a = app.install("f:fr", "29:fr0");
        a["locale"] = json!("fr-FR");
        a
    })
    .await;
    let reply = tell(
        &app,
        ADMIN,
        "broadcast all\nsubject: Pizza\nIn the kitchen",
        "en-US",
    )
    .await;
    assert!(reply.contains("on its way to 4 people"), "{reply}");
    wait_for(WAIT, "4 cards", || async { cards(&app).await.len() == 4 }).await;
    let french = cards(&app)
        .await
        .into_iter()
        .find(|(c, _)| c == "a:conv-fr0")
        .unwrap()
        .1;
    assert_eq!(
        french["attachments"][0]["content"]["actions"][0]["title"],
        "Marquer comme lu"
    );
    let audit = app
        .app_db
        .run(|conn| {
            use diesel::prelude::*;
            use herald::store::schema::audit_log as a;
            herald::run_on!(conn, |c| a::table.select((a::actor, a::outcome)).load::<(
                String,
                String
            )>(
                c
            ))
            .map_err(Into::into)
        })
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|(actor, outcome)| actor == "aad-u0" && outcome == "refused: not an admin")
    );
    assert!(
        audit
            .iter()
            .any(|(_, outcome)| outcome == "ok: broadcast #1")
    );
}

async fn the_form_sends_or_shows_its_errors(backend: Backend) {
    let (app, _) = setup(backend, 1).await;
    let mut a = app.message("1:form", ADMIN, "broadcast");
    a["locale"] = json!("en-US");
    let replies = app.replies_to(&a).await;
    assert_eq!(replies.len(), 1);
    let form = &replies[0];
    let card = &form["attachments"][0]["content"];
    assert_eq!(card["actions"][0]["data"]["herald"], "broadcast-form");
    assert_eq!(card["body"][1]["choices"][0]["value"], "all");
    let again = press(
        &app,
        ADMIN,
        json!({"herald": "broadcast-form", "audience": "all", "subject": "", "body": "Hello"}),
    )
    .await;
    let text = again[0]["attachments"][0]["content"].to_string();
    assert!(
        text.contains("it is empty") && text.contains("Hello"),
        "{text}"
    );
    let done = press(
        &app,
        ADMIN,
        json!({"herald": "broadcast-form", "audience": "all", "subject": "Hi", "body": "Hello"}),
    )
    .await;
    // The confirmation is the live progress card.
    assert!(
        reply_text(&done[0]).contains("is on its way to 2 people"),
        "{done:?}"
    );
    wait_for(WAIT, "2 cards", || async { cards(&app).await.len() == 2 }).await;
}

on_both_backends!(
    eighteen_cards_with_subject_summary_and_two_actions,
    button_and_receipt_give_two_reads_once_each,
    replies_are_relayed_both_ways,
    chat_before_a_broadcast_is_not_a_reply_and_after_it_is,
    recall_deletes_every_card_through_a_429_and_keeps_threads,
    a_recall_while_cards_are_still_going_out_leaves_none_behind,
    non_admins_cannot_broadcast_and_mistakes_are_named,
    the_form_sends_or_shows_its_errors,
);
