//! Installs and uninstalls in personal scope: remember how to reach the user, and who they are.

use crate::botframework::Activity;
use crate::botframework::activity::Checked;
use crate::botframework::channel::Channel;
use crate::domain::Lang;
use crate::domain::text::escape_markdown;
use crate::store::skype::NO_TENANT;
use crate::store::users::{self, ConversationRef, InstallOutcome, Profile};

use super::{Bot, BotError, Handled, texts};

/// Why a user is not installed after they removed the app themselves.
pub const UNINSTALLED: &str = "uninstalled";

fn conversation_ref(activity: &Activity, checked: &Checked) -> Result<ConversationRef, BotError> {
    // Skype users belong to no tenant, whatever the activity carries: lists find them there.
    let skype = Channel::parse(&checked.channel_id) == Channel::Skype;
    let (tenant_id, channel_id) = if skype {
        (NO_TENANT.to_string(), Channel::Skype.id().to_string())
    } else {
        let tenant = activity.tenant_id().unwrap_or_default().to_string();
        (tenant, checked.channel_id.clone())
    };
    if tenant_id.is_empty() && checked.channel_id == "msteams" {
        return Err(BotError::BadActivity(
            "a Teams install must carry channelData.tenant.id".into(),
        ));
    }
    Ok(ConversationRef {
        tenant_id,
        channel_id,
        channel_user_id: checked.from.id.clone(),
        aad_object_id: checked.from.aad_object_id.clone(),
        bot_id: checked.recipient.id.clone(),
        service_url: checked.service_url.to_string(),
        conversation_id: checked.conversation.id.clone(),
        display_name: checked.from.name.clone(),
        locale: activity.user_locale().map(str::to_string),
        time_zone: activity.time_zone().map(str::to_string),
    })
}

impl Bot {
    pub(super) async fn install(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> Result<Handled, BotError> {
        let reference = conversation_ref(activity, checked)?;
        // The profile call goes out before any transaction opens; without it we keep what the
        // activity told us and fill in the rest on the next install event.
        let profile = match self
            .connector
            .get_member(
                &checked.service_url,
                &checked.conversation.id,
                &checked.from.id,
            )
            .await
        {
            Ok(m) => Profile {
                display_name: m.name,
                given_name: m.given_name,
                surname: m.surname,
                email: m.email,
                user_principal_name: m.user_principal_name,
                aad_object_id: m.aad_object_id,
            },
            Err(e) => {
                super::log_connector_error("member profile", &e);
                Profile::default()
            }
        };
        let now = self.clock.now();
        let (user, outcome) = self
            .db
            .run(move |conn| users::record_install(conn, &reference, &profile, now))
            .await?;
        tracing::info!(user_id = %user.id, tenant = %user.tenant_id, ?outcome, "user installed herald");
        if outcome != InstallOutcome::Refreshed {
            self.installs_changed();
            let lang = Lang::from_locale(user.locale.as_deref());
            let first = user
                .given_name
                .clone()
                .or_else(|| {
                    user.display_name
                        .as_deref()
                        .and_then(|n| n.split_whitespace().next())
                        .map(str::to_string)
                })
                .map(|n| escape_markdown(&n));
            self.reply(activity, checked, texts::welcome(lang, first.as_deref()))
                .await;
        }
        Ok(Handled::Processed)
    }

    pub(super) async fn uninstall(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> Result<Handled, BotError> {
        let reference = conversation_ref(activity, checked)?;
        let now = self.clock.now();
        let changed = self
            .db
            .run(move |conn| users::record_uninstall(conn, &reference, UNINSTALLED, now))
            .await?;
        tracing::info!(changed, "user uninstalled herald");
        self.installs_changed();
        Ok(Handled::Processed)
    }

    /// Presence subscriptions follow installs: the keeper looks again now rather than at its
    /// next tick (when another instance holds the presence duty, that one sees it at its tick).
    fn installs_changed(&self) {
        if let Some(keeper) = &self.presence {
            keeper.nudge();
        }
    }
}
