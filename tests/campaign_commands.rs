//! Campaign commands in the admin chat: creation with checked fields, info, edit and delete
//! within the lifecycle, test sends, reports, French.

mod common;

use common::{Backend, TENANT, TestApp, spawn_app_with};
use herald::store::campaigns;
use serde_json::{Value, json};

on_both_backends!(
    an_admin_creates_a_campaign_with_checked_fields,
    every_bad_field_is_named_and_nothing_is_saved,
    edit_and_delete_follow_the_lifecycle,
    campaign_test_sends_one_personalised_message_now_and_changes_nothing,
    a_french_admin_creates_a_campaign_in_french,
    the_form_creates_a_campaign_and_shows_each_fields_error,
);

const ADMIN: &str = "admins = [\"aad-boss\"]";

/// A start date far enough ahead (a Monday, 10:00).
const START: &str = "2030-12-02 10:00";

fn create(name: &str, extra: &str) -> String {
    format!(
        "campaign create {name}\nlist: staff\nstart: {START}\nduration: 2h\nhours: Mon-Fri 09:00-18:00\n\
         timezone: Europe/Paris\npresence: available\n{extra}message:\nBonjour [FIRSTNAME] [LASTNAME] !"
    )
}

async fn campaign(app: &TestApp, name: &str) -> Option<campaigns::Campaign> {
    let name = name.to_string();
    app.app_db
        .run(move |conn| campaigns::find(conn, TENANT, &name))
        .await
        .unwrap()
}

async fn an_admin_creates_a_campaign_with_checked_fields(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    app.say("29:boss", "list create staff ada@contoso.com", "en-US")
        .await;
    let reply = app.say("29:boss", &create("welcome", ""), "en-US").await;
    assert!(
        reply.starts_with("Campaign **welcome** scheduled."),
        "{reply}"
    );
    for line in [
        "- channel: teams",
        "- list: staff",
        "- start: 2030-12-02 10:00",
        "- duration: 2h",
        "- hours: Mon-Fri 09:00-18:00",
        "- timezone: Europe/Paris",
        "- presence: available",
        "Bonjour [FIRSTNAME] [LASTNAME] !",
    ] {
        assert!(reply.contains(line), "{line} missing in {reply}");
    }
    let c = campaign(&app, "welcome").await.unwrap();
    assert_eq!(c.status, "scheduled");
    // 10:00 in Paris in December is 09:00 UTC.
    assert_eq!(c.start_at.to_string(), "2030-12-02 09:00:00");
    let info = app.say("29:boss", "campaign info welcome", "en-US").await;
    assert!(info.contains("- duration: 2h"), "{info}");
    let dup = app.say("29:boss", &create("Welcome", ""), "en-US").await;
    assert!(dup.contains("already exists"), "{dup}");
    let list = app.say("29:boss", "campaigns", "en-US").await;
    assert!(
        list.contains("**welcome** — scheduled — 2030-12-02 10:00 — 0/0 delivered"),
        "{list}"
    );
    let warn = app
        .say(
            "29:boss",
            &create("promo", "").replace("[LASTNAME]", "[COMPANY]"),
            "en-US",
        )
        .await;
    assert!(
        warn.contains("Warning: [COMPANY] is not a known placeholder"),
        "{warn}"
    );
    let report = app.say("29:boss", "campaign report welcome", "en-US").await;
    assert!(
        report.contains(r#"{"title":"Targeted","value":"0"}"#)
            && report.contains(r#"{"title":"Delivered","value":"0"}"#),
        "{report}"
    );
}

async fn every_bad_field_is_named_and_nothing_is_saved(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    app.say("29:boss", "list create staff ada@contoso.com", "en-US")
        .await;
    let cases = [
        (
            "campaign create a\nlist: staff\nstart: 2020-01-01 10:00\nduration: 2h\nmessage: hi",
            "start: 2020-01-01 10:00 UTC is in the past",
        ),
        (
            "campaign create a\nlist: nobody\nstart: 2030-12-02 10:00\nduration: 2h\nmessage: hi",
            "list: there is no list named `nobody`",
        ),
        (
            "campaign create a\nlist: staff\nstart: 2030-12-02 10:00\nduration: 2h\nmessage:   ",
            "message: it is empty",
        ),
        (
            "campaign create a\nlist: staff\nstart: 2030-12-07 10:00\nduration: 2h\nhours: Mon-Fri 09:00-18:00\nmessage: hi",
            "hours: the window from the start for 2h has no business time",
        ),
        (
            "campaign create a\nlist: staff\nstart: tomorrow\nduration: 2x\nmessage: hi",
            "duration: `2x` is not a duration",
        ),
        (
            "campaign create a\nstart: 2030-12-02 10:00\nmessage: hi",
            "list: missing",
        ),
    ];
    for (command, expected) in cases {
        let reply = app.say("29:boss", command, "en-US").await;
        assert!(reply.starts_with("The campaign was not saved:"), "{reply}");
        assert!(reply.contains(expected), "{expected} missing in {reply}");
        assert!(reply.contains("for example"), "{reply}");
    }
    assert!(campaign(&app, "a").await.is_none());
}

async fn edit_and_delete_follow_the_lifecycle(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    // One member installed the bot, one did not. The installed one's moment is in 2030, so the
    // started campaign stays running however often the app's own planner looks (a campaign
    // with nobody to reach would complete at its next pass, racing the checks below).
    assert_eq!(
        app.post_signed(&app.install("i-u1", "29:u1"))
            .await
            .status(),
        200
    );
    app.say(
        "29:boss",
        "list create staff nobody@contoso.com ada.u1@contoso.com",
        "en-US",
    )
    .await;
    app.say("29:boss", &create("spring", ""), "en-US").await;
    let reply = app
        .say("29:boss", "campaign edit spring\nduration: 3h", "en-US")
        .await;
    assert!(reply.starts_with("Campaign **spring** updated."), "{reply}");
    assert!(reply.contains("- duration: 3h"), "{reply}");
    assert_eq!(
        campaign(&app, "spring").await.unwrap().duration_minutes,
        180
    );

    // Start it (as the planner does at its start).
    let c = campaign(&app, "spring").await.unwrap();
    let started = app
        .app_db
        .run(move |conn| herald::engine::planner::plan(conn, &c.id, c.start_at.and_utc(), false))
        .await
        .unwrap();
    assert_eq!(started, Some(1));
    let reply = app
        .say("29:boss", "campaign edit spring\nduration: 1h", "en-US")
        .await;
    assert!(
        reply.contains("has started; it can no longer be edited"),
        "{reply}"
    );
    let reply = app.say("29:boss", "campaign delete spring", "en-US").await;
    assert!(
        reply.contains("can be neither cancelled nor deleted"),
        "{reply}"
    );
    let c = campaign(&app, "spring").await.unwrap();
    assert_eq!(
        (c.status.as_str(), c.duration_minutes),
        ("running", 180),
        "nothing changed"
    );
    let report = app.say("29:boss", "campaign report spring", "en-US").await;
    assert!(
        report.contains(r#"{"title":"Not installed","value":"1"}"#),
        "{report}"
    );

    // Completed (its one delivery final): deleting works again.
    let id = c.id.clone();
    app.app_db
        .run(move |conn| {
            use diesel::prelude::*;
            use herald::store::schema::deliveries::dsl as d;
            herald::run_on!(&mut *conn, |x| diesel::update(
                d::deliveries.filter(d::message_id.eq(&id))
            )
            .set(d::status.eq("failed"))
            .execute(x))?;
            campaigns::complete_finished(conn, chrono::Utc::now())
        })
        .await
        .unwrap();
    let reply = app.say("29:boss", "campaign delete spring", "en-US").await;
    assert_eq!(reply, "Campaign **spring** deleted.");
    assert!(campaign(&app, "spring").await.is_none());
}

async fn campaign_test_sends_one_personalised_message_now_and_changes_nothing(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    // u1 installs; the fake connector's profile: Ada / Lovelaceu1, ada.u1@contoso.com.
    app.post_signed(&app.install("f:i1", "29:u1")).await;
    app.say("29:boss", "list create staff ada.u1@contoso.com", "en-US")
        .await;
    app.say("29:boss", &create("welcome", ""), "en-US").await;
    let before = app.sent_messages().await.len();
    let reply = app
        .say_expecting(
            "29:boss",
            "campaign test welcome Ada.U1@contoso.com",
            "en-US",
            2,
        )
        .await;
    assert_eq!(reply, "Test of **welcome** sent to ada.u1@contoso.com.");
    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), before + 2, "the test message and the reply");
    let test: Value = sent[before].body_json().unwrap();
    assert_eq!(test["text"], "Bonjour Ada Lovelaceu1 !");
    assert_eq!(
        sent[before].url.path(),
        "/v3/conversations/a%3Aconv-u1/activities"
    );
    let c = campaign(&app, "welcome").await.unwrap();
    assert_eq!(c.status, "scheduled");
    let id = c.id.clone();
    let rows = app
        .app_db
        .run(move |conn| herald::store::deliveries::of_message(conn, &id))
        .await
        .unwrap();
    assert!(rows.is_empty(), "the campaign itself is untouched");
    let reply = app
        .say(
            "29:boss",
            "campaign test welcome stranger@contoso.com",
            "en-US",
        )
        .await;
    assert_eq!(reply, "stranger@contoso.com has not installed herald.");
}

async fn a_french_admin_creates_a_campaign_in_french(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    app.say("29:boss", "liste créer équipe ada@contoso.com", "fr-FR")
        .await;
    let reply = app.say("29:boss",
        "campagne créer bienvenue\nliste: équipe\ndébut: 2030-12-02 10:00\ndurée: 1h30m\n\
         horaires: Lun-Ven 09:00-18:00\nfuseau: Europe/Paris\nprésence: disponible\nmessage:\nBonjour [PRENOM] !",
        "fr-FR",
    )
    .await;
    assert!(
        reply.starts_with("Campagne **bienvenue** programmée."),
        "{reply}"
    );
    assert!(reply.contains("- durée : 1h30m"), "{reply}");
    let reply = app
        .say("29:boss", "campagne supprimer inconnue", "fr-FR")
        .await;
    assert!(
        reply.contains("Il n'y a pas de campagne nommée **inconnue**"),
        "{reply}"
    );
    let reply = app
        .say("29:boss", "campagne créer x\ndurée: 2x", "fr-FR")
        .await;
    assert!(
        reply.starts_with("La campagne n'a pas été enregistrée"),
        "{reply}"
    );
}

/// Posts a card submission (no text, `value` = the inputs) and returns the reply's JSON.
async fn submit(app: &TestApp, user: &str, value: Value) -> Value {
    let before = app.sent_messages().await.len();
    let mut activity = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, "");
    activity.as_object_mut().unwrap().remove("text");
    activity["value"] = value;
    assert_eq!(app.post_signed(&activity).await.status(), 200);
    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), before + 1, "one reply to the submission");
    sent.last().unwrap().body_json().unwrap()
}

async fn last_reply(app: &TestApp) -> Value {
    app.sent_messages()
        .await
        .last()
        .unwrap()
        .body_json()
        .unwrap()
}

async fn the_form_creates_a_campaign_and_shows_each_fields_error(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    app.say("29:boss", "list create staff ada@contoso.com", "en-US")
        .await;

    // `campaign create <name>` alone opens the form.
    let mut open = app.message("1:open", "29:boss", "campaign create welcome");
    open["locale"] = json!("en-US");
    app.post_signed(&open).await;
    let reply = last_reply(&app).await;
    let card = &reply["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["actions"][0]["type"], "Action.Submit");
    let data = card["content"]["actions"][0]["data"].clone();
    assert_eq!(data["herald"], "campaign-form");

    // A bad duration: the card comes back, the value kept and the error under the field.
    let mut value = data.clone();
    for (k, v) in [
        ("list", "staff"),
        ("start", START),
        ("duration", "2x"),
        ("message", "Bonjour [FIRSTNAME]"),
    ] {
        value[k] = json!(v);
    }
    let reply = submit(&app, "29:boss", value.clone()).await;
    let body = reply["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .clone();
    let at = body.iter().position(|b| b["id"] == "duration").unwrap();
    assert_eq!(body[at]["value"], "2x");
    assert_eq!(body[at + 1]["color"], "Attention");
    assert!(
        body[at + 1]["text"]
            .as_str()
            .unwrap()
            .contains("`2x` is not a duration"),
        "{body:?}"
    );
    assert!(campaign(&app, "welcome").await.is_none(), "nothing saved");

    // Corrected: scheduled, same checks as the text command.
    value["duration"] = json!("2h");
    let reply = submit(&app, "29:boss", value.clone()).await;
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .starts_with("Campaign **welcome** scheduled."),
        "{reply}"
    );
    assert_eq!(
        campaign(&app, "welcome").await.unwrap().duration_minutes,
        120
    );

    // `campaign edit <name>` alone opens the form with the current values.
    let mut edit = app.message("1:edit", "29:boss", "campaign edit welcome");
    edit["locale"] = json!("en-US");
    app.post_signed(&edit).await;
    let reply = last_reply(&app).await;
    let body = reply["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .clone();
    let field = |id: &str| body.iter().find(|b| b["id"] == id).unwrap()["value"].clone();
    assert_eq!(field("duration"), "2h");
    assert_eq!(field("list"), "staff");
    assert_eq!(field("start"), START);
    assert_eq!(
        reply["attachments"][0]["content"]["actions"][0]["data"]["mode"],
        "edit"
    );

    // Someone else's submission is refused.
    let reply = submit(&app, "29:mallory", value).await;
    assert!(
        reply["text"].as_str().unwrap().starts_with("Sorry"),
        "{reply}"
    );
}
