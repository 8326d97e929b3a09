//! The audit log: every admin action and every refusal, with who, where, what and how it ended.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::audit_log as a;
use super::{Conn, StoreError};
use crate::run_on;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = a)]
pub struct Entry {
    pub id: String,
    pub tenant_id: String,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub at: NaiveDateTime,
}

pub fn record(
    conn: &mut Conn<'_>,
    tenant: &str,
    actor: &str,
    action: &str,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    run_on!(conn, |c| diesel::insert_into(a::table)
        .values((
            a::id.eq(uuid::Uuid::now_v7().to_string()),
            a::tenant_id.eq(tenant),
            a::actor.eq(actor),
            a::action.eq(action),
            a::outcome.eq(outcome),
            a::at.eq(now.naive_utc()),
        ))
        .execute(c))?;
    Ok(())
}

/// The latest entries of a tenant, newest first.
pub fn recent(conn: &mut Conn<'_>, tenant: &str, limit: i64) -> Result<Vec<Entry>, StoreError> {
    Ok(run_on!(conn, |c| a::table
        .filter(a::tenant_id.eq(tenant))
        .order((a::at.desc(), a::id.desc()))
        .limit(limit)
        .select(Entry::as_select())
        .load(c))?)
}

/// One page of a tenant's entries, newest first (`page` from 1), and how many there are.
pub fn page(
    conn: &mut Conn<'_>,
    tenant: &str,
    page: u32,
    per_page: u32,
) -> Result<(Vec<Entry>, i64), StoreError> {
    let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
    let entries = run_on!(conn, |c| a::table
        .filter(a::tenant_id.eq(tenant))
        .order((a::at.desc(), a::id.desc()))
        .limit(i64::from(per_page))
        .offset(offset)
        .select(Entry::as_select())
        .load(c))?;
    let total = run_on!(conn, |c| a::table
        .filter(a::tenant_id.eq(tenant))
        .count()
        .get_result(c))?;
    Ok((entries, total))
}

/// The latest `limit` entries of every tenant at or after `since` (all, without it), newest
/// first: what `herald audit` prints.
pub fn latest(
    conn: &mut Conn<'_>,
    since: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    // Every entry is later than 1970 (and PostgreSQL refuses `NaiveDateTime::MIN`).
    let since = since.unwrap_or(DateTime::UNIX_EPOCH).naive_utc();
    Ok(run_on!(conn, |c| a::table
        .filter(a::at.ge(since))
        .order((a::at.desc(), a::id.desc()))
        .limit(limit)
        .select(Entry::as_select())
        .load(c))?)
}
