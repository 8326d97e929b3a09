//! Signing keys published through an OpenID metadata document and its `jwks_uri`.
//!
//! Keys are cached; the set is refreshed at least every 24 hours, and when a token names a `kid`
//! we do not know, at most once an hour (so a flood of made-up `kid`s cannot make us hammer the
//! key server). Refreshes are single-flight. A refresh that brings no usable key (an empty set,
//! garbage, a redirect, an outage) never replaces the cached keys: they stay in use, a warning is
//! logged, and the refresh is tried again after [`RETRY_FAILED_REFRESH`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use url::Url;

/// Refresh the whole set at least this often.
pub const MAX_KEY_AGE: Duration = Duration::from_secs(24 * 3600);
/// An unknown `kid` triggers a refresh at most this often.
pub const UNKNOWN_KID_REFRESH_INTERVAL: Duration = Duration::from_secs(3600);
/// After a failed scheduled refresh, the cached keys are used this long before trying again.
pub const RETRY_FAILED_REFRESH: Duration = Duration::from_secs(600);

/// One RSA public key and the channels it may sign for.
pub struct SigningKey {
    pub decoding: DecodingKey,
    /// `None` when the key lists no endorsements; then any channel is accepted.
    pub endorsements: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no signing key with kid `{0}`")]
    UnknownKid(String),
    #[error("signing keys unavailable: {0}")]
    Unavailable(String),
}

#[derive(Deserialize)]
struct Metadata {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct JwkSet {
    /// Read one by one: a key of another shape must not spoil the set.
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    endorsements: Option<Vec<String>>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Arc<SigningKey>>,
    /// When the set must be fetched again; `None` before the first fetch.
    refresh_due: Option<Instant>,
    unknown_kid_refresh_at: Option<Instant>,
}

pub struct OpenIdKeys {
    metadata_url: Url,
    http: reqwest::Client,
    state: RwLock<State>,
    refreshing: tokio::sync::Mutex<()>,
}

impl OpenIdKeys {
    pub fn new(metadata_url: Url, http: reqwest::Client) -> OpenIdKeys {
        OpenIdKeys {
            metadata_url,
            http,
            state: RwLock::new(State::default()),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    fn cached(&self, kid: &str) -> (Option<Arc<SigningKey>>, bool) {
        // A poisoned lock only means a panic elsewhere mid-read; the data is still whole.
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let fresh = state.refresh_due.is_some_and(|due| Instant::now() < due);
        (state.keys.get(kid).cloned(), fresh)
    }

    /// The key for `kid`, fetching or refreshing the set as the rules above allow.
    pub async fn key(&self, kid: &str) -> Result<Arc<SigningKey>, KeyError> {
        let (key, fresh) = self.cached(kid);
        if let (Some(key), true) = (&key, fresh) {
            return Ok(key.clone());
        }
        let _guard = self.refreshing.lock().await;
        // Another task may have refreshed while we waited.
        let (key, fresh) = self.cached(kid);
        match (key, fresh) {
            (Some(key), true) => Ok(key),
            (_, false) => {
                // Never fetched, or due: refresh; on failure keep serving the cached keys.
                match self.refresh().await {
                    Ok(()) => {}
                    Err(e) if self.has_keys() => {
                        tracing::warn!(error = %e, url = %self.metadata_url, "signing key refresh failed; keeping the cached keys, retrying later");
                        self.retry_later();
                    }
                    Err(e) => return Err(e),
                }
                self.cached(kid)
                    .0
                    .ok_or_else(|| KeyError::UnknownKid(kid.to_string()))
            }
            (None, true) => {
                let allowed = {
                    let state = self.state.read().unwrap_or_else(|e| e.into_inner());
                    state
                        .unknown_kid_refresh_at
                        .is_none_or(|at| at.elapsed() >= UNKNOWN_KID_REFRESH_INTERVAL)
                };
                if !allowed {
                    return Err(KeyError::UnknownKid(kid.to_string()));
                }
                {
                    let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
                    state.unknown_kid_refresh_at = Some(Instant::now());
                }
                if let Err(e) = self.refresh().await {
                    tracing::warn!(error = %e, url = %self.metadata_url, "signing key refresh for an unknown kid failed");
                }
                self.cached(kid)
                    .0
                    .ok_or_else(|| KeyError::UnknownKid(kid.to_string()))
            }
        }
    }

    fn has_keys(&self) -> bool {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        !state.keys.is_empty()
    }

    fn retry_later(&self) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.refresh_due = Some(Instant::now() + RETRY_FAILED_REFRESH);
    }

    async fn fetch<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, KeyError> {
        let unavailable = |e: reqwest::Error| KeyError::Unavailable(e.without_url().to_string());
        let response = self.http.get(url).send().await.map_err(unavailable)?;
        if let Some(note) = crate::botframework::token::redirect_note(&response) {
            return Err(KeyError::Unavailable(format!(
                "redirected ({note}); redirects are not followed"
            )));
        }
        response
            .error_for_status()
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)
    }

    async fn refresh(&self) -> Result<(), KeyError> {
        let metadata: Metadata = self.fetch(self.metadata_url.as_str()).await?;
        let set: JwkSet = self.fetch(&metadata.jwks_uri).await?;
        let mut keys = HashMap::new();
        for jwk in set.keys {
            let jwk: Jwk = match serde_json::from_value(jwk) {
                Ok(jwk) => jwk,
                Err(err) => {
                    tracing::warn!(error = %err, "skipping an unreadable signing key");
                    continue;
                }
            };
            // Bot Framework keys are RSA; anything else cannot verify an RS* token.
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            if jwk.kty != "RSA" {
                continue;
            }
            match DecodingKey::from_rsa_components(&n, &e) {
                Ok(decoding) => {
                    keys.insert(
                        kid,
                        Arc::new(SigningKey {
                            decoding,
                            endorsements: jwk.endorsements,
                        }),
                    );
                }
                Err(err) => tracing::warn!(%kid, error = %err, "skipping an unusable signing key"),
            }
        }
        if keys.is_empty() {
            return Err(KeyError::Unavailable(
                "the key set holds no usable RSA key".to_string(),
            ));
        }
        tracing::info!(url = %self.metadata_url, keys = keys.len(), "signing keys refreshed");
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.keys = keys;
        state.refresh_due = Some(Instant::now() + MAX_KEY_AGE);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const JWK: &str = include_str!("../../../tests/fixtures/test_rsa_jwk.json");

    fn good_set() -> serde_json::Value {
        let mut key: serde_json::Value = serde_json::from_str(JWK).unwrap();
        key["kty"] = "RSA".into();
        key["kid"] = "good".into();
        serde_json::json!({ "keys": [key] })
    }

    /// Metadata and keys on a fake: the good set for the first fetch, then `later`.
    async fn keys_then(later: ResponseTemplate) -> (MockServer, OpenIdKeys) {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/metadata"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(
                    serde_json::json!({"jwks_uri": format!("{}/keys", server.uri())}),
                ),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/keys"))
            .respond_with(ResponseTemplate::new(200).set_body_json(good_set()))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/keys"))
            .respond_with(later)
            .with_priority(2)
            .mount(&server)
            .await;
        let url = Url::parse(&format!("{}/metadata", server.uri())).unwrap();
        let keys = OpenIdKeys::new(url, crate::startup::http_client().unwrap());
        (server, keys)
    }

    async fn key_fetches(server: &MockServer) -> usize {
        let requests = server.received_requests().await.unwrap();
        requests.iter().filter(|r| r.url.path() == "/keys").count()
    }

    fn make_due(keys: &OpenIdKeys) {
        keys.state.write().unwrap().refresh_due = Some(Instant::now());
    }

    #[tokio::test]
    async fn an_empty_set_after_good_keys_does_not_replace_them() {
        let empty = ResponseTemplate::new(200).set_body_json(serde_json::json!({"keys": []}));
        let (server, keys) = keys_then(empty).await;
        keys.key("good").await.unwrap();
        // An unknown kid refreshes once and meets the empty set: the good key stays.
        assert!(matches!(
            keys.key("stranger").await,
            Err(KeyError::UnknownKid(_))
        ));
        assert_eq!(key_fetches(&server).await, 2);
        keys.key("good").await.unwrap();
        // So does a scheduled refresh; it is tried again after RETRY_FAILED_REFRESH, not a day.
        make_due(&keys);
        keys.key("good").await.unwrap();
        assert_eq!(key_fetches(&server).await, 3);
        let due = keys.state.read().unwrap().refresh_due.unwrap();
        assert!(due <= Instant::now() + RETRY_FAILED_REFRESH);
        assert!(due > Instant::now() + RETRY_FAILED_REFRESH / 2);
    }

    #[tokio::test]
    async fn garbage_or_unusable_keys_after_good_keys_do_not_replace_them() {
        let cases = [
            ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"),
            ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "keys": [{"kty": "EC", "kid": "good", "crv": "P-256", "x": "AA", "y": "AA"},
                         {"kty": "RSA", "kid": "broken"}]
            })),
            ResponseTemplate::new(500),
            ResponseTemplate::new(302).insert_header("location", "https://elsewhere.example/keys"),
        ];
        for later in cases {
            let (server, keys) = keys_then(later).await;
            keys.key("good").await.unwrap();
            make_due(&keys);
            keys.key("good").await.unwrap();
            assert_eq!(key_fetches(&server).await, 2);
            assert!(keys.cached("good").1, "retried later, not on every request");
        }
    }

    #[tokio::test]
    async fn a_first_fetch_without_usable_keys_is_an_error_naming_why() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/metadata"))
            .respond_with(
                ResponseTemplate::new(307).insert_header("location", "https://elsewhere.example/m"),
            )
            .mount(&server)
            .await;
        let url = Url::parse(&format!("{}/metadata", server.uri())).unwrap();
        let keys = OpenIdKeys::new(url, crate::startup::http_client().unwrap());
        let err = keys.key("good").await.err().unwrap().to_string();
        assert!(
            err.contains("redirected") && err.contains("307") && err.contains("elsewhere.example"),
            "{err}"
        );
    }
}
