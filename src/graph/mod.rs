//! Microsoft Graph, app-only: one client-credentials token per tenant (an app-only Graph token
//! belongs to one tenant), presence looked up in batches of at most 650 ids. Knows nothing of
//! campaigns.

pub mod groups;
pub mod mailbox;
pub mod permissions;
pub mod subscriptions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use crate::botframework::credential::Credential;
use crate::botframework::token::{TokenError, TokenProvider};

/// Scope of app-only Graph tokens in the public cloud (see `botframework::cloud`).
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
/// Where a tenant's Graph tokens come from; `{tenant}` is replaced.
pub const TOKEN_ENDPOINT: &str = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";
pub const BASE_URL: &str = "https://graph.microsoft.com";
/// Most ids Graph accepts in one `getPresencesByUserId` call.
pub const MAX_IDS_PER_CALL: usize = 650;

pub mod install;

/// One user's presence, as Graph reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Presence {
    /// The user's Entra object id.
    pub id: String,
    /// Available, AvailableIdle, Away, BeRightBack, Busy, BusyIdle, DoNotDisturb, Offline,
    /// PresenceUnknown.
    #[serde(default)]
    pub availability: String,
    #[serde(default)]
    pub activity: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("Graph throttled the request (retry after {retry_after:?})")]
    Throttled { retry_after: Option<Duration> },
    #[error("Graph refused the request (HTTP {status}): {code}")]
    Refused { status: u16, code: String },
    #[error("Graph unreachable: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl GraphError {
    /// The wait Graph asked for, when it throttled the request with a `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GraphError::Throttled { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// How long Graph asks to be left alone (`Retry-After`: seconds or an HTTP date).
pub(crate) fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    crate::botframework::retry_after::retry_after(response.headers())
}

/// A throttled answer (429) as [`GraphError::Throttled`] with Graph's `Retry-After`.
pub(crate) fn throttled(response: &reqwest::Response) -> GraphError {
    GraphError::Throttled {
        retry_after: retry_after(response),
    }
}

/// An unsuccessful answer as [`GraphError::Refused`], with Graph's error code.
pub(crate) async fn refused(response: reqwest::Response) -> GraphError {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let code = body
        .pointer("/error/code")
        .and_then(|c| c.as_str())
        .unwrap_or("unknown")
        .to_string();
    GraphError::Refused { status, code }
}

#[derive(Deserialize)]
struct PresenceList {
    #[serde(default)]
    value: Vec<Presence>,
}

pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
    token_endpoint: String,
    client_id: String,
    credential: Credential,
    scope: String,
    tokens: Mutex<HashMap<String, Arc<TokenProvider>>>,
}

impl GraphClient {
    /// `token_endpoint` may contain `{tenant}`; `base_url` is Graph's root (no `/v1.0`).
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        token_endpoint: &str,
        client_id: &str,
        secret: SecretString,
    ) -> GraphClient {
        let credential = Credential::Secret(secret);
        Self::with_credential(
            http,
            base_url,
            token_endpoint,
            GRAPH_SCOPE,
            client_id,
            credential,
        )
    }

    /// A client of the cloud whose Graph `scope` is given, authenticating with `credential`.
    pub fn with_credential(
        http: reqwest::Client,
        base_url: &str,
        token_endpoint: &str,
        scope: &str,
        client_id: &str,
        credential: Credential,
    ) -> GraphClient {
        GraphClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            token_endpoint: token_endpoint.to_string(),
            client_id: client_id.to_string(),
            credential,
            scope: scope.to_string(),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    fn tokens_for(&self, tenant: &str) -> Arc<TokenProvider> {
        // A poisoned lock only means a panic elsewhere; the map is still whole.
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .entry(tenant.to_string())
            .or_insert_with(|| {
                Arc::new(TokenProvider::with_credential(
                    self.token_endpoint.replace("{tenant}", tenant),
                    self.client_id.clone(),
                    self.credential.clone(),
                    &self.scope,
                    self.http.clone(),
                ))
            })
            .clone()
    }

    /// Presence of each of `ids` (Entra object ids) in `tenant`, in as few calls as Graph
    /// allows. Ids Graph does not answer for are simply absent from the result.
    pub async fn presences(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<Presence>, GraphError> {
        let tokens = self.tokens_for(tenant);
        let url = format!("{}/v1.0/communications/getPresencesByUserId", self.base_url);
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_IDS_PER_CALL) {
            let mut request = self
                .http
                .post(&url)
                .json(&serde_json::json!({ "ids": chunk }));
            if let Some(token) = tokens.token().await? {
                request = request.bearer_auth(token);
            }
            let response = request
                .send()
                .await
                .map_err(|e| GraphError::Unreachable(e.without_url().to_string()))?;
            let status = response.status();
            if status.as_u16() == 429 {
                return Err(throttled(&response));
            }
            if !status.is_success() {
                return Err(refused(response).await);
            }
            let list: PresenceList = response.json().await.map_err(|e| {
                GraphError::Unreachable(format!("unreadable answer: {}", e.without_url()))
            })?;
            out.extend(list.value);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    async fn graph() -> (MockServer, GraphClient) {
        let server = MockServer::start().await;
        for tenant in ["tenant-a", "tenant-b"] {
            Mock::given(method("POST"))
                .and(path(format!("/{tenant}/oauth2/v2.0/token")))
                .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                    "token_type": "Bearer", "expires_in": 3600, "access_token": format!("token-{tenant}")
                })))
                .mount(&server)
                .await;
        }
        let client = GraphClient::new(
            reqwest::Client::new(),
            &server.uri(),
            &format!("{}/{{tenant}}/oauth2/v2.0/token", server.uri()),
            "app",
            SecretString::from("secret"),
        );
        (server, client)
    }

    #[tokio::test]
    async fn presence_comes_in_batches_of_650_with_the_tenants_own_token() {
        let (server, client) = graph().await;
        Mock::given(method("POST"))
            .and(path("/v1.0/communications/getPresencesByUserId"))
            .and(header("authorization", "Bearer token-tenant-a"))
            .respond_with(|req: &Request| {
                let body: serde_json::Value = req.body_json().unwrap();
                let value: Vec<serde_json::Value> = body["ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|id| serde_json::json!({"id": id, "availability": "Available", "activity": "Available"}))
                    .collect();
                ResponseTemplate::new(200).set_body_json(serde_json::json!({ "value": value }))
            })
            .mount(&server)
            .await;
        let ids: Vec<String> = (0..1400).map(|i| format!("user-{i}")).collect();
        let presences = client.presences("tenant-a", &ids).await.unwrap();
        assert_eq!(presences.len(), 1400);
        assert_eq!(presences[1399].id, "user-1399");
        let calls: Vec<usize> = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path().ends_with("getPresencesByUserId"))
            .map(|r| {
                r.body_json::<serde_json::Value>().unwrap()["ids"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .collect();
        assert_eq!(calls, vec![650, 650, 100]);
    }

    #[tokio::test]
    async fn each_tenant_gets_its_own_token_and_refusals_are_typed() {
        let (server, client) = graph().await;
        Mock::given(method("POST"))
            .and(path("/v1.0/communications/getPresencesByUserId"))
            .and(header("authorization", "Bearer token-tenant-b"))
            .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
                "error": {"code": "Forbidden", "message": "Missing Presence.Read.All"}
            })))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v1.0/communications/getPresencesByUserId"))
            .and(header("authorization", "Bearer token-tenant-a"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
            .mount(&server)
            .await;
        let err = client
            .presences("tenant-b", &["x".into()])
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::Refused { status: 403, ref code } if code == "Forbidden"),
            "{err:?}"
        );
        let err = client
            .presences("tenant-a", &["x".into()])
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::Throttled { retry_after: Some(d) } if d == Duration::from_secs(7)),
            "{err:?}"
        );
    }
}
