//! How herald proves who it is to the token endpoint: the app's client secret, or a certificate
//! whose private key signs a short-lived client assertion (RFC 7523, as Entra ID expects it).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::SecretString;
use serde::Serialize;
use sha1::Digest as _;

/// `client_assertion_type` of a certificate credential.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long a client assertion is valid (Entra accepts up to ten minutes).
pub const ASSERTION_LIFETIME_SECS: i64 = 300;

/// The app's credential.
#[derive(Clone)]
pub enum Credential {
    Secret(SecretString),
    Certificate(Arc<ClientCertificate>),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Secret(_) => f.write_str("Credential::Secret(..)"),
            Credential::Certificate(c) => write!(f, "Credential::Certificate(x5t {})", c.x5t),
        }
    }
}

/// Why a certificate file cannot be used. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    #[error("not PEM: {0}")]
    NotPem(String),
    #[error(
        "the private key is encrypted; export it without a password (PKCS#8 `PRIVATE KEY` or `RSA PRIVATE KEY`)"
    )]
    EncryptedKey,
    #[error("no private key (a `PRIVATE KEY` or `RSA PRIVATE KEY` block) in the file")]
    NoPrivateKey,
    #[error("no certificate (a `CERTIFICATE` block) in the file")]
    NoCertificate,
    #[error("the private key is not a usable RSA key: {0}")]
    BadKey(String),
    #[error("the certificate cannot be read: {0}")]
    BadCertificate(String),
    #[error("the certificate expired on {0}")]
    Expired(String),
    #[error("the private key does not belong to the certificate")]
    Mismatch,
}

/// A certificate and its RSA private key, ready to sign client assertions.
pub struct ClientCertificate {
    key: EncodingKey,
    /// base64url SHA-1 of the certificate's DER.
    x5t: String,
    /// base64url SHA-256 of the certificate's DER.
    x5t_s256: String,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl ClientCertificate {
    /// Reads one PEM file holding the private key and the certificate (the first certificate
    /// is the one registered on the app; others, a chain, are ignored).
    pub fn from_pem_file(path: &Path) -> Result<ClientCertificate, CertificateError> {
        let text = std::fs::read(path).map_err(|e| CertificateError::Unreadable(e.to_string()))?;
        Self::from_pem(&text)
    }

    pub fn from_pem(text: &[u8]) -> Result<ClientCertificate, CertificateError> {
        let blocks = pem::parse_many(text).map_err(|e| CertificateError::NotPem(e.to_string()))?;
        if blocks.iter().any(|b| b.tag() == "ENCRYPTED PRIVATE KEY") {
            return Err(CertificateError::EncryptedKey);
        }
        let key_block = blocks
            .iter()
            .find(|b| matches!(b.tag(), "PRIVATE KEY" | "RSA PRIVATE KEY"))
            .ok_or(CertificateError::NoPrivateKey)?;
        let cert_der = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or(CertificateError::NoCertificate)?
            .contents();
        let key = EncodingKey::from_rsa_pem(pem::encode(key_block).as_bytes())
            .map_err(|e| CertificateError::BadKey(format!("{:?}", e.kind())))?;

        let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
            .map_err(|e| CertificateError::BadCertificate(e.to_string()))?;
        let not_after = cert.validity().not_after;
        if not_after.timestamp() < chrono::Utc::now().timestamp() {
            return Err(CertificateError::Expired(not_after.to_string()));
        }
        // The pair must match: a probe signed with the key verifies with the certificate's key.
        let public = DecodingKey::from_rsa_der(&cert.public_key().subject_public_key.data);
        let probe = jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &serde_json::json!({"probe": true}),
            &key,
        )
        .map_err(|e| CertificateError::BadKey(format!("{:?}", e.kind())))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<serde_json::Value>(&probe, &public, &validation)
            .map_err(|_| CertificateError::Mismatch)?;

        Ok(ClientCertificate {
            key,
            x5t: b64url(&sha1::Sha1::digest(cert_der)),
            x5t_s256: b64url(&sha2::Sha256::digest(cert_der)),
        })
    }

    /// base64url SHA-1 thumbprint of the certificate.
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// A client assertion for `client_id` at the token endpoint `audience`: RS256, `x5t` and
    /// `x5t#S256` in the header, unique `jti`, valid from now for [`ASSERTION_LIFETIME_SECS`].
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.x5t = Some(self.x5t.clone());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let now = chrono::Utc::now().timestamp();
        let claims = AssertionClaims {
            aud: audience,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/test_client_cert.pem");

    fn without(tag: &str) -> Vec<u8> {
        let blocks: Vec<pem::Pem> = pem::parse_many(FIXTURE)
            .unwrap()
            .into_iter()
            .filter(|b| b.tag() != tag)
            .collect();
        pem::encode_many(&blocks).into_bytes()
    }

    #[test]
    fn the_fixture_loads_and_its_thumbprint_is_base64url_sha1() {
        let cert = ClientCertificate::from_pem(FIXTURE).unwrap();
        // A SHA-1 digest is 20 bytes: 27 base64url characters without padding.
        assert_eq!(cert.x5t().len(), 27);
        let token = cert
            .assertion("app", "https://login.example/token")
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.x5t.as_deref(), Some(cert.x5t()));
        assert_eq!(header.x5t_s256.map(|s| s.len()), Some(43));
    }

    #[test]
    fn missing_or_broken_parts_are_named() {
        let err = |text: &[u8]| ClientCertificate::from_pem(text).err().unwrap().to_string();
        assert!(err(&without("PRIVATE KEY")).contains("no private key"));
        assert!(err(&without("CERTIFICATE")).contains("no certificate"));
        assert!(err(b"").contains("no private key"));
        let garbage = FIXTURE
            .iter()
            .map(|b| if *b == b'A' { b'*' } else { *b })
            .collect::<Vec<u8>>();
        let e = err(&garbage);
        assert!(
            e.contains("not PEM") || e.contains("key") || e.contains("certificate"),
            "{e}"
        );
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let key = pem::parse_many(FIXTURE)
            .unwrap()
            .into_iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .unwrap();
        let other_key = pem::parse(include_str!("../../tests/fixtures/test_rsa_key.pem")).unwrap();
        let text = pem::encode_many(&[other_key, key]);
        assert!(matches!(
            ClientCertificate::from_pem(text.as_bytes()),
            Err(CertificateError::Mismatch)
        ));
    }
}
