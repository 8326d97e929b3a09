//! The absence ladder: when a recipient is absent at their planned moment T, herald tries again
//! at T + 10 minutes, at the first full hour after that, and at the next business day's opening;
//! then the same four from the following business day at T's time of day, for `cycles` cycles
//! (3 by default: 12 attempts). Any attempt in a closed hour moves to the next opening; attempts
//! that would coincide or go backwards are dropped, so the ladder only ever climbs. After the
//! last attempt the recipient is expired.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

use super::hours::{BusinessHours, Side, resolve};

/// Every attempt for a recipient planned at `planned`, in order, the first being `planned`
/// itself (or the next opening, if `planned` is closed).
pub fn attempts(
    planned: DateTime<Utc>,
    tz: Tz,
    hours: &BusinessHours,
    cycles: u32,
) -> Vec<DateTime<Utc>> {
    let local = planned.with_timezone(&tz).naive_local();
    let time_of_day = local.time();
    let mut day = local.date();
    let mut raw = Vec::with_capacity(4 * cycles as usize);
    for cycle in 0..cycles {
        if cycle > 0 {
            match hours.business_day_after(day) {
                Some(next) => day = next,
                None => break,
            }
        }
        let first = if cycle == 0 {
            planned
        } else {
            resolve(tz, day.and_time(time_of_day), Side::Earliest)
        };
        let ten_later = first + TimeDelta::minutes(10);
        // The first full hour strictly after, on the local clock (zones with half-hour offsets).
        let ten_local = ten_later.with_timezone(&tz).naive_local();
        let hour_start = ten_local
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(ten_local);
        let full_hour = resolve(tz, hour_start + TimeDelta::hours(1), Side::Earliest);
        raw.push(first);
        raw.push(ten_later);
        raw.push(full_hour);
        if let Some(opening) = hours.opening_after_day(tz, day) {
            raw.push(opening);
        }
    }
    let mut out: Vec<DateTime<Utc>> = Vec::with_capacity(raw.len());
    for t in raw {
        let Some(t) = hours.next_open(tz, t) else {
            continue;
        };
        if out.last().is_none_or(|last| t > *last) {
            out.push(t);
        }
    }
    out
}

/// The day of the week, Monday = 0, of an instant in `tz`.
pub fn weekday(tz: Tz, t: DateTime<Utc>) -> usize {
    t.with_timezone(&tz).weekday().num_days_from_monday() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn paris() -> Tz {
        "Europe/Paris".parse().unwrap()
    }

    fn local(tz: Tz, s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        resolve(tz, naive, Side::Earliest)
    }

    fn show(tz: Tz, ts: &[DateTime<Utc>]) -> Vec<String> {
        ts.iter()
            .map(|t| t.with_timezone(&tz).format("%a %H:%M").to_string())
            .collect()
    }

    #[test]
    fn the_ladder_from_a_monday_at_14_27() {
        let tz = paris();
        let hours = BusinessHours::parse("Mon-Fri 09:00-18:00").unwrap();
        // 2026-11-30 is a Monday.
        let ladder = attempts(local(tz, "2026-11-30 14:27"), tz, &hours, 3);
        assert_eq!(
            show(tz, &ladder),
            [
                "Mon 14:27",
                "Mon 14:37",
                "Mon 15:00",
                "Tue 09:00",
                "Tue 14:27",
                "Tue 14:37",
                "Tue 15:00",
                "Wed 09:00",
                "Wed 14:27",
                "Wed 14:37",
                "Wed 15:00",
                "Thu 09:00",
            ]
        );
    }

    #[test]
    fn weekends_and_closed_hours_are_skipped() {
        let tz = paris();
        let hours = BusinessHours::parse("Mon-Fri 09:00-18:00").unwrap();
        // Friday 17:55: +10 min and the next full hour are after closing: Monday 09:00, once.
        let ladder = attempts(local(tz, "2026-12-04 17:55"), tz, &hours, 3);
        assert_eq!(
            show(tz, &ladder),
            [
                "Fri 17:55",
                "Mon 09:00",
                "Mon 17:55",
                "Tue 09:00",
                "Tue 17:55",
                "Wed 09:00",
            ]
        );
        // A lunch break moves the full hour to the afternoon opening.
        let split = BusinessHours::parse("Mon-Fri 09:00-12:00, Mon-Fri 14:00-18:00").unwrap();
        let ladder = attempts(local(tz, "2026-12-01 11:45"), tz, &split, 1);
        assert_eq!(
            show(tz, &ladder),
            ["Tue 11:45", "Tue 11:55", "Tue 14:00", "Wed 09:00"]
        );
    }

    #[test]
    fn cycles_are_configurable() {
        let tz = paris();
        let hours = BusinessHours::parse("Mon-Fri 09:00-18:00").unwrap();
        let t = local(tz, "2026-11-30 10:05");
        assert_eq!(attempts(t, tz, &hours, 1).len(), 4);
        assert_eq!(attempts(t, tz, &hours, 5).len(), 20);
    }

    proptest! {
        #[test]
        fn attempts_climb_stay_open_and_number_at_most_four_a_cycle(
            day in 0i64..365,
            minute in 0i64..1440,
            open in 0u32..(20 * 60),
            length in 30u32..(10 * 60),
            first_day in 0usize..7,
            last_day in 0usize..7,
            cycles in 1u32..5,
        ) {
            let tz = paris();
            let close = (open + length).min(24 * 60);
            let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let text = format!(
                "{}-{} {:02}:{:02}-{:02}:{:02}",
                days[first_day], days[last_day], open / 60, open % 60, close / 60, close % 60
            );
            let hours = BusinessHours::parse(&text).unwrap();
            let planned = local(tz, "2026-01-01 00:00") + TimeDelta::days(day) + TimeDelta::minutes(minute);
            let ladder = attempts(planned, tz, &hours, cycles);
            prop_assert!(!ladder.is_empty());
            prop_assert!(ladder.len() <= 4 * cycles as usize);
            prop_assert!(ladder[0] >= planned);
            for pair in ladder.windows(2) {
                prop_assert!(pair[0] < pair[1]);
            }
            for t in &ladder {
                prop_assert!(hours.is_open(tz, *t), "{} closed for {}", t, text);
            }
        }
    }
}
