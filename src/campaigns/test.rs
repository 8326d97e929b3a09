//! `campaign test`: the campaign's message, personalised, to one installed user, now. Nothing
//! of the campaign changes. It goes out through the engine's one send path.

use crate::botframework::service_url::ServiceUrlError;
use crate::domain::ids::TenantId;
use crate::domain::problem::Problem;
use crate::domain::template::MessageTemplate;
use crate::engine::{SendError, Sender};
use crate::store::campaigns::Campaign;
use crate::store::deliveries::Recipient;
use crate::store::users::User;

/// What sending a test came to.
#[derive(Debug)]
pub enum TestSent {
    /// Sent to this address (or UPN).
    Sent { to: String },
    /// The message could not be prepared or personalised.
    BadMessage(Problem),
    /// The user's recorded service URL does not parse.
    BadServiceUrl,
    /// Recorded before `bot.service_url_hosts` changed: herald does not call this host.
    HostNotAllowed { host: String },
    /// The connector refused it: the error.
    Failed(String),
}

/// Personalises the campaign's message for `user` as the engine would and sends it through the
/// engine's one send path: the same addressing, service-URL check and rate limits (the tenant's
/// and the conversation's) as every delivery.
pub async fn send_test(sender: &Sender, c: &Campaign, user: &User) -> TestSent {
    // The campaign's own checks first, so a broken message says why in the admin's language.
    let template = match MessageTemplate::parse(&c.message) {
        Ok(t) => t,
        Err(e) => return TestSent::BadMessage(e.problem()),
    };
    if let Err(e) = template.render(
        user.given_name.as_deref(),
        user.surname.as_deref(),
        user.display_name.as_deref(),
    ) {
        return TestSent::BadMessage(e.problem());
    }
    let recipient = Recipient {
        id: user.id.clone(),
        aad_object_id: user.aad_object_id.clone(),
        given_name: user.given_name.clone(),
        surname: user.surname.clone(),
        installed: user.installed,
        not_installed_reason: user.not_installed_reason.clone(),
        service_url: user.service_url.clone(),
        conversation_id: user.conversation_id.clone(),
        channel_user_id: user.channel_user_id.clone(),
        bot_id: user.bot_id.clone(),
        display_name: user.display_name.clone(),
        presence_availability: user.presence_availability.clone(),
        presence_activity: user.presence_activity.clone(),
        presence_observed_at: user.presence_observed_at,
    };
    let activity = match sender.campaign_activity(c, &recipient) {
        Ok(a) => a,
        Err(e) => {
            return TestSent::BadMessage(Problem::new("field-invalid").with("reason", e));
        }
    };
    let to = user
        .email
        .clone()
        .or(user.user_principal_name.clone())
        .unwrap_or_default();
    let tenant = TenantId::new(user.tenant_id.as_str());
    match sender.send_now(&tenant, &recipient, &activity).await {
        Ok(_) => TestSent::Sent { to },
        Err(SendError::ServiceUrl(ServiceUrlError::HostNotAllowed(host))) => {
            TestSent::HostNotAllowed { host }
        }
        Err(SendError::ServiceUrl(_)) => TestSent::BadServiceUrl,
        Err(e) => TestSent::Failed(e.to_string()),
    }
}
