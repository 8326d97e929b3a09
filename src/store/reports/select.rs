//! The report page's questions, answered by the database: how many send deliveries pass each
//! status filter, and which pass a filter and a search, a page at a time. Only the page's own
//! rows are then read in full (`rows::rows_of`), so a page of a 100,000-recipient report reads
//! a hundred people, not a hundred thousand.

use diesel::dsl::sql;
use diesel::dsl::{count_star, not};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use super::super::schema::{
    broadcast_acks as a, broadcast_reads as r, campaign_reads as cr, deliveries as d,
    link_clicks as k, users as u,
};
use super::super::sql::{coalesce, contains_pattern, lower};
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
            let pattern = contains_pattern(word);
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
    Ok(run_on!(conn, |c| searched!(
        narrowed!(
            d::table
                .inner_join(u::table.on(u::id.eq(d::user_id)))
                .filter(d::message_id.eq_any(report.sends))
                .filter(d::operation.eq("send"))
                .select(count_star())
                .into_boxed(),
            report,
            filter
        ),
        words
    )
    .get_result(c))?)
}

/// One page of the report's send deliveries passing `filter` and `search`, in delivery order:
/// `limit` rows from the `offset`-th; with a search, also how many pass in all (counted by the
/// same query, a window over the matching rows, since a search reads every name anyway; `None`
/// without a search, whose counts [`send_counts`] gives, or when the page has no row).
pub fn sends_page(
    conn: &mut Conn<'_>,
    report: Report<'_>,
    filter: StatusFilter,
    search: &Search,
    offset: i64,
    limit: i64,
) -> Result<(Vec<RecipientRow>, Option<i64>), StoreError> {
    let words = search.words();
    let matching = sql::<BigInt>("COUNT(*) OVER ()");
    // Without a search the people's names are not needed to choose the rows: no join.
    // (Nor a count: a window would read every matching row, not just the page's.)
    if words.is_empty() {
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
        return Ok((rows_of(conn, report, rows)?, None));
    }
    // The window keeps every matching row until it has counted them: only their ids.
    let found: Vec<(i64, i64)> = run_on!(conn, |c| searched!(
        narrowed!(
            d::table
                .inner_join(u::table.on(u::id.eq(d::user_id)))
                .filter(d::message_id.eq_any(report.sends))
                .filter(d::operation.eq("send"))
                .order(d::id)
                .offset(offset)
                .limit(limit)
                .select((d::id, matching))
                .into_boxed(),
            report,
            filter
        ),
        words
    )
    .load(c))?;
    let total = found.first().map(|(_, n)| *n);
    let ids: Vec<i64> = found.into_iter().map(|(id, _)| id).collect();
    let rows: Vec<SendRow> = run_on!(conn, |c| d::table
        .filter(d::id.eq_any(&ids))
        .order(d::id)
        .select(send_columns!())
        .load(c))?;
    Ok((rows_of(conn, report, rows)?, total))
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
