//! The dispatcher: lease what is due, send each within the limits (`attempt`), record the
//! outcome.
//! Pure functions in `domain::delivery` decide when to retry; this only does what they say.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::attempt::attempt;
use super::queues::{OfTenant, Queued, Queues};
use super::tenancy::Epoch;
use super::{Inner, broadcast, gated, planner, reminders};
use crate::domain::delivery::Operation;
use crate::store::StoreError;
use crate::store::deliveries::{self, Leased, Outcome};

/// Most outcomes on their way to the database at once.
const MAX_SETTLING: usize = 4096;
/// Most leased rows kept waiting per tenant (as many may be leased for it at once).
const MAX_WAITING: usize = 256;
/// Pause before trying again when the database fails.
const DATABASE_BACKOFF: Duration = Duration::from_secs(1);
/// Pause when work is due but none could be leased (another instance holds it this instant).
const CONTENDED: Duration = Duration::from_millis(50);
/// Most often finished recalls are looked for while deliveries keep the dispatcher busy.
const RECALL_CHECK: Duration = Duration::from_secs(1);
/// Longest the dispatcher goes without leasing while rows wait (work due later than it last
/// looked, of tenants not being woken for).
const LEASE_AGAIN: Duration = Duration::from_secs(1);
/// Least time between two leases while rows wait: tenants running low meanwhile are leased
/// for together (each keeps about a second of its rate waiting, far more than this).
const LEASE_GATHER: Duration = Duration::from_millis(50);

pub(super) async fn run(inner: Arc<Inner>) {
    let (most, fill) = shares(inner.config.concurrency, inner.config.tenant_rps);
    let mut queues: Queues<Queued> = Queues::new(most);
    let mut tasks = JoinSet::new();
    // Each send says when its attempt has ended (its outcome then goes to the database while
    // the tenant's next send starts).
    let (ended_tx, mut ended) = tokio::sync::mpsc::unbounded_channel::<String>();
    // Outcomes on their way to the database: when the writer falls behind, sends wait for it
    // (their tenant's next send with them) instead of piling outcomes up in memory.
    let settling = Arc::new(tokio::sync::Semaphore::new(MAX_SETTLING));
    // Tenants found with nothing more due: not asked again before a wake-up or LEASE_AGAIN.
    let mut dry: HashSet<String> = HashSet::new();
    let mut next_plan = inner.clock.now();
    let mut recall_checked = Instant::now();
    let mut want_lease = true;
    let mut leased_at = Instant::now();
    let mut claims_seen = inner.tenancy.changes();
    // The lease under way, if any: its rows, and the tenants found with nothing more due.
    let mut leasing: Option<Leasing> = None;
    let mut lease_done = None;
    // Counts the times `dry` was emptied (new work may have come): a lease's finding that a
    // tenant had nothing more due holds only if `dry` was not emptied while it ran.
    let mut dry_cleared: u64 = 0;
    let mut leased_under = 0;
    loop {
        while tasks.try_join_next().is_some() {}
        while let Ok(tenant) = ended.try_recv() {
            queues.done(&tenant);
        }
        if inner.stop.is_cancelled() {
            break;
        }
        let claims_now = inner.tenancy.changes();
        if claims_now != claims_seen {
            claims_seen = claims_now;
            // Tenants handed over or lost: their rows go back now, for their next owner.
            for queued in queues.take_out(|q| inner.tenancy.owns(q.tenant(), q.epoch)) {
                let inner = inner.clone();
                tasks.spawn(async move { give_back(&inner, queued.row.delivery.id).await });
            }
        }
        if (queues.is_empty() || recall_checked.elapsed() >= RECALL_CHECK)
            && inner.signals.take_recalls_due()
        {
            recall_checked = Instant::now();
            broadcast::finish_recalls(&inner).await;
        }
        if inner.clock.now() >= next_plan || inner.signals.take_replan() {
            let looked_at = planner::plan_due(&inner).await;
            next_plan = planner::next_check(&inner, looked_at).await;
            dry.clear();
            dry_cleared += 1;
            want_lease = true;
        }
        if leased_at.elapsed() >= LEASE_AGAIN {
            dry.clear();
            dry_cleared += 1;
            want_lease = true;
        }
        if lease_done.is_none()
            && leasing.as_ref().is_some_and(|l| l.is_finished())
            && let Some(done) = leasing.take()
        {
            lease_done = Some(joined(done.await));
        }
        if let Some(leased) = lease_done.take() {
            match leased {
                Ok((rows, dried)) => {
                    if leased_under == dry_cleared {
                        dry.extend(dried);
                    }
                    for queued in rows {
                        queues.push(queued);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "leasing deliveries failed; retrying");
                    want_lease = true;
                    if queues.is_empty() {
                        tokio::select! {
                            _ = tokio::time::sleep(DATABASE_BACKOFF) => continue,
                            _ = inner.stop.cancelled() => break,
                        }
                    }
                }
            }
        }
        // Leases wait a moment to serve every tenant that ran low meanwhile in one go; they
        // run beside the sends (on PostgreSQL a lease for many tenants takes many round trips).
        if want_lease
            && leasing.is_none()
            && (queues.is_empty() || leased_at.elapsed() >= LEASE_GATHER)
        {
            leased_at = Instant::now();
            want_lease = false;
            let wants = wanted(&inner, &queues, &dry, fill);
            if !wants.is_empty() {
                let inner = inner.clone();
                leased_under = dry_cleared;
                leasing = Some(tokio::spawn(async move { lease(&inner, wants).await }));
            }
        }
        // Start every row whose tenant may start one, tenants in turn.
        while let Some(queued) = queues.next() {
            let tenant = queued.row.delivery.tenant_id.clone();
            if queues.waiting(&tenant) < fill / 2 && !dry.contains(&tenant) {
                want_lease = true;
            }
            let inner = inner.clone();
            let started = Started(Some(tenant), ended_tx.clone());
            let settling = settling.clone();
            tasks.spawn(async move {
                let (row, presence, epoch) = (queued.row, queued.presence, queued.epoch);
                deliver(&inner, row, presence, epoch, started, &settling).await;
            });
        }
        if queues.is_empty() && !want_lease && leasing.is_none() {
            idle(&inner, next_plan).await;
            dry.clear();
            dry_cleared += 1;
            want_lease = true;
            continue;
        }
        // Rows wait, each tenant with its most sends started: one ending frees a turn.
        let lease_at = if want_lease {
            leased_at + LEASE_GATHER
        } else {
            leased_at + LEASE_AGAIN
        };
        tokio::select! {
            Some(tenant) = ended.recv() => queues.done(&tenant),
            done = async { leasing.as_mut().expect("a lease under way").await },
                if leasing.is_some() =>
            {
                leasing = None;
                lease_done = Some(joined(done));
            }
            _ = tokio::time::sleep_until(lease_at) => {}
            _ = inner.signals.dispatcher.notified() => {
                dry.clear();
                dry_cleared += 1;
                want_lease = true;
            }
            _ = inner.stop.cancelled() => {}
        }
    }
    // Stopping: no more leasing (the lease under way ends first, so the shutdown gives back
    // its rows too); what was leased ahead is given back by the shutdown; let what is in
    // flight finish.
    if let Some(under_way) = leasing {
        let _ = under_way.await;
    }
    while tasks.join_next().await.is_some() {}
}

/// Per tenant, for `concurrency` sending slots and `tenant_rps`: how many sends may be started
/// at once, and how many leased rows are kept waiting.
///
/// A send started waits for its tenant's slot, then posts (holding one of the sending slots
/// only while it posts): a tenth of a second of the tenant's rate keeps it at its pace, and a
/// paused or slow tenant holds nothing any other tenant needs. About two seconds of its rate
/// wait, at most [`MAX_WAITING`] (two rounds of the slots when that is less), and never fewer
/// than two rounds of its started sends.
fn shares(concurrency: usize, tenant_rps: u32) -> (usize, usize) {
    let concurrency = concurrency.max(1);
    let rps = tenant_rps.max(1) as usize;
    let most = (rps / 10).max(2).min(concurrency);
    let fill = (2 * rps)
        .min(2 * concurrency)
        .min(MAX_WAITING)
        .max(2 * most);
    (most, fill)
}

/// A send started for a tenant: tells the dispatcher once when its attempt has ended (also
/// if the task ends any other way), so that the tenant's next send may start.
struct Started(Option<String>, tokio::sync::mpsc::UnboundedSender<String>);

impl Started {
    fn end(&mut self) {
        if let Some(tenant) = self.0.take() {
            // The dispatcher has stopped when nobody receives: nothing to tell.
            let _ = self.1.send(tenant);
        }
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        self.end();
    }
}

type LeaseResult = Result<(Vec<Queued>, Vec<String>), StoreError>;
type Leasing = tokio::task::JoinHandle<LeaseResult>;

/// A lease task's result (a task that panicked counts as a failed lease).
fn joined(done: Result<LeaseResult, tokio::task::JoinError>) -> LeaseResult {
    done.unwrap_or_else(|e| Err(StoreError::Unavailable(format!("leasing failed: {e}"))))
}

/// The tenants dispatched here that have fewer than half of `fill` waiting (and were not found
/// `dry`), each with how many rows it needs.
fn wanted(inner: &Inner, queues: &Queues<Queued>, dry: &HashSet<String>, fill: usize) -> Wants {
    inner
        .tenancy
        .owned()
        .into_iter()
        .filter(|(t, _)| queues.waiting(t) < fill / 2 && !dry.contains(t))
        .map(|(t, epoch)| {
            let n = fill - queues.waiting(&t);
            (t, (n, epoch))
        })
        .collect()
}

/// Per tenant: how many rows it needs, and the claim they are leased under.
type Wants = std::collections::BTreeMap<String, (usize, Epoch)>;

/// Leases due rows for `wants`, with the presence their campaign needs and the claim they
/// are leased under (the one `wants` was made under: every row leased is queued, and a claim
/// lost meanwhile gives it back when its send starts); also the tenants given fewer than they
/// asked for (nothing more is due for them).
async fn lease(inner: &Arc<Inner>, wants: Wants) -> Result<(Vec<Queued>, Vec<String>), StoreError> {
    let now = inner.clock.now();
    let until = now
        + chrono::TimeDelta::from_std(inner.config.lease).unwrap_or(chrono::TimeDelta::seconds(60));
    let owner = inner.config.instance.clone();
    let asked: Vec<(String, usize)> = wants.iter().map(|(t, (n, _))| (t.clone(), *n)).collect();
    let mine = inner.clone();
    let rows = inner
        .db
        .run(move |conn| {
            let held = |id: i64| mine.held().contains(&id);
            deliveries::lease_per_tenant(conn, &owner, &asked, &held, now, until)
        })
        .await?;
    inner.held().extend(rows.iter().map(|r| r.delivery.id));
    let mut got: HashMap<&str, usize> = HashMap::new();
    for row in &rows {
        *got.entry(row.delivery.tenant_id.as_str()).or_default() += 1;
    }
    let dried: Vec<String> = wants
        .iter()
        .filter(|(tenant, (n, _))| got.get(tenant.as_str()).copied().unwrap_or(0) < *n)
        .map(|(tenant, _)| tenant.clone())
        .collect();
    let rows = reminders::drop_settled(inner, rows).await;
    let queued = with_presence(inner, rows)
        .await
        .into_iter()
        // Leased just now for the tenants of `wants`, each under its claim there.
        .filter_map(|(row, presence)| {
            let epoch = wants.get(&row.delivery.tenant_id).map(|w| w.1)?;
            Some(Queued {
                row,
                presence,
                epoch,
            })
        })
        .collect();
    Ok((queued, dried))
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

/// Attempts one delivery (holding one of the sending slots only while it posts), tells the
/// dispatcher it has `started` another, then records what happened (the row stays leased
/// until then, so nobody else takes it meanwhile).
async fn deliver(
    inner: &Inner,
    leased: Leased,
    presence: Option<Option<String>>,
    epoch: Epoch,
    mut started: Started,
    settling: &tokio::sync::Semaphore,
) {
    let outcome = attempt(inner, &leased, presence, epoch).await;
    let settling = settling.acquire().await;
    started.end();
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
    drop(settling);
    inner.held().remove(&leased.delivery.id);
    if recall_step {
        inner.signals.recalls_changed();
    }
    if requeued || recall_step {
        // The dispatcher may be asleep until a moment computed before this row came back.
        inner.signals.dispatcher.notify_one();
    }
}

/// Gives back a row leased for a tenant no longer dispatched here, unsent.
async fn give_back(inner: &Inner, id: i64) {
    inner.metrics.released.inc();
    record_outcome(inner, id, Outcome::Released { id, at: None }).await;
    inner.held().remove(&id);
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

#[cfg(test)]
mod tests {
    use super::shares;

    #[test]
    fn shares_follow_the_rate_within_the_slots() {
        // Teams' 50/s: 5 started, two seconds waiting.
        assert_eq!(shares(16, 50), (5, 32));
        assert_eq!(shares(64, 50), (5, 100));
        // One slot, or a huge rate with many slots: no panic, and every bound kept.
        assert_eq!(shares(1, 50), (1, 2));
        assert_eq!(shares(0, 0), (1, 2));
        assert_eq!(shares(64, 1_000_000), (64, 128));
        assert_eq!(shares(300, 100_000), (300, 600));
    }
}
