//! Time as an injected dependency, so tests can run days of schedule in milliseconds.

use std::future::Future;
use std::pin::Pin;

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
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: std::sync::Arc<tokio::sync::watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        let (tx, _) = tokio::sync::watch::channel(start);
        ManualClock {
            now: std::sync::Arc::new(tx),
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
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
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
        let sleeper = tokio::spawn(clock.sleep_until(start + TimeDelta::hours(26)));
        clock.advance(TimeDelta::hours(25));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!sleeper.is_finished());
        clock.advance(TimeDelta::hours(1));
        tokio::time::timeout(std::time::Duration::from_secs(1), sleeper)
            .await
            .expect("woke up")
            .unwrap();
        assert_eq!(clock.now(), start + TimeDelta::hours(26));
        clock.set(start);
        assert_eq!(clock.now(), start + TimeDelta::hours(26), "never backwards");
    }
}
