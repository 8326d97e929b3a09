//! Skype campaigns reach Skype users, on the protocol (the Skype client is closed to the public):
//! Skype install activities (channel `skype`, no tenant) signed by a channel key endorsed for
//! Skype, the fake connector answering their profiles. A list addresses them by their profile's
//! email or by `skype:<id>`; a campaign with `channel: skype` sends on their own conversations
//! and never on Teams; Graph is never asked their presence, `campaigns.unknown_presence` decides.

mod common;

use std::time::Duration;

use common::tokens::*;
use common::*;
use herald::store::{campaigns, users};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

on_both_backends!(
    a_skype_campaign_reaches_the_skype_users_of_its_list_and_nobody_on_teams,
    skype_members_are_typed_and_shown_but_skype_users_stay_unlisted,
);

const BOSS: &str = "29:boss";
const SKYPE_KID: &str = "test-skype-key";
/// Skype users whose profile has an email (`ada.{n}@contoso.com`, from the fake connector).
const SKYPE_BY_EMAIL: [&str; 2] = ["29:1sk1", "29:1sk2"];
/// A Skype user whose profile has no email: the list names them `skype:<id>`.
const SKYPE_BY_ID: &str = "live:NoMail.Case";
const TEAMS_USERS: [&str; 2] = ["29:t1", "29:t2"];
const WAIT: Duration = Duration::from_secs(30);

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The channel's key set with the test key also endorsed for Skype, as Microsoft's real set
/// endorses its keys for the channels they sign.
async fn endorse_skype(app: &TestApp) {
    let mut keys = channel_jwks();
    let mut skype = rsa_jwk(SKYPE_KID);
    skype["endorsements"] = json!(["skype"]);
    keys["keys"].as_array_mut().unwrap().push(skype);
    Mock::given(method("GET"))
        .and(path("/channel/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(keys))
        .with_priority(1)
        .mount(&app.keys)
        .await;
    // Skype's profile of the user without an email: no email, no UPN, no tenant.
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/v3/conversations/[^/]+/members/[^/]*NoMail[^/]*$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": SKYPE_BY_ID, "name": "Grace Hopper", "givenName": "Grace"
        })))
        .with_priority(1)
        .mount(&app.connector)
        .await;
}

fn skype_conversation(user: &str) -> String {
    format!("skype-conv-{user}")
}

/// A Skype install activity: channel `skype`, no `channelData.tenant`, no tenant on the
/// conversation, no object id on the sender.
async fn install_on_skype(app: &TestApp, user: &str) {
    let mut a = app.install(&format!("sk-install-{user}"), user);
    a["channelId"] = json!("skype");
    a["from"] = json!({"id": user, "name": "Someone"});
    a["conversation"] = json!({"id": skype_conversation(user)});
    a.as_object_mut().unwrap().remove("channelData");
    let token = sign(
        &channel_claims(&app.service_url()),
        SKYPE_KID,
        jsonwebtoken::Algorithm::RS256,
    );
    assert_eq!(
        app.post_activity(&a, Some(&token)).await.status(),
        200,
        "the Skype install of {user}"
    );
}

/// herald with Graph on and an admin; 3 Skype users and 2 Teams users installed.
async fn setup(backend: Backend) -> TestApp {
    let app = spawn_app_with(
        backend,
        "admins = [\"aad-boss\"]\nfile_hosts = [\"loopback\"]\n[graph]\nenabled = true\npresence_refresh = \"0s\"\n",
    )
    .await;
    endorse_skype(&app).await;
    assert_eq!(
        app.post_signed(&app.install("f:boss", BOSS)).await.status(),
        200
    );
    for user in TEAMS_USERS {
        let install = app.install(&format!("f:{user}"), user);
        assert_eq!(app.post_signed(&install).await.status(), 200);
    }
    for user in SKYPE_BY_EMAIL.into_iter().chain([SKYPE_BY_ID]) {
        install_on_skype(&app, user).await;
    }
    app
}

/// Conversations but the admin's the connector received a message containing `needle` in.
async fn reached(app: &TestApp, needle: &str) -> Vec<String> {
    let mut out: Vec<String> = app
        .sent_messages()
        .await
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains(needle))
        .map(|r| percent_decode(r.url.path().split('/').nth(3).unwrap()))
        .filter(|c| c != "a:conv-boss")
        .collect();
    out.sort();
    out
}

/// Graph presence requests received.
async fn presence_calls(app: &TestApp) -> Vec<String> {
    app.graph
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path().contains("getPresencesByUserId"))
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

async fn a_skype_campaign_reaches_the_skype_users_of_its_list_and_nobody_on_teams(
    backend: Backend,
) {
    let app = setup(backend).await;
    // Were Graph asked, everyone would be offline: the policy would hold them all back.
    Mock::given(method("POST"))
        .and(path("/v1.0/communications/getPresencesByUserId"))
        .respond_with(|r: &wiremock::Request| {
            let body: Value = r.body_json().unwrap();
            let value: Vec<Value> = body["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| json!({"id": id, "availability": "Offline", "activity": "Offline"}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "value": value }))
        })
        .mount(&app.graph)
        .await;

    // Skype users are stored under no tenant, by their channel id as given.
    let all = app.app_db.run(users::list).await.unwrap();
    let skype: Vec<&users::User> = all.iter().filter(|u| u.channel_id == "skype").collect();
    assert_eq!(skype.len(), 3);
    assert!(skype.iter().all(|u| u.tenant_id.is_empty() && u.installed));
    let no_mail = skype
        .iter()
        .find(|u| u.channel_user_id == SKYPE_BY_ID)
        .unwrap();
    assert_eq!(no_mail.email, None);
    assert_eq!(no_mail.conversation_id, skype_conversation(SKYPE_BY_ID));

    let members = [
        "ada.1sk1@contoso.com",
        "Ada.1sk2@Contoso.com",
        "Skype:live:NoMail.Case",
        "ada.t1@contoso.com",
        "ada.t2@contoso.com",
        "skype:live:Later",
    ];
    let reply = app
        .tell(
            BOSS,
            &format!("list create people {}", members.join(" ")),
            "en-US",
        )
        .await;
    assert!(reply.contains("6 members"), "{reply}");

    let create = "campaign create sk\nlist: people\nchannel: skype\nstart: 2030-12-02 10:00\n\
                  duration: 1h\nhours: always\ntimezone: UTC\npresence: available\ninstall: yes\n\
                  message: Skype news for [FIRSTNAME]!";
    let reply = app.tell(BOSS, create, "en-US").await;
    assert!(reply.contains("scheduled"), "{reply}");
    assert!(
        reply.contains("Skype has no presence status"),
        "the create reply says presence does not apply: {reply}"
    );
    assert!(
        reply.contains("install: yes does nothing on Skype"),
        "the create reply says install does nothing: {reply}"
    );
    let info = app.tell(BOSS, "campaign info sk", "en-US").await;
    assert!(
        info.contains(
            "Skype has no presence status: herald asks no one's, and each recipient is treated \
             as the setting campaigns.unknown_presence says."
        ),
        "{info}"
    );
    let fr = app.tell(BOSS, "campagne info sk", "fr-FR").await;
    assert!(fr.contains("Skype n'a pas de statut de présence"), "{fr}");
    assert!(fr.contains("installer: oui ne fait rien sur Skype"), "{fr}");

    // Its window is moved into the past: every recipient is due as soon as it is planned.
    let c = app
        .app_db
        .run(|conn| campaigns::find(conn, TENANT, "sk"))
        .await
        .unwrap()
        .unwrap();
    let id = c.id.clone();
    let start = (chrono::Utc::now() - chrono::TimeDelta::hours(2)).naive_utc();
    app.app_db
        .run(move |conn| {
            use diesel::prelude::*;
            use herald::store::schema::campaigns::dsl as k;
            Ok(herald::run_on!(&mut *conn, |x| diesel::update(
                k::campaigns.filter(k::id.eq(&id))
            )
            .set(k::start_at.eq(start))
            .execute(x))?)
        })
        .await
        .unwrap();
    app.engine.wake();
    wait_for(WAIT, "the 3 Skype users to receive the campaign", || {
        let app = &app;
        async move { reached(app, "Skype news for ").await.len() >= 3 }
    })
    .await;
    app.drained("the campaign's deliveries").await;
    let mut expected: Vec<String> = SKYPE_BY_EMAIL
        .into_iter()
        .chain([SKYPE_BY_ID])
        .map(skype_conversation)
        .collect();
    expected.sort();
    assert_eq!(
        reached(&app, "Skype news for ").await,
        expected,
        "each Skype user once"
    );
    assert_eq!(
        reached(&app, "Skype news for Grace!").await,
        [skype_conversation(SKYPE_BY_ID)],
        "personalised from Skype's profile"
    );
    for user in TEAMS_USERS {
        let conv = format!("a:conv-{}", user.trim_start_matches("29:"));
        assert!(
            !reached(&app, "Skype news for ").await.contains(&conv),
            "nothing on Teams"
        );
    }
    // Each was sent to the Skype user's own conversation, from the bot, to them.
    for r in app.sent_messages().await {
        let body: Value = r.body_json().unwrap();
        if body["text"]
            .as_str()
            .is_some_and(|t| t.contains("Skype news for "))
            && body["conversation"]["id"] != "a:conv-boss"
        {
            let conv = body["conversation"]["id"].as_str().unwrap();
            let user = conv.trim_start_matches("skype-conv-");
            assert_eq!(body["recipient"]["id"], user);
        }
    }
    // Presence: Graph was never asked; `campaigns.unknown_presence` (send) decided.
    assert!(
        presence_calls(&app).await.is_empty(),
        "no Graph presence call"
    );
    let c = app
        .app_db
        .run(|conn| campaigns::find(conn, TENANT, "sk"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.targeted, 3);
    // The Teams members have no Skype install, nor has `live:Later` yet.
    assert_eq!(c.not_installed, 3);
    assert_eq!(c.herald_installed, 0, "install: yes does nothing on Skype");
    // The deliveries are the campaign's tenant's (its dispatch and rate), not the Skype users'.
    let cid = c.id.clone();
    let tenants: Vec<String> = app
        .app_db
        .run(move |conn| {
            use diesel::prelude::*;
            use herald::store::schema::deliveries::dsl as d;
            Ok(herald::run_on!(&mut *conn, |x| d::deliveries
                .filter(d::message_id.eq(&cid))
                .select(d::tenant_id)
                .load::<String>(x))?)
        })
        .await
        .unwrap();
    assert_eq!(tenants.len(), 3);
    assert!(tenants.iter().all(|t| t == TENANT), "{tenants:?}");

    // `live:Later` installs on Skype afterwards: a resend reaches them, and only them.
    install_on_skype(&app, "live:Later").await;
    let reply = app.tell(BOSS, "campaign resend sk", "en-US").await;
    assert!(
        reply.contains("sent again to 1 person: 0 whose delivery had failed, 1 who have installed"),
        "{reply}"
    );
    wait_for(WAIT, "the resend to reach live:Later", || {
        let app = &app;
        async move { reached(app, "Skype news for ").await.len() >= 4 }
    })
    .await;
    app.drained("the resend").await;
    expected.push(skype_conversation("live:Later"));
    expected.sort();
    assert_eq!(reached(&app, "Skype news for ").await, expected);
}

async fn skype_members_are_typed_and_shown_but_skype_users_stay_unlisted(backend: Backend) {
    let app = setup(backend).await;
    let reply = app
        .tell(
            BOSS,
            "list create mixed ada.t1@contoso.com SKYPE:live:NoMail.Case ada.1sk1@contoso.com \
             skype:live:nobody skype:",
            "en-US",
        )
        .await;
    assert!(reply.contains("4 members"), "{reply}");
    assert!(
        reply.contains("Ignored (not emails, groups or Skype ids): skype:"),
        "the bare prefix is ignored: {reply}"
    );
    let shown = app.tell(BOSS, "list show mixed", "en-US").await;
    assert!(shown.contains("3/4 installed"), "{shown}");
    let line = |entry: &str| {
        shown
            .lines()
            .find(|l| l.replace('\\', "").contains(entry))
            .unwrap_or_else(|| panic!("{entry} in {shown}"))
            .to_string()
    };
    assert!(
        line("skype:live:NoMail.Case").ends_with("(installed)"),
        "{shown}"
    );
    assert!(
        line("ada.1sk1@contoso.com").ends_with("(installed)"),
        "{shown}"
    );
    assert!(
        line("ada.t1@contoso.com").ends_with("(installed)"),
        "{shown}"
    );
    assert!(
        line("skype:live:nobody").ends_with("(not installed)"),
        "{shown}"
    );
    // Only what the admin typed: the other Skype users do not appear.
    assert!(!shown.contains("1sk2"), "{shown}");
    // The id keeps its case: another case is another id.
    let reply = app
        .tell(BOSS, "list add mixed skype:live:nomail.case", "en-US")
        .await;
    assert!(reply.contains("1 added"), "{reply}");
    let shown = app.tell(BOSS, "list show mixed", "en-US").await;
    assert!(shown.contains("3/5 installed"), "{shown}");
    // Removing by the same words.
    let reply = app
        .tell(
            BOSS,
            "list remove mixed skype:live:nomail.case Skype:live:nobody",
            "en-US",
        )
        .await;
    assert!(reply.contains("2 removed"), "{reply}");
    let shown = app.tell(BOSS, "list show mixed", "fr-FR").await;
    assert!(shown.contains("3/3"), "{shown}");
    // A file's address column takes `skype:<id>` cells too.
    let files = wiremock::MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/files/skype.csv"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("Email\nSKYPE:live:NoMail.Case\nada.1sk2@contoso.com\nskype:\n"),
        )
        .mount(&files)
        .await;
    let mut activity = app.message("1:import", BOSS, "list import imported");
    activity["attachments"] = json!([{
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "name": "skype.csv",
        "content": {"downloadUrl": format!("{}/files/skype.csv", files.uri()), "fileType": "csv"},
    }]);
    let replies = app.replies_to(&activity).await;
    let reply = reply_text(&replies[0]);
    assert!(reply.contains("with 2 members"), "{reply}");
    assert!(reply.contains("`skype:`"), "{reply}");
    let shown = app.tell(BOSS, "list show imported", "en-US").await;
    assert!(shown.contains("2/2 installed"), "{shown}");
}
