//! Whom herald trusts: Teams' channel service vouches for the tenant and the sender's object id,
//! Web Chat's and Direct Line's clients vouch for nothing; admins are known by object id or UPN,
//! never by a profile's unverified email; a single-tenant bot serves its home tenant; with
//! authentication off, only a local tool on this machine is answered.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::tokens::*;
use common::trace::{changed, trace};
use common::{Backend, TENANT, TestApp, reply_text, spawn_app_with};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_backends!(
    a_web_chat_user_posing_as_a_teams_admin_gets_nothing,
    a_teams_activity_from_a_bot_framework_host_is_refused,
    an_email_equal_to_an_admins_upn_does_not_make_an_admin,
    a_single_tenant_herald_ignores_other_tenants_without_configuration,
);

/// `activity` moved to `channel`, its tenant and sender left as the client wrote them.
fn on_channel(mut activity: Value, channel: &str) -> Value {
    activity["channelId"] = json!(channel);
    activity
}

async fn post_webchat(app: &TestApp, activity: &Value) -> u16 {
    let token = webchat_token(activity["serviceUrl"].as_str().unwrap());
    app.post_activity(activity, Some(&token))
        .await
        .status()
        .as_u16()
}

async fn a_web_chat_user_posing_as_a_teams_admin_gets_nothing(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &format!("admins = [\"aad-boss\"]\nallowed_tenants = [\"{TENANT}\"]"),
    )
    .await;
    // A real Teams user, whom a spoofed `broadcast all` would reach.
    assert_eq!(
        app.post_signed(&app.install("i-u1", "29:u1"))
            .await
            .status(),
        200
    );
    let before = trace(&app).await;
    let requests_before = app.connector.received_requests().await.unwrap().len();

    for channel in ["webchat", "directline"] {
        // The client wrote Teams' tenant and the admin's object id (`aad-boss`).
        let install = on_channel(app.install(&format!("{channel}-i"), "29:boss"), channel);
        assert_eq!(install["channelData"]["tenant"]["id"], TENANT);
        assert_eq!(install["from"]["aadObjectId"], "aad-boss");
        assert_eq!(post_webchat(&app, &install).await, 200, "{channel}");
        for (n, text) in [
            "broadcast all\nsubject: Spoofed\nClick https://evil.example",
            "list create spies ada.u1@contoso.com",
            "lists",
        ]
        .iter()
        .enumerate()
        {
            let message = on_channel(
                app.message(&format!("{channel}-m{n}"), "29:boss", text),
                channel,
            );
            assert_eq!(post_webchat(&app, &message).await, 200, "{channel}: {text}");
        }
    }

    assert_eq!(
        changed(&before, &trace(&app).await),
        [],
        "nothing recorded: no install, no list, no broadcast, no audit, no activity id"
    );
    let requests = app.connector.received_requests().await.unwrap();
    let new = &requests[requests_before..];
    assert_eq!(new.len(), 6, "one short answer per message, nothing else");
    for r in new {
        assert_eq!(r.method.as_str(), "POST");
        assert_eq!(
            r.url.path(),
            "/v3/conversations/a%3Aconv-boss/activities",
            "only the Web Chat sender's own conversation"
        );
        let body: Value = r.body_json().unwrap();
        assert_eq!(
            reply_text(&body),
            "herald works in Microsoft Teams: find me there."
        );
    }
}

async fn a_teams_activity_from_a_bot_framework_host_is_refused(backend: Backend) {
    // Refused by default: Web Chat's and Direct Line's hosts are not connectors herald calls.
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]").await;
    let mut activity = app.message("bf-1", "29:boss", "lists");
    activity["serviceUrl"] = json!("https://webchat.botframework.com/");
    let before = trace(&app).await;
    let response = app.post_signed(&activity).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "service_url_not_allowed");

    // Listed by an operator, the host still cannot carry a Teams activity.
    let app = spawn_app_with(
        backend,
        "admins = [\"aad-boss\"]\nservice_url_hosts = [\"*.botframework.com\", \"loopback\"]",
    )
    .await;
    let response = app.post_signed(&activity).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["code"], "channel_service_url_mismatch",
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("webchat.botframework.com"),
        "{body}"
    );
    assert_eq!(changed(&before, &trace(&app).await), []);
    assert!(app.connector.received_requests().await.unwrap().is_empty());
}

/// Serves `profile` as `user`'s member profile, ahead of the default fake.
async fn profile_of(app: &TestApp, user: &str, email: &str, upn: &str) {
    let mut profile = common::member_profile(user);
    profile["email"] = json!(email);
    profile["userPrincipalName"] = json!(upn);
    Mock::given(method("GET"))
        .and(path_regex(format!(
            "/members/{}$",
            user.replace(':', "%3A")
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(profile))
        .with_priority(1)
        .mount(&app.connector)
        .await;
}

async fn an_email_equal_to_an_admins_upn_does_not_make_an_admin(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"grace@contoso.com\"]").await;
    // Anyone can write any address in their profile's mail field; the UPN is the directory's.
    profile_of(
        &app,
        "29:mallory",
        "Grace@Contoso.com",
        "mallory@contoso.com",
    )
    .await;
    profile_of(
        &app,
        "29:grace",
        "g.hopper@contoso.com",
        "grace@contoso.com",
    )
    .await;
    for user in ["29:mallory", "29:grace"] {
        let install = app.install(&format!("i-{user}"), user);
        assert_eq!(app.post_signed(&install).await.status(), 200);
    }
    let refusal = app.say("29:mallory", "lists", "en-US").await;
    assert!(
        refusal.starts_with("Sorry, only herald's administrators"),
        "{refusal}"
    );
    let answer = app.say("29:grace", "lists", "en-US").await;
    assert!(
        !answer.starts_with("Sorry"),
        "the UPN still names an admin: {answer}"
    );
}

async fn a_single_tenant_herald_ignores_other_tenants_without_configuration(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &format!("app_type = \"SingleTenant\"\ntenant_id = \"{TENANT}\""),
    )
    .await;
    // A single-tenant bot's token comes from its own tenant.
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": common::BEARER
        })))
        .mount(&app.login)
        .await;

    let mut foreign = app.install("i-f", "29:f1");
    foreign["channelData"]["tenant"]["id"] = json!("tenant-fabrikam");
    foreign["conversation"]["tenantId"] = json!("tenant-fabrikam");
    let before = trace(&app).await;
    assert_eq!(app.post_signed(&foreign).await.status(), 200);
    assert_eq!(
        changed(&before, &trace(&app).await),
        [],
        "another tenant leaves nothing"
    );
    assert!(app.connector.received_requests().await.unwrap().is_empty());

    assert_eq!(
        app.post_signed(&app.install("i-h", "29:h1")).await.status(),
        200
    );
    let users = app.users_json();
    assert_eq!(
        users.len(),
        1,
        "the home tenant's user is recorded: {users:?}"
    );
    assert_eq!(users[0]["tenant_id"], TENANT);
}

// Authentication off ------------------------------------------------------------------------

/// herald with no app id, on SQLite, replying to `connector`.
async fn spawn_without_auth(dir: &std::path::Path) -> u16 {
    let toml = format!(
        "[server]\nbind = \"127.0.0.1:0\"\n[database]\nurl = \"sqlite://{}\"\n",
        dir.join("herald.db").display()
    );
    let settings = herald::config::Settings::from_toml(&toml).expect("settings");
    let app = herald::startup::Application::build(settings)
        .await
        .expect("app builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    port
}

/// Sends `head` (request line and headers, without the blank line) and `body` over a raw socket:
/// the status code herald answered, and its body.
fn raw_post(port: u16, head: &str, body: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "{head}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_authentication_off_only_a_local_tool_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let connector = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "1:r"})))
        .mount(&connector)
        .await;
    let port = spawn_without_auth(dir.path()).await;
    let activity = json!({
        "type": "message", "id": "m-1", "channelId": "msteams",
        "serviceUrl": format!("{}/", connector.uri()),
        "from": {"id": "29:dev", "aadObjectId": "aad-dev"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "a:dev", "conversationType": "personal"},
        "channelData": {"tenant": {"id": "t"}},
        "text": "help"
    })
    .to_string();
    let post = "POST /api/messages HTTP/1.1";

    for (case, head, code) in [
        (
            "behind a proxy",
            format!("{post}\r\nHost: localhost:{port}\r\nX-Forwarded-For: 203.0.113.9"),
            "auth_off_forwarded",
        ),
        (
            "through a tunnel",
            format!("{post}\r\nHost: 127.0.0.1:{port}\r\nForwarded: for=203.0.113.9"),
            "auth_off_forwarded",
        ),
        (
            "DNS rebinding",
            format!("{post}\r\nHost: evil.example:{port}"),
            "auth_off_host",
        ),
    ] {
        let (status, body) = raw_post(port, &head, &activity);
        assert_eq!(status, 403, "{case}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], code, "{case}");
    }
    assert!(
        connector.received_requests().await.unwrap().is_empty(),
        "nothing answered"
    );

    // The Playground and the Emulator call herald by one of its local names.
    for (n, host) in [format!("localhost:{port}"), format!("127.0.0.1:{port}")]
        .iter()
        .enumerate()
    {
        let activity = activity.replace("m-1", &format!("ok-{n}"));
        let (status, body) = raw_post(port, &format!("{post}\r\nHost: {host}"), &activity);
        assert_eq!(status, 200, "{host}: {body}");
    }
    assert_eq!(connector.received_requests().await.unwrap().len(), 2);
}

#[test]
fn with_authentication_off_a_peer_off_this_machine_is_refused() {
    // The kernel never hands a loopback listener a remote peer, so the request is built with one.
    for peer in ["10.0.0.5:40000", "203.0.113.9:40000", "[2001:db8::1]:40000"] {
        let request = actix_web::test::TestRequest::post()
            .uri("/api/messages")
            .peer_addr(peer.parse().unwrap())
            .insert_header(("host", "localhost:3978"))
            .to_http_request();
        let error = herald::routes::local_only(&request).unwrap_err();
        assert_eq!(error.status.as_u16(), 403, "{peer}");
        assert_eq!(error.code, "auth_off_remote_peer", "{peer}");
        assert!(
            error
                .message
                .contains(peer.rsplit_once(':').unwrap().0.trim_matches(['[', ']']))
        );
    }
    let local = actix_web::test::TestRequest::post()
        .uri("/api/messages")
        .peer_addr("127.0.0.1:40000".parse().unwrap())
        .insert_header(("host", "localhost:3978"))
        .to_http_request();
    assert!(herald::routes::local_only(&local).is_ok());
}
