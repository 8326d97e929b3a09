//! The `Retry-After` of a throttled answer, read without ever panicking.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// `Retry-After` in seconds (or an HTTP date, read as the time left until it). Whatever the
/// connector sends, this never panics: a wait too long to represent (`1e30`, `inf`, a date
/// centuries ahead) saturates at `Duration::MAX` for the caller to cap, a date in the past is
/// no wait, and what is neither a wait nor a date (`-1`, `NaN`, garbage) is no `Retry-After`.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, chrono::Utc::now())
}

fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return match secs {
            s if s.is_nan() || s < 0.0 => None,
            s => Some(Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX)),
        };
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let left = when.with_timezone(&chrono::Utc).signed_duration_since(now);
    // Negative (a date in the past) is no wait; `to_std` cannot overflow a `Duration`.
    Some(left.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn retry_after_never_panics_whatever_the_connector_sends() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let parse = |v: &str| parse_retry_after(v, now);
        // Too long to represent: saturates, for the engine to cap at `delivery.retry_max`.
        for huge in ["1e30", "inf", "Infinity", "18446744073709551616", "1e400"] {
            assert_eq!(parse(huge), Some(Duration::MAX), "{huge}");
        }
        // Neither a wait nor a date: as if no Retry-After was given.
        for bad in [
            "-1",
            "-0.5",
            "NaN",
            "-inf",
            "",
            "soon",
            "1e",
            "Wed, 99 Foo 2300",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse(" 2.5 "), Some(Duration::from_millis(2500)));
        assert_eq!(parse("0"), Some(Duration::ZERO));
        // Dates: far ahead is a long wait (capped later), past is none.
        let far = parse("Mon, 01 Jan 2300 00:00:00 GMT").unwrap();
        assert!(far > Duration::from_secs(270 * 365 * 24 * 3600), "{far:?}");
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(
            parse("Mon, 30 Nov 2026 00:00:03 GMT"),
            Some(Duration::from_secs(3))
        );
    }

    proptest::proptest! {
        /// Any header text at all: an answer, never a panic.
        #[test]
        fn any_retry_after_text_is_read_without_panic(v in "\\PC{0,40}") {
            let _ = parse_retry_after(&v, chrono::Utc::now());
        }
    }
}
