//! Inbound authentication of Bot Framework requests, as the official SDKs do it.
//!
//! Channel tokens (Teams, Skype) are issued by the cloud's channel issuer
//! (`https://api.botframework.com`, or `https://api.botframework.us` in GCC High and DoD), carry
//! the bot's app id (or `api://botid-{appId}`) as audience and a `serviceurl` claim that must
//! equal the activity's `serviceUrl`; their signing key may restrict the channels it signs for
//! (`endorsements`). Emulator tokens (Bot Framework Emulator, Agents Playground with
//! credentials) are issued by the cloud's Bot Framework tenants and name the bot in `appid`
//! (v1.0) or `azp` (v2.0). Only RS256/RS384/RS512 are accepted, with five minutes of clock skew.

pub mod keys;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde::Deserialize;
use url::Url;

pub use keys::{KeyError, OpenIdKeys, SigningKey};

use super::cloud::Cloud;

/// The channel issuer of the public cloud.
pub const CHANNEL_ISSUER: &str = "https://api.botframework.com";

/// Allowed clock skew, seconds.
pub const CLOCK_SKEW_SECS: u64 = 300;

/// Why a request was not authenticated. Everything but `KeysUnavailable` is a 401.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token in the Authorization header")]
    MissingToken,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not RS256, RS384 or RS512")]
    Algorithm,
    #[error("the token's issuer is not trusted")]
    UntrustedIssuer,
    #[error("the token is signed by an unknown key")]
    UnknownKey,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the token's serviceurl claim does not match the activity's serviceUrl")]
    ServiceUrlMismatch,
    #[error("the signing key is not endorsed for channel `{0}`")]
    NotEndorsed(String),
    #[error("the token was not issued for this bot")]
    WrongApp,
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
}

/// A token whose signature and standard claims checked out. The activity-dependent checks
/// (`serviceurl`, endorsements) follow once the body is parsed: [`VerifiedToken::check_activity`].
#[derive(Debug, Clone)]
pub enum VerifiedToken {
    Channel {
        service_url: String,
        endorsements: Option<Vec<String>>,
    },
    Emulator,
}

impl VerifiedToken {
    pub fn check_activity(&self, service_url: &str, channel_id: &str) -> Result<(), AuthError> {
        match self {
            VerifiedToken::Channel {
                service_url: claimed,
                endorsements,
            } => {
                let same = claimed
                    .trim_end_matches('/')
                    .eq_ignore_ascii_case(service_url.trim().trim_end_matches('/'));
                if !same {
                    return Err(AuthError::ServiceUrlMismatch);
                }
                if let Some(list) = endorsements
                    && !list.iter().any(|e| e.eq_ignore_ascii_case(channel_id))
                {
                    return Err(AuthError::NotEndorsed(channel_id.to_string()));
                }
                Ok(())
            }
            VerifiedToken::Emulator => Ok(()),
        }
    }
}

#[derive(Deserialize)]
struct PeekClaims {
    #[serde(default)]
    iss: String,
}

/// `exp` is required by the validation, so it is always there once `decode` succeeds.
#[derive(Deserialize)]
struct Times {
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
}

#[derive(Deserialize)]
struct ChannelClaims {
    #[serde(flatten)]
    times: Times,
    #[serde(default)]
    serviceurl: Option<String>,
}

#[derive(Deserialize)]
struct EmulatorClaims {
    #[serde(flatten)]
    times: Times,
    #[serde(default)]
    ver: Option<String>,
    #[serde(default)]
    appid: Option<String>,
    #[serde(default)]
    azp: Option<String>,
}

/// How many verified tokens are remembered. The Bot Framework reuses one token for every
/// request of the hour it lives, so a handful covers a busy bot; the set is simply emptied when
/// it reaches this size.
pub const VERIFIED_TOKEN_CACHE: usize = 256;

/// A token already verified in full, and the window in which it stays valid.
struct Remembered {
    verified: VerifiedToken,
    not_before: i64,
    expires: i64,
}

pub struct Authenticator {
    app_id: String,
    channel_issuer: &'static str,
    emulator_issuers: &'static [&'static str],
    /// Verified tokens by their exact text: the signature of a byte-identical token need not be
    /// checked again, but its lifetime is, on every request.
    verified: RwLock<HashMap<String, Remembered>>,
    channel_keys: OpenIdKeys,
    emulator_keys: OpenIdKeys,
    channel_validation: Validation,
    emulator_validation: Validation,
}

fn base_validation() -> Validation {
    let mut v = Validation::new(Algorithm::RS256);
    v.algorithms = vec![Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];
    v.leeway = CLOCK_SKEW_SECS;
    v.validate_exp = true;
    v.validate_nbf = true;
    v
}

impl Authenticator {
    /// Trusts the issuers of `cloud`, with keys from the given metadata documents.
    pub fn new(
        app_id: &str,
        cloud: Cloud,
        channel_metadata: Url,
        emulator_metadata: Url,
        http: reqwest::Client,
    ) -> Authenticator {
        let endpoints = cloud.endpoints();
        let mut channel_validation = base_validation();
        channel_validation.set_issuer(&[endpoints.channel_issuer]);
        // The bare app id (Bot Framework) or its `api://botid-` form (Teams SDK, newer bots).
        channel_validation.set_audience(&[app_id.to_string(), format!("api://botid-{app_id}")]);
        channel_validation.set_required_spec_claims(&["exp", "iss", "aud"]);

        let mut emulator_validation = base_validation();
        emulator_validation.set_issuer(endpoints.emulator_issuers);
        // Emulator tokens are checked through appid/azp, as the SDKs do.
        emulator_validation.validate_aud = false;
        emulator_validation.set_required_spec_claims(&["exp", "iss"]);

        Authenticator {
            app_id: app_id.to_string(),
            channel_issuer: endpoints.channel_issuer,
            emulator_issuers: endpoints.emulator_issuers,
            verified: RwLock::new(HashMap::new()),
            channel_keys: OpenIdKeys::new(channel_metadata, http.clone()),
            emulator_keys: OpenIdKeys::new(emulator_metadata, http),
            channel_validation,
            emulator_validation,
        }
    }

    /// Checks the `Authorization` header's token: signature, algorithm, issuer, audience, times.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
    ) -> Result<VerifiedToken, AuthError> {
        let token = authorization
            .and_then(|h| {
                let (scheme, token) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::MissingToken)?;

        if let Some(verified) = self.remembered(token) {
            return Ok(verified);
        }
        let (verified, not_before, expires) = self.verify(token).await?;
        // A poisoned lock only means a panic elsewhere; the map is still whole.
        let mut cache = self.verified.write().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= VERIFIED_TOKEN_CACHE {
            cache.clear();
        }
        cache.insert(
            token.to_string(),
            Remembered {
                verified: verified.clone(),
                not_before,
                expires,
            },
        );
        Ok(verified)
    }

    /// A token verified before and still inside its lifetime (with the allowed skew).
    fn remembered(&self, token: &str) -> Option<VerifiedToken> {
        let cache = self.verified.read().unwrap_or_else(|e| e.into_inner());
        let entry = cache.get(token)?;
        alive(
            chrono::Utc::now().timestamp(),
            entry.not_before,
            entry.expires,
        )
        .then(|| entry.verified.clone())
    }

    /// Full verification; returns the token's `nbf` and `exp` too.
    async fn verify(&self, token: &str) -> Result<(VerifiedToken, i64, i64), AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
        ) {
            return Err(AuthError::Algorithm);
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let issuer = peek_issuer(token)?;

        if issuer == self.channel_issuer {
            let key = self.key(&self.channel_keys, &kid).await?;
            let data = decode::<ChannelClaims>(token, &key.decoding, &self.channel_validation)
                .map_err(invalid)?;
            let times = (
                data.claims.times.nbf.unwrap_or(i64::MIN / 2),
                data.claims.times.exp,
            );
            let service_url = data
                .claims
                .serviceurl
                .ok_or(AuthError::ServiceUrlMismatch)?;
            Ok((
                VerifiedToken::Channel {
                    service_url,
                    endorsements: key.endorsements.clone(),
                },
                times.0,
                times.1,
            ))
        } else if self.emulator_issuers.contains(&issuer.as_str()) {
            let key = self.key(&self.emulator_keys, &kid).await?;
            let data = decode::<EmulatorClaims>(token, &key.decoding, &self.emulator_validation)
                .map_err(invalid)?;
            let app = match data.claims.ver.as_deref() {
                Some("2.0") => data.claims.azp,
                _ => data.claims.appid,
            };
            if app.as_deref() != Some(self.app_id.as_str()) {
                return Err(AuthError::WrongApp);
            }
            let times = &data.claims.times;
            Ok((
                VerifiedToken::Emulator,
                times.nbf.unwrap_or(i64::MIN / 2),
                times.exp,
            ))
        } else {
            Err(AuthError::UntrustedIssuer)
        }
    }

    async fn key(&self, keys: &OpenIdKeys, kid: &str) -> Result<Arc<SigningKey>, AuthError> {
        keys.key(kid).await.map_err(|e| match e {
            KeyError::UnknownKid(_) => AuthError::UnknownKey,
            KeyError::Unavailable(m) => AuthError::KeysUnavailable(m),
        })
    }
}

/// Whether a token with these `nbf` and `exp` is valid at `now`, with the allowed skew: the same
/// rule the full validation applies.
fn alive(now: i64, not_before: i64, expires: i64) -> bool {
    let skew = CLOCK_SKEW_SECS as i64;
    now >= not_before - skew && now <= expires + skew
}

fn invalid(e: jsonwebtoken::errors::Error) -> AuthError {
    AuthError::Invalid(format!("{:?}", e.kind()))
}

/// Reads `iss` without verifying anything, only to pick which key set verifies the token.
fn peek_issuer(token: &str) -> Result<String, AuthError> {
    let payload = token.split('.').nth(1).ok_or(AuthError::Malformed)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| AuthError::Malformed)?;
    let claims: PeekClaims = serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)?;
    Ok(claims.iss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_url_check_ignores_trailing_slash_and_case() {
        let t = VerifiedToken::Channel {
            service_url: "https://smba.trafficmanager.net/emea/".into(),
            endorsements: Some(vec!["msteams".into()]),
        };
        t.check_activity("https://SMBA.trafficmanager.net/emea", "msteams")
            .unwrap();
        assert!(matches!(
            t.check_activity("https://evil.example/emea/", "msteams"),
            Err(AuthError::ServiceUrlMismatch)
        ));
        assert!(matches!(
            t.check_activity("https://smba.trafficmanager.net/emea/", "skype"),
            Err(AuthError::NotEndorsed(_))
        ));
    }

    #[test]
    fn key_without_endorsements_accepts_any_channel() {
        let t = VerifiedToken::Channel {
            service_url: "https://x.example/".into(),
            endorsements: None,
        };
        t.check_activity("https://x.example/", "skype").unwrap();
    }

    #[test]
    fn a_remembered_token_lives_exactly_its_lifetime_plus_skew() {
        let (nbf, exp) = (1_000_000, 1_003_600);
        assert!(alive(nbf, nbf, exp));
        assert!(alive(nbf - 300, nbf, exp));
        assert!(!alive(nbf - 301, nbf, exp));
        assert!(alive(exp + 300, nbf, exp));
        assert!(!alive(exp + 301, nbf, exp));
    }

    #[test]
    fn issuer_is_peeked_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"iss":"https://api.botframework.com"}"#);
        assert_eq!(
            peek_issuer(&format!("h.{payload}.s")).unwrap(),
            CHANNEL_ISSUER
        );
        assert!(matches!(peek_issuer("nodots"), Err(AuthError::Malformed)));
        assert!(matches!(peek_issuer("a.!!!.c"), Err(AuthError::Malformed)));
    }
}
