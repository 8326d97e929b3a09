//! What reports read: per-recipient facts, clicks, and the moments for the chart. A report
//! covers the messages of one campaign or broadcast: those whose sends reach recipients, and
//! (for broadcasts) the read cards that replace them, whose links count too.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    campaign_reads as cr, deliveries as d, link_clicks as k, outbound_messages as m,
};
use super::{Conn, StoreError};
use crate::domain::delivery::DeliveryStatus;
use crate::run_on;

mod rows;
pub mod select;

pub use super::engagement::RecipientEngagement;
pub use super::figures::Engagement;
pub use rows::{
    CHUNK, RecipientPresence, RecipientRow, Report, not_installed_row, recipients, sends_after,
};

/// Per person: (first click, clicks), over every delivery of `messages`, for the people
/// `users` (everyone for `None`).
fn clicks_by_user(
    conn: &mut Conn<'_>,
    messages: &[String],
    users: Option<&[String]>,
) -> Result<HashMap<String, (NaiveDateTime, i64)>, StoreError> {
    let rows: Vec<(String, NaiveDateTime, i32)> = run_on!(conn, |c| {
        let mut q = k::table
            .inner_join(d::table)
            .filter(d::message_id.eq_any(messages))
            .select((d::user_id, k::first_at, k::clicks))
            .into_boxed();
        if let Some(users) = users {
            q = q.filter(d::user_id.eq_any(users));
        }
        q.load(c)
    })?;
    let mut by_user: HashMap<String, (NaiveDateTime, i64)> = HashMap::new();
    for (user, first, n) in rows {
        let e = by_user.entry(user).or_insert((first, 0));
        e.0 = e.0.min(first);
        e.1 += i64::from(n);
    }
    Ok(by_user)
}

/// Clicks on `messages`: counted, or as folded before retention purged them.
pub fn engagement(conn: &mut Conn<'_>, messages: &[String]) -> Result<Engagement, StoreError> {
    if let Some(folded) = super::folded::folded_engagement(conn, messages)? {
        return Ok(folded);
    }
    let by_user = clicks_by_user(conn, messages, None)?;
    Ok(Engagement {
        people: by_user.len() as i64,
        clicks: by_user.values().map(|(_, n)| n).sum(),
    })
}

/// When each send was delivered, and when each person first clicked: the chart's two series.
pub fn timeline(
    conn: &mut Conn<'_>,
    sends: &[String],
    all: &[String],
) -> Result<(Vec<NaiveDateTime>, Vec<NaiveDateTime>), StoreError> {
    let mut delivered: Vec<NaiveDateTime> = run_on!(conn, |c| d::table
        .filter(d::message_id.eq_any(sends))
        .filter(d::operation.eq("send"))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .select(d::completed_at)
        .load::<Option<NaiveDateTime>>(c))?
    .into_iter()
    .flatten()
    .collect();
    delivered.sort();
    let mut clicked: Vec<NaiveDateTime> = clicks_by_user(conn, all, None)?
        .into_values()
        .map(|(first, _)| first)
        .collect();
    clicked.sort();
    Ok((delivered, clicked))
}

/// What one report covers.
#[derive(Debug, Clone)]
pub struct Scope {
    pub title: String,
    /// Messages whose sends reach recipients.
    pub sends: Vec<String>,
    /// Every message whose links count (the sends, and for broadcasts the read cards).
    pub all: Vec<String>,
    /// Where reads are recorded.
    pub reads_of: Option<ReadsOf>,
    /// Members not installed, with Graph's reason when herald's install was refused.
    pub not_installed: Vec<(String, Option<String>)>,
    /// Recipients plus members not installed.
    pub audience: i64,
}

impl Scope {
    /// What the report's rows are read from.
    pub fn report(&self) -> Report<'_> {
        Report {
            sends: &self.sends,
            all: &self.all,
            reads_of: self.reads_of.as_ref(),
        }
    }
}

pub fn campaign_scope(conn: &mut Conn<'_>, id: &str) -> Result<Option<Scope>, StoreError> {
    use super::schema::campaign_not_installed as ni;
    let Some(c) = super::campaigns::get(conn, id)? else {
        return Ok(None);
    };
    let not_installed: Vec<(String, Option<String>)> = run_on!(conn, |x| ni::table
        .filter(ni::campaign_id.eq(id))
        .order(ni::email)
        .select((ni::email, ni::reason))
        .load(x))?;
    Ok(Some(Scope {
        title: c.name.clone(),
        sends: vec![c.id.clone()],
        all: vec![c.id.clone()],
        reads_of: Some(ReadsOf::Campaign(c.id.clone())),
        audience: i64::from(c.targeted) + i64::from(c.not_installed),
        not_installed,
    }))
}

pub fn broadcast_scope(conn: &mut Conn<'_>, id: &str) -> Result<Option<Scope>, StoreError> {
    use super::broadcasts;
    let Some(b) = broadcasts::get(conn, id)? else {
        return Ok(None);
    };
    let sends = broadcasts::messages(conn, id, broadcasts::Role::Card)?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    Ok(Some(Scope {
        title: format!("#{} {}", b.number, b.subject),
        sends,
        all: broadcasts::all_messages(conn, id)?,
        reads_of: Some(ReadsOf::Broadcast(b.id.clone())),
        not_installed: broadcasts::not_installed_with_reasons(conn, id)?,
        audience: i64::from(b.targeted) + i64::from(b.not_installed),
    }))
}

/// Where a report's reads are recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadsOf {
    Broadcast(String),
    Campaign(String),
}

impl ReadsOf {
    /// The campaign or broadcast whose engagement the report shows.
    pub fn subject(&self) -> super::engagement::Subject<'_> {
        match self {
            ReadsOf::Broadcast(id) => super::engagement::Subject::Broadcast(id),
            ReadsOf::Campaign(id) => super::engagement::Subject::Campaign(id),
        }
    }
}

/// A Teams read receipt from `user_id`: each campaign message in their chat whose activity id
/// is at most `last_read` is read (once per campaign and person). Returns how many were new.
pub fn record_campaign_receipt(
    conn: &mut Conn<'_>,
    user_id: &str,
    last_read: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, StoreError> {
    let sent: Vec<(String, Option<String>)> = run_on!(conn, |c| d::table
        .inner_join(m::table)
        .filter(d::user_id.eq(user_id))
        .filter(d::operation.eq("send"))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .filter(m::kind.eq("campaign"))
        .select((d::message_id, d::activity_id))
        .load(c))?;
    let mut new = 0;
    for (campaign, activity) in sent {
        if activity
            .as_deref()
            .is_some_and(|a| crate::domain::broadcast::receipt_covers(a, last_read))
        {
            new += run_on!(conn, |c| diesel::insert_into(cr::table)
                .values((
                    cr::campaign_id.eq(&campaign),
                    cr::user_id.eq(user_id),
                    cr::read_at.eq(now.naive_utc()),
                    cr::source.eq("receipt"),
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
        }
    }
    Ok(new)
}

/// People who read a campaign's message (as folded, once retention purged the reads).
pub fn campaign_reads(conn: &mut Conn<'_>, campaign_id: &str) -> Result<i64, StoreError> {
    if let Some(folded) = super::folded::folded_campaign(conn, campaign_id)? {
        return Ok(folded.reads);
    }
    Ok(run_on!(conn, |c| cr::table
        .filter(cr::campaign_id.eq(campaign_id))
        .count()
        .get_result(c))?)
}
