//! The planner: when a scheduled campaign's start comes, its audience is resolved (list members
//! → users who installed the bot on the campaign's channel; the others recorded as not
//! installed), each recipient gets a moment drawn over the open part of the window, and the
//! deliveries are stored. Safe on every instance at once: only the one that moves the campaign
//! from scheduled to running plans it, in the same transaction.

use chrono::{DateTime, TimeDelta, Utc};

use super::Inner;
use crate::audience::Expanded;
use crate::domain::delivery::{MessageKind, Operation};
use crate::domain::spread;
use crate::outbox::{Outbox, Posting};
use crate::store::campaigns;
use crate::store::deliveries::NewDelivery;
use crate::store::{Conn, StoreError, lists};

/// Plans every campaign whose start has come and completes those with nothing left to do.
pub(super) async fn plan_due(inner: &Inner) -> DateTime<Utc> {
    let now = inner.clock.now();
    let due = match inner.db.run(move |c| campaigns::due_to_start(c, now)).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not look for campaigns to start");
            return now;
        }
    };
    for campaign in due {
        // A local-time campaign is planned when its first window may open (see `localtime`).
        if !super::localtime::due(&campaign, now) {
            continue;
        }
        // Only the id is taken from this read: the plan comes from the row as it is started.
        let (id, name) = (campaign.id.clone(), campaign.name.clone());
        // Groups and installs are worked out before the transaction: they call Graph.
        let expanded = match inner
            .config
            .reach
            .prepare(
                &inner.db,
                &campaign.tenant_id,
                Some(&campaign.list_id),
                &campaign.channel,
                campaign.install,
            )
            .await
        {
            Ok(expanded) => expanded,
            Err(e) => {
                tracing::warn!(campaign_id = %id, error = %e, "could not resolve the audience");
                continue;
            }
        };
        // A group Graph did not resolve: the campaign waits (still scheduled) for the next
        // look rather than start without the group's members.
        if !expanded.unresolved.is_empty() {
            for u in &expanded.unresolved {
                tracing::warn!(campaign_id = %id, group = %u.group, reason = %u.why,
                    "campaign held back: a group of its list could not be resolved");
            }
            continue;
        }
        if campaign.local_time {
            super::localtime::refresh_mailbox_zones(inner, &campaign, &expanded).await;
        }
        let track = inner.config.tracker.as_ref().is_some_and(|t| t.enabled());
        let (plan_id, outbox) = (id.clone(), inner.outbox.clone());
        match inner
            .db
            .run(move |conn| plan_through(&outbox, conn, &plan_id, now, track, &expanded))
            .await
        {
            Ok(Some(n)) => {
                tracing::info!(campaign_id = %id, %name, recipients = n, "campaign started")
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(campaign_id = %id, error = %e, "campaign could not be planned")
            }
        }
    }
    match inner
        .db
        .run(move |c| campaigns::complete_finished(c, now))
        .await
    {
        Ok(n) if n > 0 => tracing::info!(completed = n, "campaigns completed"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not complete finished campaigns"),
    }
    // A safety net: recalls are reported as their last delete finishes, but an instance may
    // have stopped in between.
    super::broadcast::finish_recalls(inner).await;
    now
}

/// When the planner should look again: the next scheduled start after `looked_at` (the moment
/// of its last look), or one tick from now. A campaign that was due then and is still scheduled
/// was held back (a group Graph could not resolve) or failed to plan: it is looked at again at
/// the next tick, not at once (that would spin).
pub(super) async fn next_check(inner: &Inner, looked_at: DateTime<Utc>) -> DateTime<Utc> {
    let now = inner.clock.now();
    let tick = TimeDelta::from_std(inner.config.tick).unwrap_or(TimeDelta::seconds(30));
    match inner
        .db
        .run(move |c| campaigns::next_start_after(c, Some(looked_at)))
        .await
    {
        Ok(Some(t)) => t.max(now).min(now + tick),
        _ => now + tick,
    }
}

/// Starts campaign `id` if its start has come and plans it, in one write transaction, from
/// the row as it became running (an edit committed before is planned; one after is refused).
/// With `track_links`, its message's links are stored to be tracked. `None` when it was not
/// started here (not due, or another instance started it). The message and its deliveries are
/// posted through `outbox`, which wakes the dispatcher once they are committed.
pub fn plan_through(
    outbox: &Outbox,
    conn: &mut Conn<'_>,
    id: &str,
    now: DateTime<Utc>,
    track_links: bool,
    expanded: &Expanded,
) -> Result<Option<usize>, StoreError> {
    outbox.write_on(conn, |conn, post| {
        plan_in(conn, post, id, now, track_links, expanded)
    })
}

/// [`plan_through`] for tools and tests that run no engine: the same transaction and posting,
/// with nobody to wake (the next engine to look sends what was planned).
pub fn plan(
    conn: &mut Conn<'_>,
    id: &str,
    now: DateTime<Utc>,
    track_links: bool,
) -> Result<Option<usize>, StoreError> {
    conn.write_transaction(|conn| {
        plan_in(
            conn,
            &mut Posting::default(),
            id,
            now,
            track_links,
            &Expanded::default(),
        )
    })
}

/// The planning, inside the caller's write transaction: start, resolve the audience, draw each
/// recipient's moment, post the message and its deliveries, record the audience.
fn plan_in(
    conn: &mut Conn<'_>,
    post: &mut Posting,
    id: &str,
    now: DateTime<Utc>,
    track_links: bool,
    expanded: &Expanded,
) -> Result<Option<usize>, StoreError> {
    // A run of a recurring campaign: its series is locked first (see `store::repeats::lock`).
    let run = super::repeat::lock(conn, id)?;
    let Some(c) = campaigns::begin(conn, id, now)? else {
        return Ok(None);
    };
    if let Some(run) = &run {
        super::repeat::schedule_next(conn, run, &c, now)?;
    }
    let (users, not_installed) = lists::resolve(
        conn,
        &c.tenant_id,
        &c.list_id,
        &c.channel,
        &expanded.identities,
    )?;
    // `time: local`: each recipient's own window (see `localtime`).
    let local = match c.local_time {
        true => Some(super::localtime::plan(conn, &c, &users, now)?),
        false => None,
    };
    let moments = match &local {
        Some(l) => l.moments(),
        None => {
            let (tz, hours) = (c.time_zone.tz(), &c.hours);
            let start = c.start_at.and_utc();
            let end = start + TimeDelta::minutes(c.duration_minutes);
            let intervals = hours.open_intervals(tz, start, end);
            // Creation refuses a window with no business time; should one slip through,
            // everyone is due at the start rather than never.
            spread::plan(&intervals, users.len(), c.seed as u64)
                .unwrap_or_else(|_| vec![start; users.len()])
        }
    };
    post.message(
        conn,
        &c.id,
        &c.tenant_id,
        MessageKind::Campaign,
        &serde_json::json!({"type": "message", "textFormat": "markdown"}),
        now,
    )?;
    let items: Vec<NewDelivery> = users
        .iter()
        .zip(moments)
        .map(|(user_id, moment)| NewDelivery {
            user_id: user_id.clone(),
            operation: Operation::Send,
            target_activity_id: None,
            due: moment,
            planned: Some(moment),
        })
        .collect();
    if track_links {
        let (_, links) = crate::domain::tracking::mark_links(&c.message);
        crate::store::tracking::store_links(conn, &c.id, &links)?;
    }
    post.enqueue(conn, &c.id, &c.tenant_id, &items, now)?;
    if let Some(local) = &local {
        super::localtime::record(conn, &c, &users, local)?;
    }
    campaigns::record_audience(conn, &c.id, users.len(), &not_installed)?;
    // Its author's start card, kept up to date while it goes out.
    crate::progress::follow_campaign(conn, &c, now)?;
    if expanded.installed > 0 || !expanded.refused.is_empty() {
        campaigns::record_installs(conn, &c.id, expanded.installed, &expanded.refused)?;
    }
    Ok(Some(users.len()))
}
