//! Retention: finished work's rows are purged once past their age, after what reports show of
//! each finished campaign and broadcast is folded into one `report_totals` row
//! (`store::folded`). Reports read
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

use super::schema::{
    audit_log as a, deliveries as d, link_clicks as k, maintenance_runs as mr,
    message_reactions as re, outbound_messages as m, relay_messages as rm, tracked_links as tl,
};
use super::{Backend, Conn, StoreError};
use crate::run_on;

/// The PostgreSQL advisory lock held while purging ("retain" in ASCII).
pub const RETENTION_LOCK: i64 = 0x7265_7461_696e;
/// The `maintenance_runs` row of the purge.
const JOB: &str = "retention";

/// Messages whose rows may go once old: those of a folded campaign or broadcast, and those
/// that belong to neither (tests, notices, relays). `m` is `outbound_messages`.
const FINISHED_MESSAGE: &str = "(m.kind NOT IN ('campaign', 'broadcast', 'broadcast-read', 'broadcast-reminder') \
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

/// One batch of a table keyed by (subject, person) (reads, acknowledgements, answers): rows of
/// folded campaigns and broadcasts whose time `at` is before `cutoff`. `table` and the columns
/// are this file's constants, never input.
fn purge_pairs(
    conn: &mut Conn<'_>,
    table: &str,
    subject: &str,
    at: &str,
    cutoff: NaiveDateTime,
    batch: u32,
) -> Result<usize, StoreError> {
    let keys: Vec<Key> = select(
        conn,
        &format!(
            "SELECT {subject} AS a, user_id AS b FROM {table} \
             WHERE {at} < {{t}} AND {subject} IN {FOLDED} LIMIT {{n}}"
        ),
        cutoff,
        batch,
    )?;
    let delete = match conn.backend() {
        Backend::Sqlite => format!("DELETE FROM {table} WHERE {subject} = ? AND user_id = ?"),
        Backend::Postgres => format!("DELETE FROM {table} WHERE {subject} = $1 AND user_id = $2"),
    };
    let mut n = 0;
    for key in keys {
        n += run_on!(conn, |x| diesel::sql_query(&delete)
            .bind::<Text, _>(&key.a)
            .bind::<Text, _>(&key.b)
            .execute(x))?;
    }
    Ok(n)
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
    /// `message_reactions` of folded campaigns and broadcasts (as old as reads).
    Reactions,
    /// Acknowledgements and poll answers of folded broadcasts (as old as reads).
    Engagement,
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
        Table::CampaignReads => purge_pairs(
            conn,
            "campaign_reads",
            "campaign_id",
            "read_at",
            cutoff,
            batch,
        ),
        Table::BroadcastReads => purge_pairs(
            conn,
            "broadcast_reads",
            "broadcast_id",
            "read_at",
            cutoff,
            batch,
        ),
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
        Table::Reactions => {
            let keys: Vec<Key> = select(
                conn,
                &format!(
                    "SELECT DISTINCT subject_id AS a, user_id AS b FROM message_reactions \
                     WHERE reacted_at < {{t}} AND subject_id IN {FOLDED} LIMIT {{n}}"
                ),
                cutoff,
                batch,
            )?;
            let mut n = 0;
            for key in keys {
                n += run_on!(conn, |x| diesel::delete(
                    re::table
                        .filter(re::subject_id.eq(&key.a))
                        .filter(re::user_id.eq(&key.b))
                        .filter(re::reacted_at.lt(cutoff))
                )
                .execute(x))?;
            }
            Ok(n)
        }
        Table::Engagement => Ok(purge_pairs(
            conn,
            "broadcast_acks",
            "broadcast_id",
            "acked_at",
            cutoff,
            batch,
        )? + purge_pairs(
            conn,
            "broadcast_answers",
            "broadcast_id",
            "answered_at",
            cutoff,
            batch,
        )?),
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

/// How long finished work is kept (`[retention]` in the settings): `None` keeps forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub deliveries: Option<Duration>,
    pub clicks: Option<Duration>,
    pub reads: Option<Duration>,
    pub relay_messages: Option<Duration>,
    pub audit: Option<Duration>,
    /// How often a purge runs.
    pub every: Duration,
    /// Rows deleted per transaction.
    pub batch: u32,
}

impl Policy {
    /// The youngest age anything a report counts is purged at: finished work is folded then.
    pub fn fold_after(&self) -> Option<Duration> {
        [
            self.deliveries,
            self.clicks,
            self.reads,
            self.relay_messages,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

fn cutoff(now: DateTime<Utc>, age: Option<Duration>) -> Option<NaiveDateTime> {
    let age = TimeDelta::from_std(age?).ok()?;
    Some(now.checked_sub_signed(age)?.naive_utc())
}

/// Folds finished work, then purges every table past its age, batch after batch. `after_batch`
/// is told of each batch once it committed (the table and how many rows).
pub fn purge(
    conn: &mut Conn<'_>,
    settings: &Policy,
    now: DateTime<Utc>,
    after_batch: &mut dyn FnMut(Table, usize),
) -> Result<Purged, StoreError> {
    let mut out = Purged::default();
    if let Some(before) = cutoff(now, settings.fold_after()) {
        out.folded = super::fold::fold_finished(conn, before.and_utc(), now)?;
    }
    let plan = [
        (Table::Clicks, settings.clicks),
        (Table::Deliveries, settings.deliveries),
        (Table::Messages, settings.deliveries),
        (Table::CampaignReads, settings.reads),
        (Table::BroadcastReads, settings.reads),
        (Table::Reactions, settings.reads),
        (Table::Engagement, settings.reads),
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
    settings: &Policy,
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
    settings: &Policy,
    now: DateTime<Utc>,
    after_batch: &mut dyn FnMut(Table, usize),
) -> Result<Option<Purged>, StoreError> {
    let last: Option<NaiveDateTime> = run_on!(conn, |x| mr::table
        .find(JOB)
        .select(mr::ran_at)
        .first(x)
        .optional())?;
    let every = TimeDelta::from_std(settings.every).unwrap_or(TimeDelta::days(1));
    if last.is_some_and(|l| {
        l.and_utc()
            .checked_add_signed(every)
            .is_none_or(|next| next > now)
    }) {
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
