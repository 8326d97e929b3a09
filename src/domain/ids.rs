//! Identifiers that must not be swapped: a campaign id is not a message id, a user id is not a
//! tenant id. Each is its own type; the text inside is opaque.

use std::fmt;

macro_rules! text_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}

text_id! {
    /// A campaign (its name is what admins type; this is what rows refer to).
    CampaignId,
    /// A broadcast (admins see its number; this is what rows refer to).
    BroadcastId,
    /// An outbound message: what one delivery per recipient carries.
    MessageId,
    /// A person in one channel (herald's own id for a conversation reference).
    UserId,
    /// A Microsoft Entra tenant, as its activities name it.
    TenantId,
}

/// One delivery: one operation on one message for one recipient.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct DeliveryId(pub i64);

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_show_their_text_and_serialise_as_plain_strings() {
        let c = CampaignId::new("c-1");
        assert_eq!(c.to_string(), "c-1");
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"c-1\"");
        assert_eq!(serde_json::to_string(&DeliveryId(7)).unwrap(), "7");
    }
}
