//! Users herald installed the app for through Graph (proactive install): recorded with the
//! 1:1 chat Graph gave and the profile the directory holds, and found again by their Entra
//! object id when Teams later tells us about them under their channel id.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::users as t;
use super::users::{Profile, User, find_by_aad};
use super::{Conn, StoreError};
use crate::run_on;

/// An install herald made through Graph.
#[derive(Debug, Clone, Default)]
pub struct HeraldInstall {
    pub tenant_id: String,
    pub channel_id: String,
    /// The Entra object id (also the channel user id until Teams tells us theirs).
    pub aad_object_id: String,
    pub bot_id: String,
    pub service_url: String,
    /// The 1:1 chat Graph read back.
    pub conversation_id: String,
    pub profile: Profile,
}

fn lower(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
}

/// Where the tenant's users are reached: the service URL and bot id of its most recently seen
/// installed user on `channel`.
pub fn tenant_contact(
    conn: &mut Conn<'_>,
    tenant: &str,
    channel: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(run_on!(conn, |c| t::table
        .filter(t::tenant_id.eq(tenant))
        .filter(t::channel_id.eq(channel))
        .filter(t::installed.eq(true))
        .filter(t::installed_by_herald.eq(false))
        .order(t::updated_at.desc())
        .select((t::service_url, t::bot_id))
        .first(c)
        .optional())?)
}

/// Records a user herald installed the app for: a row of theirs (found by Entra object id:
/// an earlier uninstall, or the install event that came first) becomes installed and reachable
/// in the chat Graph gave; else a new row, whose channel user id is the object id until Teams
/// sends the install event.
pub fn record_herald_install(
    conn: &mut Conn<'_>,
    i: &HeraldInstall,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    let now = now.naive_utc();
    let p = &i.profile;
    conn.write_transaction(|conn| {
        let aad = Some(i.aad_object_id.clone());
        if let Some(old) = find_by_aad(conn, &i.tenant_id, &i.channel_id, aad.as_ref())? {
            let since = if old.installed {
                old.installed_changed_at
            } else {
                now
            };
            // A row Teams' own event wrote keeps its conversation and service URL.
            let (conversation, service_url) = if old.installed {
                (old.conversation_id.clone(), old.service_url.clone())
            } else {
                (i.conversation_id.clone(), i.service_url.clone())
            };
            run_on!(conn, |c| diesel::update(t::table.find(&old.id))
                .set((
                    t::conversation_id.eq(&conversation),
                    t::service_url.eq(&service_url),
                    t::display_name.eq(p.display_name.clone().or(old.display_name.clone())),
                    t::given_name.eq(p.given_name.clone().or(old.given_name.clone())),
                    t::surname.eq(p.surname.clone().or(old.surname.clone())),
                    t::email.eq(lower(&p.email).or(old.email.clone())),
                    t::user_principal_name
                        .eq(lower(&p.user_principal_name).or(old.user_principal_name.clone())),
                    t::installed.eq(true),
                    t::installed_changed_at.eq(since),
                    t::not_installed_reason.eq(None::<String>),
                    // Someone who had it installed already was not installed by herald.
                    t::installed_by_herald.eq(old.installed_by_herald || !old.installed),
                    t::updated_at.eq(now),
                ))
                .execute(c))?;
            return super::users::get(conn, &old.id)?
                .ok_or(StoreError::Query(diesel::result::Error::NotFound));
        }
        let id = uuid::Uuid::now_v7().to_string();
        run_on!(conn, |c| diesel::insert_into(t::table)
            .values((
                t::id.eq(&id),
                t::tenant_id.eq(&i.tenant_id),
                t::channel_id.eq(&i.channel_id),
                t::channel_user_id.eq(&i.aad_object_id),
                t::aad_object_id.eq(&i.aad_object_id),
                t::bot_id.eq(&i.bot_id),
                t::service_url.eq(&i.service_url),
                t::conversation_id.eq(&i.conversation_id),
                t::display_name.eq(&p.display_name),
                t::given_name.eq(&p.given_name),
                t::surname.eq(&p.surname),
                t::email.eq(lower(&p.email)),
                t::user_principal_name.eq(lower(&p.user_principal_name)),
                t::installed.eq(true),
                t::installed_changed_at.eq(now),
                t::installed_by_herald.eq(true),
                t::created_at.eq(now),
                t::updated_at.eq(now),
            ))
            .execute(c))?;
        super::users::get(conn, &id)?.ok_or(StoreError::Query(diesel::result::Error::NotFound))
    })
}
