//! Live progress cards in the engine: every second, the cards whose moment has come are taken
//! (one instance each, by moving their `next_update_at`), their figures read, and the card
//! posted (a campaign's start card) or updated in place through the engine's send path, so an
//! update waits for the tenant's and the chat's limits like any send.
//!
//! A card is taken only by the instance that dispatches its tenant (or by any, when nobody
//! does): its updates then count against the same rate limiter as the tenant's sends.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{Inner, SendError};
use crate::botframework::{Activity, ConnectorError};
use crate::domain::ids::TenantId;
use crate::domain::progress::{MIN_GAP, Step, Subject, step};
use crate::progress::{self, Snapshot};
use crate::store::deliveries::Recipient;
use crate::store::progress::{self as store, Card};
use crate::store::{StoreError, campaigns, dispatch};

/// How often the job looks for cards due.
const LOOK: Duration = Duration::from_secs(1);
/// Most cards taken in one look.
const DUE_AT_ONCE: i64 = 50;

pub(super) async fn run(inner: Arc<Inner>) {
    loop {
        tokio::select! {
            _ = inner.stop.cancelled() => break,
            _ = tokio::time::sleep(LOOK) => {}
        }
        if let Err(e) = update_due(&inner).await {
            tracing::warn!(error = %e, "could not look for progress cards due; will look again");
        }
    }
}

/// Takes and shows every card due now whose tenant this instance may send for.
async fn update_due(inner: &Inner) -> Result<(), StoreError> {
    let now = inner.clock.now();
    let (due, owners) = inner
        .db
        .run(move |conn| Ok((store::due(conn, now, DUE_AT_ONCE)?, dispatch::owners(conn)?)))
        .await?;
    let me = inner.config.instance.as_str();
    for card in due {
        let owner = owners.iter().find(|(t, _, _)| *t == card.tenant_id);
        let ours = owner.is_none_or(|(_, o, expires)| o == me || *expires <= now);
        if ours && !inner.stop.is_cancelled() {
            show(inner, card).await;
        }
    }
    Ok(())
}

/// What the job needs to show one card.
struct Seen {
    snapshot: Option<Snapshot>,
    chat: Option<(Recipient, Option<String>)>,
    /// A campaign's start card to post: its opening paragraphs.
    intro: Option<Vec<String>>,
}

/// Claims `card`, then posts or updates it (or, when nothing changed and nothing is being sent,
/// leaves it for [`MIN_GAP`]).
async fn show(inner: &Inner, card: Card) {
    let now = inner.clock.now();
    let claimed = card.clone();
    let seen = inner
        .db
        .run(move |conn| {
            if !store::claim(conn, &claimed, now + MIN_GAP)? {
                return Ok(None);
            }
            let intro = match (claimed.activity_id.is_none(), claimed.subject()) {
                (true, Some(Subject::Campaign)) => campaigns::get(conn, &claimed.subject_id)?
                    .map(|c| progress::campaign_intro(progress::lang_of(&claimed.lang), &c)),
                _ => None,
            };
            Ok(Some(Seen {
                snapshot: progress::snapshot(conn, &claimed, now)?,
                chat: store::chat(conn, &claimed.user_id)?,
                intro,
            }))
        })
        .await;
    let seen = match seen {
        Ok(Some(seen)) => seen,
        // Another instance took it.
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not read a progress card's figures; will try again");
            return;
        }
    };
    let (Some(snapshot), Some((reader, zone))) = (seen.snapshot, seen.chat) else {
        give_up(inner, card, "its broadcast, campaign or reader is gone").await;
        return;
    };
    let tz: Tz = zone
        .and_then(|z| z.parse().ok())
        .unwrap_or(inner.config.reminder_zone);
    let lang = progress::lang_of(&card.lang);
    let tenant = TenantId::new(card.tenant_id.as_str());
    let rps = inner.config.tenant_rps;
    let Some(target) = card.activity_id.clone() else {
        let intro = seen.intro.unwrap_or_default();
        let content = progress::render(lang, &intro, &snapshot, now, tz, rps);
        let sent = inner
            .sender
            .send_now(&tenant, &reader, &activity(content))
            .await;
        match sent {
            Ok(id) if !id.is_empty() => {
                let state = progress::state_text(&snapshot.figures);
                let at = inner.clock.now();
                let recorded = inner
                    .db
                    .run(move |conn| {
                        store::record_posted(conn, &card, &id, &intro, &state, at, MIN_GAP)
                    })
                    .await;
                if let Err(e) = recorded {
                    tracing::warn!(error = %e, "a progress card was posted but not recorded");
                }
            }
            Ok(_) => give_up(inner, card, "Teams gave the card no id to update").await,
            Err(e) => failed(inner, card, e).await,
        }
        return;
    };
    let shown = progress::shown(&card);
    let Step::Update { last } = step(&snapshot.figures, shown.as_ref(), snapshot.sending) else {
        return;
    };
    let content = progress::render(lang, &card.intro(), &snapshot, now, tz, rps);
    match inner
        .sender
        .update_now(&tenant, &reader, &target, &activity(content))
        .await
    {
        Ok(()) => {
            // Taken once the update is done, so the next one leaves at least `MIN_GAP` after
            // this one arrived.
            let at: DateTime<Utc> = inner.clock.now();
            let state = progress::state_text(&snapshot.figures);
            let recorded = inner
                .db
                .run(move |conn| store::record_update(conn, &card, &state, at, MIN_GAP, last))
                .await;
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "a progress card was updated but not recorded");
            }
        }
        Err(e) => failed(inner, card, e).await,
    }
}

/// The card as an activity: an Adaptive Card attachment.
fn activity(content: serde_json::Value) -> Activity {
    Activity {
        kind: Some("message".into()),
        attachments: Some(vec![serde_json::json!({
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": content,
        })]),
        ..Activity::default()
    }
}

/// A post or update that did not go: tried again at the card's next moment when that may help
/// (limits, throttling, an outage), given up when Teams refuses it for good.
async fn failed(inner: &Inner, card: Card, e: SendError) {
    match e {
        SendError::Busy { .. }
        | SendError::Stopping
        | SendError::Connector(ConnectorError::Throttled { .. })
        | SendError::Connector(ConnectorError::Transient { .. })
        | SendError::Connector(ConnectorError::Token(_)) => {
            tracing::debug!(error = %e, "a progress card waits for its next moment");
        }
        SendError::ServiceUrl(_)
        | SendError::Connector(ConnectorError::RecipientGone { .. })
        | SendError::Connector(ConnectorError::Permanent { .. }) => {
            tracing::info!(error = %e, "a progress card can no longer be shown; left as it is");
            give_up(inner, card, &e.to_string()).await;
        }
    }
}

async fn give_up(inner: &Inner, card: Card, why: &str) {
    let (now, why) = (inner.clock.now(), why.to_string());
    if let Err(e) = inner
        .db
        .run(move |conn| store::give_up(conn, &card, &why, now))
        .await
    {
        tracing::warn!(error = %e, "could not set a progress card aside; will try again");
    }
}
