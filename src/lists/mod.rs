//! Lists of recipients: create, add, remove, show, delete, and all of a tenant's lists. Each
//! use case reads top to bottom and answers a typed result; `bot/lists.rs` says it in the chat.
//! A list holds addresses and Entra ID groups ([`members`]); groups are looked up in Graph
//! before anything is written, so an unknown one changes nothing.

pub mod members;

use chrono::{DateTime, Utc};

use crate::audience::Reach;
use crate::audience::groups::GroupCount;
use crate::store::groups as list_groups;
use crate::store::lists::{self, List, Member};
use crate::store::{Db, StoreError};
pub use members::GroupProblem;

pub mod import;

/// What creating a list came to.
#[derive(Debug)]
pub enum Created {
    /// Created with `members` addresses and `groups` groups; `ignored` were neither.
    Done {
        members: usize,
        groups: usize,
        ignored: Vec<String>,
    },
    NameTaken,
    /// A group typed cannot be added: nothing was created.
    Groups(GroupProblem),
}

/// What adding or removing members came to.
#[derive(Debug)]
pub enum Changed {
    Done {
        list: List,
        changed: usize,
        total: i64,
        ignored: Vec<String>,
    },
    UnknownList,
    /// A group typed cannot be added: nothing was changed.
    Groups(GroupProblem),
}

/// A list's members, or why there are none to show.
#[derive(Debug)]
pub enum Shown {
    /// Its typed members, and its groups with their counts resolved live.
    Members(List, Vec<Member>, Vec<GroupCount>),
    UnknownList,
}

/// What deleting a list came to.
#[derive(Debug)]
pub enum Deleted {
    Done(List),
    /// Scheduled or running campaigns send to it (their names): nothing changed.
    InUse(List, Vec<String>),
    UnknownList,
}

/// Adding members, or removing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Add,
    Remove,
}

/// The list use cases, over the store.
pub struct Lists<'a> {
    pub db: &'a Db,
}

impl Lists<'_> {
    /// The tenant's lists with their member counts and group counts, by name.
    pub async fn all(&self, tenant: &str) -> Result<Vec<(List, i64, i64)>, StoreError> {
        let t = tenant.to_string();
        self.db
            .run(move |conn| {
                let groups = list_groups::counts(conn, &t)?;
                Ok(lists::all(conn, &t)?
                    .into_iter()
                    .map(|(l, n)| {
                        let g = groups.get(&l.id).copied().unwrap_or(0);
                        (l, n, g)
                    })
                    .collect())
            })
            .await
    }

    pub async fn named(&self, tenant: &str, name: &str) -> Result<Option<List>, StoreError> {
        let (t, n) = (tenant.to_string(), name.to_string());
        self.db.run(move |conn| lists::find(conn, &t, &n)).await
    }

    /// Creates a list from the addresses and groups in `members` (groups looked up in Graph
    /// first; what is neither is ignored).
    pub async fn create(
        &self,
        reach: &Reach,
        tenant: &str,
        actor: &str,
        name: &str,
        members: &str,
        now: DateTime<Utc>,
    ) -> Result<Created, StoreError> {
        let typed = members::split(members);
        if self.named(tenant, name).await?.is_some() {
            return Ok(Created::NameTaken);
        }
        let groups = match members::find_groups(reach, tenant, &typed.groups).await {
            Ok(groups) => groups,
            Err(problem) => return Ok(Created::Groups(problem)),
        };
        let (count, group_count) = (typed.emails.len(), groups.len());
        let (t, n, a, emails) = (
            tenant.to_string(),
            name.to_string(),
            actor.to_string(),
            typed.emails,
        );
        let created = self
            .db
            .run(move |conn| {
                conn.write_transaction(|conn| {
                    let Some(list) = lists::create(conn, &t, &n, &a, &emails, now)? else {
                        return Ok(None);
                    };
                    list_groups::add(conn, &list.id, &groups, now)?;
                    Ok(Some(list))
                })
            })
            .await?;
        Ok(match created {
            Some(_) => Created::Done {
                members: count,
                groups: group_count,
                ignored: typed.ignored,
            },
            None => Created::NameTaken,
        })
    }

    /// Adds or removes the addresses and groups in `members` (groups added are looked up in
    /// Graph first; removed ones by what was typed); answers how many changed and the new total
    /// of addresses and groups.
    pub async fn change(
        &self,
        reach: &Reach,
        tenant: &str,
        name: &str,
        change: Change,
        members: &str,
        now: DateTime<Utc>,
    ) -> Result<Changed, StoreError> {
        let typed = members::split(members);
        let Some(list) = self.named(tenant, name).await? else {
            return Ok(Changed::UnknownList);
        };
        let groups = match change {
            Change::Add => match members::find_groups(reach, tenant, &typed.groups).await {
                Ok(groups) => groups,
                Err(problem) => return Ok(Changed::Groups(problem)),
            },
            Change::Remove => Vec::new(),
        };
        let (id, emails, keys) = (list.id.clone(), typed.emails, typed.groups);
        let (changed, total) = self
            .db
            .run(move |conn| {
                conn.write_transaction(|conn| {
                    let changed = match change {
                        Change::Add => {
                            lists::add_members(conn, &id, &emails, now)?
                                + list_groups::add(conn, &id, &groups, now)?
                        }
                        Change::Remove => {
                            lists::remove_members(conn, &id, &emails)?
                                + list_groups::remove(conn, &id, &keys)?
                        }
                    };
                    let groups = list_groups::of_list(conn, &id)?.len() as i64;
                    Ok((changed, lists::member_count(conn, &id)? + groups))
                })
            })
            .await?;
        Ok(Changed::Done {
            list,
            changed,
            total,
            ignored: typed.ignored,
        })
    }

    /// The list's members, each with whether they installed herald, and, `with_groups`, its
    /// groups with their member and installed counts (resolved through Graph now; the chat
    /// shows them on the first page only).
    pub async fn show(
        &self,
        reach: &Reach,
        tenant: &str,
        name: &str,
        with_groups: bool,
    ) -> Result<Shown, StoreError> {
        let Some(list) = self.named(tenant, name).await? else {
            return Ok(Shown::UnknownList);
        };
        let (t, id) = (tenant.to_string(), list.id.clone());
        let members = self
            .db
            .run(move |conn| lists::members(conn, &t, &id, None))
            .await?;
        let groups = if with_groups {
            crate::audience::groups::counts(reach, self.db, tenant, &list.id).await?
        } else {
            Vec::new()
        };
        Ok(Shown::Members(list, members, groups))
    }

    /// Deletes a list no scheduled or running campaign uses.
    pub async fn delete(&self, tenant: &str, name: &str) -> Result<Deleted, StoreError> {
        let Some(list) = self.named(tenant, name).await? else {
            return Ok(Deleted::UnknownList);
        };
        let id = list.id.clone();
        Ok(
            match self.db.run(move |conn| lists::delete(conn, &id)).await? {
                lists::Deleted::Done => Deleted::Done(list),
                lists::Deleted::InUse(campaigns) => Deleted::InUse(list, campaigns),
                lists::Deleted::Gone => Deleted::UnknownList,
            },
        )
    }
}
