//! Entra ID groups in lists: found in Graph when they are added, resolved through Graph to
//! their enabled users (nested groups included) when a campaign starts, a broadcast is sent or
//! the list is shown.
//!
//! A member is matched to herald's users by their Entra object id first (what Teams records
//! as `aadObjectId`), else by UPN or mail; one not installed is reported by UPN (else mail).

use std::collections::{HashMap, HashSet};

use super::Reach;
use crate::graph::GraphError;
use crate::graph::groups::{GroupUser, is_object_id};
use crate::store::groups::{self as store, ListGroup, NewGroup};
use crate::store::{Db, StoreError};

/// A group of a list that could not be resolved, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// `group:` and its mail, else its object id.
    pub group: String,
    pub why: Why,
}

/// Why Graph did not answer for a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// Graph is off (`[graph] enabled = false`).
    GraphOff,
    /// The group no longer exists in Entra ID.
    Gone,
    /// Graph kept throttling past the waits herald allows.
    Throttled,
    /// Graph refused (e.g. 403 when a permission is missing): its status and error code.
    Refused { status: u16, code: String },
    /// Graph could not be reached, or its token not had.
    Unreachable,
}

impl Why {
    fn of(e: &GraphError) -> Why {
        match e {
            GraphError::Refused { status: 404, .. } => Why::Gone,
            GraphError::Refused { status, code } => Why::Refused {
                status: *status,
                code: code.clone(),
            },
            GraphError::Throttled { .. } => Why::Throttled,
            GraphError::Unreachable(_) | GraphError::Token(_) => Why::Unreachable,
        }
    }

    /// The catalogue's selector for it (`group-why`).
    pub fn kind(&self) -> &'static str {
        match self {
            Why::GraphOff => "off",
            Why::Gone => "gone",
            Why::Throttled => "throttled",
            Why::Refused { .. } => "refused",
            Why::Unreachable => "unreachable",
        }
    }

    /// Graph's status and code when it refused, else empty.
    pub fn detail(&self) -> String {
        match self {
            Why::Refused { status, code } => format!("{status} {code}"),
            _ => String::new(),
        }
    }
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Refused { status, code } => write!(f, "refused ({status} {code})"),
            other => f.write_str(other.kind()),
        }
    }
}

/// What a list's groups add to its typed members.
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    /// Identities (lower-case UPN or mail) of the groups' enabled users, each once.
    pub identities: Vec<String>,
    /// Groups Graph did not resolve: a send holds back rather than miss their members.
    pub unresolved: Vec<Unresolved>,
}

/// What looking a group up in Graph came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(NewGroup),
    /// Graph knows no such group.
    Unknown,
    /// Graph is off (`[graph] enabled = false`): groups cannot be used.
    GraphOff,
    /// Graph could not answer (throttled, unreachable, refused).
    Failed(Why),
}

/// Looks up the group `key` (an object id, or a mail) names in `tenant`.
pub async fn lookup(reach: &Reach, tenant: &str, key: &str) -> Lookup {
    let Some(graph) = &reach.graph else {
        return Lookup::GraphOff;
    };
    let key = key.trim();
    let found = if key.contains('@') {
        graph.group_by_mail(tenant, key).await
    } else if is_object_id(key) {
        graph.group(tenant, &key.to_lowercase()).await
    } else {
        Ok(None)
    };
    match found {
        Ok(Some(group)) => Lookup::Found(NewGroup {
            name: group
                .display_name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| group.id.clone()),
            group_id: group.id.to_lowercase(),
            mail: group.mail.map(|m| m.trim().to_lowercase()),
        }),
        Ok(None) => Lookup::Unknown,
        Err(e) => {
            tracing::warn!(group = key, error = %e, "group lookup failed");
            Lookup::Failed(Why::of(&e))
        }
    }
}

/// The enabled users of `list_id`'s groups, as identities `store::lists::resolve` matches.
pub async fn expand(
    reach: &Reach,
    db: &Db,
    tenant: &str,
    list_id: &str,
) -> Result<Expansion, StoreError> {
    let groups = groups_of(db, list_id).await?;
    if groups.is_empty() {
        return Ok(Expansion::default());
    }
    let mut expansion = Expansion::default();
    let mut users: Vec<GroupUser> = Vec::new();
    let mut seen = HashSet::new();
    for group in &groups {
        match members(reach, tenant, group).await {
            Ok(found) => users.extend(found.into_iter().filter(|u| seen.insert(u.id.clone()))),
            Err(why) => {
                tracing::warn!(list_id, group = %group.label(), %why, "group not resolved");
                expansion.unresolved.push(Unresolved {
                    group: group.label(),
                    why,
                });
            }
        }
    }
    drop(seen);
    let known = known(db, tenant, &users).await?;
    let mut identities = HashSet::new();
    for user in users {
        let identity = known
            .get(&user.id.to_lowercase())
            .and_then(|k| k.identity.clone())
            .or(user.upn)
            .or(user.mail);
        if let Some(identity) = identity
            && identities.insert(identity.clone())
        {
            expansion.identities.push(identity);
        }
    }
    tracing::info!(
        list_id,
        groups = groups.len(),
        users = expansion.identities.len(),
        "list groups resolved"
    );
    Ok(expansion)
}

/// A group's counts for `list show`: its enabled users and how many have herald installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCount {
    pub group: ListGroup,
    /// `(members, installed)`, or why Graph could not say.
    pub counted: Result<(usize, usize), Why>,
}

/// Each group of `list_id` with its counts, resolved live.
pub async fn counts(
    reach: &Reach,
    db: &Db,
    tenant: &str,
    list_id: &str,
) -> Result<Vec<GroupCount>, StoreError> {
    let groups = groups_of(db, list_id).await?;
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let counted = match members(reach, tenant, &group).await {
            Ok(users) => Ok((users.len(), installed(db, tenant, &users).await?)),
            Err(why) => Err(why),
        };
        out.push(GroupCount { group, counted });
    }
    Ok(out)
}

async fn groups_of(db: &Db, list_id: &str) -> Result<Vec<ListGroup>, StoreError> {
    let id = list_id.to_string();
    db.run(move |conn| store::of_list(conn, &id)).await
}

async fn members(reach: &Reach, tenant: &str, group: &ListGroup) -> Result<Vec<GroupUser>, Why> {
    let Some(graph) = &reach.graph else {
        return Err(Why::GraphOff);
    };
    graph
        .group_users(tenant, &group.group_id)
        .await
        .map_err(|e| {
            tracing::warn!(group = %group.label(), error = %e, "group members not read");
            Why::of(&e)
        })
}

/// Herald's users among `users`, by object id.
async fn known(
    db: &Db,
    tenant: &str,
    users: &[GroupUser],
) -> Result<HashMap<String, store::Known>, StoreError> {
    let ids: Vec<String> = users.iter().map(|u| u.id.to_lowercase()).collect();
    let t = tenant.to_string();
    db.run(move |conn| store::by_object_id(conn, &t, &ids))
        .await
}

/// How many of `users` have herald installed (matched by object id, else UPN or mail).
async fn installed(db: &Db, tenant: &str, users: &[GroupUser]) -> Result<usize, StoreError> {
    let known = known(db, tenant, users).await?;
    let mut by_identity: Vec<String> = Vec::new();
    let mut count = 0;
    for user in users {
        match known.get(&user.id.to_lowercase()) {
            Some(k) if k.installed => count += 1,
            _ => by_identity.extend(user.upn.iter().chain(user.mail.iter()).cloned()),
        }
    }
    let t = tenant.to_string();
    let found = db
        .run(move |conn| store::installed_identities(conn, &t, &by_identity))
        .await?;
    count += users
        .iter()
        .filter(|u| known.get(&u.id.to_lowercase()).is_none_or(|k| !k.installed))
        .filter(|u| {
            u.upn.as_ref().is_some_and(|x| found.contains(x))
                || u.mail.as_ref().is_some_and(|x| found.contains(x))
        })
        .count();
    Ok(count)
}
