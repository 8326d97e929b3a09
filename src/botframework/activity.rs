//! The Bot Framework activity, as much of it as herald reads and writes.
//!
//! Unknown fields are ignored and every field is optional at parse time; [`Activity::validate`]
//! then says precisely which field a given activity type is missing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::service_url::ServiceUrl;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<ChannelAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<ChannelAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_added: Option<Vec<ChannelAccount>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_removed: Option<Vec<ChannelAccount>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entities: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Value>>,
    /// `messageReaction`: the reactions added to the message `replyToId` names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactions_added: Option<Vec<MessageReaction>>,
    /// `messageReaction`: the reactions taken back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactions_removed: Option<Vec<MessageReaction>>,
}

/// One reaction of a `messageReaction` activity (`like`, `heart`, … or an emoji).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MessageReaction {
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChannelAccount {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aad_object_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConversationAccount {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_group: Option<bool>,
}

/// What is wrong with an activity, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    #[error("the activity has no `{0}`")]
    Missing(&'static str),
    #[error("`{field}` is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// What an activity means to herald, once its fields are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Message,
    InstallationUpdate {
        installed: bool,
    },
    ConversationUpdate,
    Event,
    Invoke,
    /// Someone reacted to a message (or took a reaction back).
    MessageReaction,
    /// typing, … : accepted and ignored.
    Other(String),
}

/// An activity whose addressing fields are present and well-formed.
#[derive(Debug, Clone)]
pub struct Checked {
    pub kind: Kind,
    pub service_url: ServiceUrl,
    pub channel_id: String,
    pub from: ChannelAccount,
    pub recipient: ChannelAccount,
    pub conversation: ConversationAccount,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Activity {
    /// The tenant, from `channelData.tenant.id` (Teams), else `conversation.tenantId`.
    pub fn tenant_id(&self) -> Option<&str> {
        self.channel_data
            .as_ref()
            .and_then(|d| d.pointer("/tenant/id"))
            .and_then(Value::as_str)
            .or_else(|| self.conversation.as_ref()?.tenant_id.as_deref())
            .filter(|s| !s.is_empty())
    }

    /// The user's IANA time zone: `localTimezone`, else the `clientInfo` entity's `timezone`.
    pub fn time_zone(&self) -> Option<&str> {
        non_empty(&self.local_timezone).or_else(|| {
            self.entities.iter().flatten().find_map(|e| {
                (e.get("type")?.as_str()? == "clientInfo")
                    .then(|| e.get("timezone")?.as_str())
                    .flatten()
            })
        })
    }

    /// The user's locale: `locale`, else the `clientInfo` entity's `locale`.
    pub fn user_locale(&self) -> Option<&str> {
        non_empty(&self.locale).or_else(|| {
            self.entities.iter().flatten().find_map(|e| {
                (e.get("type")?.as_str()? == "clientInfo")
                    .then(|| e.get("locale")?.as_str())
                    .flatten()
            })
        })
    }

    /// Checks the fields every handled activity needs and classifies it.
    pub fn validate(&self) -> Result<Checked, ActivityError> {
        let kind = non_empty(&self.kind).ok_or(ActivityError::Missing("type"))?;
        let service_url =
            non_empty(&self.service_url).ok_or(ActivityError::Missing("serviceUrl"))?;
        let service_url = ServiceUrl::parse(service_url).map_err(|e| ActivityError::Invalid {
            field: "serviceUrl",
            reason: e.to_string(),
        })?;
        let channel_id = non_empty(&self.channel_id).ok_or(ActivityError::Missing("channelId"))?;
        let conversation = self
            .conversation
            .clone()
            .ok_or(ActivityError::Missing("conversation"))?;
        if conversation.id.trim().is_empty() {
            return Err(ActivityError::Missing("conversation.id"));
        }
        let from = self.from.clone().ok_or(ActivityError::Missing("from"))?;
        if self::blank(&from.id) {
            return Err(ActivityError::Missing("from.id"));
        }
        let recipient = self
            .recipient
            .clone()
            .ok_or(ActivityError::Missing("recipient"))?;
        if recipient.id.trim().is_empty() {
            return Err(ActivityError::Missing("recipient.id"));
        }
        let kind = match kind {
            "message" => Kind::Message,
            "installationUpdate" => {
                let action = non_empty(&self.action).ok_or(ActivityError::Missing("action"))?;
                let installed = match action {
                    "add" | "add-upgrade" => true,
                    "remove" | "remove-upgrade" => false,
                    other => {
                        return Err(ActivityError::Invalid {
                            field: "action",
                            reason: format!(
                                "`{other}` is not one of add, add-upgrade, remove, remove-upgrade"
                            ),
                        });
                    }
                };
                Kind::InstallationUpdate { installed }
            }
            "conversationUpdate" => Kind::ConversationUpdate,
            "event" => Kind::Event,
            "invoke" => Kind::Invoke,
            "messageReaction" => Kind::MessageReaction,
            other => Kind::Other(other.to_string()),
        };
        Ok(Checked {
            kind,
            service_url,
            channel_id: channel_id.to_string(),
            from,
            recipient,
            conversation,
        })
    }
}

/// Empty or only whitespace.
fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn teams_install() -> Value {
        json!({
            "type": "installationUpdate",
            "id": "f:1",
            "action": "add",
            "serviceUrl": "https://smba.trafficmanager.net/emea/",
            "channelId": "msteams",
            "from": {"id": "29:user", "aadObjectId": "aad-1", "name": "Ada"},
            "recipient": {"id": "28:bot", "name": "herald"},
            "conversation": {"id": "a:conv", "conversationType": "personal", "tenantId": "t1"},
            "channelData": {"tenant": {"id": "t1"}, "source": {"name": "message"}},
            "entities": [{"type": "clientInfo", "locale": "fr-FR", "timezone": "Europe/Paris"}],
            "someFutureField": {"nested": [1, 2, 3]}
        })
    }

    #[test]
    fn unknown_fields_are_ignored_and_install_is_classified() {
        let a: Activity = serde_json::from_value(teams_install()).unwrap();
        let c = a.validate().unwrap();
        assert_eq!(c.kind, Kind::InstallationUpdate { installed: true });
        assert_eq!(a.tenant_id(), Some("t1"));
        assert_eq!(a.time_zone(), Some("Europe/Paris"));
        assert_eq!(a.user_locale(), Some("fr-FR"));
    }

    #[test]
    fn missing_fields_are_named() {
        for (field, expected) in [
            ("type", "type"),
            ("serviceUrl", "serviceUrl"),
            ("channelId", "channelId"),
            ("conversation", "conversation"),
            ("from", "from"),
            ("recipient", "recipient"),
            ("action", "action"),
        ] {
            let mut v = teams_install();
            v.as_object_mut().unwrap().remove(field);
            let a: Activity = serde_json::from_value(v).unwrap();
            assert_eq!(a.validate().unwrap_err(), ActivityError::Missing(expected));
        }
    }

    #[test]
    fn unknown_install_action_is_invalid() {
        let mut v = teams_install();
        v["action"] = json!("explode");
        let a: Activity = serde_json::from_value(v).unwrap();
        assert!(matches!(
            a.validate(),
            Err(ActivityError::Invalid {
                field: "action",
                ..
            })
        ));
    }

    #[test]
    fn remove_upgrade_means_not_installed() {
        let mut v = teams_install();
        v["action"] = json!("remove-upgrade");
        let a: Activity = serde_json::from_value(v).unwrap();
        assert_eq!(
            a.validate().unwrap().kind,
            Kind::InstallationUpdate { installed: false }
        );
    }

    #[test]
    fn local_timezone_wins_over_client_info() {
        let mut v = teams_install();
        v["localTimezone"] = json!("America/Montreal");
        let a: Activity = serde_json::from_value(v).unwrap();
        assert_eq!(a.time_zone(), Some("America/Montreal"));
    }
}
