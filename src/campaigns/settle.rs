//! A campaign's fields, checked together and turned into the settings the store keeps, or
//! every problem found (each a catalogue problem with an example).

use chrono::{DateTime, Utc};

use super::CampaignDefaults;
use crate::domain::commands::{CampaignFields, Channel, FieldError};
use crate::domain::hours::{Side, resolve};
use crate::domain::presence::PresencePolicy;
use crate::domain::problem::Problem;
use crate::domain::template::MessageTemplate;
use crate::store::campaigns::Settings;
use crate::store::{Db, StoreError, lists};

const MESSAGE_EXAMPLE: &str = "message: Bonjour [FIRSTNAME] [LASTNAME], …";

fn missing(field: &'static str, example: &'static str) -> FieldError {
    FieldError::new(field, Problem::new("field-missing"), example)
}

/// The campaign's list was deleted between the check of its fields and the save.
pub fn list_gone() -> FieldError {
    FieldError::new("list", Problem::new("field-list-gone"), "list: all-staff")
}

/// Checks merged fields and turns them into stored settings with the message's unknown
/// placeholders, or every problem found.
pub async fn settle(
    db: &Db,
    defaults: &CampaignDefaults,
    tenant: &str,
    f: CampaignFields,
    now: DateTime<Utc>,
) -> Result<Result<(Settings, Vec<String>), Vec<FieldError>>, StoreError> {
    let mut errors = Vec::new();
    let tz = f.time_zone.unwrap_or(defaults.time_zone);
    let hours = f.hours.unwrap_or_else(|| defaults.hours.clone());
    let channel = f.channel.unwrap_or(Channel::Teams);
    let presence = f.presence.unwrap_or(PresencePolicy::Any);
    if f.list.is_none() {
        errors.push(missing("list", "list: all-staff"));
    }
    if f.start.is_none() {
        errors.push(missing("start", "start: 2026-12-01 10:00"));
    }
    if f.duration.is_none() {
        errors.push(missing("duration", "duration: 2h"));
    }
    let mut warnings = Vec::new();
    match f.message.as_deref().map(MessageTemplate::parse) {
        None => errors.push(missing("message", MESSAGE_EXAMPLE)),
        Some(Err(e)) => errors.push(FieldError::new("message", e.problem(), MESSAGE_EXAMPLE)),
        Some(Ok(t)) => warnings.extend(t.unknown_placeholders),
    }
    let list_id = match &f.list {
        Some(name) => {
            let (t, n) = (tenant.to_string(), name.clone());
            match db.run(move |conn| lists::find(conn, &t, &n)).await? {
                Some(l) => Some(l.id),
                None => {
                    errors.push(FieldError::new(
                        "list",
                        Problem::new("field-unknown-list").with("name", name),
                        "list: all-staff",
                    ));
                    None
                }
            }
        }
        None => None,
    };
    let start = f.start.map(|s| resolve(tz, s, Side::Earliest));
    if let Some(s) = start
        && s < now
    {
        errors.push(FieldError::new(
            "start",
            Problem::new("field-start-in-past").with(
                "start",
                s.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string(),
            ),
            "start: 2026-12-01 10:00",
        ));
    }
    if let (Some(s), Some(d)) = (start, f.duration)
        && hours.open_intervals(tz, s, s + d.as_delta()).is_empty()
    {
        errors.push(FieldError::new(
            "hours",
            Problem::new("field-window-outside-hours")
                .with("duration", d.to_string())
                .with("hours", hours.to_string()),
            "hours: Mon-Fri 09:00-18:00",
        ));
    }
    Ok(
        match (errors.is_empty(), list_id, start, f.duration, f.message) {
            (true, Some(list_id), Some(start_at), Some(d), Some(message)) => Ok((
                Settings {
                    list_id,
                    channel: channel.channel_id().to_string(),
                    start_at,
                    time_zone: tz.name().to_string(),
                    duration_minutes: d.minutes(),
                    hours: hours.to_string(),
                    presence: presence.to_string(),
                    message,
                },
                warnings,
            )),
            _ => Err(errors),
        },
    )
}
