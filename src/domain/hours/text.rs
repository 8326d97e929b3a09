//! Business hours as written: read from `Mon-Fri 09:00-18:00`, `Lun-Ven 9h-18h`, `always`, and
//! written back in the canonical English form that campaigns store.

use std::fmt;

use super::{BusinessHours, HoursError, Rule};

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
        Self::parse_text(input)
    }
}

/// As stored: the text `Display` wrote.
impl TryFrom<String> for BusinessHours {
    type Error = HoursError;

    fn try_from(s: String) -> Result<BusinessHours, HoursError> {
        BusinessHours::parse(&s)
    }
}

impl BusinessHours {
    fn parse_text(input: &str) -> Result<BusinessHours, HoursError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
