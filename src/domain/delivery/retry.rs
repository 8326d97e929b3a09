//! What to do after a failed send: retry after a backoff, or give up with a reason. Pure: the
//! dispatcher asks, these functions decide.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// Why a send did not go through, as far as deciding what next is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// 429: wait `retry_after` when the connector gave it.
    Throttled { retry_after: Option<Duration> },
    /// 412, 502, 503, 504, a timeout or a broken connection.
    Transient { detail: String },
    /// The user removed or blocked the bot (403 with one of Teams' codes).
    RecipientGone { code: String },
    /// Any other refusal: retrying would not help.
    Permanent { status: u16, code: String },
}

/// Stable failure reasons, as stored and reported.
pub mod reason {
    pub const NOT_INSTALLED_OR_BLOCKED: &str = "not_installed_or_blocked";
    pub const NOT_INSTALLED: &str = "not_installed";
    pub const REFUSED: &str = "refused";
    pub const RETRIES_EXHAUSTED: &str = "retries_exhausted";
    pub const BAD_MESSAGE: &str = "bad_message";
    /// Stopped before it was sent: its broadcast was recalled.
    pub const RECALLED: &str = "recalled";
    /// A recall's delete with nothing to delete: the card never reached the chat.
    pub const NOT_SENT: &str = "not_sent";
    /// An update or a delete of a card whose chat was deleted: a chat opened again holds no
    /// earlier message to change.
    pub const CHAT_GONE: &str = "chat_gone";
    /// A broadcast reminder not sent: its recipient read (or acknowledged) the broadcast after
    /// it was queued.
    pub const REMINDER_SETTLED: &str = "reminder_settled";
    /// A card update not sent: the person acted on the card since (acknowledged, answered),
    /// and the card Teams shows already says more than this update would.
    pub const SUPERSEDED: &str = "superseded";
}

/// What to do after a failed send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Try again after `after`.
    Retry { after: Duration, detail: String },
    /// Stop: the delivery fails with `reason` (one of [`reason`]) and `detail`.
    Fail {
        reason: &'static str,
        detail: String,
        recipient_gone: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry): `base · 2^(retry-1)`, at
    /// most `max`, then scaled into `[½, 1]` of itself by `jitter` (a number in `[0, 1)`), so
    /// that senders throttled together do not come back together.
    pub fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let exponent = retry.saturating_sub(1).min(30);
        let full = self.base.saturating_mul(1u32 << exponent).min(self.max);
        // `clamp` keeps a NaN: the factor must be a number in [½, 1] for `mul_f64` not to panic.
        let jitter = if jitter.is_nan() {
            1.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        full.mul_f64(0.5 + 0.5 * jitter)
    }

    /// How long a throttled tenant and its delivery wait: the connector's `Retry-After`, but
    /// never more than `max` (a huge or far-future value must not stall the tenant), or the
    /// backoff when it gave none.
    pub fn throttle_wait(
        &self,
        retry_after: Option<Duration>,
        retry: u32,
        jitter: f64,
    ) -> Duration {
        match retry_after {
            Some(wait) => wait.min(self.max),
            None => self.backoff(retry, jitter),
        }
    }

    /// Decides after the `attempts`-th send (counting this one) failed with `failure`.
    pub fn decide(&self, failure: &SendFailure, attempts: u32, jitter: f64) -> Decision {
        let retry = |after: Duration, detail: String| {
            if attempts > self.max_retries {
                Decision::Fail {
                    reason: reason::RETRIES_EXHAUSTED,
                    detail: format!("{detail} (after {attempts} attempts)"),
                    recipient_gone: false,
                }
            } else {
                Decision::Retry { after, detail }
            }
        };
        match failure {
            SendFailure::Throttled {
                retry_after: Some(asked),
            } => {
                let wait = self.throttle_wait(Some(*asked), attempts, jitter);
                let detail = if wait < *asked {
                    format!(
                        "throttled (429), Retry-After capped at {}s",
                        wait.as_secs_f64()
                    )
                } else {
                    format!("throttled (429), Retry-After {}s", wait.as_secs_f64())
                };
                retry(wait, detail)
            }
            SendFailure::Throttled { retry_after: None } => retry(
                self.backoff(attempts, jitter),
                "throttled (429)".to_string(),
            ),
            SendFailure::Transient { detail } => {
                retry(self.backoff(attempts, jitter), detail.clone())
            }
            SendFailure::RecipientGone { code } => Decision::Fail {
                reason: reason::NOT_INSTALLED_OR_BLOCKED,
                detail: code.clone(),
                recipient_gone: true,
            },
            SendFailure::Permanent { status, code } => Decision::Fail {
                reason: reason::REFUSED,
                detail: format!("HTTP {status} {code}"),
                recipient_gone: false,
            },
        }
    }
}

/// `now + wait`, saturating instead of panicking: a wait too long for the calendar gives the
/// last moment chrono can represent.
pub fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(wait)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 3,
        base: Duration::from_secs(1),
        max: Duration::from_secs(10),
    };

    #[test]
    fn retry_after_is_waited_exactly() {
        let d = POLICY.decide(
            &SendFailure::Throttled {
                retry_after: Some(Duration::from_secs(2)),
            },
            1,
            0.99,
        );
        assert!(matches!(d, Decision::Retry { after, .. } if after == Duration::from_secs(2)));
    }

    #[test]
    fn a_retry_after_beyond_the_maximum_is_capped_at_it() {
        for asked in [
            Duration::from_secs(11),
            Duration::from_secs(1 << 40),
            Duration::MAX,
        ] {
            let d = POLICY.decide(
                &SendFailure::Throttled {
                    retry_after: Some(asked),
                },
                1,
                0.5,
            );
            assert!(
                matches!(&d, Decision::Retry { after, detail } if *after == POLICY.max && detail.contains("capped")),
                "{asked:?}: {d:?}"
            );
        }
        assert_eq!(
            POLICY.throttle_wait(None, 1, f64::NAN),
            Duration::from_secs(1)
        );
        assert_eq!(POLICY.backoff(2, f64::NAN), Duration::from_secs(2));
    }

    #[test]
    fn waits_become_moments_without_overflow() {
        let now = Utc::now();
        assert_eq!(
            later(now, Duration::from_secs(2)),
            now + TimeDelta::seconds(2)
        );
        assert_eq!(later(now, Duration::MAX), DateTime::<Utc>::MAX_UTC);
        let far = Duration::from_secs(300_000 * 365 * 24 * 3600);
        assert_eq!(later(now, far), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half() {
        assert_eq!(POLICY.backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(POLICY.backoff(2, 1.0), Duration::from_secs(2));
        assert_eq!(POLICY.backoff(3, 1.0), Duration::from_secs(4));
        assert_eq!(POLICY.backoff(5, 1.0), Duration::from_secs(10));
        assert_eq!(POLICY.backoff(60, 1.0), Duration::from_secs(10));
        assert_eq!(POLICY.backoff(3, 0.0), Duration::from_secs(2));
        for j in [0.0, 0.3, 0.99] {
            let d = POLICY.backoff(2, j);
            assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(2));
        }
    }

    #[test]
    fn transient_failures_retry_until_the_limit_then_fail() {
        let failure = SendFailure::Transient {
            detail: "HTTP 503".into(),
        };
        for attempts in 1..=3 {
            assert!(matches!(
                POLICY.decide(&failure, attempts, 0.5),
                Decision::Retry { .. }
            ));
        }
        assert!(matches!(
            POLICY.decide(&failure, 4, 0.5),
            Decision::Fail {
                reason: reason::RETRIES_EXHAUSTED,
                ..
            }
        ));
    }

    #[test]
    fn gone_and_refused_never_retry() {
        let gone = POLICY.decide(
            &SendFailure::RecipientGone {
                code: "ConversationBlockedByUser".into(),
            },
            1,
            0.5,
        );
        assert!(matches!(
            gone,
            Decision::Fail {
                reason: reason::NOT_INSTALLED_OR_BLOCKED,
                recipient_gone: true,
                ..
            }
        ));
        let refused = POLICY.decide(
            &SendFailure::Permanent {
                status: 404,
                code: "ConversationNotFound".into(),
            },
            1,
            0.5,
        );
        assert!(matches!(
            refused,
            Decision::Fail { reason: reason::REFUSED, recipient_gone: false, ref detail } if detail.contains("404")
        ));
    }
}
