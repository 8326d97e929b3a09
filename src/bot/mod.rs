//! The turn handler: what herald does with each authenticated activity.

pub mod access;
mod admin;
mod approvals;
mod audit;
mod broadcasts;
mod caller;
pub mod campaigns;
pub mod forms;
mod imports;
mod installs;
mod listing;
mod lists;
mod localtime;
mod reactions;
mod repeat;
pub mod reply;
mod reports;
mod sizes;
mod skype;
pub mod texts;
mod texts_lifecycle;
mod zones;

use std::sync::Arc;

use crate::botframework::activity::{Checked, Kind};
use crate::botframework::channel::ChannelMismatch;
use crate::botframework::service_url::ServiceUrlError;
use crate::botframework::{
    Activity, Channel, ChannelAccount, ConnectorClient, ConnectorError, ServiceUrlPolicy,
};
use crate::domain::commands::{Command, CommandError};
use crate::domain::{Clock, Lang};
use crate::store::broadcasts::presses::PressWriter;
use crate::store::inbound::{self, ActivityKey, ClaimWriter};
use crate::store::{Db, StoreError};

pub use reply::Answer;

/// Why a turn could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// The activity lacks something its handling needs (a 400 to the sender).
    #[error("{0}")]
    BadActivity(String),
    /// The activity names a connector host outside `bot.service_url_hosts` (a 403 to the
    /// sender): herald neither records nor answers it.
    #[error(transparent)]
    ServiceUrlNotAllowed(ServiceUrlError),
    /// The activity's channel does not go with its connector host (a 403 to the sender).
    #[error(transparent)]
    ChannelMismatch(ChannelMismatch),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Campaign fields that do not hold up (answered in the chat, never an HTTP error).
    #[error("invalid campaign fields")]
    Fields(Vec<crate::domain::commands::FieldError>),
}

/// What became of a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Processed,
    /// An invoke, answered with this body (an invoke response, `botframework::invoke`).
    Invoke(serde_json::Value),
    /// The same activity was already handled: nothing done.
    Duplicate,
    /// Nothing for herald to do (typing, group chats, …).
    Ignored,
}

#[derive(Clone)]
pub struct Bot {
    db: Db,
    access: access::Access,
    campaign_defaults: campaigns::CampaignDefaults,
    /// How work reaches the delivery engine.
    outbox: crate::outbox::Outbox,
    claims: ClaimWriter,
    /// Acknowledgements and answers, written together (`None` in tools: each on its own).
    presses: Option<PressWriter>,
    connector: ConnectorClient,
    /// The engine's one send path (`campaign test` goes through it).
    sender: crate::engine::Sender,
    /// The only connector hosts the bot calls.
    service_urls: ServiceUrlPolicy,
    clock: Arc<dyn Clock>,
    /// Link tracking and report downloads; `None` in tools.
    tracker: Option<Arc<crate::tracking::Tracker>>,
    /// Entra ID groups and proactive installs (Graph); without Graph, neither.
    reach: crate::audience::Reach,
    /// Where `list import` downloads files from, and how large they may be.
    files: crate::lists::import::Files,
    /// The zone last written for each person (`time: local`).
    zones: Arc<zones::ZoneNotes>,
    /// Told of installs and uninstalls, so presence subscriptions follow them at once.
    presence: Option<Arc<crate::presence::Keeper>>,
    /// `[approval]`: what waits for an approver, and who approves.
    approval: crate::domain::approval::ApprovalPolicy,
    /// People with nothing a plain message of theirs could answer.
    quiet: Arc<broadcasts::quiet::Quiet>,
}

impl Bot {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Db,
        access: access::Access,
        campaign_defaults: campaigns::CampaignDefaults,
        outbox: crate::outbox::Outbox,
        claims: ClaimWriter,
        connector: ConnectorClient,
        sender: crate::engine::Sender,
        service_urls: ServiceUrlPolicy,
        clock: Arc<dyn Clock>,
    ) -> Bot {
        Bot {
            db,
            access,
            campaign_defaults,
            outbox,
            claims,
            presses: None,
            connector,
            sender,
            service_urls,
            clock,
            tracker: None,
            reach: crate::audience::Reach::default(),
            files: crate::lists::import::Files::default(),
            zones: Arc::default(),
            presence: None,
            approval: crate::domain::approval::ApprovalPolicy::default(),
            quiet: Default::default(),
        }
    }

    /// Holds campaigns and broadcasts for an approver as `policy` says (`[approval]`).
    pub fn with_approval(mut self, policy: crate::domain::approval::ApprovalPolicy) -> Bot {
        self.approval = policy;
        self
    }

    /// Tells `keeper` of every install and uninstall (presence subscriptions follow them).
    pub fn with_presence(mut self, keeper: Option<Arc<crate::presence::Keeper>>) -> Bot {
        self.presence = keeper;
        self
    }

    /// Downloads the files of `list import` through `files` (`bot.file_hosts`, size limit).
    pub fn with_files(mut self, files: crate::lists::import::Files) -> Bot {
        self.files = files;
        self
    }

    /// Resolves Entra ID groups and installs herald through `reach`.
    pub fn with_reach(mut self, reach: crate::audience::Reach) -> Bot {
        self.reach = reach;
        self
    }

    /// Writes the acknowledgements and answers of cards' actions through `writer`.
    pub fn with_presses(mut self, writer: PressWriter) -> Bot {
        self.presses = Some(writer);
        self
    }

    /// Tracks links in broadcasts and signs report downloads with `tracker`.
    pub fn with_tracker(mut self, tracker: Arc<crate::tracking::Tracker>) -> Bot {
        self.tracker = Some(tracker);
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Handles one activity exactly once: a redelivered activity id changes nothing. An activity
    /// naming a connector host the bot does not call is refused before anything else.
    #[tracing::instrument(skip_all, fields(kind = ?checked.kind, channel = %checked.channel_id))]
    pub async fn handle(
        &self,
        activity: &Activity,
        checked: &Checked,
    ) -> Result<Handled, BotError> {
        self.service_urls
            .check(&checked.service_url)
            .map_err(BotError::ServiceUrlNotAllowed)?;
        let channel = Channel::parse(&checked.channel_id);
        channel
            .check_service_url(&checked.service_url)
            .map_err(BotError::ChannelMismatch)?;
        if matches!(checked.kind, Kind::Other(_)) {
            return Ok(Handled::Ignored);
        }
        if !channel.is_served() {
            // Its client wrote the tenant and may have written `from`: nothing here is trusted,
            // nothing recorded. A person who wrote gets one line saying where herald works.
            tracing::info!("activity on a channel herald does not serve ignored");
            if checked.kind == Kind::Message {
                let lang = Lang::from_locale(activity.user_locale());
                self.reply(activity, checked, texts::channel_not_served(lang))
                    .await;
            }
            return Ok(Handled::Ignored);
        }
        if !self
            .access
            .tenant_allowed(activity.tenant_id().unwrap_or_default())
        {
            // Ignored before its id is remembered: another tenant leaves no row behind.
            tracing::info!("activity from a tenant outside bot.allowed_tenants ignored");
            return Ok(Handled::Ignored);
        }
        // A card's `Action.Execute` must be answered with the card, also when Teams sends it
        // again: acknowledging and answering are idempotent, so it is not claimed.
        let card_action = checked.kind == Kind::Invoke
            && activity.name.as_deref() == Some(crate::botframework::invoke::ADAPTIVE_CARD_ACTION);
        let key = activity
            .id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty() && !card_action)
            .map(|id| ActivityKey {
                channel_id: checked.channel_id.clone(),
                conversation_id: checked.conversation.id.clone(),
                activity_id: id.to_string(),
            });
        if let Some(key) = key.clone() {
            let now = self.clock.now();
            let fresh = self.claims.claim(key, now).await?;
            if !fresh {
                tracing::debug!("duplicate activity ignored");
                return Ok(Handled::Duplicate);
            }
        }
        self.note_zone(activity, checked).await;
        let result = self.dispatch(activity, checked).await;
        if result.is_err()
            && let Some(key) = key
        {
            // Let the Bot Framework's redelivery try again.
            if let Err(e) = self.db.run(move |conn| inbound::release(conn, &key)).await {
                tracing::warn!(error = %e, "could not release a failed activity claim");
            }
        }
        result
    }

    async fn dispatch(&self, activity: &Activity, checked: &Checked) -> Result<Handled, BotError> {
        let personal = checked
            .conversation
            .conversation_type
            .as_deref()
            .is_none_or(|t| t == "personal");
        let names_bot = |list: &Option<Vec<ChannelAccount>>| {
            list.iter().flatten().any(|m| m.id == checked.recipient.id)
        };
        match &checked.kind {
            Kind::InstallationUpdate { installed } if personal => {
                if *installed {
                    self.install(activity, checked).await
                } else {
                    self.uninstall(activity, checked).await
                }
            }
            Kind::ConversationUpdate if personal && names_bot(&activity.members_added) => {
                self.install(activity, checked).await
            }
            Kind::ConversationUpdate if personal && names_bot(&activity.members_removed) => {
                self.uninstall(activity, checked).await
            }
            Kind::Message if personal => self.message(activity, checked).await,
            Kind::Event
                if personal && activity.name.as_deref() == Some(broadcasts::READ_RECEIPT_EVENT) =>
            {
                self.read_receipt(activity, checked).await
            }
            Kind::Invoke
                if personal
                    && activity.name.as_deref()
                        == Some(crate::botframework::invoke::ADAPTIVE_CARD_ACTION) =>
            {
                let lang = Lang::from_locale(activity.user_locale());
                self.card_invoke(activity, checked, lang).await
            }
            Kind::MessageReaction if personal => self.reaction(activity, checked).await,
            _ => Ok(Handled::Ignored),
        }
    }

    async fn message(&self, activity: &Activity, checked: &Checked) -> Result<Handled, BotError> {
        let lang = Lang::from_locale(activity.user_locale());
        let text = activity.text.as_deref().unwrap_or("").trim();
        if text.is_empty()
            && let Some(value) = &activity.value
        {
            return self.submitted(activity, checked, value, lang).await;
        }
        let answer = match Command::parse(text) {
            Err(CommandError::Unknown(_)) => {
                // From a recipient, a plain message answers the broadcast they last got.
                // An admin's plain message never answers a broadcast: the hint, unlooked-up.
                let caller = self.caller(activity, checked).await?;
                if self.is_admin(&caller) {
                    texts::hint(lang)
                } else if let Some((user, broadcast)) = self.reply_target(activity, checked).await?
                {
                    self.relay_reply(&user, &broadcast, text, lang).await?
                } else {
                    texts::hint(lang)
                }
            }
            Ok(Command::Help) => {
                let caller = self.caller(activity, checked).await?;
                texts::help(lang, self.is_admin(&caller))
            }
            parsed => {
                // An admin verb (list, campaign, broadcast…), well formed or not.
                let caller = self.caller(activity, checked).await?;
                let attachments = activity.attachments.as_deref().unwrap_or_default();
                let answer = self
                    .admin_text(&caller, text, parsed, attachments, lang)
                    .await?;
                self.answer(activity, checked, answer).await;
                return Ok(Handled::Processed);
            }
        };
        self.reply(activity, checked, answer).await;
        Ok(Handled::Processed)
    }

    /// A card's button: an admin form (campaign, broadcast), or a recipient's action.
    async fn submitted(
        &self,
        activity: &Activity,
        checked: &Checked,
        value: &serde_json::Value,
        lang: Lang,
    ) -> Result<Handled, BotError> {
        use crate::domain::broadcast::action;
        let form = match value.get("herald").and_then(|h| h.as_str()) {
            Some(forms::FORM_ID) => admin::Form::Campaign,
            Some(action::FORM) => admin::Form::Broadcast,
            Some(action::READ | action::REPLY | action::ANSWER) => {
                return self.card_action(activity, checked, value, lang).await;
            }
            _ => return Ok(Handled::Ignored),
        };
        let caller = self.caller(activity, checked).await?;
        let answer = self.admin_form(&caller, form, value, lang).await?;
        self.answer(activity, checked, answer).await;
        Ok(Handled::Processed)
    }

    /// Sends an answer, text or card, to the activity's conversation.
    async fn answer(&self, activity: &Activity, checked: &Checked, answer: Answer) -> bool {
        match answer {
            Answer::Text(text) => self.reply(activity, checked, text).await,
            Answer::Card(card) => self.reply_with(activity, checked, None, Some(card)).await,
            Answer::Progress(p) => {
                let card = Some(p.card.clone());
                match self.post_reply(activity, checked, None, card).await {
                    Some(id) => {
                        self.follow_progress(*p, id).await;
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// Sends `text` to the activity's conversation. A failure is logged, not returned: the
    /// activity itself was handled, and redelivering it would repeat its effects.
    async fn reply(&self, activity: &Activity, checked: &Checked, text: String) -> bool {
        self.reply_with(activity, checked, Some(text), None).await
    }

    /// Sends text and/or an Adaptive Card to the activity's conversation.
    async fn reply_with(
        &self,
        activity: &Activity,
        checked: &Checked,
        text: Option<String>,
        card: Option<serde_json::Value>,
    ) -> bool {
        self.post_reply(activity, checked, text, card)
            .await
            .is_some()
    }

    /// [`Bot::reply_with`], returning the posted activity's id (empty when the channel gave
    /// none); `None` when it could not be sent.
    async fn post_reply(
        &self,
        activity: &Activity,
        checked: &Checked,
        text: Option<String>,
        card: Option<serde_json::Value>,
    ) -> Option<String> {
        let reply = Activity {
            kind: Some("message".into()),
            from: Some(checked.recipient.clone()),
            recipient: Some(ChannelAccount {
                id: checked.from.id.clone(),
                name: checked.from.name.clone(),
                aad_object_id: None,
                role: None,
            }),
            conversation: Some(checked.conversation.clone()),
            reply_to_id: activity.id.clone(),
            text_format: text.as_ref().map(|_| "markdown".into()),
            text,
            attachments: card.map(|content| {
                vec![serde_json::json!({
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": content,
                })]
            }),
            locale: activity.user_locale().map(str::to_string),
            ..Activity::default()
        };
        match self
            .connector
            .send_to_conversation(&checked.service_url, &checked.conversation.id, &reply)
            .await
        {
            Ok(sent) => Some(sent.id.unwrap_or_default()),
            Err(e) => {
                log_connector_error("reply", &e);
                None
            }
        }
    }
}

fn log_connector_error(what: &str, e: &ConnectorError) {
    tracing::warn!(error = %e, "{what} could not be sent");
}
