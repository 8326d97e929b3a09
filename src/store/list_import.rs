//! A list made from an imported file: created, or its members (and groups) replaced, in one
//! write transaction. A replaced list keeps its id, so the campaigns naming it go on sending to
//! it, now to its new members.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::lists::{self, List, LockMode};
use super::schema::{distribution_lists as l, list_groups as g, list_members as m};
use super::{Conn, StoreError};
use crate::run_on;

/// What importing made of the list.
#[derive(Debug, Clone)]
pub struct Replaced {
    pub list: List,
    /// Members it had before (`None`: it was created).
    pub previous: Option<i64>,
}

/// Makes the list `name` of `tenant` exactly `emails` (lower case, each once): creates it, or
/// replaces its members and drops its groups.
pub fn replace(
    conn: &mut Conn<'_>,
    tenant: &str,
    name: &str,
    created_by: &str,
    emails: &[String],
    now: DateTime<Utc>,
) -> Result<Replaced, StoreError> {
    let now_n = now.naive_utc();
    conn.write_transaction(|conn| {
        let key = super::name_key(name);
        // Created unless it exists (or another import creates it meanwhile: then replaced).
        let created = run_on!(conn, |c| diesel::insert_into(l::table)
            .values((
                l::id.eq(uuid::Uuid::now_v7().to_string()),
                l::tenant_id.eq(tenant),
                l::name.eq(name.trim()),
                l::name_key.eq(&key),
                l::created_by.eq(created_by),
                l::created_at.eq(now_n),
                l::updated_at.eq(now_n),
            ))
            .on_conflict_do_nothing()
            .execute(c))?
            == 1;
        let list = lists::find(conn, tenant, name)?.ok_or(diesel::result::Error::NotFound)?;
        // Held until commit: no campaign is saved naming it, nor is it deleted, meanwhile.
        lists::lock(conn, &list.id, LockMode::Delete)?;
        let before = lists::member_count(conn, &list.id)?;
        let id = list.id.clone();
        run_on!(conn, |c| diesel::delete(
            m::table.filter(m::list_id.eq(&id))
        )
        .execute(c))?;
        run_on!(conn, |c| diesel::delete(
            g::table.filter(g::list_id.eq(&id))
        )
        .execute(c))?;
        lists::add_members(conn, &id, emails, now)?;
        Ok(Replaced {
            list,
            previous: (!created).then_some(before),
        })
    })
}
