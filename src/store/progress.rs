//! Live progress cards (`progress_cards`): one row per card, keyed by the broadcast or campaign
//! it follows. The row is the card's whole state, so updates go on after a restart or on
//! another instance; `next_update_at` is both the cadence and the claim: whoever moves it
//! forward from the value it read makes the next update, nobody else (compare and set).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

use super::deliveries::Recipient;
use super::schema::{deliveries as d, progress_cards as p, users as u};
use super::{Conn, StoreError};
use crate::domain::progress::Subject;
use crate::run_on;
use crate::store::sql::PendingStatus;

/// A card as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = p)]
pub struct Card {
    pub subject_kind: String,
    pub subject_id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub lang: String,
    pub intro: String,
    pub activity_id: Option<String>,
    pub posted_at: Option<NaiveDateTime>,
    pub next_update_at: NaiveDateTime,
    pub last_update_at: Option<NaiveDateTime>,
    pub updates: i32,
    pub last_state: Option<String>,
    pub finished_at: Option<NaiveDateTime>,
    pub failure: Option<String>,
    pub created_at: NaiveDateTime,
}

impl Card {
    pub fn subject(&self) -> Option<Subject> {
        Subject::parse(&self.subject_kind)
    }

    /// The paragraphs above the live part.
    pub fn intro(&self) -> Vec<String> {
        serde_json::from_str(&self.intro).unwrap_or_default()
    }
}

/// A card to follow: posted already (`activity_id`, a broadcast's confirmation) or to post
/// (`None`, a campaign's start card, posted by the progress job).
#[derive(Debug, Clone)]
pub struct NewCard<'a> {
    pub subject: Subject,
    pub subject_id: &'a str,
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub lang: &'a str,
    pub intro: &'a [String],
    pub activity_id: Option<&'a str>,
}

/// Records a card; one already there for the subject is left as it is. A posted card's first
/// update waits `gap` after its post; a card to post is due at once.
pub fn open(
    conn: &mut Conn<'_>,
    card: &NewCard<'_>,
    gap: TimeDelta,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now = now.naive_utc();
    let intro = serde_json::to_string(card.intro).unwrap_or_else(|_| "[]".into());
    let (posted_at, next) = match card.activity_id {
        Some(_) => (Some(now), now + gap),
        None => (None, now),
    };
    let added = run_on!(conn, |c| diesel::insert_into(p::table)
        .values((
            p::subject_kind.eq(card.subject.as_str()),
            p::subject_id.eq(card.subject_id),
            p::tenant_id.eq(card.tenant_id),
            p::user_id.eq(card.user_id),
            p::lang.eq(card.lang),
            p::intro.eq(&intro),
            p::activity_id.eq(card.activity_id),
            p::posted_at.eq(posted_at),
            p::next_update_at.eq(next),
            p::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(added > 0)
}

pub fn get(conn: &mut Conn<'_>, subject: Subject, id: &str) -> Result<Option<Card>, StoreError> {
    Ok(run_on!(conn, |c| p::table
        .find((subject.as_str(), id))
        .select(Card::as_select())
        .first(c)
        .optional())?)
}

/// Unfinished cards whose moment has come, earliest first.
pub fn due(conn: &mut Conn<'_>, now: DateTime<Utc>, limit: i64) -> Result<Vec<Card>, StoreError> {
    Ok(run_on!(conn, |c| p::table
        .filter(p::finished_at.is_null())
        .filter(p::next_update_at.le(now.naive_utc()))
        .order(p::next_update_at)
        .limit(limit)
        .select(Card::as_select())
        .load(c))?)
}

/// Takes the card's next update: moves `next_update_at` from `seen` (as read) to `next`. False
/// when another instance took it first.
pub fn claim(conn: &mut Conn<'_>, card: &Card, next: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = run_on!(conn, |c| diesel::update(
        p::table
            .find((&card.subject_kind, &card.subject_id))
            .filter(p::next_update_at.eq(card.next_update_at))
            .filter(p::finished_at.is_null())
    )
    .set(p::next_update_at.eq(next.naive_utc()))
    .execute(c))?;
    Ok(n == 1)
}

/// The card was posted at `at` with these paragraphs: its id is recorded.
pub fn record_posted(
    conn: &mut Conn<'_>,
    card: &Card,
    activity_id: &str,
    intro: &[String],
    state: &str,
    at: DateTime<Utc>,
    gap: TimeDelta,
) -> Result<(), StoreError> {
    let intro = serde_json::to_string(intro).unwrap_or_else(|_| "[]".into());
    let at = at.naive_utc();
    run_on!(conn, |c| diesel::update(
        p::table.find((&card.subject_kind, &card.subject_id))
    )
    .set((
        p::activity_id.eq(activity_id),
        p::intro.eq(&intro),
        p::posted_at.eq(at),
        p::last_state.eq(state),
        p::next_update_at.eq(at + gap),
    ))
    .execute(c))?;
    Ok(())
}

/// The card now shows `state` (JSON), since `at`; `last`: its final state. The next update
/// comes `gap` after this one (or later, if the claim already said so).
pub fn record_update(
    conn: &mut Conn<'_>,
    card: &Card,
    state: &str,
    at: DateTime<Utc>,
    gap: TimeDelta,
    last: bool,
) -> Result<(), StoreError> {
    let at = at.naive_utc();
    let next = (at + gap).max(card.next_update_at);
    run_on!(conn, |c| diesel::update(
        p::table.find((&card.subject_kind, &card.subject_id))
    )
    .set((
        p::last_update_at.eq(at),
        p::updates.eq(p::updates + 1),
        p::last_state.eq(state),
        p::next_update_at.eq(next),
        p::finished_at.eq(last.then_some(at)),
    ))
    .execute(c))?;
    Ok(())
}

/// The card can no longer be shown or updated (its chat is gone, Teams refused it): it is
/// left as it is, with why.
pub fn give_up(
    conn: &mut Conn<'_>,
    card: &Card,
    failure: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    run_on!(conn, |c| diesel::update(
        p::table.find((&card.subject_kind, &card.subject_id))
    )
    .set((p::finished_at.eq(now.naive_utc()), p::failure.eq(failure),))
    .execute(c))?;
    Ok(())
}

/// The user who created a campaign (`created_by` is their object id, UPN, or chat user id, as
/// the audit log names them) and their locale, when herald knows them in the tenant.
pub fn author(
    conn: &mut Conn<'_>,
    tenant: &str,
    created_by: &str,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    let lower = created_by.to_lowercase();
    Ok(run_on!(conn, |c| u::table
        .filter(u::tenant_id.eq(tenant))
        .filter(u::installed.eq(true))
        .filter(
            u::aad_object_id
                .eq(created_by)
                .or(u::channel_user_id.eq(created_by))
                .or(u::user_principal_name.eq(created_by))
                .or(u::user_principal_name.eq(&lower)),
        )
        .order(u::updated_at.desc())
        .select((u::id, u::locale))
        .first(c)
        .optional())?)
}

/// Of the pending sends of `messages`: whether one is due by `soon` (something is going out),
/// and the latest moment one is planned for.
pub fn pending_timing(
    conn: &mut Conn<'_>,
    messages: &[String],
    soon: DateTime<Utc>,
) -> Result<(bool, Option<DateTime<Utc>>), StoreError> {
    let first: Option<NaiveDateTime> = run_on!(conn, |c| d::table
        .filter(d::message_id.eq_any(messages))
        .filter(d::status.eq(PendingStatus))
        .select(diesel::dsl::min(d::next_attempt_at))
        .first(c))?;
    let last: Option<NaiveDateTime> = run_on!(conn, |c| d::table
        .filter(d::message_id.eq_any(messages))
        .filter(d::status.eq(PendingStatus))
        .select(diesel::dsl::max(d::next_attempt_at))
        .first(c))?;
    Ok((
        first.is_some_and(|t| t <= soon.naive_utc()),
        last.map(|t| t.and_utc()),
    ))
}

/// Where a card's reader is reached (as a delivery reaches them) and their time zone.
pub fn chat(
    conn: &mut Conn<'_>,
    user_id: &str,
) -> Result<Option<(Recipient, Option<String>)>, StoreError> {
    Ok(run_on!(conn, |c| u::table
        .find(user_id)
        .select((Recipient::as_select(), u::time_zone))
        .first(c)
        .optional())?)
}
