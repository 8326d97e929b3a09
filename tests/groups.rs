//! Lists from Entra ID groups, end to end against a fake Microsoft Graph: a group is looked up
//! when it is added (an unknown one refused), resolved to its enabled users (nested groups'
//! members included, devices and disabled accounts left out, every page followed, throttling
//! waited out) when a campaign starts, a broadcast is sent and the list is shown.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, Request, ResponseTemplate};

use common::*;
use herald::store::users::{ConversationRef, Profile};
use herald::store::{campaigns, deliveries, lists};

on_both_backends!(
    a_group_list_reaches_its_enabled_users_once_through_pages_and_throttling,
    a_group_graph_cannot_resolve_holds_the_send_back,
    groups_need_graph_and_are_named_when_refused,
);

const ADMIN: &str = "29:boss";
const SALES: &str = "5a1e5000-0000-4000-8000-000000000001";
const WAIT: Duration = Duration::from_secs(60);
/// Enabled users of the group: g0…g1042; disabled: g1043…g1047.
const ENABLED: usize = 1043;
const DISABLED: usize = 5;

fn settings() -> String {
    "admins = [\"aad-boss\"]\n\n[delivery]\nglobal_rps = 1000\nconcurrency = 16\n\n[graph]\nenabled = true\n"
        .to_string()
}

async fn tell(app: &TestApp, text: &str, locale: &str) -> String {
    let mut activity = app.message(&format!("1:{}", uuid::Uuid::new_v4()), ADMIN, text);
    activity["locale"] = json!(locale);
    let replies = app.replies_to(&activity).await;
    assert_eq!(replies.len(), 1, "one reply to `{text}`");
    reply_text(&replies[0])
}

/// Installs herald users straight in the store: (channel user, object id, UPN, email).
async fn install(app: &TestApp, people: Vec<(String, Option<String>, String, String)>) {
    let service_url = app.service_url();
    app.app_db
        .run(move |conn| {
            for (user, aad, upn, email) in people {
                let n = user.trim_start_matches("29:").to_string();
                let r = ConversationRef {
                    tenant_id: TENANT.into(),
                    channel_id: "msteams".into(),
                    channel_user_id: user.clone(),
                    aad_object_id: aad.clone(),
                    bot_id: format!("28:{}", tokens::APP_ID),
                    service_url: service_url.clone(),
                    conversation_id: format!("a:{n}"),
                    display_name: Some(format!("Person {n}")),
                    locale: None,
                    time_zone: None,
                };
                let profile = Profile {
                    email: Some(email),
                    user_principal_name: Some(upn),
                    aad_object_id: aad,
                    ..Profile::default()
                };
                herald::store::users::record_install(conn, &r, &profile, Utc::now())?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// The group's transitive members as Graph lists them: users g0…g1047 (the last five disabled),
/// a nested group (whose members are among the users, as `transitiveMembers` flattens them) and
/// two devices: 1,051 objects.
fn sales_members() -> Vec<Value> {
    let mut all: Vec<Value> = vec![
        json!({"@odata.type": "#microsoft.graph.group", "id": "nested-1", "displayName": "Sales EMEA", "mail": "sales-emea@contoso.com"}),
        json!({"@odata.type": "#microsoft.graph.device", "id": "dev-1", "displayName": "Kiosk 1", "accountEnabled": true}),
        json!({"@odata.type": "#microsoft.graph.device", "id": "dev-2", "displayName": "Kiosk 2", "accountEnabled": true}),
    ];
    for i in 0..ENABLED + DISABLED {
        all.push(json!({
            "@odata.type": "#microsoft.graph.user",
            "id": format!("obj-{i}"),
            "displayName": format!("Person g{i}"),
            "userPrincipalName": format!("G{i}@Contoso.com"),
            "mail": format!("g{i}.mail@contoso.com"),
            "accountEnabled": i < ENABLED,
        }));
    }
    all
}

/// Mounts the sales group on the fake Graph: found by mail, its members in two pages (the
/// second throttled once with `Retry-After: 1` when `throttle`). Returns the page-2 call count.
async fn mount_sales(app: &TestApp, throttle: bool) -> Arc<AtomicUsize> {
    Mock::given(method("GET"))
        .and(path("/v1.0/groups"))
        .and(query_param("$filter", "mail eq 'sales@contoso.com'"))
        .and(header("authorization", format!("Bearer {GRAPH_BEARER}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"id": SALES, "displayName": "Sales", "mail": "sales@contoso.com"}]
        })))
        .mount(&app.graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/groups"))
        .and(query_param("$filter", "mail eq 'ghost@contoso.com'"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&app.graph)
        .await;
    let members = sales_members();
    let (first, second) = members.split_at(999);
    let next = format!(
        "{}/v1.0/groups/{SALES}/transitiveMembers?$top=999&$skiptoken=page2",
        app.graph.uri()
    );
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/groups/{SALES}/transitiveMembers")))
        .and(query_param("$top", "999"))
        .and(query_param_is_missing("$skiptoken"))
        .and(header("authorization", format!("Bearer {GRAPH_BEARER}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": first, "@odata.nextLink": next})),
        )
        .mount(&app.graph)
        .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let second = second.to_vec();
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/groups/{SALES}/transitiveMembers")))
        .and(query_param("$skiptoken", "page2"))
        .and(header("authorization", format!("Bearer {GRAPH_BEARER}")))
        .respond_with(move |_: &Request| {
            if throttle && seen.fetch_add(1, Ordering::SeqCst) == 0 {
                ResponseTemplate::new(429).insert_header("Retry-After", "1")
            } else {
                if !throttle {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                ResponseTemplate::new(200).set_body_json(json!({ "value": second }))
            }
        })
        .mount(&app.graph)
        .await;
    calls
}

/// Creates campaign `name` on list `list`, its start just passed and its window a week long
/// (so its deliveries are planned, not sent, while the test looks), and wakes the engine.
async fn start_campaign(app: &TestApp, name: &str, list: &str) -> String {
    let (name, list) = (name.to_string(), list.to_string());
    let id = app
        .app_db
        .run(move |conn| {
            let list = lists::find(conn, TENANT, &list)?.expect("the list");
            let now = Utc::now();
            let s = campaigns::Settings {
                list_id: list.id,
                channel: "msteams".into(),
                start_at: now - TimeDelta::minutes(1),
                time_zone: "UTC".into(),
                duration_minutes: 7 * 24 * 60,
                hours: "always".into(),
                presence: "any".into(),
                message: "Hello [FIRSTNAME]".into(),
            };
            Ok(campaigns::create(conn, TENANT, &name, "admin", &s, 7, now)?
                .campaign()
                .expect("saved")
                .id)
        })
        .await
        .unwrap();
    app.engine.wake();
    id
}

async fn campaign(app: &TestApp, id: &str) -> campaigns::Campaign {
    let id = id.to_string();
    app.app_db
        .run(move |conn| campaigns::get(conn, &id))
        .await
        .unwrap()
        .unwrap()
}

/// The conversations the broadcast cards went to.
async fn card_conversations(app: &TestApp) -> Vec<String> {
    app.sent_messages()
        .await
        .into_iter()
        .filter_map(|r| {
            let body: Value = r.body_json().ok()?;
            let first = &body["attachments"][0]["content"]["actions"][0]["data"]["herald"];
            let segment = r.url.path().split('/').nth(3)?.to_string();
            let conversation = percent_encoding::percent_decode_str(&segment)
                .decode_utf8_lossy()
                .into_owned();
            (first == "broadcast-read").then_some(conversation)
        })
        .collect()
}

async fn a_group_list_reaches_its_enabled_users_once_through_pages_and_throttling(
    backend: Backend,
) {
    let app = spawn_app_with(backend, &settings()).await;
    assert_eq!(
        app.post_signed(&app.install("f:boss", ADMIN))
            .await
            .status(),
        200
    );
    let page2 = mount_sales(&app, true).await;
    // herald knows g0…g1041 (even ones by object id too, odd ones only by UPN and mail), the
    // five disabled accounts (installed: were they counted, they would be sent to), and two
    // people outside the group; g1042 never installed herald.
    let mut people: Vec<(String, Option<String>, String, String)> = (0..ENABLED + DISABLED)
        .filter(|i| *i != ENABLED - 1)
        .map(|i| {
            (
                format!("29:g{i}"),
                (i % 2 == 0).then(|| format!("obj-{i}")),
                format!("g{i}@contoso.com"),
                format!("g{i}.mail@contoso.com"),
            )
        })
        .collect();
    for ext in ["ext1", "ext2"] {
        people.push((
            format!("29:{ext}"),
            None,
            format!("{ext}.upn@contoso.com"),
            format!("{ext}@contoso.com"),
        ));
    }
    install(&app, people).await;

    // An unknown group is refused, named, and nothing is created.
    let reply = tell(
        &app,
        "list create other group:ghost@contoso.com ext1@contoso.com",
        "en-US",
    )
    .await;
    assert_eq!(
        reply,
        "No such group in your directory: **group:ghost@contoso.com**. Nothing was changed."
    );
    assert_eq!(tell(&app, "lists", "en-US").await, "No lists yet.");

    // The group with three addresses, one of them (g7's mail) also a member of the group.
    let reply = tell(
        &app,
        "list create staff group:Sales@contoso.com ext1@contoso.com ext2@contoso.com g7.mail@contoso.com",
        "en-US",
    )
    .await;
    assert_eq!(reply, "List **staff** created with 3 members and 1 group.");
    assert_eq!(
        tell(&app, "lists", "en-US").await,
        "- **staff** (3 members, 1 group)"
    );

    // The campaign: exactly the group's enabled users and the three addresses, each once;
    // page 2 was throttled once and waited out.
    let id = start_campaign(&app, "welcome", "staff").await;
    wait_for(WAIT, "the campaign to start", || async {
        campaign(&app, &id).await.status != "scheduled"
    })
    .await;
    assert_eq!(
        page2.load(Ordering::SeqCst),
        2,
        "page 2 throttled, then read"
    );
    let (id2, db) = (id.clone(), app.app_db.clone());
    let planned = db
        .run(move |conn| deliveries::of_message(conn, &id2))
        .await
        .unwrap();
    let user_ids: BTreeSet<String> = planned.iter().map(|d| d.user_id.clone()).collect();
    assert_eq!(planned.len(), user_ids.len(), "each recipient once");
    let users = app.app_db.run(herald::store::users::list).await.unwrap();
    let targeted: BTreeSet<String> = users
        .iter()
        .filter(|u| user_ids.contains(&u.id))
        .map(|u| u.channel_user_id.clone())
        .collect();
    let mut expected: BTreeSet<String> = (0..ENABLED - 1).map(|i| format!("29:g{i}")).collect();
    expected.insert("29:ext1".into());
    expected.insert("29:ext2".into());
    assert_eq!(targeted.len(), 1044);
    assert_eq!(targeted, expected);
    let c = campaign(&app, &id).await;
    assert_eq!((c.targeted, c.not_installed), (1044, 1));
    let report = tell(&app, "campaign report welcome", "en-US").await;
    assert!(
        report.contains(r#"{"title":"Not installed","value":"1"}"#),
        "{report}"
    );

    // `list show`: the typed members, and the group with its counts, resolved now.
    let shown = tell(&app, "list show staff", "en-US").await;
    assert!(shown.starts_with("**staff**: 3/3 installed"), "{shown}");
    assert!(
        shown.contains("- **Sales** (group:sales@contoso.com): 1043 members, 1042 installed"),
        "{shown}"
    );
    assert!(shown.contains("- ext1@contoso.com (installed)"), "{shown}");

    // A broadcast to the list reaches the group's members too.
    let reply = tell(
        &app,
        "broadcast staff\nsubject: News\nHello, sales.",
        "en-US",
    )
    .await;
    assert!(reply.contains("is on its way to 1044 people"), "{reply}");
    assert!(reply.contains("g1042@contoso.com"), "{reply}");
    wait_for(WAIT, "1044 cards", || async {
        card_conversations(&app).await.len() >= 1044
    })
    .await;
    let cards = card_conversations(&app).await;
    let distinct: BTreeSet<&String> = cards.iter().collect();
    assert_eq!((cards.len(), distinct.len()), (1044, 1044));
    assert!(distinct.contains(&"a:g1041".to_string()) && distinct.contains(&"a:ext2".to_string()));
    assert!(
        !distinct.contains(&"a:g1043".to_string()),
        "a disabled account"
    );

    // Removing the group leaves the addresses.
    let reply = tell(&app, "list remove staff group:sales@contoso.com", "en-US").await;
    assert_eq!(reply, "1 removed from **staff** (now 3).");
    assert_eq!(
        tell(&app, "lists", "en-US").await,
        "- **staff** (3 members)"
    );
}

async fn a_group_graph_cannot_resolve_holds_the_send_back(backend: Backend) {
    let app = spawn_app_with(backend, &settings()).await;
    assert_eq!(
        app.post_signed(&app.install("f:boss", ADMIN))
            .await
            .status(),
        200
    );
    install(
        &app,
        vec![(
            "29:ext1".into(),
            None,
            "ext1@contoso.com".into(),
            "ext1@contoso.com".into(),
        )],
    )
    .await;
    mount_sales(&app, false).await;
    let reply = tell(
        &app,
        "liste créer equipe groupe:sales@contoso.com ext1@contoso.com",
        "fr-FR",
    )
    .await;
    assert_eq!(reply, "Liste **equipe** créée avec 1 membre et 1 groupe.");
    // A list deleted takes its groups with it.
    tell(&app, "list create temp group:sales@contoso.com", "en-US").await;
    let temp = app
        .app_db
        .run(|conn| lists::find(conn, TENANT, "temp"))
        .await
        .unwrap()
        .unwrap();
    let groups_of_temp = || {
        let id = temp.id.clone();
        app.app_db
            .run(move |conn| herald::store::groups::of_list(conn, &id))
    };
    assert_eq!(groups_of_temp().await.unwrap().len(), 1);
    assert_eq!(
        tell(&app, "list delete temp", "en-US").await,
        "List **temp** deleted."
    );
    assert!(groups_of_temp().await.unwrap().is_empty());
    // Graph now refuses to read the group's members (a permission withdrawn).
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/groups/{SALES}/transitiveMembers")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}
        })))
        .with_priority(1)
        .up_to_n_times(2)
        .mount(&app.graph)
        .await;
    let reply = tell(&app, "broadcast equipe\nsubject: News\nHello.", "en-US").await;
    assert_eq!(
        reply,
        "Not sent: a broadcast goes to the whole list or not at all, and these groups of it \
         could not be resolved. Try again in a moment.\n- group:sales@contoso.com: Microsoft \
         Graph refused (403 Authorization_RequestDenied); check the app's Graph permissions"
    );
    assert!(card_conversations(&app).await.is_empty());
    // The campaign is held back (still scheduled) while the group cannot be resolved…
    let id = start_campaign(&app, "welcome", "equipe").await;
    let members_reads = || async {
        app.graph
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path().ends_with("/transitiveMembers"))
            .count()
    };
    wait_for(WAIT, "the planner to try the group", || async {
        members_reads().await >= 2
    })
    .await;
    // Held back, it waits for the next tick or wake-up: a planner that looked again at once
    // would spin (and here, with Graph answering from the third read on, start it).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(members_reads().await, 2);
    assert_eq!(campaign(&app, &id).await.status, "scheduled");
    // …and starts at a later look, once Graph answers again.
    app.engine.wake();
    wait_for(WAIT, "the campaign to start", || async {
        app.engine.wake();
        campaign(&app, &id).await.status != "scheduled"
    })
    .await;
    let c = campaign(&app, &id).await;
    assert_eq!((c.targeted, c.not_installed), (1, 1043));
}

async fn groups_need_graph_and_are_named_when_refused(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]").await;
    assert_eq!(
        app.post_signed(&app.install("f:boss", ADMIN))
            .await
            .status(),
        200
    );
    let reply = tell(
        &app,
        "list create staff group:sales@contoso.com ada@contoso.com",
        "en-US",
    )
    .await;
    assert!(
        reply.starts_with("Groups need Microsoft Graph: set `enabled = true` in the `[graph]`"),
        "{reply}"
    );
    assert!(reply.contains("**group:sales@contoso.com**"), "{reply}");
    assert_eq!(tell(&app, "lists", "en-US").await, "No lists yet.");
    tell(&app, "list create staff ada@contoso.com", "en-US").await;
    let reply = tell(&app, "list add staff groupe:ventes", "fr-FR").await;
    assert!(
        reply.starts_with("Les groupes passent par Microsoft Graph"),
        "{reply}"
    );
    assert!(reply.contains("Rien n'a été modifié."), "{reply}");
    assert!(app.graph.received_requests().await.unwrap().is_empty());
}
