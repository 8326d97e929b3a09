//! Distribution lists: per tenant, named case-insensitively, members by email or UPN.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{distribution_lists as l, list_members as m, users as u};
use super::{Conn, StoreError};
use crate::run_on;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = l)]
pub struct List {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub name_key: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn find(conn: &mut Conn<'_>, tenant: &str, name: &str) -> Result<Option<List>, StoreError> {
    let k = super::name_key(name);
    Ok(run_on!(conn, |c| l::table
        .filter(l::tenant_id.eq(tenant))
        .filter(l::name_key.eq(&k))
        .select(List::as_select())
        .first(c)
        .optional())?)
}

/// Creates a list with its first members; `None` when the name is taken in this tenant.
pub fn create(
    conn: &mut Conn<'_>,
    tenant: &str,
    name: &str,
    created_by: &str,
    emails: &[String],
    now: DateTime<Utc>,
) -> Result<Option<List>, StoreError> {
    let now_n = now.naive_utc();
    conn.write_transaction(|conn| {
        let id = uuid::Uuid::now_v7().to_string();
        let k = super::name_key(name);
        let inserted = run_on!(conn, |c| diesel::insert_into(l::table)
            .values((
                l::id.eq(&id),
                l::tenant_id.eq(tenant),
                l::name.eq(name.trim()),
                l::name_key.eq(&k),
                l::created_by.eq(created_by),
                l::created_at.eq(now_n),
                l::updated_at.eq(now_n),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 0 {
            return Ok(None);
        }
        add_members(conn, &id, emails, now)?;
        find(conn, tenant, name)
    })
}

/// Adds members (already-present ones are left as they are); returns how many were new.
pub fn add_members(
    conn: &mut Conn<'_>,
    list_id: &str,
    emails: &[String],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let now = now.naive_utc();
    let mut added = 0;
    for chunk in emails.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|e| {
                (
                    m::list_id.eq(list_id),
                    m::email.eq(e.as_str()),
                    m::added_at.eq(now),
                )
            })
            .collect();
        added += run_on!(conn, |c| diesel::insert_into(m::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    run_on!(conn, |c| diesel::update(l::table.find(list_id))
        .set(l::updated_at.eq(now))
        .execute(c))?;
    Ok(added)
}

/// Removes members; returns how many were there.
pub fn remove_members(
    conn: &mut Conn<'_>,
    list_id: &str,
    emails: &[String],
) -> Result<usize, StoreError> {
    Ok(run_on!(conn, |c| diesel::delete(
        m::table
            .filter(m::list_id.eq(list_id))
            .filter(m::email.eq_any(emails))
    )
    .execute(c))?)
}

/// What deleting a list came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    Done,
    /// Scheduled or running campaigns send to it (their names): nothing was changed.
    InUse(Vec<String>),
    /// It was already gone.
    Gone,
}

/// Deletes a list and its members, unless a campaign not yet completed uses it. The check
/// and the delete are one write transaction that first locks the list's row, and a campaign is
/// saved only under a share lock of its list ([`lock`]): whichever commits first, the other
/// sees it, so no campaign is left naming a deleted list.
pub fn delete(conn: &mut Conn<'_>, list_id: &str) -> Result<Deleted, StoreError> {
    use super::schema::campaigns as c;
    use crate::domain::campaign::CampaignStatus;
    conn.write_transaction(|conn| {
        if !lock(conn, list_id, LockMode::Delete)? {
            return Ok(Deleted::Gone);
        }
        let users: Vec<String> = run_on!(conn, |x| c::table
            .filter(c::list_id.eq(list_id))
            .filter(c::status.ne(CampaignStatus::Completed.as_str()))
            .order(c::name_key)
            .select(c::name)
            .load(x))?;
        if !users.is_empty() {
            return Ok(Deleted::InUse(users));
        }
        run_on!(conn, |c| diesel::delete(
            m::table.filter(m::list_id.eq(list_id))
        )
        .execute(c))?;
        run_on!(conn, |c| diesel::delete(l::table.find(list_id)).execute(c))?;
        Ok(Deleted::Done)
    })
}

/// Why a list's row is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// A campaign is saved naming it (shared with other savers).
    Use,
    /// It is about to be deleted (exclusive).
    Delete,
}

/// Locks a list's row until the end of the current transaction; false when there is no such
/// list. On PostgreSQL a row lock; on SQLite write transactions already run one at a time.
pub fn lock(conn: &mut Conn<'_>, list_id: &str, mode: LockMode) -> Result<bool, StoreError> {
    let q = l::table.find(list_id).select(l::id);
    let found: Option<String> = match (conn, mode) {
        (Conn::Postgres(c), LockMode::Use) => q.for_share().first(*c).optional()?,
        (Conn::Postgres(c), LockMode::Delete) => q.for_update().first(*c).optional()?,
        (Conn::Sqlite(c), _) => q.first(*c).optional()?,
    };
    Ok(found.is_some())
}

/// A list's name by id.
pub fn name_of(conn: &mut Conn<'_>, list_id: &str) -> Result<Option<String>, StoreError> {
    Ok(run_on!(conn, |c| l::table
        .find(list_id)
        .select(l::name)
        .first::<String>(c)
        .optional())?)
}

pub fn member_count(conn: &mut Conn<'_>, list_id: &str) -> Result<i64, StoreError> {
    Ok(run_on!(conn, |c| m::table
        .filter(m::list_id.eq(list_id))
        .count()
        .get_result(c))?)
}

/// Every list of a tenant with its member count, by name.
pub fn all(conn: &mut Conn<'_>, tenant: &str) -> Result<Vec<(List, i64)>, StoreError> {
    let lists: Vec<List> = run_on!(conn, |c| l::table
        .filter(l::tenant_id.eq(tenant))
        .order(l::name_key)
        .select(List::as_select())
        .load(c))?;
    let mut out = Vec::with_capacity(lists.len());
    for list in lists {
        let n = member_count(conn, &list.id)?;
        out.push((list, n));
    }
    Ok(out)
}

/// A member and whether they resolve to a user who installed the bot (on `channel`, if given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub email: String,
    pub installed: bool,
    /// The installed user's last known availability (Graph's word); `None`: never observed.
    pub presence: Option<String>,
}

/// Members, by email, each marked installed or not. A member matches a user of the tenant by
/// email or UPN (both kept in lower case), or a Skype user (no tenant) by those or `skype:<id>`.
pub fn members(
    conn: &mut Conn<'_>,
    tenant: &str,
    list_id: &str,
    channel: Option<&str>,
) -> Result<Vec<Member>, StoreError> {
    let emails: Vec<String> = run_on!(conn, |c| m::table
        .filter(m::list_id.eq(list_id))
        .order(m::email)
        .select(m::email)
        .load(c))?;
    let mut installed = installed_by_identity(conn, tenant, &emails, channel)?;
    if channel.is_none_or(|c| c == crate::domain::skype::CHANNEL) {
        // The tenant's own Teams user wins over a Skype profile claiming the same email.
        for (identity, id) in super::skype::installed_by_identity(conn, &emails)? {
            installed.entry(identity).or_insert(id);
        }
    }
    let ids: Vec<&String> = installed.values().collect();
    let mut presence = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let found: Vec<(String, Option<String>)> = run_on!(conn, |c| u::table
            .filter(u::id.eq_any(chunk))
            .filter(u::presence_availability.is_not_null())
            .select((u::id, u::presence_availability))
            .load(c))?;
        presence.extend(found);
    }
    Ok(emails
        .into_iter()
        .map(|email| {
            let user = installed.get(&email);
            Member {
                installed: user.is_some(),
                presence: user.and_then(|id| presence.get(id).cloned().flatten()),
                email,
            }
        })
        .collect())
}

/// The list's audience on `channel`: ids of users of the tenant (on Skype, of no tenant: see
/// [`super::skype`]) who installed the bot there and
/// match a member, or one of the `extra` identities its groups add, by email or UPN (each once),
/// and the members who match nobody installed.
pub fn resolve(
    conn: &mut Conn<'_>,
    tenant: &str,
    list_id: &str,
    channel: &str,
    extra: &[String],
) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let mut emails: Vec<String> = run_on!(conn, |c| m::table
        .filter(m::list_id.eq(list_id))
        .order(m::email)
        .select(m::email)
        .load(c))?;
    // Identities its groups add (already lower case); each is looked at once.
    let typed: std::collections::HashSet<String> = emails.iter().cloned().collect();
    let mut added = std::collections::HashSet::new();
    emails.extend(
        extra
            .iter()
            .filter(|e| !typed.contains(*e) && added.insert((*e).clone()))
            .cloned(),
    );
    // Skype users belong to no tenant: a Skype campaign reaches them wherever its list is.
    let by_identity = if channel == crate::domain::skype::CHANNEL {
        super::skype::installed_by_identity(conn, &emails)?
    } else {
        installed_by_identity(conn, tenant, &emails, Some(channel))?
    };
    let mut users = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut missing = Vec::new();
    for email in emails {
        match by_identity.get(&email) {
            Some(id) => {
                if seen.insert(id.clone()) {
                    users.push(id.clone());
                }
            }
            None => missing.push(email),
        }
    }
    Ok((users, missing))
}

/// Users of `tenant` who installed the bot (on `channel`, if given) and whose email or UPN is
/// one of `emails`: identity → user id.
fn installed_by_identity(
    conn: &mut Conn<'_>,
    tenant: &str,
    emails: &[String],
    channel: Option<&str>,
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut by_identity = std::collections::HashMap::new();
    for chunk in emails.chunks(500) {
        // Email and UPN looked up separately: each then walks its own (tenant, column) index,
        // where an OR of the two makes SQLite scan every user of the tenant.
        let by_email: Vec<(String, Option<String>, String)> = run_on!(conn, |c| u::table
            .filter(u::tenant_id.eq(tenant))
            .filter(u::email.eq_any(chunk))
            .filter(u::installed.eq(true))
            .select((u::id, u::email, u::channel_id))
            .load(c))?;
        let by_upn: Vec<(String, Option<String>, String)> = run_on!(conn, |c| u::table
            .filter(u::tenant_id.eq(tenant))
            .filter(u::user_principal_name.eq_any(chunk))
            .filter(u::installed.eq(true))
            .select((u::id, u::user_principal_name, u::channel_id))
            .load(c))?;
        for (id, identity, ch) in by_email.into_iter().chain(by_upn) {
            if channel.is_some_and(|want| want != ch) {
                continue;
            }
            if let Some(identity) = identity {
                by_identity.insert(identity, id);
            }
        }
    }
    Ok(by_identity)
}
