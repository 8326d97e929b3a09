//! Business hours: `Mon-Fri 09:00-18:00`, several joined by commas, French day names accepted
//! (`Lun-Ven 09:00-18:00`), `24:00` as a closing time, or `always`. Read in a campaign's time
//! zone, with daylight-saving rules: an opening that falls in a skipped hour moves to the first
//! instant that exists; an ambiguous hour opens at its first occurrence and closes at its last.

use std::fmt;

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

const DAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const DAY_NAMES: [[&str; 4]; 7] = [
    ["mon", "monday", "lun", "lundi"],
    ["tue", "tuesday", "mar", "mardi"],
    ["wed", "wednesday", "mer", "mercredi"],
    ["thu", "thursday", "jeu", "jeudi"],
    ["fri", "friday", "ven", "vendredi"],
    ["sat", "saturday", "sam", "samedi"],
    ["sun", "sunday", "dim", "dimanche"],
];

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

fn day_index(word: &str) -> Option<usize> {
    let w = word.trim().to_lowercase();
    DAY_NAMES
        .iter()
        .position(|names| names.contains(&w.as_str()))
}

/// `09:00`, `9:00`, `9h`, `9h30`, `24:00`; minutes after midnight.
fn parse_time(text: &str) -> Option<u32> {
    let t = text.trim().to_lowercase();
    let (h, m) = match t.split_once([':', 'h']) {
        Some((h, m)) => (h, if m.is_empty() { "0" } else { m }),
        None => return None,
    };
    if h.is_empty()
        || h.len() > 2
        || m.len() > 2
        || !h.chars().chain(m.chars()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(24 * 60),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl BusinessHours {
    pub fn parse(input: &str) -> Result<BusinessHours, HoursError> {
        let trimmed = input.trim();
        if ["always", "toujours", "24/7"].contains(&trimmed.to_lowercase().as_str()) {
            return Ok(BusinessHours::Always);
        }
        let mut rules = Vec::new();
        for part in trimmed.split(',') {
            let part = part.trim();
            let err = |why: &str| HoursError {
                part: part.to_string(),
                why: why.to_string(),
            };
            if part.is_empty() {
                return Err(err("it is empty"));
            }
            let (days, times) = part
                .split_once(char::is_whitespace)
                .ok_or_else(|| err("give days, then a space, then hours"))?;
            let mut set = [false; 7];
            match days.split_once('-') {
                Some((a, b)) => {
                    let a = day_index(a).ok_or_else(|| err(&format!("`{a}` is not a day")))?;
                    let b = day_index(b).ok_or_else(|| err(&format!("`{b}` is not a day")))?;
                    let mut d = a;
                    loop {
                        set[d] = true;
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => {
                    let d =
                        day_index(days).ok_or_else(|| err(&format!("`{days}` is not a day")))?;
                    set[d] = true;
                }
            }
            let (open, close) = times
                .trim()
                .split_once('-')
                .ok_or_else(|| err("give the hours as opening-closing, e.g. 09:00-18:00"))?;
            let open =
                parse_time(open).ok_or_else(|| err(&format!("`{}` is not a time", open.trim())))?;
            let close = parse_time(close)
                .ok_or_else(|| err(&format!("`{}` is not a time", close.trim())))?;
            if open >= 24 * 60 {
                return Err(err("24:00 can only close a range"));
            }
            if close <= open {
                return Err(err("closing must be after opening"));
            }
            rules.push(Rule {
                days: set,
                open,
                close,
            });
        }
        Ok(BusinessHours::Rules(rules))
    }

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

impl fmt::Display for BusinessHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules = match self {
            BusinessHours::Always => return f.write_str("always"),
            BusinessHours::Rules(r) => r,
        };
        let parts: Vec<String> = rules
            .iter()
            .map(|r| {
                // Written as the runs of consecutive days, e.g. Mon-Fri or Sat.
                let mut runs = Vec::new();
                let mut d = 0;
                while d < 7 {
                    if r.days[d] {
                        let start = d;
                        while d + 1 < 7 && r.days[d + 1] {
                            d += 1;
                        }
                        runs.push(if start == d {
                            DAYS_EN[d].to_string()
                        } else {
                            format!("{}-{}", DAYS_EN[start], DAYS_EN[d])
                        });
                    }
                    d += 1;
                }
                runs.into_iter()
                    .map(|days| format!("{days} {}-{}", hhmm(r.open), hhmm(r.close)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// The zone's offset from UTC at `t`.
fn offset_at(tz: Tz, t: DateTime<Utc>) -> TimeDelta {
    use chrono::Offset;
    TimeDelta::seconds(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc() as i64,
    )
}

/// `[from, to)` cut where `tz` changes its offset, each piece with its offset.
fn constant_offset_pieces(
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, TimeDelta)> {
    // Offsets change at most a few times a year, never twice within six hours.
    const STEP: TimeDelta = TimeDelta::hours(6);
    let mut pieces = Vec::new();
    if from >= to {
        return pieces;
    }
    let (mut start, mut offset) = (from, offset_at(tz, from));
    let mut probe = from;
    while probe < to {
        let next = (probe + STEP).min(to);
        let next_offset = offset_at(tz, next);
        if next_offset != offset {
            // The change is in (probe, next]: find its second (zones change on whole seconds).
            let (mut lo, mut hi) = (probe.timestamp(), next.timestamp());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let at = DateTime::from_timestamp(mid, 0).unwrap_or(next);
                if offset_at(tz, at) == offset {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let hi = DateTime::from_timestamp(hi, 0).unwrap_or(next).max(start);
            // A change at `to` itself is outside the window; one before it, even in the last
            // step, starts a new piece.
            if hi < to {
                pieces.push((start, hi, offset));
                start = hi;
                offset = offset_at(tz, hi);
            }
        }
        probe = next;
    }
    pieces.push((start, to, offset));
    pieces
}

fn at_minute(day: NaiveDate, minute: u32) -> NaiveDateTime {
    let midnight = day.and_time(NaiveTime::MIN);
    midnight + TimeDelta::minutes(minute as i64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Earliest,
    Latest,
}

/// A local time as an instant: a skipped local time becomes the first instant after the gap;
/// a repeated one its first (`Earliest`) or second (`Latest`) occurrence.
pub fn resolve(tz: Tz, local: NaiveDateTime, side: Side) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => match side {
            Side::Earliest => a.with_timezone(&Utc),
            Side::Latest => b.with_timezone(&Utc),
        },
        LocalResult::None => {
            // In a gap (at most a few hours): the first minute that exists.
            let mut probe = local;
            for _ in 0..(6 * 60) {
                probe += TimeDelta::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            // No time zone skips six hours; fall back to reading the time as UTC.
            Utc.from_utc_datetime(&local)
        }
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
    fn english_and_french_ranges() {
        let a = BusinessHours::parse("Mon-Fri 09:00-18:00").unwrap();
        let b = BusinessHours::parse("Lun-Ven 9h-18h").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "Mon-Fri 09:00-18:00");
        let c = BusinessHours::parse("Mon-Fri 09:00-12:00, Mon-Fri 14:00-18:00, Sat 10:00-12:00")
            .unwrap();
        assert_eq!(
            c.to_string(),
            "Mon-Fri 09:00-12:00, Mon-Fri 14:00-18:00, Sat 10:00-12:00"
        );
        assert_eq!(
            BusinessHours::parse("always").unwrap(),
            BusinessHours::Always
        );
        assert_eq!(
            BusinessHours::parse("Toujours").unwrap(),
            BusinessHours::Always
        );
        let late = BusinessHours::parse("Fri-Mon 20:00-24:00").unwrap();
        assert_eq!(late.to_string(), "Mon 20:00-24:00, Fri-Sun 20:00-24:00");
    }

    #[test]
    fn mistakes_name_the_part_and_give_examples() {
        for (text, why) in [
            ("Mon-Fri", "then a space"),
            ("Mon-Fry 09:00-18:00", "`Fry` is not a day"),
            ("Mon-Fri 09:00", "opening-closing"),
            ("Mon-Fri 9:00-25:00", "`25:00` is not a time"),
            ("Mon-Fri 18:00-09:00", "closing must be after opening"),
            ("Mon-Fri 24:00-24:00", "24:00 can only close"),
            ("Mon-Fri 09:00-18:00,", "empty"),
        ] {
            let e = BusinessHours::parse(text).unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
            assert!(e.contains("Examples"), "{e}");
        }
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

    /// Each (weekday, open, close) the hours allow, sorted.
    fn slots(h: &BusinessHours) -> Vec<(usize, u32, u32)> {
        let BusinessHours::Rules(rules) = h else {
            return vec![];
        };
        let mut slots: Vec<_> = rules
            .iter()
            .flat_map(|r| (0..7).filter(|&d| r.days[d]).map(|d| (d, r.open, r.close)))
            .collect();
        slots.sort();
        slots.dedup();
        slots
    }

    fn rule() -> impl proptest::strategy::Strategy<Value = Rule> {
        use proptest::prelude::*;
        (1u8..128, 0u32..24 * 60, 1u32..=24 * 60).prop_map(|(days, open, length)| Rule {
            days: std::array::from_fn(|d| days & (1 << d) != 0),
            open,
            close: (open + length).min(24 * 60),
        })
    }

    proptest::proptest! {
        /// A campaign stores its hours as written by `Display` and the engine reads them back:
        /// any hours come back the same.
        #[test]
        fn written_hours_read_back_the_same(rules in proptest::collection::vec(rule(), 1..4)) {
            let hours = BusinessHours::Rules(rules);
            let again = BusinessHours::parse(&hours.to_string()).unwrap();
            proptest::prop_assert_eq!(slots(&again), slots(&hours));
        }
    }
}
