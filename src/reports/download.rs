//! The report CSV as a download that is written while it is read: the header, then the sends a
//! slice of [`CHUNK`] deliveries at a time (each slice read when the client has taken the
//! previous one), then the members who were not installed. A 100,000-recipient report never
//! sits whole in memory, and a client that stops reading stops the reading of the database.

use std::sync::Arc;

use actix_web::web::Bytes;
use futures_util::Stream;

use crate::domain::tracking::ReportKind;
use crate::store::Db;
use crate::store::reports::{CHUNK, Scope, not_installed_row, sends_after};

use super::recipients::{report_csv_header, report_csv_lines};

/// Where the download stands.
enum Next {
    Header,
    /// The sends after this delivery id (from the first for `None`).
    Sends(Option<i64>),
    NotInstalled,
    Done,
}

struct Download {
    db: Db,
    kind: ReportKind,
    scope: Arc<Scope>,
    next: Next,
}

/// Why a download stopped half way (the client sees a cut file; the log says why).
fn failed(e: impl std::fmt::Display) -> std::io::Error {
    tracing::warn!(error = %e, "report CSV download stopped");
    std::io::Error::other(e.to_string())
}

/// The report file of `scope` (a campaign's or a broadcast's, by `kind`), slice by slice.
pub fn report_csv_stream(
    db: Db,
    kind: ReportKind,
    scope: Scope,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + 'static {
    let start = Download {
        db,
        kind,
        scope: Arc::new(scope),
        next: Next::Header,
    };
    futures_util::stream::unfold(start, |mut d| async move {
        let bytes = match d.next {
            Next::Done => return None,
            Next::Header => {
                d.next = Next::Sends(None);
                report_csv_header(d.kind).map_err(failed)
            }
            Next::Sends(after) => {
                let scope = Arc::clone(&d.scope);
                let slice =
                    d.db.run(move |conn| sends_after(conn, scope.report(), after, CHUNK))
                        .await;
                match slice {
                    Ok((rows, next)) => {
                        d.next = next.map_or(Next::NotInstalled, |n| Next::Sends(Some(n)));
                        report_csv_lines(d.kind, &rows).map_err(failed)
                    }
                    Err(e) => Err(failed(e)),
                }
            }
            Next::NotInstalled => {
                d.next = Next::Done;
                let rows: Vec<_> = d
                    .scope
                    .not_installed
                    .iter()
                    .map(not_installed_row)
                    .collect();
                report_csv_lines(d.kind, &rows).map_err(failed)
            }
        };
        if bytes.is_err() {
            d.next = Next::Done;
        }
        Some((bytes.map(Bytes::from), d))
    })
}
