//! Group commit: many small writes from concurrent tasks, one transaction.
//!
//! A dedicated thread takes the first waiting item, then every item that arrived meanwhile (up
//! to [`MAX_BATCH`]), and runs them through one function on one connection. Each submitter
//! still waits for its own result, so nothing is acknowledged before it is committed; the
//! concurrent writes of a burst simply share one commit instead of paying one each.

use std::time::Duration;

use super::{Conn, Db, Manager, StoreError};

/// Most items written together, unless the writer lingers with a size of its own.
pub const MAX_BATCH: usize = 256;

/// How a lingering writer gathers a batch: one smaller than `below` items waits `wait` once for
/// more, then takes up to `most`.
#[derive(Debug, Clone, Copy)]
pub struct Linger {
    pub wait: Duration,
    pub below: usize,
    pub most: usize,
}

type Waiting<T, R> = (T, tokio::sync::oneshot::Sender<Result<R, StoreError>>);

pub struct BatchWriter<T, R> {
    queue: tokio::sync::mpsc::UnboundedSender<Waiting<T, R>>,
}

impl<T, R> Clone for BatchWriter<T, R> {
    fn clone(&self) -> Self {
        BatchWriter {
            queue: self.queue.clone(),
        }
    }
}

impl<T: Send + 'static, R: Send + 'static> BatchWriter<T, R> {
    /// Starts the writer thread; it ends once every clone of the writer is dropped and the
    /// queue is drained. `write` gets each batch and returns one result per item, in order.
    pub fn start<F>(db: Db, name: &str, write: F) -> std::io::Result<BatchWriter<T, R>>
    where
        F: Fn(&mut Conn<'_>, Vec<T>) -> Result<Vec<R>, StoreError> + Send + 'static,
    {
        let linger = Linger {
            wait: Duration::ZERO,
            below: 0,
            most: MAX_BATCH,
        };
        Self::start_lingering(db, name, linger, write)
    }

    /// Like `start`, but a batch smaller than `linger.below` waits `linger.wait` for more items
    /// before it is written: fewer, larger transactions for writes nobody is waiting on
    /// urgently.
    pub fn start_lingering<F>(
        db: Db,
        name: &str,
        linger: Linger,
        write: F,
    ) -> std::io::Result<BatchWriter<T, R>>
    where
        F: Fn(&mut Conn<'_>, Vec<T>) -> Result<Vec<R>, StoreError> + Send + 'static,
    {
        let (queue, mut incoming) = tokio::sync::mpsc::unbounded_channel::<Waiting<T, R>>();
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                // One connection kept across batches: its page cache stays warm. It is given
                // back (and a new one taken) after any failure.
                let mut held: Option<r2d2::PooledConnection<Manager>> = None;
                let most = linger.most.max(1);
                let mut items = Vec::with_capacity(most);
                let mut waiters = Vec::with_capacity(most);
                while let Some((item, done)) = incoming.blocking_recv() {
                    items.push(item);
                    waiters.push(done);
                    let mut lingered = linger.wait.is_zero();
                    while items.len() < most {
                        match incoming.try_recv() {
                            Ok((item, done)) => {
                                items.push(item);
                                waiters.push(done);
                            }
                            Err(_) if !lingered && items.len() < linger.below => {
                                // One sleep, not a wait on the queue: items arriving meanwhile
                                // cost their senders no wake-up of this thread.
                                std::thread::sleep(linger.wait);
                                lingered = true;
                            }
                            Err(_) => break,
                        }
                    }
                    let count = items.len();
                    let outcome = match held.take().map_or_else(|| db.get(), Ok) {
                        Ok(mut conn) => {
                            let outcome = write(&mut conn.as_conn(), std::mem::take(&mut items));
                            if outcome.is_ok() {
                                held = Some(conn);
                            }
                            outcome
                        }
                        Err(e) => {
                            items.clear();
                            Err(e)
                        }
                    };
                    match outcome {
                        Ok(results) if results.len() == count => {
                            for (done, r) in waiters.drain(..).zip(results) {
                                let _ = done.send(Ok(r));
                            }
                        }
                        Ok(_) => fail_all(
                            &mut waiters,
                            &StoreError::Unavailable("batch write returned a wrong count".into()),
                        ),
                        Err(e) => {
                            tracing::warn!(error = %e, items = count, "batched write failed");
                            fail_all(&mut waiters, &e);
                        }
                    }
                }
            })?;
        Ok(BatchWriter { queue })
    }

    /// Queues `item` and waits until its batch is committed.
    pub async fn submit(&self, item: T) -> Result<R, StoreError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let stopped = || StoreError::Unavailable("the batch writer has stopped".into());
        self.queue.send((item, done)).map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }
}

fn fail_all<R>(
    waiters: &mut Vec<tokio::sync::oneshot::Sender<Result<R, StoreError>>>,
    e: &StoreError,
) {
    let unavailable = matches!(e, StoreError::Unavailable(_));
    for done in waiters.drain(..) {
        // The error is not Clone; each waiter gets its own of the same kind.
        let _ = done.send(Err(if unavailable {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Query(diesel::result::Error::RollbackTransaction)
        }));
    }
}
