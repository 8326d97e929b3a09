//! A delivery's life: what a message is, what a delivery does, its states and the allowed moves
//! between them (`status`), and what to do after a failed send (`retry`). Pure: the engine and
//! the store ask, these decide.

mod retry;
mod status;

use std::fmt;

pub use retry::{Decision, RetryPolicy, SendFailure, later, reason};
pub use status::{DeliveryStatus, ForbiddenTransition};

/// A stored name that none of an enum's variants has (a row written by a newer version, or by
/// hand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`", self.what, self.name)
    }
}

impl std::error::Error for UnknownName {}

/// `as_str`/`parse`, `Display`, `TryFrom<String>` (how rows read them) and comparison with the
/// stored text, for an enum with an `ALL` list and an `as_str`.
macro_rules! stored_name {
    ($ty:ident, $what:literal) => {
        impl $ty {
            pub fn parse(s: &str) -> Option<$ty> {
                $ty::ALL.into_iter().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::domain::delivery::UnknownName;
            fn try_from(s: String) -> Result<$ty, Self::Error> {
                $ty::parse(&s).ok_or($crate::domain::delivery::UnknownName {
                    what: $what,
                    name: s,
                })
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
pub(crate) use stored_name;

/// What an outbound message is, which decides how the dispatcher renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A campaign's personalised text, rendered per recipient at send time.
    Campaign,
    /// A broadcast's card, as recipients first get it.
    BroadcastCard,
    /// A broadcast's card as it shows once read (sent as an update of the first).
    BroadcastRead,
    /// A reminder of a broadcast to a recipient who has not read (or acknowledged) it.
    BroadcastReminder,
    /// A recipient's reply relayed to the sender, or the sender's answer relayed back.
    Relay,
    /// A notice to an admin (a recall's outcome).
    Notice,
}

impl MessageKind {
    pub const ALL: [MessageKind; 6] = [
        MessageKind::Campaign,
        MessageKind::BroadcastCard,
        MessageKind::BroadcastRead,
        MessageKind::BroadcastReminder,
        MessageKind::Relay,
        MessageKind::Notice,
    ];

    /// As stored (`messages.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Campaign => "campaign",
            MessageKind::BroadcastCard => "broadcast",
            MessageKind::BroadcastRead => "broadcast-read",
            MessageKind::BroadcastReminder => "broadcast-reminder",
            MessageKind::Relay => "relay",
            MessageKind::Notice => "notice",
        }
    }
}

stored_name!(MessageKind, "message kind");

/// What a delivery does to the recipient's chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Posts the message.
    Send,
    /// Replaces an activity sent before (`target_activity_id`) with the message.
    Update,
    /// Deletes an activity sent before (a recall).
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 3] = [Operation::Send, Operation::Update, Operation::Delete];

    /// As stored (`deliveries.operation`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Send => "send",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

stored_name!(Operation, "operation");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_operations_round_trip_and_refuse_unknown_names() {
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::try_from(k.as_str().to_string()), Ok(k));
            assert!(k == k.as_str());
        }
        for o in Operation::ALL {
            assert_eq!(Operation::parse(o.as_str()), Some(o));
            assert_eq!(o.to_string(), o.as_str());
        }
        let e = Operation::try_from("fax".to_string()).unwrap_err();
        assert_eq!(e.to_string(), "unknown operation `fax`");
        assert_eq!(MessageKind::parse("memo"), None);
    }
}
