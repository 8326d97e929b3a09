//! `campaign test`: the campaign's message, personalised, to one installed user, now. Nothing
//! of the campaign changes. (It sends directly; the engine's one send path will take it over.)

use crate::botframework::{
    Activity, ChannelAccount, ConnectorClient, ConversationAccount, ServiceUrl, ServiceUrlPolicy,
};
use crate::domain::problem::Problem;
use crate::domain::template::MessageTemplate;
use crate::store::campaigns::Campaign;
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

/// Personalises the campaign's message for `user` and sends it to their conversation.
pub async fn send_test(
    connector: &ConnectorClient,
    service_urls: &ServiceUrlPolicy,
    c: &Campaign,
    user: &User,
) -> TestSent {
    let template = match MessageTemplate::parse(&c.message) {
        Ok(t) => t,
        Err(e) => return TestSent::BadMessage(e.problem()),
    };
    let text = match template.render(
        user.given_name.as_deref(),
        user.surname.as_deref(),
        user.display_name.as_deref(),
    ) {
        Ok(t) => t,
        Err(e) => return TestSent::BadMessage(e.problem()),
    };
    let Ok(service_url) = ServiceUrl::parse(&user.service_url) else {
        return TestSent::BadServiceUrl;
    };
    if service_urls.check(&service_url).is_err() {
        return TestSent::HostNotAllowed {
            host: service_url.host_str().to_string(),
        };
    }
    let activity = Activity {
        kind: Some("message".into()),
        from: Some(ChannelAccount {
            id: user.bot_id.clone(),
            ..Default::default()
        }),
        recipient: Some(ChannelAccount {
            id: user.channel_user_id.clone(),
            name: user.display_name.clone(),
            ..Default::default()
        }),
        conversation: Some(ConversationAccount {
            id: user.conversation_id.clone(),
            ..Default::default()
        }),
        text: Some(text),
        text_format: Some("markdown".into()),
        ..Default::default()
    };
    let to = user
        .email
        .clone()
        .or(user.user_principal_name.clone())
        .unwrap_or_default();
    match connector
        .send_to_conversation(&service_url, &user.conversation_id, &activity)
        .await
    {
        Ok(_) => TestSent::Sent { to },
        Err(e) => TestSent::Failed(e.to_string()),
    }
}
