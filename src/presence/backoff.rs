//! When a failing Graph operation (a renewal, a create for a tenant) may be tried again: a pause
//! doubled at each failure in a row, never shorter than Graph's `Retry-After`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// The first pause after a failure.
const FIRST: TimeDelta = TimeDelta::seconds(5);
/// The longest pause the doubling reaches.
const LONGEST: TimeDelta = TimeDelta::minutes(5);
/// The longest `Retry-After` honoured as given (a longer one is cut to this).
const LONGEST_RETRY_AFTER: TimeDelta = TimeDelta::hours(1);

/// Failures in a row and the time before which nothing is tried again, by key.
#[derive(Debug, Default)]
pub struct Backoff {
    held: Mutex<BTreeMap<String, (u32, DateTime<Utc>)>>,
}

impl Backoff {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (u32, DateTime<Utc>)>> {
        // A poisoned lock only means a panic elsewhere; the map is still whole.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes a failure of `key` at `now` (Graph may have said how long to wait); returns when
    /// it may be tried again.
    pub fn failed(
        &self,
        key: &str,
        now: DateTime<Utc>,
        retry_after: Option<Duration>,
    ) -> DateTime<Utc> {
        let mut held = self.lock();
        let failures = held.get(key).map_or(0, |(n, _)| *n) + 1;
        let doubled = FIRST * 2i32.pow(failures.min(7) - 1);
        let mut wait = doubled.min(LONGEST);
        if let Some(asked) = retry_after.and_then(|d| TimeDelta::from_std(d).ok()) {
            wait = wait.max(asked.min(LONGEST_RETRY_AFTER));
        }
        let until = now + wait;
        held.insert(key.to_string(), (failures, until));
        until
    }

    /// Notes that `key` worked: no pause any more.
    pub fn succeeded(&self, key: &str) {
        self.lock().remove(key);
    }

    /// When `key` may be tried again, if it is held back at all.
    pub fn not_before(&self, key: &str) -> Option<DateTime<Utc>> {
        self.lock().get(key).map(|(_, t)| *t)
    }

    /// Whether `key` may be tried at `now`.
    pub fn due(&self, key: &str, now: DateTime<Utc>) -> bool {
        self.not_before(key).is_none_or(|t| t <= now)
    }

    /// Failures of `key` in a row.
    pub fn failures(&self, key: &str) -> u32 {
        self.lock().get(key).map_or(0, |(n, _)| *n)
    }
}

/// Failures of a create in a row after which an unreachable Graph, or one that cannot reach
/// herald in time, counts as a refusal.
const UNREACHABLE_IN_ROW: u32 = 3;

/// Whether a failed create (the `in_row`-th in a row for its tenant) means subscriptions
/// cannot work there for now, so the tenant is polled instead: Graph refuses (401, 403), Graph
/// could not validate herald's notification URL (400 `ValidationError`: the public URL is not
/// reachable from Graph), or it keeps failing as unreachable or 5xx.
pub fn falls_back(e: &crate::graph::GraphError, in_row: u32) -> bool {
    use crate::graph::GraphError;
    match e {
        GraphError::Refused {
            status: 401 | 403, ..
        } => true,
        GraphError::Refused { status: 400, code } => {
            code.to_ascii_lowercase().contains("validation")
        }
        GraphError::Refused { status, .. } if *status >= 500 => in_row >= UNREACHABLE_IN_ROW,
        GraphError::Unreachable(_) => in_row >= UNREACHABLE_IN_ROW,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_falls_back_to_polling() {
        use crate::graph::GraphError;
        let refused = |status: u16, code: &str| GraphError::Refused {
            status,
            code: code.into(),
        };
        assert!(falls_back(&refused(403, "x"), 1));
        assert!(falls_back(&refused(400, "ValidationError"), 1));
        assert!(!falls_back(&refused(400, "BadRequest"), 1));
        assert!(!falls_back(&GraphError::Unreachable("t".into()), 2));
        assert!(falls_back(&GraphError::Unreachable("t".into()), 3));
        assert!(!falls_back(&refused(503, "x"), 1));
        assert!(falls_back(&refused(504, "x"), 3));
        assert!(!falls_back(&GraphError::Throttled { retry_after: None }, 9));
    }

    #[test]
    fn pauses_double_and_honour_retry_after() {
        let b = Backoff::default();
        let now = Utc::now();
        assert!(b.due("s", now));
        assert_eq!(b.failed("s", now, None), now + TimeDelta::seconds(5));
        assert!(!b.due("s", now + TimeDelta::seconds(4)));
        assert!(b.due("s", now + TimeDelta::seconds(5)));
        assert_eq!(b.failed("s", now, None), now + TimeDelta::seconds(10));
        assert_eq!(
            b.failed("s", now, Some(Duration::from_secs(120))),
            now + TimeDelta::seconds(120)
        );
        for _ in 0..10 {
            b.failed("s", now, None);
        }
        assert_eq!(b.not_before("s"), Some(now + TimeDelta::minutes(5)));
        assert_eq!(b.failures("s"), 13);
        b.succeeded("s");
        assert!(b.due("s", now));
        assert_eq!(b.failures("s"), 0);
    }
}
