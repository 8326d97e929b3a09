//! The bot's outbound access token (client credentials, with a secret or a certificate's signed
//! assertion), cached until five minutes before it expires. With no app id configured there is
//! no token: calls go out unauthenticated, which only local tools accept. Redirects from the
//! token endpoint are never followed (a 307/308 would re-send the credential elsewhere).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::credential::{CLIENT_ASSERTION_TYPE, Credential};

/// Scope of tokens for the Bot Connector service (public cloud; see [`super::cloud`]).
pub const BOT_FRAMEWORK_SCOPE: &str = "https://api.botframework.com/.default";
/// A cached token is renewed this long before it expires.
pub const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token endpoint unreachable: {0}")]
    Unreachable(String),
    #[error("token endpoint refused the credentials (HTTP {status}): {error}")]
    Refused { status: u16, error: String },
    #[error("token endpoint answered something that is not a token")]
    BadResponse,
    #[error("token endpoint redirected (HTTP {0}); redirects are not followed")]
    Redirected(String),
    #[error("the client assertion could not be signed: {0}")]
    Assertion(String),
}

/// `"307 to host.example"` when `response` is a redirect, naming where it pointed (host only).
pub fn redirect_note(response: &reqwest::Response) -> Option<String> {
    let status = response.status();
    if !status.is_redirection() {
        return None;
    }
    let host = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| response.url().join(l).ok())
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "no Location".to_string());
    Some(format!("{} to {host}", status.as_u16()))
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct TokenErrorBody {
    #[serde(default)]
    error: String,
}

struct Cached {
    value: Arc<str>,
    renew_at: Instant,
}

pub struct TokenProvider {
    endpoint: String,
    client_id: String,
    credential: Credential,
    scope: String,
    http: reqwest::Client,
    cached: RwLock<Option<Cached>>,
    renewing: tokio::sync::Mutex<()>,
}

impl TokenProvider {
    pub fn new(
        endpoint: String,
        client_id: String,
        secret: SecretString,
        scope: &str,
        http: reqwest::Client,
    ) -> TokenProvider {
        Self::with_credential(endpoint, client_id, Credential::Secret(secret), scope, http)
    }

    /// A provider that authenticates with `credential` (a secret or a certificate).
    pub fn with_credential(
        endpoint: String,
        client_id: String,
        credential: Credential,
        scope: &str,
        http: reqwest::Client,
    ) -> TokenProvider {
        TokenProvider {
            endpoint,
            client_id,
            credential,
            scope: scope.to_string(),
            http,
            cached: RwLock::new(None),
            renewing: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self) -> Option<Arc<str>> {
        // A poisoned lock only means a panic elsewhere; the cached value is still whole.
        let cached = self.cached.read().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .filter(|c| Instant::now() < c.renew_at)
            .map(|c| c.value.clone())
    }

    /// A valid token, or `None` when authentication is off.
    pub async fn token(&self) -> Result<Option<Arc<str>>, TokenError> {
        if self.client_id.is_empty() {
            return Ok(None);
        }
        if let Some(t) = self.current() {
            return Ok(Some(t));
        }
        let _guard = self.renewing.lock().await;
        if let Some(t) = self.current() {
            return Ok(Some(t));
        }
        let assertion;
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            ("scope", &self.scope),
        ];
        match &self.credential {
            Credential::Secret(secret) => form.push(("client_secret", secret.expose_secret())),
            Credential::Certificate(cert) => {
                assertion = cert
                    .assertion(&self.client_id, &self.endpoint)
                    .map_err(|e| TokenError::Assertion(format!("{:?}", e.kind())))?;
                form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE));
                form.push(("client_assertion", &assertion));
            }
        }
        let response = self
            .http
            .post(&self.endpoint)
            .form(&form)
            .send()
            .await
            .map_err(|e| TokenError::Unreachable(e.without_url().to_string()))?;
        if let Some(note) = redirect_note(&response) {
            return Err(TokenError::Redirected(note));
        }
        let status = response.status();
        if !status.is_success() {
            let body: TokenErrorBody = response.json().await.unwrap_or_default();
            return Err(TokenError::Refused {
                status: status.as_u16(),
                error: body.error,
            });
        }
        let body: TokenResponse = response.json().await.map_err(|_| TokenError::BadResponse)?;
        // At most a day (Entra's tokens last about an hour): an absurd `expires_in` must not
        // overflow the Instant below.
        let lifetime = Duration::from_secs(body.expires_in.unwrap_or(3600).min(24 * 3600));
        let value: Arc<str> = Arc::from(body.access_token);
        let renew_at = Instant::now() + lifetime.saturating_sub(RENEW_BEFORE_EXPIRY);
        *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
            value: value.clone(),
            renew_at,
        });
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{body_string_contains, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    async fn provider_with_lifetime(expires_in: u64) -> (MockServer, TokenProvider) {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(body_string_contains("grant_type=client_credentials"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "token_type": "Bearer", "expires_in": expires_in, "access_token": "t"
            })))
            .mount(&server)
            .await;
        let provider = TokenProvider::new(
            format!("{}/token", server.uri()),
            "app".into(),
            SecretString::from("secret"),
            BOT_FRAMEWORK_SCOPE,
            reqwest::Client::new(),
        );
        (server, provider)
    }

    #[tokio::test]
    async fn a_token_is_reused_until_five_minutes_before_it_expires() {
        let (server, provider) = provider_with_lifetime(301).await;
        assert_eq!(provider.token().await.unwrap().as_deref(), Some("t"));
        assert_eq!(provider.token().await.unwrap().as_deref(), Some("t"));
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_token_within_five_minutes_of_expiry_is_renewed() {
        let (server, provider) = provider_with_lifetime(299).await;
        provider.token().await.unwrap();
        provider.token().await.unwrap();
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn an_absurd_lifetime_is_kept_a_day_without_panicking() {
        let (server, provider) = provider_with_lifetime(u64::MAX).await;
        assert_eq!(provider.token().await.unwrap().as_deref(), Some("t"));
        assert_eq!(provider.token().await.unwrap().as_deref(), Some("t"));
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn refused_credentials_say_why_without_the_secret() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
                "error": "invalid_client", "error_description": "AADSTS7000215"
            })))
            .mount(&server)
            .await;
        let provider = TokenProvider::new(
            format!("{}/token", server.uri()),
            "app".into(),
            SecretString::from("hunter2"),
            BOT_FRAMEWORK_SCOPE,
            reqwest::Client::new(),
        );
        let err = provider.token().await.unwrap_err().to_string();
        assert!(
            err.contains("401") && err.contains("invalid_client"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[tokio::test]
    async fn no_app_id_means_no_token() {
        let provider = TokenProvider::new(
            "http://127.0.0.1:9/never-called".into(),
            String::new(),
            SecretString::from(""),
            BOT_FRAMEWORK_SCOPE,
            reqwest::Client::new(),
        );
        assert!(provider.token().await.unwrap().is_none());
    }
}
