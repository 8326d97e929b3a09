//! The Entra ID groups a list names (`list_groups`), and which of herald's users a group's
//! members are. Graph is never called here: the groups come found, their members resolved.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{distribution_lists as l, list_groups as g, users as u};
use super::{Conn, StoreError};
use crate::run_on;

/// A group named in a list, as Graph described it when it was added.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = g)]
pub struct ListGroup {
    pub list_id: String,
    /// The group's object id.
    pub group_id: String,
    /// Its display name.
    pub name: String,
    pub mail: Option<String>,
    pub added_at: NaiveDateTime,
}

impl ListGroup {
    /// How the group is named to people: `group:` and its mail, else its object id.
    pub fn label(&self) -> String {
        format!("group:{}", self.mail.as_deref().unwrap_or(&self.group_id))
    }
}

/// A group found in Graph, to add to a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    pub group_id: String,
    pub name: String,
    pub mail: Option<String>,
}

/// Adds groups to a list (one already there is left as it is); returns how many were new.
pub fn add(
    conn: &mut Conn<'_>,
    list_id: &str,
    groups: &[NewGroup],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let now = now.naive_utc();
    let rows: Vec<_> = groups
        .iter()
        .map(|x| {
            (
                g::list_id.eq(list_id),
                g::group_id.eq(&x.group_id),
                g::name.eq(&x.name),
                g::mail.eq(x.mail.as_ref()),
                g::added_at.eq(now),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    let added = run_on!(conn, |c| diesel::insert_into(g::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(c))?;
    run_on!(conn, |c| diesel::update(l::table.find(list_id))
        .set(l::updated_at.eq(now))
        .execute(c))?;
    Ok(added)
}

/// Removes the groups of a list named by object id or mail (lower case); returns how many
/// were there.
pub fn remove(conn: &mut Conn<'_>, list_id: &str, keys: &[String]) -> Result<usize, StoreError> {
    if keys.is_empty() {
        return Ok(0);
    }
    let by_id = run_on!(conn, |c| diesel::delete(
        g::table
            .filter(g::list_id.eq(list_id))
            .filter(g::group_id.eq_any(keys))
    )
    .execute(c))?;
    let by_mail = run_on!(conn, |c| diesel::delete(
        g::table
            .filter(g::list_id.eq(list_id))
            .filter(g::mail.eq_any(keys))
    )
    .execute(c))?;
    Ok(by_id + by_mail)
}

/// The groups of a list, by name.
pub fn of_list(conn: &mut Conn<'_>, list_id: &str) -> Result<Vec<ListGroup>, StoreError> {
    Ok(run_on!(conn, |c| g::table
        .filter(g::list_id.eq(list_id))
        .order((g::name, g::group_id))
        .select(ListGroup::as_select())
        .load(c))?)
}

/// How many groups each list of `tenant` names (lists naming none are absent).
pub fn counts(conn: &mut Conn<'_>, tenant: &str) -> Result<HashMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = run_on!(conn, |c| g::table
        .inner_join(l::table)
        .filter(l::tenant_id.eq(tenant))
        .group_by(g::list_id)
        .select((g::list_id, diesel::dsl::count_star()))
        .load(c))?;
    Ok(rows.into_iter().collect())
}

/// Removes every group of a list (when the list is deleted).
pub fn clear(conn: &mut Conn<'_>, list_id: &str) -> Result<usize, StoreError> {
    Ok(run_on!(conn, |c| diesel::delete(
        g::table.filter(g::list_id.eq(list_id))
    )
    .execute(c))?)
}

/// A user of herald as a group member's match: whether they have herald installed (on any
/// channel) and the identity (UPN, else email) a list matches them by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub installed: bool,
    pub identity: Option<String>,
}

/// A user's object id, whether installed, UPN and email.
type UserRow = (Option<String>, bool, Option<String>, Option<String>);

/// Herald's users of `tenant` whose Entra object id is one of `ids`: object id (lower case) →
/// what is known of them. Of a person with several rows (one per channel), an installed one
/// wins.
pub fn by_object_id(
    conn: &mut Conn<'_>,
    tenant: &str,
    ids: &[String],
) -> Result<HashMap<String, Known>, StoreError> {
    let mut out: HashMap<String, Known> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<UserRow> = run_on!(conn, |c| u::table
            .filter(u::tenant_id.eq(tenant))
            .filter(u::aad_object_id.eq_any(chunk))
            .select((
                u::aad_object_id,
                u::installed,
                u::user_principal_name,
                u::email
            ))
            .load(c))?;
        for (id, installed, upn, email) in rows {
            let Some(id) = id else { continue };
            let known = Known {
                installed,
                identity: upn.or(email),
            };
            let entry = out.entry(id.to_lowercase()).or_insert(known.clone());
            if known.installed && !entry.installed {
                *entry = known;
            }
        }
    }
    Ok(out)
}

/// Which of `identities` (lower-case UPN or email) are users of `tenant` with herald installed
/// on any channel.
pub fn installed_identities(
    conn: &mut Conn<'_>,
    tenant: &str,
    identities: &[String],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut out = std::collections::HashSet::new();
    for chunk in identities.chunks(500) {
        let by_email: Vec<Option<String>> = run_on!(conn, |c| u::table
            .filter(u::tenant_id.eq(tenant))
            .filter(u::email.eq_any(chunk))
            .filter(u::installed.eq(true))
            .select(u::email)
            .load(c))?;
        let by_upn: Vec<Option<String>> = run_on!(conn, |c| u::table
            .filter(u::tenant_id.eq(tenant))
            .filter(u::user_principal_name.eq_any(chunk))
            .filter(u::installed.eq(true))
            .select(u::user_principal_name)
            .load(c))?;
        out.extend(by_email.into_iter().chain(by_upn).flatten());
    }
    Ok(out)
}
