//! Broadcasts, as stored: the message sent now to a list or everyone, its card messages (one
//! per language and role), its reads, its reply threads and its recall. These functions answer
//! queries and record facts; what to send is `crate::broadcasts`' business.
//!
//! - this file: the rows, their typed values, the audience and the broadcast's messages;
//! - [`counts`]: what `broadcasts` and `broadcast info` count;
//! - [`reads`]: reads by button and by Teams read receipt;
//! - [`relay`]: reply threads between recipients and the sender;
//! - [`recall`]: stopping and deleting the cards, and reporting the recall;
//! - [`holds`]: broadcasts recorded but held back until released (scheduled ones).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{
    broadcast_messages as bm, broadcast_not_installed as ni, broadcasts as b, users as u,
};
use super::{Conn, StoreError};
use crate::domain::Lang;
use crate::run_on;

pub mod acks;
pub mod answers;
pub mod counts;
pub mod holds;
pub mod presses;
pub mod reads;
pub mod recall;
pub mod relay;
pub mod remind;

pub use counts::{Counts, counts, unread};
pub use reads::{
    CardUpdate, Read, ReadRecorded, receipt_candidates, record_read, record_receipt, was_sent_to,
};
pub use recall::{
    DeleteTarget, RecallStarted, mark_recall_reported, recall, recalls_to_report,
    resolve_delete_target,
};
pub use relay::{Direction, ReplyFacts, Thread, open_thread, record_relay, reply_facts, thread};

/// Where a broadcast stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastStatus {
    /// Its cards were sent (or are on their way).
    Sent,
    /// Recalled: its cards are being (or were) deleted.
    Recalled,
}

impl BroadcastStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastStatus::Sent => "sent",
            BroadcastStatus::Recalled => "recalled",
        }
    }
}

impl From<String> for BroadcastStatus {
    fn from(s: String) -> BroadcastStatus {
        if s == BroadcastStatus::Recalled.as_str() {
            BroadcastStatus::Recalled
        } else {
            BroadcastStatus::Sent
        }
    }
}

/// What a broadcast message is to its broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The card recipients get.
    Card,
    /// The card that replaces it once read.
    Read,
    /// A reminder's card (one per language and reminder round).
    Reminder,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Card => "card",
            Role::Read => "read",
            Role::Reminder => "reminder",
        }
    }
}

/// How a read was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadSource {
    Button,
    Receipt,
    /// Acknowledging or answering a poll (counted with the button's reads: a press on the
    /// card); such a read queues no card update.
    Action,
}

impl ReadSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadSource::Button => "button",
            ReadSource::Receipt => "receipt",
            ReadSource::Action => "action",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = b)]
pub struct Broadcast {
    pub id: String,
    pub tenant_id: String,
    pub number: i32,
    pub subject: String,
    pub body: String,
    pub list_id: Option<String>,
    pub audience: String,
    pub sender_id: String,
    pub sender_name: String,
    pub targeted: i32,
    pub not_installed: i32,
    #[diesel(deserialize_as = String)]
    pub status: BroadcastStatus,
    pub created_at: NaiveDateTime,
    pub recalled_at: Option<NaiveDateTime>,
    pub recalled_by: Option<String>,
    pub recalled_by_user: Option<String>,
    pub recall_reported_at: Option<NaiveDateTime>,
    /// Install herald for recipients who lack it (`install: yes`).
    pub install: bool,
    /// Recipients herald installed the app for through Graph when it went out.
    pub herald_installed: i32,
    /// `remind: 24h`: the automatic reminder's delay (minutes).
    pub remind_after_minutes: Option<i32>,
    /// When the automatic reminder falls due.
    pub remind_at: Option<NaiveDateTime>,
    /// When an instance took the automatic reminder (it goes once).
    pub reminded_at: Option<NaiveDateTime>,
    /// `ack: yes`: recipients are asked to acknowledge it.
    pub ack: bool,
    /// `choices:`, as stored (a JSON array); see [`Broadcast::choices`].
    pub choices: Option<String>,
}

impl Broadcast {
    pub fn recalled(&self) -> bool {
        self.status == BroadcastStatus::Recalled
    }

    /// The poll's choices (empty: no poll).
    pub fn choices(&self) -> Vec<String> {
        crate::domain::engagement::choices_from_stored(self.choices.as_deref())
    }
}

/// A broadcast to create.
#[derive(Debug, Clone)]
pub struct NewBroadcast {
    pub tenant_id: String,
    pub subject: String,
    pub body: String,
    /// `None`: everyone installed in the tenant.
    pub list_id: Option<String>,
    /// The list's name, or `all`.
    pub audience: String,
    pub sender_id: String,
    pub sender_name: String,
    /// Links of the body to track (the card's body then holds their markers).
    pub links: Vec<String>,
    /// Install herald for recipients who lack it (`install: yes`).
    pub install: bool,
    /// `remind: 24h`: remind the non-readers automatically after this long.
    pub remind_after: Option<crate::domain::duration::WindowLength>,
    /// `ack: yes`.
    pub ack: bool,
    /// `choices:` (empty: no poll).
    pub choices: Vec<String>,
}

/// Broadcasts go to Teams users: read receipts, card updates and deletes are Teams' features.
pub const CHANNEL: &str = "msteams";

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Fr => "fr",
    }
}

fn lang_of(code: &str) -> Lang {
    if code == "fr" { Lang::Fr } else { Lang::En }
}

/// Who a broadcast reaches: installed recipients with their language, and the list members
/// installed nowhere.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub recipients: Vec<(String, Lang)>,
    pub not_installed: Vec<String>,
}

/// The installed recipients of a list with the `extra` identities its groups add (or, for
/// `None`, of the whole tenant).
pub fn audience(
    conn: &mut Conn<'_>,
    tenant: &str,
    list_id: Option<&str>,
    extra: &[String],
) -> Result<Audience, StoreError> {
    let (ids, missing) = match list_id {
        Some(list) => super::lists::resolve(conn, tenant, list, CHANNEL, extra)?,
        None => {
            let ids: Vec<String> = run_on!(conn, |c| u::table
                .filter(u::tenant_id.eq(tenant))
                .filter(u::channel_id.eq(CHANNEL))
                .filter(u::installed.eq(true))
                .order(u::id)
                .select(u::id)
                .load(c))?;
            (ids, Vec::new())
        }
    };
    let mut locales: HashMap<String, Option<String>> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, Option<String>)> = run_on!(conn, |c| u::table
            .filter(u::id.eq_any(chunk))
            .select((u::id, u::locale))
            .load(c))?;
        locales.extend(rows);
    }
    let recipients = ids
        .into_iter()
        .map(|id| {
            let lang = Lang::from_locale(locales.get(&id).and_then(|l| l.as_deref()));
            (id, lang)
        })
        .collect();
    Ok(Audience {
        recipients,
        not_installed: missing,
    })
}

/// Records a new broadcast with the next number of its tenant, and the list members it could
/// not reach. Returns its id. Two admins of one tenant broadcasting in the same instant on
/// PostgreSQL may collide on the unique number: the caller tries again.
pub fn insert(
    conn: &mut Conn<'_>,
    new: &NewBroadcast,
    audience: &Audience,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let last: Option<i32> = run_on!(conn, |c| b::table
        .filter(b::tenant_id.eq(&new.tenant_id))
        .select(diesel::dsl::max(b::number))
        .first(c))?;
    let number = last.unwrap_or(0) + 1;
    let id = uuid::Uuid::now_v7().to_string();
    run_on!(conn, |c| diesel::insert_into(b::table)
        .values((
            b::id.eq(&id),
            b::tenant_id.eq(&new.tenant_id),
            b::number.eq(number),
            b::subject.eq(&new.subject),
            b::body.eq(&new.body),
            b::list_id.eq(new.list_id.as_deref()),
            b::audience.eq(&new.audience),
            b::sender_id.eq(&new.sender_id),
            b::sender_name.eq(&new.sender_name),
            b::targeted.eq(audience.recipients.len() as i32),
            b::not_installed.eq(audience.not_installed.len() as i32),
            b::status.eq(BroadcastStatus::Sent.as_str()),
            b::created_at.eq(now.naive_utc()),
            b::install.eq(new.install),
            b::remind_after_minutes.eq(new.remind_after.map(|d| d.minutes() as i32)),
            b::remind_at.eq(new.remind_after.map(|d| (now + d.as_delta()).naive_utc())),
            b::ack.eq(new.ack),
            b::choices.eq(crate::domain::engagement::choices_to_stored(&new.choices)),
        ))
        .execute(c))?;
    for chunk in audience.not_installed.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|e| (ni::broadcast_id.eq(&id), ni::email.eq(e.as_str())))
            .collect();
        run_on!(conn, |c| diesel::insert_into(ni::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(id)
}

/// Records that `message_id` is the broadcast's message of `role` in `lang`.
pub fn add_message(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    message_id: &str,
    role: Role,
    lang: Lang,
) -> Result<(), StoreError> {
    run_on!(conn, |c| diesel::insert_into(bm::table)
        .values((
            bm::message_id.eq(message_id),
            bm::broadcast_id.eq(broadcast_id),
            bm::role.eq(role.as_str()),
            bm::lang.eq(lang_code(lang)),
        ))
        .execute(c))?;
    Ok(())
}

pub fn get(conn: &mut Conn<'_>, id: &str) -> Result<Option<Broadcast>, StoreError> {
    Ok(run_on!(conn, |c| b::table
        .find(id)
        .select(Broadcast::as_select())
        .first(c)
        .optional())?)
}

/// A tenant's broadcast by the number admins see.
pub fn find(
    conn: &mut Conn<'_>,
    tenant: &str,
    number: i32,
) -> Result<Option<Broadcast>, StoreError> {
    Ok(run_on!(conn, |c| b::table
        .filter(b::tenant_id.eq(tenant))
        .filter(b::number.eq(number))
        .select(Broadcast::as_select())
        .first(c)
        .optional())?)
}

/// A tenant's latest broadcasts, newest first.
pub fn recent(conn: &mut Conn<'_>, tenant: &str, limit: i64) -> Result<Vec<Broadcast>, StoreError> {
    Ok(run_on!(conn, |c| b::table
        .filter(b::tenant_id.eq(tenant))
        .order(b::number.desc())
        .limit(limit)
        .select(Broadcast::as_select())
        .load(c))?)
}

/// The broadcast's messages of `role`, each with its language.
pub fn messages(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    role: Role,
) -> Result<Vec<(String, Lang)>, StoreError> {
    let rows: Vec<(String, String)> = run_on!(conn, |c| bm::table
        .filter(bm::broadcast_id.eq(broadcast_id))
        .filter(bm::role.eq(role.as_str()))
        .select((bm::message_id, bm::lang))
        .load(c))?;
    Ok(rows.into_iter().map(|(m, l)| (m, lang_of(&l))).collect())
}

/// The broadcast's card messages (one per language).
pub fn cards(conn: &mut Conn<'_>, broadcast_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(messages(conn, broadcast_id, Role::Card)?
        .into_iter()
        .map(|(m, _)| m)
        .collect())
}

pub fn all_messages(conn: &mut Conn<'_>, broadcast_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(run_on!(conn, |c| bm::table
        .filter(bm::broadcast_id.eq(broadcast_id))
        .select(bm::message_id)
        .load(c))?)
}

/// List members who were not installed when the broadcast went out.
pub fn not_installed(conn: &mut Conn<'_>, broadcast_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(run_on!(conn, |c| ni::table
        .filter(ni::broadcast_id.eq(broadcast_id))
        .order(ni::email)
        .select(ni::email)
        .load(c))?)
}

/// Records the proactive installs of the broadcast: how many herald installed, and why Graph
/// refused the others (`(identity, reason)`, on the members not installed).
pub fn record_installs(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    installed: usize,
    refused: &[(String, String)],
) -> Result<(), StoreError> {
    for (email, reason) in refused {
        run_on!(conn, |c| diesel::update(
            ni::table
                .filter(ni::broadcast_id.eq(broadcast_id))
                .filter(ni::email.eq(email))
        )
        .set(ni::reason.eq(reason))
        .execute(c))?;
    }
    run_on!(conn, |c| diesel::update(b::table.find(broadcast_id))
        .set(b::herald_installed.eq(installed as i32))
        .execute(c))?;
    Ok(())
}

/// Members not reached, each with Graph's reason when herald's install was refused.
pub fn not_installed_with_reasons(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    Ok(run_on!(conn, |c| ni::table
        .filter(ni::broadcast_id.eq(broadcast_id))
        .order(ni::email)
        .select((ni::email, ni::reason))
        .load(c))?)
}

/// A user's language, as their locale says (English when unknown).
pub fn lang_of_user(conn: &mut Conn<'_>, user_id: &str) -> Result<Lang, StoreError> {
    let locale: Option<Option<String>> = run_on!(conn, |c| u::table
        .find(user_id)
        .select(u::locale)
        .first(c)
        .optional())?;
    Ok(Lang::from_locale(locale.flatten().as_deref()))
}
