//! What a request holds and shows: a broadcast kept as typed until it is approved, the cards
//! approvers get (personalised with their own names), and what the author is told.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::cards::{AudienceSize, Preview, request_activity};
use crate::domain::Lang;
use crate::domain::approval::RequestStatus;
use crate::domain::broadcast::CardContent;
use crate::domain::duration::WindowLength;
use crate::domain::schedule::shown;
use crate::domain::template::MessageTemplate;
use crate::domain::text::escape_markdown;
use crate::store::approvals::Approval;
use crate::store::broadcasts::{self as broadcasts, NewBroadcast, lang_of_user};
use crate::store::campaigns::Campaign;
use crate::store::users::User;
use crate::store::{Conn, StoreError, lists};
use crate::t;

/// A broadcast as its author typed it, held until approved (stored as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBroadcast {
    pub tenant_id: String,
    pub subject: String,
    pub body: String,
    pub list_id: Option<String>,
    pub audience: String,
    pub sender_id: String,
    pub sender_name: String,
    pub install: bool,
    pub remind_after_minutes: Option<i64>,
    pub ack: bool,
    pub choices: Vec<String>,
    /// When it is to go (`send:`), UTC, and the zone it was written in; `None`: once approved.
    #[serde(default)]
    pub send_at: Option<NaiveDateTime>,
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl HeldBroadcast {
    /// `n` as typed, to go at `when` (`send:`) or as soon as it is approved.
    pub fn from_new(n: &NewBroadcast, when: Option<(DateTime<Utc>, Tz)>) -> HeldBroadcast {
        HeldBroadcast {
            tenant_id: n.tenant_id.clone(),
            subject: n.subject.clone(),
            body: n.body.clone(),
            list_id: n.list_id.clone(),
            audience: n.audience.clone(),
            sender_id: n.sender_id.clone(),
            sender_name: n.sender_name.clone(),
            install: n.install,
            remind_after_minutes: n.remind_after.map(|d| d.minutes()),
            ack: n.ack,
            choices: n.choices.clone(),
            send_at: when.map(|(at, _)| at.naive_utc()),
            time_zone: when.map(|(_, zone)| zone.name().to_string()),
        }
    }

    /// When it is to go, and in which zone it was written (`send:`); `None`: once approved.
    pub fn when(&self) -> Option<(DateTime<Utc>, Tz)> {
        let zone = self.time_zone.as_deref()?.parse().ok()?;
        Some((self.send_at?.and_utc(), zone))
    }

    /// The broadcast to send once approved (its links are worked out again when it is sent).
    pub fn into_new(self) -> NewBroadcast {
        NewBroadcast {
            tenant_id: self.tenant_id,
            subject: self.subject,
            body: self.body,
            links: Vec::new(),
            list_id: self.list_id,
            audience: self.audience,
            sender_id: self.sender_id,
            sender_name: self.sender_name,
            install: self.install,
            remind_after: self
                .remind_after_minutes
                .and_then(WindowLength::from_minutes),
            ack: self.ack,
            choices: self.choices,
        }
    }

    /// The held request of `approval` (`None` for a campaign's, or a row that does not read).
    pub fn of(approval: &Approval) -> Option<HeldBroadcast> {
        serde_json::from_str(approval.held.as_deref()?).ok()
    }
}

/// The lang an approver reads.
fn lang_of(conn: &mut Conn<'_>, u: &User) -> Result<Lang, StoreError> {
    lang_of_user(conn, &u.id)
}

/// The card of a campaign's request for `approver`: the message with their own names.
pub(super) fn campaign_card(
    conn: &mut Conn<'_>,
    a: &Approval,
    author: &str,
    c: &Campaign,
    approver: &User,
) -> Result<serde_json::Value, StoreError> {
    let lang = lang_of(conn, approver)?;
    let message = MessageTemplate::parse(&c.message)
        .ok()
        .and_then(|t| {
            t.render(
                approver.given_name.as_deref(),
                approver.surname.as_deref(),
                approver.display_name.as_deref(),
            )
            .ok()
        })
        .unwrap_or_else(|| c.message.clone());
    let list = lists::name_of(conn, &c.list_id)?.unwrap_or_else(|| "?".into());
    let (reached, missing) = lists::resolve(conn, &c.tenant_id, &c.list_id, &c.channel, &[])?;
    let duration = WindowLength::from_minutes(c.duration_minutes)
        .map(|d| d.to_string())
        .unwrap_or_default();
    let timing = t!(
        lang,
        "approval-card-timing-campaign",
        start = crate::campaigns::local_start(c),
        zone = c.time_zone.to_string(),
        duration = duration,
        hours = c.hours.to_string(),
    );
    // A repeating campaign: approving it approves every run of the series.
    let timing = match crate::store::repeats::series(conn, &c.id)? {
        Some(series) => {
            let rule = escape_markdown(&series.rule);
            format!(
                "{timing}\n\n{}",
                t!(lang, "approval-card-repeats", rule = rule)
            )
        }
        None => timing,
    };
    let preview = Preview::Campaign {
        name: &c.name,
        message: &message,
        timing,
    };
    let audience = AudienceSize {
        name: &list,
        reached: reached.len(),
        not_installed: missing.len(),
    };
    Ok(request_activity(lang, a, author, &preview, &audience))
}

/// The card of a held broadcast's request for `approver`: the card recipients will get.
pub(super) fn broadcast_card(
    conn: &mut Conn<'_>,
    a: &Approval,
    b: &HeldBroadcast,
    approver: &User,
) -> Result<serde_json::Value, StoreError> {
    let lang = lang_of(conn, approver)?;
    let audience = broadcasts::audience(conn, &b.tenant_id, b.list_id.as_deref(), &[])?;
    let content = CardContent {
        broadcast_id: &a.id,
        subject: &b.subject,
        body: &b.body,
        sender: &b.sender_name,
        ack: b.ack,
        choices: &b.choices,
    };
    let size = AudienceSize {
        name: &b.audience,
        reached: audience.recipients.len(),
        not_installed: audience.not_installed.len(),
    };
    Ok(request_activity(
        lang,
        a,
        &b.sender_name,
        &Preview::Broadcast(
            content,
            b.when().map(|(at, zone)| shown(at.naive_utc(), zone)),
        ),
        &size,
    ))
}

/// What the author of `a` is told of its decision (of an approved broadcast: once released,
/// by the chat layer). `late`: a campaign approved after its start.
pub(super) fn decision_notice(
    lang: Lang,
    a: &Approval,
    campaign: Option<&Campaign>,
    late: bool,
) -> String {
    let by = escape_markdown(a.decided_by_name.as_deref().unwrap_or("?"));
    let title = escape_markdown(&a.title);
    match (a.status.0, campaign, late) {
        (RequestStatus::Rejected, _, _) => t!(
            lang,
            "approval-told-rejected",
            title = title,
            by = by,
            reason = escape_markdown(a.reason.as_deref().unwrap_or_default()),
        ),
        (_, Some(c), true) => t!(
            lang,
            "approval-told-late",
            title = title,
            by = by,
            start = crate::campaigns::local_start(c),
        ),
        (_, Some(c), false) => t!(
            lang,
            "approval-told-campaign-approved",
            title = title,
            by = by,
            start = crate::campaigns::local_start(c),
        ),
        (_, None, _) => t!(lang, "approval-told-approved", title = title, by = by),
    }
}
