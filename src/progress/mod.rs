//! Live progress, the use case: the sender's confirmation of a broadcast, and the author's card
//! of a campaign that started, show how the send goes (delivered, failed, waiting, a bar, the
//! expected end) and are updated in place until every recipient has an outcome.
//!
//! - here: the figures a card shows, read from the same counts `broadcast info` and
//!   `campaign report` give (so the final state equals them), and the card worded from the
//!   catalogue;
//! - `store::progress`: the card's row (its activity id, cadence and last state);
//! - `engine::progress`: the job that posts and updates cards within the chat's limits.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::domain::Lang;
use crate::domain::progress::{self as domain, Figures, MAX_GAP, Subject, Words};
use crate::domain::text::escape_markdown;
use crate::store::progress::{self as store, Card, NewCard};
use crate::store::{Conn, StoreError, broadcasts, campaigns};
use crate::t;

/// Where a send stands, as a card shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub figures: Figures,
    /// Something is going out now (or within [`MAX_GAP`]).
    pub sending: bool,
    /// The latest moment a waiting send is planned for.
    pub last_planned: Option<DateTime<Utc>>,
}

/// The figures of the card's subject now; `None` when the subject is gone (deleted, purged).
pub fn snapshot(
    conn: &mut Conn<'_>,
    card: &Card,
    now: DateTime<Utc>,
) -> Result<Option<Snapshot>, StoreError> {
    let (figures, messages) = match card.subject() {
        Some(Subject::Broadcast) => {
            let Some(bc) = broadcasts::get(conn, &card.subject_id)? else {
                return Ok(None);
            };
            let c = broadcasts::counts(conn, &bc)?;
            let figures = Figures {
                delivered: c.delivered,
                failed: c.failed,
                waiting: c.pending,
            };
            (figures, broadcasts::cards(conn, &bc.id)?)
        }
        Some(Subject::Campaign) => {
            let Some(campaign) = campaigns::get(conn, &card.subject_id)? else {
                return Ok(None);
            };
            let c = campaigns::counts(conn, &campaign)?;
            let figures = Figures {
                delivered: c.delivered,
                failed: c.failed.iter().map(|(_, n)| n).sum::<i64>() + c.expired,
                waiting: c.planned + c.waiting_for_presence,
            };
            (figures, vec![campaign.id])
        }
        None => return Ok(None),
    };
    let (sending, last_planned) = if figures.finished() {
        (false, None)
    } else {
        store::pending_timing(conn, &messages, now + MAX_GAP)?
    };
    Ok(Some(Snapshot {
        figures,
        sending,
        last_planned,
    }))
}

/// The card as it shows `s` at `now` to a reader of `lang` in zone `tz`; the tenant sends `rps`
/// a second.
pub fn render(
    lang: Lang,
    intro: &[String],
    s: &Snapshot,
    now: DateTime<Utc>,
    tz: Tz,
    rps: u32,
) -> Value {
    let f = &s.figures;
    let local = |at: DateTime<Utc>| {
        at.with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    };
    let (status, timing) = if f.finished() {
        (
            t!(lang, "progress-finished"),
            t!(lang, "progress-finished-at", at = local(now)),
        )
    } else {
        let end = domain::expected_end(now, f.waiting, rps, s.last_planned);
        (
            t!(lang, "progress-percent", percent = f.percent_done()),
            t!(lang, "progress-expected-end", at = local(end)),
        )
    };
    let words = Words {
        delivered: t!(lang, "progress-delivered"),
        failed: t!(lang, "progress-failed"),
        waiting: t!(lang, "progress-waiting"),
        status,
        timing,
        updated: t!(lang, "progress-updated", at = local(now)),
    };
    domain::card(intro, f, &words)
}

/// The paragraphs a campaign's start card opens with.
pub fn campaign_intro(lang: Lang, c: &campaigns::Campaign) -> Vec<String> {
    vec![t!(
        lang,
        "progress-campaign-started",
        name = format!("**{}**", escape_markdown(&c.name)),
        count = c.targeted,
    )]
}

/// Records a broadcast's confirmation card, posted to `user_id` as `activity_id`: it will be
/// kept up to date from `now` + [`domain::MIN_GAP`].
#[allow(clippy::too_many_arguments)]
pub fn follow_broadcast(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    tenant_id: &str,
    user_id: &str,
    lang: Lang,
    intro: &[String],
    activity_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    store::open(
        conn,
        &NewCard {
            subject: Subject::Broadcast,
            subject_id: broadcast_id,
            tenant_id,
            user_id,
            lang: lang_code(lang),
            intro,
            activity_id: Some(activity_id),
        },
        domain::MIN_GAP,
        now,
    )
}

/// Inside the transaction that starts campaign `c`: its author (when herald knows them) gets a
/// start card, posted by the progress job.
pub fn follow_campaign(
    conn: &mut Conn<'_>,
    c: &campaigns::Campaign,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some((user_id, locale)) = store::author(conn, &c.tenant_id, &c.created_by)? else {
        return Ok(false);
    };
    let lang = Lang::from_locale(locale.as_deref());
    store::open(
        conn,
        &NewCard {
            subject: Subject::Campaign,
            subject_id: &c.id,
            tenant_id: &c.tenant_id,
            user_id: &user_id,
            lang: lang_code(lang),
            intro: &[],
            activity_id: None,
        },
        TimeDelta::zero(),
        now,
    )
}

pub fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Fr => "fr",
    }
}

pub fn lang_of(code: &str) -> Lang {
    if code == "fr" { Lang::Fr } else { Lang::En }
}

/// The figures a card last showed, as stored.
pub fn state_text(f: &Figures) -> String {
    serde_json::to_string(f).unwrap_or_default()
}

pub fn shown(card: &Card) -> Option<Figures> {
    card.last_state
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
}

/// When a card last changed (posted or updated).
pub fn last_change(card: &Card) -> Option<NaiveDateTime> {
    card.last_update_at.or(card.posted_at)
}
