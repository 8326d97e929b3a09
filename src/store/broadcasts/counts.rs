//! What `broadcasts` and `broadcast info` count, live or from a folded report.

use std::collections::HashSet;

use diesel::prelude::*;

use super::super::deliveries::Operation;
use super::super::schema::{
    broadcast_reads as r, deliveries as d, relay_messages as rm, relay_threads as th, users as u,
};
use super::super::{Conn, StoreError};
use super::relay::Direction;
use super::{Broadcast, ReadSource, cards};
use crate::domain::delivery::{DeliveryStatus, reason};
use crate::run_on;

pub use crate::store::figures::BroadcastCounts as Counts;

pub fn counts(conn: &mut Conn<'_>, bc: &Broadcast) -> Result<Counts, StoreError> {
    if let Some(folded) = super::super::folded::folded_broadcast(conn, &bc.id)? {
        return Ok(folded.counts);
    }
    let cards = cards(conn, &bc.id)?;
    let rows: Vec<(String, String, String, Option<String>)> = run_on!(conn, |c| d::table
        .filter(d::message_id.eq_any(&cards))
        .select((d::user_id, d::operation, d::status, d::failure))
        .load(c))?;
    let mut out = Counts {
        targeted: bc.targeted as i64,
        not_installed: bc.not_installed as i64,
        not_installed_reasons: crate::store::figures::by_reason(
            super::not_installed_with_reasons(conn, &bc.id)?
                .into_iter()
                .filter_map(|(_, r)| r),
        ),
        ..Counts::default()
    };
    // A card stopped by the recall and its delete with nothing to delete are one person.
    let stopped: HashSet<&str> = rows
        .iter()
        .filter(|r| r.1 == Operation::Send.as_str() && r.3.as_deref() == Some(reason::RECALLED))
        .map(|r| r.0.as_str())
        .collect();
    for (user, operation, status, failure) in &rows {
        let recalled = failure.as_deref() == Some(reason::RECALLED);
        let not_sent = failure.as_deref() == Some(reason::NOT_SENT);
        if not_sent && stopped.contains(user.as_str()) {
            continue;
        }
        let (operation, status) = (operation.as_str(), status.as_str());
        match (Operation::parse(operation), DeliveryStatus::parse(status)) {
            (Some(Operation::Send), Some(DeliveryStatus::Delivered)) => out.delivered += 1,
            (Some(Operation::Send), Some(DeliveryStatus::Pending)) => out.pending += 1,
            (Some(Operation::Send), _) if recalled => out.recall.not_sent += 1,
            (Some(Operation::Send), _) => out.failed += 1,
            (Some(Operation::Delete), Some(DeliveryStatus::Delivered)) => out.recall.removed += 1,
            (Some(Operation::Delete), Some(DeliveryStatus::Pending)) => out.recall.pending += 1,
            (Some(Operation::Delete), _) if not_sent => out.recall.not_sent += 1,
            (Some(Operation::Delete), _) => out.recall.failed += 1,
            _ => {}
        }
    }
    // A recall also deletes the reminders: it is done once those deletes are too, and a
    // reminder it could not delete may still be in its chat.
    let reminders: Vec<String> = super::messages(conn, &bc.id, super::Role::Reminder)?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    if bc.recalled() && !reminders.is_empty() {
        let deletes: Vec<(String, Option<String>)> = run_on!(conn, |c| d::table
            .filter(d::message_id.eq_any(&reminders))
            .filter(d::operation.eq(Operation::Delete.as_str()))
            .select((d::status, d::failure))
            .load(c))?;
        for (status, failure) in deletes {
            match DeliveryStatus::parse(&status) {
                Some(DeliveryStatus::Pending) => out.recall.pending += 1,
                Some(DeliveryStatus::Delivered) => {}
                _ if failure.as_deref() == Some(reason::NOT_SENT) => {}
                _ => out.recall.failed += 1,
            }
        }
    }
    let t = super::super::deliveries::resend::tallies(conn, &cards)?;
    (out.repairs, out.resent, out.resent_delivered) = (t.repairs, t.resent, t.resent_delivered);
    let sources: Vec<String> = run_on!(conn, |c| r::table
        .filter(r::broadcast_id.eq(&bc.id))
        .select(r::source)
        .load(c))?;
    for s in sources {
        if s == ReadSource::Receipt.as_str() {
            out.read_receipt += 1;
        } else {
            out.read_button += 1;
        }
    }
    out.repliers = run_on!(conn, |c| th::table
        .filter(th::broadcast_id.eq(&bc.id))
        .filter(diesel::dsl::exists(
            rm::table
                .filter(rm::thread_id.eq(th::id))
                .filter(rm::direction.eq(Direction::Reply.as_str()))
        ))
        .count()
        .get_result(c))?;
    Ok(out)
}

/// Recipients who have the card and have not read it: how many, and the first `limit` of
/// them by email (or name).
pub fn unread(
    conn: &mut Conn<'_>,
    bc: &Broadcast,
    limit: usize,
) -> Result<(usize, Vec<String>), StoreError> {
    if let Some(folded) = super::super::folded::folded_broadcast(conn, &bc.id)? {
        return Ok((folded.unread as usize, Vec::new())); // who: purged with the deliveries
    }
    let cards = cards(conn, &bc.id)?;
    let delivered: Vec<String> = run_on!(conn, |c| d::table
        .filter(d::message_id.eq_any(&cards))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .select(d::user_id)
        .load(c))?;
    let read: HashSet<String> = run_on!(conn, |c| r::table
        .filter(r::broadcast_id.eq(&bc.id))
        .select(r::user_id)
        .load::<String>(c))?
    .into_iter()
    .collect();
    let unread: Vec<String> = delivered
        .into_iter()
        .filter(|id| !read.contains(id))
        .collect();
    let total = unread.len();
    let shown: Vec<String> = unread.into_iter().take(limit).collect();
    Ok((total, named(conn, &shown)?))
}

/// How `broadcast info` names the recipients `ids`: by email, else UPN, else display name,
/// else id; sorted.
pub(super) fn named(conn: &mut Conn<'_>, ids: &[String]) -> Result<Vec<String>, StoreError> {
    let mut names: Vec<String> = run_on!(conn, |c| u::table
        .filter(u::id.eq_any(ids))
        .select((u::email, u::user_principal_name, u::display_name, u::id))
        .load::<(Option<String>, Option<String>, Option<String>, String)>(c))?
    .into_iter()
    .map(|(email, upn, name, id)| email.or(upn).or(name).unwrap_or(id))
    .collect();
    names.sort();
    Ok(names)
}
