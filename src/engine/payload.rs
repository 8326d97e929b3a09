//! Messages ready to send: each parsed once and shared by its thousands of deliveries, with
//! the body of each recipient's copy built from a prepared template.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::send::addressing;
use super::{Inner, campaign};
use crate::botframework::Activity;
use crate::domain::delivery::MessageKind;
use crate::store::deliveries::{self, Recipient};

/// A message's activity, and its JSON without the addressing fields: each recipient's body is
/// that JSON with their own `from`, `recipient` and `conversation` put in front.
pub(super) struct Payload {
    pub(super) activity: Activity,
    tail: String,
    /// The message's tracked links, by number: its text holds markers in their place.
    pub(super) links: Vec<String>,
    /// Set when the message is a campaign's: each recipient's text is personalised.
    pub(super) campaign: Option<campaign::CampaignRender>,
    /// What the message is (`None` for a kind herald does not name: a tool's or a test's).
    pub(super) kind: Option<MessageKind>,
}

impl Payload {
    pub(super) fn new(activity: Activity) -> Payload {
        let mut bare = activity.clone();
        bare.from = None;
        bare.recipient = None;
        bare.conversation = None;
        bare.kind.get_or_insert_with(|| "message".to_string());
        // Serialising an activity (strings, numbers and JSON values) cannot fail.
        let tail = serde_json::to_string(&bare).unwrap_or_else(|_| "{}".to_string());
        Payload {
            activity,
            tail,
            links: Vec::new(),
            campaign: None,
            kind: None,
        }
    }

    /// The activity for `user`, serialised.
    pub(super) fn body_for(&self, user: &Recipient) -> Vec<u8> {
        let a = addressing(user);
        let mut out = Vec::with_capacity(self.tail.len() + 256);
        out.extend_from_slice(b"{\"from\":");
        // Plain strings into memory: these writes cannot fail.
        let _ = serde_json::to_writer(&mut out, &a.0);
        out.extend_from_slice(b",\"recipient\":");
        let _ = serde_json::to_writer(&mut out, &a.1);
        out.extend_from_slice(b",\"conversation\":");
        let _ = serde_json::to_writer(&mut out, &a.2);
        let rest = self.tail.strip_prefix('{').unwrap_or("}");
        if rest != "}" {
            out.push(b',');
        }
        out.extend_from_slice(rest.as_bytes());
        out
    }
}

/// Payloads kept at most; the cache is emptied when it grows past this.
const PAYLOAD_CACHE: usize = 1024;

/// Message payloads, parsed once: a broadcast's thousands of deliveries share one.
#[derive(Default)]
pub(super) struct Payloads {
    cache: Mutex<HashMap<String, Arc<Payload>>>,
}

impl Inner {
    /// `text` with each link marker replaced by this delivery's tracked URL (or, with tracking
    /// off since, the link itself).
    pub(super) fn fill_links(&self, text: &str, links: &[String], delivery_id: i64) -> String {
        let now = self.clock.now();
        let tracker = self.config.tracker.as_deref();
        crate::domain::tracking::fill_links(text, links.len(), |i| {
            tracker
                .and_then(|t| t.link_url(delivery_id, i, now))
                .unwrap_or_else(|| links[i].clone())
        })
    }

    /// The message's activity; `Ok(None)` when it is gone or unreadable, `Err` when the
    /// database could not be asked.
    pub(super) async fn payload(&self, message_id: &str) -> Result<Option<Arc<Payload>>, ()> {
        // A poisoned lock only means a panic elsewhere; the map is still whole.
        if let Some(a) = self
            .payloads
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(message_id)
        {
            return Ok(Some(a.clone()));
        }
        let id = message_id.to_string();
        let loaded = self
            .db
            .run(move |conn| {
                let Some(message) = deliveries::message(conn, &id)? else {
                    return Ok(None);
                };
                let text = message.payload;
                let campaign = if message.kind == Some(MessageKind::Campaign) {
                    crate::store::campaigns::get(conn, &id)?
                } else {
                    None
                };
                let links = crate::store::tracking::links(conn, &id)?;
                Ok(Some((text, campaign, links, message.kind)))
            })
            .await;
        let (text, campaign_row, links, kind) = match loaded {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            Err(e) => {
                tracing::warn!(error = %e, "could not load a message");
                return Err(());
            }
        };
        let activity: Activity = match serde_json::from_str(&text) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, message_id, "a stored message is not an activity");
                return Ok(None);
            }
        };
        let mut payload = Payload::new(activity);
        let tracked = !links.is_empty();
        payload.links = links;
        payload.kind = kind;
        if let Some(row) = &campaign_row {
            match campaign::CampaignRender::new(row, tracked) {
                Some(render) => payload.campaign = Some(render),
                None => {
                    tracing::error!(message_id, "a stored campaign cannot be read back");
                    return Ok(None);
                }
            }
        }
        let activity = Arc::new(payload);
        let mut cache = self
            .payloads
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() >= PAYLOAD_CACHE {
            cache.clear();
        }
        cache.insert(message_id.to_string(), activity.clone());
        Ok(Some(activity))
    }
}
