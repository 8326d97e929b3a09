//! Whether deliveries were enqueued since a moment, known without asking the database: a
//! generation that moves on after every transaction that enqueued (or re-queued) deliveries
//! commits, in this process directly and, on PostgreSQL, from other instances through
//! `NOTIFY` (sent in the enqueuing transaction, so it arrives once that has committed).
//!
//! What it is for: an answer that can only change when something is enqueued (a person has no
//! broadcast to answer until a card is sent to them) may be kept for as long as the generation
//! it was read under is current. On PostgreSQL the generation is only vouched for while this
//! instance listens: before its listener is up, and whenever its connection fails, there is no
//! generation (`None`) and callers ask the database.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::{Connection as _, RunQueryDsl};

use super::{Backend, Conn, Db, StoreError};

/// The channel enqueuing transactions notify on PostgreSQL.
const CHANNEL: &str = "herald_enqueued";
/// How often the listener reads what arrived.
const POLL: Duration = Duration::from_millis(20);
/// How often the listener checks its connection still answers (a silent network failure sends
/// no error; until found, the generation might miss another instance's enqueue).
const ALIVE: Duration = Duration::from_secs(2);
/// Pause before the listener connects again.
const RECONNECT: Duration = Duration::from_secs(1);

/// The process's generation: every database in it shares one (moving on for another's enqueue
/// costs a few reads again, never a wrong answer).
static GENERATION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set when this thread enqueued inside a transaction not yet committed.
    static PENDING: Cell<bool> = const { Cell::new(false) };
}

fn move_on() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Called by every statement that makes deliveries pending, on the connection that runs it.
pub(crate) fn enqueued(conn: &mut Conn<'_>) -> Result<(), StoreError> {
    // Now, for a statement outside any transaction; again at the commit otherwise.
    move_on();
    PENDING.with(|p| p.set(true));
    if let Conn::Postgres(c) = conn {
        diesel::sql_query(format!("NOTIFY {CHANNEL}")).execute(*c)?;
    }
    Ok(())
}

/// Called when the outermost transaction on this thread has ended.
pub(super) fn settled(outermost: bool) {
    if outermost && PENDING.with(|p| p.replace(false)) {
        move_on();
    }
}

/// This instance's PostgreSQL listener, if started.
#[derive(Default)]
pub(super) struct Watch {
    /// The listener is connected and listening.
    listening: AtomicBool,
    started: AtomicBool,
}

impl Db {
    /// The current generation when it can be relied on (see the module's documentation).
    pub fn enqueue_generation(&self) -> Option<u64> {
        let now = GENERATION.load(Ordering::SeqCst);
        match self.backend {
            Backend::Sqlite => Some(now),
            Backend::Postgres if self.watch.listening.load(Ordering::SeqCst) => {
                // Read again: the listener may have just stopped.
                let still = self.watch.listening.load(Ordering::SeqCst);
                still.then_some(now)
            }
            Backend::Postgres => None,
        }
    }

    /// Starts listening for other instances' enqueues (PostgreSQL; nothing to do on SQLite),
    /// on a connection and thread of its own for as long as the process runs.
    pub fn watch_enqueued(&self) {
        let super::DatabaseUrl::Postgres(url) = &self.url else {
            return;
        };
        let url = super::with_connect_timeout(secrecy::ExposeSecret::expose_secret(url));
        if self.watch.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let watch = self.watch.clone();
        let spawned = std::thread::Builder::new()
            .name("herald-enqueued".into())
            .spawn(move || listen(&url, &watch));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start the enqueue listener");
        }
    }
}

/// Listens until the process ends, reconnecting after a failure. While not listening, no
/// generation is vouched for; once listening again, the generation moves on (what was missed
/// meanwhile is unknown).
fn listen(url: &str, watch: &Arc<Watch>) {
    let mut failed_before = false;
    loop {
        let connected = PgConnection::establish(url).and_then(|mut c| {
            c.batch_execute(&format!("LISTEN {CHANNEL}"))
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
            Ok(c)
        });
        match connected {
            Ok(mut c) => {
                move_on();
                watch.listening.store(true, Ordering::SeqCst);
                if failed_before {
                    tracing::info!("listening for enqueued deliveries again");
                }
                let error = follow(&mut c);
                watch.listening.store(false, Ordering::SeqCst);
                move_on();
                tracing::warn!(error = %error, "the enqueue listener lost its connection");
            }
            Err(e) if !failed_before => {
                tracing::warn!(error = %e, "the enqueue listener cannot connect yet");
            }
            Err(_) => {}
        }
        failed_before = true;
        std::thread::sleep(RECONNECT);
    }
}

/// Moves the generation on for every notification, until the connection fails.
fn follow(c: &mut PgConnection) -> diesel::result::Error {
    let mut checked = std::time::Instant::now();
    loop {
        std::thread::sleep(POLL);
        let mut arrived = false;
        for n in c.notifications_iter() {
            match n {
                Ok(_) => arrived = true,
                Err(e) => return e,
            }
        }
        if arrived {
            move_on();
        }
        if checked.elapsed() >= ALIVE {
            checked = std::time::Instant::now();
            if let Err(e) = c.batch_execute("SELECT 1") {
                return e;
            }
        }
    }
}
