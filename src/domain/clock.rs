//! Time as an injected dependency, so tests can run days of schedule in milliseconds.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Resolves once `now()` has reached `t`.
    fn sleep_until(&self, t: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let wait = (t - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that only moves when told: tests run days of schedule in milliseconds. Sleepers wake
/// as soon as an advance reaches their moment. Advance while the engine is idle: leases are
/// measured on this clock too, so jumping past an in-flight send's lease makes it look abandoned
/// (and sent again), as a real crash would.
///
/// It also tells who is waiting on it ([`ManualClock::sleepers`]): a test can wait until the
/// dispatcher has gone idle until a given moment instead of sleeping to see that nothing happens.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<tokio::sync::watch::Sender<DateTime<Utc>>>,
    sleepers: Arc<Mutex<Sleepers>>,
}

/// The moments the clock's current sleepers wait for, by sleeper.
#[derive(Debug, Default)]
struct Sleepers {
    next_id: u64,
    waiting: BTreeMap<u64, DateTime<Utc>>,
}

/// Removes its sleeper from the clock's list when the sleep ends or is dropped.
struct Sleeping {
    id: u64,
    sleepers: Arc<Mutex<Sleepers>>,
}

impl Drop for Sleeping {
    fn drop(&mut self) {
        lock(&self.sleepers).waiting.remove(&self.id);
    }
}

fn lock(sleepers: &Mutex<Sleepers>) -> std::sync::MutexGuard<'_, Sleepers> {
    // The list holds plain values: one left by a panicking holder is still consistent.
    sleepers.lock().unwrap_or_else(|e| e.into_inner())
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        let (tx, _) = tokio::sync::watch::channel(start);
        ManualClock {
            now: Arc::new(tx),
            sleepers: Arc::default(),
        }
    }

    /// Moves time forward (never backwards).
    pub fn advance(&self, by: chrono::TimeDelta) {
        self.now
            .send_modify(|t| *t += by.max(chrono::TimeDelta::zero()));
    }

    /// Moves time to `t` if that is later than now.
    pub fn set(&self, t: DateTime<Utc>) {
        self.now.send_modify(|now| *now = (*now).max(t));
    }

    /// The moments the sleepers now waiting on this clock wait for, earliest first.
    pub fn sleepers(&self) -> Vec<DateTime<Utc>> {
        let mut moments: Vec<_> = lock(&self.sleepers).waiting.values().copied().collect();
        moments.sort();
        moments
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let mut rx = self.now.subscribe();
        let sleeping = {
            let mut sleepers = lock(&self.sleepers);
            let id = sleepers.next_id;
            sleepers.next_id += 1;
            sleepers.waiting.insert(id, t);
            Sleeping {
                id,
                sleepers: self.sleepers.clone(),
            }
        };
        Box::pin(async move {
            let _sleeping = sleeping;
            // Ends when time reaches `t`; a dropped clock never wakes its sleepers (as a
            // stopped wall clock would not).
            let _ = rx.wait_for(|now| *now >= t).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[tokio::test]
    async fn a_sleeper_wakes_when_time_is_advanced_past_its_moment() {
        let start = Utc::now();
        let clock = ManualClock::new(start);
        let mut sleeper = clock.sleep_until(start + TimeDelta::hours(26));
        clock.advance(TimeDelta::hours(25));
        // Polled once after the advance: still waiting.
        assert!(futures_util::FutureExt::now_or_never(&mut sleeper).is_none());
        clock.advance(TimeDelta::hours(1));
        tokio::time::timeout(std::time::Duration::from_secs(1), sleeper)
            .await
            .expect("woke up");
        assert_eq!(clock.now(), start + TimeDelta::hours(26));
        clock.set(start);
        assert_eq!(clock.now(), start + TimeDelta::hours(26), "never backwards");
    }

    #[tokio::test]
    async fn the_clock_tells_what_its_sleepers_wait_for() {
        let start = Utc::now();
        let clock = ManualClock::new(start);
        assert!(clock.sleepers().is_empty());
        let later = clock.sleep_until(start + TimeDelta::hours(2));
        let sooner = tokio::spawn(clock.sleep_until(start + TimeDelta::hours(1)));
        assert_eq!(
            clock.sleepers(),
            [start + TimeDelta::hours(1), start + TimeDelta::hours(2)]
        );
        drop(later);
        assert_eq!(clock.sleepers(), [start + TimeDelta::hours(1)]);
        clock.advance(TimeDelta::hours(1));
        tokio::time::timeout(std::time::Duration::from_secs(1), sooner)
            .await
            .expect("woke up")
            .unwrap();
        assert!(
            clock.sleepers().is_empty(),
            "a sleep that ended is forgotten"
        );
    }
}
