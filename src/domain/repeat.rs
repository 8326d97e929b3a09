//! A campaign's recurrence (`repeat:`): a 5-field cron expression (`0 9 * * MON`) read by
//! `croner` (the parser of the scheduler crate herald already runs on), or a word.
//!
//! Each occurrence is a run's start, in the campaign's zone, daylight-saving exact: a local
//! time the clocks skip becomes the first minute after the gap, a repeated one its first
//! instance (the same rule for cron expressions and words).
//!
//! The words count from the campaign's `start` (the anchor):
//! - `daily` (`quotidien`): every day at the start's local time;
//! - `weekly` (`hebdomadaire`): every week, on the start's weekday, at its local time;
//! - `monthly` (`mensuel`): every month, on the start's day of the month, at its local time; a
//!   month without that day (the 31st in April) runs on its last day.
//!
//! A cron expression's runs are its occurrences at or after the campaign's `start`.

use chrono::{DateTime, Months, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use super::hours::{Side, resolve};
use super::problem::Problem;

/// How a campaign repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recurrence {
    Daily,
    Weekly,
    Monthly,
    /// A 5-field cron expression, as typed (trimmed, single-spaced).
    Cron(String),
}

/// The `repeat:` field: a recurrence, or `no` to make a repeating campaign a one-off again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repeat {
    Never,
    Every(Recurrence),
}

/// Occurrences looked at to find a recurrence's shortest step, and how far ahead.
const STEP_SAMPLES: usize = 800;
const STEP_HORIZON_DAYS: i64 = 800;
/// Occurrences of a word skipped at most to find the next one after a moment (about 27 years
/// of daily runs): a series stopped longer than that is not resumed.
const MAX_STEPS: u32 = 10_000;

impl Repeat {
    /// Reads the field's value; the problem says what was wrong.
    pub fn parse(value: &str) -> Result<Repeat, Problem> {
        let v = value.trim();
        match v.to_lowercase().as_str() {
            "no" | "non" | "never" | "jamais" | "none" | "aucune" => return Ok(Repeat::Never),
            _ => {}
        }
        Recurrence::parse(v).map(Repeat::Every)
    }
}

impl Recurrence {
    /// A word (English or French) or a 5-field cron expression.
    pub fn parse(value: &str) -> Result<Recurrence, Problem> {
        let v = value.split_whitespace().collect::<Vec<_>>().join(" ");
        match v.to_lowercase().as_str() {
            "daily" | "quotidien" | "quotidienne" => return Ok(Recurrence::Daily),
            "weekly" | "hebdomadaire" => return Ok(Recurrence::Weekly),
            "monthly" | "mensuel" | "mensuelle" => return Ok(Recurrence::Monthly),
            "" => return Err(Problem::new("repeat-empty")),
            _ => {}
        }
        let fields = v.split(' ').count();
        if fields != 5 {
            return Err(Problem::new("repeat-not-five-fields")
                .with("value", v.as_str())
                .with_number("count", fields as i64));
        }
        match parser().parse(&v) {
            Ok(_) => Ok(Recurrence::Cron(v)),
            Err(_) => Err(Problem::new("repeat-not-a-cron").with("value", v.as_str())),
        }
    }

    /// As stored and shown: the word in English, or the expression.
    pub fn as_text(&self) -> &str {
        match self {
            Recurrence::Daily => "daily",
            Recurrence::Weekly => "weekly",
            Recurrence::Monthly => "monthly",
            Recurrence::Cron(e) => e,
        }
    }

    /// The first run at or after `start`: `start` itself for a word.
    pub fn first(&self, tz: Tz, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Recurrence::Cron(e) => cron_next(e, tz, start, true),
            _ => Some(start),
        }
    }

    /// The first run strictly after `after`, for a series whose first run was `anchor`.
    pub fn next_after(
        &self,
        tz: Tz,
        anchor: DateTime<Utc>,
        after: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        match self {
            Recurrence::Cron(e) => cron_next(e, tz, after, false),
            _ => {
                let local = anchor.with_timezone(&tz).naive_local();
                (1..=MAX_STEPS)
                    .filter_map(|n| self.word_step(local, n))
                    .map(|l| resolve(tz, l, Side::Earliest))
                    .find(|t| *t > after)
            }
        }
    }

    /// The next `count` runs after `after`.
    pub fn upcoming(
        &self,
        tz: Tz,
        anchor: DateTime<Utc>,
        after: DateTime<Utc>,
        count: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(count);
        let mut at = after;
        while out.len() < count {
            match self.next_after(tz, anchor, at) {
                Some(t) => {
                    out.push(t);
                    at = t;
                }
                None => break,
            }
        }
        out
    }

    /// The local time `n` steps after `local` (a word only).
    fn word_step(&self, local: NaiveDateTime, n: u32) -> Option<NaiveDateTime> {
        match self {
            Recurrence::Daily => local.checked_add_signed(TimeDelta::days(i64::from(n))),
            Recurrence::Weekly => local.checked_add_signed(TimeDelta::weeks(i64::from(n))),
            // chrono keeps the day of the month, or takes the month's last day.
            Recurrence::Monthly => local.checked_add_months(Months::new(n)),
            Recurrence::Cron(_) => None,
        }
    }

    /// The shortest time between two runs, on the clock of the campaign's zone (so `daily` is
    /// 24 hours even on the day the clocks change): a word's nominal step, or the shortest gap
    /// among a cron expression's next occurrences from `start`. `None`: it never occurs.
    pub fn shortest_step(&self, tz: Tz, start: DateTime<Utc>) -> Option<TimeDelta> {
        match self {
            Recurrence::Daily => Some(TimeDelta::days(1)),
            Recurrence::Weekly => Some(TimeDelta::weeks(1)),
            Recurrence::Monthly => Some(TimeDelta::days(28)),
            Recurrence::Cron(e) => {
                let cron = parser().parse(e).ok()?;
                let from = start.with_timezone(&tz);
                let horizon = start + TimeDelta::days(STEP_HORIZON_DAYS);
                let locals: Vec<NaiveDateTime> = cron
                    .iter_from(from, croner::Direction::Forward)
                    .take(STEP_SAMPLES)
                    .take_while(|t| t.with_timezone(&Utc) <= horizon)
                    .map(|t| t.naive_local())
                    .collect();
                match locals.as_slice() {
                    [] => None,
                    // One occurrence in the horizon: runs are at least that far apart.
                    [_] => Some(TimeDelta::days(STEP_HORIZON_DAYS)),
                    _ => locals.windows(2).map(|w| w[1] - w[0]).min(),
                }
            }
        }
    }
}

impl std::str::FromStr for Recurrence {
    type Err = Problem;

    fn from_str(s: &str) -> Result<Recurrence, Problem> {
        Recurrence::parse(s)
    }
}

impl std::fmt::Display for Recurrence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_text())
    }
}

/// Exactly five fields: minute, hour, day of month, month, day of week.
fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
}

fn cron_next(expr: &str, tz: Tz, from: DateTime<Utc>, inclusive: bool) -> Option<DateTime<Utc>> {
    let cron: Cron = parser().parse(expr).ok()?;
    cron.find_next_occurrence(&from.with_timezone(&tz), inclusive)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike, Weekday};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const PARIS: Tz = chrono_tz::Europe::Paris;

    #[test]
    fn words_in_english_and_french() {
        for (w, r) in [
            ("daily", Recurrence::Daily),
            ("Quotidien", Recurrence::Daily),
            ("weekly", Recurrence::Weekly),
            ("hebdomadaire", Recurrence::Weekly),
            ("MONTHLY", Recurrence::Monthly),
            ("mensuel", Recurrence::Monthly),
        ] {
            assert_eq!(Repeat::parse(w), Ok(Repeat::Every(r)), "{w}");
        }
        assert_eq!(Repeat::parse("non"), Ok(Repeat::Never));
        assert_eq!(Repeat::parse("never"), Ok(Repeat::Never));
        assert_eq!(
            Recurrence::parse(" 0  9 * * mon "),
            Ok(Recurrence::Cron("0 9 * * mon".into()))
        );
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        assert_eq!(
            Recurrence::parse("0 9 * *"),
            Err(Problem::new("repeat-not-five-fields")
                .with("value", "0 9 * *")
                .with_number("count", 4))
        );
        assert_eq!(
            Recurrence::parse("0 0 9 * * MON").unwrap_err().id,
            "repeat-not-five-fields"
        );
        for bad in ["61 9 * * MON", "0 25 * * *", "0 9 * * FUNDAY", "a b c d e"] {
            assert_eq!(
                Recurrence::parse(bad).unwrap_err().id,
                "repeat-not-a-cron",
                "{bad}"
            );
        }
        assert_eq!(Recurrence::parse("  ").unwrap_err().id, "repeat-empty");
        assert_eq!(
            Recurrence::parse("sometimes").unwrap_err().id,
            "repeat-not-five-fields"
        );
    }

    #[test]
    fn mondays_at_nine_stay_at_nine_in_paris_across_the_end_of_summer_time() {
        let r = Recurrence::parse("0 9 * * MON").unwrap();
        let start = utc("2026-10-05T00:00:00Z");
        let first = r.first(PARIS, start).unwrap();
        assert_eq!(first, utc("2026-10-05T07:00:00Z"));
        let runs = r.upcoming(PARIS, first, first, 4);
        let utc_hours: Vec<u32> = runs.iter().map(|t| t.hour()).collect();
        // 09:00 CEST is 07:00 UTC; from 2026-10-25, 09:00 CET is 08:00 UTC.
        assert_eq!(utc_hours, [7, 7, 8, 8]);
        for t in runs {
            let local = t.with_timezone(&PARIS);
            assert_eq!((local.weekday(), local.hour()), (Weekday::Mon, 9));
        }
    }

    #[test]
    fn a_word_keeps_the_starts_local_time_weekday_and_day() {
        let anchor = utc("2026-10-20T07:30:00Z"); // Tuesday 09:30 in Paris
        let daily = Recurrence::Daily.upcoming(PARIS, anchor, anchor, 7);
        assert!(daily.iter().all(|t| {
            let l = t.with_timezone(&PARIS);
            (l.hour(), l.minute()) == (9, 30)
        }));
        let weekly = Recurrence::Weekly.upcoming(PARIS, anchor, anchor, 3);
        assert!(
            weekly
                .iter()
                .all(|t| t.with_timezone(&PARIS).weekday() == Weekday::Tue)
        );
        assert_eq!(weekly[0], utc("2026-10-27T08:30:00Z"));
        // The 31st: months without one run on their last day, and the 31st comes back.
        let anchor = utc("2027-01-31T08:00:00Z");
        let days: Vec<u32> = Recurrence::Monthly
            .upcoming(PARIS, anchor, anchor, 3)
            .iter()
            .map(|t| t.with_timezone(&PARIS).day())
            .collect();
        assert_eq!(days, [28, 31, 30]);
    }

    #[test]
    fn a_skipped_local_time_runs_at_the_first_minute_after_the_gap() {
        // 2027-03-28 02:30 does not exist in Paris: 03:00 CEST.
        let anchor = utc("2027-03-27T01:30:00Z"); // 02:30 CET
        let next = Recurrence::Daily.next_after(PARIS, anchor, anchor).unwrap();
        assert_eq!(next, utc("2027-03-28T01:00:00Z"));
        let cron = Recurrence::parse("30 2 * * *").unwrap();
        assert_eq!(cron.next_after(PARIS, anchor, anchor), Some(next));
        // The repeated 02:30 of the end of summer time runs once, the first time.
        let anchor = utc("2026-10-24T00:30:00Z");
        let next = cron.next_after(PARIS, anchor, anchor).unwrap();
        assert_eq!(next, utc("2026-10-25T00:30:00Z"));
        let after = cron.next_after(PARIS, anchor, next).unwrap();
        assert_eq!(after, utc("2026-10-26T01:30:00Z"));
    }

    #[test]
    fn the_shortest_step_is_on_the_zones_clock() {
        let start = utc("2026-10-01T00:00:00Z");
        let s = |e: &str| Recurrence::parse(e).unwrap().shortest_step(PARIS, start);
        assert_eq!(s("0 9 * * MON"), Some(TimeDelta::weeks(1)));
        assert_eq!(s("0 9 * * *"), Some(TimeDelta::days(1)));
        assert_eq!(s("*/15 * * * *"), Some(TimeDelta::minutes(15)));
        assert_eq!(s("0 9 1,2 * *"), Some(TimeDelta::days(1)));
        assert_eq!(s("0 9,17 * * MON-FRI"), Some(TimeDelta::hours(8)));
        assert_eq!(s("0 9 30 2 *"), None);
        assert_eq!(
            Recurrence::Monthly.shortest_step(PARIS, start),
            Some(TimeDelta::days(28))
        );
    }
}
