//! The Bot Framework connector protocol: activities, inbound authentication, the outbound
//! token and the connector client. Knows nothing of campaigns.

pub mod activity;
pub mod auth;
pub mod channel;
pub mod cloud;
pub mod connector;
pub mod credential;
pub mod invoke;
mod member;
pub mod ratelimit;
pub(crate) mod retry_after;
pub mod service_url;
pub mod token;

pub use activity::{Activity, ChannelAccount, ConversationAccount};
pub use channel::Channel;
pub use connector::{ConnectorClient, ConnectorError, Member};
pub use service_url::{ServiceUrl, ServiceUrlError, ServiceUrlPolicy};
