//! Sovereign clouds, the `api://botid-` audience, certificate credentials, and redirects that
//! are never followed.

mod common;

use std::sync::{Arc, Mutex};

use base64::Engine;
use common::tokens::*;
use common::{BEARER, Backend, spawn_app, spawn_app_with};
use herald::botframework::credential::{ClientCertificate, Credential};
use herald::botframework::token::{BOT_FRAMEWORK_SCOPE, TokenProvider};
use herald::botframework::{ConnectorClient, ConnectorError, ServiceUrl};
use herald::config::Settings;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sha1::Digest as _;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

on_both_backends!(
    gcc_high_tokens_are_accepted_with_gcchigh_and_refused_with_public,
    the_api_botid_audience_is_accepted_beside_the_bare_app_id,
    a_certificate_credential_token_request_is_verified_by_the_token_endpoint,
);

const GOV_ISSUER: &str = "https://api.botframework.us";
const CLIENT_CERT: &str = "tests/fixtures/test_client_cert.pem";
const CLIENT_CERT_PEM: &[u8] = include_bytes!("fixtures/test_client_cert.pem");

fn with(claims: &Value, key: &str, value: Value) -> Value {
    let mut c = claims.clone();
    c[key] = value;
    c
}

/// A token endpoint answering requests for `tenant` with `BEARER`, recording their forms.
async fn token_endpoint_for(login: &MockServer, tenant: &str) -> Arc<Mutex<Vec<String>>> {
    let forms = Arc::new(Mutex::new(Vec::new()));
    let seen = forms.clone();
    Mock::given(method("POST"))
        .and(path(format!("/{tenant}/oauth2/v2.0/token")))
        .respond_with(move |req: &Request| {
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&req.body).into_owned());
            ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3599, "access_token": BEARER
            }))
        })
        .mount(login)
        .await;
    forms
}

async fn gcc_high_tokens_are_accepted_with_gcchigh_and_refused_with_public(backend: Backend) {
    // GCC High: the keys come from the fake (explicit URL), the issuer and token tenant and
    // scope from the cloud.
    let gov = spawn_app_with(backend, "cloud = \"gcchigh\"").await;
    let forms = token_endpoint_for(&gov.login, "MicrosoftServices.onmicrosoft.us").await;
    let url = gov.service_url();
    let gov_token = sign(
        &with(&channel_claims(&url), "iss", json!(GOV_ISSUER)),
        CHANNEL_KID,
        Algorithm::RS256,
    );
    let msg = gov.message("1:gov", "29:alice", "help");
    assert_eq!(
        gov.post_activity(&msg, Some(&gov_token)).await.status(),
        200
    );
    assert_eq!(gov.sent_messages().await.len(), 1, "the reply went out");
    let forms = forms.lock().unwrap().clone();
    assert_eq!(forms.len(), 1, "{forms:?}");
    assert!(
        forms[0].contains("scope=https%3A%2F%2Fapi.botframework.us%2F.default"),
        "{}",
        forms[0]
    );
    // The public cloud's issuer is not trusted there.
    let public_token = channel_token(&url);
    let msg = gov.message("1:pub", "29:alice", "help");
    assert_eq!(
        gov.post_activity(&msg, Some(&public_token)).await.status(),
        401
    );

    // Public cloud: the GCC High token is refused, its own accepted.
    let public = spawn_app(backend).await;
    let url = public.service_url();
    let gov_token = sign(
        &with(&channel_claims(&url), "iss", json!(GOV_ISSUER)),
        CHANNEL_KID,
        Algorithm::RS256,
    );
    let install = public.install("f:gov", "29:mallory");
    let response = public.post_activity(&install, Some(&gov_token)).await;
    assert_eq!(response.status(), 401);
    assert!(public.users_json().is_empty());
    let msg = public.message("1:pub", "29:alice", "help");
    assert_eq!(public.post_signed(&msg).await.status(), 200);
}

async fn the_api_botid_audience_is_accepted_beside_the_bare_app_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = app.service_url();
    let claims = channel_claims(&url);
    let token = sign(
        &with(&claims, "aud", json!(format!("api://botid-{APP_ID}"))),
        CHANNEL_KID,
        Algorithm::RS256,
    );
    let msg = app.message("1:botid", "29:alice", "help");
    assert_eq!(app.post_activity(&msg, Some(&token)).await.status(), 200);

    for aud in [
        "api://botid-99999999-1111-2222-3333-444444444444".to_string(),
        format!("api://{APP_ID}"),
        format!("api://botid-{APP_ID}/"),
        format!("botid-{APP_ID}"),
    ] {
        let token = sign(
            &with(&claims, "aud", json!(aud)),
            CHANNEL_KID,
            Algorithm::RS256,
        );
        let install = app.install("f:aud", "29:mallory");
        let response = app.post_activity(&install, Some(&token)).await;
        assert_eq!(response.status(), 401, "{aud}");
    }
    assert!(app.users_json().is_empty());
}

/// What a token endpoint checks of a client assertion, as Entra does: signed RS256 by the
/// certificate's key, `x5t`/`x5t#S256` its thumbprints, audience the endpoint, issued by and
/// for the app, short-lived, with a `jti`. `Err` says what was wrong.
fn check_assertion(form: &str, endpoint: &str) -> Result<(), String> {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    let field = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    if field("client_secret").is_some() {
        return Err("a client secret was sent".into());
    }
    if field("grant_type").as_deref() != Some("client_credentials") {
        return Err("grant_type".into());
    }
    if field("client_assertion_type").as_deref()
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Err("client_assertion_type".into());
    }
    let assertion = field("client_assertion").ok_or("no client_assertion")?;

    // The public key and thumbprints come from the certificate itself.
    let cert_der = pem::parse_many(CLIENT_CERT_PEM)
        .unwrap()
        .into_iter()
        .find(|b| b.tag() == "CERTIFICATE")
        .unwrap()
        .into_contents();
    let (_, cert) = x509_parser::parse_x509_certificate(&cert_der).unwrap();
    let public = DecodingKey::from_rsa_der(&cert.public_key().subject_public_key.data);
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);

    let header = jsonwebtoken::decode_header(&assertion).map_err(|e| e.to_string())?;
    if header.alg != Algorithm::RS256 {
        return Err(format!("alg {:?}", header.alg));
    }
    if header.x5t != Some(b64(&sha1::Sha1::digest(&cert_der))) {
        return Err(format!("x5t {:?}", header.x5t));
    }
    if header.x5t_s256 != Some(b64(&sha2::Sha256::digest(&cert_der))) {
        return Err(format!("x5t#S256 {:?}", header.x5t_s256));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[endpoint]);
    validation.set_issuer(&[APP_ID]);
    validation.sub = Some(APP_ID.to_string());
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 5;
    let claims = jsonwebtoken::decode::<Value>(&assertion, &public, &validation)
        .map_err(|e| format!("signature or claims: {e}"))?
        .claims;
    let now = now();
    let exp = claims["exp"].as_i64().unwrap_or(0);
    if exp > now + 600 {
        return Err(format!("exp {} s away", exp - now));
    }
    if claims["iat"]
        .as_i64()
        .is_none_or(|iat| (iat - now).abs() > 60)
    {
        return Err("iat".into());
    }
    if claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err("no jti".into());
    }
    Ok(())
}

/// A token endpoint at `path` on `login` that answers only a valid client assertion, keeping
/// each verdict and each assertion's `jti`.
async fn assertion_checking_endpoint(
    login: &MockServer,
    path_: &str,
) -> Arc<Mutex<Vec<Result<(), String>>>> {
    let verdicts = Arc::new(Mutex::new(Vec::new()));
    let seen = verdicts.clone();
    let endpoint = format!("{}{path_}", login.uri());
    Mock::given(method("POST"))
        .and(path(path_))
        .respond_with(move |req: &Request| {
            let verdict = check_assertion(&String::from_utf8_lossy(&req.body), &endpoint);
            let ok = verdict.is_ok();
            seen.lock().unwrap().push(verdict);
            if ok {
                ResponseTemplate::new(200).set_body_json(json!({
                    "token_type": "Bearer", "expires_in": 3599, "access_token": BEARER
                }))
            } else {
                ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"}))
            }
        })
        .with_priority(1)
        .mount(login)
        .await;
    verdicts
}

async fn a_certificate_credential_token_request_is_verified_by_the_token_endpoint(
    backend: Backend,
) {
    let cert = format!(
        "certificate_path = \"{}/{CLIENT_CERT}\"",
        env!("CARGO_MANIFEST_DIR")
    );
    let app = spawn_app_with(backend, &cert).await;
    let verdicts =
        assertion_checking_endpoint(&app.login, "/botframework.com/oauth2/v2.0/token").await;
    let msg = app.message("1:cert", "29:alice", "help");
    assert_eq!(app.post_signed(&msg).await.status(), 200);
    let verdicts = verdicts.lock().unwrap().clone();
    assert_eq!(verdicts, vec![Ok(())]);
    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), 1, "the reply went out with the token");
    assert_eq!(
        sent[0].headers.get("authorization").unwrap(),
        &format!("Bearer {BEARER}")
    );
}

#[tokio::test]
async fn the_fake_token_endpoint_refuses_a_forged_or_stale_assertion() {
    // The checker bites: a secret, another key's signature, a long life are each refused.
    let endpoint = "https://login.example/t/oauth2/v2.0/token";
    let cert = ClientCertificate::from_pem(CLIENT_CERT_PEM).unwrap();
    let good = cert.assertion(APP_ID, endpoint).unwrap();
    let form = |assertion: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", APP_ID)
            .append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .append_pair("client_assertion", assertion)
            .finish()
    };
    assert_eq!(check_assertion(&form(&good), endpoint), Ok(()));
    assert!(check_assertion(&form(&good), "https://login.example/other").is_err());
    assert!(check_assertion(&format!("{}&client_secret=x", form(&good)), endpoint).is_err());
    let header = jsonwebtoken::decode_header(&good).unwrap();
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&good)
        .unwrap()
        .claims;
    let other_key = jsonwebtoken::EncodingKey::from_rsa_pem(TEST_KEY_PEM.as_bytes()).unwrap();
    let forged = jsonwebtoken::encode(&header, &claims, &other_key).unwrap();
    let err = check_assertion(&form(&forged), endpoint).unwrap_err();
    assert!(err.contains("signature"), "{err}");
    let cert_key = pem::parse_many(CLIENT_CERT_PEM)
        .unwrap()
        .into_iter()
        .find(|b| b.tag() == "PRIVATE KEY")
        .unwrap();
    let cert_key =
        jsonwebtoken::EncodingKey::from_rsa_pem(pem::encode(&cert_key).as_bytes()).unwrap();
    let long = with(&claims, "exp", json!(now() + 3600));
    let long = jsonwebtoken::encode(&header, &long, &cert_key).unwrap();
    assert!(
        check_assertion(&form(&long), endpoint)
            .unwrap_err()
            .contains("exp")
    );
    let mut no_x5t = header.clone();
    no_x5t.x5t = None;
    let no_x5t = jsonwebtoken::encode(&no_x5t, &claims, &cert_key).unwrap();
    assert!(
        check_assertion(&form(&no_x5t), endpoint)
            .unwrap_err()
            .contains("x5t")
    );
}

#[tokio::test]
async fn the_graph_client_uses_the_certificate_too() {
    let login = MockServer::start().await;
    let verdicts = assertion_checking_endpoint(&login, "/tenant-a/oauth2/v2.0/token").await;
    Mock::given(method("POST"))
        .and(path("/v1.0/communications/getPresencesByUserId"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&login)
        .await;
    let cert = ClientCertificate::from_pem(CLIENT_CERT_PEM).unwrap();
    let graph = herald::graph::GraphClient::with_credential(
        herald::startup::http_client().unwrap(),
        &login.uri(),
        &format!("{}/{{tenant}}/oauth2/v2.0/token", login.uri()),
        "https://graph.microsoft.us/.default",
        APP_ID,
        Credential::Certificate(Arc::new(cert)),
    );
    graph.presences("tenant-a", &["u".into()]).await.unwrap();
    assert_eq!(verdicts.lock().unwrap().clone(), vec![Ok(())]);
    let form =
        String::from_utf8_lossy(&login.received_requests().await.unwrap()[0].body).into_owned();
    assert!(form.contains("graph.microsoft.us%2F.default"), "{form}");
}

/// Settings with an app id and these extra `[bot]` lines.
fn bot_settings(extra: &str) -> Result<Settings, String> {
    Settings::from_toml(&format!("[bot]\napp_id = \"{APP_ID}\"\n{extra}\n"))
        .map_err(|e| e.to_string())
}

#[test]
fn a_bad_certificate_stops_start_up_naming_the_key_and_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let key_only = String::from_utf8_lossy(CLIENT_CERT_PEM)
        .split("-----BEGIN CERTIFICATE-----")
        .next()
        .unwrap()
        .to_string();
    let cases = [
        ("/nonexistent/herald.pem".to_string(), "cannot read"),
        (
            write(
                "garbage.pem",
                b"-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n",
            ),
            "not PEM",
        ),
        (
            write(
                "not-der.pem",
                format!("{key_only}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                    .as_bytes(),
            ),
            "certificate cannot be read",
        ),
        (write("empty.pem", b""), "no private key"),
        (write("key.pem", key_only.as_bytes()), "no certificate"),
    ];
    for (file, fault) in cases {
        let s = bot_settings(&format!("certificate_path = \"{file}\"")).unwrap();
        let err = s.validate_for_serve().unwrap_err().to_string();
        assert!(
            err.contains("bot.certificate_path") && err.contains(fault),
            "{file}: {err}"
        );
    }
}

#[test]
fn a_certificate_replaces_the_password_and_one_of_them_is_required() {
    let cert = format!(
        "certificate_path = \"{}/{CLIENT_CERT}\"",
        env!("CARGO_MANIFEST_DIR")
    );
    let s = bot_settings(&cert).unwrap();
    s.validate_for_serve().unwrap();
    assert!(matches!(
        s.credential().unwrap(),
        Credential::Certificate(_)
    ));
    let err = bot_settings("").unwrap().validate_for_serve().unwrap_err();
    let err = err.to_string();
    assert!(
        err.contains("bot.app_password") && err.contains("bot.certificate_path"),
        "{err}"
    );
    let s = bot_settings("app_password = \"pw\"").unwrap();
    s.validate_for_serve().unwrap();
    assert!(matches!(s.credential().unwrap(), Credential::Secret(_)));
}

#[test]
fn the_cloud_picks_every_endpoint_unless_one_is_set() {
    let s = bot_settings("cloud = \"gcchigh\"").unwrap();
    assert_eq!(
        s.channel_metadata_url().unwrap().as_str(),
        "https://login.botframework.azure.us/v1/.well-known/openidconfiguration"
    );
    assert_eq!(
        s.emulator_metadata_url().unwrap().as_str(),
        "https://login.microsoftonline.us/cab8a31a-1906-4287-a0d8-4eef66b95f6e/v2.0/.well-known/openid-configuration"
    );
    assert_eq!(
        s.token_endpoint(),
        "https://login.microsoftonline.us/MicrosoftServices.onmicrosoft.us/oauth2/v2.0/token"
    );
    assert_eq!(s.bot_scope(), "https://api.botframework.us/.default");
    assert_eq!(s.graph_base_url(), "https://graph.microsoft.us");
    assert_eq!(
        s.graph_token_endpoint(),
        "https://login.microsoftonline.us/{tenant}/oauth2/v2.0/token"
    );
    assert_eq!(s.graph_scope(), "https://graph.microsoft.us/.default");

    let s =
        bot_settings("cloud = \"dod\"\napp_type = \"SingleTenant\"\ntenant_id = \"t-1\"").unwrap();
    assert_eq!(
        s.token_endpoint(),
        "https://login.microsoftonline.us/t-1/oauth2/v2.0/token"
    );
    assert_eq!(s.graph_base_url(), "https://dod-graph.microsoft.us");

    for cloud in ["public", "gcc"] {
        let s = bot_settings(&format!("cloud = \"{cloud}\"")).unwrap();
        assert_eq!(
            s.channel_metadata_url().unwrap().as_str(),
            "https://login.botframework.com/v1/.well-known/openidconfiguration"
        );
        assert_eq!(
            s.token_endpoint(),
            "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
        );
        assert_eq!(s.bot_scope(), BOT_FRAMEWORK_SCOPE);
        assert_eq!(s.graph_base_url(), "https://graph.microsoft.com");
    }

    // Explicit URLs win (tests point them at fakes), and the old defaults still load.
    let s = bot_settings(
        "cloud = \"gcchigh\"\nopenid_metadata_url = \"http://127.0.0.1:9/m\"\n\
         token_endpoint = \"http://127.0.0.1:9/{tenant}/t\"",
    )
    .unwrap();
    assert_eq!(
        s.channel_metadata_url().unwrap().as_str(),
        "http://127.0.0.1:9/m"
    );
    assert_eq!(
        s.token_endpoint(),
        "http://127.0.0.1:9/MicrosoftServices.onmicrosoft.us/t"
    );
    let old = Settings::from_toml(
        "[bot]\nopenid_metadata_url = \"https://login.botframework.com/v1/.well-known/openidconfiguration\"\n\
         [graph]\nbase_url = \"https://graph.microsoft.com\"\n\
         token_endpoint = \"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token\"\n",
    )
    .unwrap();
    assert_eq!(
        old.channel_metadata_url().unwrap(),
        Settings::default().channel_metadata_url().unwrap()
    );
}

#[test]
fn a_url_of_another_cloud_or_an_unknown_cloud_is_refused_naming_the_key() {
    let cases = [
        (
            "cloud = \"gcchigh\"\nopenid_metadata_url = \"https://login.botframework.com/v1/.well-known/openidconfiguration\"",
            "bot.openid_metadata_url",
        ),
        (
            "cloud = \"dod\"\ntoken_endpoint = \"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token\"",
            "bot.token_endpoint",
        ),
        (
            "cloud = \"gcchigh\"\n[graph]\nbase_url = \"https://graph.microsoft.com\"",
            "graph.base_url",
        ),
        (
            "cloud = \"public\"\n[graph]\ntoken_endpoint = \"https://login.microsoftonline.us/{tenant}/oauth2/v2.0/token\"",
            "graph.token_endpoint",
        ),
        ("cloud = \"azure-china\"", "cloud"),
        ("openid_metadata_url = \"not a url\"", "openid_metadata_url"),
    ];
    for (extra, key) in cases {
        let err = bot_settings(extra).unwrap_err();
        assert!(err.contains(key), "{extra}: {err}");
    }
}

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_is_not_followed_and_is_named() {
    let elsewhere = MockServer::start().await;
    let login = MockServer::start().await;
    let target = format!("http://localhost:{}/steal", elsewhere.address().port());
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", target.as_str()))
        .mount(&login)
        .await;
    let tokens = TokenProvider::new(
        format!("{}/botframework.com/oauth2/v2.0/token", login.uri()),
        APP_ID.into(),
        secrecy::SecretString::from(APP_PASSWORD),
        BOT_FRAMEWORK_SCOPE,
        herald::startup::http_client().unwrap(),
    );
    let err = tokens.token().await.unwrap_err().to_string();
    assert!(
        err.contains("redirect") && err.contains("307") && err.contains("localhost"),
        "{err}"
    );
    assert!(!err.contains(APP_PASSWORD), "{err}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    assert_eq!(login.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_redirect_from_the_connector_is_not_followed_and_is_permanent() {
    let elsewhere = MockServer::start().await;
    let connector = MockServer::start().await;
    let login = MockServer::start().await;
    let _forms = token_endpoint_for(&login, "botframework.com").await;
    for status in [301, 302, 307, 308] {
        let target = format!("http://localhost:{}/v3/x", elsewhere.address().port());
        Mock::given(method("POST"))
            .and(path_regex(format!(
                "^/r{status}/v3/conversations/.+/activities$"
            )))
            .respond_with(ResponseTemplate::new(status).insert_header("location", target.as_str()))
            .mount(&connector)
            .await;
    }
    let http = herald::startup::http_client().unwrap();
    let tokens = TokenProvider::new(
        format!("{}/botframework.com/oauth2/v2.0/token", login.uri()),
        APP_ID.into(),
        secrecy::SecretString::from(APP_PASSWORD),
        BOT_FRAMEWORK_SCOPE,
        http.clone(),
    );
    let client = ConnectorClient::new(http, Arc::new(tokens));
    let activity: herald::botframework::Activity =
        serde_json::from_value(json!({"type": "message", "text": "hi"})).unwrap();
    for status in [301, 302, 307, 308] {
        let url = ServiceUrl::parse(&format!("{}/r{status}/", connector.uri())).unwrap();
        let err = client
            .send_to_conversation(&url, "a:chat", &activity)
            .await
            .unwrap_err();
        assert!(!err.is_retryable(), "{status}: {err}");
        assert!(
            matches!(&err, ConnectorError::Permanent { status: s, code } if *s == status
                && code.contains("redirect") && code.contains("localhost")),
            "{status}: {err:?}"
        );
    }
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}
