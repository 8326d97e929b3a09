//! Local times in a time zone as instants, across daylight-saving changes.

use chrono::{
    DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

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
pub(super) fn constant_offset_pieces(
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, TimeDelta)> {
    // Offsets change at most a few times a year, never twice within six hours.
    const STEP: TimeDelta = TimeDelta::hours(6);
    let mut pieces = Vec::new();
    if to <= from {
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

pub(super) fn at_minute(day: NaiveDate, minute: u32) -> NaiveDateTime {
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
