//! Graph change-notification subscriptions to users' presence: create, renew (PATCH of the
//! expiry; the resource cannot change), delete. A presence subscription covers at most 650
//! users (`/communications/presences?$filter=id in (…)`) and lives at most an hour.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use super::{GraphClient, GraphError, MAX_IDS_PER_CALL};

/// Most users one presence subscription may name.
pub const MAX_USERS_PER_SUBSCRIPTION: usize = MAX_IDS_PER_CALL;
/// The longest life Graph gives a presence subscription.
pub const MAX_LIFETIME: TimeDelta = TimeDelta::minutes(60);

/// What a new subscription asks for.
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub users: &'a [String],
    pub notification_url: &'a str,
    pub lifecycle_url: &'a str,
    pub client_state: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// A subscription as Graph answers for it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Created {
    pub id: String,
    #[serde(rename = "expirationDateTime")]
    pub expires_at: DateTime<Utc>,
}

/// The presence resource of `users` (Entra object ids).
pub fn presence_resource(users: &[String]) -> String {
    let ids: Vec<String> = users
        .iter()
        .map(|id| format!("'{}'", id.replace('\'', "")))
        .collect();
    format!(
        "/communications/presences?$filter=id in ({})",
        ids.join(",")
    )
}

fn expiry(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl GraphClient {
    async fn send_json(
        &self,
        tenant: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, GraphError> {
        let mut request = request;
        if let Some(token) = self.tokens_for(tenant).token().await? {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| GraphError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        if status.as_u16() == 429 {
            return Err(super::throttled(&response));
        }
        if !status.is_success() {
            return Err(super::refused(response).await);
        }
        Ok(response)
    }

    /// Subscribes (in `tenant`) to presence changes of `new.users` (at most 650).
    pub async fn create_presence_subscription(
        &self,
        tenant: &str,
        new: &NewSubscription<'_>,
    ) -> Result<Created, GraphError> {
        let url = format!("{}/v1.0/subscriptions", self.base_url);
        let body = serde_json::json!({
            "changeType": "updated",
            "notificationUrl": new.notification_url,
            "lifecycleNotificationUrl": new.lifecycle_url,
            "resource": presence_resource(new.users),
            "expirationDateTime": expiry(new.expires_at),
            "clientState": new.client_state,
        });
        let response = self
            .send_json(tenant, self.http.post(&url).json(&body))
            .await?;
        response
            .json()
            .await
            .map_err(|e| GraphError::Unreachable(format!("unreadable answer: {}", e.without_url())))
    }

    /// Moves subscription `id`'s expiry to `expires_at`; returns the expiry Graph granted.
    /// A subscription Graph no longer knows is `Refused { status: 404, .. }`.
    pub async fn renew_subscription(
        &self,
        tenant: &str,
        id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, GraphError> {
        let url = format!("{}/v1.0/subscriptions/{}", self.base_url, encode(id));
        let body = serde_json::json!({ "expirationDateTime": expiry(expires_at) });
        let response = self
            .send_json(tenant, self.http.patch(&url).json(&body))
            .await?;
        let answer: Option<Created> = response.json().await.ok();
        Ok(answer.map(|c| c.expires_at).unwrap_or(expires_at))
    }

    /// Deletes subscription `id` (one that is already gone counts as deleted).
    pub async fn delete_subscription(&self, tenant: &str, id: &str) -> Result<(), GraphError> {
        let url = format!("{}/v1.0/subscriptions/{}", self.base_url, encode(id));
        match self.send_json(tenant, self.http.delete(&url)).await {
            Ok(_) | Err(GraphError::Refused { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// An id as one path segment.
fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use wiremock::matchers::{body_partial_json, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[test]
    fn the_resource_names_each_user_quoted() {
        let users = vec!["a1".to_string(), "b'2".to_string()];
        assert_eq!(
            presence_resource(&users),
            "/communications/presences?$filter=id in ('a1','b2')"
        );
    }

    #[tokio::test]
    async fn create_renew_and_delete_speak_graphs_subscription_api() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/t1/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "token_type": "Bearer", "expires_in": 3600, "access_token": "tok"
            })))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v1.0/subscriptions"))
            .and(body_partial_json(serde_json::json!({
                "changeType": "updated",
                "resource": "/communications/presences?$filter=id in ('u1')",
                "clientState": "s3cret",
                "notificationUrl": "https://h/api/graph/notifications",
                "lifecycleNotificationUrl": "https://h/api/graph/lifecycle",
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
                "id": "sub-1", "expirationDateTime": "2026-11-30T15:00:00Z"
            })))
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path("/v1.0/subscriptions/sub-1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "id": "sub-1", "expirationDateTime": "2026-11-30T15:30:00Z"
            })))
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path("/v1.0/subscriptions/gone"))
            .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({
                "error": {"code": "ResourceNotFound"}
            })))
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(404))
            .mount(&server)
            .await;
        let client = GraphClient::new(
            reqwest::Client::new(),
            &server.uri(),
            &format!("{}/{{tenant}}/token", server.uri()),
            "app",
            SecretString::from("x"),
        );
        let users = vec!["u1".to_string()];
        let at: DateTime<Utc> = "2026-11-30T14:55:00Z".parse().unwrap();
        let created = client
            .create_presence_subscription(
                "t1",
                &NewSubscription {
                    users: &users,
                    notification_url: "https://h/api/graph/notifications",
                    lifecycle_url: "https://h/api/graph/lifecycle",
                    client_state: "s3cret",
                    expires_at: at,
                },
            )
            .await
            .unwrap();
        assert_eq!(created.id, "sub-1");
        let renewed = client.renew_subscription("t1", "sub-1", at).await.unwrap();
        assert_eq!(
            renewed,
            "2026-11-30T15:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let gone = client.renew_subscription("t1", "gone", at).await;
        assert!(matches!(gone, Err(GraphError::Refused { status: 404, .. })));
        client.delete_subscription("t1", "sub-1").await.unwrap();
    }
}
