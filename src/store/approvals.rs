//! Approval requests, as stored: one row per request (a campaign's, or a broadcast held as its
//! author typed it), decided once by a conditional update, so two approvers pressing at once
//! give one decision. These functions answer queries and record facts; what to send is
//! `crate::approvals`' business.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::campaigns::{self, Campaign};
use super::schema::{approvals as a, campaigns as c, users as u};
use super::users::User;
use super::{Conn, StoreError};
use crate::domain::approval::{RequestStatus, Subject};
use crate::domain::campaign::CampaignStatus;
use crate::run_on;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = a)]
pub struct Approval {
    pub id: String,
    pub tenant_id: String,
    #[diesel(deserialize_as = String)]
    pub subject: SubjectWord,
    pub campaign_id: Option<String>,
    /// A held broadcast: the request as its author typed it (JSON).
    pub held: Option<String>,
    pub title: String,
    pub author_id: String,
    pub author_actor: String,
    pub asked: i32,
    #[diesel(deserialize_as = String)]
    pub status: StatusWord,
    pub decided_by: Option<String>,
    pub decided_by_name: Option<String>,
    pub reason: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A stored subject, read back typed (an unknown word reads as a broadcast's, which holds its
/// own request and so can never schedule a campaign by mistake).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectWord(pub Subject);

impl From<String> for SubjectWord {
    fn from(s: String) -> SubjectWord {
        SubjectWord(Subject::parse(&s).unwrap_or(Subject::Broadcast))
    }
}

/// A stored status, read back typed (an unknown word reads as superseded: nobody decides it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusWord(pub RequestStatus);

impl From<String> for StatusWord {
    fn from(s: String) -> StatusWord {
        StatusWord(RequestStatus::parse(&s).unwrap_or(RequestStatus::Superseded))
    }
}

/// A request to record.
#[derive(Debug, Clone)]
pub struct NewApproval<'a> {
    pub tenant_id: &'a str,
    pub subject: Subject,
    pub campaign_id: Option<&'a str>,
    pub held: Option<&'a str>,
    pub title: &'a str,
    pub author_id: &'a str,
    pub author_actor: &'a str,
    pub asked: i32,
}

/// Records a pending request; returns it.
pub fn insert(
    conn: &mut Conn<'_>,
    new: &NewApproval<'_>,
    now: DateTime<Utc>,
) -> Result<Approval, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    run_on!(conn, |x| diesel::insert_into(a::table)
        .values((
            a::id.eq(&id),
            a::tenant_id.eq(new.tenant_id),
            a::subject.eq(new.subject.as_str()),
            a::campaign_id.eq(new.campaign_id),
            a::held.eq(new.held),
            a::title.eq(new.title),
            a::author_id.eq(new.author_id),
            a::author_actor.eq(new.author_actor),
            a::asked.eq(new.asked),
            a::status.eq(RequestStatus::Pending.as_str()),
            a::created_at.eq(now.naive_utc()),
        ))
        .execute(x))?;
    get(conn, &id)?.ok_or(StoreError::Query(diesel::result::Error::NotFound))
}

pub fn get(conn: &mut Conn<'_>, id: &str) -> Result<Option<Approval>, StoreError> {
    Ok(run_on!(conn, |x| a::table
        .find(id)
        .select(Approval::as_select())
        .first(x)
        .optional())?)
}

/// Decides a pending request: `true` for the one decision that wins, `false` when it was
/// already decided (or superseded). One conditional update: of two approvers pressing at once,
/// exactly one wins on either backend.
pub fn decide(
    conn: &mut Conn<'_>,
    id: &str,
    to: RequestStatus,
    by: &User,
    by_name: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if !RequestStatus::Pending.may_become(to) {
        return Ok(false);
    }
    let n = run_on!(conn, |x| diesel::update(
        a::table
            .filter(a::id.eq(id))
            .filter(a::status.eq(RequestStatus::Pending.as_str()))
    )
    .set((
        a::status.eq(to.as_str()),
        a::decided_by.eq(&by.id),
        a::decided_by_name.eq(by_name),
        a::reason.eq(reason),
        a::decided_at.eq(now.naive_utc()),
    ))
    .execute(x))?;
    Ok(n == 1)
}

/// Notes what an approved request came to (`broadcast #3`, `start passed`).
pub fn set_outcome(conn: &mut Conn<'_>, id: &str, outcome: &str) -> Result<(), StoreError> {
    run_on!(conn, |x| diesel::update(a::table.filter(a::id.eq(id)))
        .set(a::outcome.eq(outcome))
        .execute(x))?;
    Ok(())
}

/// Supersedes the campaign's pending requests (it was edited or its approval turned off):
/// their cards no longer decide anything. Returns how many.
pub fn supersede_campaign(
    conn: &mut Conn<'_>,
    campaign_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(run_on!(conn, |x| diesel::update(
        a::table
            .filter(a::campaign_id.eq(campaign_id))
            .filter(a::status.eq(RequestStatus::Pending.as_str()))
    )
    .set((
        a::status.eq(RequestStatus::Superseded.as_str()),
        a::decided_at.eq(now.naive_utc()),
    ))
    .execute(x))?)
}

/// Moves a campaign not yet started to `to` (awaiting approval, scheduled or rejected) when the
/// lifecycle allows it and it still stands where it was read; staying put is no move. Any
/// pending request of it is superseded when it is saved again (`to` awaiting or scheduled).
/// Returns the row as it stands, or `None` when it is gone or was moved meanwhile.
pub fn move_campaign(
    conn: &mut Conn<'_>,
    id: &str,
    to: CampaignStatus,
    now: DateTime<Utc>,
) -> Result<Option<Campaign>, StoreError> {
    let Some(current) = campaigns::get(conn, id)? else {
        return Ok(None);
    };
    if to != CampaignStatus::Rejected {
        supersede_campaign(conn, id, now)?;
    }
    if current.status == to {
        return Ok(Some(current));
    }
    CampaignStatus::transition(current.status, to)?;
    let n = run_on!(conn, |x| diesel::update(
        c::table
            .filter(c::id.eq(id))
            .filter(c::status.eq(current.status.as_str()))
    )
    .set((c::status.eq(to.as_str()), c::updated_at.eq(now.naive_utc())))
    .execute(x))?;
    if n == 0 {
        return Ok(None);
    }
    campaigns::get(conn, id)
}

/// The installed Teams users of `tenant` known by one of `identities` (lower-case object ids
/// or UPNs), each once, by id.
pub fn users_known_as(
    conn: &mut Conn<'_>,
    tenant: &str,
    identities: &[String],
) -> Result<Vec<User>, StoreError> {
    // Object id and UPN looked up separately: each walks its own index.
    let mut found: Vec<User> = run_on!(conn, |x| u::table
        .filter(u::tenant_id.eq(tenant))
        .filter(u::aad_object_id.eq_any(identities))
        .filter(u::installed.eq(true))
        .filter(u::channel_id.eq(super::broadcasts::CHANNEL))
        .select(User::as_select())
        .load(x))?;
    let by_upn: Vec<User> = run_on!(conn, |x| u::table
        .filter(u::tenant_id.eq(tenant))
        .filter(u::user_principal_name.eq_any(identities))
        .filter(u::installed.eq(true))
        .filter(u::channel_id.eq(super::broadcasts::CHANNEL))
        .select(User::as_select())
        .load(x))?;
    found.extend(by_upn);
    found.sort_by(|x, y| x.id.cmp(&y.id));
    found.dedup_by(|x, y| x.id == y.id);
    Ok(found)
}

/// The tenant's latest requests, newest first.
pub fn recent(conn: &mut Conn<'_>, tenant: &str, limit: i64) -> Result<Vec<Approval>, StoreError> {
    Ok(run_on!(conn, |x| a::table
        .filter(a::tenant_id.eq(tenant))
        .order((a::created_at.desc(), a::id.desc()))
        .limit(limit)
        .select(Approval::as_select())
        .load(x))?)
}
