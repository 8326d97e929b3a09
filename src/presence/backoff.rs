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

#[cfg(test)]
mod tests {
    use super::*;

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
