//! What reports read: per-recipient facts, clicks, and the moments for the chart. A report
//! covers the messages of one campaign or broadcast: those whose sends reach recipients, and
//! (for broadcasts) the read cards that replace them, whose links count too.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    broadcast_reads as r, campaign_reads as cr, deliveries as d, link_clicks as k,
    outbound_messages as m, users as u,
};
use super::{Conn, StoreError};
use crate::domain::delivery::DeliveryStatus;
use crate::run_on;

pub use super::engagement::RecipientEngagement;
pub use super::figures::Engagement;

/// Per person: (first click, clicks), over every delivery of `messages`.
fn clicks_by_user(
    conn: &mut Conn<'_>,
    messages: &[String],
) -> Result<HashMap<String, (NaiveDateTime, i64)>, StoreError> {
    let rows: Vec<(String, NaiveDateTime, i32)> = run_on!(conn, |c| k::table
        .inner_join(d::table)
        .filter(d::message_id.eq_any(messages))
        .select((d::user_id, k::first_at, k::clicks))
        .load(c))?;
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
    let by_user = clicks_by_user(conn, messages)?;
    Ok(Engagement {
        people: by_user.len() as i64,
        clicks: by_user.values().map(|(_, n)| n).sum(),
    })
}

/// One line of the CSV: one recipient.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecipientRow {
    pub name: String,
    pub email: String,
    pub status: String,
    pub attempts: i64,
    pub last_attempt: Option<NaiveDateTime>,
    pub next_attempt: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub read_at: Option<NaiveDateTime>,
    pub first_click: Option<NaiveDateTime>,
    pub clicks: i64,
    pub error: String,
    /// Chats opened again for this send (self-repair).
    pub repairs: i64,
    /// Times this send was resent (`campaign resend`, `broadcast resend`).
    pub resends: i64,
    /// The presence seen at the last gated attempt, and the one known now.
    pub presence: RecipientPresence,
    // --- Each person's own time (`time: local`) ---
    /// The zone the send was planned in (the recipient's for a local-time campaign, else the
    /// campaign's), and the planned moment (UTC).
    pub planned_zone: Option<String>,
    pub planned_at: Option<NaiveDateTime>,
    /// Reactions, and for broadcasts the first reminder, acknowledgement and poll answer.
    pub engagement: RecipientEngagement,
}

/// A recipient's presence in the report: Graph's availability and activity as seen at the last
/// attempt of a gated send (empty when none looked), and as last known on the user, with when.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RecipientPresence {
    pub at_attempt_availability: Option<String>,
    pub at_attempt_activity: Option<String>,
    pub now_availability: Option<String>,
    pub now_activity: Option<String>,
    pub now_observed_at: Option<NaiveDateTime>,
}

type SendRow = (
    String,
    String,
    i32,
    i32,
    Option<NaiveDateTime>,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
    Option<String>,
    i32,
    i32,
    Option<String>,
    Option<String>,
    i64,
);

/// A user as the report shows them: (id, name, email, UPN, availability, activity, observed).
type Person = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<NaiveDateTime>,
);

/// A row per recipient of the sends of `sends` (clicks counted over `all`), reads from the
/// broadcast `reads_of`, then a row per list member who was not installed.
pub fn recipients(
    conn: &mut Conn<'_>,
    sends: &[String],
    all: &[String],
    reads_of: Option<&ReadsOf>,
    not_installed: &[(String, Option<String>)],
) -> Result<Vec<RecipientRow>, StoreError> {
    let rows: Vec<SendRow> = run_on!(conn, |c| d::table
        .filter(d::message_id.eq_any(sends))
        .filter(d::operation.eq("send"))
        .order(d::id)
        .select((
            d::user_id,
            d::status,
            d::attempts,
            d::ladder_step,
            d::last_attempt_at,
            d::next_attempt_at,
            d::completed_at,
            d::failure,
            d::last_error,
            d::repairs,
            d::resends,
            d::presence,
            d::presence_activity,
            d::id,
        ))
        .load(c))?;
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let mut people: HashMap<String, (String, String, RecipientPresence)> =
        HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let found: Vec<Person> = run_on!(conn, |c| u::table
            .filter(u::id.eq_any(chunk))
            .select((
                u::id,
                u::display_name,
                u::email,
                u::user_principal_name,
                u::presence_availability,
                u::presence_activity,
                u::presence_observed_at,
            ))
            .load(c))?;
        for (id, name, email, upn, availability, activity, observed) in found {
            let now = RecipientPresence {
                now_availability: availability,
                now_activity: activity,
                now_observed_at: observed,
                ..RecipientPresence::default()
            };
            people.insert(
                id,
                (
                    name.unwrap_or_default(),
                    email.or(upn).unwrap_or_default(),
                    now,
                ),
            );
        }
    }
    let reads: HashMap<String, NaiveDateTime> = match reads_of {
        Some(ReadsOf::Broadcast(b)) => run_on!(conn, |c| r::table
            .filter(r::broadcast_id.eq(b))
            .select((r::user_id, r::read_at))
            .load::<(String, NaiveDateTime)>(c))?
        .into_iter()
        .collect(),
        Some(ReadsOf::Campaign(id)) => run_on!(conn, |c| cr::table
            .filter(cr::campaign_id.eq(id))
            .select((cr::user_id, cr::read_at))
            .load::<(String, NaiveDateTime)>(c))?
        .into_iter()
        .collect(),
        None => HashMap::new(),
    };
    let clicks = clicks_by_user(conn, all)?;
    let engaged = super::engagement::Engaged::load(conn, reads_of.map(ReadsOf::subject))?;
    let planned = super::localtime::planned_by_delivery(conn, sends)?;
    let mut out = Vec::with_capacity(rows.len() + not_installed.len());
    for (
        user,
        status,
        attempts,
        step,
        last,
        next,
        completed,
        failure,
        error,
        repairs,
        resends,
        seen_availability,
        seen_activity,
        delivery,
    ) in rows
    {
        let (name, email, presence) = people.get(&user).cloned().unwrap_or_default();
        let presence = RecipientPresence {
            at_attempt_availability: seen_availability,
            at_attempt_activity: seen_activity,
            ..presence
        };
        let status_enum = DeliveryStatus::parse(&status);
        let pending = status_enum == Some(DeliveryStatus::Pending);
        let shown = match status_enum {
            Some(DeliveryStatus::Pending) if step > 0 => "waiting for presence".to_string(),
            Some(DeliveryStatus::Pending) => "pending".to_string(),
            Some(DeliveryStatus::Failed) => {
                format!("failed: {}", failure.clone().unwrap_or_default())
            }
            _ => status.clone(),
        };
        let click = clicks.get(&user);
        out.push(RecipientRow {
            name,
            email,
            status: shown,
            attempts: i64::from(attempts) + i64::from(step),
            last_attempt: last,
            next_attempt: pending.then_some(next),
            sent_at: (status_enum == Some(DeliveryStatus::Delivered))
                .then_some(completed)
                .flatten(),
            read_at: reads.get(&user).copied(),
            first_click: click.map(|c| c.0),
            clicks: click.map_or(0, |c| c.1),
            error: if status_enum == Some(DeliveryStatus::Delivered) {
                String::new()
            } else {
                error.unwrap_or_default()
            },
            repairs: i64::from(repairs),
            resends: i64::from(resends),
            presence,
            planned_zone: planned.get(&delivery).map(|p| p.0.clone()),
            planned_at: planned.get(&delivery).map(|p| p.1),
            engagement: engaged.of(&user),
        });
    }
    for (email, reason) in not_installed {
        out.push(RecipientRow {
            name: String::new(),
            email: email.clone(),
            status: "not installed".into(),
            attempts: 0,
            last_attempt: None,
            next_attempt: None,
            sent_at: None,
            read_at: None,
            first_click: None,
            clicks: 0,
            // Why herald could not install the app for them (Graph's reason), if it tried.
            error: reason.clone().unwrap_or_default(),
            repairs: 0,
            resends: 0,
            presence: RecipientPresence::default(),
            planned_zone: None,
            planned_at: None,
            engagement: RecipientEngagement::default(),
        });
    }
    Ok(out)
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
    let mut clicked: Vec<NaiveDateTime> = clicks_by_user(conn, all)?
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
