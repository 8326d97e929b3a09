//! Reactions to herald's messages (`message_reactions`): one row per subject (a campaign or a
//! broadcast), person and reaction type, found from the reacted message's activity id.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::broadcasts::Role;
use super::deliveries::Operation;
use super::schema::{
    broadcast_messages as bm, deliveries as d, message_reactions as r, outbound_messages as m,
    report_totals as t,
};
use super::{Conn, StoreError};
use crate::domain::delivery::{DeliveryStatus, MessageKind};
use crate::run_on;

/// What `message_reactions.subject_kind` says a subject is.
pub mod kind {
    pub const CAMPAIGN: &str = "campaign";
    pub const BROADCAST: &str = "broadcast";
}

/// The campaign or broadcast a message herald sent can be reacted to as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub id: String,
    /// `kind::CAMPAIGN` or `kind::BROADCAST`.
    pub kind: &'static str,
}

/// The subject of the message delivered to `user_id` as activity `activity_id`: the campaign
/// of a campaign message, the broadcast of a broadcast card or reminder; `None` for anything
/// else (relayed replies, notices, ids herald never gave this person). One lookup through the
/// index on `deliveries(user_id)`, then, for a broadcast, its message's row by primary key.
pub fn subject_of(
    conn: &mut Conn<'_>,
    user_id: &str,
    activity_id: &str,
) -> Result<Option<Subject>, StoreError> {
    let found: Option<(String, String)> = run_on!(conn, |c| d::table
        .inner_join(m::table)
        // The user's row is their tenant's (found by tenant), so their deliveries are too; a
        // tenant filter here would make SQLite pick the (status, tenant) index and scan every
        // delivered message of the tenant instead of this person's few.
        .filter(d::user_id.eq(user_id))
        .filter(d::activity_id.eq(activity_id))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .select((d::message_id, m::kind))
        .first(c)
        .optional())?;
    let Some((message, message_kind)) = found else {
        return Ok(None);
    };
    match MessageKind::parse(&message_kind) {
        Some(MessageKind::Campaign) => Ok(Some(Subject {
            id: message,
            kind: kind::CAMPAIGN,
        })),
        Some(MessageKind::BroadcastCard | MessageKind::BroadcastReminder) => {
            // The card's (or reminder's) broadcast, by the message's primary key.
            let card: Option<(String, String)> = run_on!(conn, |c| bm::table
                .find(&message)
                .select((bm::broadcast_id, bm::role))
                .first(c)
                .optional())?;
            let roles = [Role::Card.as_str(), Role::Reminder.as_str()];
            Ok(card
                .filter(|(_, role)| roles.contains(&role.as_str()))
                .map(|(broadcast, _)| Subject {
                    id: broadcast,
                    kind: kind::BROADCAST,
                }))
        }
        _ => Ok(None),
    }
}

/// Records one activity's reactions of `user_id` to `subject` in one transaction: each added
/// type once (reacting twice with one type counts once), each removed type deleted. Returns the
/// rows inserted plus the rows deleted.
pub fn record(
    conn: &mut Conn<'_>,
    subject: &Subject,
    user_id: &str,
    added: &[String],
    removed: &[String],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    conn.write_transaction(|conn| {
        let mut n = 0;
        for reaction in added {
            n += run_on!(conn, |c| diesel::insert_into(r::table)
                .values((
                    r::subject_id.eq(&subject.id),
                    r::subject_kind.eq(subject.kind),
                    r::user_id.eq(user_id),
                    r::reaction.eq(reaction),
                    r::reacted_at.eq(now.naive_utc()),
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
        }
        if !removed.is_empty() {
            n += run_on!(conn, |c| diesel::delete(
                r::table
                    .filter(r::subject_id.eq(&subject.id))
                    .filter(r::user_id.eq(user_id))
                    .filter(r::reaction.eq_any(removed))
            )
            .execute(c))?;
        }
        Ok(n)
    })
}

/// A subject's reactions per type, most frequent first (then by type). Once retention folded
/// the subject's report, its folded counts (the live rows are purged after).
pub fn counts(conn: &mut Conn<'_>, subject_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
    #[derive(serde::Deserialize)]
    struct Folded {
        #[serde(default)]
        reactions: Vec<(String, i64)>,
    }
    let json: Option<String> = run_on!(conn, |c| t::table
        .find(subject_id)
        .select(t::counts)
        .first(c)
        .optional())?;
    // A row that cannot be read back is treated as absent, as `store::folded` does.
    if let Some(folded) = json.and_then(|j| serde_json::from_str::<Folded>(&j).ok()) {
        return Ok(folded.reactions);
    }
    live_counts(conn, subject_id)
}

/// `counts` from the live rows, as folded before they are purged.
pub fn live_counts(
    conn: &mut Conn<'_>,
    subject_id: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut rows: Vec<(String, i64)> = run_on!(conn, |c| r::table
        .filter(r::subject_id.eq(subject_id))
        .group_by(r::reaction)
        .select((r::reaction, diesel::dsl::count_star()))
        .load(c))?;
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(rows)
}

/// Who reacted to a subject and how: user id → their reaction types, sorted (empty once
/// retention purged the rows).
pub fn by_user(
    conn: &mut Conn<'_>,
    subject_id: &str,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    by_user_among(conn, subject_id, None)
}

/// [`by_user`] for the people `users` only (everyone for `None`): a page of a report.
pub fn by_user_among(
    conn: &mut Conn<'_>,
    subject_id: &str,
    users: Option<&[String]>,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let rows: Vec<(String, String)> = run_on!(conn, |c| {
        let mut q = r::table
            .filter(r::subject_id.eq(subject_id))
            .select((r::user_id, r::reaction))
            .into_boxed();
        if let Some(users) = users {
            q = q.filter(r::user_id.eq_any(users));
        }
        q.load(c)
    })?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (user, reaction) in rows {
        out.entry(user).or_default().push(reaction);
    }
    for types in out.values_mut() {
        types.sort();
    }
    Ok(out)
}

/// Deletes a subject's reactions (a deleted campaign's).
pub fn forget(conn: &mut Conn<'_>, subject_id: &str) -> Result<usize, StoreError> {
    Ok(run_on!(conn, |c| diesel::delete(
        r::table.filter(r::subject_id.eq(subject_id))
    )
    .execute(c))?)
}
