//! Each person's own time (`time: local`): a campaign's start, window and business hours read
//! in each recipient's zone. The campaign's start is a wall-clock time of the campaign's zone;
//! it is read again as the same wall-clock time in each recipient's zone, and each recipient's
//! moment is drawn uniformly over the open part of their own window, daylight-saving exact.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::hours::{BusinessHours, Side, resolve};
use super::spread;

/// `time: local` (French `heure: locale`) → true; `time: campaign` (`heure: campagne`) → false.
pub fn parse_time_mode(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "local" | "locale" | "recipient" | "destinataire" => Some(true),
        "campaign" | "campagne" => Some(false),
        _ => None,
    }
}

/// A zone name as Teams or Graph gives it: an IANA name, or a Windows name (`Romance Standard
/// Time`) mapped through CLDR's windowsZones (its world-wide default).
pub fn zone_named(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    name.parse::<Tz>().ok().or_else(|| {
        localzone::win_zone_to_iana(name, None).and_then(|iana| iana.parse::<Tz>().ok())
    })
}

/// The campaign's window `[start, start + length)` in `zone`: the same wall-clock start as in
/// `campaign_zone`, read in `zone` (a start in a skipped hour moves to the first instant that
/// exists there). Its end is on the wall clock too (wall start + length), so a 10:00-12:00
/// window is 10:00-12:00 there even across a daylight-saving change.
pub fn window_in(
    campaign_zone: Tz,
    start: DateTime<Utc>,
    length: TimeDelta,
    zone: Tz,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let wall = start.with_timezone(&campaign_zone).naive_local();
    wall_window(zone, wall, length)
}

/// The window from wall-clock `wall` to `wall + length` in `zone`, as instants.
fn wall_window(zone: Tz, wall: NaiveDateTime, length: TimeDelta) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = resolve(zone, wall, Side::Earliest);
    let to = resolve(zone, wall + length, Side::Latest).max(from);
    (from, to)
}

/// A recipient's planned moment and the zone it was planned in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPlan {
    pub moment: DateTime<Utc>,
    pub zone: Tz,
}

/// The campaign's timing, as stored: its zone, hours, start (UTC of its zone's wall-clock start)
/// and window length.
#[derive(Debug, Clone)]
pub struct Timing<'a> {
    pub zone: Tz,
    pub hours: &'a BusinessHours,
    pub start: DateTime<Utc>,
    pub length: TimeDelta,
}

/// The open part of a zone's window still ahead at `now`, and where the window starts. A zone
/// whose open time has all gone by (a campaign saved or started late) gets the same window on
/// the next day that has open time instead (within a week): never a send outside a person's own
/// hours. A window with no open time at all is given as it is (empty).
fn open_ahead(t: &Timing<'_>, tz: Tz, now: DateTime<Utc>) -> (DateTime<Utc>, Vec<Interval>) {
    let (from, to) = window_in(t.zone, t.start, t.length, tz);
    let today = t.hours.open_intervals(tz, from, to);
    let ahead = cut_before(today.clone(), now);
    if !ahead.is_empty() || today.is_empty() {
        return (from.max(now), ahead);
    }
    let wall = t.start.with_timezone(&t.zone).naive_local();
    for days in 1..=7 {
        let (from, to) = wall_window(tz, wall + Days::new(days), t.length);
        let open = t.hours.open_intervals(tz, from, to);
        if !open.is_empty() {
            return (from, open);
        }
    }
    (from.max(now), ahead)
}

type Interval = (DateTime<Utc>, DateTime<Utc>);

fn cut_before(intervals: Vec<Interval>, now: DateTime<Utc>) -> Vec<Interval> {
    intervals
        .into_iter()
        .filter(|(_, b)| *b > now)
        .map(|(a, b)| (a.max(now), b))
        .collect()
}

/// Moments for recipients whose zones are `zones` (`None`: unknown, the campaign's zone is used
/// and counted), in the same order, and how many fell back, planned at `now`. Recipients are
/// grouped by zone; each zone draws from its own seed, derived from `seed` and the zone's name,
/// so the plan is the same for the same seed whatever the order of the zones.
pub fn plan(
    zones: &[Option<Tz>],
    t: &Timing<'_>,
    now: DateTime<Utc>,
    seed: u64,
) -> (Vec<LocalPlan>, usize) {
    let (campaign_zone, start) = (t.zone, t.start);
    let mut groups: BTreeMap<&'static str, (Tz, Vec<usize>)> = BTreeMap::new();
    let mut fallbacks = 0;
    for (i, zone) in zones.iter().enumerate() {
        let tz = zone.unwrap_or_else(|| {
            fallbacks += 1;
            campaign_zone
        });
        groups
            .entry(tz.name())
            .or_insert((tz, Vec::new()))
            .1
            .push(i);
    }
    let mut out = vec![
        LocalPlan {
            moment: start,
            zone: campaign_zone,
        };
        zones.len()
    ];
    for (name, (tz, members)) in groups {
        let (from, intervals) = open_ahead(t, tz, now);
        // A zone whose window has no business time (the campaign's own zone is checked at
        // creation): its recipients are due at their local start rather than never.
        let moments = spread::plan(&intervals, members.len(), zone_seed(seed, name))
            .unwrap_or_else(|_| vec![from; members.len()]);
        for (i, moment) in members.into_iter().zip(moments) {
            out[i] = LocalPlan { moment, zone: tz };
        }
    }
    (out, fallbacks)
}

/// The seed of one zone's draw: FNV-1a of its name, mixed with the campaign's seed.
fn zone_seed(seed: u64, zone: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in zone.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    seed ^ h
}

/// How long before its own start (in its zone) a local-time campaign may open somewhere:
/// zones run from UTC-12 to UTC+14.
pub const AHEAD: TimeDelta = TimeDelta::hours(26);

/// When a local-time campaign's first window may open: its wall-clock start in the earliest
/// zone there is (UTC+14), never after its start in its own zone. It is planned then, so that
/// the first recipients' moments are still ahead.
pub fn earliest_start(campaign_zone: Tz, start: DateTime<Utc>) -> DateTime<Utc> {
    let wall = start.with_timezone(&campaign_zone).naive_local();
    (wall.and_utc() - TimeDelta::hours(14)).min(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn tz(name: &str) -> Tz {
        name.parse().unwrap()
    }

    #[test]
    fn time_mode_in_both_languages() {
        assert_eq!(parse_time_mode("local"), Some(true));
        assert_eq!(parse_time_mode(" Locale "), Some(true));
        assert_eq!(parse_time_mode("campaign"), Some(false));
        assert_eq!(parse_time_mode("campagne"), Some(false));
        assert_eq!(parse_time_mode("utc"), None);
    }

    #[test]
    fn windows_and_iana_names_are_read() {
        assert_eq!(zone_named("Europe/Paris"), Some(tz("Europe/Paris")));
        assert_eq!(
            zone_named("Romance Standard Time"),
            Some(tz("Europe/Paris"))
        );
        assert_eq!(zone_named("Tokyo Standard Time"), Some(tz("Asia/Tokyo")));
        assert_eq!(
            zone_named("Eastern Standard Time"),
            Some(tz("America/New_York"))
        );
        assert_eq!(zone_named("Mars Standard Time"), None);
        assert_eq!(zone_named(""), None);
    }

    #[test]
    fn each_zone_gets_its_own_ten_to_noon() {
        // Tuesday 2026-12-01 10:00 in Paris.
        let paris = tz("Europe/Paris");
        let start = utc("2026-12-01T09:00:00Z");
        let hours = BusinessHours::parse("Mon-Fri 09:00-18:00").unwrap();
        let zones = [
            Some(tz("Asia/Tokyo")),
            Some(paris),
            Some(tz("America/Montreal")),
            None,
        ];
        let zones: Vec<Option<Tz>> = zones.iter().cycle().take(400).copied().collect();
        let t = Timing {
            zone: paris,
            hours: &hours,
            start,
            length: TimeDelta::hours(2),
        };
        let now = earliest_start(paris, start);
        assert_eq!(now, utc("2026-11-30T20:00:00Z"));
        let (plan, fallbacks) = plan(&zones, &t, now, 5);
        assert_eq!(fallbacks, 100);
        for (p, z) in plan.iter().zip(&zones) {
            assert_eq!(p.zone, z.unwrap_or(paris));
            let local = p.moment.with_timezone(&p.zone);
            assert!((10..12).contains(&local.hour()), "{local}");
            assert_eq!(local.date_naive().to_string(), "2026-12-01");
        }
        let again = super::plan(&zones, &t, now, 5).0;
        assert_eq!(plan, again);
    }

    #[test]
    fn the_day_paris_changes_its_clock_the_window_follows() {
        // Monday 2026-10-26, the day after Paris left summer time; Montreal is still on it
        // until 2026-11-01. The campaign is in Montreal: 10:00 there is 14:00 UTC.
        let montreal = tz("America/Montreal");
        let paris = tz("Europe/Paris");
        let start = utc("2026-10-26T14:00:00Z");
        let hours = BusinessHours::parse("Mon-Fri 09:00-18:00").unwrap();
        let zones = vec![Some(paris); 200];
        let t = Timing {
            zone: montreal,
            hours: &hours,
            start,
            length: TimeDelta::hours(2),
        };
        let (plan, _) = plan(&zones, &t, utc("2026-10-25T00:00:00Z"), 1);
        for p in plan {
            // Paris is UTC+1 now: 10:00-12:00 is 09:00-11:00 UTC.
            assert!(p.moment >= utc("2026-10-26T09:00:00Z"));
            assert!(p.moment < utc("2026-10-26T11:00:00Z"));
        }
    }

    #[test]
    fn a_window_straddling_a_change_keeps_its_wall_clock_hours() {
        // 01:00-04:00 in Paris, every hour open, on the two days Paris changes its clock in
        // 2026: 4 hours long when it falls back (03:00 comes twice), 2 when it springs forward.
        let paris = tz("Europe/Paris");
        let hours = BusinessHours::parse("always").unwrap();
        for (start, end) in [
            (utc("2026-10-24T23:00:00Z"), utc("2026-10-25T03:00:00Z")),
            (utc("2026-03-29T00:00:00Z"), utc("2026-03-29T02:00:00Z")),
        ] {
            let length = TimeDelta::hours(3);
            assert_eq!(window_in(paris, start, length, paris), (start, end));
            let t = Timing {
                zone: paris,
                hours: &hours,
                start,
                length,
            };
            let (plan, _) = plan(&vec![Some(paris); 400], &t, start - TimeDelta::days(1), 3);
            assert!(plan.iter().all(|p| p.moment >= start && p.moment < end));
            // The whole window is used: some moments fall in its last wall-clock hour.
            let last_hour = end - TimeDelta::hours(1);
            assert!(plan.iter().any(|p| p.moment >= last_hour), "{start}");
        }
    }

    #[test]
    fn a_window_gone_by_moves_to_the_next_open_day_and_a_running_one_keeps_what_is_left() {
        // Friday 2026-12-04 10:00 in Paris; planned at 09:30 UTC, when Tokyo's 10:00-12:00
        // (01:00-03:00 UTC) is over: Tokyo gets Monday's (Saturday and Sunday are closed).
        let paris = tz("Europe/Paris");
        let tokyo = tz("Asia/Tokyo");
        let hours = BusinessHours::parse("Mon-Fri 09:00-18:00").unwrap();
        let t = Timing {
            zone: paris,
            hours: &hours,
            start: utc("2026-12-04T09:00:00Z"),
            length: TimeDelta::hours(2),
        };
        let now = utc("2026-12-04T09:30:00Z");
        let (plan, _) = plan(&[Some(tokyo); 50], &t, now, 3);
        for p in &plan {
            let local = p.moment.with_timezone(&tokyo);
            assert_eq!(local.date_naive().to_string(), "2026-12-07", "{local}");
            assert!((10..12).contains(&local.hour()), "{local}");
        }
        // Paris is half way through its window: only what is left of it.
        let (plan, _) = super::plan(&[Some(paris); 50], &t, now, 3);
        for p in &plan {
            assert!(
                p.moment >= now && p.moment < utc("2026-12-04T11:00:00Z"),
                "{}",
                p.moment
            );
        }
    }
}
