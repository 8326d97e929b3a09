//! Skype users in lists: they install with no tenant (Skype activities carry none), so a list
//! reaches them outside its own tenant, by the email or UPN of their profile or by their Skype
//! id (`skype:<id>`, compared exactly with the id stored at install).

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::users as u;
use super::{Conn, StoreError};
use crate::domain::skype;
use crate::run_on;

/// The tenant Skype users are stored under: none.
pub const NO_TENANT: &str = "";

/// Skype users who installed the bot and are one of `identities` (emails or UPNs in lower case,
/// or `skype:<id>`): identity → user id.
pub fn installed_by_identity(
    conn: &mut Conn<'_>,
    identities: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    let (ids, emails): (Vec<&String>, Vec<&String>) =
        identities.iter().partition(|m| skype::id_of(m).is_some());
    let ids: Vec<&str> = ids.into_iter().filter_map(|m| skype::id_of(m)).collect();
    let mut found = HashMap::new();
    let base = || {
        u::table
            .filter(u::tenant_id.eq(NO_TENANT))
            .filter(u::channel_id.eq(skype::CHANNEL))
            .filter(u::installed.eq(true))
    };
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = run_on!(conn, |c| base()
            .filter(u::channel_user_id.eq_any(chunk))
            .select((u::id, u::channel_user_id))
            .load(c))?;
        for (id, channel_user_id) in rows {
            found.insert(format!("{}{channel_user_id}", skype::PREFIX), id);
        }
    }
    for chunk in emails.chunks(500) {
        let by_email: Vec<(String, Option<String>)> = run_on!(conn, |c| base()
            .filter(u::email.eq_any(chunk))
            .select((u::id, u::email))
            .load(c))?;
        let by_upn: Vec<(String, Option<String>)> = run_on!(conn, |c| base()
            .filter(u::user_principal_name.eq_any(chunk))
            .select((u::id, u::user_principal_name))
            .load(c))?;
        for (id, identity) in by_email.into_iter().chain(by_upn) {
            if let Some(identity) = identity {
                found.insert(identity, id);
            }
        }
    }
    Ok(found)
}
