//! Scheduled broadcasts, the pure part: the `send:` line (`envoi:`) read as a moment in the
//! sender's zone (or the `timezone:` line's), refused when it does not exist there or has
//! passed.

use chrono::{DateTime, Datelike, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::commands::FieldError;
use super::problem::Problem;

pub const SEND_EXAMPLE: &str = "send: 2026-12-01 09:00";
pub const ZONE_EXAMPLE: &str = "timezone: Europe/Paris";

/// A scheduled moment (UTC) as the admin reads it: local time and zone abbreviation in the zone
/// it was given in, then the zone's name (`2026-12-01 09:00 CET (Europe/Paris)`).
pub fn shown(at: NaiveDateTime, zone: Tz) -> String {
    let local = at
        .and_utc()
        .with_timezone(&zone)
        .format("%Y-%m-%d %H:%M %Z");
    format!("{local} ({})", zone.name())
}

/// The `send:` value as typed: a date and a time, `YYYY-MM-DD HH:MM` (four-digit years).
pub fn parse_send(value: &str) -> Result<NaiveDateTime, FieldError> {
    let value = value.trim();
    NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M")
        .ok()
        .filter(|t| (1..=9999).contains(&t.year()))
        .ok_or_else(|| {
            FieldError::new(
                "send",
                Problem::new("schedule-not-a-date-time").with("value", value),
                SEND_EXAMPLE,
            )
        })
}

/// The `timezone:` value of a broadcast: an IANA zone.
pub fn parse_zone(value: &str) -> Result<Tz, FieldError> {
    let value = value.trim();
    value.parse::<Tz>().map_err(|_| {
        FieldError::new(
            "timezone",
            Problem::new("field-not-a-time-zone").with("value", value),
            ZONE_EXAMPLE,
        )
    })
}

/// When a broadcast is to go: the moment `local` names in `zone`, which must still be ahead
/// of `now`. A local time the clocks skip (spring forward) is refused; one they repeat (fall
/// back) is its first occurrence.
pub fn send_moment(
    local: NaiveDateTime,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FieldError> {
    let shown = local.format("%Y-%m-%d %H:%M").to_string();
    let at = match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            return Err(FieldError::new(
                "send",
                Problem::new("schedule-skipped-time")
                    .with("value", shown)
                    .with("zone", zone.name()),
                SEND_EXAMPLE,
            ));
        }
    };
    if at < now {
        let now_there = now
            .with_timezone(&zone)
            .format("%Y-%m-%d %H:%M")
            .to_string();
        return Err(FieldError::new(
            "send",
            Problem::new("schedule-in-past")
                .with("value", shown)
                .with("zone", zone.name())
                .with("now", now_there),
            SEND_EXAMPLE,
        ));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_time_is_read_in_its_zone() {
        let local = parse_send(" 2026-12-01 09:00 ").unwrap();
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let at = send_moment(local, paris, utc("2026-11-30T12:00:00Z")).unwrap();
        assert_eq!(at, utc("2026-12-01T08:00:00Z"));
        let at = send_moment(local, Tz::UTC, utc("2026-11-30T12:00:00Z")).unwrap();
        assert_eq!(at, utc("2026-12-01T09:00:00Z"));
        // The current minute has begun: it is in the past.
        let e = send_moment(local, Tz::UTC, utc("2026-12-01T09:00:30Z")).unwrap_err();
        assert_eq!(e.problem.id, "schedule-in-past");
        assert!(send_moment(local, Tz::UTC, utc("2026-12-01T09:00:00Z")).is_ok());
    }

    #[test]
    fn what_cannot_be_a_moment_is_named() {
        for bad in [
            "tomorrow",
            "2026-12-01",
            "2026-13-01 09:00",
            "+262142-12-31 10:00",
        ] {
            let e = parse_send(bad).unwrap_err();
            assert_eq!(
                (e.field, e.problem.id),
                ("send", "schedule-not-a-date-time")
            );
        }
        let e = parse_zone("Mars/Olympus").unwrap_err();
        assert_eq!(
            (e.field, e.problem.id),
            ("timezone", "field-not-a-time-zone")
        );
        let e = send_moment(
            parse_send("2026-11-29 08:00").unwrap(),
            Tz::UTC,
            utc("2026-11-30T12:00:00Z"),
        )
        .unwrap_err();
        assert_eq!(e.problem.id, "schedule-in-past");
        assert!(e.problem.to_string().contains("now=\"2026-11-30 12:00\""));
    }

    #[test]
    fn daylight_saving_gaps_are_refused_and_repeats_take_the_first() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let now = utc("2026-01-01T00:00:00Z");
        // 29 March 2026: 02:00 → 03:00 in Paris.
        let e = send_moment(parse_send("2026-03-29 02:30").unwrap(), paris, now).unwrap_err();
        assert_eq!(e.problem.id, "schedule-skipped-time");
        // 25 October 2026: 02:30 happens twice; the first is 00:30 UTC.
        let at = send_moment(parse_send("2026-10-25 02:30").unwrap(), paris, now).unwrap();
        assert_eq!(at, utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn broadcast_edit_takes_its_number_and_the_lines_below() {
        use super::super::commands::Command;
        assert_eq!(
            Command::parse("broadcast edit 3\nsend: 2026-12-01 09:00\nsubject: S\nB"),
            Ok(Command::BroadcastEdit {
                id: "3".into(),
                rest: "send: 2026-12-01 09:00\nsubject: S\nB".into()
            })
        );
        assert_eq!(
            Command::parse("Diffusion modifier #3\nsujet: S\nC"),
            Ok(Command::BroadcastEdit {
                id: "#3".into(),
                rest: "sujet: S\nC".into()
            })
        );
        assert!(Command::parse("broadcast edit").is_err());
    }
}
