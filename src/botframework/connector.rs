//! The Bot Connector client: calls relative to a user's `serviceUrl`, with the bot's token.
//!
//! Every failure comes back as a [`ConnectorError`] that already says what to do with it.

use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde_json::Value;

use super::activity::Activity;
pub use super::member::Member;
use super::retry_after::retry_after;
use super::service_url::ServiceUrl;
use super::token::{TokenError, TokenProvider, redirect_note};

/// Codes of a 403 that mean the user removed or blocked the bot: stop sending to them.
pub const RECIPIENT_GONE_CODES: [&str; 4] = [
    "BotNotInConversationRoster",
    "ConversationBlockedByUser",
    "MessageWritesBlocked",
    "ForbiddenOperationException",
];

/// Like JavaScript's `encodeURIComponent`: conversation ids hold `:`, `;`, `@` and `=`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'!')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

fn segment(s: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(s, PATH_SEGMENT)
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// 429: wait `retry_after` (when given) before any further call for this tenant.
    #[error("throttled by the connector (retry after {retry_after:?})")]
    Throttled { retry_after: Option<Duration> },
    /// 412, 502, 503, 504, timeouts and connection failures: retry with backoff.
    #[error("transient connector failure: {detail}")]
    Transient { status: Option<u16>, detail: String },
    /// 403 with a code saying the user removed or blocked the bot: stop, mark not installed.
    #[error("recipient unreachable: {code}")]
    RecipientGone { code: String },
    /// Anything else, redirects included: do not retry.
    #[error("connector refused the call (HTTP {status}, {code})")]
    Permanent { status: u16, code: String },
    /// The bot's own token could not be had.
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl ConnectorError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ConnectorError::Throttled { .. } | ConnectorError::Transient { .. }
        ) || matches!(self, ConnectorError::Token(TokenError::Unreachable(_)))
    }
}

/// What the connector says after a send.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResourceResponse {
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Clone)]
pub struct ConnectorClient {
    http: reqwest::Client,
    tokens: Arc<TokenProvider>,
}

impl ConnectorClient {
    pub fn new(http: reqwest::Client, tokens: Arc<TokenProvider>) -> ConnectorClient {
        ConnectorClient { http, tokens }
    }

    /// A client that sends no token: for local tools (Agents Playground) and fakes.
    pub fn without_credentials(http: reqwest::Client) -> ConnectorClient {
        let tokens = TokenProvider::new(
            String::new(),
            String::new(),
            secrecy::SecretString::from(""),
            super::token::BOT_FRAMEWORK_SCOPE,
            http.clone(),
        );
        ConnectorClient::new(http, Arc::new(tokens))
    }

    async fn authorize(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, ConnectorError> {
        Ok(match self.tokens.token().await? {
            Some(token) => request.header(AUTHORIZATION, format!("Bearer {token}")),
            None => request,
        })
    }

    /// `POST /v3/conversations/{id}/activities`: a new message in the conversation.
    pub async fn send_to_conversation(
        &self,
        service_url: &ServiceUrl,
        conversation_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ConnectorError> {
        // Serialising an activity (strings, numbers and JSON values) cannot fail.
        let body = serde_json::to_vec(activity).unwrap_or_default();
        self.send_json(service_url, conversation_id, body).await
    }

    /// `POST /v3/conversations/{id}/activities` with an activity already serialised: senders
    /// of one message to many people build each body from a prepared template.
    pub async fn send_json(
        &self,
        service_url: &ServiceUrl,
        conversation_id: &str,
        body: Vec<u8>,
    ) -> Result<ResourceResponse, ConnectorError> {
        let url = service_url.join(&format!(
            "v3/conversations/{}/activities",
            segment(conversation_id)
        ));
        let request = self
            .authorize(
                self.http
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body),
            )
            .await?;
        let response = check(request.send().await).await?;
        // Some channels answer 201 with an empty body; the id is then unknown.
        let bytes = response.bytes().await.map_err(transport)?;
        Ok(serde_json::from_slice(&bytes).unwrap_or_default())
    }

    /// `PUT /v3/conversations/{id}/activities/{activityId}`: replaces a sent activity.
    pub async fn update_activity(
        &self,
        service_url: &ServiceUrl,
        conversation_id: &str,
        activity_id: &str,
        activity: &Activity,
    ) -> Result<(), ConnectorError> {
        let url = self.activity_url(service_url, conversation_id, activity_id);
        let request = self.authorize(self.http.put(url).json(activity)).await?;
        check(request.send().await).await.map(drop)
    }

    /// `DELETE /v3/conversations/{id}/activities/{activityId}`: removes a sent activity from
    /// the recipient's chat.
    pub async fn delete_activity(
        &self,
        service_url: &ServiceUrl,
        conversation_id: &str,
        activity_id: &str,
    ) -> Result<(), ConnectorError> {
        let url = self.activity_url(service_url, conversation_id, activity_id);
        let request = self.authorize(self.http.delete(url)).await?;
        check(request.send().await).await.map(drop)
    }

    fn activity_url(
        &self,
        service_url: &ServiceUrl,
        conversation_id: &str,
        activity_id: &str,
    ) -> String {
        service_url.join(&format!(
            "v3/conversations/{}/activities/{}",
            segment(conversation_id),
            segment(activity_id)
        ))
    }

    /// `POST /v3/conversations`: opens (or finds) the 1:1 chat between the bot and a Teams user.
    pub async fn create_personal_conversation(
        &self,
        service_url: &ServiceUrl,
        bot_id: &str,
        user_id: &str,
        tenant_id: &str,
    ) -> Result<String, ConnectorError> {
        let body = serde_json::json!({
            "bot": {"id": bot_id},
            "members": [{"id": user_id}],
            "isGroup": false,
            "tenantId": tenant_id,
            "channelData": {"tenant": {"id": tenant_id}},
        });
        let request = self
            .authorize(
                self.http
                    .post(service_url.join("v3/conversations"))
                    .json(&body),
            )
            .await?;
        let response = check(request.send().await).await?;
        #[derive(Deserialize)]
        struct Created {
            id: String,
        }
        let created: Created = response
            .json()
            .await
            .map_err(|e| ConnectorError::Permanent {
                status: 200,
                code: format!("unreadable conversation: {}", e.without_url()),
            })?;
        Ok(created.id)
    }

    /// `GET /v3/conversations/{id}/members/{memberId}`: the member's profile.
    pub async fn get_member(
        &self,
        service_url: &ServiceUrl,
        conversation_id: &str,
        member_id: &str,
    ) -> Result<Member, ConnectorError> {
        let url = service_url.join(&format!(
            "v3/conversations/{}/members/{}",
            segment(conversation_id),
            segment(member_id)
        ));
        let request = self.authorize(self.http.get(url)).await?;
        let response = check(request.send().await).await?;
        response
            .json()
            .await
            .map_err(|e| ConnectorError::Permanent {
                status: 200,
                code: format!("unreadable member profile: {}", e.without_url()),
            })
    }
}

fn transport(e: reqwest::Error) -> ConnectorError {
    ConnectorError::Transient {
        status: None,
        detail: e.without_url().to_string(),
    }
}

/// Turns a response into success or the error that says what to do.
async fn check(
    result: Result<reqwest::Response, reqwest::Error>,
) -> Result<reqwest::Response, ConnectorError> {
    let response = result.map_err(transport)?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    // Redirects are never followed (the client's policy): one is a permanent failure, named.
    if let Some(note) = redirect_note(&response) {
        return Err(ConnectorError::Permanent {
            status: status.as_u16(),
            code: format!("redirect ({note}) not followed"),
        });
    }
    let retry_after = retry_after(response.headers());
    let body = response.bytes().await.unwrap_or_default();
    Err(classify(status, retry_after, &body))
}

/// The error for a non-success answer, from its status and either error body shape.
pub fn classify(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> ConnectorError {
    let code = error_code(body);
    match status.as_u16() {
        429 => ConnectorError::Throttled { retry_after },
        412 | 502 | 503 | 504 => ConnectorError::Transient {
            status: Some(status.as_u16()),
            detail: code.unwrap_or_else(|| status.to_string()),
        },
        403 if code
            .as_deref()
            .is_some_and(|c| RECIPIENT_GONE_CODES.contains(&c)) =>
        {
            ConnectorError::RecipientGone {
                code: code.unwrap_or_default(),
            }
        }
        s => ConnectorError::Permanent {
            status: s,
            code: code.unwrap_or_else(|| "unknown".to_string()),
        },
    }
}

/// `{"error":{"code":…}}`, or `{"errorCode":209,"message":"{\"subCode\":…}"}` for blocked bots.
fn error_code(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if let Some(code) = v.pointer("/error/code").and_then(Value::as_str) {
        return Some(code.to_string());
    }
    if let Some(message) = v.get("message").and_then(Value::as_str) {
        if let Ok(inner) = serde_json::from_str::<Value>(message)
            && let Some(sub) = inner.get("subCode").and_then(Value::as_str)
        {
            return Some(sub.to_string());
        }
        if let Some(code) = RECIPIENT_GONE_CODES.iter().find(|c| message.contains(**c)) {
            return Some((*code).to_string());
        }
    }
    v.get("errorCode").map(|c| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(n: u16) -> StatusCode {
        StatusCode::from_u16(n).unwrap()
    }

    #[test]
    fn throttled_and_transient_statuses() {
        assert!(matches!(
            classify(status(429), Some(Duration::from_secs(2)), b""),
            ConnectorError::Throttled { retry_after: Some(d) } if d == Duration::from_secs(2)
        ));
        for s in [412, 502, 503, 504] {
            let e = classify(status(s), None, b"");
            assert!(e.is_retryable(), "{s}");
        }
        assert!(!classify(status(500), None, b"").is_retryable());
    }

    #[test]
    fn blocked_user_shapes_are_recipient_gone() {
        let e = classify(
            status(403),
            None,
            br#"{"error":{"code":"ConversationBlockedByUser","message":"User blocked the conversation with the bot."}}"#,
        );
        assert!(
            matches!(e, ConnectorError::RecipientGone { code } if code == "ConversationBlockedByUser")
        );
        let e = classify(
            status(403),
            None,
            br#"{"errorCode":209,"message":"{\r\n  \"subCode\": \"MessageWritesBlocked\",\r\n  \"details\": \"Thread is blocked from message writes.\"}"}"#,
        );
        assert!(
            matches!(e, ConnectorError::RecipientGone { code } if code == "MessageWritesBlocked")
        );
        let e = classify(status(403), None, br#"{"error":{"code":"Forbidden"}}"#);
        assert!(matches!(e, ConnectorError::Permanent { status: 403, .. }));
    }

    #[test]
    fn not_found_is_permanent_with_its_code() {
        let e = classify(
            status(404),
            None,
            br#"{"error":{"code":"ConversationNotFound","message":"Conversation not found."}}"#,
        );
        assert!(
            matches!(e, ConnectorError::Permanent { status: 404, code } if code == "ConversationNotFound")
        );
    }

    #[test]
    fn conversation_ids_are_encoded_as_one_segment() {
        assert_eq!(
            segment("a:1/x;messageid=2").to_string(),
            "a%3A1%2Fx%3Bmessageid%3D2"
        );
    }
}
