//! The bot endpoint end to end: installs, replies, redeliveries, and the CLI's view of users.

mod common;

use common::tokens::*;
use common::{BEARER, Backend, TENANT, spawn_app};
use serde_json::{Value, json};

on_both_backends!(
    install_records_the_user_with_the_connector_profile,
    help_message_gets_exactly_one_reply_with_the_bot_token,
    french_user_gets_french_help,
    uninstall_marks_the_user_not_installed_and_the_cli_shows_it,
    reinstall_revives_the_same_user,
    the_same_activity_posted_twice_produces_one_reply,
    the_same_activity_posted_concurrently_produces_one_reply,
    conversation_update_adding_the_bot_installs,
    typing_and_group_activities_are_accepted_and_ignored,
    health_and_readiness_answer,
);

async fn install_records_the_user_with_the_connector_profile(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.post_signed(&app.install("f:install-1", "29:u1")).await;
    assert_eq!(response.status(), 200);

    let users = app.users_json();
    assert_eq!(users.len(), 1, "{users:?}");
    let u = &users[0];
    assert_eq!(u["display_name"], "Ada Lovelace u1");
    assert_eq!(
        u["email"], "ada.u1@contoso.com",
        "emails are kept in lower case"
    );
    assert_eq!(u["user_principal_name"], "ada.u1@contoso.com");
    assert_eq!(u["aad_object_id"], "aad-u1");
    assert_eq!(u["tenant_id"], TENANT);
    assert_eq!(u["channel_id"], "msteams");
    assert_eq!(u["installed"], true);
    assert_eq!(u["locale"], "en-US");
    assert_eq!(u["time_zone"], "Europe/Paris");

    // The profile came from the connector, with the bot's token.
    let gets = app.connector_requests("GET", "/members/29%3Au1").await;
    assert_eq!(gets.len(), 1);
    assert_eq!(
        gets[0].headers.get("authorization").unwrap(),
        &format!("Bearer {BEARER}")
    );
    // And a welcome went to the user's conversation.
    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].url.path(),
        "/v3/conversations/a%3Aconv-u1/activities"
    );
    let body: Value = sent[0].body_json().unwrap();
    assert!(
        body["text"].as_str().unwrap().starts_with("Hello Ada!"),
        "{body}"
    );
    assert_eq!(body["recipient"]["id"], "29:u1");
    assert_eq!(body["from"]["id"], format!("28:{APP_ID}"));
}

async fn help_message_gets_exactly_one_reply_with_the_bot_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post_signed(&app.message("1:msg-1", "29:u2", "help"))
        .await;
    assert_eq!(response.status(), 200);

    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), 1, "exactly one reply");
    let reply = &sent[0];
    assert_eq!(reply.url.path(), "/v3/conversations/a%3Aconv-u2/activities");
    assert_eq!(
        reply.headers.get("authorization").unwrap(),
        &format!("Bearer {BEARER}")
    );
    let body: Value = reply.body_json().unwrap();
    assert_eq!(body["type"], "message");
    assert_eq!(body["replyToId"], "1:msg-1");
    assert_eq!(body["conversation"]["id"], "a:conv-u2");
    assert!(
        body["text"].as_str().unwrap().contains("**help**"),
        "{body}"
    );

    // The token endpoint was asked with client credentials for the Bot Framework scope.
    let token_requests = app.login.received_requests().await.unwrap();
    assert_eq!(token_requests.len(), 1);
    let form = String::from_utf8_lossy(&token_requests[0].body).to_string();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(form.contains(&format!("client_id={APP_ID}")), "{form}");
    assert!(
        form.contains("scope=https%3A%2F%2Fapi.botframework.com%2F.default"),
        "{form}"
    );

    // A second message reuses the cached token.
    app.post_signed(&app.message("1:msg-2", "29:u2", "what?"))
        .await;
    assert_eq!(app.login.received_requests().await.unwrap().len(), 1);
    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), 2);
    let hint: Value = sent[1].body_json().unwrap();
    assert!(
        hint["text"].as_str().unwrap().contains("didn't understand"),
        "{hint}"
    );
}

async fn french_user_gets_french_help(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut activity = app.message("1:fr-1", "29:u3", "aide");
    activity["locale"] = json!("fr-FR");
    assert_eq!(app.post_signed(&activity).await.status(), 200);
    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), 1);
    let body: Value = sent[0].body_json().unwrap();
    assert!(
        body["text"].as_str().unwrap().contains("**aide**"),
        "{body}"
    );
    assert!(
        body["text"].as_str().unwrap().contains("votre entreprise"),
        "{body}"
    );
}

async fn uninstall_marks_the_user_not_installed_and_the_cli_shows_it(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(
        app.post_signed(&app.install("f:i1", "29:u4"))
            .await
            .status(),
        200
    );
    assert_eq!(app.users_json()[0]["installed"], true);

    assert_eq!(
        app.post_signed(&app.uninstall("f:r1", "29:u4"))
            .await
            .status(),
        200
    );
    let users = app.users_json();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["installed"], false);
    assert_eq!(users[0]["not_installed_reason"], "uninstalled");
    // The profile is kept for reports.
    assert_eq!(users[0]["email"], "ada.u4@contoso.com");
    // Nothing is sent to someone who just removed the bot.
    assert_eq!(app.sent_messages().await.len(), 1, "only the welcome");
    // The table says the same, for people.
    let table = String::from_utf8(app.users_command(&[])).unwrap();
    let row = table
        .lines()
        .find(|l| l.contains("ada.u4@contoso.com"))
        .unwrap_or_else(|| panic!("no row for the user:\n{table}"));
    assert!(row.contains("not installed (uninstalled)"), "{row}");
    assert!(row.contains(TENANT) && row.contains("msteams"), "{row}");
    assert!(table.contains("0/1 installed"), "{table}");
}

async fn reinstall_revives_the_same_user(backend: Backend) {
    let app = spawn_app(backend).await;
    app.post_signed(&app.install("f:i1", "29:u5")).await;
    let first = app.users_json()[0].clone();
    app.post_signed(&app.uninstall("f:r1", "29:u5")).await;
    app.post_signed(&app.install("f:i2", "29:u5")).await;
    let users = app.users_json();
    assert_eq!(users.len(), 1, "still one user: {users:?}");
    assert_eq!(users[0]["id"], first["id"]);
    assert_eq!(users[0]["installed"], true);
    assert_eq!(users[0]["not_installed_reason"], Value::Null);
    // Welcomed at the first install and again at the reinstall.
    assert_eq!(app.sent_messages().await.len(), 2);
}

async fn the_same_activity_posted_twice_produces_one_reply(backend: Backend) {
    let app = spawn_app(backend).await;
    let activity = app.message("1:dup", "29:u6", "help");
    assert_eq!(app.post_signed(&activity).await.status(), 200);
    assert_eq!(app.post_signed(&activity).await.status(), 200);
    assert_eq!(app.sent_messages().await.len(), 1);

    // The same id in another conversation is another activity.
    let mut other = app.message("1:dup", "29:u7", "help");
    other["conversation"]["id"] = json!("a:conv-other");
    assert_eq!(app.post_signed(&other).await.status(), 200);
    assert_eq!(app.sent_messages().await.len(), 2);

    // An install redelivered does not welcome twice either.
    let install = app.install("f:dup-install", "29:u8");
    app.post_signed(&install).await;
    app.post_signed(&install).await;
    assert_eq!(app.sent_messages().await.len(), 3);
}

async fn the_same_activity_posted_concurrently_produces_one_reply(backend: Backend) {
    let app = spawn_app(backend).await;
    let activity = app.message("1:storm", "29:u11", "help");
    let posts = (0..16).map(|_| app.post_signed(&activity));
    for response in futures_util::future::join_all(posts).await {
        assert_eq!(response.status(), 200);
    }
    assert_eq!(app.sent_messages().await.len(), 1);
}

async fn conversation_update_adding_the_bot_installs(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut activity = app.install("f:cu1", "29:u9");
    activity["type"] = json!("conversationUpdate");
    activity.as_object_mut().unwrap().remove("action");
    activity["membersAdded"] = json!([{"id": format!("28:{APP_ID}")}]);
    assert_eq!(app.post_signed(&activity).await.status(), 200);
    let users = app.users_json();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["installed"], true);

    // Teams sends both events on install: the second must not welcome again.
    assert_eq!(
        app.post_signed(&app.install("f:iu1", "29:u9"))
            .await
            .status(),
        200
    );
    assert_eq!(app.sent_messages().await.len(), 1);
}

async fn typing_and_group_activities_are_accepted_and_ignored(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut typing = app.message("1:t", "29:u10", "");
    typing["type"] = json!("typing");
    assert_eq!(app.post_signed(&typing).await.status(), 200);
    let mut group = app.install("f:g", "29:u10");
    group["conversation"]["conversationType"] = json!("groupChat");
    assert_eq!(app.post_signed(&group).await.status(), 200);
    assert!(app.users_json().is_empty());
    assert!(app.sent_messages().await.is_empty());
}

async fn health_and_readiness_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
}
