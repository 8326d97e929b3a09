//! Who is asking: the identities admin checks and the audit log go by, as Teams vouches for them.

use crate::botframework::activity::Checked;
use crate::botframework::{Activity, Channel};
use crate::store::users::{self, ConversationRef};

use super::{Bot, BotError};

/// Who is asking, as far as admin checks and the audit log go.
pub(super) struct Caller {
    pub tenant: String,
    pub actor: String,
    pub identities: Vec<String>,
    /// Finds the caller's stored user (tenant, channel, channel user id).
    pub key: ConversationRef,
    /// The caller's time zone, when Teams told it.
    pub time_zone: Option<String>,
}

impl Bot {
    pub(super) async fn caller(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> Result<Caller, BotError> {
        let tenant = activity.tenant_id().unwrap_or_default().to_string();
        // Only Teams vouches for the sender's object id and tenant: elsewhere nobody is an admin.
        let teams = Channel::parse(&checked.channel_id).carries_tenant();
        let mut identities: Vec<String> = checked
            .from
            .aad_object_id
            .iter()
            .filter(|_| teams)
            .cloned()
            .collect();
        let reference = ConversationRef {
            tenant_id: tenant.clone(),
            channel_id: checked.channel_id.clone(),
            channel_user_id: checked.from.id.clone(),
            ..ConversationRef::default()
        };
        let key = reference.clone();
        // The stored profile's UPN matters only when an admin is named by UPN. Its `email` never
        // counts: Entra does not verify it, so anyone could write an admin's address there.
        if teams
            && self.access.names_admins_by_upn()
            && let Some(user) = self
                .db
                .run(move |conn| users::find(conn, &reference))
                .await?
        {
            identities.extend(user.aad_object_id);
            identities.extend(user.user_principal_name);
        }
        let actor = identities
            .first()
            .cloned()
            .unwrap_or_else(|| checked.from.id.clone());
        Ok(Caller {
            tenant,
            actor,
            identities,
            key,
            time_zone: activity.time_zone().map(str::to_string),
        })
    }

    pub(super) fn is_admin(&self, caller: &Caller) -> bool {
        let ids: Vec<&str> = caller.identities.iter().map(String::as_str).collect();
        self.access.is_admin(&caller.tenant, &ids)
    }
}
