//! The report page's per-status counts, kept for a few seconds. They are the same for every
//! page, filter and search of one report, and counting 100,000 deliveries by status, read,
//! click and acknowledgement is most of the cost of a page: an admin paging, filtering and
//! searching a large report pays it once every [`FRESH_FOR`], not at every click. The rows and
//! the number matching a filter and search are always read live.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::domain::tracking::ReportKind;
use crate::store::reports::Report;
use crate::store::reports::select::{self, SendCounts};
use crate::store::{Conn, StoreError};

/// How long counts are shown again without being counted again.
pub const FRESH_FOR: Duration = Duration::from_secs(10);

/// Reports whose counts are kept at once (a few admins browsing a few reports).
const KEPT: usize = 64;

type Kept = HashMap<(ReportKind, String), (Instant, SendCounts)>;

fn kept() -> &'static Mutex<Kept> {
    static KEPT_COUNTS: OnceLock<Mutex<Kept>> = OnceLock::new();
    KEPT_COUNTS.get_or_init(Mutex::default)
}

/// The counts of report `kind`/`id`: as counted less than [`FRESH_FOR`] ago, or counted now.
pub fn send_counts(
    conn: &mut Conn<'_>,
    kind: ReportKind,
    id: &str,
    report: Report<'_>,
) -> Result<SendCounts, StoreError> {
    let key = (kind, id.to_string());
    let now = Instant::now();
    if let Some((at, counts)) = lock().get(&key)
        && now.duration_since(*at) < FRESH_FOR
    {
        return Ok(*counts);
    }
    let counts = select::send_counts(conn, report)?;
    let mut kept = lock();
    kept.retain(|_, (at, _)| now.duration_since(*at) < FRESH_FOR);
    if kept.len() < KEPT {
        kept.insert(key, (now, counts));
    }
    Ok(counts)
}

fn lock() -> std::sync::MutexGuard<'static, Kept> {
    // A panic while holding the lock leaves only counts behind: still good to read.
    kept()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
