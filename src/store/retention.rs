//! Retention: finished work's rows are purged once past their age, after what reports show of
//! each finished campaign and broadcast is folded into one `report_totals` row. Reports read
//! the folded figures from then on, so an old report shows what it showed before the purge.
//!
//! Only finished work is folded or purged: a completed campaign, a broadcast none of whose
//! deliveries is pending, and messages that belong to neither (tests, notices, relays) once
//! their deliveries are final. Rows go in batches, each its own short write transaction, so a
//! send waits for one batch at most; on PostgreSQL one instance purges at a time.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::{Deserialize, Serialize};

use super::schema::{
    audit_log as a, broadcast_messages as bm, broadcast_reads as br, broadcasts as b,
    campaign_reads as cr, campaigns as c, deliveries as d, link_clicks as k,
    maintenance_runs as mr, outbound_messages as m, relay_messages as rm, report_totals as t,
    tracked_links as tl,
};
use super::{Backend, Conn, StoreError};
use crate::config::retention::RetentionSettings;
use crate::run_on;

/// What a folded row is the report of.
pub mod kind {
    pub const CAMPAIGN: &str = "campaign";
    pub const BROADCAST: &str = "broadcast";
}

/// The PostgreSQL advisory lock held while purging ("retain" in ASCII).
pub const RETENTION_LOCK: i64 = 0x7265_7461_696e;
/// The `maintenance_runs` row of the purge.
const JOB: &str = "retention";

/// A finished campaign's report, folded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldedCampaign {
    pub counts: super::campaigns::Counts,
    pub clicked_people: i64,
    pub clicks: i64,
    pub reads: i64,
}

/// A finished broadcast's report, folded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldedBroadcast {
    pub targeted: i64,
    pub not_installed: i64,
    pub delivered: i64,
    pub pending: i64,
    pub failed: i64,
    pub read_button: i64,
    pub read_receipt: i64,
    pub repliers: i64,
    pub recall_removed: i64,
    pub recall_failed: i64,
    pub recall_pending: i64,
    pub recall_not_sent: i64,
    pub unread: i64,
    pub clicked_people: i64,
    pub clicks: i64,
}

impl FoldedBroadcast {
    pub fn counts(&self) -> super::broadcasts::Counts {
        super::broadcasts::Counts {
            targeted: self.targeted,
            not_installed: self.not_installed,
            delivered: self.delivered,
            pending: self.pending,
            failed: self.failed,
            read_button: self.read_button,
            read_receipt: self.read_receipt,
            repliers: self.repliers,
            recall: crate::domain::broadcast::RecallCounts {
                removed: self.recall_removed,
                failed: self.recall_failed,
                pending: self.recall_pending,
                not_sent: self.recall_not_sent,
            },
        }
    }
}

fn folded<T: for<'de> Deserialize<'de>>(
    conn: &mut Conn<'_>,
    id: &str,
) -> Result<Option<T>, StoreError> {
    let json: Option<String> = run_on!(conn, |x| t::table
        .find(id)
        .select(t::counts)
        .first(x)
        .optional())?;
    // A row that cannot be read back is treated as absent: the live rows are counted instead.
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

pub fn folded_campaign(
    conn: &mut Conn<'_>,
    id: &str,
) -> Result<Option<FoldedCampaign>, StoreError> {
    folded(conn, id)
}

pub fn folded_broadcast(
    conn: &mut Conn<'_>,
    id: &str,
) -> Result<Option<FoldedBroadcast>, StoreError> {
    folded(conn, id)
}

/// The folded clicks of the campaign or broadcast `messages` belong to, if it was folded.
pub fn folded_engagement(
    conn: &mut Conn<'_>,
    messages: &[String],
) -> Result<Option<super::reports::Engagement>, StoreError> {
    let Some(first) = messages.first() else {
        return Ok(None);
    };
    if let Some(f) = folded_campaign(conn, first)? {
        return Ok(Some(super::reports::Engagement {
            people: f.clicked_people,
            clicks: f.clicks,
        }));
    }
    let broadcast: Option<String> = run_on!(conn, |x| bm::table
        .find(first)
        .select(bm::broadcast_id)
        .first(x)
        .optional())?;
    Ok(match broadcast {
        Some(id) => folded_broadcast(conn, &id)?.map(|f| super::reports::Engagement {
            people: f.clicked_people,
            clicks: f.clicks,
        }),
        None => None,
    })
}

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
            };
            store_fold(conn, &id, kind::CAMPAIGN, &fold, now)?;
            Ok(1)
        })?;
    }
    let broadcasts: Vec<String> = run_on!(conn, |x| b::table
        .filter(b::created_at.lt(before))
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
            let (unread, _) = super::broadcasts::unread(conn, &bc, 0)?;
            let all = super::broadcasts::all_messages(conn, &id)?;
            let engagement = super::reports::engagement(conn, &all)?;
            let fold = FoldedBroadcast {
                targeted: live.targeted,
                not_installed: live.not_installed,
                delivered: live.delivered,
                pending: live.pending,
                failed: live.failed,
                read_button: live.read_button,
                read_receipt: live.read_receipt,
                repliers: live.repliers,
                recall_removed: live.recall.removed,
                recall_failed: live.recall.failed,
                recall_pending: live.recall.pending,
                recall_not_sent: live.recall.not_sent,
                unread: unread as i64,
                clicked_people: engagement.people,
                clicks: engagement.clicks,
            };
            store_fold(conn, &id, kind::BROADCAST, &fold, now)?;
            Ok(1)
        })?;
    }
    Ok(n)
}

/// Messages whose rows may go once old: those of a folded campaign or broadcast, and those
/// that belong to neither (tests, notices, relays). `m` is `outbound_messages`.
const FINISHED_MESSAGE: &str = "(m.kind NOT IN ('campaign', 'broadcast', 'broadcast-read') \
     OR m.id IN (SELECT subject_id FROM report_totals) \
     OR m.id IN (SELECT bm.message_id FROM broadcast_messages bm \
                 JOIN report_totals r ON r.subject_id = bm.broadcast_id))";
/// Campaigns and broadcasts already folded.
const FOLDED: &str = "(SELECT subject_id FROM report_totals)";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Key {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
}

/// Runs `select` (whose `{t}` is the cutoff and `{n}` the batch size) and loads its rows.
fn select<T>(
    conn: &mut Conn<'_>,
    select: &str,
    cutoff: NaiveDateTime,
    batch: u32,
) -> Result<Vec<T>, StoreError>
where
    T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    let placeholder = match conn.backend() {
        Backend::Sqlite => "?",
        Backend::Postgres => "$1",
    };
    let sql = select
        .replace("{t}", placeholder)
        .replace("{n}", &batch.to_string());
    Ok(run_on!(conn, |x| diesel::sql_query(&sql)
        .bind::<Timestamp, _>(cutoff)
        .load::<T>(x))?)
}

/// The tables retention purges, in the order it purges them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Clicks,
    Deliveries,
    Messages,
    CampaignReads,
    BroadcastReads,
    RelayMessages,
    Audit,
}

/// One batch: up to `batch` rows of `table` older than `cutoff` deleted in one write
/// transaction. Returns how many.
fn purge_batch(
    conn: &mut Conn<'_>,
    table: Table,
    cutoff: NaiveDateTime,
    batch: u32,
) -> Result<usize, StoreError> {
    conn.write_transaction(|conn| match table {
        Table::Clicks => {
            let ids: Vec<i64> = select::<Id>(
                conn,
                &format!(
                    "SELECT DISTINCT k.delivery_id AS id FROM link_clicks k \
                     JOIN deliveries d ON d.id = k.delivery_id \
                     JOIN outbound_messages m ON m.id = d.message_id \
                     WHERE k.last_at < {{t}} AND d.status <> 'pending' AND {FINISHED_MESSAGE} \
                     LIMIT {{n}}"
                ),
                cutoff,
                batch,
            )?
            .into_iter()
            .map(|r| r.id)
            .collect();
            Ok(run_on!(conn, |x| diesel::delete(
                k::table
                    .filter(k::delivery_id.eq_any(&ids))
                    .filter(k::last_at.lt(cutoff))
            )
            .execute(x))?)
        }
        Table::Deliveries => {
            let ids: Vec<i64> = select::<Id>(
                conn,
                &format!(
                    "SELECT d.id AS id FROM deliveries d \
                     JOIN outbound_messages m ON m.id = d.message_id \
                     WHERE d.status <> 'pending' AND d.updated_at < {{t}} AND {FINISHED_MESSAGE} \
                     LIMIT {{n}}"
                ),
                cutoff,
                batch,
            )?
            .into_iter()
            .map(|r| r.id)
            .collect();
            run_on!(conn, |x| diesel::delete(
                k::table.filter(k::delivery_id.eq_any(&ids))
            )
            .execute(x))?;
            Ok(run_on!(conn, |x| diesel::delete(
                d::table.filter(d::id.eq_any(&ids))
            )
            .execute(x))?)
        }
        Table::Messages => {
            let ids: Vec<String> = select::<Key>(
                conn,
                "SELECT m.id AS a, m.kind AS b FROM outbound_messages m \
                 WHERE m.kind NOT IN ('campaign', 'broadcast', 'broadcast-read') \
                 AND m.created_at < {t} \
                 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id) \
                 LIMIT {n}",
                cutoff,
                batch,
            )?
            .into_iter()
            .map(|r| r.a)
            .collect();
            run_on!(conn, |x| diesel::delete(
                tl::table.filter(tl::message_id.eq_any(&ids))
            )
            .execute(x))?;
            Ok(run_on!(conn, |x| diesel::delete(
                m::table.filter(m::id.eq_any(&ids))
            )
            .execute(x))?)
        }
        Table::CampaignReads => {
            let keys: Vec<Key> = select(
                conn,
                &format!(
                    "SELECT campaign_id AS a, user_id AS b FROM campaign_reads \
                     WHERE read_at < {{t}} AND campaign_id IN {FOLDED} LIMIT {{n}}"
                ),
                cutoff,
                batch,
            )?;
            let mut n = 0;
            for key in keys {
                n += run_on!(conn, |x| diesel::delete(
                    cr::table
                        .filter(cr::campaign_id.eq(&key.a))
                        .filter(cr::user_id.eq(&key.b))
                )
                .execute(x))?;
            }
            Ok(n)
        }
        Table::BroadcastReads => {
            let keys: Vec<Key> = select(
                conn,
                &format!(
                    "SELECT broadcast_id AS a, user_id AS b FROM broadcast_reads \
                     WHERE read_at < {{t}} AND broadcast_id IN {FOLDED} LIMIT {{n}}"
                ),
                cutoff,
                batch,
            )?;
            let mut n = 0;
            for key in keys {
                n += run_on!(conn, |x| diesel::delete(
                    br::table
                        .filter(br::broadcast_id.eq(&key.a))
                        .filter(br::user_id.eq(&key.b))
                )
                .execute(x))?;
            }
            Ok(n)
        }
        Table::RelayMessages => {
            let ids: Vec<i64> = select::<Id>(
                conn,
                &format!(
                    "SELECT rm.id AS id FROM relay_messages rm \
                     JOIN relay_threads th ON th.id = rm.thread_id \
                     WHERE rm.created_at < {{t}} AND th.broadcast_id IN {FOLDED} LIMIT {{n}}"
                ),
                cutoff,
                batch,
            )?
            .into_iter()
            .map(|r| r.id)
            .collect();
            Ok(run_on!(conn, |x| diesel::delete(
                rm::table.filter(rm::id.eq_any(&ids))
            )
            .execute(x))?)
        }
        Table::Audit => {
            let ids: Vec<String> = select::<Key>(
                conn,
                "SELECT id AS a, tenant_id AS b FROM audit_log WHERE at < {t} LIMIT {n}",
                cutoff,
                batch,
            )?
            .into_iter()
            .map(|r| r.a)
            .collect();
            Ok(run_on!(conn, |x| diesel::delete(
                a::table.filter(a::id.eq_any(&ids))
            )
            .execute(x))?)
        }
    })
}

/// What one purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Campaigns and broadcasts folded.
    pub folded: usize,
    /// Rows deleted per table.
    pub rows: std::collections::BTreeMap<Table, usize>,
    /// Transactions that deleted rows.
    pub batches: usize,
}

fn cutoff(now: DateTime<Utc>, age: Option<Duration>) -> Option<NaiveDateTime> {
    let age = TimeDelta::from_std(age?).ok()?;
    Some(now.checked_sub_signed(age)?.naive_utc())
}

/// Folds finished work, then purges every table past its age, batch after batch. `after_batch`
/// is told of each batch once it committed (the table and how many rows).
pub fn purge(
    conn: &mut Conn<'_>,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
    after_batch: &mut dyn FnMut(Table, usize),
) -> Result<Purged, StoreError> {
    let mut out = Purged::default();
    if let Some(before) = cutoff(now, settings.fold_after()) {
        out.folded = fold_finished(conn, before.and_utc(), now)?;
    }
    let plan = [
        (Table::Clicks, settings.clicks),
        (Table::Deliveries, settings.deliveries),
        (Table::Messages, settings.deliveries),
        (Table::CampaignReads, settings.reads),
        (Table::BroadcastReads, settings.reads),
        (Table::RelayMessages, settings.relay_messages),
        (Table::Audit, settings.audit),
    ];
    for (table, age) in plan {
        let Some(before) = cutoff(now, age) else {
            continue;
        };
        loop {
            let n = purge_batch(conn, table, before, settings.batch)?;
            if n == 0 {
                break;
            }
            out.batches += 1;
            *out.rows.entry(table).or_default() += n;
            after_batch(table, n);
            if n < settings.batch as usize {
                break;
            }
        }
    }
    Ok(out)
}

/// Purges when the last purge (by any instance) is at least `settings.every` old, holding on
/// PostgreSQL an advisory lock so that one instance purges at a time. `None` when not due or
/// another instance is purging.
pub fn purge_if_due(
    conn: &mut Conn<'_>,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
    after_batch: &mut dyn FnMut(Table, usize),
) -> Result<Option<Purged>, StoreError> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    if let Conn::Postgres(pg) = conn {
        let got: Locked = diesel::sql_query(format!(
            "SELECT pg_try_advisory_lock({RETENTION_LOCK}) AS locked"
        ))
        .get_result(*pg)?;
        if !got.locked {
            return Ok(None);
        }
    }
    let result = purge_locked(conn, settings, now, after_batch);
    if let Conn::Postgres(pg) = conn {
        // Released with the session otherwise.
        let _ =
            diesel::sql_query(format!("SELECT pg_advisory_unlock({RETENTION_LOCK})")).execute(*pg);
    }
    result
}

fn purge_locked(
    conn: &mut Conn<'_>,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
    after_batch: &mut dyn FnMut(Table, usize),
) -> Result<Option<Purged>, StoreError> {
    let last: Option<NaiveDateTime> = run_on!(conn, |x| mr::table
        .find(JOB)
        .select(mr::ran_at)
        .first(x)
        .optional())?;
    let every = TimeDelta::from_std(settings.every).unwrap_or(TimeDelta::days(1));
    if last.is_some_and(|l| l.and_utc() + every > now) {
        return Ok(None);
    }
    let purged = purge(conn, settings, now, after_batch)?;
    run_on!(conn, |x| diesel::insert_into(mr::table)
        .values((mr::name.eq(JOB), mr::ran_at.eq(now.naive_utc())))
        .on_conflict(mr::name)
        .do_update()
        .set(mr::ran_at.eq(now.naive_utc()))
        .execute(x))?;
    Ok(Some(purged))
}
