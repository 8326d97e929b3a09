//! The send limits' tests: windows, spacing, pauses, and properties over any arrivals.

use super::*;
use proptest::prelude::*;

/// The most events any half-open interval of `window` holds.
fn max_in_window(times: &[Instant], window: Duration) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= window {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[test]
fn a_burst_to_one_conversation_keeps_all_four_windows() {
    let limits = SendLimits::new(1_000);
    let t0 = Instant::now();
    let far = t0 + Duration::from_secs(100_000);
    let times: Vec<Instant> = (0..2_000)
        .map(|_| match limits.reserve("t", "c", t0, far) {
            Slot::At(t) => t,
            Slot::NotBefore(_) => unreachable!("deadline is far"),
        })
        .collect();
    for (n, w) in CONVERSATION_WINDOWS {
        assert!(max_in_window(&times, w) <= n, "{n} per {w:?}");
    }
    // And not needlessly slow: the first 7 go at once (1 ms apart at 1,000/s), the first
    // 60 within 30 s.
    assert!(times[6] - t0 < Duration::from_millis(10));
    assert!(times[59] - t0 < Duration::from_secs(30));
    assert!(times[60] - t0 >= Duration::from_secs(30));
}

#[test]
fn a_tenant_never_exceeds_its_rate_and_is_paced() {
    let limits = SendLimits::new(50);
    let t0 = Instant::now();
    let far = t0 + Duration::from_secs(100_000);
    let times: Vec<Instant> = (0..500)
        .map(|i| match limits.reserve("t", &format!("c{i}"), t0, far) {
            Slot::At(t) => t,
            Slot::NotBefore(_) => unreachable!(),
        })
        .collect();
    assert!(max_in_window(&times, Duration::from_secs(1)) <= 50);
    let span = (times[499] - times[0]).as_secs_f64();
    let rate = 499.0 / span;
    assert!((49.5..=50.0).contains(&rate), "{rate}");
    // Another tenant is not held back by this one.
    assert_eq!(limits.reserve("other", "x", t0, far), Slot::At(t0));
}

#[test]
fn a_late_send_pushes_later_ones_back() {
    let limits = SendLimits::new(2);
    let t0 = Instant::now();
    let far = t0 + Duration::from_secs(100);
    let Slot::At(a) = limits.reserve("t", "x", t0, far) else {
        unreachable!()
    };
    let Slot::At(b) = limits.reserve("t", "y", t0, far) else {
        unreachable!()
    };
    assert_eq!(b - a, Duration::from_millis(500));
    // The first send left 300 ms late: the third must wait a second from then.
    limits.sent("t", "x", a, a + Duration::from_millis(300));
    let Slot::At(c) = limits.reserve("t", "z", t0, far) else {
        unreachable!()
    };
    assert!(
        c >= a + Duration::from_millis(1300) + DEFAULT_MARGIN,
        "{:?}",
        c - a
    );
}

#[test]
fn windows_count_from_answers_and_spacing_from_slots() {
    let limits = SendLimits::new(50);
    let t0 = Instant::now();
    let far = t0 + Duration::from_secs(100);
    let mut slots = Vec::new();
    for k in 0..50 {
        let Slot::At(t) = limits.reserve("t", &format!("c{k}"), t0, far) else {
            unreachable!()
        };
        // Each leaves on time and is answered 15 ms later (a slow, loaded connector).
        limits.sent("t", &format!("c{k}"), t, t + Duration::from_millis(15));
        slots.push(t);
    }
    // Evenly spaced from the slots: answers do not slow the pace within the second...
    assert_eq!(slots[49] - slots[0], Duration::from_millis(20) * 49);
    // ...but the 51st goes a window after the first's answer, whenever it arrived.
    let Slot::At(next) = limits.reserve("t", "c50", t0, far) else {
        unreachable!()
    };
    assert_eq!(
        next - slots[0],
        Duration::from_millis(15) + Duration::from_secs(1) + DEFAULT_MARGIN
    );
}

#[test]
fn a_send_held_back_by_a_window_delays_only_itself() {
    let limits = SendLimits::new(50);
    let t0 = Instant::now();
    let far = t0 + Duration::from_secs(100);
    let mut slots = Vec::new();
    for k in 0..53 {
        let c = format!("c{k}");
        let Slot::At(t) = limits.reserve("t", &c, t0, far) else {
            unreachable!()
        };
        // The first is answered 15 ms after its slot, every other one at once.
        let late = if k == 0 { 15 } else { 0 };
        limits.sent("t", &c, t, t + Duration::from_millis(late));
        slots.push(t);
    }
    let ms = |d: Duration| d.as_millis();
    // The 51st waits a window after the first's answer...
    assert_eq!(ms(slots[50] - slots[0]), 1000 + 15 + ms(DEFAULT_MARGIN));
    // ...the next ones catch up, never closer than half the spacing...
    assert_eq!(ms(slots[51] - slots[50]), 10);
    // ...and are back on the schedule (a window after their own counterparts).
    assert_eq!(ms(slots[52] - slots[2]), 1000 + ms(DEFAULT_MARGIN));
}

#[test]
fn a_pause_holds_the_whole_tenant_and_deadlines_are_respected() {
    let limits = SendLimits::new(50);
    let t0 = Instant::now();
    let until = t0 + Duration::from_secs(2);
    limits.pause_tenant("t", until);
    assert_eq!(limits.paused_until("t", t0), Some(until));
    assert_eq!(
        limits.reserve("t", "a", t0, t0 + Duration::from_secs(1)),
        Slot::NotBefore(until)
    );
    assert_eq!(
        limits.reserve("t", "b", t0, t0 + Duration::from_secs(5)),
        Slot::At(until)
    );
    assert_eq!(limits.paused_until("t", until), None);
}

#[test]
fn a_pause_too_long_to_represent_does_not_panic() {
    let limits = SendLimits::new(50);
    let t0 = Instant::now();
    limits.pause_tenant_for("t", t0, Duration::MAX);
    assert!(limits.paused_until("t", t0).is_some_and(|p| p > t0));
    limits.pause_tenant_for("u", t0, Duration::from_secs(2));
    assert_eq!(
        limits.paused_until("u", t0),
        Some(t0 + Duration::from_secs(2))
    );
}

proptest! {
    /// Whatever the arrival pattern, reserved moments keep every limit.
    #[test]
    fn any_arrivals_keep_every_limit(
        gaps_ms in proptest::collection::vec(0u64..400, 1..400),
        conversations in proptest::collection::vec(0usize..3, 400),
        rps in 1u32..60,
    ) {
        let limits = SendLimits::new(rps);
        let t0 = Instant::now();
        let mut now = t0;
        let mut per_conversation: HashMap<usize, Vec<Instant>> = HashMap::new();
        let mut all = Vec::new();
        for (i, gap) in gaps_ms.iter().enumerate() {
            now += Duration::from_millis(*gap);
            let c = conversations[i % conversations.len()];
            let far = now + Duration::from_secs(1_000_000);
            let Slot::At(t) = limits.reserve("t", &c.to_string(), now, far) else {
                panic!("deadline is far");
            };
            prop_assert!(t >= now);
            all.push(t);
            per_conversation.entry(c).or_default().push(t);
        }
        prop_assert!(max_in_window(&all, Duration::from_secs(1)) <= rps as usize);
        for times in per_conversation.values() {
            for (n, w) in CONVERSATION_WINDOWS {
                prop_assert!(max_in_window(times, w) <= n);
            }
        }
    }

    /// Whatever each send's delay to its answer, a send leaves a window after the answer
    /// to the `rps`-th send before it (the connector received that one by then, so no window
    /// holds more than `rps` where it counts), and never closer than half the spacing to
    /// the one before.
    #[test]
    fn any_answer_delays_keep_the_tenant_window(
        delays_ms in proptest::collection::vec(0u64..40, 1..300),
        rps in 1u32..60,
    ) {
        let limits = SendLimits::new(rps);
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(1_000_000);
        let (mut slots, mut answers) = (Vec::new(), Vec::new());
        for (k, delay) in delays_ms.iter().enumerate() {
            let c = format!("c{k}");
            let Slot::At(t) = limits.reserve("t", &c, t0, far) else {
                panic!("deadline is far");
            };
            let answered = t + Duration::from_millis(*delay);
            limits.sent("t", &c, t, answered);
            slots.push(t);
            answers.push(answered);
        }
        let n = rps as usize;
        for k in n..slots.len() {
            prop_assert!(slots[k] >= answers[k - n] + Duration::from_secs(1));
        }
        let half = Duration::from_secs(1) / rps / 2;
        for k in 1..slots.len() {
            prop_assert!(slots[k] - slots[k - 1] >= half);
        }
    }
}

proptest! {
    /// A conversation kept inline answers exactly as a plain log would, whatever is recorded,
    /// moved and asked.
    #[test]
    fn a_conversation_answers_as_a_log_would(
        steps in proptest::collection::vec((0u8..3, 0u64..1_000, 0u64..50), 1..300),
    ) {
        let windows = CONVERSATION_WINDOWS.map(|(n, w)| (n, w + DEFAULT_MARGIN));
        let t0 = Instant::now();
        let mut log = SlidingLog::default();
        let mut kept = Conversation::default();
        let mut now = t0;
        for (op, gap_ms, late_ms) in steps {
            // Mostly bursts (every window binds), now and then a jump past them all.
            now += Duration::from_millis(match gap_ms {
                0..950 => gap_ms % 100,
                jump => (jump - 950) * 100_000,
            });
            match op {
                0 => {
                    let at = log.earliest(&windows, now);
                    prop_assert_eq!(kept.earliest(&windows, now), at);
                    log.record(at, &windows);
                    kept.record(at, &windows);
                }
                1 => {
                    if let Some(last) = log.last() {
                        let actual = last + Duration::from_millis(late_ms);
                        log.shift(last, actual);
                        kept.shift(last, actual);
                    }
                }
                _ => prop_assert_eq!(kept.earliest(&windows, now), log.earliest(&windows, now)),
            }
            prop_assert_eq!(kept.last(), log.last());
        }
    }
}
