//! A user's time zone as their mailbox settings give it (`GET /users/{id}/mailboxSettings`,
//! application permission `MailboxSettings.Read`): a Windows name (`Romance Standard Time`) or
//! an IANA one, as the tenant's administrator set it up. Asked only for people whose Teams
//! client never told their zone.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

/// What an id may keep as it is in a path segment (object ids are GUIDs).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

use super::{GraphClient, GraphError};

#[derive(Deserialize)]
struct MailboxSettings {
    #[serde(default, rename = "timeZone")]
    time_zone: Option<String>,
}

impl GraphClient {
    /// The zone name of user `id` (Entra object id) in `tenant`; `None` when the mailbox has
    /// none set (or the user has no mailbox: Graph answers 404).
    pub async fn mailbox_time_zone(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<String>, GraphError> {
        let tokens = self.tokens_for(tenant);
        let url = format!(
            "{}/v1.0/users/{}/mailboxSettings",
            self.base_url,
            utf8_percent_encode(id, PATH_SEGMENT)
        );
        let mut request = self.http.get(&url);
        if let Some(token) = tokens.token().await? {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| GraphError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        if status.as_u16() == 404 {
            return Ok(None);
        }
        if status.as_u16() == 429 {
            return Err(super::throttled(&response));
        }
        if !status.is_success() {
            return Err(super::refused(response).await);
        }
        let settings: MailboxSettings = response.json().await.map_err(|e| {
            GraphError::Unreachable(format!("unreadable answer: {}", e.without_url()))
        })?;
        Ok(settings
            .time_zone
            .map(|z| z.trim().to_string())
            .filter(|z| !z.is_empty()))
    }
}
