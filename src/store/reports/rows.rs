//! A report's recipients as rows: each send delivery with its person, read, clicks, presence,
//! planned moment and engagement, then the members who were not installed. Rows are built a
//! slice at a time (a page of the report page, a chunk of the streamed CSV), and each slice's
//! facts are read for its own people only: nothing holds a whole 100,000-recipient report.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::schema::{
    broadcast_reads as r, campaign_reads as cr, deliveries as d, users as u,
};
use super::super::{Conn, StoreError};
use super::{ReadsOf, clicks_by_user};
use crate::domain::delivery::DeliveryStatus;
use crate::run_on;

pub use super::super::engagement::RecipientEngagement;

/// Send deliveries per slice of the streamed CSV (and per slice of [`recipients`]): small
/// enough that a slice's people fit one `IN` list on either backend.
pub const CHUNK: i64 = 1_000;

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

pub(super) type SendRow = (
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

/// What a report's rows are read from: the messages whose sends reach recipients, every
/// message whose links count, and where reads are recorded.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub sends: &'a [String],
    pub all: &'a [String],
    pub reads_of: Option<&'a ReadsOf>,
}

/// A delivery's columns as a row needs them, in [`SendRow`]'s order.
macro_rules! send_columns {
    () => {
        (
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
        )
    };
}
pub(super) use send_columns;

/// Up to `limit` send deliveries of the report after delivery id `after` (from the first for
/// `None`), in delivery order, as rows; and where the next slice starts (`None` at the end).
pub fn sends_after(
    conn: &mut Conn<'_>,
    report: Report<'_>,
    after: Option<i64>,
    limit: i64,
) -> Result<(Vec<RecipientRow>, Option<i64>), StoreError> {
    let sends = report.sends;
    let rows: Vec<SendRow> = run_on!(conn, |c| {
        let mut q = d::table
            .filter(d::message_id.eq_any(sends))
            .filter(d::operation.eq("send"))
            .order(d::id)
            .limit(limit)
            .select(send_columns!())
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(d::id.gt(after));
        }
        q.load(c)
    })?;
    let next = if rows.len() as i64 == limit {
        rows.last().map(|row| row.13)
    } else {
        None
    };
    Ok((rows_of(conn, report, rows)?, next))
}

/// A row per recipient of the sends of `sends` (clicks counted over `all`), reads from the
/// broadcast `reads_of`, then a row per list member who was not installed: the whole report,
/// read a slice at a time as the streamed CSV reads it.
pub fn recipients(
    conn: &mut Conn<'_>,
    sends: &[String],
    all: &[String],
    reads_of: Option<&ReadsOf>,
    not_installed: &[(String, Option<String>)],
) -> Result<Vec<RecipientRow>, StoreError> {
    let report = Report {
        sends,
        all,
        reads_of,
    };
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let (rows, next) = sends_after(conn, report, after, CHUNK)?;
        out.extend(rows);
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    out.extend(not_installed.iter().map(not_installed_row));
    Ok(out)
}

/// The row of a list member who was not installed (with why herald could not install the app
/// for them, Graph's reason, if it tried).
pub fn not_installed_row((email, reason): &(String, Option<String>)) -> RecipientRow {
    RecipientRow {
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
        error: reason.clone().unwrap_or_default(),
        repairs: 0,
        resends: 0,
        presence: RecipientPresence::default(),
        planned_zone: None,
        planned_at: None,
        engagement: RecipientEngagement::default(),
    }
}

/// The rows of the send deliveries `rows`: their people, reads, clicks, planned moments and
/// engagement, each read in one query for these people only.
pub(super) fn rows_of(
    conn: &mut Conn<'_>,
    report: Report<'_>,
    rows: Vec<SendRow>,
) -> Result<Vec<RecipientRow>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let users: Vec<String> = rows
        .iter()
        .map(|r| r.0.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let deliveries: Vec<i64> = rows.iter().map(|r| r.13).collect();
    let users_ref = users.as_slice();
    let found: Vec<Person> = run_on!(conn, |c| u::table
        .filter(u::id.eq_any(users_ref))
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
    let mut people: HashMap<String, (String, String, RecipientPresence)> =
        HashMap::with_capacity(found.len());
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
    let reads: HashMap<String, NaiveDateTime> = match report.reads_of {
        Some(ReadsOf::Broadcast(b)) => run_on!(conn, |c| r::table
            .filter(r::broadcast_id.eq(b))
            .filter(r::user_id.eq_any(users_ref))
            .select((r::user_id, r::read_at))
            .load::<(String, NaiveDateTime)>(c))?
        .into_iter()
        .collect(),
        Some(ReadsOf::Campaign(id)) => run_on!(conn, |c| cr::table
            .filter(cr::campaign_id.eq(id))
            .filter(cr::user_id.eq_any(users_ref))
            .select((cr::user_id, cr::read_at))
            .load::<(String, NaiveDateTime)>(c))?
        .into_iter()
        .collect(),
        None => HashMap::new(),
    };
    let clicks = clicks_by_user(conn, report.all, Some(users_ref))?;
    let engaged = super::super::engagement::Engaged::load(
        conn,
        report.reads_of.map(ReadsOf::subject),
        users_ref,
    )?;
    let planned = super::super::localtime::planned_by_delivery(conn, report.sends, &deliveries)?;
    let mut out = Vec::with_capacity(rows.len());
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
    Ok(out)
}
