//! The connector client's calls, as the connector sees them.

use std::sync::Arc;

use herald::botframework::token::{BOT_FRAMEWORK_SCOPE, TokenProvider};
use herald::botframework::{Activity, ConnectorClient, ConnectorError, ServiceUrl};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn client() -> (MockServer, ConnectorClient, ServiceUrl) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3600, "access_token": "tok"
        })))
        .mount(&server)
        .await;
    let http = reqwest::Client::new();
    let tokens = TokenProvider::new(
        format!("{}/token", server.uri()),
        "app-id".into(),
        secrecy::SecretString::from("secret"),
        BOT_FRAMEWORK_SCOPE,
        http.clone(),
    );
    let url = ServiceUrl::parse(&format!("{}/amer/", server.uri())).unwrap();
    (server, ConnectorClient::new(http, Arc::new(tokens)), url)
}

#[tokio::test]
async fn a_personal_conversation_is_created_with_bot_member_and_tenant() {
    let (server, client, url) = client().await;
    Mock::given(method("POST"))
        .and(path("/amer/v3/conversations"))
        .and(header("authorization", "Bearer tok"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "a:new-chat"})))
        .mount(&server)
        .await;
    let id = client
        .create_personal_conversation(&url, "28:bot", "29:user", "tenant-1")
        .await
        .unwrap();
    assert_eq!(id, "a:new-chat");
    let requests = server.received_requests().await.unwrap();
    let body: Value = requests
        .iter()
        .find(|r| r.url.path() == "/amer/v3/conversations")
        .unwrap()
        .body_json()
        .unwrap();
    assert_eq!(body["bot"]["id"], "28:bot");
    assert_eq!(body["members"], json!([{"id": "29:user"}]));
    assert_eq!(body["tenantId"], "tenant-1");
    assert_eq!(body["channelData"]["tenant"]["id"], "tenant-1");
    assert_eq!(body["isGroup"], false);
}

#[tokio::test]
async fn activities_are_updated_and_deleted_in_place() {
    let (server, client, url) = client().await;
    Mock::given(method("PUT"))
        .and(path("/amer/v3/conversations/a%3Achat/activities/1%3A42"))
        .and(header("authorization", "Bearer tok"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1:42"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/amer/v3/conversations/a%3Achat/activities/1%3A42"))
        .and(header("authorization", "Bearer tok"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let activity = Activity {
        kind: Some("message".into()),
        text: Some("edited".into()),
        ..Activity::default()
    };
    client
        .update_activity(&url, "a:chat", "1:42", &activity)
        .await
        .unwrap();
    client
        .delete_activity(&url, "a:chat", "1:42")
        .await
        .unwrap();
    server.verify().await;
}

#[tokio::test]
async fn a_deleted_message_that_is_already_gone_is_a_permanent_error() {
    let (server, client, url) = client().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"code": "ActivityNotFoundInConversation", "message": "gone"}
        })))
        .mount(&server)
        .await;
    let err = client
        .delete_activity(&url, "a:chat", "1:42")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Permanent { status: 404, code } if code == "ActivityNotFoundInConversation"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn an_unreachable_connector_is_transient() {
    let (_server, client, _) = client().await;
    // Nothing listens on port 9 of the loopback interface.
    let url = ServiceUrl::parse("http://127.0.0.1:9/").unwrap();
    let activity = Activity::default();
    let err = client
        .send_to_conversation(&url, "a:chat", &activity)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}
