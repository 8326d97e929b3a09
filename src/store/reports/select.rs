//! The report page's questions, answered by the database: how many send deliveries pass each
//! status filter, and which pass a filter and a search, a page at a time. Only the page's own
//! rows are then read in full (`rows::rows_of`), so a page of a 100,000-recipient report reads
//! a hundred people, not a hundred thousand.

use diesel::dsl::{count_star, not};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::super::schema::{
    broadcast_acks as a, broadcast_reads as r, campaign_reads as cr, deliveries as d,
    link_clicks as k, users as u,
};
use super::super::sql::{coalesce, contains, lower};
use super::super::{Conn, StoreError};
use super::ReadsOf;
use super::rows::{RecipientRow, Report, SendRow, rows_of, send_columns};
use crate::domain::delivery::DeliveryStatus;
use crate::domain::report_filter::{Search, StatusFilter};
use crate::run_on;

diesel::alias!(super::super::schema::deliveries as clicked_on: ClickedOn);

/// How many send deliveries of a report pass each status filter (members who were not
/// installed have no delivery: the page counts them itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendCounts {
    pub all: i64,
    pub delivered: i64,
    pub read: i64,
    pub unread: i64,
    pub waiting: i64,
    pub failed: i64,
    pub expired: i64,
    pub clicked: i64,
    pub acknowledged: i64,
}

impl SendCounts {
    /// The count for `filter` (none of the sends is "not installed").
    pub fn of(&self, filter: StatusFilter) -> i64 {
        match filter {
            StatusFilter::All => self.all,
            StatusFilter::Delivered => self.delivered,
            StatusFilter::Read => self.read,
            StatusFilter::Unread => self.unread,
            StatusFilter::Waiting => self.waiting,
            StatusFilter::Failed => self.failed,
            StatusFilter::Expired => self.expired,
            StatusFilter::NotInstalled => 0,
            StatusFilter::Clicked => self.clicked,
            StatusFilter::Acknowledged => self.acknowledged,
        }
    }
}

/// Narrows the boxed query `$q` over the report's send deliveries to those passing `$filter`.
/// One macro for both backends and for both the counting and the paging queries.
macro_rules! narrowed {
    ($q:expr, $report:expr, $filter:expr) => {{
        let mut q = $q;
        let report: Report<'_> = $report;
        let status = |s: DeliveryStatus| d::status.eq(s.as_str());
        match $filter {
            StatusFilter::All => {}
            StatusFilter::Delivered => q = q.filter(status(DeliveryStatus::Delivered)),
            StatusFilter::Waiting => q = q.filter(status(DeliveryStatus::Pending)),
            StatusFilter::Failed => q = q.filter(status(DeliveryStatus::Failed)),
            StatusFilter::Expired => q = q.filter(status(DeliveryStatus::Expired)),
            StatusFilter::Read | StatusFilter::Unread => {
                if $filter == StatusFilter::Unread {
                    q = q.filter(status(DeliveryStatus::Delivered));
                }
                let read = $filter == StatusFilter::Read;
                match report.reads_of {
                    Some(ReadsOf::Broadcast(b)) => {
                        let readers = r::table.filter(r::broadcast_id.eq(b)).select(r::user_id);
                        q = if read {
                            q.filter(d::user_id.eq_any(readers))
                        } else {
                            q.filter(not(d::user_id.eq_any(readers)))
                        };
                    }
                    Some(ReadsOf::Campaign(c)) => {
                        let readers = cr::table.filter(cr::campaign_id.eq(c)).select(cr::user_id);
                        q = if read {
                            q.filter(d::user_id.eq_any(readers))
                        } else {
                            q.filter(not(d::user_id.eq_any(readers)))
                        };
                    }
                    // Nowhere to read from: nobody has read.
                    None if read => q = q.filter(false.into_sql::<Bool>()),
                    None => {}
                }
            }
            StatusFilter::Clicked => {
                let clickers = k::table
                    .inner_join(clicked_on.on(k::delivery_id.eq(clicked_on.field(d::id))))
                    .filter(clicked_on.field(d::message_id).eq_any(report.all))
                    .select(clicked_on.field(d::user_id));
                q = q.filter(d::user_id.eq_any(clickers));
            }
            StatusFilter::Acknowledged => match report.reads_of {
                Some(ReadsOf::Broadcast(b)) => {
                    let ackers = a::table.filter(a::broadcast_id.eq(b)).select(a::user_id);
                    q = q.filter(d::user_id.eq_any(ackers));
                }
                _ => q = q.filter(false.into_sql::<Bool>()),
            },
            StatusFilter::NotInstalled => q = q.filter(false.into_sql::<Bool>()),
        }
        q
    }};
}

/// Narrows the boxed query `$q` over send deliveries joined with their users to the people
/// whose name or address holds every word of the search (lowercase on both sides).
macro_rules! searched {
    ($q:expr, $words:expr) => {{
        let mut q = $q;
        for word in $words {
            let pattern = contains(word);
            q = q.filter(
                lower(u::display_name.nullable())
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(coalesce(u::email, u::user_principal_name))
                        .like(pattern)
                        .escape('\\')),
            );
        }
        q
    }};
}

/// The boxed query over the report's send deliveries joined with their people, passing
/// `filter` and every word of the search, selecting `$select`.
macro_rules! found {
    ($report:expr, $filter:expr, $words:expr, $select:expr) => {{
        let report: Report<'_> = $report;
        searched!(
            narrowed!(
                d::table
                    .inner_join(u::table.on(u::id.eq(d::user_id)))
                    .filter(d::message_id.eq_any(report.sends))
                    .filter(d::operation.eq("send"))
                    .select($select)
                    .into_boxed(),
                report,
                $filter
            ),
            $words
        )
    }};
}

/// The report's send deliveries passing `filter`, per status.
fn by_status(
    conn: &mut Conn<'_>,
    report: Report<'_>,
    filter: StatusFilter,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(run_on!(conn, |c| narrowed!(
        d::table
            .filter(d::message_id.eq_any(report.sends))
            .filter(d::operation.eq("send"))
            .group_by(d::status)
            .select((d::status, count_star()))
            .into_boxed(),
        report,
        filter
    )
    .load(c))?)
}

/// How many of the report's send deliveries pass each status filter: a query per kind of
/// fact (status, read, click, acknowledgement), each counting in the database.
pub fn send_counts(conn: &mut Conn<'_>, report: Report<'_>) -> Result<SendCounts, StoreError> {
    let total = |rows: &[(String, i64)]| rows.iter().map(|(_, n)| n).sum::<i64>();
    let of = |rows: &[(String, i64)], s: DeliveryStatus| {
        rows.iter()
            .find(|(status, _)| status == s.as_str())
            .map_or(0, |(_, n)| *n)
    };
    let statuses = by_status(conn, report, StatusFilter::All)?;
    let read = by_status(conn, report, StatusFilter::Read)?;
    let clicked = by_status(conn, report, StatusFilter::Clicked)?;
    let acknowledged = match report.reads_of {
        Some(ReadsOf::Broadcast(_)) => total(&by_status(conn, report, StatusFilter::Acknowledged)?),
        _ => 0,
    };
    let delivered = of(&statuses, DeliveryStatus::Delivered);
    Ok(SendCounts {
        all: total(&statuses),
        delivered,
        read: total(&read),
        unread: delivered - of(&read, DeliveryStatus::Delivered),
        waiting: of(&statuses, DeliveryStatus::Pending),
        failed: of(&statuses, DeliveryStatus::Failed),
        expired: of(&statuses, DeliveryStatus::Expired),
        clicked: total(&clicked),
        acknowledged,
    })
}

/// How many of the report's send deliveries pass `filter` and `search`.
pub fn matching_sends(
    conn: &mut Conn<'_>,
    report: Report<'_>,
    filter: StatusFilter,
    search: &Search,
) -> Result<i64, StoreError> {
    let words = search.words();
    Ok(run_on!(conn, |c| found!(
        report,
        filter,
        words,
        count_star()
    )
    .get_result(c))?)
}

/// One page of the report's send deliveries passing `filter` (no search: the page's counts
/// are [`send_counts`]'), in delivery order: `limit` rows from the `offset`-th. The database
/// cuts the page along the `(message_id, id)` index, with no join.
pub fn sends_page(
    conn: &mut Conn<'_>,
    report: Report<'_>,
    filter: StatusFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<RecipientRow>, StoreError> {
    let rows: Vec<SendRow> = run_on!(conn, |c| narrowed!(
        d::table
            .filter(d::message_id.eq_any(report.sends))
            .filter(d::operation.eq("send"))
            .order(d::id)
            .offset(offset)
            .limit(limit)
            .select(send_columns!())
            .into_boxed(),
        report,
        filter
    )
    .load(c))?;
    rows_of(conn, report, rows)
}

/// Most matching deliveries a search reads the ids of in its first pass.
pub const FIRST_HITS: i64 = 10_000;

/// The send deliveries a search found, in delivery order: every one when there are few
/// (`total` equals `first`'s length), or the first [`FIRST_HITS`] and how many in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hits {
    first: Vec<i64>,
    total: i64,
}

impl Hits {
    /// Every matching delivery, found by the first pass.
    pub fn all(first: Vec<i64>) -> Hits {
        let total = first.len() as i64;
        Hits { first, total }
    }

    /// The first pass's ids, and how many match in all (counted apart).
    pub fn many(first: Vec<i64>, total: i64) -> Hits {
        Hits {
            total: total.max(first.len() as i64),
            first,
        }
    }

    /// Whether a first pass found as many as it read (`most`): there may be more.
    pub fn is_full(first: &[i64], most: i64) -> bool {
        first.len() as i64 >= most
    }

    /// How many send deliveries pass the filter and the search.
    pub fn total(&self) -> i64 {
        self.total
    }
}

/// The ids of the first `most` ([`FIRST_HITS`] for the page) send deliveries of the report
/// passing `filter` and `search`, in delivery order, found in one pass over the names: a search for a person or a
/// family finds every match there. Only a search matching more (a word everyone's address
/// holds) needs counting apart ([`matching_sends`]); its matches are dense, so each page of it
/// is then cut cheaply ([`hits_page`]).
pub fn first_hits(
    conn: &mut Conn<'_>,
    report: Report<'_>,
    filter: StatusFilter,
    search: &Search,
    most: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(run_on!(conn, |c| found!(
        report,
        filter,
        search.words(),
        d::id
    )
    .order(d::id)
    .limit(most)
    .load(c))?)
}

/// One page of a search's `hits`, in delivery order: `limit` rows from the `offset`-th, read
/// from the first pass's ids when it holds them, else cut by the database.
pub fn hits_page(
    conn: &mut Conn<'_>,
    report: Report<'_>,
    filter: StatusFilter,
    search: &Search,
    hits: &Hits,
    offset: i64,
    limit: i64,
) -> Result<Vec<RecipientRow>, StoreError> {
    let (from, to) = (offset.max(0) as usize, (offset + limit).max(0) as usize);
    let ids: Vec<i64> = if to <= hits.first.len() || hits.total == hits.first.len() as i64 {
        hits.first[from.min(hits.first.len())..to.min(hits.first.len())].to_vec()
    } else {
        run_on!(conn, |c| found!(report, filter, search.words(), d::id)
            .order(d::id)
            .offset(offset)
            .limit(limit)
            .load(c))?
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<SendRow> = run_on!(conn, |c| d::table
        .filter(d::id.eq_any(&ids))
        .order(d::id)
        .select(send_columns!())
        .load(c))?;
    rows_of(conn, report, rows)
}

/// Whether anyone answered the report's poll (a broadcast's): the page shows the answer
/// column then.
pub fn any_answer(conn: &mut Conn<'_>, report: Report<'_>) -> Result<bool, StoreError> {
    use super::super::schema::broadcast_answers as ans;
    let Some(ReadsOf::Broadcast(b)) = report.reads_of else {
        return Ok(false);
    };
    Ok(run_on!(conn, |c| diesel::select(diesel::dsl::exists(
        ans::table.filter(ans::broadcast_id.eq(b))
    ))
    .get_result(c))?)
}
