//! Business hours: `Mon-Fri 09:00-18:00`, several joined by commas, French day names accepted
//! (`Lun-Ven 09:00-18:00`), `24:00` as a closing time, or `always`. Read in a campaign's time
//! zone, with daylight-saving rules: an opening that falls in a skipped hour moves to the first
//! instant that exists; an ambiguous hour opens at its first occurrence and closes at its last.
//!
//! This file holds the hours and what they answer (open at an instant, the open parts of a
//! window); `text.rs` reads and writes them, `zone.rs` turns local times into instants.

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

mod text;
mod zone;

pub use zone::{Side, resolve};
use zone::{at_minute, constant_offset_pieces};

/// Days (Monday = 0) and opening hours, in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub days: [bool; 7],
    pub open: u32,
    pub close: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusinessHours {
    Always,
    Rules(Vec<Rule>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{part}` is not a business-hours range: {why}. Examples: Mon-Fri 09:00-18:00, Mon-Fri 09:00-12:00, Mon-Fri 14:00-18:00, Lun-Ven 09:00-18:00, always"
)]
pub struct HoursError {
    part: String,
    why: String,
}

impl BusinessHours {
    fn rules_on(&self, weekday: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
        let all: &[Rule] = match self {
            BusinessHours::Always => &[],
            BusinessHours::Rules(r) => r,
        };
        let always = matches!(self, BusinessHours::Always);
        always.then_some((0, 24 * 60)).into_iter().chain(
            all.iter()
                .filter(move |r| r.days[weekday])
                .map(|r| (r.open, r.close)),
        )
    }

    /// Whether any opening hours fall on this weekday (Monday = 0).
    pub fn is_business_day(&self, weekday: usize) -> bool {
        self.rules_on(weekday).next().is_some()
    }

    /// Whether herald may send at `at`, in `tz`.
    pub fn is_open(&self, tz: Tz, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&tz).naive_local();
        let minute = local.time().num_seconds_from_midnight() / 60;
        let weekday = local.weekday().num_days_from_monday() as usize;
        self.rules_on(weekday)
            .any(|(open, close)| open <= minute && minute < close)
    }

    /// The open parts of `[from, to)`, sorted and merged. Exact across daylight-saving
    /// changes: the window is cut where the zone's offset changes, and within each piece local
    /// and universal time differ by a constant.
    pub fn open_intervals(
        &self,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
        for (start, end, offset) in constant_offset_pieces(tz, from, to) {
            let (local_start, local_end) = (start.naive_utc() + offset, end.naive_utc() + offset);
            let mut day = local_start.date();
            while day <= local_end.date() {
                let weekday = day.weekday().num_days_from_monday() as usize;
                for (open, close) in self.rules_on(weekday) {
                    let a = at_minute(day, open).max(local_start);
                    let b = at_minute(day, close).min(local_end);
                    if a < b {
                        out.push(((a - offset).and_utc(), (b - offset).and_utc()));
                    }
                }
                day = day + Days::new(1);
            }
        }
        out.sort();
        let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(out.len());
        for (a, b) in out {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        merged
    }

    /// The first open instant at or after `at`, looking up to two weeks ahead.
    pub fn next_open(&self, tz: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(tz, at) {
            return Some(at);
        }
        self.open_intervals(tz, at, at + TimeDelta::days(15))
            .first()
            .map(|(a, _)| *a)
    }

    /// The first opening on the first business day after `date` (local).
    pub fn opening_after_day(&self, tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
        let mut day = date;
        for _ in 0..14 {
            day = day + Days::new(1);
            let weekday = day.weekday().num_days_from_monday() as usize;
            if let Some(open) = self.rules_on(weekday).map(|(o, _)| o).min() {
                return Some(resolve(tz, at_minute(day, open), Side::Earliest));
            }
        }
        None
    }

    /// The first business day after `date`.
    pub fn business_day_after(&self, date: NaiveDate) -> Option<NaiveDate> {
        (1..=14)
            .map(|n| date + Days::new(n))
            .find(|d| self.is_business_day(d.weekday().num_days_from_monday() as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn open_and_closed_moments() {
        let h = BusinessHours::parse("Mon-Fri 09:00-18:00").unwrap();
        // 2026-12-01 is a Tuesday; Paris is UTC+1 in winter.
        assert!(h.is_open(Paris, utc("2026-12-01T08:00:00Z")));
        assert!(!h.is_open(Paris, utc("2026-12-01T07:59:00Z")));
        assert!(!h.is_open(Paris, utc("2026-12-01T17:00:00Z")));
        assert!(!h.is_open(Paris, utc("2026-12-05T10:00:00Z")), "Saturday");
        assert_eq!(
            h.next_open(Paris, utc("2026-12-04T18:00:00Z")),
            Some(utc("2026-12-07T08:00:00Z")),
            "Friday evening opens Monday 09:00"
        );
    }

    #[test]
    fn intervals_are_clipped_and_merged() {
        let h = BusinessHours::parse("Mon-Fri 09:00-12:00, Mon-Fri 11:00-18:00").unwrap();
        let iv = h.open_intervals(
            Paris,
            utc("2026-12-01T09:30:00Z"),
            utc("2026-12-02T09:00:00Z"),
        );
        assert_eq!(
            iv,
            vec![
                (utc("2026-12-01T09:30:00Z"), utc("2026-12-01T17:00:00Z")),
                (utc("2026-12-02T08:00:00Z"), utc("2026-12-02T09:00:00Z")),
            ]
        );
    }

    #[test]
    fn a_change_of_offset_in_the_windows_last_hours_is_kept() {
        // Found by `planned_moments_are_always_inside_window_and_hours`: a change less than six
        // hours before the window's end was ignored, so 03:00-03:11 EDT read as 02:00-02:11
        // EST and was open. 8 March 2026, Montreal: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
        let tz: Tz = "America/Montreal".parse().unwrap();
        let night = BusinessHours::parse("Tue-Sun 00:00-02:11").unwrap();
        let iv = night.open_intervals(tz, utc("2026-03-08T04:00:00Z"), utc("2026-03-08T08:00:00Z"));
        assert_eq!(
            iv,
            vec![(utc("2026-03-08T05:00:00Z"), utc("2026-03-08T07:00:00Z"))]
        );
        assert!(!night.is_open(tz, utc("2026-03-08T07:02:50Z")));
    }

    #[test]
    fn daylight_saving_days_in_paris() {
        let night = BusinessHours::parse("Mon-Sun 01:00-04:00").unwrap();
        // 29 March 2026: 02:00 local jumps to 03:00, so the night has two open hours.
        let spring = night.open_intervals(
            Paris,
            utc("2026-03-28T12:00:00Z"),
            utc("2026-03-29T12:00:00Z"),
        );
        let total: i64 = spring.iter().map(|(a, b)| (*b - *a).num_minutes()).sum();
        assert_eq!(total, 120);
        // 25 October 2026: 03:00 local goes back to 02:00, so the night has four.
        let autumn = night.open_intervals(
            Paris,
            utc("2026-10-24T12:00:00Z"),
            utc("2026-10-25T12:00:00Z"),
        );
        let total: i64 = autumn.iter().map(|(a, b)| (*b - *a).num_minutes()).sum();
        assert_eq!(total, 240);
        // A closing inside the repeated hour: open in both occurrences up to 02:30, and not in
        // between (02:30-03:00 CEST reads 02:30 locally, which is closed).
        let early = BusinessHours::parse("Sun 01:00-02:30").unwrap();
        let iv = early.open_intervals(
            Paris,
            utc("2026-10-24T12:00:00Z"),
            utc("2026-10-25T12:00:00Z"),
        );
        assert_eq!(
            iv,
            vec![
                (utc("2026-10-24T23:00:00Z"), utc("2026-10-25T00:30:00Z")),
                (utc("2026-10-25T01:00:00Z"), utc("2026-10-25T01:30:00Z")),
            ]
        );
        for (a, b) in &iv {
            assert!(early.is_open(Paris, *a) && early.is_open(Paris, *b - TimeDelta::seconds(1)));
        }
        assert!(!early.is_open(Paris, utc("2026-10-25T00:45:00Z")));
        // An opening inside the skipped hour moves to its end.
        let gap = BusinessHours::parse("Sun 02:30-05:00").unwrap();
        let iv = gap.open_intervals(
            Paris,
            utc("2026-03-28T12:00:00Z"),
            utc("2026-03-29T12:00:00Z"),
        );
        assert_eq!(iv[0].0, utc("2026-03-29T01:00:00Z"), "03:00 CEST");
    }
}
