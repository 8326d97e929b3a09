//! Lists of recipients: create, add, remove, show, delete, and all of a tenant's lists. Each
//! use case reads top to bottom and answers a typed result; `bot/lists.rs` says it in the chat.

use chrono::{DateTime, Utc};

use crate::domain::commands::parse_emails;
use crate::store::lists::{self, List, Member};
use crate::store::{Db, StoreError};

pub mod import;

/// What creating a list came to.
#[derive(Debug)]
pub enum Created {
    /// Created with `members` addresses; `ignored` were not e-mail addresses.
    Done {
        members: usize,
        ignored: Vec<String>,
    },
    NameTaken,
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
}

/// A list's members, or why there are none to show.
#[derive(Debug)]
pub enum Shown {
    Members(List, Vec<Member>),
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
    /// The tenant's lists with their member counts, by name.
    pub async fn all(&self, tenant: &str) -> Result<Vec<(List, i64)>, StoreError> {
        let t = tenant.to_string();
        self.db.run(move |conn| lists::all(conn, &t)).await
    }

    pub async fn named(&self, tenant: &str, name: &str) -> Result<Option<List>, StoreError> {
        let (t, n) = (tenant.to_string(), name.to_string());
        self.db.run(move |conn| lists::find(conn, &t, &n)).await
    }

    /// Creates a list from the addresses in `members` (what is not an address is ignored).
    pub async fn create(
        &self,
        tenant: &str,
        actor: &str,
        name: &str,
        members: &str,
        now: DateTime<Utc>,
    ) -> Result<Created, StoreError> {
        let (good, ignored) = parse_emails(members);
        let emails: Vec<String> = good.iter().map(|e| e.as_str().to_string()).collect();
        let count = emails.len();
        let (t, n, a) = (tenant.to_string(), name.to_string(), actor.to_string());
        let created = self
            .db
            .run(move |conn| lists::create(conn, &t, &n, &a, &emails, now))
            .await?;
        Ok(match created {
            Some(_) => Created::Done {
                members: count,
                ignored,
            },
            None => Created::NameTaken,
        })
    }

    /// Adds or removes the addresses in `members`; answers how many changed and the new total.
    pub async fn change(
        &self,
        tenant: &str,
        name: &str,
        change: Change,
        members: &str,
        now: DateTime<Utc>,
    ) -> Result<Changed, StoreError> {
        let (good, ignored) = parse_emails(members);
        let emails: Vec<String> = good.iter().map(|e| e.as_str().to_string()).collect();
        let Some(list) = self.named(tenant, name).await? else {
            return Ok(Changed::UnknownList);
        };
        let id = list.id.clone();
        let (changed, total) = self
            .db
            .run(move |conn| {
                let changed = match change {
                    Change::Add => lists::add_members(conn, &id, &emails, now)?,
                    Change::Remove => lists::remove_members(conn, &id, &emails)?,
                };
                Ok((changed, lists::member_count(conn, &id)?))
            })
            .await?;
        Ok(Changed::Done {
            list,
            changed,
            total,
            ignored,
        })
    }

    /// The list's members, each with whether they installed herald.
    pub async fn show(&self, tenant: &str, name: &str) -> Result<Shown, StoreError> {
        let Some(list) = self.named(tenant, name).await? else {
            return Ok(Shown::UnknownList);
        };
        let (t, id) = (tenant.to_string(), list.id.clone());
        let members = self
            .db
            .run(move |conn| lists::members(conn, &t, &id, None))
            .await?;
        Ok(Shown::Members(list, members))
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
