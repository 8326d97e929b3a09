//! Proactive install through Graph: a recipient looked up in the directory, herald's app found
//! in the tenant's app catalog, installed in the user's personal scope
//! (`teamwork/installedApps`), and the 1:1 chat with the bot read back. Each call honours
//! Graph's throttling (429 and its `Retry-After`) and retries a transient failure a few times.

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{GraphClient, GraphError};

/// Attempts of one call, throttling and transient failures included.
const ATTEMPTS: u32 = 6;
/// The longest `Retry-After` waited; a longer one is cut to this.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Reads of a fresh installation (its chat can lag the install by a moment).
const READ_BACK_TRIES: u32 = 4;

/// A user as the directory knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryUser {
    /// The Entra object id.
    pub id: String,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub user_principal_name: Option<String>,
    /// Absent when Graph did not say: taken as enabled.
    pub account_enabled: Option<bool>,
}

const USER_FIELDS: &str = "id,displayName,givenName,surname,mail,userPrincipalName,accountEnabled";

/// What Graph answered a call it did not carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub code: String,
    pub message: String,
}

/// Why an install (or one of its steps) did not happen.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("Graph refused (HTTP {}): {} {}", .0.status, .0.code, .0.message)]
    Refused(Refused),
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// An install that went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// Installed now (201).
    New,
    /// Graph said it was already installed (409): as good.
    AlreadyThere,
}

/// What a path segment escapes: all but letters, digits and `.-_~@` (UPNs stay readable).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

fn path_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// `'` doubled, as OData string literals want.
fn odata_literal(s: &str) -> String {
    s.replace('\'', "''")
}

impl GraphClient {
    /// One Graph call (`path` under `/v1.0`, `query` pairs URL-encoded): its status and JSON
    /// body. Throttling is waited out and a transient failure (5xx, unreachable) retried, a few
    /// times; then the last error is returned.
    async fn call(
        &self,
        tenant: &str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Value), GraphError> {
        let mut url = url::Url::parse(&format!("{}/v1.0{path}", self.base_url))
            .map_err(|e| GraphError::Unreachable(format!("bad Graph URL: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let tokens = self.tokens_for(tenant);
        let mut last = GraphError::Unreachable("no attempt made".into());
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                let wait = match &last {
                    GraphError::Throttled {
                        retry_after: Some(d),
                    } => (*d).min(MAX_WAIT),
                    _ => Duration::from_millis(250 << attempt.min(5)),
                };
                tokio::time::sleep(wait).await;
            }
            let mut request = self.http.request(method.clone(), url.clone());
            if let Some(body) = body {
                request = request.json(body);
            }
            if let Some(token) = tokens.token().await? {
                request = request.bearer_auth(token);
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = GraphError::Unreachable(e.without_url().to_string());
                    continue;
                }
            };
            let status = response.status().as_u16();
            if status == 429 {
                last = super::throttled(&response);
                continue;
            }
            if status >= 500 {
                last = GraphError::Unreachable(format!("HTTP {status}"));
                continue;
            }
            let text = response.text().await.unwrap_or_default();
            let json = serde_json::from_str(&text).unwrap_or(Value::Null);
            return Ok((status, json));
        }
        Err(last)
    }

    /// Calls Graph and treats anything but a 2xx as a refusal.
    async fn call_ok(
        &self,
        tenant: &str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, InstallError> {
        let (status, json) = self.call(tenant, method, path, query, body).await?;
        if (200..300).contains(&status) {
            Ok(json)
        } else {
            Err(InstallError::Refused(refused(status, &json)))
        }
    }

    /// The directory user whose UPN is `identity`, else whose mail is; `None` when none is.
    pub async fn find_user(
        &self,
        tenant: &str,
        identity: &str,
    ) -> Result<Option<DirectoryUser>, InstallError> {
        let path = format!("/users/{}", path_segment(identity));
        let (status, json) = self
            .call(
                tenant,
                Method::GET,
                &path,
                &[("$select", USER_FIELDS)],
                None,
            )
            .await?;
        match status {
            200..=299 => return Ok(serde_json::from_value(json).ok()),
            404 => {}
            _ => return Err(InstallError::Refused(refused(status, &json))),
        }
        let filter = format!("mail eq '{}'", odata_literal(identity));
        let json = self
            .call_ok(
                tenant,
                Method::GET,
                "/users",
                &[("$filter", &filter), ("$select", USER_FIELDS)],
                None,
            )
            .await?;
        Ok(first_of::<DirectoryUser>(&json))
    }

    /// The id of the app whose manifest id is `manifest_id` in the tenant's app catalog.
    pub async fn catalog_app_id(
        &self,
        tenant: &str,
        manifest_id: &str,
    ) -> Result<Option<String>, InstallError> {
        let filter = format!("externalId eq '{}'", odata_literal(manifest_id));
        let json = self
            .call_ok(
                tenant,
                Method::GET,
                "/appCatalogs/teamsApps",
                &[("$filter", &filter)],
                None,
            )
            .await?;
        Ok(first_of::<IdOnly>(&json).map(|a| a.id))
    }

    /// Installs the catalog app `app_id` in `user_id`'s personal scope. 409 (already
    /// installed) is a success.
    pub async fn install_for_user(
        &self,
        tenant: &str,
        user_id: &str,
        app_id: &str,
    ) -> Result<Installed, InstallError> {
        let body = json!({
            // The catalog of this client's cloud (graph.microsoft.us in GCC High, …).
            "teamsApp@odata.bind": format!(
                "{}/v1.0/appCatalogs/teamsApps/{app_id}",
                self.base_url
            ),
        });
        let path = format!("/users/{}/teamwork/installedApps", path_segment(user_id));
        let (status, json) = self
            .call(tenant, Method::POST, &path, &[], Some(&body))
            .await?;
        match status {
            200..=299 => Ok(Installed::New),
            409 => Ok(Installed::AlreadyThere),
            _ => Err(InstallError::Refused(refused(status, &json))),
        }
    }

    /// The id of the 1:1 chat between `user_id` and the installed app `app_id`: the
    /// installation found by its app, then its chat. `None` when Graph does not show it yet
    /// after a few reads.
    pub async fn personal_chat(
        &self,
        tenant: &str,
        user_id: &str,
        app_id: &str,
    ) -> Result<Option<String>, InstallError> {
        let base = format!("/users/{}/teamwork/installedApps", path_segment(user_id));
        let filter = format!("teamsApp/id eq '{}'", odata_literal(app_id));
        for attempt in 0..READ_BACK_TRIES {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt))).await;
            }
            let json = self
                .call_ok(
                    tenant,
                    Method::GET,
                    &base,
                    &[("$expand", "teamsApp"), ("$filter", &filter)],
                    None,
                )
                .await?;
            let Some(installation) = first_of::<IdOnly>(&json) else {
                continue;
            };
            let path = format!("{base}/{}/chat", path_segment(&installation.id));
            let (status, json) = self.call(tenant, Method::GET, &path, &[], None).await?;
            match status {
                200..=299 => {
                    if let Ok(chat) = serde_json::from_value::<IdOnly>(json) {
                        return Ok(Some(chat.id));
                    }
                }
                404 => {}
                _ => return Err(InstallError::Refused(refused(status, &json))),
            }
        }
        Ok(None)
    }
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

/// The first item of a Graph collection (`{"value": [...]}`).
fn first_of<T: serde::de::DeserializeOwned>(json: &Value) -> Option<T> {
    json.get("value")?
        .as_array()?
        .first()
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

fn refused(status: u16, json: &Value) -> Refused {
    let text = |p: &str| {
        json.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Refused {
        status,
        code: text("/error/code"),
        message: text("/error/message"),
    }
}

/// Why Graph did not install herald for someone, as a stable code (`kind` or `kind:detail`)
/// stored with the recipient and said in each reader's language by the catalogue
/// (`install-reason`): `licence`, `blocked`, `user_not_found`, `permissions:<HTTP status and
/// code>`, `refused:<HTTP status and code>`, `throttled`, `no_token`, `unreachable`.
pub fn reason(e: &InstallError) -> String {
    match e {
        InstallError::Refused(r) => {
            let said = format!("{} {}", r.code, r.message).to_lowercase();
            if said.contains("licen") {
                "licence".into()
            } else if said.contains("block") || said.contains("policy") {
                "blocked".into()
            } else if r.status == 404 {
                "user_not_found".into()
            } else if r.status == 401 || r.status == 403 {
                format!("permissions:HTTP {}{}", r.status, code_suffix(&r.code))
            } else {
                format!("refused:HTTP {}{}", r.status, code_suffix(&r.code))
            }
        }
        InstallError::Graph(GraphError::Throttled { .. }) => "throttled".into(),
        InstallError::Graph(GraphError::Token(_)) => "no_token".into(),
        InstallError::Graph(GraphError::Unreachable(_)) => "unreachable".into(),
        InstallError::Graph(GraphError::Refused { status, code }) => {
            format!("refused:HTTP {status}{}", code_suffix(code))
        }
    }
}

fn code_suffix(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(" {code}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, code: &str, message: &str) -> InstallError {
        InstallError::Refused(Refused {
            status,
            code: code.into(),
            message: message.into(),
        })
    }

    #[test]
    fn refusals_become_stable_codes() {
        assert_eq!(
            reason(&refusal(
                403,
                "Forbidden",
                "The app is blocked by the app permission policy"
            )),
            "blocked"
        );
        assert_eq!(
            reason(&refusal(
                403,
                "Forbidden",
                "User does not have a valid license"
            )),
            "licence"
        );
        assert_eq!(reason(&refusal(404, "NotFound", "")), "user_not_found");
        assert_eq!(
            reason(&refusal(403, "Authorization_RequestDenied", "")),
            "permissions:HTTP 403 Authorization_RequestDenied"
        );
        assert_eq!(odata_literal("o'neil@x.com"), "o''neil@x.com");
    }

    #[tokio::test]
    async fn a_user_not_found_by_upn_is_looked_up_by_mail() {
        use wiremock::matchers::{method, path, query_param};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/t/oauth2/v2.0/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3600, "access_token": "tok"
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1.0/users/o%27neil@x.com"))
            .respond_with(ResponseTemplate::new(404))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1.0/users"))
            .and(query_param("$filter", "mail eq 'o''neil@x.com'"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "value": [{"id": "aad-1", "mail": "O'Neil@x.com", "accountEnabled": false}]
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1.0/users"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
            .with_priority(9)
            .mount(&server)
            .await;
        let client = GraphClient::new(
            reqwest::Client::new(),
            &server.uri(),
            &format!("{}/{{tenant}}/oauth2/v2.0/token", server.uri()),
            "app",
            secrecy::SecretString::from("secret"),
        );
        let user = client
            .find_user("t", "o'neil@x.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.id, "aad-1");
        assert_eq!(user.account_enabled, Some(false));
        assert!(
            client
                .find_user("t", "nobody@x.com")
                .await
                .unwrap()
                .is_none()
        );
    }
}
