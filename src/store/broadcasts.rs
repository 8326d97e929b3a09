//! Broadcasts: the message sent now to a list or everyone, its reads, its reply threads and
//! its recall. Each recipient's card is a delivery of one of the broadcast's card messages (one
//! per language); reading enqueues an update of that card, recalling a delete of it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use super::deliveries::{self, NewDelivery, Operation};
use super::schema::{
    broadcast_messages as bm, broadcast_not_installed as ni, broadcast_reads as r, broadcasts as b,
    deliveries as d, relay_messages as rm, relay_threads as th, users as u,
};
use super::{Conn, StoreError};
use crate::domain::Lang;
use crate::domain::broadcast::RecallCounts;
use crate::domain::delivery::{DeliveryStatus, reason};
use crate::run_on;

pub mod status {
    pub const SENT: &str = "sent";
    pub const RECALLED: &str = "recalled";
}

/// What a broadcast message is to its broadcast.
pub mod role {
    /// The card recipients get.
    pub const CARD: &str = "card";
    /// The card that replaces it once read.
    pub const READ: &str = "read";
}

/// How a read was recorded.
pub mod source {
    pub const BUTTON: &str = "button";
    pub const RECEIPT: &str = "receipt";
}

/// The two directions of a reply thread.
pub mod direction {
    /// Recipient → sender.
    pub const REPLY: &str = "reply";
    /// Sender → recipient.
    pub const ANSWER: &str = "answer";
}

/// Message kinds in `outbound_messages`.
pub const KIND_CARD: &str = "broadcast";
pub const KIND_READ: &str = "broadcast-read";
pub const KIND_RELAY: &str = "relay";
pub const KIND_NOTICE: &str = "notice";

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
    pub status: String,
    pub created_at: NaiveDateTime,
    pub recalled_at: Option<NaiveDateTime>,
    pub recalled_by: Option<String>,
    pub recalled_by_user: Option<String>,
    pub recall_reported_at: Option<NaiveDateTime>,
}

impl Broadcast {
    pub fn recalled(&self) -> bool {
        self.status == status::RECALLED
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
}

/// Broadcasts go to Teams users: read receipts, card updates and deletes are Teams' features.
const CHANNEL: &str = "msteams";

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Fr => "fr",
    }
}

fn lang_of(code: &str) -> Lang {
    if code == "fr" { Lang::Fr } else { Lang::En }
}

/// Installed recipients (user id, language) and list members installed nowhere.
type Audience = (Vec<(String, Lang)>, Vec<String>);

fn audience(
    conn: &mut Conn<'_>,
    tenant: &str,
    list_id: Option<&str>,
) -> Result<Audience, StoreError> {
    let (ids, missing) = match list_id {
        Some(list) => super::lists::resolve(conn, tenant, list, CHANNEL)?,
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
    Ok((recipients, missing))
}

/// What creating a broadcast came to.
#[derive(Debug, Clone)]
pub enum Created {
    /// Stored, with a card due now for each recipient; the list members not installed.
    Sent(Box<Broadcast>, Vec<String>),
    /// Nobody installed to send to: nothing stored. The list members not installed.
    Nobody(Vec<String>),
}

/// Creates a broadcast and one card delivery per installed recipient, due now. `card` builds
/// the activity for a language, a broadcast id and whether it shows as read.
pub fn create(
    conn: &mut Conn<'_>,
    new: &NewBroadcast,
    card: &dyn Fn(Lang, &str, bool) -> Value,
    now: DateTime<Utc>,
) -> Result<Created, StoreError> {
    // Numbers are taken as max + 1; two admins of one tenant broadcasting in the same instant
    // on PostgreSQL may collide on the unique number, and the loser simply takes the next.
    let mut tries = 0;
    loop {
        tries += 1;
        match conn.write_transaction(|conn| create_once(conn, new, card, now)) {
            Err(e) if e.is_unique_violation() && tries < 5 => continue,
            other => return other,
        }
    }
}

fn create_once(
    conn: &mut Conn<'_>,
    new: &NewBroadcast,
    card: &dyn Fn(Lang, &str, bool) -> Value,
    now: DateTime<Utc>,
) -> Result<Created, StoreError> {
    let now_n = now.naive_utc();
    let (recipients, missing) = audience(conn, &new.tenant_id, new.list_id.as_deref())?;
    if recipients.is_empty() {
        return Ok(Created::Nobody(missing));
    }
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
            b::targeted.eq(recipients.len() as i32),
            b::not_installed.eq(missing.len() as i32),
            b::status.eq(status::SENT),
            b::created_at.eq(now_n),
        ))
        .execute(c))?;
    for chunk in missing.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|e| (ni::broadcast_id.eq(&id), ni::email.eq(e.as_str())))
            .collect();
        run_on!(conn, |c| diesel::insert_into(ni::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    for lang in [Lang::En, Lang::Fr] {
        let items: Vec<NewDelivery> = recipients
            .iter()
            .filter(|(_, l)| *l == lang)
            .map(|(user_id, _)| NewDelivery {
                user_id: user_id.clone(),
                operation: Operation::Send,
                target_activity_id: None,
                due: now,
                planned: None,
            })
            .collect();
        if items.is_empty() {
            continue;
        }
        for (role, kind, read) in [
            (role::CARD, KIND_CARD, false),
            (role::READ, KIND_READ, true),
        ] {
            let message_id = uuid::Uuid::now_v7().to_string();
            deliveries::create_message(
                conn,
                &message_id,
                &new.tenant_id,
                kind,
                &card(lang, &id, read),
                now,
            )?;
            super::tracking::store_links(conn, &message_id, &new.links)?;
            run_on!(conn, |c| diesel::insert_into(bm::table)
                .values((
                    bm::message_id.eq(&message_id),
                    bm::broadcast_id.eq(&id),
                    bm::role.eq(role),
                    bm::lang.eq(lang_code(lang)),
                ))
                .execute(c))?;
            if role == role::CARD {
                deliveries::enqueue(conn, &message_id, &new.tenant_id, &items, now)?;
            }
        }
    }
    let bc = get(conn, &id)?.ok_or(StoreError::Query(diesel::result::Error::NotFound))?;
    Ok(Created::Sent(Box::new(bc), missing))
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
    of_role: &str,
) -> Result<Vec<(String, Lang)>, StoreError> {
    let rows: Vec<(String, String)> = run_on!(conn, |c| bm::table
        .filter(bm::broadcast_id.eq(broadcast_id))
        .filter(bm::role.eq(of_role))
        .select((bm::message_id, bm::lang))
        .load(c))?;
    Ok(rows.into_iter().map(|(m, l)| (m, lang_of(&l))).collect())
}

pub fn all_messages(conn: &mut Conn<'_>, broadcast_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(run_on!(conn, |c| bm::table
        .filter(bm::broadcast_id.eq(broadcast_id))
        .select(bm::message_id)
        .load(c))?)
}

/// What `broadcasts` and `broadcast info` count (and a folded report keeps).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Installed recipients the card was sent to.
    pub targeted: i64,
    pub not_installed: i64,
    pub delivered: i64,
    pub pending: i64,
    /// Sends that failed (recipient gone, refused, retries exhausted).
    pub failed: i64,
    pub read_button: i64,
    pub read_receipt: i64,
    /// Recipients who replied at least once.
    pub repliers: i64,
    pub recall: RecallCounts,
}

impl Counts {
    pub fn read(&self) -> i64 {
        self.read_button + self.read_receipt
    }
}

pub fn counts(conn: &mut Conn<'_>, bc: &Broadcast) -> Result<Counts, StoreError> {
    if let Some(folded) = super::folded::folded_broadcast(conn, &bc.id)? {
        return Ok(folded.counts);
    }
    let cards: Vec<String> = messages(conn, &bc.id, role::CARD)?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    let rows: Vec<(String, String, String, Option<String>)> = run_on!(conn, |c| d::table
        .filter(d::message_id.eq_any(&cards))
        .select((d::user_id, d::operation, d::status, d::failure))
        .load(c))?;
    let mut out = Counts {
        targeted: bc.targeted as i64,
        not_installed: bc.not_installed as i64,
        ..Counts::default()
    };
    // A card stopped by the recall and its delete with nothing to delete are one person.
    let stopped: HashSet<&str> = rows
        .iter()
        .filter(|r| r.1 == Operation::Send.as_str() && r.3.as_deref() == Some(reason::RECALLED))
        .map(|r| r.0.as_str())
        .collect();
    for (user, operation, status, failure) in &rows {
        let recalled = failure.as_deref() == Some(reason::RECALLED);
        let not_sent = failure.as_deref() == Some(reason::NOT_SENT);
        if not_sent && stopped.contains(user.as_str()) {
            continue;
        }
        let (operation, status) = (operation.as_str(), status.as_str());
        match (Operation::parse(operation), DeliveryStatus::parse(status)) {
            (Some(Operation::Send), Some(DeliveryStatus::Delivered)) => out.delivered += 1,
            (Some(Operation::Send), Some(DeliveryStatus::Pending)) => out.pending += 1,
            (Some(Operation::Send), _) if recalled => out.recall.not_sent += 1,
            (Some(Operation::Send), _) => out.failed += 1,
            (Some(Operation::Delete), Some(DeliveryStatus::Delivered)) => out.recall.removed += 1,
            (Some(Operation::Delete), Some(DeliveryStatus::Pending)) => out.recall.pending += 1,
            (Some(Operation::Delete), _) if not_sent => out.recall.not_sent += 1,
            (Some(Operation::Delete), _) => out.recall.failed += 1,
            _ => {}
        }
    }
    let sources: Vec<String> = run_on!(conn, |c| r::table
        .filter(r::broadcast_id.eq(&bc.id))
        .select(r::source)
        .load(c))?;
    for s in sources {
        if s == source::RECEIPT {
            out.read_receipt += 1;
        } else {
            out.read_button += 1;
        }
    }
    out.repliers = run_on!(conn, |c| th::table
        .filter(th::broadcast_id.eq(&bc.id))
        .filter(diesel::dsl::exists(
            rm::table
                .filter(rm::thread_id.eq(th::id))
                .filter(rm::direction.eq(direction::REPLY))
        ))
        .count()
        .get_result(c))?;
    Ok(out)
}

/// Recipients who have the card and have not read it: how many, and the first `limit` of
/// them by email (or name).
pub fn unread(
    conn: &mut Conn<'_>,
    bc: &Broadcast,
    limit: usize,
) -> Result<(usize, Vec<String>), StoreError> {
    if let Some(folded) = super::folded::folded_broadcast(conn, &bc.id)? {
        return Ok((folded.unread as usize, Vec::new())); // who: purged with the deliveries
    }
    let cards: Vec<String> = messages(conn, &bc.id, role::CARD)?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    let delivered: Vec<String> = run_on!(conn, |c| d::table
        .filter(d::message_id.eq_any(&cards))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .select(d::user_id)
        .load(c))?;
    let read: HashSet<String> = run_on!(conn, |c| r::table
        .filter(r::broadcast_id.eq(&bc.id))
        .select(r::user_id)
        .load::<String>(c))?
    .into_iter()
    .collect();
    let unread: Vec<String> = delivered
        .into_iter()
        .filter(|id| !read.contains(id))
        .collect();
    let total = unread.len();
    let shown: Vec<String> = unread.into_iter().take(limit).collect();
    let mut names: Vec<String> = run_on!(conn, |c| u::table
        .filter(u::id.eq_any(&shown))
        .select((u::email, u::user_principal_name, u::display_name, u::id))
        .load::<(Option<String>, Option<String>, Option<String>, String)>(c))?
    .into_iter()
    .map(|(email, upn, name, id)| email.or(upn).or(name).unwrap_or(id))
    .collect();
    names.sort();
    Ok((total, names))
}

/// List members who were not installed when the broadcast went out.
pub fn not_installed(conn: &mut Conn<'_>, broadcast_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(run_on!(conn, |c| ni::table
        .filter(ni::broadcast_id.eq(broadcast_id))
        .order(ni::email)
        .select(ni::email)
        .load(c))?)
}

/// The card `user_id` got: (card message id, its language, the sent activity's id), once the
/// send went through.
fn delivered_card(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
) -> Result<Option<(String, Lang, String)>, StoreError> {
    for (message_id, lang) in messages(conn, broadcast_id, role::CARD)? {
        let found: Option<Option<String>> = run_on!(conn, |c| d::table
            .filter(d::message_id.eq(&message_id))
            .filter(d::user_id.eq(user_id))
            .filter(d::operation.eq(Operation::Send.as_str()))
            .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
            .select(d::activity_id)
            .first(c)
            .optional())?;
        if let Some(activity) = found {
            return Ok(Some((message_id, lang, activity.unwrap_or_default())));
        }
    }
    Ok(None)
}

/// Whether the broadcast's card reached `user_id`.
pub fn was_sent_to(conn: &mut Conn<'_>, bc: &Broadcast, user_id: &str) -> Result<bool, StoreError> {
    Ok(delivered_card(conn, &bc.id, user_id)?.is_some())
}

/// What recording a read came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// First read by this recipient: recorded, and their card will show it.
    New,
    /// Already read: nothing changed.
    Already,
    /// This user never got this broadcast.
    NotARecipient,
    /// The broadcast was recalled: its card is no longer in the chat.
    Recalled,
}

/// Records that `user_id` read the broadcast (once, whatever the source) and, unless it was
/// recalled, enqueues the update that turns their card into the read card.
pub fn record_read(
    conn: &mut Conn<'_>,
    broadcast_id: &str,
    user_id: &str,
    how: &str,
    now: DateTime<Utc>,
) -> Result<Read, StoreError> {
    conn.write_transaction(|conn| {
        let Some(bc) = get(conn, broadcast_id)? else {
            return Ok(Read::NotARecipient);
        };
        let Some((_, lang, activity_id)) = delivered_card(conn, broadcast_id, user_id)? else {
            return Ok(Read::NotARecipient);
        };
        if bc.recalled() {
            return Ok(Read::Recalled);
        }
        let added = run_on!(conn, |c| diesel::insert_into(r::table)
            .values((
                r::broadcast_id.eq(broadcast_id),
                r::user_id.eq(user_id),
                r::read_at.eq(now.naive_utc()),
                r::source.eq(how),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        if added == 0 {
            return Ok(Read::Already);
        }
        let read_card = messages(conn, broadcast_id, role::READ)?
            .into_iter()
            .find(|(_, l)| *l == lang);
        if let Some((message_id, _)) = read_card
            && !activity_id.is_empty()
        {
            let update = NewDelivery {
                user_id: user_id.to_string(),
                operation: Operation::Update,
                target_activity_id: Some(activity_id),
                due: now,
                planned: None,
            };
            deliveries::enqueue(conn, &message_id, &bc.tenant_id, &[update], now)?;
        }
        Ok(Read::New)
    })
}

/// A Teams read receipt from `user_id`: every broadcast card in their chat whose activity id is
/// at most `last_read` is read. Returns how many reads were new.
pub fn record_receipt(
    conn: &mut Conn<'_>,
    user_id: &str,
    last_read: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let cards: Vec<(String, Option<String>)> = run_on!(conn, |c| d::table
        .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
        .filter(d::user_id.eq(user_id))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .filter(bm::role.eq(role::CARD))
        .select((bm::broadcast_id, d::activity_id))
        .load(c))?;
    if cards.is_empty() {
        return Ok(0);
    }
    let already: HashSet<String> = run_on!(conn, |c| r::table
        .filter(r::user_id.eq(user_id))
        .select(r::broadcast_id)
        .load::<String>(c))?
    .into_iter()
    .collect();
    let mut new = 0;
    for (broadcast_id, activity_id) in cards {
        let covered = activity_id
            .as_deref()
            .is_some_and(|a| crate::domain::broadcast::receipt_covers(a, last_read));
        if covered
            && !already.contains(&broadcast_id)
            && record_read(conn, &broadcast_id, user_id, source::RECEIPT, now)? == Read::New
        {
            new += 1;
        }
    }
    Ok(new)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = th)]
pub struct Thread {
    pub id: String,
    pub broadcast_id: String,
    pub recipient_id: String,
    pub sender_id: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn thread(conn: &mut Conn<'_>, id: &str) -> Result<Option<Thread>, StoreError> {
    Ok(run_on!(conn, |c| th::table
        .find(id)
        .select(Thread::as_select())
        .first(c)
        .optional())?)
}

/// The thread between a recipient and the broadcast's sender, opened on the first reply.
pub fn open_thread(
    conn: &mut Conn<'_>,
    bc: &Broadcast,
    recipient_id: &str,
    now: DateTime<Utc>,
) -> Result<Thread, StoreError> {
    conn.write_transaction(|conn| {
        let id = uuid::Uuid::now_v7().to_string();
        run_on!(conn, |c| diesel::insert_into(th::table)
            .values((
                th::id.eq(&id),
                th::broadcast_id.eq(&bc.id),
                th::recipient_id.eq(recipient_id),
                th::sender_id.eq(&bc.sender_id),
                th::created_at.eq(now.naive_utc()),
                th::updated_at.eq(now.naive_utc()),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(run_on!(conn, |c| th::table
            .filter(th::broadcast_id.eq(&bc.id))
            .filter(th::recipient_id.eq(recipient_id))
            .select(Thread::as_select())
            .first(c))?)
    })
}

/// Records one message of a thread and relays it: `payload` goes to `to_user_id` through the
/// engine. Returns the outbound message id.
pub fn relay(
    conn: &mut Conn<'_>,
    tenant_id: &str,
    thread: &Thread,
    dir: &str,
    text: &str,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let to = if dir == direction::REPLY {
        &thread.sender_id
    } else {
        &thread.recipient_id
    };
    conn.write_transaction(|conn| {
        let message_id = uuid::Uuid::now_v7().to_string();
        deliveries::create_message(conn, &message_id, tenant_id, KIND_RELAY, payload, now)?;
        let item = NewDelivery {
            user_id: to.clone(),
            operation: Operation::Send,
            target_activity_id: None,
            due: now,
            planned: None,
        };
        deliveries::enqueue(conn, &message_id, tenant_id, &[item], now)?;
        run_on!(conn, |c| diesel::insert_into(rm::table)
            .values((
                rm::thread_id.eq(&thread.id),
                rm::direction.eq(dir),
                rm::text.eq(text),
                rm::message_id.eq(&message_id),
                rm::created_at.eq(now.naive_utc()),
            ))
            .execute(c))?;
        run_on!(conn, |c| diesel::update(th::table.find(&thread.id))
            .set(th::updated_at.eq(now.naive_utc()))
            .execute(c))?;
        Ok(message_id)
    })
}

/// Which broadcast a recipient's plain message answers: the one whose card (or relayed answer)
/// it replies to, else the latest they received or were answered about, since `since`.
pub fn reply_target(
    conn: &mut Conn<'_>,
    user_id: &str,
    reply_to_id: Option<&str>,
    since: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    if let Some(reply_to) = reply_to_id.filter(|r| !r.is_empty()) {
        let card: Option<String> = run_on!(conn, |c| d::table
            .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
            .filter(d::user_id.eq(user_id))
            .filter(d::activity_id.eq(reply_to))
            .select(bm::broadcast_id)
            .first(c)
            .optional())?;
        if card.is_some() {
            return Ok(card);
        }
        let answered: Option<String> = run_on!(conn, |c| d::table
            .inner_join(rm::table.on(rm::message_id.eq(d::message_id)))
            .inner_join(th::table.on(th::id.eq(rm::thread_id)))
            .filter(d::user_id.eq(user_id))
            .filter(d::activity_id.eq(reply_to))
            .filter(th::recipient_id.eq(user_id))
            .select(th::broadcast_id)
            .first(c)
            .optional())?;
        if answered.is_some() {
            return Ok(answered);
        }
    }
    let since = since.naive_utc();
    let latest_card: Option<(String, Option<NaiveDateTime>)> = run_on!(conn, |c| d::table
        .inner_join(bm::table.on(bm::message_id.eq(d::message_id)))
        .filter(d::user_id.eq(user_id))
        .filter(d::operation.eq(Operation::Send.as_str()))
        .filter(d::status.eq(DeliveryStatus::Delivered.as_str()))
        .filter(bm::role.eq(role::CARD))
        .filter(d::completed_at.ge(since))
        .order(d::completed_at.desc())
        .select((bm::broadcast_id, d::completed_at))
        .first(c)
        .optional())?;
    let latest_thread: Option<(String, NaiveDateTime)> = run_on!(conn, |c| th::table
        .filter(th::recipient_id.eq(user_id))
        .filter(th::updated_at.ge(since))
        .order(th::updated_at.desc())
        .select((th::broadcast_id, th::updated_at))
        .first(c)
        .optional())?;
    Ok(match (latest_card, latest_thread) {
        (Some((card, at)), Some((thread, t_at))) => {
            if at.is_some_and(|at| at >= t_at) {
                Some(card)
            } else {
                Some(thread)
            }
        }
        (Some((card, _)), None) => Some(card),
        (None, Some((thread, _))) => Some(thread),
        (None, None) => None,
    })
}

/// What starting a recall came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecallStarted {
    /// Deletes enqueued, one per card that reached (or is reaching) a chat.
    pub deletes: usize,
    /// Cards stopped before they were sent.
    pub stopped: usize,
    /// The card messages, which must no longer be sent.
    pub cards: Vec<String>,
}

/// Recalls a broadcast: cards not yet sent are stopped, every other card gets a delete
/// (its target found at send time when the card is still on its way). `None` when it was
/// recalled already.
pub fn recall(
    conn: &mut Conn<'_>,
    bc: &Broadcast,
    by: &str,
    by_user: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<RecallStarted>, StoreError> {
    let now_n = now.naive_utc();
    conn.write_transaction(|conn| {
        let n = run_on!(conn, |c| diesel::update(
            b::table
                .filter(b::id.eq(&bc.id))
                .filter(b::status.eq(status::SENT))
        )
        .set((
            b::status.eq(status::RECALLED),
            b::recalled_at.eq(now_n),
            b::recalled_by.eq(by),
            b::recalled_by_user.eq(by_user),
        ))
        .execute(c))?;
        if n == 0 {
            return Ok(None);
        }
        let all = all_messages(conn, &bc.id)?;
        let pending = DeliveryStatus::Pending.as_str();
        // Sends and card updates nobody holds: stopped here.
        let stopped = run_on!(conn, |c| diesel::update(
            d::table
                .filter(d::message_id.eq_any(&all))
                .filter(d::operation.ne(Operation::Delete.as_str()))
                .filter(d::status.eq(pending))
                .filter(d::leased_by.is_null().or(d::lease_expires_at.lt(now_n)))
        )
        .set((
            d::status.eq(DeliveryStatus::Failed.as_str()),
            d::failure.eq(reason::RECALLED),
            d::completed_at.eq(now_n),
            d::updated_at.eq(now_n),
            d::leased_by.eq(None::<String>),
            d::lease_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c))?;
        let mut deletes = 0;
        let cards: Vec<String> = messages(conn, &bc.id, role::CARD)?
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        for message_id in &cards {
            // Delivered cards, and cards being sent right now.
            let rows: Vec<(String, String, Option<String>)> = run_on!(conn, |c| d::table
                .filter(d::message_id.eq(message_id))
                .filter(d::operation.eq(Operation::Send.as_str()))
                .filter(
                    d::status
                        .eq(DeliveryStatus::Delivered.as_str())
                        .or(d::status.eq(pending))
                )
                .select((d::user_id, d::status, d::activity_id))
                .load(c))?;
            let items: Vec<NewDelivery> = rows
                .into_iter()
                .map(|(user_id, status, activity_id)| NewDelivery {
                    user_id,
                    operation: Operation::Delete,
                    target_activity_id: if status == pending { None } else { activity_id },
                    due: now,
                    planned: None,
                })
                .collect();
            deletes += deliveries::enqueue(conn, message_id, &bc.tenant_id, &items, now)?;
        }
        Ok(Some(RecallStarted {
            deletes,
            stopped,
            cards,
        }))
    })
}

/// Where a delete whose target was not known at recall time stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteTarget {
    /// The card went out as this activity: delete it.
    Activity(String),
    /// The card is being sent right now: ask again shortly.
    Wait,
    /// The card never reached the chat (and will not: a pending one is stopped here).
    Nothing,
}

pub fn resolve_delete_target(
    conn: &mut Conn<'_>,
    message_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<DeleteTarget, StoreError> {
    let now_n = now.naive_utc();
    conn.write_transaction(|conn| {
        type SendState = (
            String,
            Option<String>,
            Option<String>,
            Option<NaiveDateTime>,
        );
        let send: Option<SendState> = run_on!(conn, |c| d::table
            .filter(d::message_id.eq(message_id))
            .filter(d::user_id.eq(user_id))
            .filter(d::operation.eq(Operation::Send.as_str()))
            .select((d::status, d::activity_id, d::leased_by, d::lease_expires_at))
            .first(c)
            .optional())?;
        let Some((status, activity_id, leased_by, lease_expires)) = send else {
            return Ok(DeleteTarget::Nothing);
        };
        match DeliveryStatus::parse(&status) {
            Some(DeliveryStatus::Delivered) => Ok(activity_id
                .filter(|a| !a.is_empty())
                .map_or(DeleteTarget::Nothing, DeleteTarget::Activity)),
            Some(DeliveryStatus::Pending)
                if leased_by.is_some() && lease_expires.is_some_and(|t| t >= now_n) =>
            {
                Ok(DeleteTarget::Wait)
            }
            Some(DeliveryStatus::Pending) => {
                // Only if still free: on PostgreSQL a dispatcher may lease it meanwhile.
                let stopped = run_on!(conn, |c| diesel::update(
                    d::table
                        .filter(d::message_id.eq(message_id))
                        .filter(d::user_id.eq(user_id))
                        .filter(d::operation.eq(Operation::Send.as_str()))
                        .filter(d::status.eq(DeliveryStatus::Pending.as_str()))
                        .filter(d::leased_by.is_null().or(d::lease_expires_at.lt(now_n)))
                )
                .set((
                    d::status.eq(DeliveryStatus::Failed.as_str()),
                    d::failure.eq(reason::RECALLED),
                    d::completed_at.eq(now_n),
                    d::updated_at.eq(now_n),
                    d::leased_by.eq(None::<String>),
                    d::lease_expires_at.eq(None::<NaiveDateTime>),
                ))
                .execute(c))?;
                Ok(if stopped == 1 {
                    DeleteTarget::Nothing
                } else {
                    DeleteTarget::Wait
                })
            }
            _ => Ok(DeleteTarget::Nothing),
        }
    })
}

/// Recalls whose deletes are all done and not yet reported: each is marked reported and the
/// admin who recalled it gets `notice(broadcast, counts, sender's language)` through the engine, in the same
/// transaction. Returns how many were reported.
pub fn finish_recalls(
    conn: &mut Conn<'_>,
    notice: &dyn Fn(&Broadcast, &RecallCounts, Lang) -> Value,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let open: Vec<Broadcast> = run_on!(conn, |c| b::table
        .filter(b::status.eq(status::RECALLED))
        .filter(b::recall_reported_at.is_null())
        .select(Broadcast::as_select())
        .load(c))?;
    let mut reported = 0;
    for bc in open {
        let done = conn.write_transaction(|conn| {
            let counts = counts(conn, &bc)?;
            if counts.recall.pending > 0 {
                return Ok::<_, StoreError>(false);
            }
            let claimed = run_on!(conn, |c| diesel::update(
                b::table
                    .filter(b::id.eq(&bc.id))
                    .filter(b::recall_reported_at.is_null())
            )
            .set(b::recall_reported_at.eq(now.naive_utc()))
            .execute(c))?;
            if claimed == 0 {
                return Ok(false);
            }
            // The admin who recalled it hears how it went (the sender, for older recalls).
            let to = bc
                .recalled_by_user
                .clone()
                .unwrap_or_else(|| bc.sender_id.clone());
            let sender_locale: Option<Option<String>> = run_on!(conn, |c| u::table
                .find(&to)
                .select(u::locale)
                .first(c)
                .optional())?;
            let lang = Lang::from_locale(sender_locale.flatten().as_deref());
            let message_id = uuid::Uuid::now_v7().to_string();
            deliveries::create_message(
                conn,
                &message_id,
                &bc.tenant_id,
                KIND_NOTICE,
                &notice(&bc, &counts.recall, lang),
                now,
            )?;
            let item = NewDelivery {
                user_id: to,
                operation: Operation::Send,
                target_activity_id: None,
                due: now,
                planned: None,
            };
            deliveries::enqueue(conn, &message_id, &bc.tenant_id, &[item], now)?;
            Ok(true)
        })?;
        if done {
            reported += 1;
        }
    }
    Ok(reported)
}
