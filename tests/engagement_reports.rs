//! Engagement in the report files: the CSV a `broadcast info` or `campaign report` links to gains
//! each person's reactions (both) and first reminder, acknowledgement and poll answer
//! (broadcasts), after the columns it always had, which do not change; the chart's legend
//! counts reactions per type.

mod common;

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use common::*;
use herald::domain::Lang;
use herald::store::broadcasts::{self, Role};
use herald::store::deliveries::{self, Outcome};
use herald::store::schema::{
    broadcast_acks as a, broadcast_answers as an, deliveries as d, message_reactions as mr,
    users as u,
};

const ADMIN: &str = "29:boss";
const PUBLIC: &str = "https://herald.example.com";
const WAIT: Duration = Duration::from_secs(20);

/// The columns every report CSV had before engagement.
const DELIVERY_COLUMNS: usize = 20;

async fn setup(backend: Backend, users: usize) -> TestApp {
    let app = spawn_app_configured(
        backend,
        &format!("public_url = \"{PUBLIC}\""),
        "admins = [\"aad-boss\"]",
    )
    .await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    for i in 0..users {
        app.post_signed(&app.install(&format!("f:u{i}"), &format!("29:u{i}")))
            .await;
    }
    app
}

async fn say_card(app: &TestApp, text: &str) -> Value {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), ADMIN, text);
    a["locale"] = json!("en-US");
    app.replies_to(&a).await.pop().expect("a reply")
}

/// The report card's CSV link and chart link, as paths on our app.
fn report_links(app: &TestApp, card: &Value) -> (String, String) {
    let content = &card["attachments"][0]["content"];
    let csv = content["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "Action.OpenUrl")
        .unwrap_or_else(|| panic!("a CSV link in {content}"))["url"]
        .as_str()
        .unwrap()
        .replacen(PUBLIC, &app.address, 1);
    let chart = content["body"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "Image")
        .unwrap_or_else(|| panic!("a chart in {content}"))["url"]
        .as_str()
        .unwrap()
        .replacen(PUBLIC, &app.address, 1);
    (csv, chart)
}

/// The CSV's header and rows, by email.
async fn download_csv(app: &TestApp, url: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let r = app.client.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn row<'a>(rows: &'a [Vec<String>], email: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[1] == email)
        .unwrap_or_else(|| panic!("{email} in {rows:?}"))
}

/// The chart's pixels (RGB), checked to be a PNG of the chart's size.
async fn chart_pixels(app: &TestApp, url: &str) -> Vec<u8> {
    let r = app.client.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.unwrap().to_vec();
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), herald::reports::CHART_SIZE);
    pixels
}

/// The rows of the chart where `after` differs from `before`.
fn changed_rows(before: &[u8], after: &[u8]) -> Vec<i32> {
    (0..before.len() / 3)
        .filter(|&i| before[i * 3..i * 3 + 3] != after[i * 3..i * 3 + 3])
        .map(|i| (i as u32 / herald::reports::CHART_SIZE.0) as i32)
        .collect()
}

async fn user_ids(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let key = format!("29:u{i}");
        let id: String = app
            .app_db
            .run(move |conn| {
                Ok::<_, herald::store::StoreError>(herald::run_on!(conn, |c| u::table
                    .filter(u::channel_user_id.eq(&key))
                    .select(u::id)
                    .first(c))?)
            })
            .await
            .unwrap();
        ids.push(id);
    }
    ids
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

async fn react(app: &TestApp, subject: &str, kind: &str, user: &str, reaction: &str) {
    let (subject, kind, user, reaction) = (
        subject.to_string(),
        kind.to_string(),
        user.to_string(),
        reaction.to_string(),
    );
    app.app_db
        .run(move |conn| {
            herald::run_on!(conn, |c| diesel::insert_into(mr::table)
                .values((
                    mr::subject_id.eq(&subject),
                    mr::subject_kind.eq(&kind),
                    mr::user_id.eq(&user),
                    mr::reaction.eq(&reaction),
                    mr::reacted_at.eq(at("2026-11-30 09:00:00")),
                ))
                .execute(c))?;
            Ok::<_, herald::store::StoreError>(())
        })
        .await
        .unwrap();
}

/// A reminder round of `broadcast` as herald files it (a reminder message of the broadcast),
/// with one send per `(user, status, completed_at)`.
async fn reminder_round(
    app: &TestApp,
    broadcast: &str,
    sends: Vec<(String, &'static str, Option<NaiveDateTime>)>,
) {
    let broadcast = broadcast.to_string();
    app.app_db
        .run(move |conn| {
            let message = uuid::Uuid::now_v7().to_string();
            deliveries::create_message(
                conn,
                &message,
                TENANT,
                "broadcast-reminder",
                &json!({"type": "message"}),
                Utc::now(),
            )?;
            broadcasts::add_message(conn, &broadcast, &message, Role::Reminder, Lang::En)?;
            let now = Utc::now().naive_utc();
            for (user, status, completed) in sends {
                herald::run_on!(conn, |c| diesel::insert_into(d::table)
                    .values((
                        d::message_id.eq(&message),
                        d::tenant_id.eq(TENANT),
                        d::user_id.eq(&user),
                        d::operation.eq("send"),
                        d::status.eq(status),
                        d::attempts.eq(1),
                        d::next_attempt_at.eq(now),
                        d::created_at.eq(now),
                        d::updated_at.eq(now),
                        d::completed_at.eq(completed),
                    ))
                    .execute(c))?;
            }
            Ok::<_, herald::store::StoreError>(())
        })
        .await
        .unwrap();
}

async fn broadcast_csv_has_reactions_reminders_acknowledgements_and_answers(backend: Backend) {
    let app = setup(backend, 4).await;
    app.say(
        ADMIN,
        "list create team ada.u0@contoso.com ada.u1@contoso.com ada.u2@contoso.com \
         ada.u3@contoso.com",
        "en-US",
    )
    .await;
    let reply = say_card(
        &app,
        "broadcast team\nack: yes\nchoices: Yes | No | =Maybe\nsubject: Rota\nWho works Saturday?",
    )
    .await;
    assert!(
        reply_text(&reply).contains("on its way to 4 people"),
        "{reply}"
    );
    let bc = app
        .app_db
        .run(|conn| broadcasts::recent(conn, TENANT, 1))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(bc.ack);
    assert_eq!(bc.choices(), ["Yes", "No", "=Maybe"]);
    let sends: Vec<String> = app
        .app_db
        .run({
            let id = bc.id.clone();
            move |conn| broadcasts::messages(conn, &id, Role::Card)
        })
        .await
        .unwrap()
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    wait_for(WAIT, "4 cards delivered", || {
        let (db, sends) = (app.app_db.clone(), sends.clone());
        async move {
            db.run(move |conn| {
                Ok::<_, herald::store::StoreError>(herald::run_on!(conn, |c| d::table
                    .filter(d::message_id.eq_any(&sends))
                    .filter(d::status.eq("delivered"))
                    .count()
                    .get_result::<i64>(c))?)
            })
            .await
            .unwrap()
                == 4
        }
    })
    .await;

    let info = say_card(&app, &format!("broadcast info {}", bc.number)).await;
    let (csv_url, chart_url) = report_links(&app, &info);
    let (header, before) = download_csv(&app, &csv_url).await;
    assert_eq!(
        header[DELIVERY_COLUMNS - 2..],
        [
            "zone",
            "planned_local",
            "reactions",
            "reminded_at",
            "acknowledged_at",
            "answer"
        ]
    );
    assert_eq!(header[..3], ["name", "email", "status"]);
    assert_eq!(before.len(), 4);
    for r in &before {
        assert_eq!(r[2], "delivered", "{r:?}");
        assert_eq!(
            r[DELIVERY_COLUMNS..],
            ["", "", "", ""],
            "nothing yet: {r:?}"
        );
    }
    let chart_before = chart_pixels(&app, &chart_url).await;

    // u0 acknowledges, answers Yes then =Maybe, reacts like and heart; u1 answers Yes, reacts
    // like, gets two reminders; u2's reminder failed; u3 reacted only to another message.
    let ids = user_ids(&app, 4).await;
    let (id, u0, u1) = (bc.id.clone(), ids[0].clone(), ids[1].clone());
    app.app_db
        .run(move |conn| {
            herald::run_on!(conn, |c| diesel::insert_into(a::table)
                .values((
                    a::broadcast_id.eq(&id),
                    a::user_id.eq(&u0),
                    a::acked_at.eq(at("2026-11-30 10:15:00")),
                ))
                .execute(c))?;
            for (user, choice, changes) in [(&u0, 2, 1), (&u1, 0, 0)] {
                herald::run_on!(conn, |c| diesel::insert_into(an::table)
                    .values((
                        an::broadcast_id.eq(&id),
                        an::user_id.eq(user),
                        an::choice.eq(choice),
                        an::answered_at.eq(at("2026-11-30 10:20:00")),
                        an::changes.eq(changes),
                    ))
                    .execute(c))?;
            }
            Ok::<_, herald::store::StoreError>(())
        })
        .await
        .unwrap();
    react(&app, &bc.id, "broadcast", &ids[0], "like").await;
    react(&app, &bc.id, "broadcast", &ids[0], "heart").await;
    react(&app, &bc.id, "broadcast", &ids[1], "like").await;
    react(&app, "another-message", "broadcast", &ids[3], "laugh").await;
    reminder_round(
        &app,
        &bc.id,
        vec![
            (ids[1].clone(), "delivered", Some(at("2026-12-01 09:00:00"))),
            (ids[2].clone(), "failed", Some(at("2026-12-01 09:00:05"))),
        ],
    )
    .await;
    reminder_round(
        &app,
        &bc.id,
        vec![(ids[1].clone(), "delivered", Some(at("2026-12-02 09:00:00")))],
    )
    .await;

    let (header_after, after) = download_csv(&app, &csv_url).await;
    assert_eq!(header_after, header);
    assert_eq!(after.len(), 4);
    let engagement = |email: &str| row(&after, email)[DELIVERY_COLUMNS..].to_vec();
    assert_eq!(
        engagement("ada.u0@contoso.com"),
        ["heart like", "", "2026-11-30T10:15:00Z", "'=Maybe"]
    );
    assert_eq!(
        engagement("ada.u1@contoso.com"),
        ["like", "2026-12-01T09:00:00Z", "", "Yes"]
    );
    assert_eq!(engagement("ada.u2@contoso.com"), ["", "", "", ""]);
    assert_eq!(engagement("ada.u3@contoso.com"), ["", "", "", ""]);
    // The columns it always had say what they said.
    for r in &before {
        assert_eq!(
            row(&after, &r[1])[..DELIVERY_COLUMNS],
            r[..DELIVERY_COLUMNS]
        );
    }

    // The chart still draws, with one more line: the reactions legend.
    let chart_after = chart_pixels(&app, &chart_url).await;
    let rows = changed_rows(&chart_before, &chart_after);
    assert!(
        rows.len() > 100,
        "a legend is drawn ({} pixels)",
        rows.len()
    );
    let band = herald::reports::REACTIONS_BASELINE - 14..=herald::reports::REACTIONS_BASELINE + 4;
    assert!(
        rows.iter().all(|y| band.contains(y)),
        "only the legend changed"
    );
}

async fn campaign_csv_has_reactions(backend: Backend) {
    let app = setup(backend, 3).await;
    app.say(
        ADMIN,
        "list create spring ada.u0@contoso.com ada.u1@contoso.com ada.u2@contoso.com",
        "en-US",
    )
    .await;
    let reply = app
        .say(
            ADMIN,
            "campaign create spring\nlist: spring\nstart: 2030-12-02 10:00\nduration: 2h\n\
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
    let c2 = c.clone();
    app.app_db
        .run(move |conn| herald::engine::planner::plan(conn, &c2.id, c2.start_at.and_utc(), true))
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
        .enumerate()
        .map(|(i, l)| Outcome::Delivered {
            id: l.delivery.id,
            activity_id: Some(format!("{}", i + 1)),
        })
        .collect();
    app.app_db
        .run(move |conn| deliveries::record(conn, "test", &outcomes, later))
        .await
        .unwrap();

    let card = say_card(&app, "campaign report spring").await;
    let (csv_url, chart_url) = report_links(&app, &card);
    let (header, before) = download_csv(&app, &csv_url).await;
    assert_eq!(header.len(), DELIVERY_COLUMNS + 1);
    assert_eq!(
        header[DELIVERY_COLUMNS - 1..],
        ["planned_local", "reactions"]
    );
    let chart_before = chart_pixels(&app, &chart_url).await;

    let ids = user_ids(&app, 3).await;
    react(&app, &c.id, "campaign", &ids[2], "surprised").await;
    react(&app, &c.id, "campaign", &ids[2], "like").await;
    react(&app, &c.id, "campaign", &ids[0], "like").await;
    let (_, after) = download_csv(&app, &csv_url).await;
    let reactions = |email: &str| row(&after, email)[DELIVERY_COLUMNS].clone();
    assert_eq!(reactions("ada.u0@contoso.com"), "like");
    assert_eq!(reactions("ada.u1@contoso.com"), "");
    assert_eq!(reactions("ada.u2@contoso.com"), "like surprised");
    for r in &before {
        assert_eq!(r[DELIVERY_COLUMNS], "");
        assert_eq!(
            row(&after, &r[1])[..DELIVERY_COLUMNS],
            r[..DELIVERY_COLUMNS]
        );
    }
    let rows = changed_rows(&chart_before, &chart_pixels(&app, &chart_url).await);
    assert!(
        rows.len() > 100,
        "a legend is drawn ({} pixels)",
        rows.len()
    );
}

on_both_backends!(
    broadcast_csv_has_reactions_reminders_acknowledgements_and_answers,
    campaign_csv_has_reactions,
);
