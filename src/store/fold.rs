//! Folding finished work: before retention purges the rows a report was counted from, the
//! report's figures are kept in one `report_totals` row (read back by `folded`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::folded::{FoldedBroadcast, FoldedCampaign, kind};
use super::schema::{
    broadcast_messages as bm, broadcasts as b, campaigns as c, deliveries as d, report_totals as t,
};
use super::{Conn, StoreError};
use crate::run_on;

fn store_fold(
    conn: &mut Conn<'_>,
    id: &str,
    of: &str,
    counts: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(counts)
        .map_err(|e| StoreError::Migration(format!("folding a report: {e}")))?;
    run_on!(conn, |x| diesel::insert_into(t::table)
        .values((
            t::subject_id.eq(id),
            t::kind.eq(of),
            t::counts.eq(&json),
            t::folded_at.eq(now.naive_utc()),
        ))
        .on_conflict_do_nothing()
        .execute(x))?;
    Ok(())
}

/// Folds the report of every campaign completed and every broadcast sent before `before`
/// whose rows are all final and that is not folded yet, each in its own transaction.
/// Returns how many were folded.
pub fn fold_finished(
    conn: &mut Conn<'_>,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let before = before.naive_utc();
    let campaigns: Vec<String> = run_on!(conn, |x| c::table
        .filter(c::status.eq(super::campaigns::status::COMPLETED))
        .filter(c::completed_at.lt(before))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            t::table.filter(t::subject_id.eq(c::id))
        )))
        .select(c::id)
        .load(x))?;
    let mut n = 0;
    for id in campaigns {
        n += conn.write_transaction(|conn| {
            let Some(campaign) = super::campaigns::get(conn, &id)? else {
                return Ok::<_, StoreError>(0);
            };
            let engagement = super::reports::engagement(conn, std::slice::from_ref(&id))?;
            let fold = FoldedCampaign {
                counts: super::campaigns::counts(conn, &campaign)?,
                clicked_people: engagement.people,
                clicks: engagement.clicks,
                reads: super::reports::campaign_reads(conn, &id)?,
                reactions: super::reactions::live_counts(conn, &id)?,
            };
            store_fold(conn, &id, kind::CAMPAIGN, &fold, now)?;
            Ok(1)
        })?;
    }
    let broadcasts: Vec<String> = run_on!(conn, |x| b::table
        .filter(b::created_at.lt(before))
        // A broadcast still held has not gone out: nothing of it is finished.
        .filter(diesel::dsl::not(diesel::dsl::exists(
            super::schema::broadcast_holds::table
                .filter(super::schema::broadcast_holds::broadcast_id.eq(b::id))
                .filter(super::schema::broadcast_holds::released_at.is_null())
                .filter(super::schema::broadcast_holds::cancelled_at.is_null())
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            t::table.filter(t::subject_id.eq(b::id))
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            bm::table
                .inner_join(d::table.on(d::message_id.eq(bm::message_id)))
                .filter(bm::broadcast_id.eq(b::id))
                .filter(d::status.eq("pending"))
        )))
        .select(b::id)
        .load(x))?;
    for id in broadcasts {
        n += conn.write_transaction(|conn| {
            let Some(bc) = super::broadcasts::get(conn, &id)? else {
                return Ok::<_, StoreError>(0);
            };
            let live = super::broadcasts::counts(conn, &bc)?;
            // Re-checked inside the transaction: a recall may have queued deletes since.
            if live.pending > 0 || live.recall.pending > 0 {
                return Ok(0);
            }
            let (unread, _) = super::broadcasts::unread(conn, &bc, 0)?;
            let all = super::broadcasts::all_messages(conn, &id)?;
            let engagement = super::reports::engagement(conn, &all)?;
            let fold = FoldedBroadcast {
                counts: live,
                unread: unread as i64,
                clicked_people: engagement.people,
                clicks: engagement.clicks,
                reactions: super::reactions::live_counts(conn, &id)?,
            };
            store_fold(conn, &id, kind::BROADCAST, &fold, now)?;
            Ok(1)
        })?;
    }
    Ok(n)
}
