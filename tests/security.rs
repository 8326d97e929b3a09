//! What the endpoint refuses: bad tokens (401), bad bodies (400, 413, 415). Each refusal records
//! nothing and sends nothing.

mod common;

use common::tokens::*;
use common::{Backend, TestApp, spawn_app};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

on_both_backends!(
    every_bad_token_is_refused_and_records_nothing,
    unknown_kid_is_refused_after_one_key_refresh,
    emulator_tokens_are_accepted_for_this_app_only,
    malformed_oversized_and_non_json_bodies_get_json_errors,
    activity_missing_what_it_needs_is_a_400,
);

/// Posts an install with `token` and checks it was refused with 401 and left no trace.
async fn assert_refused(app: &TestApp, case: &str, activity: &Value, token: Option<&str>) {
    let response = app.post_activity(activity, token).await;
    assert_eq!(response.status(), 401, "{case}");
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], "unauthorized", "{case}: {body}");
    assert!(app.users_json().is_empty(), "{case}: a user was recorded");
    assert!(
        app.connector.received_requests().await.unwrap().is_empty(),
        "{case}: the connector was called"
    );
}

async fn every_bad_token_is_refused_and_records_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let activity = app.install("f:attack", "29:mallory");
    let url = app.service_url();
    let valid = channel_claims(&url);
    let with = |key: &str, value: Value| {
        let mut c = valid.clone();
        c[key] = value;
        c
    };

    assert_refused(&app, "no Authorization header", &activity, None).await;
    assert_refused(&app, "not a JWT", &activity, Some("not-a-token")).await;
    let expired = with("exp", json!(now() - 301));
    let expired = sign(&expired, CHANNEL_KID, Algorithm::RS256);
    assert_refused(&app, "expired token", &activity, Some(&expired)).await;
    let future = with("nbf", json!(now() + 301));
    let future = sign(&future, CHANNEL_KID, Algorithm::RS256);
    assert_refused(&app, "token not yet valid", &activity, Some(&future)).await;
    let audience = sign(
        &with("aud", json!("someone-else")),
        CHANNEL_KID,
        Algorithm::RS256,
    );
    assert_refused(&app, "wrong audience", &activity, Some(&audience)).await;
    let no_audience = {
        let mut c = valid.clone();
        c.as_object_mut().unwrap().remove("aud");
        sign(&c, CHANNEL_KID, Algorithm::RS256)
    };
    assert_refused(&app, "no audience", &activity, Some(&no_audience)).await;
    let issuer = sign(
        &with("iss", json!("https://evil.example.com")),
        CHANNEL_KID,
        Algorithm::RS256,
    );
    assert_refused(&app, "wrong issuer", &activity, Some(&issuer)).await;
    assert_refused(&app, "alg none", &activity, Some(&unsigned_token(&valid))).await;
    assert_refused(
        &app,
        "HS256 with the public key as secret",
        &activity,
        Some(&hs256_with_public_key(&valid)),
    )
    .await;
    let tampered = tamper_signature(&channel_token(&url));
    assert_refused(&app, "tampered signature", &activity, Some(&tampered)).await;
    let tampered_claims = {
        // A valid signature over other claims: swap in another payload.
        let token = channel_token(&url);
        let forged = sign(
            &with("serviceurl", json!("https://evil.example.com/")),
            CHANNEL_KID,
            Algorithm::RS256,
        );
        let parts: Vec<&str> = token.split('.').collect();
        let forged_parts: Vec<&str> = forged.split('.').collect();
        format!("{}.{}.{}", parts[0], forged_parts[1], parts[2])
    };
    assert_refused(&app, "payload swapped", &activity, Some(&tampered_claims)).await;
    let other_service = sign(
        &with("serviceurl", json!("https://smba.trafficmanager.net/emea/")),
        CHANNEL_KID,
        Algorithm::RS256,
    );
    assert_refused(
        &app,
        "serviceurl claim differs from the activity's serviceUrl",
        &activity,
        Some(&other_service),
    )
    .await;
    let no_service_claim = {
        let mut c = valid.clone();
        c.as_object_mut().unwrap().remove("serviceurl");
        sign(&c, CHANNEL_KID, Algorithm::RS256)
    };
    assert_refused(
        &app,
        "no serviceurl claim",
        &activity,
        Some(&no_service_claim),
    )
    .await;
    let mut skype = activity.clone();
    skype["channelId"] = json!("skype");
    assert_refused(
        &app,
        "channelId not among the key's endorsements",
        &skype,
        Some(&channel_token(&url)),
    )
    .await;
    for alg in [Algorithm::RS384, Algorithm::RS512] {
        // The other accepted algorithms do verify (and this proves the refusals above are not
        // a broken setup).
        let token = sign(&valid, CHANNEL_KID, alg);
        let mut ok = app.message(&format!("1:{alg:?}"), "29:alice", "help");
        ok["serviceUrl"] = json!(url);
        assert_eq!(
            app.post_activity(&ok, Some(&token)).await.status(),
            200,
            "{alg:?}"
        );
    }
    // Still within the 5-minute skew: accepted.
    let skewed = sign(
        &with("exp", json!(now() - 200)),
        CHANNEL_KID,
        Algorithm::RS256,
    );
    let msg = app.message("1:skew", "29:alice", "help");
    assert_eq!(app.post_activity(&msg, Some(&skewed)).await.status(), 200);
}

async fn unknown_kid_is_refused_after_one_key_refresh(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = app.service_url();
    // Warm the key cache with a valid request.
    let ok = app.message("1:warm", "29:alice", "help");
    assert_eq!(app.post_signed(&ok).await.status(), 200);
    assert_eq!(app.jwks_fetches().await, 1);

    let stranger = sign(&channel_claims(&url), "rotated-away", Algorithm::RS256);
    let activity = app.install("f:kid", "29:mallory");
    let response = app.post_activity(&activity, Some(&stranger)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        app.jwks_fetches().await,
        2,
        "one refresh for the unknown kid"
    );

    // Within the hour, further unknown kids do not refresh again.
    let response = app.post_activity(&activity, Some(&stranger)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(app.jwks_fetches().await, 2, "refresh is rate limited");
    let users = app.users_json();
    assert!(users.is_empty(), "{users:?}");
}

async fn emulator_tokens_are_accepted_for_this_app_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let base =
        json!({"nbf": now() - 10, "exp": now() + 3600, "aud": "https://api.botframework.com"});
    let mut v1 = base.clone();
    v1["iss"] = json!(EMULATOR_ISSUER_V1);
    v1["ver"] = json!("1.0");
    v1["appid"] = json!(APP_ID);
    let token = sign(&v1, EMULATOR_KID, Algorithm::RS256);
    let msg = app.message("1:emu1", "29:dev", "help");
    assert_eq!(app.post_activity(&msg, Some(&token)).await.status(), 200);

    let mut v2 = base.clone();
    v2["iss"] = json!(EMULATOR_ISSUER_V2);
    v2["ver"] = json!("2.0");
    v2["azp"] = json!(APP_ID);
    let token = sign(&v2, EMULATOR_KID, Algorithm::RS256);
    let msg = app.message("1:emu2", "29:dev", "help");
    assert_eq!(app.post_activity(&msg, Some(&token)).await.status(), 200);
    assert_eq!(app.sent_messages().await.len(), 2);

    // Another app's emulator token, or a v2 token naming us only in `appid`, is refused.
    let mut other = v1.clone();
    other["appid"] = json!("another-app");
    let token = sign(&other, EMULATOR_KID, Algorithm::RS256);
    let msg = app.message("1:emu3", "29:dev", "help");
    assert_eq!(app.post_activity(&msg, Some(&token)).await.status(), 401);
    let mut confused = v2.clone();
    confused["azp"] = json!("another-app");
    confused["appid"] = json!(APP_ID);
    let token = sign(&confused, EMULATOR_KID, Algorithm::RS256);
    assert_eq!(app.post_activity(&msg, Some(&token)).await.status(), 401);
    // An emulator-issued token signed with a channel key id is not found among emulator keys.
    let token = sign(&v1, CHANNEL_KID, Algorithm::RS256);
    assert_eq!(app.post_activity(&msg, Some(&token)).await.status(), 401);
    assert_eq!(app.sent_messages().await.len(), 2);
}

async fn malformed_oversized_and_non_json_bodies_get_json_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = app.service_url();
    let token = channel_token(&url);
    let post = |content_type: &'static str, body: Vec<u8>| {
        app.client
            .post(format!("{}/api/messages", app.address))
            .header("content-type", content_type)
            .header("authorization", format!("Bearer {token}"))
            .body(body)
            .send()
    };
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "malformed JSON",
            "application/json",
            b"{\"type\": \"message\",".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "not an object",
            "application/json",
            b"[1,2,3]".to_vec(),
            400,
            "invalid_activity",
        ),
        (
            "wrong field type",
            "application/json",
            br#"{"type": 5}"#.to_vec(),
            400,
            "invalid_activity",
        ),
        (
            "1 MiB body",
            "application/json",
            vec![b' '; 1024 * 1024],
            413,
            "payload_too_large",
        ),
        (
            "text/plain",
            "text/plain",
            b"hello".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "deeply nested JSON",
            "application/json",
            {
                let mut v = br#"{"type":"message","value":"#.to_vec();
                v.extend(vec![b'['; 10_000]);
                v.extend(vec![b']'; 10_000]);
                v.push(b'}');
                v
            },
            400,
            "malformed_json",
        ),
    ];
    for (case, content_type, body, status, code) in cases {
        let response = post(content_type, body).await.expect("request sent");
        assert_eq!(response.status().as_u16(), status, "{case}");
        let body: Value = response.json().await.expect("JSON error body");
        assert_eq!(body["error"]["code"], code, "{case}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{case}"
        );
    }
    // The server is still fine and nothing was recorded.
    assert!(app.users_json().is_empty());
    let ok = app.message("1:after", "29:alice", "help");
    assert_eq!(app.post_signed(&ok).await.status(), 200);
}

async fn activity_missing_what_it_needs_is_a_400(backend: Backend) {
    let app = spawn_app(backend).await;
    for field in ["type", "from", "conversation", "recipient", "action"] {
        let mut activity = app.install("f:missing", "29:bob");
        activity.as_object_mut().unwrap().remove(field);
        let response = app.post_signed(&activity).await;
        assert_eq!(response.status(), 400, "{field}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_activity");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{field}: {body}"
        );
    }
    let mut no_tenant = app.install("f:nt", "29:bob");
    no_tenant.as_object_mut().unwrap().remove("channelData");
    no_tenant["conversation"]
        .as_object_mut()
        .unwrap()
        .remove("tenantId");
    let response = app.post_signed(&no_tenant).await;
    assert_eq!(response.status(), 400);
    // The refused install can be redelivered once fixed: its id was not burnt.
    let fixed = app.install("f:nt", "29:bob");
    assert_eq!(app.post_signed(&fixed).await.status(), 200);
    assert_eq!(app.users_json().len(), 1);
}
