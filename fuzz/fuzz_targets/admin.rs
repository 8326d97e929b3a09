#![no_main]
//! What an admin types: the command line, then what its body is read as (campaign field
//! lines, emails, a broadcast's subject and body, a broadcast number), and each field parser
//! on its own. Every parsed value must read back from the way herald writes it (stored
//! campaigns, the edit form).

use chrono::{NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use herald::domain::broadcast::{self, Audience, BODY_MAX, SUBJECT_MAX};
use herald::domain::commands::{Channel, Command, Email, parse_emails, parse_fields};
use herald::domain::duration::WindowLength;
use herald::domain::hours::{BusinessHours, Side, resolve};
use herald::domain::presence::PresencePolicy;
use libfuzzer_sys::fuzz_target;

/// How herald writes and reads a campaign's start.
const START: &str = "%Y-%m-%d %H:%M";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    command(text);
    fields(text);
    emails(text);
    broadcast_text(text);
    values(text);
});

/// The command, and its body read the way the bot reads it.
fn command(text: &str) {
    let parsed = Command::parse(text);
    // The verb is case-insensitive: `CAMPAIGN info x` is `campaign info x`.
    let t = text.trim_start();
    let end = t.find(char::is_whitespace).unwrap_or(t.len());
    let shouted = format!("{}{}", t[..end].to_ascii_uppercase(), &t[end..]);
    assert_eq!(Command::parse(&shouted), parsed, "{shouted:?}");
    match parsed {
        Ok(Command::CampaignCreate { fields: f, .. } | Command::CampaignEdit { fields: f, .. }) => {
            fields(&f)
        }
        Ok(
            Command::ListCreate { members, .. }
            | Command::ListAdd { members, .. }
            | Command::ListRemove { members, .. },
        ) => emails(&members),
        Ok(Command::Broadcast { target, rest }) => {
            let _ = Audience::parse(&target);
            broadcast_text(&rest);
        }
        Ok(Command::BroadcastInfo { id } | Command::BroadcastDelete { id }) => {
            let _ = broadcast::parse_number(&id);
        }
        Ok(Command::CampaignTest { email, .. }) => {
            let _ = Email::parse(&email);
        }
        Ok(_) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// Campaign field lines, and the checks a campaign's creation makes with them.
fn fields(text: &str) {
    let (f, errors) = parse_fields(text);
    for e in &errors {
        assert!(e.to_string().contains("for example"), "{e}");
    }
    if let Some(d) = f.duration {
        assert_eq!(WindowLength::parse(&d.to_string()), Ok(d));
    }
    if let Some(h) = &f.hours {
        hours_read_back(h);
    }
    if let Some(p) = f.presence {
        assert_eq!(PresencePolicy::parse(&p.to_string()), Ok(p));
    }
    if let Some(tz) = f.time_zone {
        assert_eq!(tz.name().parse::<Tz>().ok(), Some(tz));
    }
    if let Some(m) = &f.message {
        assert!(!m.trim().is_empty());
    }
    if let Some(start) = f.start {
        let written = start.format(START).to_string();
        assert_eq!(
            NaiveDateTime::parse_from_str(&written, START),
            Ok(start),
            "{written}"
        );
        // The window's business time, as `campaign create` checks it.
        let tz = f.time_zone.unwrap_or(chrono_tz::Europe::Paris);
        let hours = f.hours.clone().unwrap_or(BusinessHours::Always);
        let from = resolve(tz, start, Side::Earliest);
        let length = f
            .duration
            .unwrap_or(WindowLength::from_minutes(60).unwrap());
        let to = from + length.as_delta();
        for (a, b) in hours.open_intervals(tz, from, to) {
            assert!(from <= a && a < b && b <= to);
            // Open from its first instant to its last.
            assert!(hours.is_open(tz, a), "{a}");
            let last = (b - TimeDelta::seconds(1)).max(a);
            assert!(hours.is_open(tz, last), "{last}");
        }
    }
}

/// Business hours are stored as written by `Display` and read back with `parse`.
fn hours_read_back(h: &BusinessHours) {
    let written = h.to_string();
    let again = BusinessHours::parse(&written).expect("written hours read back");
    assert_eq!(again.to_string(), written);
    let at = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
    if let Some(open) = h.next_open(chrono_tz::Europe::Paris, at) {
        assert!(h.is_open(chrono_tz::Europe::Paris, open));
    }
}

fn emails(text: &str) {
    let (good, bad) = parse_emails(text);
    for (i, e) in good.iter().enumerate() {
        assert_eq!(Email::parse(e.as_str()).as_ref(), Some(e));
        assert!(!good[..i].contains(e), "{e:?} twice");
    }
    for b in &bad {
        assert!(!b.is_empty());
        assert_eq!(Email::parse(b), None, "{b:?}");
    }
}

/// `broadcast <list|all>` and its lines; the form's check agrees with the typed one.
fn broadcast_text(text: &str) {
    match broadcast::parse_text(text) {
        Ok(t) => {
            assert!(!t.subject.is_empty() && !t.subject.contains('\n'));
            assert!(t.subject.chars().count() <= SUBJECT_MAX);
            assert!(!t.body.is_empty() && t.body.chars().count() <= BODY_MAX);
            assert_eq!(broadcast::check_text(&t.subject, &t.body), Ok(t));
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in &errors {
                assert!(e.to_string().contains("for example"), "{e}");
            }
        }
    }
}

/// Each field parser on the whole text.
fn values(text: &str) {
    if let Ok(d) = WindowLength::parse(text) {
        assert!(d.minutes() > 0);
        assert_eq!(WindowLength::parse(&d.to_string()), Ok(d));
    }
    if let Ok(h) = BusinessHours::parse(text) {
        hours_read_back(&h);
    }
    if let Ok(p) = PresencePolicy::parse(text) {
        assert_eq!(PresencePolicy::parse(&p.to_string()), Ok(p));
    }
    if let Some(c) = Channel::parse(text) {
        assert_eq!(Channel::parse(c.channel_id()), Some(c));
    }
    if let Audience::List(name) = Audience::parse(text) {
        assert_eq!(name, text.trim());
    }
    if let Some(n) = broadcast::parse_number(text) {
        assert!(n > 0);
        assert_eq!(broadcast::parse_number(&n.to_string()), Some(n));
    }
    assert!(broadcast::receipt_covers(text, text));
    if let Some(e) = Email::parse(text) {
        assert_eq!(Email::parse(e.as_str()).as_ref(), Some(&e));
    }
}
