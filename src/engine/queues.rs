//! The dispatcher's rows leased ahead, one queue per tenant, taken in turn. A tenant has at
//! most a few sends started at once (each waits for its own tenant's slot, then posts), so a
//! tenant with a long backlog, or one paused by a 429, holds up no other: every tenant with
//! work is given its turn, and each goes at its own pace.

use std::collections::{HashMap, VecDeque};

use super::tenancy::Epoch;
use crate::store::deliveries::Leased;

/// A leased row waiting for its send to start: the presence its campaign needs (`None` when it
/// needs none), and the claim on its tenant it was leased under.
pub(super) struct Queued {
    pub row: Leased,
    pub presence: Option<Option<String>>,
    pub epoch: Epoch,
}

impl OfTenant for Queued {
    fn tenant(&self) -> &str {
        &self.row.delivery.tenant_id
    }
}

/// What is queued by tenant.
pub(super) trait OfTenant {
    fn tenant(&self) -> &str;
}

/// Rows waiting per tenant, and sends started per tenant.
pub(super) struct Queues<T> {
    waiting: HashMap<String, VecDeque<T>>,
    /// Tenants whose next row may start now: rows waiting, fewer than `most` sends started.
    /// Each tenant is in it at most once.
    turns: VecDeque<String>,
    started: HashMap<String, usize>,
    /// Most sends started at once per tenant.
    most: usize,
    len: usize,
}

impl<T: OfTenant> Queues<T> {
    pub fn new(most: usize) -> Queues<T> {
        Queues {
            waiting: HashMap::new(),
            turns: VecDeque::new(),
            started: HashMap::new(),
            most: most.max(1),
            len: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rows waiting for `tenant`.
    pub fn waiting(&self, tenant: &str) -> usize {
        self.waiting.get(tenant).map_or(0, VecDeque::len)
    }

    fn started(&self, tenant: &str) -> usize {
        self.started.get(tenant).copied().unwrap_or(0)
    }

    pub fn push(&mut self, queued: T) {
        let tenant = queued.tenant().to_string();
        let first = self.waiting(&tenant) == 0;
        if first && self.started(&tenant) < self.most {
            self.turns.push_back(tenant.clone());
        }
        self.waiting.entry(tenant).or_default().push_back(queued);
        self.len += 1;
    }

    /// The next row to start, from the tenant whose turn it is, counted as started.
    pub fn next(&mut self) -> Option<T> {
        let tenant = self.turns.pop_front()?;
        let queue = self.waiting.get_mut(&tenant)?;
        let queued = queue.pop_front()?;
        let left = queue.len();
        if left == 0 {
            self.waiting.remove(&tenant);
        }
        self.len -= 1;
        let started = self.started.entry(tenant.clone()).or_default();
        *started += 1;
        if left > 0 && *started < self.most {
            self.turns.push_back(tenant);
        }
        Some(queued)
    }

    /// Takes out every waiting row that `keep` refuses (rows of a tenant no longer dispatched
    /// here), the others keeping their order and turns.
    pub fn take_out(&mut self, keep: impl Fn(&T) -> bool) -> Vec<T> {
        let mut out = Vec::new();
        self.waiting.retain(|_, queue| {
            let (kept, refused): (VecDeque<T>, VecDeque<T>) = queue.drain(..).partition(&keep);
            out.extend(refused);
            *queue = kept;
            !queue.is_empty()
        });
        self.len -= out.len();
        let waiting = &self.waiting;
        self.turns.retain(|tenant| waiting.contains_key(tenant));
        out
    }

    /// A send of `tenant` has ended.
    pub fn done(&mut self, tenant: &str) {
        let Some(started) = self.started.get_mut(tenant) else {
            return;
        };
        let was_full = *started >= self.most;
        *started -= 1;
        if *started == 0 {
            self.started.remove(tenant);
        }
        if was_full && self.waiting(tenant) > 0 {
            self.turns.push_back(tenant.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(&'static str, i64);

    impl OfTenant for Row {
        fn tenant(&self) -> &str {
            self.0
        }
    }

    fn take(q: &mut Queues<Row>) -> Option<(&'static str, i64)> {
        q.next().map(|r| (r.0, r.1))
    }

    #[test]
    fn tenants_take_turns_whatever_their_backlog() {
        let mut q = Queues::new(10);
        for id in 0..100 {
            q.push(Row("big", id));
        }
        q.push(Row("small", 1000));
        q.push(Row("small", 1001));
        let order: Vec<_> = (0..4).filter_map(|_| take(&mut q)).collect();
        assert_eq!(
            order,
            [("big", 0), ("small", 1000), ("big", 1), ("small", 1001)]
        );
        assert_eq!(q.waiting("big"), 98);
    }

    #[test]
    fn a_tenant_with_its_most_started_waits_for_one_to_end() {
        let mut q = Queues::new(2);
        for id in 0..5 {
            q.push(Row("a", id));
        }
        q.push(Row("b", 10));
        assert_eq!(take(&mut q), Some(("a", 0)));
        assert_eq!(take(&mut q), Some(("b", 10)));
        assert_eq!(take(&mut q), Some(("a", 1)));
        // "a" has two started: none of its rows starts until one ends.
        assert_eq!(take(&mut q), None);
        q.done("a");
        assert_eq!(take(&mut q), Some(("a", 2)));
        assert_eq!(take(&mut q), None);
        q.done("b");
        assert_eq!(take(&mut q), None);
        q.done("a");
        q.done("a");
        assert_eq!(take(&mut q), Some(("a", 3)));
        assert_eq!(take(&mut q), Some(("a", 4)));
        assert!(q.is_empty());
    }

    #[test]
    fn rows_taken_out_leave_the_others_their_turns() {
        let mut q = Queues::new(1);
        for id in 0..3 {
            q.push(Row("gone", id));
            q.push(Row("kept", 10 + id));
        }
        q.push(Row("mixed", 20));
        q.push(Row("mixed", 21));
        assert_eq!(take(&mut q), Some(("gone", 0)));
        let out = q.take_out(|r| r.0 == "kept" || r.1 == 21);
        let mut ids: Vec<i64> = out.iter().map(|r| r.1).collect();
        ids.sort();
        assert_eq!(ids, [1, 2, 20]);
        assert_eq!(q.waiting("gone"), 0);
        assert_eq!(take(&mut q), Some(("kept", 10)));
        assert_eq!(take(&mut q), Some(("mixed", 21)));
        assert_eq!(take(&mut q), None);
        q.done("kept");
        assert_eq!(take(&mut q), Some(("kept", 11)));
        q.done("gone");
        q.done("kept");
        assert_eq!(take(&mut q), Some(("kept", 12)));
        assert!(q.is_empty());
    }
}
