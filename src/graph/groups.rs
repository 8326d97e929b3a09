//! Entra ID groups through Graph: a group found by object id or by mail, and its transitive
//! members that are enabled user accounts (nested groups' members included; devices, contacts,
//! service principals and the nested groups themselves left out), every page followed and
//! Graph's throttling waited out.
//!
//! Needs the application permission `GroupMember.Read.All` (groups and their members) and
//! `User.Read.All` (a member's `accountEnabled`; without it every member counts as enabled).

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{GraphClient, GraphError};

/// Most objects Graph returns in one page of `transitiveMembers`.
pub const PAGE_SIZE: usize = 999;
/// Throttled answers (429, or 503 with `Retry-After`) waited out for one request before
/// giving up.
pub const MAX_THROTTLED: u32 = 5;
/// The longest single wait a `Retry-After` may ask for; a longer one gives up at once.
pub const MAX_WAIT: Duration = Duration::from_secs(120);

/// What a query string's values escape: everything but the unreserved characters.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A group as Graph knows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Group {
    /// Its object id.
    pub id: String,
    #[serde(rename = "displayName", default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
}

/// An enabled user among a group's transitive members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupUser {
    /// The user's Entra object id (`users.aad_object_id` once they installed herald).
    pub id: String,
    /// Lower case.
    pub upn: Option<String>,
    /// Lower case.
    pub mail: Option<String>,
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next: Option<String>,
}

/// One transitive member, whatever its kind.
#[derive(Deserialize)]
struct Member {
    #[serde(rename = "@odata.type", default)]
    kind: Option<String>,
    id: String,
    #[serde(rename = "userPrincipalName", default)]
    upn: Option<String>,
    #[serde(default)]
    mail: Option<String>,
    #[serde(rename = "accountEnabled", default)]
    enabled: Option<bool>,
}

impl Member {
    /// The member as an enabled user, or `None` for a disabled account or any other object.
    fn enabled_user(self) -> Option<GroupUser> {
        let user = self.kind.as_deref() == Some("#microsoft.graph.user");
        if !user || self.enabled == Some(false) {
            return None;
        }
        let lower =
            |s: Option<String>| s.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
        Some(GroupUser {
            id: self.id,
            upn: lower(self.upn),
            mail: lower(self.mail),
        })
    }
}

/// Whether `text` is shaped like an object id (a GUID), the only ids Graph looks up.
pub fn is_object_id(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY).to_string()
}

impl GraphClient {
    /// The group whose object id is `id`; `None` when Graph knows no such group.
    pub async fn group(&self, tenant: &str, id: &str) -> Result<Option<Group>, GraphError> {
        if !is_object_id(id) {
            return Ok(None);
        }
        let url = format!(
            "{}/v1.0/groups/{}?%24select=id,displayName,mail",
            self.base_url,
            encode(id)
        );
        match self.get_json::<Group>(tenant, &url).await {
            Ok(group) => Ok(Some(group)),
            Err(GraphError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The group whose mail is `mail` (compared as Graph does, case-insensitively); `None`
    /// when there is none.
    pub async fn group_by_mail(
        &self,
        tenant: &str,
        mail: &str,
    ) -> Result<Option<Group>, GraphError> {
        // An OData string literal doubles its quotes.
        let filter = format!("mail eq '{}'", mail.trim().replace('\'', "''"));
        let url = format!(
            "{}/v1.0/groups?%24filter={}&%24select=id,displayName,mail",
            self.base_url,
            encode(&filter)
        );
        let page = self.get_json::<Page<Group>>(tenant, &url).await?;
        Ok(page.value.into_iter().next())
    }

    /// The enabled users among the transitive members of group `id`, each once, in Graph's
    /// order, every `@odata.nextLink` followed.
    pub async fn group_users(&self, tenant: &str, id: &str) -> Result<Vec<GroupUser>, GraphError> {
        let mut url = format!(
            "{}/v1.0/groups/{}/transitiveMembers?%24select=id,displayName,mail,userPrincipalName,accountEnabled&%24top={PAGE_SIZE}",
            self.base_url,
            encode(id)
        );
        let mut users = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            let page = self.get_json::<Page<Member>>(tenant, &url).await?;
            for user in page.value.into_iter().filter_map(Member::enabled_user) {
                if seen.insert(user.id.clone()) {
                    users.push(user);
                }
            }
            match page.next {
                // Only Graph's own links are followed: the token goes with them.
                Some(next) if next.starts_with(&format!("{}/", self.base_url)) => url = next,
                Some(_) => {
                    return Err(GraphError::Unreachable(
                        "a next page outside Graph's base URL".into(),
                    ));
                }
                None => return Ok(users),
            }
        }
    }

    /// GET `url` with `tenant`'s token, waiting out throttling (`Retry-After`, at most
    /// [`MAX_THROTTLED`] times, each wait at most [`MAX_WAIT`]).
    async fn get_json<T: DeserializeOwned>(
        &self,
        tenant: &str,
        url: &str,
    ) -> Result<T, GraphError> {
        let tokens = self.tokens_for(tenant);
        let mut throttled = 0;
        loop {
            let mut request = self.http.get(url);
            if let Some(token) = tokens.token().await? {
                request = request.bearer_auth(token);
            }
            let response = request
                .send()
                .await
                .map_err(|e| GraphError::Unreachable(e.without_url().to_string()))?;
            let status = response.status();
            let retry_after = super::retry_after(&response);
            let busy = status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::SERVICE_UNAVAILABLE && retry_after.is_some());
            if busy {
                throttled += 1;
                // Without a Retry-After: 1, 2, 4, 8… seconds.
                let wait = retry_after.unwrap_or(Duration::from_secs(1 << (throttled - 1)));
                if throttled > MAX_THROTTLED || wait > MAX_WAIT {
                    return Err(GraphError::Throttled { retry_after });
                }
                tracing::info!(
                    wait_s = wait.as_secs(),
                    "Graph throttled a group read; waiting"
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            if !status.is_success() {
                return Err(super::refused(response).await);
            }
            return response.json::<T>().await.map_err(|e| {
                GraphError::Unreachable(format!("unreadable answer: {}", e.without_url()))
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    const GROUP: &str = "0b1c2d3e-0000-4000-8000-00000000abcd";

    async fn graph() -> (MockServer, GraphClient) {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/t1/oauth2/v2.0/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "token_type": "Bearer", "expires_in": 3600, "access_token": "tok"
            })))
            .mount(&server)
            .await;
        let client = GraphClient::new(
            reqwest::Client::new(),
            &server.uri(),
            &format!("{}/{{tenant}}/oauth2/v2.0/token", server.uri()),
            "app",
            SecretString::from("secret"),
        );
        (server, client)
    }

    fn user(i: usize, enabled: bool) -> serde_json::Value {
        serde_json::json!({
            "@odata.type": "#microsoft.graph.user", "id": format!("u{i}"),
            "userPrincipalName": format!("User{i}@Contoso.com"), "mail": null,
            "accountEnabled": enabled
        })
    }

    #[test]
    fn object_ids_are_guids() {
        assert!(is_object_id(GROUP));
        assert!(is_object_id("0B1C2D3E-0000-4000-8000-00000000ABCD"));
        assert!(!is_object_id("sales@contoso.com"));
        assert!(!is_object_id("0b1c2d3e-0000-4000-8000-00000000abc"));
        assert!(!is_object_id("../../users"));
    }

    #[tokio::test]
    async fn pages_are_followed_throttling_waited_out_and_only_enabled_users_kept() {
        let (server, client) = graph().await;
        let page2 = format!(
            "{}/v1.0/groups/{GROUP}/transitiveMembers/page2",
            server.uri()
        );
        let mut first: Vec<serde_json::Value> = (0..4).map(|i| user(i, i != 3)).collect();
        first.push(serde_json::json!({"@odata.type": "#microsoft.graph.device", "id": "d1", "accountEnabled": true}));
        first.push(serde_json::json!({"@odata.type": "#microsoft.graph.group", "id": "g2", "mail": "nested@contoso.com"}));
        Mock::given(method("GET"))
            .and(path(format!("/v1.0/groups/{GROUP}/transitiveMembers")))
            .and(query_param("$top", "999"))
            .and(query_param(
                "$select",
                "id,displayName,mail,userPrincipalName,accountEnabled",
            ))
            .and(header("authorization", "Bearer tok"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"value": first, "@odata.nextLink": page2})),
            )
            .mount(&server)
            .await;
        // Page 2 is throttled once (Retry-After: 1), then answers; u0 comes again (a user in
        // two nested groups) and counts once.
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        Mock::given(method("GET"))
            .and(path(format!(
                "/v1.0/groups/{GROUP}/transitiveMembers/page2"
            )))
            .respond_with(move |_: &Request| {
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    ResponseTemplate::new(429).insert_header("Retry-After", "1")
                } else {
                    ResponseTemplate::new(200)
                        .set_body_json(serde_json::json!({"value": [user(0, true), user(4, true)]}))
                }
            })
            .mount(&server)
            .await;
        let start = Instant::now();
        let users = client.group_users("t1", GROUP).await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "Retry-After honoured"
        );
        let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["u0", "u1", "u2", "u4"]);
        assert_eq!(users[0].upn.as_deref(), Some("user0@contoso.com"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn endless_throttling_gives_up_and_foreign_links_are_not_followed() {
        let (server, client) = graph().await;
        Mock::given(method("GET"))
            .and(path(format!("/v1.0/groups/{GROUP}/transitiveMembers")))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "600"))
            .mount(&server)
            .await;
        let err = client.group_users("t1", GROUP).await.unwrap_err();
        assert!(
            matches!(err, GraphError::Throttled { retry_after: Some(d) } if d.as_secs() == 600),
            "{err:?}"
        );
        let reads = server.received_requests().await.unwrap();
        assert_eq!(
            reads.iter().filter(|r| r.method.as_str() == "GET").count(),
            1
        );
        let (server, client) = graph().await;
        Mock::given(method("GET"))
            .and(path(format!("/v1.0/groups/{GROUP}/transitiveMembers")))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "value": [user(1, true)], "@odata.nextLink": "https://evil.example/steal"
            })))
            .mount(&server)
            .await;
        let err = client.group_users("t1", GROUP).await.unwrap_err();
        assert!(matches!(err, GraphError::Unreachable(_)), "{err:?}");
    }

    #[tokio::test]
    async fn groups_are_found_by_id_or_mail_and_unknown_ones_are_none() {
        let (server, client) = graph().await;
        Mock::given(method("GET"))
            .and(path(format!("/v1.0/groups/{GROUP}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "id": GROUP, "displayName": "Sales", "mail": "sales@contoso.com"
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1.0/groups"))
            .and(query_param("$filter", "mail eq 'o''brien@contoso.com'"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "value": [{"id": GROUP, "displayName": "O'Brien's", "mail": "o'brien@contoso.com"}]
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1.0/groups"))
            .and(query_param("$filter", "mail eq 'nobody@contoso.com'"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": []})),
            )
            .mount(&server)
            .await;
        let other = "11111111-2222-4333-8444-555555555555";
        Mock::given(method("GET"))
            .and(path(format!("/v1.0/groups/{other}")))
            .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({
                "error": {"code": "Request_ResourceNotFound"}
            })))
            .mount(&server)
            .await;
        let sales = client.group("t1", GROUP).await.unwrap().unwrap();
        assert_eq!(sales.display_name.as_deref(), Some("Sales"));
        let by_mail = client
            .group_by_mail("t1", "o'brien@contoso.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_mail.id, GROUP);
        assert_eq!(
            client
                .group_by_mail("t1", "nobody@contoso.com")
                .await
                .unwrap(),
            None
        );
        assert_eq!(client.group("t1", other).await.unwrap(), None);
        assert_eq!(client.group("t1", "not-a-guid").await.unwrap(), None);
    }
}
