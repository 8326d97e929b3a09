//! Signing test tokens with the test RSA key in `tests/fixtures` (a key made for these tests and
//! nothing else), and the OpenID documents that publish it.
#![allow(dead_code)]

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

pub const TEST_KEY_PEM: &str = include_str!("../fixtures/test_rsa_key.pem");
pub const TEST_PUBLIC_PEM: &str = include_str!("../fixtures/test_rsa_pub.pem");
pub const TEST_JWK: &str = include_str!("../fixtures/test_rsa_jwk.json");

pub const APP_ID: &str = "00000000-1111-2222-3333-444444444444";
pub const APP_PASSWORD: &str = "test-app-password";
pub const CHANNEL_KID: &str = "test-channel-key";
pub const EMULATOR_KID: &str = "test-emulator-key";
/// A channel key endorsed for Web Chat and Direct Line, as the Bot Framework's real set has.
pub const WEBCHAT_KID: &str = "test-webchat-key";
pub const CHANNEL_ISSUER: &str = "https://api.botframework.com";
pub const EMULATOR_ISSUER_V1: &str =
    "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/";
pub const EMULATOR_ISSUER_V2: &str =
    "https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0";

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims of a valid channel token for `service_url`.
pub fn channel_claims(service_url: &str) -> Value {
    json!({
        "iss": CHANNEL_ISSUER,
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now() - 60,
        "iat": now() - 60,
        "exp": now() + 3600,
    })
}

pub fn sign(claims: &Value, kid: &str, alg: Algorithm) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_string());
    let key = EncodingKey::from_rsa_pem(TEST_KEY_PEM.as_bytes()).expect("test key parses");
    encode(&header, claims, &key).expect("token signs")
}

/// A valid channel token for `service_url`.
pub fn channel_token(service_url: &str) -> String {
    sign(&channel_claims(service_url), CHANNEL_KID, Algorithm::RS256)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with `alg: none` and no signature.
pub fn unsigned_token(claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT", "kid": CHANNEL_KID});
    format!(
        "{}.{}.",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// HS256 with the public key as the HMAC secret: the classic algorithm-confusion attack.
pub fn hs256_with_public_key(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(CHANNEL_KID.to_string());
    encode(
        &header,
        claims,
        &EncodingKey::from_secret(TEST_PUBLIC_PEM.as_bytes()),
    )
    .expect("token signs")
}

/// The same token with one character of its signature changed.
pub fn tamper_signature(token: &str) -> String {
    let (rest, sig) = token.rsplit_once('.').expect("three parts");
    let mut sig: Vec<char> = sig.chars().collect();
    let i = sig.len() / 2;
    sig[i] = if sig[i] == 'A' { 'B' } else { 'A' };
    format!("{rest}.{}", sig.into_iter().collect::<String>())
}

fn jwk(kid: &str, endorsements: Option<&[&str]>) -> Value {
    let mut key: Value = serde_json::from_str(TEST_JWK).expect("jwk fixture");
    key["kty"] = json!("RSA");
    key["use"] = json!("sig");
    key["kid"] = json!(kid);
    if let Some(e) = endorsements {
        key["endorsements"] = json!(e);
    }
    key
}

/// The channel key set: the test key endorsed for Teams, and again for Web Chat and Direct Line.
pub fn channel_jwks() -> Value {
    json!({"keys": [
        jwk(CHANNEL_KID, Some(&["msteams"])),
        jwk(WEBCHAT_KID, Some(&["webchat", "directline"])),
    ]})
}

/// A genuine channel token for `service_url` from the key endorsed for Web Chat and Direct Line.
pub fn webchat_token(service_url: &str) -> String {
    sign(&channel_claims(service_url), WEBCHAT_KID, Algorithm::RS256)
}

/// The emulator key set: the test key under another kid, no endorsements.
pub fn emulator_jwks() -> Value {
    json!({"keys": [jwk(EMULATOR_KID, None)]})
}

/// A P-256 key made for these tests, as PKCS#8 PEM, and its public half as a JWK (no `kid`).
pub const TEST_EC_KEY_PEM: &str = include_str!("../fixtures/test_ec_key.pem");
pub const TEST_EC_JWK: &str = include_str!("../fixtures/test_ec_jwk.json");

/// `claims` signed ES256 with the test EC key, naming `kid`.
pub fn sign_es256(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_string());
    let key = EncodingKey::from_ec_pem(TEST_EC_KEY_PEM.as_bytes()).expect("test EC key parses");
    encode(&header, claims, &key).expect("token signs")
}

/// The test RSA key as a JWK under `kid`, endorsed for Teams.
pub fn rsa_jwk(kid: &str) -> Value {
    jwk(kid, Some(&["msteams"]))
}

/// The test EC key as a JWK under `kid`.
pub fn ec_jwk(kid: &str) -> Value {
    let mut key: Value = serde_json::from_str(TEST_EC_JWK).expect("EC jwk fixture");
    key["kid"] = json!(kid);
    key["use"] = json!("sig");
    key
}
