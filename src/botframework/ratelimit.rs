//! Teams' send limits, kept exactly: per bot per conversation 7 per second, 8 per 2 seconds,
//! 60 per 30 seconds and 1,800 per hour; per app per tenant a configured rate (Teams: 50 per
//! second). A 429 pauses the whole tenant for its `Retry-After`.
//!
//! Each limit is a sliding log: an event may happen at `t` only if the `n`-th most recent one is
//! at least the window earlier, so no interval of the window's length ever holds more than `n`,
//! bursts included. A send is logged at its slot, moved to when it left, and once answered to
//! when the answer came: the connector received it before answering, so a window counted from
//! the answer holds at the connector too, however long the request took to arrive (a loaded
//! machine delays requests by more than any fixed margin). The tenant's even spacing follows a
//! schedule of its own that a window does not move: a send the window held back (its
//! counterpart a second earlier was answered late) delays only itself, and the next ones catch
//! up, never closer than half the spacing. Were the spacing counted from the slots, every
//! second would lose the slowest answer of the second before, and a tenant's pace would follow
//! the connector's worst latency instead of its usual one. A small margin on every window
//! covers timer rounding.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Teams' per-conversation windows: (most events, window).
pub const CONVERSATION_WINDOWS: [(usize, Duration); 4] = [
    (7, Duration::from_secs(1)),
    (8, Duration::from_secs(2)),
    (60, Duration::from_secs(30)),
    (1800, Duration::from_secs(3600)),
];

/// Added to every window by default (`delivery.window_margin`): sends are logged at their
/// answers, so only timer rounding is left to cover.
pub const DEFAULT_MARGIN: Duration = Duration::from_millis(2);

/// Least time between two passes forgetting quiet conversations.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Times of recent events, oldest first.
#[derive(Debug, Default, Clone)]
pub struct SlidingLog {
    times: VecDeque<Instant>,
}

impl SlidingLog {
    /// The earliest moment at or after `not_before` (and not before the last recorded event)
    /// when one more event keeps every window within its limit.
    pub fn earliest(&self, windows: &[(usize, Duration)], not_before: Instant) -> Instant {
        let len = self.times.len();
        earliest_after(len, |n| self.times[len - n], windows, not_before)
    }

    /// Records an event at `at` (not before the last one) and forgets what no window needs.
    pub fn record(&mut self, at: Instant, windows: &[(usize, Duration)]) {
        self.times.push_back(at);
        let keep = windows.iter().map(|w| w.0).max().unwrap_or(0);
        let span = windows.iter().map(|w| w.1).max().unwrap_or_default();
        while self.times.len() > keep
            || self
                .times
                .front()
                .is_some_and(|first| at.saturating_duration_since(*first) > span)
        {
            self.times.pop_front();
        }
    }

    pub fn last(&self) -> Option<Instant> {
        self.times.back().copied()
    }

    /// Moves the event recorded at `reserved` to `actual` (a send that left late), keeping the
    /// log in order, so later reservations count from when it really went.
    pub fn shift(&mut self, reserved: Instant, actual: Instant) {
        if actual <= reserved {
            return;
        }
        let Some(pos) = self.times.iter().rposition(|t| *t == reserved) else {
            return;
        };
        self.times.remove(pos);
        let at = self.times.partition_point(|t| *t <= actual);
        self.times.insert(at, actual);
    }
}

/// The earliest moment at or after `not_before` and the last of `len` events (`nth_latest(n)`
/// is the `n`-th most recent, from 1) when one more keeps every window within its limit.
fn earliest_after(
    len: usize,
    nth_latest: impl Fn(usize) -> Instant,
    windows: &[(usize, Duration)],
    not_before: Instant,
) -> Instant {
    let mut t = not_before;
    if len > 0 {
        t = t.max(nth_latest(1));
    }
    for &(n, window) in windows {
        if n > 0 && len >= n {
            t = t.max(nth_latest(n) + window);
        }
    }
    t
}

/// One conversation's recent sends. A campaign's conversation mostly hears once in an hour, and
/// the limits keep an hour of every conversation (300,000 of them for a campaign that size): one
/// send is kept inline, a log allocated from the second.
#[derive(Debug, Default)]
enum Conversation {
    #[default]
    Quiet,
    Once(Instant),
    Log(Box<SlidingLog>),
}

impl Conversation {
    fn earliest(&self, windows: &[(usize, Duration)], not_before: Instant) -> Instant {
        match self {
            Conversation::Quiet => not_before,
            Conversation::Once(at) => earliest_after(1, |_| *at, windows, not_before),
            Conversation::Log(log) => log.earliest(windows, not_before),
        }
    }

    fn record(&mut self, at: Instant, windows: &[(usize, Duration)]) {
        let mut log = match std::mem::take(self) {
            Conversation::Quiet => {
                *self = Conversation::Once(at);
                return;
            }
            Conversation::Once(first) => Box::new(SlidingLog {
                times: VecDeque::from([first]),
            }),
            Conversation::Log(log) => log,
        };
        log.record(at, windows);
        *self = match log.times.len() {
            1 => Conversation::Once(at),
            _ => Conversation::Log(log),
        };
    }

    fn last(&self) -> Option<Instant> {
        match self {
            Conversation::Quiet => None,
            Conversation::Once(at) => Some(*at),
            Conversation::Log(log) => log.last(),
        }
    }

    fn shift(&mut self, reserved: Instant, actual: Instant) {
        match self {
            Conversation::Quiet => {}
            Conversation::Once(at) => {
                if *at == reserved && actual > reserved {
                    *at = actual;
                }
            }
            Conversation::Log(log) => log.shift(reserved, actual),
        }
    }
}

struct Tenant {
    log: SlidingLog,
    /// The even schedule's latest point: the next slot is at least the spacing after it.
    paced: Option<Instant>,
    /// The latest slot given: the next one is at least half the spacing after it.
    last_slot: Option<Instant>,
    paused_until: Option<Instant>,
}

/// Every limit herald must keep when sending, shared by all of one instance's senders.
pub struct SendLimits {
    tenant_windows: [(usize, Duration); 1],
    /// Teams' conversation windows, each with the margin added.
    conversation_windows: [(usize, Duration); 4],
    /// Least time between two sends of one tenant: `1/rps`.
    spacing: Duration,
    tenants: Mutex<HashMap<String, Tenant>>,
    conversations: Mutex<HashMap<u64, Conversation>>,
    /// Reservations made, and when quiet conversations were last forgotten.
    reservations: Mutex<(u64, Option<Instant>)>,
}

/// When a send may go, or (when that is too far off) the earliest moment it could.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Reserved: send at this instant.
    At(Instant),
    /// Not reserved: nothing is possible before this instant.
    NotBefore(Instant),
}

fn conversation_key(conversation_id: &str) -> u64 {
    // Two conversations that collide share a limit: stricter, never looser.
    let mut h = DefaultHasher::new();
    conversation_id.hash(&mut h);
    h.finish()
}

impl SendLimits {
    /// `tenant_rps` sends per second per tenant, evenly paced (one every `1/rps` at most), with
    /// the default margin on every window.
    pub fn new(tenant_rps: u32) -> SendLimits {
        SendLimits::with_margin(tenant_rps, DEFAULT_MARGIN)
    }

    /// As `new`, with `margin` added to every window.
    pub fn with_margin(tenant_rps: u32, margin: Duration) -> SendLimits {
        let rps = tenant_rps.max(1);
        SendLimits {
            // Both the rate over any second and a minimum spacing, so a tenant's sends are spread
            // over the second instead of leaving in one burst.
            tenant_windows: [(rps as usize, Duration::from_secs(1) + margin)],
            conversation_windows: CONVERSATION_WINDOWS.map(|(n, w)| (n, w + margin)),
            spacing: Duration::from_secs(1) / rps,
            tenants: Mutex::new(HashMap::new()),
            conversations: Mutex::new(HashMap::new()),
            reservations: Mutex::new((0, None)),
        }
    }

    /// Sends a second a tenant is paced at.
    pub fn tenant_rps(&self) -> u32 {
        u32::try_from(self.tenant_windows[0].0).unwrap_or(u32::MAX)
    }

    /// Reserves the earliest moment at or after `now` when a send to `conversation_id` in
    /// `tenant` keeps every limit, unless that moment is after `deadline`.
    pub fn reserve(
        &self,
        tenant: &str,
        conversation_id: &str,
        now: Instant,
        deadline: Instant,
    ) -> Slot {
        // Poisoned locks only mean a panic elsewhere; the logs are still whole.
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let mut conversations = self.conversations.lock().unwrap_or_else(|e| e.into_inner());
        if !tenants.contains_key(tenant) {
            tenants.insert(
                tenant.to_string(),
                Tenant {
                    log: SlidingLog::default(),
                    paced: None,
                    last_slot: None,
                    paused_until: None,
                },
            );
        }
        let Some(entry) = tenants.get_mut(tenant) else {
            // Inserted just above, under the same lock.
            return Slot::NotBefore(deadline);
        };
        let key = conversation_key(conversation_id);
        let conversation = conversations.entry(key).or_default();

        let mut t = now;
        if let Some(p) = entry.paused_until {
            t = t.max(p);
        }
        if let Some(paced) = entry.paced {
            t = t.max(paced + self.spacing);
        }
        let paced = t;
        if let Some(last) = entry.last_slot {
            t = t.max(last + self.spacing / 2);
        }
        // Alternate until both logs agree (each step only moves `t` later; two rounds suffice
        // in practice, the loop makes it certain).
        loop {
            let a = entry.log.earliest(&self.tenant_windows, t);
            let b = conversation.earliest(&self.conversation_windows, a);
            if b == t {
                break;
            }
            t = b;
        }
        if t > deadline {
            return Slot::NotBefore(t);
        }
        entry.log.record(t, &self.tenant_windows);
        entry.paced = Some(paced);
        entry.last_slot = Some(t);
        conversation.record(t, &self.conversation_windows);
        drop(tenants);
        self.sweep(conversations, now);
        Slot::At(t)
    }

    /// Tells the limits that the send logged at `reserved` actually left (or was answered) at
    /// `actual`.
    pub fn sent(&self, tenant: &str, conversation_id: &str, reserved: Instant, actual: Instant) {
        if actual <= reserved {
            return;
        }
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = tenants.get_mut(tenant) {
            t.log.shift(reserved, actual);
        }
        drop(tenants);
        let mut conversations = self.conversations.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(log) = conversations.get_mut(&conversation_key(conversation_id)) {
            log.shift(reserved, actual);
        }
    }

    /// After a 429: nothing more goes to this tenant before `until`.
    pub fn pause_tenant(&self, tenant: &str, until: Instant) {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let entry = tenants.entry(tenant.to_string()).or_insert_with(|| Tenant {
            log: SlidingLog::default(),
            paced: None,
            last_slot: None,
            paused_until: None,
        });
        entry.paused_until = Some(entry.paused_until.map_or(until, |p| p.max(until)));
    }

    /// After a 429 answered at `now`: nothing more goes to this tenant for `wait`. A wait too
    /// long to add to `now` pauses for a day (callers cap it far below that).
    pub fn pause_tenant_for(&self, tenant: &str, now: Instant, wait: Duration) {
        let until = now
            .checked_add(wait)
            .or_else(|| now.checked_add(Duration::from_secs(24 * 3600)))
            .unwrap_or(now);
        self.pause_tenant(tenant, until);
    }

    /// Whether the tenant is paused at `now`, and until when.
    pub fn paused_until(&self, tenant: &str, now: Instant) -> Option<Instant> {
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        tenants
            .get(tenant)
            .and_then(|t| t.paused_until)
            .filter(|p| *p > now)
    }

    /// Every 4,096 reservations, at most once a minute, forgets conversations quiet for more
    /// than an hour (a pass over every conversation: a campaign to 300,000 people holds as
    /// many, and at 10,000 sends a second a pass per 4,096 would cost more than the sends).
    fn sweep(
        &self,
        mut conversations: std::sync::MutexGuard<'_, HashMap<u64, Conversation>>,
        now: Instant,
    ) {
        let mut count = self.reservations.lock().unwrap_or_else(|e| e.into_inner());
        count.0 += 1;
        if !count.0.is_multiple_of(4096)
            || count
                .1
                .is_some_and(|at| now.saturating_duration_since(at) < SWEEP_EVERY)
        {
            return;
        }
        count.1 = Some(now);
        let horizon = self.conversation_windows[3].1;
        conversations.retain(|_, log| {
            log.last()
                .is_some_and(|t| now.saturating_duration_since(t) <= horizon)
        });
    }
}

#[cfg(test)]
mod tests;
