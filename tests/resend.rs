//! `campaign resend` and `broadcast resend`: sent again, once, only to those who missed it:
//! recipients whose delivery failed, and people not installed at the time who have herald now.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use common::*;
use herald::store::deliveries::{self, Delivery};
use herald::store::{campaigns, users};

on_both_backends!(
    campaign_resend_sends_exactly_the_failed_again_once,
    broadcast_resend_reaches_who_installed_since_and_nobody_else,
    a_campaign_resend_waits_for_its_business_hours,
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

/// Counts the messages to `conversation` (as stored, e.g. `a:conv-u0`) that `counts` picks
/// (replies and welcomes aside), answering each post with `respond`.
async fn sends_to<F>(
    app: &TestApp,
    conversation: &str,
    counts: fn(&Value) -> bool,
    respond: F,
) -> Count
where
    F: Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
{
    let encoded = conversation.replace(':', "%3A");
    let count = Count::default();
    let seen = count.clone();
    record_posts(
        &app.connector,
        &format!("^/v3/conversations/{encoded}/activities$"),
        move |r: &Request| {
            if r.body_json::<Value>().is_ok_and(|b| counts(&b)) {
                seen.0.fetch_add(1, Ordering::SeqCst);
            }
            respond(r)
        },
    )
    .await;
    count
}

#[derive(Clone, Default)]
struct Count(Arc<AtomicUsize>);

impl Count {
    fn len(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The campaign's message.
fn hello(b: &Value) -> bool {
    b["text"].as_str().is_some_and(|t| t.starts_with("Hello"))
}

/// The broadcast's card.
fn card(b: &Value) -> bool {
    b["summary"] == "Plan"
}

async fn deliveries_of(app: &TestApp, messages: &[String]) -> Vec<Delivery> {
    let mut all = Vec::new();
    for m in messages {
        let m = m.clone();
        all.extend(
            app.app_db
                .run(move |conn| deliveries::of_message(conn, &m))
                .await
                .unwrap(),
        );
    }
    all
}

async fn resends_of(app: &TestApp, messages: &[String]) -> Vec<(String, i32)> {
    let messages = messages.to_vec();
    app.app_db
        .run(move |conn| {
            use diesel::prelude::*;
            use herald::store::schema::deliveries as d;
            Ok(herald::run_on!(conn, |x| d::table
                .filter(d::message_id.eq_any(&messages))
                .order(d::id)
                .select((d::user_id, d::resends))
                .load::<(String, i32)>(x))?)
        })
        .await
        .unwrap()
}

async fn all_ended(app: &TestApp, messages: &[String], n: usize) {
    wait_for(WAIT, "every delivery ended", || {
        let messages = messages.to_vec();
        async move {
            let rows = deliveries_of(app, &messages).await;
            rows.len() == n && rows.iter().all(|d| d.status != "pending")
        }
    })
    .await;
    app.drained("nothing left to send").await;
}

async fn user_id(app: &TestApp, channel_user: &str) -> String {
    let channel_user = channel_user.to_string();
    app.app_db
        .run(move |conn| {
            Ok(users::list(conn)?
                .into_iter()
                .find(|u| u.channel_user_id == channel_user)
                .map(|u| u.id))
        })
        .await
        .unwrap()
        .unwrap()
}

async fn campaign_resend_sends_exactly_the_failed_again_once(backend: Backend) {
    let app = setup(backend, 8).await;
    // u0..u4 are refused (500, 403) until `healed`; u5..u7 get it at once.
    let healed = Arc::new(AtomicBool::new(false));
    let mut failing = Vec::new();
    for i in 0..5 {
        let healed = healed.clone();
        failing.push(
            sends_to(&app, &format!("a:conv-u{i}"), hello, move |_| {
                if healed.load(Ordering::SeqCst) {
                    sent()
                } else if i % 2 == 0 {
                    ResponseTemplate::new(500)
                        .set_body_json(json!({"error": {"code": "InternalServerError"}}))
                } else {
                    ResponseTemplate::new(403)
                        .set_body_json(json!({"error": {"code": "Forbidden"}}))
                }
            })
            .await,
        );
    }
    let mut fine = Vec::new();
    for i in 5..8 {
        fine.push(sends_to(&app, &format!("a:conv-u{i}"), hello, |_| sent()).await);
    }
    let emails: Vec<String> = (0..8).map(|i| format!("ada.u{i}@contoso.com")).collect();
    app.tell(
        ADMIN,
        &format!("list create eight {} ghost@contoso.com", emails.join(" ")),
        "en-US",
    )
    .await;
    // Not started yet: nothing to resend.
    let start = app.now() + TimeDelta::minutes(2);
    app.tell(
        ADMIN,
        &format!(
            "campaign create again\nlist: eight\nstart: {}\nduration: 1h\nhours: always\n\
             timezone: UTC\npresence: any\nmessage:\nHello [FIRSTNAME]",
            start.format("%Y-%m-%d %H:%M")
        ),
        "en-US",
    )
    .await;
    let reply = app.tell(ADMIN, "campaign resend again", "en-US").await;
    assert_eq!(
        reply,
        "Campaign **again** has not started yet: there is nothing to resend."
    );
    app.advance(TimeDelta::hours(2));
    app.engine.wake();
    let c = app
        .app_db
        .run(|conn| campaigns::find(conn, TENANT, "again"))
        .await
        .unwrap()
        .unwrap();
    let messages = vec![c.id.clone()];
    all_ended(&app, &messages, 8).await;
    // The planner completes it at its next look.
    app.engine.wake();
    let status = |app: &TestApp| {
        let id = c.id.clone();
        let db = app.app_db.clone();
        async move {
            db.run(move |conn| campaigns::get(conn, &id))
                .await
                .unwrap()
                .unwrap()
                .status
        }
    };
    wait_for(WAIT, "the campaign completed", || async {
        status(&app).await.as_str() == "completed"
    })
    .await;
    let rows = deliveries_of(&app, &messages).await;
    assert_eq!(rows.iter().filter(|d| d.status == "failed").count(), 5);

    // Non-admins are refused; unknown names are named.
    app.post_signed(&app.install("f:x", "29:stranger")).await;
    let refused = app
        .tell("29:stranger", "campaign resend again", "en-US")
        .await;
    assert!(
        refused.contains("only herald's administrators"),
        "{refused}"
    );
    let unknown = app.tell(ADMIN, "campaign resend nope", "en-US").await;
    assert!(
        unknown.contains("There is no campaign named **nope**"),
        "{unknown}"
    );

    // The connector accepts them now: the resend reaches exactly those 5.
    healed.store(true, Ordering::SeqCst);
    let reply = app.tell(ADMIN, "campaign resend again", "en-US").await;
    assert_eq!(
        reply,
        "Campaign **again** is sent again to 5 people: 5 whose delivery had failed, 0 who have \
         installed herald since.\nLeft out: 0 whose delivery failed and who no longer have \
         herald, 1 list members who still have not installed it."
    );
    all_ended(&app, &messages, 8).await;
    for (i, r) in failing.iter().enumerate() {
        assert_eq!(r.len(), 2, "u{i}: once, then once again");
    }
    for (i, r) in fine.iter().enumerate() {
        assert_eq!(r.len(), 1, "u{}: only once", i + 5);
    }
    let rows = deliveries_of(&app, &messages).await;
    assert!(rows.iter().all(|d| d.status == "delivered"), "{rows:?}");
    let resends = resends_of(&app, &messages).await;
    assert_eq!(resends.iter().filter(|(_, n)| *n == 1).count(), 5);
    assert_eq!(resends.iter().filter(|(_, n)| *n == 0).count(), 3);
    // Reopened while it was sent again, completed once more.
    app.engine.wake();
    wait_for(WAIT, "the campaign completed again", || async {
        status(&app).await.as_str() == "completed"
    })
    .await;

    // A second resend: nobody failed again, so nothing is sent (in French this time).
    let reply = app.tell(ADMIN, "campagne renvoyer again", "fr-FR").await;
    assert!(
        reply.starts_with("Rien à renvoyer pour la campagne **again**"),
        "{reply}"
    );
    app.drained("nothing new").await;
    for r in &failing {
        assert_eq!(r.len(), 2);
    }
}

async fn broadcast_resend_reaches_who_installed_since_and_nobody_else(backend: Backend) {
    let app = setup(backend, 2).await;
    let got: Vec<Count> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(sends_to(&app, &format!("a:conv-u{i}"), card, |_| sent()).await);
        }
        v
    };
    app.tell(
        ADMIN,
        "list create trio ada.u0@contoso.com ada.u1@contoso.com ada.u2@contoso.com",
        "en-US",
    )
    .await;
    let mut a = app.message(
        "1:bc",
        ADMIN,
        "broadcast trio\nsubject: Plan\nThe plan is ready.",
    );
    a["locale"] = json!("en-US");
    let reply = app.replies_to(&a).await.pop().expect("a reply");
    assert!(
        reply_text(&reply).contains("on its way to 2 people"),
        "{reply}"
    );
    let bc = app
        .app_db
        .run(|conn| herald::store::broadcasts::find(conn, TENANT, 1))
        .await
        .unwrap()
        .unwrap();
    let cards = {
        let id = bc.id.clone();
        app.app_db
            .run(move |conn| herald::store::broadcasts::cards(conn, &id))
            .await
            .unwrap()
    };
    all_ended(&app, &cards, 2).await;
    assert_eq!((got[0].len(), got[1].len(), got[2].len()), (1, 1, 0));

    // u2 installs herald after the broadcast; a French reader gets the French card.
    let mut install = app.install("f:u2", "29:u2");
    install["locale"] = json!("fr-FR");
    app.post_signed(&install).await;
    let refused = app.tell("29:u1", "broadcast resend 1", "en-US").await;
    assert!(
        refused.contains("only herald's administrators"),
        "{refused}"
    );
    let unknown = app.tell(ADMIN, "broadcast resend 99", "en-US").await;
    assert!(unknown.contains("There is no broadcast"), "{unknown}");
    let reply = app.tell(ADMIN, "broadcast resend 1", "en-US").await;
    assert_eq!(
        reply,
        "Broadcast **#1** is sent again to 1 person: 0 whose card had failed, 1 who have \
         installed herald since."
    );
    let cards = {
        let id = bc.id.clone();
        app.app_db
            .run(move |conn| herald::store::broadcasts::cards(conn, &id))
            .await
            .unwrap()
    };
    all_ended(&app, &cards, 3).await;
    assert_eq!(
        (got[0].len(), got[1].len(), got[2].len()),
        (1, 1, 1),
        "only the newcomer"
    );
    let u2 = user_id(&app, "29:u2").await;
    let resends = resends_of(&app, &cards).await;
    assert_eq!(
        resends.iter().find(|(u, _)| *u == u2).map(|(_, n)| *n),
        Some(1)
    );
    assert_eq!(resends.iter().filter(|(_, n)| *n == 0).count(), 2);
    // Counted as reached now, and shown apart in the report.
    let bc = {
        let id = bc.id.clone();
        app.app_db
            .run(move |conn| herald::store::broadcasts::get(conn, &id))
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!((bc.targeted, bc.not_installed), (3, 0));
    let mut a = app.message("1:info", ADMIN, "broadcast info 1");
    a["locale"] = json!("en-US");
    let info = app.replies_to(&a).await.pop().expect("a reply").to_string();
    assert!(
        info.contains("Chats repaired: 0. Resent: 1 (1 delivered)."),
        "{info}"
    );
    // Again: nobody left to reach.
    let reply = app.tell(ADMIN, "diffusion renvoyer 1", "fr-FR").await;
    assert!(
        reply.starts_with("Rien à renvoyer pour la diffusion **#1**"),
        "{reply}"
    );
}

async fn a_campaign_resend_waits_for_its_business_hours(backend: Backend) {
    let app = setup(backend, 2).await;
    let healed = Arc::new(AtomicBool::new(false));
    let flag = healed.clone();
    let failing = sends_to(&app, "a:conv-u0", hello, move |_| {
        if flag.load(Ordering::SeqCst) {
            sent()
        } else {
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"code": "InternalServerError"}}))
        }
    })
    .await;
    app.tell(
        ADMIN,
        "list create pair ada.u0@contoso.com ada.u1@contoso.com",
        "en-US",
    )
    .await;
    // Open one whole weekday only: the day after tomorrow's.
    let t0 = app.now();
    let day = (t0 + TimeDelta::days(2)).date_naive();
    let start = t0 + TimeDelta::minutes(2);
    let reply = app
        .tell(
            ADMIN,
            &format!(
                "campaign create weekly\nlist: pair\nstart: {}\nduration: 3d\n\
                 hours: {} 00:00-24:00\ntimezone: UTC\npresence: any\nmessage:\nHello [FIRSTNAME]",
                start.format("%Y-%m-%d %H:%M"),
                day.format("%a"),
            ),
            "en-US",
        )
        .await;
    assert!(
        reply.starts_with("Campaign **weekly** scheduled."),
        "{reply}"
    );
    app.advance(TimeDelta::days(3) + TimeDelta::minutes(5));
    app.engine.wake();
    let c = app
        .app_db
        .run(|conn| campaigns::find(conn, TENANT, "weekly"))
        .await
        .unwrap()
        .unwrap();
    let messages = vec![c.id.clone()];
    all_ended(&app, &messages, 2).await;
    assert_eq!(failing.len(), 1);

    // Its hours are closed now: the resend waits for their next opening, a week on.
    healed.store(true, Ordering::SeqCst);
    let opening = (day + chrono::Days::new(7)).and_hms_opt(0, 0, 0).unwrap();
    let reply = app.tell(ADMIN, "campaign resend weekly", "en-US").await;
    assert!(
        reply.contains(&format!(
            "It goes out at {} UTC, when its business hours open.",
            opening.format("%Y-%m-%d %H:%M")
        )),
        "{reply}"
    );
    let rows = deliveries_of(&app, &messages).await;
    let again: Vec<&Delivery> = rows.iter().filter(|d| d.status == "pending").collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].next_attempt_at, opening);
    assert_eq!(again[0].planned_at, Some(opening));
    // Nothing goes before it.
    app.engine.wake();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(failing.len(), 1);
    app.advance(TimeDelta::days(7));
    app.engine.wake();
    all_ended(&app, &messages, 2).await;
    assert_eq!(failing.len(), 2);
    let rows = deliveries_of(&app, &messages).await;
    assert!(rows.iter().all(|d| d.status == "delivered"), "{rows:?}");
}
