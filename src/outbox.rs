//! The outbox: the one way work reaches the delivery engine.
//!
//! A use case (a campaign starting, a broadcast, a relayed reply, a recall) posts messages and
//! their deliveries inside its own write transaction, so what it records and what it sends
//! commit together or not at all. Once the transaction commits, the outbox wakes the dispatcher
//! when anything was enqueued: callers never poke the engine. A recall also withdraws its cards,
//! so sends this instance already leased are dropped instead of sent.
//!
//! The engine listens to the outbox's [`Signals`]; the outbox knows nothing of the engine, so
//! tools that run no engine post the same way (the next instance with an engine sends).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::domain::delivery::MessageKind;
use crate::store::deliveries::{self, NewDelivery};
use crate::store::{Conn, Db, StoreError};

/// What the outbox tells the delivery engine. Shared by the outbox (which raises them) and the
/// engine (which waits on them).
#[derive(Debug)]
pub struct Signals {
    /// Campaigns may have been scheduled or work enqueued: plan and look again.
    replan: AtomicBool,
    /// A recall started or a delete finished: look for recalls to report.
    recalls_due: AtomicBool,
    /// Messages that must no longer be sent (a recalled broadcast's cards).
    withdrawn: Mutex<HashSet<String>>,
    /// Wakes the dispatcher.
    pub dispatcher: Notify,
    /// Wakes the tenant claims (a tenant may have new work).
    pub tenancy: Notify,
}

impl Default for Signals {
    fn default() -> Signals {
        Signals {
            // A fresh engine plans at once.
            replan: AtomicBool::new(true),
            recalls_due: AtomicBool::new(false),
            withdrawn: Mutex::default(),
            dispatcher: Notify::new(),
            tenancy: Notify::new(),
        }
    }
}

impl Signals {
    /// New work may be due now: plan, claim its tenant, dispatch.
    pub fn wake(&self) {
        self.replan.store(true, Ordering::SeqCst);
        self.tenancy.notify_one();
        self.dispatcher.notify_one();
    }

    /// Asks the dispatcher to look for campaigns to plan (the tick's safety net).
    pub fn replan(&self) {
        self.replan.store(true, Ordering::SeqCst);
        self.dispatcher.notify_one();
    }

    /// Whether planning was asked for since the last call (and clears it).
    pub fn take_replan(&self) -> bool {
        self.replan.swap(false, Ordering::SeqCst)
    }

    /// Asks the dispatcher to report recalls whose deletes are all done.
    pub fn recalls_changed(&self) {
        self.recalls_due.store(true, Ordering::SeqCst);
        self.dispatcher.notify_one();
    }

    /// Recalls should be looked at again at the dispatcher's next turn (no wake-up: after a
    /// failure, looking again at once would spin).
    pub fn mark_recalls_due(&self) {
        self.recalls_due.store(true, Ordering::SeqCst);
    }

    /// Whether recalls should be looked at (and clears it).
    pub fn take_recalls_due(&self) -> bool {
        self.recalls_due.swap(false, Ordering::SeqCst)
    }

    /// Marks `message_ids` as withdrawn: a send of one of them is dropped, not sent.
    pub fn withdraw(&self, message_ids: &[String]) {
        // A poisoned lock only means a panic elsewhere; the set is still whole.
        let mut set = self.withdrawn.lock().unwrap_or_else(|e| e.into_inner());
        set.extend(message_ids.iter().cloned());
    }

    pub fn is_withdrawn(&self, message_id: &str) -> bool {
        let set = self.withdrawn.lock().unwrap_or_else(|e| e.into_inner());
        set.contains(message_id)
    }
}

/// What a use case posts inside its transaction: messages, and deliveries of them.
#[derive(Debug, Default)]
pub struct Posting {
    enqueued: usize,
}

impl Posting {
    /// Stores an outbound message; `payload` is the activity (JSON) each recipient gets.
    pub fn message(
        &mut self,
        conn: &mut Conn<'_>,
        id: &str,
        tenant_id: &str,
        kind: MessageKind,
        payload: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        deliveries::create_message(conn, id, tenant_id, kind.as_str(), payload, now)
    }

    /// Adds deliveries of `message_id` (one already there is left as it is). Returns how many
    /// were added.
    pub fn enqueue(
        &mut self,
        conn: &mut Conn<'_>,
        message_id: &str,
        tenant_id: &str,
        items: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let added = deliveries::enqueue(conn, message_id, tenant_id, items, now)?;
        self.enqueued += added;
        Ok(added)
    }

    /// Deliveries added so far.
    pub fn enqueued(&self) -> usize {
        self.enqueued
    }
}

/// The port use cases hand work to the engine through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Outbox {
    db: Db,
    signals: Arc<Signals>,
}

impl Outbox {
    pub fn new(db: Db) -> Outbox {
        Outbox {
            db,
            signals: Arc::new(Signals::default()),
        }
    }

    /// What the engine listens to.
    pub fn signals(&self) -> Arc<Signals> {
        self.signals.clone()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Runs `work` in one write transaction on a pooled connection; once it commits, the
    /// dispatcher is woken when anything was enqueued.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn<'_>, &mut Posting) -> Result<T, StoreError> + Send + 'static,
    {
        let signals = self.signals.clone();
        self.db
            .run(move |conn| write_on(&signals, conn, work))
            .await
    }

    /// [`Outbox::write`] on a connection the caller holds (blocking code, such as the planner).
    pub fn write_on<T, F>(&self, conn: &mut Conn<'_>, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Conn<'_>, &mut Posting) -> Result<T, StoreError>,
    {
        write_on(&self.signals, conn, work)
    }

    /// Something other than deliveries changed what the engine should do now (a campaign was
    /// scheduled or edited): plan again.
    pub fn wake(&self) {
        self.signals.wake();
    }

    /// A recall started: its cards must no longer be sent, and its report is awaited.
    pub fn withdraw(&self, message_ids: &[String]) {
        self.signals.withdraw(message_ids);
        self.signals.wake();
        self.signals.recalls_changed();
    }
}

fn write_on<T, F>(signals: &Signals, conn: &mut Conn<'_>, work: F) -> Result<T, StoreError>
where
    F: FnOnce(&mut Conn<'_>, &mut Posting) -> Result<T, StoreError>,
{
    let mut posting = Posting::default();
    let result = conn.write_transaction(|conn| work(conn, &mut posting))?;
    if posting.enqueued > 0 {
        signals.wake();
    }
    Ok(result)
}
