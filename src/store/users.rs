//! Users the bot has seen install it: their conversation reference, profile and install state.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::users as t;
use super::{Conn, StoreError};
use crate::run_on;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = t)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub channel_id: String,
    pub channel_user_id: String,
    pub aad_object_id: Option<String>,
    pub bot_id: String,
    pub service_url: String,
    pub conversation_id: String,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub email: Option<String>,
    pub user_principal_name: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub installed: bool,
    pub installed_changed_at: NaiveDateTime,
    pub not_installed_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Herald installed the app for this user through Graph (proactive install).
    pub installed_by_herald: bool,
    /// The last presence observed (Graph's availability and activity), and when.
    pub presence_availability: Option<String>,
    pub presence_activity: Option<String>,
    pub presence_observed_at: Option<NaiveDateTime>,
    /// The user's zone as Graph gives it (mailbox settings, as an IANA name), and when asked.
    pub mailbox_time_zone: Option<String>,
    pub mailbox_time_zone_at: Option<NaiveDateTime>,
}

/// Where a user is reached: what an install activity tells us.
#[derive(Debug, Clone, Default)]
pub struct ConversationRef {
    pub tenant_id: String,
    pub channel_id: String,
    pub channel_user_id: String,
    pub aad_object_id: Option<String>,
    pub bot_id: String,
    pub service_url: String,
    pub conversation_id: String,
    pub display_name: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

/// The profile the connector's get-member call returns. Missing fields keep what we had.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub email: Option<String>,
    pub user_principal_name: Option<String>,
    pub aad_object_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallOutcome {
    /// First time we see this user.
    New,
    /// Known and not installed until now.
    Revived,
    /// Known and already installed (an upgrade, or a repeated event).
    Refreshed,
}

/// `tenant_id = … AND channel_id = … AND channel_user_id = …`: how a user is identified.
pub(crate) type ByKey<'a> = diesel::dsl::And<
    diesel::dsl::And<
        diesel::dsl::Eq<t::tenant_id, &'a str>,
        diesel::dsl::Eq<t::channel_id, &'a str>,
    >,
    diesel::dsl::Eq<t::channel_user_id, &'a str>,
>;

pub(crate) fn by_key(r: &ConversationRef) -> ByKey<'_> {
    t::tenant_id
        .eq(r.tenant_id.as_str())
        .and(t::channel_id.eq(r.channel_id.as_str()))
        .and(t::channel_user_id.eq(r.channel_user_id.as_str()))
}

/// Emails and UPNs are compared case-insensitively, so they are kept in lower case.
fn lower(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
}

pub fn find(conn: &mut Conn<'_>, r: &ConversationRef) -> Result<Option<User>, StoreError> {
    Ok(run_on!(conn, |c| t::table
        .filter(by_key(r))
        .select(User::as_select())
        .first(c)
        .optional())?)
}

/// Records an install (or reinstall): the user is installed from now on, reachable at `r`.
pub fn record_install(
    conn: &mut Conn<'_>,
    r: &ConversationRef,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<(User, InstallOutcome), StoreError> {
    let now = now.naive_utc();
    conn.write_transaction(|conn| {
        let mut existing = find(conn, r)?;
        if existing.is_none() {
            // Herald may have installed the app for this person through Graph before Teams
            // told us their channel id: the same person, by their Entra object id.
            let aad = profile.aad_object_id.as_ref().or(r.aad_object_id.as_ref());
            // Only a row herald wrote (its channel id still the object id) is taken over.
            existing = find_by_aad(conn, &r.tenant_id, &r.channel_id, aad)?
                .filter(|u| Some(&u.channel_user_id) == aad);
        }
        if existing.is_none() {
            let id = uuid::Uuid::now_v7().to_string();
            let inserted = run_on!(conn, |c| diesel::insert_into(t::table)
                .values((
                    t::id.eq(&id),
                    t::tenant_id.eq(&r.tenant_id),
                    t::channel_id.eq(&r.channel_id),
                    t::channel_user_id.eq(&r.channel_user_id),
                    t::aad_object_id
                        .eq(profile.aad_object_id.as_ref().or(r.aad_object_id.as_ref())),
                    t::bot_id.eq(&r.bot_id),
                    t::service_url.eq(&r.service_url),
                    t::conversation_id.eq(&r.conversation_id),
                    t::display_name.eq(profile.display_name.as_ref().or(r.display_name.as_ref())),
                    t::given_name.eq(&profile.given_name),
                    t::surname.eq(&profile.surname),
                    t::email.eq(lower(&profile.email)),
                    t::user_principal_name.eq(lower(&profile.user_principal_name)),
                    t::locale.eq(&r.locale),
                    t::time_zone.eq(&r.time_zone),
                    t::installed.eq(true),
                    t::installed_changed_at.eq(now),
                    t::created_at.eq(now),
                    t::updated_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
            if inserted == 1 {
                let user = find(conn, r)?.ok_or(diesel::result::Error::NotFound)?;
                return Ok((user, InstallOutcome::New));
            }
            // Another instance inserted the same user at the same moment: update it instead.
            existing = find(conn, r)?;
        }
        let old = existing.ok_or(diesel::result::Error::NotFound)?;
        let outcome = if old.installed {
            InstallOutcome::Refreshed
        } else {
            InstallOutcome::Revived
        };
        let since = if old.installed {
            old.installed_changed_at
        } else {
            now
        };
        run_on!(conn, |c| diesel::update(t::table.filter(t::id.eq(&old.id)))
            .set((
                t::channel_user_id.eq(&r.channel_user_id),
                t::aad_object_id.eq(profile
                    .aad_object_id
                    .clone()
                    .or_else(|| r.aad_object_id.clone())
                    .or(old.aad_object_id.clone())),
                t::bot_id.eq(&r.bot_id),
                t::service_url.eq(&r.service_url),
                t::conversation_id.eq(&r.conversation_id),
                t::display_name.eq(profile
                    .display_name
                    .clone()
                    .or_else(|| r.display_name.clone())
                    .or(old.display_name.clone())),
                t::given_name.eq(profile.given_name.clone().or(old.given_name.clone())),
                t::surname.eq(profile.surname.clone().or(old.surname.clone())),
                t::email.eq(lower(&profile.email).or(old.email.clone())),
                t::user_principal_name
                    .eq(lower(&profile.user_principal_name).or(old.user_principal_name.clone())),
                t::locale.eq(r.locale.clone().or(old.locale.clone())),
                t::time_zone.eq(r.time_zone.clone().or(old.time_zone.clone())),
                t::installed.eq(true),
                t::installed_changed_at.eq(since),
                t::not_installed_reason.eq(None::<String>),
                t::updated_at.eq(now),
            ))
            .execute(c))?;
        let user = find(conn, r)?.ok_or(diesel::result::Error::NotFound)?;
        Ok((user, outcome))
    })
}

/// Marks the user not installed, with why (`uninstalled`, or the connector's refusal code).
/// A user never seen before is recorded as not installed. Returns true when the state changed.
pub fn record_uninstall(
    conn: &mut Conn<'_>,
    r: &ConversationRef,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now = now.naive_utc();
    conn.write_transaction(|conn| {
        let changed = run_on!(conn, |c| diesel::update(
            t::table.filter(by_key(r)).filter(t::installed.eq(true))
        )
        .set((
            t::installed.eq(false),
            t::installed_changed_at.eq(now),
            t::not_installed_reason.eq(reason),
            t::updated_at.eq(now),
        ))
        .execute(c))?;
        if changed > 0 {
            return Ok(true);
        }
        if find(conn, r)?.is_none() && uninstall_by_aad(conn, r, reason, now)? {
            return Ok(true);
        }
        let inserted = run_on!(conn, |c| diesel::insert_into(t::table)
            .values((
                t::id.eq(uuid::Uuid::now_v7().to_string()),
                t::tenant_id.eq(&r.tenant_id),
                t::channel_id.eq(&r.channel_id),
                t::channel_user_id.eq(&r.channel_user_id),
                t::aad_object_id.eq(&r.aad_object_id),
                t::bot_id.eq(&r.bot_id),
                t::service_url.eq(&r.service_url),
                t::conversation_id.eq(&r.conversation_id),
                t::display_name.eq(&r.display_name),
                t::locale.eq(&r.locale),
                t::time_zone.eq(&r.time_zone),
                t::installed.eq(false),
                t::installed_changed_at.eq(now),
                t::not_installed_reason.eq(reason),
                t::created_at.eq(now),
                t::updated_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(inserted > 0)
    })
}

/// Every known user, by tenant then name.
pub fn list(conn: &mut Conn<'_>) -> Result<Vec<User>, StoreError> {
    Ok(run_on!(conn, |c| t::table
        .order((t::tenant_id, t::display_name, t::channel_user_id))
        .select(User::as_select())
        .load(c))?)
}

/// Marks a known user not installed (the connector said they removed or blocked the bot).
pub fn mark_not_installed(
    conn: &mut Conn<'_>,
    user_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now = now.naive_utc();
    let n = run_on!(conn, |c| diesel::update(
        t::table
            .filter(t::id.eq(user_id))
            .filter(t::installed.eq(true))
    )
    .set((
        t::installed.eq(false),
        t::installed_changed_at.eq(now),
        t::not_installed_reason.eq(reason),
        t::updated_at.eq(now),
    ))
    .execute(c))?;
    Ok(n > 0)
}

/// A user by id.
pub fn get(conn: &mut Conn<'_>, user_id: &str) -> Result<Option<User>, StoreError> {
    Ok(run_on!(conn, |c| t::table
        .find(user_id)
        .select(User::as_select())
        .first(c)
        .optional())?)
}

/// A user of `tenant` who installed the bot on `channel` and has this email or UPN.
pub fn find_installed_by_email(
    conn: &mut Conn<'_>,
    tenant: &str,
    channel: &str,
    email: &str,
) -> Result<Option<User>, StoreError> {
    let email = email.trim().to_lowercase();
    Ok(run_on!(conn, |c| t::table
        .filter(t::tenant_id.eq(tenant))
        .filter(t::channel_id.eq(channel))
        .filter(t::installed.eq(true))
        .filter(t::email.eq(&email).or(t::user_principal_name.eq(&email)))
        .select(User::as_select())
        .first(c)
        .optional())?)
}

/// The user of `tenant` on `channel` with this Entra object id, if any.
pub fn find_by_aad(
    conn: &mut Conn<'_>,
    tenant: &str,
    channel: &str,
    aad: Option<&String>,
) -> Result<Option<User>, StoreError> {
    let Some(aad) = aad.filter(|a| !a.trim().is_empty()) else {
        return Ok(None);
    };
    Ok(run_on!(conn, |c| t::table
        .filter(t::tenant_id.eq(tenant))
        .filter(t::channel_id.eq(channel))
        .filter(t::aad_object_id.eq(aad))
        .order(t::installed.desc())
        .select(User::as_select())
        .first(c)
        .optional())?)
}

/// An uninstall from someone known only by their Entra object id (installed by herald, the
/// install event not seen yet): that row becomes theirs and not installed. False when there is
/// no such row.
fn uninstall_by_aad(
    conn: &mut Conn<'_>,
    r: &ConversationRef,
    reason: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let Some(user) = find_by_aad(conn, &r.tenant_id, &r.channel_id, r.aad_object_id.as_ref())?
        .filter(|u| Some(&u.channel_user_id) == r.aad_object_id.as_ref())
    else {
        return Ok(false);
    };
    run_on!(conn, |c| diesel::update(t::table.find(&user.id))
        .set((
            t::channel_user_id.eq(&r.channel_user_id),
            t::installed.eq(false),
            t::installed_changed_at.eq(now),
            t::not_installed_reason.eq(reason),
            t::updated_at.eq(now),
        ))
        .execute(c))?;
    Ok(true)
}
