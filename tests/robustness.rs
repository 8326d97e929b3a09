//! Input that must not stop a tenant or leak: profiles with both object id fields, messages too
//! heavy for Teams refused at create, long lists shown in pages, `/metrics` cached and guarded,
//! and a fresh SQLite file opened by many connections at once.

mod common;

use common::*;
use herald::domain::size;
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

on_both_backends!(
    a_profile_with_both_object_id_fields_is_stored_whole,
    a_campaign_message_too_heavy_for_teams_is_refused_at_create_naming_the_limit,
    a_broadcast_too_heavy_for_teams_is_refused_naming_the_limit,
    a_two_thousand_member_list_shows_in_pages_that_each_fit,
    two_scrapes_within_the_refresh_read_the_queue_once,
);

const ADMIN: &str = "admins = [\"aad-boss\"]";
/// A Monday far enough ahead.
const START: &str = "2030-12-02 10:00";

async fn a_profile_with_both_object_id_fields_is_stored_whole(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut profile = member_profile("29:both");
    profile["aadObjectId"] = json!("aad-both");
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/v3/conversations/[^/]+/members/29(%3A|:)both$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(profile))
        .with_priority(1)
        .mount(&app.connector)
        .await;
    let response = app.post_signed(&app.install("f:both", "29:both")).await;
    assert_eq!(response.status(), 200);
    let users = app.users_json();
    assert_eq!(users.len(), 1, "{users:?}");
    let u = &users[0];
    assert_eq!(u["email"], "ada.both@contoso.com", "{u}");
    assert_eq!(u["user_principal_name"], "ada.both@contoso.com", "{u}");
    assert_eq!(u["aad_object_id"], "aad-both", "{u}");
}

/// The longest run of `a` a campaign message may be, as `domain::size` weighs it.
fn longest_campaign_message() -> usize {
    let base = size::campaign_message("", None);
    let n = (size::LIMIT - base) / 2;
    assert!(size::campaign_message(&"a".repeat(n), None) <= size::LIMIT);
    assert!(size::campaign_message(&"a".repeat(n + 1), None) > size::LIMIT);
    n
}

fn create(name: &str, message: &str, fr: bool) -> String {
    if fr {
        format!(
            "campagne créer {name}\nliste: staff\ndébut: {START}\ndurée: 2h\nmessage:\n{message}"
        )
    } else {
        format!(
            "campaign create {name}\nlist: staff\nstart: {START}\nduration: 2h\nmessage:\n{message}"
        )
    }
}

async fn campaign_exists(app: &TestApp, name: &str) -> bool {
    let name = name.to_string();
    app.app_db
        .run(move |conn| herald::store::campaigns::find(conn, TENANT, &name))
        .await
        .unwrap()
        .is_some()
}

async fn a_campaign_message_too_heavy_for_teams_is_refused_at_create_naming_the_limit(
    backend: Backend,
) {
    let app = spawn_app_with(backend, ADMIN).await;
    app.say("29:boss", "list create staff ada@contoso.com", "en-US")
        .await;
    // 40 KB: refused, the limit named, nothing saved.
    let big = "a".repeat(40 * 1024);
    let reply = app
        .say("29:boss", &create("big", &big, false), "en-US")
        .await;
    assert!(reply.starts_with("The campaign was not saved:"), "{reply}");
    assert!(
        reply.contains("- message: too long for Teams")
            && reply.contains("limit of 28 KB (28672 bytes"),
        "{reply}"
    );
    assert!(!campaign_exists(&app, "big").await);
    let reply = app
        .say("29:boss", &create("gros", &big, true), "fr-FR")
        .await;
    assert!(
        reply.starts_with("La campagne n'a pas été enregistrée"),
        "{reply}"
    );
    assert!(
        reply.contains("trop long pour Teams") && reply.contains("limite de 28 Ko (28672 octets"),
        "{reply}"
    );
    assert!(!campaign_exists(&app, "gros").await);

    // Just under the limit: accepted; one character more: refused, saying to cut one.
    let n = longest_campaign_message();
    let reply = app
        .say(
            "29:boss",
            &create("over", &"a".repeat(n + 1), false),
            "en-US",
        )
        .await;
    assert!(
        reply.contains("shorten it by at least 1 characters"),
        "{reply}"
    );
    assert!(!campaign_exists(&app, "over").await);
    let reply = app
        .say("29:boss", &create("fits", &"a".repeat(n), false), "en-US")
        .await;
    assert!(
        reply.starts_with("Campaign **fits** scheduled."),
        "{}",
        &reply[..200]
    );
    assert!(campaign_exists(&app, "fits").await);

    // Each name counts as the longest one: the same length with placeholders is refused.
    let named = format!("[FIRSTNAME] [LASTNAME] {}", "a".repeat(n - 24));
    let reply = app
        .say("29:boss", &create("named", &named, false), "en-US")
        .await;
    assert!(reply.contains("too long for Teams"), "{}", &reply[..200]);

    // The form says the same under its message field.
    let mut value = json!({"herald": "campaign-form", "mode": "create", "campaign": "form"});
    for (k, v) in [("list", "staff"), ("start", START), ("duration", "2h")] {
        value[k] = json!(v);
    }
    value["message"] = json!(big);
    let mut submit = app.message(&format!("1:{}", uuid::Uuid::new_v4()), "29:boss", "");
    submit.as_object_mut().unwrap().remove("text");
    submit["value"] = value;
    let replies = app.replies_to(&submit).await;
    assert_eq!(replies.len(), 1);
    let card = replies[0]["attachments"][0]["content"].to_string();
    assert!(
        card.contains("too long for Teams") && card.contains("28 KB"),
        "{card}"
    );
    assert!(!campaign_exists(&app, "form").await);
}

async fn a_broadcast_too_heavy_for_teams_is_refused_naming_the_limit(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    app.post_signed(&app.install("f:boss", "29:boss")).await;
    app.post_signed(&app.install("f:u1", "29:u1")).await;
    // 9,000 emoji: within the 10,000 characters a body may have, but 36 KB as Teams counts.
    let body = "😀".repeat(9_000);
    let reply = app
        .say(
            "29:boss",
            &format!("broadcast all\nsubject: Big\n{body}"),
            "en-US",
        )
        .await;
    assert!(
        reply.contains("body: too long for Teams") && reply.contains("28 KB"),
        "{}",
        &reply[..300.min(reply.len())]
    );
    let reply = app
        .say(
            "29:boss",
            &format!("diffusion tous\nsujet: Gros\n{body}"),
            "fr-FR",
        )
        .await;
    assert!(
        reply.contains("trop long pour Teams") && reply.contains("28 Ko"),
        "{reply}"
    );
    let sent = herald_broadcasts(&app).await;
    assert_eq!(sent, 0, "nothing was broadcast");
    // A body of the same number of plain characters fits and goes. Its cards may reach the
    // fake connector before the answer does: the answer is the one replying to the command.
    let mut command = app.message(
        &format!("1:{}", uuid::Uuid::new_v4()),
        "29:boss",
        &format!("broadcast all\nsubject: Fine\n{}", "a".repeat(9_000)),
    );
    command["locale"] = serde_json::json!("en-US");
    let answers = app.replies_to(&command).await;
    assert_eq!(answers.len(), 1, "one answer to the command");
    // The confirmation is the live progress card.
    let reply = reply_text(&answers[0]);
    assert!(reply.contains("is on its way to"), "{reply}");
}

async fn herald_broadcasts(app: &TestApp) -> usize {
    app.app_db
        .run(|conn| herald::store::broadcasts::recent(conn, TENANT, 50))
        .await
        .unwrap()
        .len()
}

async fn a_two_thousand_member_list_shows_in_pages_that_each_fit(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    let emails: Vec<String> = (0..2_000)
        .map(|i| format!("person.{i:04}@contoso.com"))
        .collect();
    let (all, service_url) = (emails.clone(), app.service_url());
    app.app_db
        .run(move |conn| {
            let now = chrono::Utc::now();
            herald::store::lists::create(conn, TENANT, "big", "aad-boss", &all, now)?;
            // One member in four installed.
            for (i, email) in all.iter().enumerate().filter(|(i, _)| i.is_multiple_of(4)) {
                let r = herald::store::users::ConversationRef {
                    tenant_id: TENANT.into(),
                    channel_id: "msteams".into(),
                    channel_user_id: format!("29:p{i}"),
                    bot_id: format!("28:{}", common::tokens::APP_ID),
                    service_url: service_url.clone(),
                    conversation_id: format!("a:p{i}"),
                    ..Default::default()
                };
                let profile = herald::store::users::Profile {
                    email: Some(email.clone()),
                    ..Default::default()
                };
                herald::store::users::record_install(conn, &r, &profile, now)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let mut seen: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let command = if pages == 1 {
            "list show big".to_string()
        } else {
            format!("list show big {pages}")
        };
        let reply = app.say("29:boss", &command, "en-US").await;
        assert!(reply.starts_with("**big**: 500/2000 installed"), "{reply}");
        assert!(
            size::counted(&reply) < size::LIMIT / 2,
            "page {pages} weighs {}",
            size::counted(&reply)
        );
        for line in reply.lines().filter(|l| l.starts_with("- ")) {
            let email = line[2..].split(' ').next().unwrap().to_string();
            let i: usize = email[7..11].parse().unwrap();
            let state = if i.is_multiple_of(4) {
                "(installed)"
            } else {
                "(not installed)"
            };
            assert!(line.ends_with(state), "{line}");
            seen.push(email);
        }
        if reply.contains(&format!("Page {pages} of {pages}, the last.")) {
            break;
        }
        assert!(
            reply.contains(&format!("Next page: type **list show big {}**", pages + 1)),
            "{reply}"
        );
        assert!(pages < 100, "no end to the pages");
    }
    assert!(pages > 1);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "a member shown twice");
    assert_eq!(sorted, emails, "every member once");
    // Past the last page, and in French.
    let reply = app
        .say("29:boss", &format!("list show big {}", pages + 1), "en-US")
        .await;
    assert!(reply.contains(&format!("has {pages} pages")), "{reply}");
    let reply = app.say("29:boss", "liste afficher big 2", "fr-FR").await;
    assert!(reply.starts_with("**big**: 500/2000 installés"), "{reply}");
    assert!(
        reply.contains("Page suivante : tapez **liste afficher big 3**"),
        "{reply}"
    );
}

async fn scrape(app: &TestApp, url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn reads(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("herald_queue_gauge_reads_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no read counter in:\n{text}"))
}

async fn two_scrapes_within_the_refresh_read_the_queue_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = format!("{}/metrics", app.address);
    let first = scrape(&app, &url, None).await.text().await.unwrap();
    let second = scrape(&app, &url, None).await.text().await.unwrap();
    // The refresh is 5 s: two scrapes in a row cannot be that far apart.
    assert_eq!(reads(&first), 1, "{first}");
    assert_eq!(reads(&second), 1, "{second}");
    assert!(second.contains("herald_queue_due 0"), "{second}");
}

const TOKEN: &str = "0123456789abcdef-metrics";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_ask_for_the_token_when_one_is_set() {
    let app =
        spawn_app_configured(Backend::Sqlite, &format!("metrics_token = \"{TOKEN}\""), "").await;
    let url = format!("{}/metrics", app.address);
    let none = scrape(&app, &url, None).await;
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(
        scrape(&app, &url, Some("0123456789abcdef-metricz"))
            .await
            .status(),
        401
    );
    assert_eq!(scrape(&app, &url, Some("")).await.status(), 401);
    let ok = scrape(&app, &url, Some(TOKEN)).await;
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("herald_queue_due"));
    let lower = app
        .client
        .get(&url)
        .header("authorization", format!("bearer {TOKEN}"));
    assert_eq!(lower.send().await.unwrap().status(), 200);
    let basic = app
        .client
        .get(&url)
        .header("authorization", format!("Basic {TOKEN}"));
    assert_eq!(basic.send().await.unwrap().status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_their_own_address_are_not_on_the_main_one() {
    let app = spawn_app_configured(
        Backend::Sqlite,
        &format!("metrics_bind = \"127.0.0.1:0\"\nmetrics_token = \"{TOKEN}\""),
        "",
    )
    .await;
    let port = app.metrics_port.expect("metrics have their own port");
    assert_ne!(port, app.port);
    let main = scrape(&app, &format!("{}/metrics", app.address), Some(TOKEN)).await;
    assert_eq!(main.status(), 404);
    let own = format!("http://127.0.0.1:{port}/metrics");
    assert_eq!(scrape(&app, &own, None).await.status(), 401);
    let ok = scrape(&app, &own, Some(TOKEN)).await;
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("herald_queue_due"));
    // Only /metrics lives there; the main address still serves the rest.
    assert_eq!(
        scrape(&app, &format!("http://127.0.0.1:{port}/healthz"), None)
            .await
            .status(),
        404
    );
    assert_eq!(
        scrape(&app, &format!("{}/healthz", app.address), None)
            .await
            .status(),
        200
    );
}

/// Many connections opening one fresh SQLite file at once: each sets `busy_timeout` before
/// `journal_mode = WAL` and tries the switch again while another holds the file, so none fails
/// with `database is locked` (with WAL first it failed in the first round; with the order alone,
/// in two runs of three).
#[test]
fn connections_opening_a_fresh_sqlite_file_at_once_all_succeed() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let url = herald::store::DatabaseUrl::parse(&format!(
            "sqlite://{}",
            dir.path().join("fresh.db").display()
        ))
        .unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (url, barrier) = (url.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    // One connection each, as the pool opens them (the pool itself would retry
                    // a failed open until its timeout and hide the failure).
                    herald::store::establish(&url).map(drop)
                })
            })
            .collect();
        for t in threads {
            t.join()
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
}
