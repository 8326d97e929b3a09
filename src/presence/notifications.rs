//! Graph's change and lifecycle notifications for presence subscriptions. A notification is
//! acted on only when its subscription is one herald keeps and its `clientState` is that
//! subscription's secret (compared in constant time); anything else is ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Deserialize;

use super::Keeper;
use crate::store::StoreError;
use crate::store::presence_subs::{self as subs, Subscription};

/// A POST from Graph: one or more notifications.
#[derive(Debug, Deserialize)]
pub struct Batch {
    pub value: Vec<Notification>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub subscription_id: String,
    #[serde(default)]
    pub client_state: Option<String>,
    #[serde(default)]
    pub lifecycle_event: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub resource_data: Option<ResourceData>,
}

#[derive(Debug, Deserialize)]
pub struct ResourceData {
    #[serde(default)]
    pub id: Option<String>,
}

/// Why a body is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadBody {
    #[error("not a notification batch: {0}")]
    Unreadable(String),
    #[error("too many notifications in one batch")]
    TooMany,
    #[error("too many subscriptions in one batch")]
    TooManySubscriptions,
}

/// Most notifications one POST may carry.
pub const MAX_PER_BATCH: usize = 1000;
/// Most distinct subscriptions one POST may name (herald keeps one per 650 users: 200 cover
/// 130,000 users); a batch naming more is refused before the database is asked.
pub const MAX_SUBSCRIPTIONS_PER_BATCH: usize = 200;

/// Reads a POSTed body.
pub fn parse(body: &[u8]) -> Result<Batch, BadBody> {
    let batch: Batch =
        serde_json::from_slice(body).map_err(|e| BadBody::Unreadable(e.to_string()))?;
    if batch.value.len() > MAX_PER_BATCH {
        return Err(BadBody::TooMany);
    }
    let ids: BTreeSet<&str> = batch
        .value
        .iter()
        .map(|n| n.subscription_id.as_str())
        .collect();
    if ids.len() > MAX_SUBSCRIPTIONS_PER_BATCH {
        return Err(BadBody::TooManySubscriptions);
    }
    Ok(batch)
}

/// Equal strings, in time that depends on their lengths only.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The user a presence notification is about: `resourceData.id`, else the id in `resource`
/// (`communications/presences('<id>')` or `…/presences/<id>`).
fn user_of(n: &Notification) -> Option<String> {
    let from_data = n.resource_data.as_ref().and_then(|d| d.id.clone());
    let from_resource = n.resource.as_deref().and_then(|r| {
        let rest = &r[r.to_ascii_lowercase().find("presences")? + "presences".len()..];
        let id = rest.trim_start_matches(['(', '/', '\'']);
        let id = id.split(['\'', ')', '/', '?']).next()?;
        (!id.is_empty()).then(|| id.to_string())
    });
    from_data
        .or(from_resource)
        .map(|id| id.trim().to_lowercase())
}

/// The notifications of `batch` that are genuine: their subscription is stored and their
/// `clientState` matches it.
async fn genuine(
    keeper: &Keeper,
    batch: Batch,
) -> Result<Vec<(Notification, Subscription)>, StoreError> {
    let ids: Vec<String> = batch
        .value
        .iter()
        .map(|n| n.subscription_id.clone())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    let known: BTreeMap<String, Subscription> = keeper
        .db
        .run(move |conn| subs::find_many(conn, &ids))
        .await?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let (mut unknown, mut forged) = (0usize, 0usize);
    let mut out = Vec::new();
    for n in batch.value {
        let Some(s) = known.get(&n.subscription_id) else {
            unknown += 1;
            continue;
        };
        if !n
            .client_state
            .as_deref()
            .is_some_and(|c| same_secret(c, &s.client_state))
        {
            forged += 1;
            continue;
        }
        out.push((n, s.clone()));
    }
    if unknown + forged > 0 {
        // One line per request, however many were ignored.
        tracing::debug!(
            unknown_subscription = unknown,
            bad_client_state = forged,
            "ignored Graph notifications"
        );
    }
    Ok(out)
}

/// Accepts change notifications: the genuine ones' users have their presence fetched (in the
/// background) and recorded. Returns how many were accepted.
pub async fn changed(keeper: &Arc<Keeper>, batch: Batch) -> Result<usize, StoreError> {
    let accepted = genuine(keeper, batch).await?;
    let mut by_tenant: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut count = 0;
    for (n, s) in &accepted {
        let Some(user) = user_of(n) else { continue };
        if !s.users.contains(&user) {
            continue;
        }
        count += 1;
        by_tenant
            .entry(s.tenant_id.clone())
            .or_default()
            .insert(user);
    }
    if !by_tenant.is_empty() {
        let keeper = keeper.clone();
        tokio::spawn(async move {
            for (tenant, users) in by_tenant {
                let users: Vec<String> = users.into_iter().collect();
                if let Err(e) = keeper.fetch(&tenant, &users).await {
                    tracing::warn!(error = %e, "recording notified presence failed");
                }
            }
        });
    }
    Ok(count)
}

/// Accepts lifecycle notifications: `reauthorizationRequired` renews the subscription,
/// `subscriptionRemoved` forgets it (the next round re-creates it), `missed` refreshes its
/// users' presence. Returns how many were accepted.
pub async fn lifecycle(keeper: &Arc<Keeper>, batch: Batch) -> Result<usize, StoreError> {
    let accepted = genuine(keeper, batch).await?;
    let count = accepted.len();
    let keeper = keeper.clone();
    tokio::spawn(async move {
        for (n, s) in accepted {
            let event = n.lifecycle_event.as_deref().unwrap_or_default();
            let result = match event {
                "reauthorizationRequired" => keeper.renew(&s).await.map(|_| ()),
                "subscriptionRemoved" => {
                    let id = s.id.clone();
                    let r = keeper.db.run(move |conn| subs::remove(conn, &id)).await;
                    keeper.nudge();
                    r.map(|_| ())
                }
                "missed" => keeper.fetch(&s.tenant_id, &s.users).await.map(|_| ()),
                other => {
                    tracing::debug!(event = %other, "lifecycle notification not acted on");
                    Ok(())
                }
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, event = %event, "handling a lifecycle notification failed");
            }
        }
    });
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn the_user_is_read_from_resource_data_or_resource() {
        let b = parse(
            br#"{"value":[
            {"subscriptionId":"s","clientState":"c","resource":"communications/presences('AB-1')"},
            {"subscriptionId":"s","resource":"/communications/presences/cd-2"},
            {"subscriptionId":"s","resourceData":{"id":"EF-3"}}
        ]}"#,
        )
        .unwrap();
        let users: Vec<Option<String>> = b.value.iter().map(user_of).collect();
        assert_eq!(
            users,
            [
                Some("ab-1".into()),
                Some("cd-2".into()),
                Some("ef-3".into())
            ]
        );
    }

    #[test]
    fn a_batch_naming_too_many_subscriptions_is_refused() {
        let many = |n: usize| {
            let value: Vec<serde_json::Value> = (0..n)
                .map(|i| serde_json::json!({"subscriptionId": format!("s{i}")}))
                .collect();
            serde_json::to_vec(&serde_json::json!({ "value": value })).unwrap()
        };
        assert!(parse(&many(MAX_SUBSCRIPTIONS_PER_BATCH)).is_ok());
        assert_eq!(
            parse(&many(MAX_SUBSCRIPTIONS_PER_BATCH + 1)).err(),
            Some(BadBody::TooManySubscriptions)
        );
    }

    #[test]
    fn bad_bodies_are_refused() {
        assert!(matches!(parse(b"nope"), Err(BadBody::Unreadable(_))));
        assert!(matches!(parse(b"{}"), Err(BadBody::Unreadable(_))));
        assert!(matches!(
            parse(br#"{"value":[{"clientState":"x"}]}"#),
            Err(BadBody::Unreadable(_))
        ));
    }
}
