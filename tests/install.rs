//! Proactive install end to end: a campaign or broadcast that says `install: yes` installs herald
//! through Graph (the fake Graph of the test app) for the members who lack it, reads their 1:1
//! chat back, records them as installed by herald and reaches them like everyone else; Graph's
//! refusals are reported with their reason; the later real install event updates the same row.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::tokens::APP_ID;
use common::*;
use herald::store::{campaigns, users};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, Request, ResponseTemplate};

on_both_backends!(
    a_campaign_installs_herald_for_the_members_who_lack_it,
    a_broadcast_installs_herald_for_the_members_who_lack_it,
    install_without_graph_is_refused_and_changes_nothing,
    graph_proactive_install_installs_for_every_send,
);

const BOSS: &str = "29:boss";
const INSTALLED: usize = 20;
const LACKING: usize = 30;
const BLOCKED: &str = "blocked@contoso.com";
const CATALOG_ID: &str = "catalog-herald";
const WAIT: Duration = Duration::from_secs(30);

/// What the fake Graph saw.
#[derive(Clone, Default)]
struct GraphLog {
    catalog_lookups: Arc<AtomicUsize>,
    /// Install POSTs per user, in order.
    installs: Arc<Mutex<HashMap<String, usize>>>,
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn query(r: &Request, key: &str) -> String {
    r.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The directory: `ada.new{i}@contoso.com` (object id `aad-new{i}`, like the connector's
/// profile of `29:new{i}`) and `blocked@contoso.com`; nobody else.
fn directory_user(identity: &str) -> Option<Value> {
    let (id, mail) = if let Some(n) = identity.strip_prefix("ada.new") {
        let n = n.trim_end_matches("@contoso.com");
        (format!("aad-new{n}"), format!("Ada.new{n}@Contoso.com"))
    } else if identity == BLOCKED {
        ("aad-blocked".to_string(), "Blocked@contoso.com".to_string())
    } else {
        return None;
    };
    Some(json!({
        "id": id,
        "displayName": format!("Person {id}"),
        "givenName": "Grace",
        "surname": format!("Hopper {id}"),
        "mail": mail,
        "userPrincipalName": identity,
        "accountEnabled": true,
    }))
}

/// Mounts the Graph calls of a proactive install on the test app's fake Graph: `aad-blocked`'s
/// install is refused (403, blocked by policy), `aad-new0`'s is already there (409),
/// `aad-new1`'s is throttled once (429, Retry-After 1).
async fn fake_graph(app: &TestApp) -> GraphLog {
    let log = GraphLog::default();
    let auth = |r: &Request| {
        r.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == format!("Bearer {GRAPH_BEARER}"))
    };
    let lookups = log.catalog_lookups.clone();
    Mock::given(method("GET"))
        .and(path("/v1.0/appCatalogs/teamsApps"))
        .respond_with(move |r: &Request| {
            lookups.fetch_add(1, Ordering::SeqCst);
            let wanted = format!("externalId eq '{}'", APP_ID.to_lowercase());
            let value = if query(r, "$filter") == wanted && auth(r) {
                json!([{"id": CATALOG_ID, "externalId": APP_ID, "displayName": "herald"}])
            } else {
                json!([])
            };
            ResponseTemplate::new(200).set_body_json(json!({ "value": value }))
        })
        .mount(&app.graph)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1.0/users/[^/]+$"))
        .respond_with(move |r: &Request| {
            let identity = percent_decode(r.url.path().rsplit('/').next().unwrap());
            match directory_user(&identity) {
                Some(user) if auth(r) => ResponseTemplate::new(200).set_body_json(user),
                _ => ResponseTemplate::new(404).set_body_json(json!({"error": {
                    "code": "Request_ResourceNotFound", "message": "Resource does not exist."}})),
            }
        })
        .mount(&app.graph)
        .await;
    // Nobody is found by mail either.
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&app.graph)
        .await;
    let installs = log.installs.clone();
    // The app is named in the cloud's own Graph (here, the fake one).
    let bind = format!(
        "{}/v1.0/appCatalogs/teamsApps/{CATALOG_ID}",
        app.graph.uri()
    );
    Mock::given(method("POST"))
        .and(path_regex(r"^/v1.0/users/[^/]+/teamwork/installedApps$"))
        .respond_with(move |r: &Request| {
            let user = percent_decode(r.url.path().split('/').nth(3).unwrap());
            let body: Value = r.body_json().unwrap();
            assert_eq!(body["teamsApp@odata.bind"], bind);
            let tries = {
                let mut all = installs.lock().unwrap();
                let n = all.entry(user.clone()).or_default();
                *n += 1;
                *n
            };
            match user.as_str() {
                "aad-blocked" => ResponseTemplate::new(403).set_body_json(json!({"error": {
                    "code": "Forbidden",
                    "message": "The app is blocked by the tenant's app permission policy."}})),
                "aad-new0" => ResponseTemplate::new(409).set_body_json(json!({"error": {
                    "code": "Conflict", "message": "App is already installed."}})),
                "aad-new1" if tries == 1 => {
                    ResponseTemplate::new(429).insert_header("Retry-After", "1")
                }
                _ => ResponseTemplate::new(201),
            }
        })
        .mount(&app.graph)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1.0/users/[^/]+/teamwork/installedApps$"))
        .respond_with(move |r: &Request| {
            let user = percent_decode(r.url.path().split('/').nth(3).unwrap());
            assert_eq!(query(r, "$expand"), "teamsApp");
            assert_eq!(
                query(r, "$filter"),
                format!("teamsApp/id eq '{CATALOG_ID}'")
            );
            ResponseTemplate::new(200).set_body_json(json!({"value": [
                {"id": format!("inst-{user}"), "teamsApp": {"id": CATALOG_ID}}
            ]}))
        })
        .mount(&app.graph)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/v1.0/users/[^/]+/teamwork/installedApps/[^/]+/chat$",
        ))
        .respond_with(|r: &Request| {
            let user = percent_decode(r.url.path().split('/').nth(3).unwrap());
            let installation = percent_decode(r.url.path().split('/').nth(6).unwrap());
            assert_eq!(installation, format!("inst-{user}"));
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": format!("19:chat-{user}@unq.gbl.spaces")}))
        })
        .mount(&app.graph)
        .await;
    log
}

/// herald with Graph on, `boss` as admin, 20 installed members `29:u{i}`, and the list `staff`:
/// those 20, 30 who lack herald (`ada.new{i}@contoso.com`) and one whose install is blocked.
async fn setup(backend: Backend) -> (TestApp, GraphLog) {
    setup_with(backend, "").await
}

/// `setup` with more `[graph]` settings.
async fn setup_with(backend: Backend, graph: &str) -> (TestApp, GraphLog) {
    let app = spawn_app_with(
        backend,
        &format!("admins = [\"aad-boss\"]\n[graph]\nenabled = true\n{graph}"),
    )
    .await;
    let log = fake_graph(&app).await;
    assert_eq!(
        app.post_signed(&app.install("f:boss", BOSS)).await.status(),
        200
    );
    for i in 0..INSTALLED {
        let install = app.install(&format!("f:u{i}"), &format!("29:u{i}"));
        assert_eq!(app.post_signed(&install).await.status(), 200);
    }
    let mut members: Vec<String> = (0..INSTALLED)
        .map(|i| format!("ada.u{i}@contoso.com"))
        .collect();
    members.extend((0..LACKING).map(|i| format!("ada.new{i}@contoso.com")));
    members.push(BLOCKED.to_string());
    let reply = app
        .tell(
            BOSS,
            &format!("list create staff {}", members.join(" ")),
            "en-US",
        )
        .await;
    assert!(reply.contains("staff"), "{reply}");
    (app, log)
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

fn expected_conversations() -> Vec<String> {
    (0..INSTALLED)
        .map(|i| format!("a:conv-u{i}"))
        .chain((0..LACKING).map(|i| format!("19:chat-aad-new{i}@unq.gbl.spaces")))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

async fn herald_installed(app: &TestApp) -> Vec<users::User> {
    app.app_db
        .run(users::list)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.installed_by_herald)
        .collect()
}

/// Every herald-installed user: installed, reachable in the chat Graph gave, at the tenant's
/// service URL, with the directory's profile.
async fn check_installed_by_herald(app: &TestApp) {
    let mut herald = herald_installed(app).await;
    herald.sort_by(|a, b| a.email.cmp(&b.email));
    assert_eq!(herald.len(), LACKING, "30 installed by herald");
    for u in &herald {
        let aad = u.aad_object_id.clone().unwrap();
        assert!(u.installed);
        assert_eq!(u.tenant_id, TENANT);
        assert_eq!(u.channel_id, "msteams");
        assert_eq!(u.conversation_id, format!("19:chat-{aad}@unq.gbl.spaces"));
        assert_eq!(u.service_url, app.service_url());
        assert_eq!(u.bot_id, format!("28:{APP_ID}"));
        assert_eq!(u.given_name.as_deref(), Some("Grace"));
        assert_eq!(u.display_name, Some(format!("Person {aad}")));
        let n = aad.trim_start_matches("aad-new");
        assert_eq!(u.email, Some(format!("ada.new{n}@contoso.com")));
        assert_eq!(
            u.user_principal_name,
            Some(format!("ada.new{n}@contoso.com"))
        );
    }
}

/// The real install event Teams sends later for `29:new5` (object id `aad-new5`) updates the
/// row herald wrote: one user, now under their channel id and the event's conversation.
async fn later_install_event_updates_the_same_row(app: &TestApp) {
    let before = app.app_db.run(users::list).await.unwrap();
    let row = before
        .iter()
        .find(|u| u.aad_object_id.as_deref() == Some("aad-new5"))
        .unwrap()
        .clone();
    assert_eq!(row.channel_user_id, "aad-new5");
    let install = app.install("f:new5", "29:new5");
    assert_eq!(app.post_signed(&install).await.status(), 200);
    let after = app.app_db.run(users::list).await.unwrap();
    assert_eq!(after.len(), before.len(), "no second user");
    let same = after.iter().find(|u| u.id == row.id).unwrap();
    assert_eq!(same.channel_user_id, "29:new5");
    assert_eq!(same.conversation_id, "a:conv-new5");
    assert!(same.installed && same.installed_by_herald);
    // Teams' uninstall of that person then finds the same row.
    let uninstall = app.uninstall("f:new5-off", "29:new5");
    assert_eq!(app.post_signed(&uninstall).await.status(), 200);
    let gone = app.app_db.run(users::list).await.unwrap();
    assert_eq!(gone.len(), before.len());
    assert!(!gone.iter().find(|u| u.id == row.id).unwrap().installed);
}

async fn a_campaign_installs_herald_for_the_members_who_lack_it(backend: Backend) {
    let (app, log) = setup(backend).await;
    let create = "campaign create welcome\nlist: staff\nstart: 2030-12-02 10:00\nduration: 1h\n\
                  hours: always\ntimezone: UTC\ninstall: yes\nmessage: Spring news for [FIRSTNAME]!";
    let reply = app.tell(BOSS, create, "en-US").await;
    assert!(reply.contains("scheduled"), "{reply}");
    assert!(
        reply.contains("- Install herald for members who lack it: yes"),
        "{reply}"
    );
    let c = app
        .app_db
        .run(|conn| campaigns::find(conn, TENANT, "welcome"))
        .await
        .unwrap()
        .unwrap();
    assert!(c.install);
    assert!(
        log.installs.lock().unwrap().is_empty(),
        "nothing installed before the start"
    );
    // Its window is moved into the past: every recipient is due as soon as it is planned.
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
    let expected = expected_conversations();
    wait_for(WAIT, "all 50 to receive the campaign", || {
        let (app, expected) = (&app, &expected);
        async move { reached(app, "Spring news for ").await.len() >= expected.len() }
    })
    .await;
    assert_eq!(
        reached(&app, "Spring news for ").await,
        expected,
        "each of the 50 once"
    );
    let grace = reached(&app, "Spring news for Grace!").await;
    assert_eq!(grace.len(), LACKING, "personalised from Graph's profile");
    check_installed_by_herald(&app).await;
    assert_eq!(log.catalog_lookups.load(Ordering::SeqCst), 1);
    {
        let installs = log.installs.lock().unwrap();
        assert_eq!(
            installs.get("aad-new1"),
            Some(&2),
            "429 waited out, then installed"
        );
        assert_eq!(
            installs.get("aad-new0"),
            Some(&1),
            "409 counted as installed"
        );
        assert_eq!(installs.len(), LACKING + 1);
    }
    let c = app
        .app_db
        .run(|conn| campaigns::find(conn, TENANT, "welcome"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.targeted, c.not_installed, c.herald_installed),
        (50, 1, 30)
    );

    let info = app.tell(BOSS, "campaign info welcome", "en-US").await;
    assert!(
        info.contains("herald installed itself for 30 people who lacked it."),
        "{info}"
    );
    let report = app.tell(BOSS, "campaign report welcome", "en-US").await;
    assert!(
        report.contains(r#"{"title":"Not installed","value":"1 (1 app blocked by policy)"}"#),
        "{report}"
    );
    assert!(
        report.contains(r#"{"title":"Installed by herald","value":"30"}"#),
        "{report}"
    );
    let fr = app.tell(BOSS, "campagne info welcome", "fr-FR").await;
    assert!(
        fr.contains("herald s'est installé pour 30 personnes qui ne l'avaient pas."),
        "{fr}"
    );
    // The CSV: the refused member with Graph's reason.
    let csv = app
        .app_db
        .run(move |conn| {
            let scope = herald::store::reports::campaign_scope(conn, &c.id)?.unwrap();
            herald::store::reports::recipients(
                conn,
                &scope.sends,
                &scope.all,
                scope.reads_of.as_ref(),
                &scope.not_installed,
            )
        })
        .await
        .unwrap();
    let text = String::from_utf8(herald::reports::recipients_csv(&csv).unwrap()).unwrap();
    assert!(
        text.contains("blocked@contoso.com,not installed,0,,,,,,0,app blocked by policy"),
        "{text}"
    );
    assert_eq!(text.matches(",delivered,").count(), 50, "{text}");

    later_install_event_updates_the_same_row(&app).await;
}

async fn a_broadcast_installs_herald_for_the_members_who_lack_it(backend: Backend) {
    let (app, log) = setup(backend).await;
    let mut activity = app.message(
        "1:bc",
        BOSS,
        "broadcast staff\ninstall: yes\nsubject: Office closed\nThe office is closed tomorrow.",
    );
    activity["locale"] = json!("en-US");
    let replies = app.replies_to(&activity).await;
    assert_eq!(replies.len(), 1);
    let reply = reply_text(&replies[0]);
    assert!(reply.contains("is on its way to 50 people."), "{reply}");
    assert!(
        reply.contains("herald installed itself for 30 people who lacked it."),
        "{reply}"
    );
    assert!(
        reply.contains("Not installed, by reason: 1 app blocked by policy"),
        "{reply}"
    );
    let expected = expected_conversations();
    wait_for(WAIT, "all 50 to receive the card", || {
        let (app, expected) = (&app, &expected);
        async move { reached(app, "The office is closed tomorrow.").await.len() >= expected.len() }
    })
    .await;
    let cards = reached(&app, "The office is closed tomorrow.").await;
    assert_eq!(cards, expected, "each of the 50 once");
    check_installed_by_herald(&app).await;
    assert_eq!(log.installs.lock().unwrap().len(), LACKING + 1);
    let info = app.tell(BOSS, "broadcast info 1", "en-US").await;
    assert!(
        info.contains("herald installed itself for 30 people who lacked it."),
        "{info}"
    );
    assert!(
        info.contains("Not installed, by reason: 1 app blocked by policy"),
        "{info}"
    );
    // A second broadcast finds everyone installed: Graph is not asked again, the catalog id
    // was kept.
    let again = app
        .tell(
            BOSS,
            "broadcast staff\ninstall: yes\nsubject: Reopened\nBack tomorrow.",
            "en-US",
        )
        .await;
    assert!(again.contains("is on its way to 50 people."), "{again}");
    assert!(!again.contains("installed itself"), "{again}");
    assert_eq!(log.catalog_lookups.load(Ordering::SeqCst), 1);
    assert_eq!(
        log.installs.lock().unwrap().get("aad-blocked"),
        Some(&2),
        "only the refused one is tried again"
    );
    later_install_event_updates_the_same_row(&app).await;
}

async fn install_without_graph_is_refused_and_changes_nothing(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]").await;
    assert_eq!(
        app.post_signed(&app.install("f:boss", BOSS)).await.status(),
        200
    );
    app.tell(BOSS, "list create staff ada.new1@contoso.com", "en-US")
        .await;
    let create = "campaign create welcome\nlist: staff\nstart: 2030-12-02 10:00\nduration: 1h\n\
                  install: yes\nmessage: Hello!";
    let reply = app.tell(BOSS, create, "en-US").await;
    assert!(reply.contains("install: herald installs itself"), "{reply}");
    assert!(reply.contains("Microsoft Graph, which is off"), "{reply}");
    let none = app
        .app_db
        .run(|conn| campaigns::find(conn, TENANT, "welcome"))
        .await
        .unwrap();
    assert!(none.is_none(), "nothing saved");
    let bad = app
        .tell(
            BOSS,
            &create.replace("install: yes", "install: maybe"),
            "en-US",
        )
        .await;
    assert!(bad.contains("`maybe` is neither yes nor no"), "{bad}");
    let fr = app
        .tell(
            BOSS,
            "diffusion staff\ninstaller: oui\nsujet: Fermé\nLe bureau est fermé.",
            "fr-FR",
        )
        .await;
    assert!(fr.contains("Microsoft Graph, qui est désactivé"), "{fr}");
    let broadcasts = app
        .app_db
        .run(|conn| herald::store::broadcasts::recent(conn, TENANT, 10))
        .await
        .unwrap();
    assert!(broadcasts.is_empty(), "nothing sent");
    assert!(app.graph.received_requests().await.unwrap().is_empty());
}

async fn graph_proactive_install_installs_for_every_send(backend: Backend) {
    let (app, log) = setup_with(backend, "proactive_install = true\n").await;
    let reply = app
        .tell(
            BOSS,
            "broadcast staff\nsubject: Office closed\nThe office is closed tomorrow.",
            "en-US",
        )
        .await;
    assert!(reply.contains("is on its way to 50 people."), "{reply}");
    assert!(
        reply.contains("herald installed itself for 30 people who lacked it."),
        "{reply}"
    );
    assert!(
        reply.contains("Not installed, by reason: 1 app blocked by policy"),
        "{reply}"
    );
    assert_eq!(herald_installed(&app).await.len(), LACKING);
    assert_eq!(log.installs.lock().unwrap().len(), LACKING + 1);
}
