//! The report page's counts, kept for a few seconds. The per-status counts are the same for
//! every page, filter and search of one report, and counting 100,000 deliveries by status,
//! read, click and acknowledgement is most of the cost of a page: an admin paging, filtering
//! and searching a large report pays it once every [`FRESH_FOR`], not at every click. So is
//! the number matching a search too broad to be found in one pass (a word every address
//! holds): paging through it counts it once. The rows, and a narrower search's matches, are
//! always read live.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::domain::report_filter::{Search, StatusFilter};
use crate::domain::tracking::ReportKind;
use crate::store::reports::Report;
use crate::store::reports::select::{self, Hits, SendCounts};
use crate::store::{Conn, StoreError};

/// How long counts are shown again without being counted again.
pub const FRESH_FOR: Duration = Duration::from_secs(10);

/// Counts kept at once, of each kind (a few admins browsing a few reports).
const KEPT: usize = 64;

type ReportKey = (ReportKind, String);
type SearchKey = (ReportKind, String, StatusFilter, Search);

/// Values counted at an instant, by key, at most [`KEPT`] of them.
struct Kept<K, V>(OnceLock<Mutex<HashMap<K, (Instant, V)>>>);

impl<K: Hash + Eq, V: Copy> Kept<K, V> {
    const fn new() -> Self {
        Kept(OnceLock::new())
    }

    /// The value of `key` as counted less than [`FRESH_FOR`] ago, or counted now by `count`.
    fn get_or<E>(&self, key: K, count: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        let now = Instant::now();
        if let Some((at, value)) = self.lock().get(&key)
            && now.duration_since(*at) < FRESH_FOR
        {
            return Ok(*value);
        }
        let value = count()?;
        let mut kept = self.lock();
        kept.retain(|_, (at, _)| now.duration_since(*at) < FRESH_FOR);
        if kept.len() < KEPT {
            kept.insert(key, (now, value));
        }
        Ok(value)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, (Instant, V)>> {
        // A panic while holding the lock leaves only counts behind: still good to read.
        self.0
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

static SEND_COUNTS: Kept<ReportKey, SendCounts> = Kept::new();
static SEARCH_TOTALS: Kept<SearchKey, i64> = Kept::new();

/// The counts of report `kind`/`id`: as counted less than [`FRESH_FOR`] ago, or counted now.
pub fn send_counts(
    conn: &mut Conn<'_>,
    kind: ReportKind,
    id: &str,
    report: Report<'_>,
) -> Result<SendCounts, StoreError> {
    SEND_COUNTS.get_or((kind, id.to_string()), || select::send_counts(conn, report))
}

/// The send deliveries of report `kind`/`id` passing `filter` and `search`: the first pass's
/// read live; how many in all, when the first pass could not hold them, as counted less than
/// [`FRESH_FOR`] ago or counted now.
pub fn search_hits(
    conn: &mut Conn<'_>,
    kind: ReportKind,
    id: &str,
    report: Report<'_>,
    filter: StatusFilter,
    search: &Search,
) -> Result<Hits, StoreError> {
    let first = select::first_hits(conn, report, filter, search, select::FIRST_HITS)?;
    if !Hits::is_full(&first, select::FIRST_HITS) {
        return Ok(Hits::all(first));
    }
    let key = (kind, id.to_string(), filter, search.clone());
    let total =
        SEARCH_TOTALS.get_or(key, || select::matching_sends(conn, report, filter, search))?;
    Ok(Hits::many(first, total))
}
