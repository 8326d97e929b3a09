//! The attack suite: what a forger, a replayer or a confused caller tries, and what herald
//! answers. Each attack gets its specific status and leaves no trace: no row in any table and no
//! request to any connector. The cases `security.rs` already covers (bad and expired tokens,
//! `alg: none`, HMAC with the public key, a tampered signature or payload, an unknown `kid`, a
//! `serviceurl` claim that differs from the body, endorsements, emulator tokens of another app,
//! malformed, 1 MiB, non-JSON and 10,000-deep bodies) are not repeated here.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::tokens::*;
use common::trace::{changed, trace};
use common::{Backend, TENANT, TestApp, spawn_app, spawn_app_with};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_backends!(
    a_key_set_with_non_rsa_keys_refuses_them_and_still_verifies_its_rsa_key,
    a_token_naming_the_other_issuers_key_is_refused,
    a_valid_token_replayed_with_another_service_url_is_refused,
    a_service_url_off_the_allow_list_is_refused_even_when_the_token_names_it,
    a_loopback_connector_is_called_only_when_listed,
    campaign_test_never_calls_a_host_off_the_list,
    oversized_lying_and_deeply_nested_bodies_are_refused,
    a_non_admin_in_an_allowed_tenant_is_refused_and_creates_nothing,
    an_admin_id_from_another_tenant_is_not_an_admin,
);

async fn requests_to(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

/// Sends `send` (a request not yet started), then checks herald answered `status` with the error
/// `code` when given, recorded nothing and called no connector. Returns the error body.
async fn refused(
    app: &TestApp,
    case: &str,
    status: u16,
    code: Option<&str>,
    send: impl std::future::Future<Output = reqwest::Response>,
) -> Value {
    let before = trace(app).await;
    let calls = requests_to(&app.connector).await;
    let response = send.await;
    assert_eq!(response.status().as_u16(), status, "{case}");
    let body: Value = match code {
        Some(code) => {
            let body: Value = response.json().await.expect("a JSON error body");
            assert_eq!(body["error"]["code"], code, "{case}: {body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{case}: {body}"
            );
            body
        }
        None => Value::Null,
    };
    assert_eq!(changed(&before, &trace(app).await), [], "{case}: recorded");
    assert_eq!(
        requests_to(&app.connector).await,
        calls,
        "{case}: the connector was called"
    );
    body
}

fn message_of(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

/// Posts a raw JSON text with `token`.
async fn post_text(app: &TestApp, body: String, token: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/messages", app.address))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(body)
        .send()
        .await
        .expect("request sent")
}

/// Claims of a valid v1 emulator token for this app: no `serviceurl`, the app in `appid`.
fn emulator_claims() -> Value {
    json!({
        "iss": EMULATOR_ISSUER_V1,
        "ver": "1.0",
        "appid": APP_ID,
        "aud": "https://api.botframework.com",
        "nbf": now() - 10,
        "exp": now() + 3600,
    })
}

fn emulator_token() -> String {
    sign(&emulator_claims(), EMULATOR_KID, Algorithm::RS256)
}

// a. A JWK set with keys that are not RSA ------------------------------------------------------

async fn a_key_set_with_non_rsa_keys_refuses_them_and_still_verifies_its_rsa_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let secret = b"a shared secret the attacker knows";
    let keys = json!({"keys": [
        ec_jwk("ec-key"),
        // A symmetric key, with endorsements of the wrong shape.
        {"kty": "oct", "kid": "hmac-key", "k": base64_url(secret), "endorsements": "msteams"},
        {"kty": "OKP", "crv": "Ed25519", "kid": "ed-key", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty": "RSA", "kid": "broken-rsa", "n": "not base64!", "e": "AQAB"},
        {"kty": "EC", "crv": "P-256"},
        rsa_jwk(CHANNEL_KID),
    ]});
    Mock::given(method("GET"))
        .and(path("/channel/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(keys))
        .with_priority(1)
        .mount(&app.keys)
        .await;

    let url = app.service_url();
    let claims = channel_claims(&url);
    let hs256 = {
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some("hmac-key".into());
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let cases = [
        (
            "ES256 with the EC key",
            sign_es256(&claims, "ec-key"),
            "algorithm",
        ),
        (
            "ES256 naming the RSA key's kid",
            sign_es256(&claims, CHANNEL_KID),
            "algorithm",
        ),
        ("HS256 with the symmetric key", hs256, "algorithm"),
        (
            "RS256 naming the EC key",
            sign(&claims, "ec-key", Algorithm::RS256),
            "unknown key",
        ),
        (
            "RS256 naming the Ed25519 key",
            sign(&claims, "ed-key", Algorithm::RS256),
            "unknown key",
        ),
        (
            "RS256 naming an unusable RSA key",
            sign(&claims, "broken-rsa", Algorithm::RS256),
            "unknown key",
        ),
    ];
    let install = app.install("f:a", "29:mallory");
    for (case, token, why) in cases {
        let body = refused(
            &app,
            case,
            401,
            Some("unauthorized"),
            app.post_activity(&install, Some(&token)),
        )
        .await;
        assert!(message_of(&body).contains(why), "{case}: {body}");
    }
    // The same set still verifies its RSA key: the install goes through.
    assert_eq!(app.post_signed(&install).await.status(), 200);
    let users = app.users_json();
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["aad_object_id"], "aad-mallory");
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

// b. A kid from the other issuer's key set ------------------------------------------------------

async fn a_token_naming_the_other_issuers_key_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    // Both key sets are fetched and warm: a lookup across sets would find the key.
    let warm = app.message("1:warm-channel", "29:alice", "help");
    assert_eq!(app.post_signed(&warm).await.status(), 200);
    let warm = app.message("1:warm-emulator", "29:alice", "help");
    assert_eq!(
        app.post_activity(&warm, Some(&emulator_token()))
            .await
            .status(),
        200
    );

    let url = app.service_url();
    let install = app.install("f:b", "29:mallory");
    // The test publishes one RSA key under both kids, so these signatures are valid: only the
    // issuer's own key set may be searched.
    let channel_with_emulator_key = sign(&channel_claims(&url), EMULATOR_KID, Algorithm::RS256);
    let body = refused(
        &app,
        "channel issuer, emulator kid",
        401,
        Some("unauthorized"),
        app.post_activity(&install, Some(&channel_with_emulator_key)),
    )
    .await;
    assert!(message_of(&body).contains("unknown key"), "{body}");
    let mut claims = emulator_claims();
    claims["serviceurl"] = json!(url);
    let emulator_with_channel_key = sign(&claims, CHANNEL_KID, Algorithm::RS256);
    let body = refused(
        &app,
        "emulator issuer, channel kid",
        401,
        Some("unauthorized"),
        app.post_activity(&install, Some(&emulator_with_channel_key)),
    )
    .await;
    assert!(message_of(&body).contains("unknown key"), "{body}");
    assert!(app.users_json().is_empty());
}

// c. Replay with another serviceUrl -------------------------------------------------------------

async fn a_valid_token_replayed_with_another_service_url_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let evil = MockServer::start().await;
    let url = app.service_url();
    let token = channel_token(&url);
    // The token is used once, as Teams would: it is now verified and remembered.
    assert_eq!(
        app.post_activity(&app.install("f:c0", "29:u1"), Some(&token))
            .await
            .status(),
        200
    );
    let users = app.users_json();

    let replays = [
        ("another connector", format!("{}/", evil.uri())),
        ("another path on the same host", format!("{url}evil/")),
        ("no serviceUrl at all", String::new()),
    ];
    for (case, other) in replays {
        let mut install = app.install(&format!("f:{case}"), "29:mallory");
        let mut help = app.message(&format!("1:{case}"), "29:mallory", "help");
        if other.is_empty() {
            install.as_object_mut().unwrap().remove("serviceUrl");
            help.as_object_mut().unwrap().remove("serviceUrl");
        } else {
            install["serviceUrl"] = json!(other);
            help["serviceUrl"] = json!(other);
        }
        for activity in [install, help] {
            let body = refused(
                &app,
                case,
                401,
                Some("unauthorized"),
                app.post_activity(&activity, Some(&token)),
            )
            .await;
            assert!(
                message_of(&body).contains("serviceurl claim"),
                "{case}: {body}"
            );
        }
    }
    assert_eq!(
        requests_to(&evil).await,
        0,
        "the other connector was called"
    );
    assert_eq!(app.users_json(), users);
}

// d. serviceUrl attacks -------------------------------------------------------------------------

/// How herald answers an activity whose token's claim names its very serviceUrl.
enum Expected {
    /// 403: a well-formed URL whose host is not in `bot.service_url_hosts` (named).
    NotAllowed(&'static str),
    /// 400: not a service URL at all (the reason given).
    Invalid(&'static str),
}

async fn a_service_url_off_the_allow_list_is_refused_even_when_the_token_names_it(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let genuine = channel_token(&app.service_url());
    use Expected::{Invalid, NotAllowed};
    let cases = [
        ("http://169.254.169.254/", Invalid("only https")),
        ("https://169.254.169.254/", NotAllowed("169.254.169.254")),
        (
            "https://169.254.169.254/metadata/instance/",
            NotAllowed("169.254.169.254"),
        ),
        ("https://0xA9FEA9FE/", NotAllowed("169.254.169.254")),
        ("https://10.0.0.5/", NotAllowed("10.0.0.5")),
        ("https://[fd00::1]/", NotAllowed("[fd00::1]")),
        (
            "https://[::ffff:127.0.0.1]:3978/",
            NotAllowed("[::ffff:7f00:1]"),
        ),
        (
            "https://169.254.169.254.nip.io/",
            NotAllowed("169.254.169.254.nip.io"),
        ),
        (
            "https://evilbotframework.com/",
            NotAllowed("evilbotframework.com"),
        ),
        (
            "https://evil.trafficmanager.net/emea/",
            NotAllowed("evil.trafficmanager.net"),
        ),
        (
            "https://evil.example\\@smba.trafficmanager.net/",
            NotAllowed("evil.example"),
        ),
        (
            "https://smba.trafficmanager.net/emea/\r\nX-Evil: 1",
            Invalid("control characters"),
        ),
        (
            "https://smba.trafficmanager.net/emea/ HTTP/1.1\r\nHost: 169.254.169.254",
            Invalid("control characters"),
        ),
        (
            "https://user:pw@smba.trafficmanager.net/emea/",
            Invalid("credentials"),
        ),
        ("file:///etc/passwd", Invalid("not an absolute URL")),
        ("gopher://169.254.169.254:80/", Invalid("only https")),
    ];
    for (service_url, expected) in cases {
        let (status, code, says) = match expected {
            NotAllowed(host) => (403, "service_url_not_allowed", format!("`{host}`")),
            Invalid(reason) => (400, "invalid_activity", reason.to_string()),
        };
        let mut install = app.install("f:d", "29:mallory");
        install["serviceUrl"] = json!(service_url);
        // A token for the genuine connector: the claim check refuses first.
        let case = format!("{service_url:?} with another URL's token");
        let body = refused(
            &app,
            &case,
            401,
            Some("unauthorized"),
            app.post_activity(&install, Some(&genuine)),
        )
        .await;
        assert!(
            message_of(&body).contains("serviceurl claim"),
            "{case}: {body}"
        );
        // A token whose claim is that very URL (signed by us; Microsoft would not).
        let case = format!("{service_url:?} with its own token");
        let body = refused(
            &app,
            &case,
            status,
            Some(code),
            app.post_activity(&install, Some(&channel_token(service_url))),
        )
        .await;
        assert!(message_of(&body).contains(&says), "{case}: {body}");
        // An emulator token binds no serviceUrl: the host list alone stands.
        let case = format!("{service_url:?} with an emulator token");
        let body = refused(
            &app,
            &case,
            status,
            Some(code),
            app.post_activity(&install, Some(&emulator_token())),
        )
        .await;
        assert!(message_of(&body).contains(&says), "{case}: {body}");
    }

    // Two serviceUrl fields: the genuine one and an internal one. No parser picks one.
    let activity = app.install("f:dup", "29:mallory").to_string();
    let twice = activity.replacen(
        "\"serviceUrl\":",
        "\"serviceUrl\":\"https://169.254.169.254/\",\"serviceUrl\":",
        1,
    );
    assert_ne!(twice, activity);
    let body = refused(
        &app,
        "two serviceUrl fields",
        400,
        Some("invalid_activity"),
        post_text(&app, twice, &genuine),
    )
    .await;
    assert!(message_of(&body).contains("duplicate field"), "{body}");

    // A typing activity is never answered, but naming a refused host is refused all the same.
    let mut typing = app.message("1:typing", "29:mallory", "");
    typing["type"] = json!("typing");
    typing["serviceUrl"] = json!("https://10.0.0.5/");
    refused(
        &app,
        "typing",
        403,
        Some("service_url_not_allowed"),
        app.post_activity(&typing, Some(&channel_token("https://10.0.0.5/"))),
    )
    .await;
    assert!(app.users_json().is_empty());
}

async fn a_loopback_connector_is_called_only_when_listed(backend: Backend) {
    // Only the name `localhost` is listed: 127.0.0.1 is not, though it is the same machine.
    let app = spawn_app_with(backend, r#"service_url_hosts = ["localhost"]"#).await;
    let by_address = app.service_url();
    let mut install = app.install("f:l1", "29:u1");
    let body = refused(
        &app,
        "127.0.0.1 not listed",
        403,
        Some("service_url_not_allowed"),
        app.post_signed(&install),
    )
    .await;
    assert!(message_of(&body).contains("`127.0.0.1`"), "{body}");
    assert!(
        message_of(&body).contains("bot.service_url_hosts"),
        "{body}"
    );

    // The same fake connector by a listed name: recorded, welcomed, profile fetched.
    let by_name = by_address.replace("127.0.0.1", "localhost");
    install["serviceUrl"] = json!(by_name);
    assert_eq!(app.post_signed(&install).await.status(), 200);
    let users = app.users_json();
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["email"], "ada.u1@contoso.com");
    assert_eq!(app.sent_messages().await.len(), 1, "the welcome");
}

async fn campaign_test_never_calls_a_host_off_the_list(backend: Backend) {
    let app = spawn_app_with(
        backend,
        "admins = [\"aad-boss\"]\nservice_url_hosts = [\"localhost\"]",
    )
    .await;
    let admin_url = app.service_url().replace("127.0.0.1", "localhost");
    let say = |text: &str| {
        let mut m = app.message(&format!("1:{}", uuid::Uuid::new_v4()), "29:boss", text);
        m["serviceUrl"] = json!(admin_url);
        m
    };
    // A user recorded at a connector that is (no longer) listed.
    let evil = MockServer::start().await;
    let evil_url = format!("{}/", evil.uri());
    app.app_db
        .run(move |conn| {
            let r = herald::store::users::ConversationRef {
                tenant_id: TENANT.into(),
                channel_id: "msteams".into(),
                channel_user_id: "29:old".into(),
                bot_id: format!("28:{APP_ID}"),
                service_url: evil_url,
                conversation_id: "a:old".into(),
                ..Default::default()
            };
            let profile = herald::store::users::Profile {
                given_name: Some("Old".into()),
                email: Some("old@contoso.com".into()),
                ..Default::default()
            };
            herald::store::users::record_install(conn, &r, &profile, chrono::Utc::now())
        })
        .await
        .unwrap();
    for text in [
        "list create staff old@contoso.com",
        "campaign create welcome\nlist: staff\nstart: 2030-12-02 10:00\nduration: 2h\nmessage:\nHello [FIRSTNAME]",
    ] {
        assert_eq!(app.replies_to(&say(text)).await.len(), 1, "{text}");
    }
    let replies = app
        .replies_to(&say("campaign test welcome old@contoso.com"))
        .await;
    assert_eq!(replies.len(), 1);
    assert_eq!(
        common::reply_text(&replies[0]),
        "The test was not sent: herald does not call 127.0.0.1, which is not in bot.service_url_hosts."
    );
    assert_eq!(
        requests_to(&evil).await,
        0,
        "the unlisted connector was called"
    );
}

// e. Bodies: over the limit, lying about their length, nested too deep ---------------------------

/// Writes `request` to herald over a fresh TCP connection and reads the first answer: its status
/// and body. `None` when herald closed the connection without answering.
async fn raw_exchange(app: &TestApp, request: Vec<u8>, half_close: bool) -> Option<(u16, String)> {
    let port = app.port;
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // herald may answer and close before reading everything: a failed write is fine.
        let _ = stream.write_all(&request);
        if half_close {
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
        let mut received = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(answer) = parse_response(&received) {
                return Some(answer);
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return parse_response(&received),
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .unwrap()
}

/// The status and body of a complete HTTP/1.1 response at the start of `bytes`.
fn parse_response(bytes: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    (body.len() >= length).then(|| (status, body[..length].to_string()))
}

fn request_head(app: &TestApp, token: &str, framing: &str) -> Vec<u8> {
    format!(
        "POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {token}\r\n{framing}\r\n",
        app.port
    )
    .into_bytes()
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in body.chunks(16 * 1024) {
        out.extend(format!("{:x}\r\n", part.len()).into_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

async fn oversized_lying_and_deeply_nested_bodies_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = channel_token(&app.service_url());
    let limit = herald::routes::MAX_BODY_BYTES;
    // A valid activity padded to `size` bytes with spaces (JSON allows them anywhere).
    let padded = |size: usize| {
        let mut body = app.install("f:e", "29:mallory").to_string().into_bytes();
        assert!(body.len() < size);
        body.resize(size, b' ');
        body
    };

    let small = app.install("f:e", "29:mallory").to_string().into_bytes();
    let framed = |framing: String, body: &[u8]| {
        let mut request = request_head(&app, &token, &framing);
        request.extend_from_slice(body);
        request
    };
    // (case, raw request, whether the sender then stops sending, status, error code)
    let cases = [
        (
            "streamed without a length past the limit: counted while read",
            framed(
                "Transfer-Encoding: chunked\r\n".into(),
                &chunked(&padded(limit + 1)),
            ),
            false,
            413,
            Some("payload_too_large"),
        ),
        (
            "a huge declared length and a small body: refused before reading",
            framed("Content-Length: 1000000000000\r\n".into(), &small),
            false,
            413,
            Some("payload_too_large"),
        ),
        (
            "a declared length shorter than the body: the rest is no request either",
            framed("Content-Length: 10\r\n".into(), &small),
            false,
            400,
            Some("malformed_json"),
        ),
        (
            "a declared length longer than the body, then silence",
            framed(format!("Content-Length: {}\r\n", small.len() + 100), &small),
            true,
            400,
            Some("unreadable_body"),
        ),
        (
            "both a length and chunked framing (request smuggling): the HTTP layer refuses",
            framed(
                format!(
                    "Content-Length: {}\r\nTransfer-Encoding: chunked\r\n",
                    small.len()
                ),
                &chunked(&small),
            ),
            false,
            400,
            None,
        ),
    ];
    for (case, request, stop, status, code) in cases {
        let before = trace(&app).await;
        let (got, body) = raw_exchange(&app, request, stop).await.expect(case);
        assert_eq!(got, status, "{case}: {body}");
        if let Some(code) = code {
            let body: Value = serde_json::from_str(&body).expect("a JSON error body");
            assert_eq!(body["error"]["code"], code, "{case}: {body}");
        }
        assert_eq!(changed(&before, &trace(&app).await), [], "{case}: recorded");
        assert_eq!(requests_to(&app.connector).await, 0, "{case}: called");
    }

    // One byte over the limit with a real length, in a huge `text`; exactly at it is handled.
    let sized = |size: usize| {
        let mut m = app.message("1:big", "29:mallory", "");
        let base = m.to_string().len();
        m["text"] = json!("x".repeat(size - base));
        let text = m.to_string();
        assert_eq!(text.len(), size);
        text
    };
    let body = refused(
        &app,
        "limit + 1",
        413,
        Some("payload_too_large"),
        post_text(&app, sized(limit + 1), &token),
    )
    .await;
    assert!(message_of(&body).contains("256 KiB"), "{body}");

    // Nesting beyond what the parser follows, within the size limit.
    let mut arrays = br#"{"type":"message","value":"#.to_vec();
    arrays.extend(vec![b'['; 100_000]);
    arrays.extend(vec![b']'; 100_000]);
    arrays.push(b'}');
    let mut objects = app.message("1:deep", "29:mallory", "help");
    objects.as_object_mut().unwrap().remove("channelData");
    let mut objects = objects.to_string();
    objects.pop();
    objects.push_str(",\"channelData\":");
    objects.push_str(&"{\"a\":".repeat(35_000));
    objects.push('1');
    objects.push_str(&"}".repeat(35_000));
    objects.push('}');
    assert!(objects.len() < limit);
    for (case, body) in [
        (
            "100,000 arrays deep in value",
            String::from_utf8(arrays).unwrap(),
        ),
        ("35,000 objects deep in channelData", objects),
    ] {
        assert!(body.len() < limit, "{case}");
        refused(
            &app,
            case,
            400,
            Some("malformed_json"),
            post_text(&app, body, &token),
        )
        .await;
    }

    // Still up, and the limit is exact: a body of exactly the limit is an ordinary message.
    let before = requests_to(&app.connector).await;
    assert_eq!(post_text(&app, sized(limit), &token).await.status(), 200);
    assert_eq!(requests_to(&app.connector).await, before + 1, "one answer");
    let mut nested = app.message("1:nested", "29:mallory", "help");
    nested["value"] =
        serde_json::from_str(&format!("{}{}", "[".repeat(100), "]".repeat(100))).unwrap();
    assert_eq!(app.post_signed(&nested).await.status(), 200);
}

// f. Admin commands from the wrong person or the wrong tenant ------------------------------------

const REFUSAL: &str = "Sorry, only herald's administrators can use this command.";

/// Posts `activity` (signed) and checks the only trace is one refusal to its sender, audited:
/// one remembered activity id, one audit row, one message and nothing else.
async fn refused_politely(app: &TestApp, case: &str, activity: &Value) -> Value {
    let before = trace(app).await;
    let replies = app.replies_to(activity).await;
    assert_eq!(replies.len(), 1, "{case}: {replies:?}");
    let reply = &replies[0];
    let text = common::reply_text(reply);
    assert!(text.starts_with(REFUSAL), "{case}: {text}");
    assert_eq!(
        reply["conversation"]["id"], activity["conversation"]["id"],
        "{case}"
    );
    assert_eq!(reply["recipient"]["id"], activity["from"]["id"], "{case}");
    assert_eq!(
        changed(&before, &trace(app).await),
        [("inbound_activities", 1), ("audit_log", 1)],
        "{case}"
    );
    reply.clone()
}

async fn audit_outcomes(app: &TestApp, tenant: &str) -> Vec<(String, String)> {
    let tenant = tenant.to_string();
    app.app_db
        .run(move |conn| herald::store::audit::recent(conn, &tenant, 50))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.outcome))
        .collect()
}

async fn a_non_admin_in_an_allowed_tenant_is_refused_and_creates_nothing(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &format!("admins = [\"aad-boss\"]\nallowed_tenants = [\"{TENANT}\"]"),
    )
    .await;
    let as_mallory = |n: usize, text: &str| app.message(&format!("1:f{n}"), "29:mallory", text);
    let mut commands = vec![
        as_mallory(1, "list create secret a@contoso.com"),
        as_mallory(
            2,
            "campaign create x\nlist: all\nstart: 2030-12-02 10:00\nduration: 2h\nmessage:\nhi",
        ),
        as_mallory(3, "broadcast all\nsubject: Pay rise\nEveryone gets one."),
        as_mallory(4, "broadcasts"),
        as_mallory(5, "campaign delete x"),
    ];
    let mut form = as_mallory(6, "");
    form["value"] = json!({"herald": herald::bot::forms::FORM_ID, "mode": "create", "campaign": "x",
        "list": "all", "start": "2030-12-02 10:00", "duration": "2h", "message": "hi"});
    commands.push(form);
    let mut broadcast_form = as_mallory(7, "");
    broadcast_form["value"] = json!({"herald": herald::domain::broadcast::action::FORM,
        "audience": "all", "subject": "Pay rise", "body": "Everyone gets one."});
    commands.push(broadcast_form);
    for activity in &commands {
        let case = format!("{} {}", activity["text"], activity["value"]["herald"]);
        refused_politely(&app, &case, activity).await;
    }
    let audit = audit_outcomes(&app, TENANT).await;
    assert_eq!(audit.len(), commands.len(), "{audit:?}");
    assert!(
        audit
            .iter()
            .all(|(actor, outcome)| actor == "aad-mallory" && outcome == "refused: not an admin"),
        "{audit:?}"
    );
}

async fn an_admin_id_from_another_tenant_is_not_an_admin(backend: Backend) {
    const FABRIKAM: &str = "fabrikam-id";
    let app = spawn_app_with(
        backend,
        &format!(
            "admins = [\"{TENANT}/aad-boss\"]\nallowed_tenants = [\"{TENANT}\", \"{FABRIKAM}\"]"
        ),
    )
    .await;
    // The real admin, in their tenant, has a list.
    let reply = app
        .say("29:boss", "list create payroll ceo@contoso.com", "en-US")
        .await;
    assert!(reply.contains("List **payroll** created"), "{reply}");

    let from_fabrikam = |id: &str, channel_data: &str, conversation: &str| {
        let mut m = app.message(id, "29:boss", "lists");
        m["channelData"]["tenant"]["id"] = json!(channel_data);
        m["conversation"]["tenantId"] = json!(conversation);
        m
    };
    for (case, activity) in [
        (
            "both tenant fields name fabrikam",
            from_fabrikam("1:x1", FABRIKAM, FABRIKAM),
        ),
        // Teams' tenant is channelData.tenant.id; conversation.tenantId cannot lend another.
        (
            "channelData names fabrikam",
            from_fabrikam("1:x2", FABRIKAM, TENANT),
        ),
    ] {
        let reply = refused_politely(&app, case, &activity).await;
        assert!(
            !common::reply_text(&reply).contains("payroll"),
            "{case}: leaked {reply}"
        );
    }
    let audit = audit_outcomes(&app, FABRIKAM).await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(
        audit
            .iter()
            .all(|(actor, outcome)| actor == "aad-boss" && outcome == "refused: not an admin")
    );

    // A global admin id, from a tenant outside allowed_tenants: ignored, and no trace at all.
    let app = spawn_app_with(
        backend,
        &format!("admins = [\"aad-boss\"]\nallowed_tenants = [\"{TENANT}\"]"),
    )
    .await;
    let mut activity = app.message("1:x3", "29:boss", "list create payroll ceo@contoso.com");
    activity["channelData"]["tenant"]["id"] = json!(FABRIKAM);
    activity["conversation"]["tenantId"] = json!(FABRIKAM);
    refused(
        &app,
        "a tenant outside allowed_tenants",
        200,
        None,
        app.post_signed(&activity),
    )
    .await;
}
