//! Signing keys published through an OpenID metadata document and its `jwks_uri`.
//!
//! Keys are cached; the set is refreshed at least every 24 hours, and when a token names a `kid`
//! we do not know, at most once an hour (so a flood of made-up `kid`s cannot make us hammer the
//! key server). Refreshes are single-flight.

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
    fetched_at: Option<Instant>,
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
        let fresh = state
            .fetched_at
            .is_some_and(|at| at.elapsed() < MAX_KEY_AGE);
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
            (key, false) => {
                // Never fetched, or older than a day: refresh; on failure keep serving old keys.
                match self.refresh().await {
                    Ok(()) => {}
                    Err(e) if key.is_some() => {
                        tracing::warn!(error = %e, url = %self.metadata_url, "signing key refresh failed; keeping the cached keys");
                        self.mark_fetched();
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

    fn mark_fetched(&self) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.fetched_at = Some(Instant::now());
    }

    async fn fetch<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, KeyError> {
        let unavailable = |e: reqwest::Error| KeyError::Unavailable(e.without_url().to_string());
        self.http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
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
        tracing::info!(url = %self.metadata_url, keys = keys.len(), "signing keys refreshed");
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.keys = keys;
        state.fetched_at = Some(Instant::now());
        Ok(())
    }
}
