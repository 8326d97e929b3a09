//! The spread: each recipient's moment, drawn uniformly over the open part of a campaign's
//! window. The draw is seeded and the seed stored, so a plan can be made again identically.

use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpreadError {
    #[error("the window has no business time in it")]
    NoOpenTime,
}

/// `count` moments, uniform over the union of `intervals` (sorted, disjoint), to the second.
/// ChaCha8 keeps the same seed giving the same plan across versions.
pub fn plan(
    intervals: &[(DateTime<Utc>, DateTime<Utc>)],
    count: usize,
    seed: u64,
) -> Result<Vec<DateTime<Utc>>, SpreadError> {
    // Cumulative open seconds at the end of each interval.
    let mut ends = Vec::with_capacity(intervals.len());
    let mut total: i64 = 0;
    for (a, b) in intervals {
        total += (*b - *a).num_seconds().max(0);
        ends.push(total);
    }
    if total <= 0 {
        return Err(SpreadError::NoOpenTime);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok((0..count)
        .map(|_| {
            let x = rng.random_range(0..total);
            // The first interval whose cumulative end is beyond x.
            let i = ends.partition_point(|end| *end <= x);
            let before = if i == 0 { 0 } else { ends[i - 1] };
            intervals[i].0 + TimeDelta::seconds(x - before)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::hours::BusinessHours;
    use chrono_tz::Tz;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Chi-square statistic of `moments` against a uniform spread over `buckets` equal slices
    /// of open time.
    fn chi_square(
        intervals: &[(DateTime<Utc>, DateTime<Utc>)],
        moments: &[DateTime<Utc>],
        buckets: usize,
    ) -> f64 {
        let total: i64 = intervals.iter().map(|(a, b)| (*b - *a).num_seconds()).sum();
        let mut counts = vec![0usize; buckets];
        for m in moments {
            // Open seconds before m.
            let mut offset = 0;
            for (a, b) in intervals {
                if m >= b {
                    offset += (*b - *a).num_seconds();
                } else {
                    offset += (*m - *a).num_seconds();
                    break;
                }
            }
            let k = ((offset as f64 / total as f64) * buckets as f64) as usize;
            counts[k.min(buckets - 1)] += 1;
        }
        let expected = moments.len() as f64 / buckets as f64;
        counts
            .iter()
            .map(|c| (*c as f64 - expected).powi(2) / expected)
            .sum()
    }

    /// Critical value of chi-square with 19 degrees of freedom at the 1% level.
    const CHI2_19_1PCT: f64 = 36.191;

    #[test]
    fn ten_thousand_moments_are_uniform_over_open_time() {
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let hours = BusinessHours::parse("Mon-Fri 09:00-12:00, Mon-Fri 14:00-18:00").unwrap();
        let (from, to) = (utc("2026-12-01T08:30:00Z"), utc("2026-12-08T08:30:00Z"));
        let iv = hours.open_intervals(tz, from, to);
        let moments = plan(&iv, 10_000, 42).unwrap();
        for m in &moments {
            assert!(*m >= from && *m < to);
            assert!(hours.is_open(tz, *m), "{m} is closed");
        }
        let chi = chi_square(&iv, &moments, 20);
        assert!(chi < CHI2_19_1PCT, "chi-square {chi:.1}");
    }

    #[test]
    fn uniform_across_both_daylight_saving_changes_in_paris() {
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let hours = BusinessHours::parse("always").unwrap();
        for (from, to) in [
            ("2026-03-28T20:00:00Z", "2026-03-29T08:00:00Z"),
            ("2026-10-24T20:00:00Z", "2026-10-25T08:00:00Z"),
        ] {
            let (from, to) = (utc(from), utc(to));
            let iv = hours.open_intervals(tz, from, to);
            let moments = plan(&iv, 10_000, 7).unwrap();
            assert!(moments.iter().all(|m| *m >= from && *m < to));
            let chi = chi_square(&iv, &moments, 20);
            assert!(chi < CHI2_19_1PCT, "chi-square {chi:.1} for {from}");
        }
        // With business hours crossing the changes, nothing lands in a closed or missing hour.
        let night = BusinessHours::parse("Mon-Sun 01:00-04:00").unwrap();
        let (from, to) = (utc("2026-03-28T00:00:00Z"), utc("2026-03-30T00:00:00Z"));
        let iv = night.open_intervals(tz, from, to);
        let moments = plan(&iv, 10_000, 9).unwrap();
        assert!(moments.iter().all(|m| night.is_open(tz, *m)));
        assert!(chi_square(&iv, &moments, 20) < CHI2_19_1PCT);
    }

    #[test]
    fn a_seed_gives_the_same_plan_and_no_time_is_an_error() {
        let iv = [(utc("2026-12-01T08:00:00Z"), utc("2026-12-01T10:00:00Z"))];
        assert_eq!(plan(&iv, 50, 1).unwrap(), plan(&iv, 50, 1).unwrap());
        assert_ne!(plan(&iv, 50, 1).unwrap(), plan(&iv, 50, 2).unwrap());
        assert_eq!(plan(&[], 3, 1), Err(SpreadError::NoOpenTime));
    }

    const ZONES: [&str; 6] = [
        "Europe/Paris",
        "America/Montreal",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "UTC",
    ];

    proptest! {
        #[test]
        fn planned_moments_are_always_inside_window_and_hours(
            zone in 0usize..ZONES.len(),
            start_days in 0i64..400,
            start_minute in 0i64..1440,
            window_minutes in 1i64..(20 * 24 * 60),
            first_day in 0usize..7,
            last_day in 0usize..7,
            open in 0u32..(23 * 60),
            length in 1u32..(6 * 60),
            seed in any::<u64>(),
        ) {
            let tz: Tz = ZONES[zone].parse().unwrap();
            let close = (open + length).min(24 * 60);
            let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let text = format!(
                "{}-{} {:02}:{:02}-{:02}:{:02}",
                days[first_day], days[last_day], open / 60, open % 60, close / 60, close % 60
            );
            let hours = BusinessHours::parse(&text).unwrap();
            let from = utc("2026-01-01T00:00:00Z") + TimeDelta::days(start_days) + TimeDelta::minutes(start_minute);
            let to = from + TimeDelta::minutes(window_minutes);
            let iv = hours.open_intervals(tz, from, to);
            match plan(&iv, 200, seed) {
                Ok(moments) => {
                    for m in moments {
                        prop_assert!(m >= from && m < to);
                        prop_assert!(hours.is_open(tz, m), "{} closed for {}", m, text);
                    }
                }
                Err(SpreadError::NoOpenTime) => {
                    // Then truly nothing in the window is open: check every 10 minutes.
                    let mut t = from;
                    while t < to {
                        prop_assert!(!hours.is_open(tz, t) || (to - t) < TimeDelta::seconds(1));
                        t += TimeDelta::minutes(10);
                    }
                }
            }
        }
    }
}
