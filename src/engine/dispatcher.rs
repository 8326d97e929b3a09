//! The dispatcher: lease what is due, send each within the limits (`attempt`), record the
//! outcome.
//! Pure functions in `domain::delivery` decide when to retry; this only does what they say.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::attempt::attempt;
use super::tenancy::Epoch;
use super::{Inner, broadcast, gated, planner, reminders};
use crate::domain::delivery::Operation;
use crate::store::deliveries::{self, Leased, Outcome};

/// Most deliveries leased in one transaction.
const MAX_LEASE: usize = 256;
/// Pause before trying again when the database fails.
const DATABASE_BACKOFF: Duration = Duration::from_secs(1);
/// Pause when work is due but none could be leased (another instance holds it this instant).
const CONTENDED: Duration = Duration::from_millis(50);
/// Most often finished recalls are looked for while deliveries keep the dispatcher busy.
const RECALL_CHECK: Duration = Duration::from_secs(1);

pub(super) async fn run(inner: Arc<Inner>) {
    let concurrency = inner.config.concurrency.max(1);
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    // Leased rows waiting for a free slot. Leasing ahead (up to two rounds of slots) makes one
    // lease transaction serve many sends instead of one each time a slot frees up.
    let mut ready: VecDeque<(Leased, Option<Option<String>>, Epoch)> = VecDeque::new();
    let refill_below = concurrency.div_ceil(2);
    let lease_up_to = (2 * concurrency).min(MAX_LEASE);
    let mut next_plan = inner.clock.now();
    let mut recall_checked = Instant::now();
    loop {
        while tasks.try_join_next().is_some() {}
        if inner.stop.is_cancelled() {
            break;
        }
        if (ready.is_empty() || recall_checked.elapsed() >= RECALL_CHECK)
            && inner.signals.take_recalls_due()
        {
            recall_checked = Instant::now();
            broadcast::finish_recalls(&inner).await;
        }
        if inner.clock.now() >= next_plan || inner.signals.take_replan() {
            let looked_at = planner::plan_due(&inner).await;
            next_plan = planner::next_check(&inner, looked_at).await;
        }
        if ready.len() < refill_below {
            let now = inner.clock.now();
            let until = now
                + chrono::TimeDelta::from_std(inner.config.lease)
                    .unwrap_or(chrono::TimeDelta::seconds(60));
            let (owner, wanted) = (inner.config.instance.clone(), lease_up_to - ready.len());
            let claims = inner.tenancy.owned();
            let tenants: Vec<String> = claims.keys().cloned().collect();
            let held: Vec<i64> = inner.held().iter().copied().collect();
            match inner
                .db
                .run(move |conn| {
                    deliveries::lease(conn, &owner, &tenants, &held, now, until, wanted)
                })
                .await
            {
                Ok(rows) => {
                    inner.held().extend(rows.iter().map(|r| r.delivery.id));
                    let rows = reminders::drop_settled(&inner, rows).await;
                    for (row, presence) in with_presence(&inner, rows).await {
                        // Leased just now from the tenants of `claims`.
                        let epoch = claims.get(&row.delivery.tenant_id).copied();
                        if let Some(epoch) = epoch {
                            ready.push_back((row, presence, epoch));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "leasing deliveries failed; retrying");
                    if ready.is_empty() {
                        tokio::select! {
                            _ = tokio::time::sleep(DATABASE_BACKOFF) => continue,
                            _ = inner.stop.cancelled() => break,
                        }
                    }
                }
            }
        }
        if ready.is_empty() {
            idle(&inner, next_plan).await;
            continue;
        }
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = inner.stop.cancelled() => break,
        };
        if let Some((row, presence, epoch)) = ready.pop_front() {
            let inner = inner.clone();
            tasks.spawn(async move { deliver(&inner, row, presence, epoch, permit).await });
        }
    }
    // Stopping: no more leasing; what was leased ahead is given back by the shutdown; let what
    // is in flight finish.
    while tasks.join_next().await.is_some() {}
}

/// Leased rows with the presence their campaign needs (looked up in batches), if any.
async fn with_presence(inner: &Inner, rows: Vec<Leased>) -> Vec<(Leased, Option<Option<String>>)> {
    let mut flagged = Vec::with_capacity(rows.len());
    for row in rows {
        let needs = match inner.payload(&row.delivery.message_id).await {
            Ok(Some(p)) => p
                .campaign
                .as_ref()
                .is_some_and(|c| c.policy.needs_presence() && !c.skype),
            _ => false,
        };
        flagged.push((row, needs));
    }
    if !flagged.iter().any(|(_, needs)| *needs) {
        return flagged.into_iter().map(|(row, _)| (row, None)).collect();
    }
    let mut found = gated::presence_for(inner, &flagged).await;
    flagged
        .into_iter()
        .map(|(row, needs)| {
            let presence = needs.then(|| found.remove(&row.delivery.id).flatten());
            (row, presence)
        })
        .collect()
}

/// Sleeps until the earliest due delivery of the tenants dispatched here, the planner's next
/// look, a wake-up (work enqueued, or a tenant claimed), the tick, or the stop.
async fn idle(inner: &Inner, next_plan: chrono::DateTime<chrono::Utc>) {
    let tenants: Vec<String> = inner.tenancy.owned().into_keys().collect();
    let next = inner
        .db
        .run(move |conn| deliveries::next_due(conn, &tenants))
        .await;
    let now = inner.clock.now();
    let tick =
        chrono::TimeDelta::from_std(inner.config.tick).unwrap_or(chrono::TimeDelta::seconds(30));
    let wake_at = next_plan.min(now + tick);
    let sleep = match next {
        Ok(Some(t)) if t > now => inner.clock.sleep_until(t.min(wake_at)),
        Ok(Some(_)) => Box::pin(tokio::time::sleep(CONTENDED)),
        Ok(None) => inner.clock.sleep_until(wake_at),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the next due time");
            Box::pin(tokio::time::sleep(DATABASE_BACKOFF))
        }
    };
    tokio::select! {
        _ = sleep => {}
        _ = inner.signals.dispatcher.notified() => {}
        _ = inner.stop.cancelled() => {}
    }
}

/// Attempts one delivery, frees its sending slot, then records what happened (the row stays
/// leased until then, so nobody else takes it meanwhile).
async fn deliver(
    inner: &Inner,
    leased: Leased,
    presence: Option<Option<String>>,
    epoch: Epoch,
    slot: tokio::sync::OwnedSemaphorePermit,
) {
    let outcome = attempt(inner, &leased, presence, epoch).await;
    drop(slot);
    let m = &inner.metrics;
    match &outcome {
        Outcome::Delivered { .. } => m.delivered.inc(),
        Outcome::Retry { .. } => m.retried.inc(),
        Outcome::Failed { .. } => m.failed.inc(),
        Outcome::Released { .. } => m.released.inc(),
        Outcome::Absent { .. } => m.absent.inc(),
        Outcome::Expired { .. } => m.expired.inc(),
    }
    let requeued = matches!(
        outcome,
        Outcome::Retry { .. } | Outcome::Released { .. } | Outcome::Absent { .. }
    );
    let recall_step = leased.delivery.operation == Ok(Operation::Delete)
        && matches!(outcome, Outcome::Delivered { .. } | Outcome::Failed { .. });
    record_outcome(inner, leased.delivery.id, outcome).await;
    inner.held().remove(&leased.delivery.id);
    if recall_step {
        inner.signals.recalls_changed();
    }
    if requeued || recall_step {
        // The dispatcher may be asleep until a moment computed before this row came back.
        inner.signals.dispatcher.notify_one();
    }
}

/// Records an outcome, trying again for as long as the database is away: this instance never
/// leases its own rows again, so a send whose outcome waits here is not repeated once the
/// database returns. Only a shutdown gives up (the delivery is then tried again after its
/// lease runs out: a send repeated, never one lost).
async fn record_outcome(inner: &Inner, id: i64, outcome: Outcome) {
    let mut pause = Duration::from_millis(100);
    loop {
        match inner.recorder.submit(outcome.clone()).await {
            Ok(_) => return,
            Err(e) if inner.stop.is_cancelled() => {
                tracing::warn!(delivery_id = id, error = %e,
                    "outcome not recorded; the lease will run out and the delivery be tried again");
                return;
            }
            Err(e) => {
                tracing::debug!(delivery_id = id, error = %e, "outcome not recorded yet; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
    }
}

impl Inner {
    fn held(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<i64>> {
        // A poisoned lock only means a panic elsewhere; the set is still whole.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}
