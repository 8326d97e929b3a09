//! A campaign's window length: `90m`, `2h`, `3d`, or a mix such as `1h30m` (French `j` for days).

use std::fmt;

use chrono::TimeDelta;

use super::problem::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLength(TimeDelta);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a duration: {}. Examples: 90m, 2h, 3d, 1h30m", .why.english())]
pub struct DurationError {
    input: String,
    why: Why,
}

/// What is wrong with a duration; its catalogue keyword and its English wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Empty,
    Units,
    NumberFirst,
    Order,
    TooLarge,
    NoUnit,
    Zero,
    TooLong,
}

impl Why {
    fn key(self) -> &'static str {
        match self {
            Why::Empty => "empty",
            Why::Units => "units",
            Why::NumberFirst => "number-first",
            Why::Order => "order",
            Why::TooLarge => "too-large",
            Why::NoUnit => "no-unit",
            Why::Zero => "zero",
            Why::TooLong => "too-long",
        }
    }

    fn english(self) -> &'static str {
        match self {
            Why::Empty => "it is empty",
            Why::Units => "use only numbers followed by m, h or d",
            Why::NumberFirst => "each unit needs a number before it",
            Why::Order => "give days, then hours, then minutes, each once",
            Why::TooLarge => "the number is too large",
            Why::NoUnit => "a number needs a unit (m, h or d)",
            Why::Zero => "it must be longer than zero",
            Why::TooLong => "it must be at most 366 days",
        }
    }
}

impl DurationError {
    /// The error as a catalogue problem (`duration-invalid`), said in the reader's language.
    pub fn problem(&self) -> Problem {
        Problem::new("duration-invalid")
            .with("value", self.input.as_str())
            .with("why", self.why.key())
    }
}

/// Longest window accepted: a campaign spread over more than a year is a mistake.
pub const MAX_DAYS: i64 = 366;

impl WindowLength {
    pub fn parse(input: &str) -> Result<WindowLength, DurationError> {
        let err = |why| DurationError {
            input: input.to_string(),
            why,
        };
        let text: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        if text.is_empty() {
            return Err(err(Why::Empty));
        }
        let mut total = TimeDelta::zero();
        let mut number = String::new();
        let mut last_unit = u8::MAX;
        for ch in text.chars() {
            if ch.is_ascii_digit() {
                number.push(ch);
                continue;
            }
            let (rank, minutes) = match ch {
                'd' | 'j' => (0, 24 * 60),
                'h' => (1, 60),
                'm' => (2, 1),
                _ => return Err(err(Why::Units)),
            };
            if number.is_empty() {
                return Err(err(Why::NumberFirst));
            }
            if last_unit != u8::MAX && rank <= last_unit {
                return Err(err(Why::Order));
            }
            last_unit = rank;
            let n: i64 = number.parse().map_err(|_| err(Why::TooLarge))?;
            number.clear();
            total = n
                .checked_mul(minutes)
                .and_then(TimeDelta::try_minutes)
                .and_then(|d| total.checked_add(&d))
                .ok_or_else(|| err(Why::TooLarge))?;
        }
        if !number.is_empty() {
            return Err(err(Why::NoUnit));
        }
        if total <= TimeDelta::zero() {
            return Err(err(Why::Zero));
        }
        if total > TimeDelta::days(MAX_DAYS) {
            return Err(err(Why::TooLong));
        }
        Ok(WindowLength(total))
    }

    pub fn as_delta(self) -> TimeDelta {
        self.0
    }

    pub fn minutes(self) -> i64 {
        self.0.num_minutes()
    }

    pub fn from_minutes(minutes: i64) -> Option<WindowLength> {
        (minutes > 0 && minutes <= MAX_DAYS * 24 * 60)
            .then(|| WindowLength(TimeDelta::minutes(minutes)))
    }
}

/// The shortest way to write it: `1h30m`, `3d`.
impl fmt::Display for WindowLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = self.0.num_minutes();
        let (d, h) = (m / (24 * 60), (m / 60) % 24);
        m %= 60;
        if d > 0 {
            write!(f, "{d}d")?;
        }
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_mixes() {
        for (text, minutes) in [
            ("90m", 90),
            ("2h", 120),
            ("3d", 3 * 24 * 60),
            ("1h30m", 90),
            ("1d 2h", 26 * 60),
            ("2J", 2 * 24 * 60),
            (" 45 M ", 45),
        ] {
            assert_eq!(
                WindowLength::parse(text).unwrap().minutes(),
                minutes,
                "{text}"
            );
        }
    }

    #[test]
    fn mistakes_are_explained() {
        for (text, why) in [
            ("", "empty"),
            ("2", "needs a unit"),
            ("h", "number before"),
            ("2x", "only numbers"),
            ("30m1h", "days, then hours"),
            ("1h1h", "days, then hours"),
            ("0m", "longer than zero"),
            ("400d", "366"),
            ("99999999999999999999m", "too large"),
        ] {
            let e = WindowLength::parse(text).unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
            assert!(e.contains("Examples"), "{e}");
        }
    }

    #[test]
    fn displays_back_to_a_parsable_form() {
        for text in ["90m", "2h", "3d", "1d2h5m"] {
            let d = WindowLength::parse(text).unwrap();
            assert_eq!(WindowLength::parse(&d.to_string()).unwrap(), d);
        }
        assert_eq!(WindowLength::parse("90m").unwrap().to_string(), "1h30m");
    }

    proptest::proptest! {
        /// The edit form shows a window as written by `Display`; every length reads back.
        #[test]
        fn every_length_reads_back_from_how_it_is_written(minutes in 1..=MAX_DAYS * 24 * 60) {
            let d = WindowLength::from_minutes(minutes).unwrap();
            proptest::prop_assert_eq!(WindowLength::parse(&d.to_string()), Ok(d));
            proptest::prop_assert_eq!(d.minutes(), minutes);
        }
    }
}
