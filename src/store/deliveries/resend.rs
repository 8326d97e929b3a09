//! Resends (`campaign resend`, `broadcast resend`): the failed sends of a campaign or a
//! broadcast, who among the people not installed at the time can be reached now, putting
//! failed sends back in the queue through [`DeliveryStatus::resend`], and what reports count
//! of repairs and resends.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::Operation;
use crate::domain::campaign::CampaignStatus;
use crate::domain::delivery::{DeliveryStatus, reason};
use crate::run_on;
use crate::store::schema::{
    broadcast_not_installed as bni, broadcasts as b, campaign_not_installed as cni, campaigns as c,
    deliveries as d, users as u,
};
use crate::store::{Conn, StoreError};

/// How many a resend reaches, and why the others are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResendCounts {
    /// Failed deliveries sent again.
    pub failed_again: usize,
    /// People not installed at the time who have herald now.
    pub newly_reached: usize,
    /// Failed deliveries left out: the recipient no longer has herald.
    pub unreachable: usize,
    /// People not installed at the time who still do not have herald.
    pub still_not_installed: usize,
}

impl ResendCounts {
    pub fn total(&self) -> usize {
        self.failed_again + self.newly_reached
    }
}

/// A failed send of the message(s) resent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedSend {
    pub id: i64,
    pub message_id: String,
    pub user_id: String,
    /// The recipient still has herald (a resend can reach them).
    pub reachable: bool,
}

/// The failed sends of `messages`, except those stopped by a recall, each with whether its
/// recipient is installed now.
pub fn failed_sends(
    conn: &mut Conn<'_>,
    messages: &[String],
) -> Result<Vec<FailedSend>, StoreError> {
    let rows: Vec<(i64, String, String, Option<String>, bool)> = run_on!(conn, |x| d::table
        .inner_join(u::table)
        .filter(d::message_id.eq_any(messages))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Failed.as_str()))
        .order(d::id)
        .select((d::id, d::message_id, d::user_id, d::failure, u::installed))
        .load(x))?;
    Ok(rows
        .into_iter()
        .filter(|r| r.3.as_deref() != Some(reason::RECALLED))
        .map(|(id, message_id, user_id, _, reachable)| FailedSend {
            id,
            message_id,
            user_id,
            reachable,
        })
        .collect())
}

/// Puts failed deliveries `ids` back in the queue, due at `due` (a campaign's recipients
/// planned there too, at the foot of the absence ladder), counting one more resend each and
/// giving each a fresh set of retries. Only failed rows move ([`DeliveryStatus::resend`]);
/// returns how many did.
pub fn requeue(
    conn: &mut Conn<'_>,
    ids: &[i64],
    due: DateTime<Utc>,
    planned: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let from: Vec<&str> = DeliveryStatus::ALL
        .into_iter()
        .filter(|s| DeliveryStatus::resend(*s).is_ok())
        .map(DeliveryStatus::as_str)
        .collect();
    let (due, planned, now) = (
        due.naive_utc(),
        planned.map(|p| p.naive_utc()),
        now.naive_utc(),
    );
    let mut moved = 0;
    for chunk in ids.chunks(500) {
        moved += run_on!(conn, |x| diesel::update(
            d::table
                .filter(d::id.eq_any(chunk))
                .filter(d::status.eq_any(&from))
        )
        .set((
            d::status.eq(DeliveryStatus::Pending.as_str()),
            d::resends.eq(d::resends + 1),
            d::attempts.eq(0),
            d::failure.eq(None::<String>),
            d::activity_id.eq(None::<String>),
            d::completed_at.eq(None::<NaiveDateTime>),
            d::next_attempt_at.eq(due),
            d::planned_at.eq(planned),
            d::ladder_step.eq(0),
            d::presence.eq(None::<String>),
            d::leased_by.eq(None::<String>),
            d::lease_expires_at.eq(None::<NaiveDateTime>),
            d::updated_at.eq(now),
        ))
        .execute(x))?;
    }
    if moved > 0 {
        crate::store::enqueued::enqueued(conn)?;
    }
    Ok(moved)
}

/// Of `identities` (emails or UPNs, lower case) not reached at the time, those a user of
/// `tenant` now has herald for on `channel` and who have no send of `messages` yet: identity
/// and user id, each user once.
pub fn reachable_now(
    conn: &mut Conn<'_>,
    tenant: &str,
    channel: &str,
    identities: &[String],
    messages: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    let mut by_identity: HashMap<String, String> = HashMap::new();
    // Skype users belong to no tenant (see `store::skype`).
    let skype = channel == crate::domain::skype::CHANNEL;
    if skype {
        by_identity = crate::store::skype::installed_by_identity(conn, identities)?;
    }
    for chunk in identities.chunks(500).filter(|_| !skype) {
        // Email and UPN looked up separately: each walks its own index.
        let by_email: Vec<(String, Option<String>)> = run_on!(conn, |x| u::table
            .filter(u::tenant_id.eq(tenant))
            .filter(u::channel_id.eq(channel))
            .filter(u::installed.eq(true))
            .filter(u::email.eq_any(chunk))
            .select((u::id, u::email))
            .load(x))?;
        let by_upn: Vec<(String, Option<String>)> = run_on!(conn, |x| u::table
            .filter(u::tenant_id.eq(tenant))
            .filter(u::channel_id.eq(channel))
            .filter(u::installed.eq(true))
            .filter(u::user_principal_name.eq_any(chunk))
            .select((u::id, u::user_principal_name))
            .load(x))?;
        for (id, identity) in by_email.into_iter().chain(by_upn) {
            if let Some(identity) = identity {
                by_identity.entry(identity).or_insert(id);
            }
        }
    }
    let ids: Vec<String> = by_identity.values().cloned().collect();
    let mut served: HashSet<String> = HashSet::new();
    for chunk in ids.chunks(500) {
        let have: Vec<String> = run_on!(conn, |x| d::table
            .filter(d::message_id.eq_any(messages))
            .filter(d::operation.eq(Operation::Send.as_str()))
            .filter(d::user_id.eq_any(chunk))
            .select(d::user_id)
            .load(x))?;
        served.extend(have);
    }
    let mut out = Vec::new();
    for identity in identities {
        if let Some(id) = by_identity.get(identity)
            && served.insert(id.clone())
        {
            out.push((identity.clone(), id.clone()));
        }
    }
    Ok(out)
}

/// Marks the sends of `message_id` to `users`, just enqueued by a resend, as resent once.
pub fn mark_resent(
    conn: &mut Conn<'_>,
    message_id: &str,
    users: &[String],
) -> Result<usize, StoreError> {
    let mut n = 0;
    for chunk in users.chunks(500) {
        n += run_on!(conn, |x| diesel::update(
            d::table
                .filter(d::message_id.eq(message_id))
                .filter(d::operation.eq(Operation::Send.as_str()))
                .filter(d::user_id.eq_any(chunk))
        )
        .set(d::resends.eq(1))
        .execute(x))?;
    }
    Ok(n)
}

/// The campaign's list members not installed when it started.
pub fn campaign_not_installed(
    conn: &mut Conn<'_>,
    campaign_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(run_on!(conn, |x| cni::table
        .filter(cni::campaign_id.eq(campaign_id))
        .order(cni::email)
        .select(cni::email)
        .load(x))?)
}

/// People not installed when the campaign started, reached by a resend: no longer counted
/// as not installed, counted as targeted.
pub fn campaign_reached(
    conn: &mut Conn<'_>,
    campaign_id: &str,
    identities: &[String],
) -> Result<(), StoreError> {
    let mut moved = 0;
    for chunk in identities.chunks(500) {
        moved += run_on!(conn, |x| diesel::delete(
            cni::table
                .filter(cni::campaign_id.eq(campaign_id))
                .filter(cni::email.eq_any(chunk))
        )
        .execute(x))?;
    }
    let moved = moved as i32;
    run_on!(conn, |x| diesel::update(c::table.find(campaign_id))
        .set((
            c::targeted.eq(c::targeted + moved),
            c::not_installed.eq(c::not_installed - moved),
        ))
        .execute(x))?;
    Ok(())
}

/// People not installed when the broadcast went out, reached by a resend (see
/// [`campaign_reached`]).
pub fn broadcast_reached(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    identities: &[String],
) -> Result<(), StoreError> {
    let mut moved = 0;
    for chunk in identities.chunks(500) {
        moved += run_on!(conn, |x| diesel::delete(
            bni::table
                .filter(bni::broadcast_id.eq(broadcast_id))
                .filter(bni::email.eq_any(chunk))
        )
        .execute(x))?;
    }
    let moved = moved as i32;
    run_on!(conn, |x| diesel::update(b::table.find(broadcast_id))
        .set((
            b::targeted.eq(b::targeted + moved),
            b::not_installed.eq(b::not_installed - moved),
        ))
        .execute(x))?;
    Ok(())
}

/// A completed campaign a resend sends again: running once more ([`CampaignStatus::reopen`]
/// judges the move; a scheduled one is refused), until nothing is pending. `false` when it
/// was running already (nothing to do) or moved meanwhile.
pub fn reopen_campaign(
    conn: &mut Conn<'_>,
    campaign_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let status: Option<String> = run_on!(conn, |x| c::table
        .find(campaign_id)
        .select(c::status)
        .first(x)
        .optional())?;
    match status.as_deref().map(CampaignStatus::parse) {
        Some(Ok(CampaignStatus::Running)) | None => return Ok(false),
        Some(Ok(from)) => CampaignStatus::reopen(from)?,
        Some(Err(e)) => {
            return Err(StoreError::ForbiddenTransition {
                from: e.0,
                to: CampaignStatus::Running.to_string(),
            });
        }
    }
    let n = run_on!(conn, |x| diesel::update(
        c::table
            .filter(c::id.eq(campaign_id))
            .filter(c::status.eq(CampaignStatus::Completed.as_str()))
    )
    .set((
        c::status.eq(CampaignStatus::Running.as_str()),
        c::completed_at.eq(None::<NaiveDateTime>),
        c::updated_at.eq(now.naive_utc()),
    ))
    .execute(x))?;
    Ok(n == 1)
}

/// Repairs (chats opened again) and resent recipients among the sends of `messages`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tallies {
    pub repairs: i64,
    /// Sends resent at least once.
    pub resent: i64,
    /// Of those, the ones delivered.
    pub resent_delivered: i64,
}

pub fn tallies(conn: &mut Conn<'_>, messages: &[String]) -> Result<Tallies, StoreError> {
    let rows: Vec<(i32, i32, String)> = run_on!(conn, |x| d::table
        .filter(d::message_id.eq_any(messages))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::repairs.gt(0).or(d::resends.gt(0)))
        .select((d::repairs, d::resends, d::status))
        .load(x))?;
    let mut t = Tallies::default();
    for (repairs, resends, status) in rows {
        t.repairs += i64::from(repairs);
        if resends > 0 {
            t.resent += 1;
            if status == DeliveryStatus::Delivered.as_str() {
                t.resent_delivered += 1;
            }
        }
    }
    Ok(t)
}

/// Whether the broadcast asked herald to install itself for those who lack it.
pub fn broadcast_installs(conn: &mut Conn<'_>, broadcast_id: &str) -> Result<bool, StoreError> {
    Ok(run_on!(conn, |x| b::table
        .find(broadcast_id)
        .select(b::install)
        .first::<bool>(x)
        .optional())?
    .unwrap_or(false))
}
