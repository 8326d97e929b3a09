//! Tracked links and reports end to end: links rewritten per recipient, clicks counted and
//! redirected, forged tokens refused; the report card's counts, its CSV and its chart.

mod common;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use common::*;
use herald::domain::tracking::{ReportFile, ReportGrant, ReportKind, Signer};
use herald::store::deliveries::{self, Outcome};

const ADMIN: &str = "29:boss";
const PUBLIC: &str = "https://herald.example.com";
const WAIT: Duration = Duration::from_secs(20);

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

/// The tracking secret the app made and keeps in its database.
async fn signer(app: &TestApp) -> Signer {
    let secret = app
        .app_db
        .run(|conn| herald::store::tracking::shared_secret(conn, Utc::now()))
        .await
        .unwrap();
    Signer::new(secret.as_bytes())
}

/// Our app's URL for a public one.
fn local(app: &TestApp, public: &str) -> String {
    public.replacen(PUBLIC, &app.address, 1)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn tracked_links(text: &str) -> Vec<String> {
    text.split(|c: char| c == '(' || c == ')' || c.is_whitespace())
        .filter(|w| w.starts_with(&format!("{PUBLIC}/l/")))
        .map(|w| w.trim_end_matches(['.', ',']).to_string())
        .collect()
}

async fn cards(app: &TestApp) -> Vec<Value> {
    app.sent_messages()
        .await
        .iter()
        .filter_map(|r| r.body_json::<Value>().ok())
        .filter(|b| b["summary"] == "Plan")
        .collect()
}

async fn say_card(app: &TestApp, text: &str) -> Value {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), ADMIN, text);
    a["locale"] = json!("en-US");
    app.replies_to(&a).await.pop().expect("a reply")
}

async fn links_are_tracked_per_person_and_forgeries_refused(backend: Backend) {
    let app = setup(backend, 3).await;
    app.say(
        ADMIN,
        "list create trio ada.u0@contoso.com ada.u1@contoso.com ada.u2@contoso.com",
        "en-US",
    )
    .await;
    let reply = say_card(
        &app,
        "broadcast trio\nsubject: Plan\nSee [the plan](https://intra.example.com/plan?q=1) and https://example.org/faq.",
    )
    .await;
    assert!(reply_text(&reply).contains("on its way to 3 people"));
    wait_for(WAIT, "3 cards", || async { cards(&app).await.len() == 3 }).await;
    let mut all = Vec::new();
    let mut first_of_u0 = String::new();
    for card in cards(&app).await {
        let body = card["attachments"][0]["content"]["body"][2]["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            !body.contains("intra.example.com") && !body.contains("example.org"),
            "{body}"
        );
        assert!(
            body.starts_with("See [the plan](https://herald.example.com/l/"),
            "{body}"
        );
        let links = tracked_links(&body);
        assert_eq!(links.len(), 2, "{body}");
        if card["conversation"]["id"] == "a:conv-u0" {
            first_of_u0 = links[0].clone();
        }
        all.extend(links);
    }
    let mut distinct = all.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6, "every person's links are their own");

    let client = no_redirects();
    for _ in 0..2 {
        let r = client.get(local(&app, &first_of_u0)).send().await.unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(
            r.headers()["location"],
            "https://intra.example.com/plan?q=1"
        );
    }
    // One changed character, and a token signed with another secret: 404, nothing counted.
    let token = first_of_u0.rsplit('/').next().unwrap().to_string();
    let mut chars: Vec<char> = token.chars().collect();
    chars[10] = if chars[10] == 'x' { 'y' } else { 'x' };
    let tampered: String = chars.into_iter().collect();
    let r = client
        .get(format!("{}/l/{tampered}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (delivery, idx) = signer(&app)
        .await
        .open_link(&token, Utc::now().timestamp())
        .unwrap();
    let forged =
        Signer::new(b"another herald").link_token(delivery, idx, Utc::now().timestamp() + 3600);
    let r = client
        .get(format!("{}/l/{forged}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    // A genuine token for a link the message does not have: 404 too.
    let absent = signer(&app)
        .await
        .link_token(delivery, 7, Utc::now().timestamp() + 3600);
    let r = client
        .get(format!("{}/l/{absent}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let info = say_card(&app, "broadcast info 1").await;
    let text = info["attachments"][0]["content"].to_string();
    assert!(text.contains("Clicks: 1 person, 2 in all"), "{text}");
}

/// A campaign with two delivered, one waiting for presence, one expired, one failed and one
/// member not installed: the report, the CSV and the chart say so.
async fn the_report_card_csv_and_chart_say_what_happened(backend: Backend) {
    let app = setup(backend, 5).await;
    app.say(
        ADMIN,
        "list create spring ada.u0@contoso.com ada.u1@contoso.com ada.u2@contoso.com \
         ada.u3@contoso.com ada.u4@contoso.com ghost@contoso.com",
        "en-US",
    )
    .await;
    let reply = app
        .say(
            ADMIN,
            "campaign create spring\nlist: spring\nstart: 2030-12-02 10:00\nduration: 2h\n\
             message:\nBonjour [FIRSTNAME], see https://intra.example.com/spring",
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
    // Start it now (as the planner does at its start), links tracked.
    let c2 = c.clone();
    app.app_db
        .run(move |conn| herald::engine::planner::plan(conn, &c2.id, c2.start_at.and_utc(), true))
        .await
        .unwrap();
    // Play the outcomes by hand, in the future the plan is due in.
    let later = c.start_at.and_utc() + TimeDelta::hours(3);
    let leased = app
        .app_db
        .run(move |conn| {
            let tenants = [c.tenant_id.clone()];
            deliveries::lease(
                conn,
                "test",
                &tenants,
                &[],
                later,
                later + TimeDelta::hours(1),
                10,
            )
        })
        .await
        .unwrap();
    assert_eq!(leased.len(), 5);
    let by_user = |n: usize| {
        leased
            .iter()
            .find(|l| l.user.conversation_id == format!("a:conv-u{n}"))
            .unwrap()
            .delivery
            .id
    };
    let next = later + TimeDelta::minutes(10);
    let outcomes = vec![
        Outcome::Delivered {
            id: by_user(0),
            activity_id: Some("1".into()),
        },
        Outcome::Delivered {
            id: by_user(1),
            activity_id: Some("2".into()),
        },
        Outcome::Absent {
            id: by_user(2),
            at: next,
            step: 1,
            presence: Some("Away".into()),
        },
        Outcome::Expired {
            id: by_user(3),
            presence: Some("Offline".into()),
        },
        Outcome::Failed {
            id: by_user(4),
            reason: "refused".into(),
            error: "HTTP 400 BadArgument".into(),
            user_gone: None,
        },
    ];
    app.app_db
        .run(move |conn| deliveries::record(conn, "test", &outcomes, later))
        .await
        .unwrap();
    // u0 clicks the campaign's link twice.
    let token = signer(&app)
        .await
        .link_token(by_user(0), 0, Utc::now().timestamp() + 3600);
    for _ in 0..2 {
        let r = no_redirects()
            .get(format!("{}/l/{token}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "https://intra.example.com/spring");
    }

    // u0 read their message (id 1) per a Teams read receipt; u1's receipt stops before theirs (2).
    for (user, last) in [("29:u0", "1"), ("29:u1", "1"), ("29:u0", "5")] {
        let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, "");
        a["type"] = json!("event");
        a["name"] = json!("application/vnd.microsoft.readReceipt");
        a["value"] = json!({ "lastReadMessageId": last });
        assert_eq!(app.post_signed(&a).await.status(), 200);
    }

    let card = say_card(&app, "campaign report spring").await;
    let content = &card["attachments"][0]["content"];
    let facts: Vec<(String, String)> = content["body"]
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
        .collect();
    let fact = |t: &str| facts.iter().find(|f| f.0 == t).unwrap().1.clone();
    assert_eq!(fact("Targeted"), "6");
    assert_eq!(fact("Not installed"), "1");
    assert_eq!(fact("Planned"), "0");
    assert_eq!(fact("Delivered"), "2");
    assert!(
        fact("Waiting for presence").starts_with("1 (next attempt 2030-12-02"),
        "{facts:?}"
    );
    assert_eq!(fact("Expired"), "1");
    assert_eq!(fact("Failed"), "1 refused");
    assert_eq!(fact("Clicked (people)"), "1");
    assert_eq!(fact("Clicks"), "2");
    assert_eq!(fact("Read (read receipts)"), "1");
    assert!(
        content
            .to_string()
            .contains("▓▓▓▓░░░░░░ 40% (2/5 delivered)"),
        "{content}"
    );
    let list = app.say(ADMIN, "campaigns", "en-US").await;
    assert!(
        list.contains("running") && list.contains("2/5 delivered `▓▓▓▓░░░░░░ 40%`"),
        "{list}"
    );

    // The CSV: one row per recipient, the same facts.
    let csv_url = content["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "Action.OpenUrl")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        csv_url.starts_with(&format!("{PUBLIC}/reports/")),
        "{csv_url}"
    );
    let r = app.client.get(local(&app, &csv_url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("spring-recipients.csv")
    );
    let csv = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        headers,
        [
            "name",
            "email",
            "status",
            "attempts",
            "last_attempt",
            "next_attempt",
            "sent_at",
            "read_at",
            "first_click",
            "clicks",
            "error",
            "repairs",
            "resends",
            "presence_at_last_attempt",
            "activity_at_last_attempt",
            "presence_now",
            "activity_now",
            "presence_observed_at",
            // Each person's own time (`time: local`).
            "zone",
            "planned_local",
            // Engagement (issue 17).
            "reactions"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 6);
    let row = |email: &str| rows.iter().find(|r| r[1] == email).unwrap().clone();
    let u0 = row("ada.u0@contoso.com");
    assert_eq!(
        (u0[2].as_str(), u0[3].as_str(), u0[9].as_str()),
        ("delivered", "1", "2")
    );
    assert!(
        !u0[6].is_empty() && !u0[7].is_empty() && !u0[8].is_empty(),
        "{u0:?}"
    );
    assert!(row("ada.u1@contoso.com")[7].is_empty());
    let u2 = row("ada.u2@contoso.com");
    assert_eq!(u2[2], "waiting for presence");
    assert!(u2[5].starts_with("2030-12-02T"), "{u2:?}");
    assert_eq!(row("ada.u3@contoso.com")[2], "expired");
    let u4 = row("ada.u4@contoso.com");
    assert_eq!(
        (u4[2].as_str(), u4[10].as_str()),
        ("failed: refused", "HTTP 400 BadArgument")
    );
    assert_eq!(row("ghost@contoso.com")[2], "not installed");

    // The chart: a PNG that decodes, of a sensible size.
    let chart_url = content["body"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "Image")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .client
        .get(local(&app, &chart_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(png.to_vec()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), herald::reports::CHART_SIZE);
    assert!(png.len() > 2_000 && png.len() < 300_000, "{}", png.len());
    assert!(pixels.iter().any(|&p| p < 128), "something is drawn");

    // An expired download link: 410; a tampered one: 404.
    let expired = signer(&app).await.report_token(
        &ReportGrant {
            kind: ReportKind::Campaign,
            id: c.id.clone(),
            file: ReportFile::Csv,
        },
        Utc::now().timestamp() - 1,
    );
    let r = app
        .client
        .get(format!("{}/reports/{expired}/x.csv", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    let r = app
        .client
        .get(format!(
            "{}/reports/{}x/x.csv",
            app.address,
            &expired[..expired.len() - 1]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// Without `server.public_url` links stay as written and the report says tracking is off.
async fn without_a_public_url_links_are_left_alone(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]").await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    app.post_signed(&app.install("f:u0", "29:u0")).await;
    let reply = say_card(
        &app,
        "broadcast all\nsubject: Plan\nSee https://example.org/faq",
    )
    .await;
    assert!(reply_text(&reply).contains("on its way to 2 people"));
    wait_for(WAIT, "2 cards", || async { cards(&app).await.len() == 2 }).await;
    for card in cards(&app).await {
        assert_eq!(
            card["attachments"][0]["content"]["body"][2]["text"],
            "See https://example.org/faq"
        );
    }
    let info = say_card(&app, "broadcast info 1").await;
    let text = info["attachments"][0]["content"].to_string();
    assert!(text.contains("Link tracking is off"), "{text}");
    assert!(
        !text.contains("Action.OpenUrl") && !text.contains("\"Image\""),
        "{text}"
    );
}

on_both_backends!(
    links_are_tracked_per_person_and_forgeries_refused,
    the_report_card_csv_and_chart_say_what_happened,
    without_a_public_url_links_are_left_alone,
);
