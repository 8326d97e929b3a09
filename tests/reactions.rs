//! Reactions end to end: recipients react to herald's messages in their chat (`messageReaction`
//! activities naming the reacted message by `replyToId`); `broadcast info` and `campaign report`
//! count them per type. Reactions to anything else, or from another tenant, change nothing.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, Request, ResponseTemplate};

use common::*;
use herald::store::deliveries::{self, Outcome};
use herald::store::reactions;
use herald::store::retention::{self, Table};

const ADMIN: &str = "29:boss";
const WAIT: Duration = Duration::from_secs(20);
/// What a broadcast card (and nothing else herald sends) holds.
const CARD: &str = "broadcast-read";

on_both_backends!(
    broadcast_reactions_are_counted_once_per_person_and_type,
    reactions_to_other_messages_or_from_another_tenant_change_nothing,
    campaign_reactions_show_in_the_campaign_report,
);

/// Activity ids the fake connector gave, by conversation, in order, with what each was.
#[derive(Clone, Default)]
struct Ids(Arc<Mutex<HashMap<String, Vec<Sent>>>>);

/// A message's activity id and body.
type Sent = (String, Value);

impl Ids {
    /// The id of the first message in `conversation` whose JSON contains `needle`.
    fn of(&self, conversation: &str, needle: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap()
            .get(conversation)?
            .iter()
            .find(|(_, body)| body.to_string().contains(needle))
            .map(|(id, _)| id.clone())
    }
}

fn conversation_of(path: &str) -> String {
    let segment = path.split('/').nth(3).unwrap_or_default();
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// herald with `boss` as admin, `u0…u2` installed, a connector that numbers what it is sent,
/// and a list `staff` of the three.
async fn setup(backend: Backend) -> (TestApp, Ids) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]").await;
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
                .push((id.clone(), req.body_json().unwrap_or_default()));
            ResponseTemplate::new(201).set_body_json(json!({ "id": id }))
        })
        .with_priority(1)
        .mount(&app.connector)
        .await;
    for (id, user) in [("f:boss", ADMIN), ("f:u0", "29:u0"), ("f:u1", "29:u1")] {
        assert_eq!(app.post_signed(&app.install(id, user)).await.status(), 200);
    }
    assert_eq!(
        app.post_signed(&app.install("f:u2", "29:u2"))
            .await
            .status(),
        200
    );
    let reply = app
        .tell(
            ADMIN,
            "list create staff ada.u0@contoso.com ada.u1@contoso.com ada.u2@contoso.com",
            "en-US",
        )
        .await;
    assert!(reply.contains("created with 3 members"), "{reply}");
    (app, ids)
}

/// Broadcasts to `staff`; returns the broadcast id once the three cards are out.
async fn broadcast(app: &TestApp, ids: &Ids) -> String {
    let reply = app
        .tell(
            ADMIN,
            "broadcast staff\nsubject: Office closed\nThe office is closed tomorrow.",
            "en-US",
        )
        .await;
    assert!(reply.contains("is on its way to 3 people"), "{reply}");
    wait_for(WAIT, "three cards", || async {
        (0..3).all(|i| ids.of(&format!("a:conv-u{i}"), CARD).is_some())
    })
    .await;
    app.drained("every card sent").await;
    let card: Value = app
        .sent_messages()
        .await
        .iter()
        .filter(|r| conversation_of(r.url.path()) == "a:conv-u0")
        .filter_map(|r| r.body_json::<Value>().ok())
        .find(|b| b.to_string().contains(CARD))
        .unwrap();
    card["attachments"][0]["content"]["actions"][0]["data"]["broadcast"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A `messageReaction` activity from `user` to message `reply_to`.
fn reaction(app: &TestApp, user: &str, reply_to: &str, added: &[&str], removed: &[&str]) -> Value {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, "");
    a["type"] = json!("messageReaction");
    a.as_object_mut().unwrap().remove("text");
    a.as_object_mut().unwrap().remove("textFormat");
    a["replyToId"] = json!(reply_to);
    let list = |kinds: &[&str]| {
        kinds
            .iter()
            .map(|k| json!({ "type": k }))
            .collect::<Vec<_>>()
    };
    if !added.is_empty() {
        a["reactionsAdded"] = json!(list(added));
    }
    if !removed.is_empty() {
        a["reactionsRemoved"] = json!(list(removed));
    }
    a
}

/// Posts a reaction: answered 200, and nothing is said in any chat.
async fn react(app: &TestApp, activity: &Value) {
    let before = app.sent_messages().await.len();
    assert_eq!(app.post_signed(activity).await.status(), 200);
    assert_eq!(app.sent_messages().await.len(), before, "nothing sent");
}

async fn counts(app: &TestApp, subject: &str) -> Vec<(String, i64)> {
    let subject = subject.to_string();
    app.app_db
        .run(move |conn| reactions::counts(conn, &subject))
        .await
        .unwrap()
}

fn card_of(ids: &Ids, user: &str) -> String {
    ids.of(&format!("a:conv-{user}"), CARD).unwrap()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

async fn broadcast_reactions_are_counted_once_per_person_and_type(backend: Backend) {
    let (app, ids) = setup(backend).await;
    let id = broadcast(&app, &ids).await;
    let info = app.tell(ADMIN, "broadcast info 1", "en-US").await;
    assert!(
        !info.contains("Reactions"),
        "no line without reactions: {info}"
    );
    // u0: like and heart; like again (counted once); u1 and u2: like; then u2 takes it back.
    let (c0, c1, c2) = (
        card_of(&ids, "u0"),
        card_of(&ids, "u1"),
        card_of(&ids, "u2"),
    );
    react(&app, &reaction(&app, "29:u0", &c0, &["like", "heart"], &[])).await;
    react(&app, &reaction(&app, "29:u0", &c0, &[" like "], &[])).await;
    react(&app, &reaction(&app, "29:u1", &c1, &["like"], &[])).await;
    react(&app, &reaction(&app, "29:u2", &c2, &["like"], &[])).await;
    assert_eq!(counts(&app, &id).await, pairs(&[("like", 3), ("heart", 1)]));
    react(&app, &reaction(&app, "29:u2", &c2, &[], &["like"])).await;
    // Empty and over-long types are not reactions.
    let long = "x".repeat(65);
    react(&app, &reaction(&app, "29:u2", &c2, &["  ", &long], &[])).await;
    assert_eq!(counts(&app, &id).await, pairs(&[("like", 2), ("heart", 1)]));
    let info = app.tell(ADMIN, "broadcast info 1", "en-US").await;
    assert!(info.contains("Reactions: 👍 like 2 · ❤️ heart 1"), "{info}");
    let info = app.tell(ADMIN, "broadcast info 1", "fr-FR").await;
    assert!(
        info.contains("Réactions : 👍 like 2 · ❤️ heart 1"),
        "{info}"
    );
    // Per person, for the report helper.
    let id2 = id.clone();
    let by_user = app
        .app_db
        .run(move |conn| reactions::by_user(conn, &id2))
        .await
        .unwrap();
    let users: HashMap<String, Vec<String>> = app
        .app_db
        .run(herald::store::users::list)
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.id.clone(), u.channel_user_id.clone()))
        .filter_map(|(id, who)| by_user.get(&id).map(|r| (who, r.clone())))
        .collect();
    assert_eq!(users.len(), 2, "{users:?}");
    assert_eq!(
        users["29:u0"],
        vec!["heart".to_string(), "like".to_string()]
    );
    assert_eq!(users["29:u1"], vec!["like".to_string()]);
    // Any other emoji is counted under its own name.
    react(&app, &reaction(&app, "29:u1", &c1, &["partypopper"], &[])).await;
    let info = app.tell(ADMIN, "broadcast info 1", "en-US").await;
    assert!(
        info.contains("Reactions: 👍 like 2 · ❤️ heart 1 · partypopper 1"),
        "{info}"
    );
}

async fn reactions_to_other_messages_or_from_another_tenant_change_nothing(backend: Backend) {
    let (app, ids) = setup(backend).await;
    let id = broadcast(&app, &ids).await;
    let c0 = card_of(&ids, "u0");
    react(&app, &reaction(&app, "29:u0", &c0, &["like"], &[])).await;
    // An id herald never sent, and no id at all.
    react(&app, &reaction(&app, "29:u0", "424242", &["heart"], &[])).await;
    let mut none = reaction(&app, "29:u0", "", &["heart"], &[]);
    none.as_object_mut().unwrap().remove("replyToId");
    react(&app, &none).await;
    // Another person's card: not a message herald sent to u1.
    react(&app, &reaction(&app, "29:u1", &c0, &["heart"], &[])).await;
    // A reply relayed to the sender: the boss reacts to it.
    let told = app
        .tell("29:u1", "Will the car park be open?", "en-US")
        .await;
    assert!(told.contains("was passed on"), "{told}");
    app.drained("the relay sent").await;
    let relay_id = ids
        .of("a:conv-boss", "car park")
        .expect("the relayed reply");
    react(&app, &reaction(&app, ADMIN, &relay_id, &["heart"], &[])).await;
    // The same activity from another tenant (same person id, same replyToId).
    let mut other = reaction(&app, "29:u0", &c0, &["heart"], &[]);
    other["conversation"]["tenantId"] = json!("tenant-fabrikam");
    other["channelData"]["tenant"]["id"] = json!("tenant-fabrikam");
    // Accepted (herald serves any tenant here) but finds nobody of that tenant.
    react(&app, &other).await;
    let mut other = reaction(&app, "29:u0", &c0, &[], &["like"]);
    other["conversation"]["tenantId"] = json!("tenant-fabrikam");
    other["channelData"]["tenant"]["id"] = json!("tenant-fabrikam");
    react(&app, &other).await;
    assert_eq!(counts(&app, &id).await, pairs(&[("like", 1)]));
    let info = app.tell(ADMIN, "broadcast info 1", "en-US").await;
    assert!(info.contains("\"Reactions: 👍 like 1\""), "{info}");
}

async fn campaign_reactions_show_in_the_campaign_report(backend: Backend) {
    let (app, _) = setup(backend).await;
    let reply = app
        .tell(
            ADMIN,
            "campaign create spring\nlist: staff\nstart: 2030-12-02 10:00\nduration: 2h\n\
             message:\nBonjour [FIRSTNAME]",
            "en-US",
        )
        .await;
    assert!(
        reply.starts_with("Campaign **spring** scheduled."),
        "{reply}"
    );
    let c = app
        .app_db
        .run(|conn| herald::store::campaigns::find(conn, TENANT, "spring"))
        .await
        .unwrap()
        .unwrap();
    // Started and delivered by hand, in the future the plan is due in.
    let c2 = c.clone();
    app.app_db
        .run(move |conn| herald::engine::planner::plan(conn, &c2.id, c2.start_at.and_utc(), false))
        .await
        .unwrap();
    let later = c.start_at.and_utc() + TimeDelta::hours(3);
    let tenant = c.tenant_id.clone();
    let leased = app
        .app_db
        .run(move |conn| {
            deliveries::lease(
                conn,
                "test",
                &[tenant],
                &[],
                later,
                later + TimeDelta::hours(1),
                10,
            )
        })
        .await
        .unwrap();
    assert_eq!(leased.len(), 3);
    let outcomes: Vec<Outcome> = leased
        .iter()
        .map(|l| Outcome::Delivered {
            id: l.delivery.id,
            activity_id: Some(format!("c-{}", l.user.conversation_id)),
        })
        .collect();
    app.app_db
        .run(move |conn| deliveries::record(conn, "test", &outcomes, later))
        .await
        .unwrap();
    for (user, kinds) in [
        ("u0", &["like"][..]),
        ("u1", &["like", "laugh"][..]),
        ("u2", &["surprised"][..]),
    ] {
        let to = format!("c-a:conv-{user}");
        react(
            &app,
            &reaction(&app, &format!("29:{user}"), &to, kinds, &[]),
        )
        .await;
    }
    // u2 reacting to u0's message finds nothing of theirs.
    react(
        &app,
        &reaction(&app, "29:u2", "c-a:conv-u0", &["angry"], &[]),
    )
    .await;
    assert_eq!(
        counts(&app, &c.id).await,
        pairs(&[("like", 2), ("laugh", 1), ("surprised", 1)])
    );
    let report = |locale: &'static str| {
        let mut a = app.message(
            &format!("1:{}", uuid::Uuid::new_v4()),
            ADMIN,
            "campaign report spring",
        );
        a["locale"] = json!(locale);
        a
    };
    let card = app
        .replies_to(&report("en-US"))
        .await
        .pop()
        .unwrap()
        .to_string();
    assert!(
        card.contains("Reactions: 👍 like 2 · 😆 laugh 1 · 😮 surprised 1"),
        "{card}"
    );
    let card = app
        .replies_to(&report("fr-FR"))
        .await
        .pop()
        .unwrap()
        .to_string();
    assert!(
        card.contains("Réactions : 👍 like 2 · 😆 laugh 1 · 😮 surprised 1"),
        "{card}"
    );

    // Completed, then past retention: the report is folded with its reactions and the
    // reaction rows go with the reads.
    let id = c.id.clone();
    app.app_db
        .run(move |conn| herald::store::campaigns::complete_finished(conn, later))
        .await
        .unwrap();
    let purged = app
        .app_db
        .run(move |conn| {
            let policy = herald::config::retention::RetentionSettings::default().policy();
            retention::purge(conn, &policy, later + TimeDelta::days(200), &mut |_, _| {})
        })
        .await
        .unwrap();
    assert_eq!(purged.rows.get(&Table::Reactions), Some(&4), "{purged:?}");
    let left = app
        .app_db
        .run(move |conn| reactions::by_user(conn, &id))
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    let card = app
        .replies_to(&report("en-US"))
        .await
        .pop()
        .unwrap()
        .to_string();
    assert!(
        card.contains("Reactions: 👍 like 2 · 😆 laugh 1 · 😮 surprised 1"),
        "{card}"
    );
}
