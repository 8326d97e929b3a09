//! Several instances on one database: each tenant's dispatch is owned by one instance at a time
//! (a lease row per tenant), so the tenant's pace holds across instances, and a tenant whose
//! owner stops renewing is taken over with the deliveries it had leased.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use common::*;
use herald::domain::SystemClock;
use herald::domain::delivery::MessageKind;
use herald::store::deliveries::{self, Outcome};
use herald::store::dispatch::{self, Round, Terms};
use herald::store::{DatabaseUrl, Db};
use serde_json::json;
use wiremock::MockServer;

on_both_backends!(
    a_tenant_has_one_owner_until_its_claim_runs_out,
    an_instance_that_was_cut_off_waits_before_taking_over,
    tenants_are_shared_among_live_instances,
    an_idle_tenant_is_let_go_after_a_grace,
    work_coming_again_within_the_grace_stays_with_the_owner,
    two_instances_keep_one_tenants_pace,
    a_newcomer_is_handed_its_share,
    a_late_engine_takes_its_share_without_overlap,
);

fn terms(take_over: bool) -> Terms {
    Terms {
        ttl: TimeDelta::seconds(10),
        horizon: TimeDelta::seconds(10),
        release_grace: TimeDelta::seconds(2),
        take_over,
    }
}

fn open(test_db: &TestDb) -> Db {
    Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 4).unwrap()
}

/// `n` deliveries for `tenant`, due at `due`.
async fn work(db: &Db, tenant: &str, users: &[String], due: DateTime<Utc>) {
    let (tenant, users) = (tenant.to_string(), users.to_vec());
    db.run(move |conn| {
        let message = format!("m-{tenant}-{}", due.timestamp_millis());
        deliveries::create_message(conn, &message, &tenant, "test", &json!({"text": "hi"}), due)?;
        let items: Vec<_> = due_now(&users)
            .into_iter()
            .map(|mut d| {
                d.due = due;
                d
            })
            .collect();
        deliveries::enqueue(conn, &message, &tenant, &items, due)
    })
    .await
    .unwrap();
}

async fn round(db: &Db, owner: &str, now: DateTime<Utc>, terms: Terms) -> Round {
    let owner = owner.to_string();
    db.run(move |conn| dispatch::claim(conn, &owner, now, &terms))
        .await
        .unwrap()
}

async fn lease(db: &Db, owner: &str, tenant: &str, now: DateTime<Utc>) -> Vec<i64> {
    lease_holding(db, owner, tenant, &[], now).await
}

/// Leases as `owner`, which still holds `held` in memory.
async fn lease_holding(
    db: &Db,
    owner: &str,
    tenant: &str,
    held: &[i64],
    now: DateTime<Utc>,
) -> Vec<i64> {
    let (owner, tenants, held) = (owner.to_string(), vec![tenant.to_string()], held.to_vec());
    db.run(move |conn| {
        deliveries::lease(
            conn,
            &owner,
            &tenants,
            &held,
            now,
            now + TimeDelta::minutes(5),
            100,
        )
    })
    .await
    .unwrap()
    .into_iter()
    .map(|l| l.delivery.id)
    .collect()
}

fn owned(r: &Round) -> Vec<&str> {
    r.owned.keys().map(String::as_str).collect()
}

async fn a_tenant_has_one_owner_until_its_claim_runs_out(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let users = add_users(&db, "https://example.invalid/", "own-", 6).await;
    let t0 = Utc::now();
    work(&db, "t1", &users, t0).await;

    let a = round(&db, "a", t0, terms(true)).await;
    assert_eq!(owned(&a), ["t1"]);
    let b = round(&db, "b", t0 + TimeDelta::seconds(1), terms(true)).await;
    assert!(b.owned.is_empty(), "t1 is a's while its claim holds");
    // a renews: the claim moves on, under the same acquisition (deliveries leased under it
    // stay sendable).
    let epoch = a.owned["t1"];
    let a = round(&db, "a", t0 + TimeDelta::seconds(5), terms(true)).await;
    assert_eq!(owned(&a), ["t1"]);
    assert_eq!(
        a.owned["t1"], epoch,
        "a renewal keeps the claim's acquisition time"
    );
    let b = round(&db, "b", t0 + TimeDelta::seconds(14), terms(true)).await;
    assert!(
        b.owned.is_empty(),
        "renewed at +5 s, a's claim holds until +15 s"
    );

    // a leases some deliveries, then dies (never renews again).
    let leased = lease(&db, "a", "t1", t0 + TimeDelta::seconds(6)).await;
    assert_eq!(leased.len(), 6);
    let later = t0 + TimeDelta::seconds(16);
    let b = round(&db, "b", later, terms(true)).await;
    assert_eq!(owned(&b), ["t1"]);
    assert_eq!(b.taken_over.len(), 1);
    assert_eq!(b.taken_over[0].from, "a");
    assert_eq!(
        b.taken_over[0].released, 6,
        "a's leased deliveries come back at once"
    );
    let again = lease(&db, "b", "t1", later).await;
    assert_eq!(
        again.len(),
        6,
        "b sends what a had leased without waiting for its leases"
    );

    // a comes back: t1 is b's now.
    let a = round(&db, "a", later + TimeDelta::seconds(1), terms(true)).await;
    assert!(a.owned.is_empty());
    let owners = db.run(dispatch::owners).await.unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!((owners[0].0.as_str(), owners[0].1.as_str()), ("t1", "b"));
}

async fn an_instance_that_was_cut_off_waits_before_taking_over(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let users = add_users(&db, "https://example.invalid/", "cut-", 2).await;
    let t0 = Utc::now();
    work(&db, "t1", &users, t0).await;
    round(&db, "a", t0, terms(true)).await;
    let held = lease(&db, "a", "t1", t0).await;
    assert_eq!(held.len(), 2);
    // Everyone lost the database for 20 s; b is back first but must not take over yet.
    let back = t0 + TimeDelta::seconds(20);
    let b = round(&db, "b", back, terms(false)).await;
    assert!(b.owned.is_empty());
    // a is back too and renews its own claim, even though it had run out.
    let a = round(&db, "a", back + TimeDelta::seconds(1), terms(true)).await;
    assert_eq!(owned(&a), ["t1"]);
    assert!(a.taken_over.is_empty());
    // Its deliveries' leases ran out (5 minutes) but it still holds them: their outcomes may be
    // on the way. Rows it lost track of (a failed read after the lease) come back to it.
    let later = t0 + TimeDelta::minutes(6);
    round(&db, "a", later, terms(true)).await;
    assert!(lease_holding(&db, "a", "t1", &held, later).await.is_empty());
    let lost = lease_holding(&db, "a", "t1", &held[..1], later).await;
    assert_eq!(lost, held[1..], "a row a no longer holds is leased again");
}

async fn tenants_are_shared_among_live_instances(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let users = add_users(&db, "https://example.invalid/", "share-", 2).await;
    let t0 = Utc::now();
    // Both instances are alive before the work comes.
    assert!(round(&db, "a", t0, terms(true)).await.owned.is_empty());
    assert!(round(&db, "b", t0, terms(true)).await.owned.is_empty());
    for t in ["t1", "t2", "t3", "t4"] {
        work(&db, t, &users, t0).await;
    }
    let a = round(&db, "a", t0 + TimeDelta::seconds(1), terms(true)).await;
    let b = round(&db, "b", t0 + TimeDelta::seconds(1), terms(true)).await;
    assert_eq!(a.owned.len(), 2, "a takes its share: {:?}", a.owned);
    assert_eq!(b.owned.len(), 2, "b takes the rest: {:?}", b.owned);
    assert!(a.owned.keys().all(|t| !b.owned.contains_key(t)));
    // Work due beyond the horizon does not claim its tenant yet.
    work(&db, "t5", &users, t0 + TimeDelta::minutes(5)).await;
    let a = round(&db, "a", t0 + TimeDelta::seconds(2), terms(true)).await;
    assert!(!a.owned.contains_key("t5"));
    let a = round(&db, "a", t0 + TimeDelta::minutes(5), terms(true)).await;
    let b = round(&db, "b", t0 + TimeDelta::minutes(5), terms(true)).await;
    assert!(
        a.owned.contains_key("t5") || b.owned.contains_key("t5"),
        "t5 is claimed once its work is near"
    );
}

async fn an_idle_tenant_is_let_go_after_a_grace(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let users = add_users(&db, "https://example.invalid/", "idle-", 2).await;
    let t0 = Utc::now();
    work(&db, "t1", &users, t0).await;
    round(&db, "a", t0, terms(true)).await;
    let ids = lease(&db, "a", "t1", t0).await;
    let outcomes: Vec<_> = ids
        .iter()
        .map(|&id| Outcome::Delivered {
            id,
            activity_id: Some(format!("1:{id}")),
        })
        .collect();
    db.run(move |conn| deliveries::record(conn, "a", &outcomes, t0))
        .await
        .unwrap();
    // Nothing left: a lets t1 go.
    let a = round(&db, "a", t0 + TimeDelta::seconds(1), terms(true)).await;
    assert!(a.owned.is_empty());
    assert_eq!(a.let_go, ["t1"]);
    // New work: b may not start within the grace (a sent in the last second)...
    work(&db, "t1", &users, t0 + TimeDelta::seconds(2)).await;
    let b = round(&db, "b", t0 + TimeDelta::seconds(2), terms(true)).await;
    assert!(b.owned.is_empty());
    // ...after it, b may: a hand-over, not a takeover.
    let b = round(&db, "b", t0 + TimeDelta::seconds(4), terms(true)).await;
    assert_eq!(owned(&b), ["t1"]);
    assert!(b.taken_over.is_empty(), "{:?}", b.taken_over);
}

/// Two engines on one database, one tenant paced at 20 per second: together they never exceed
/// it (each would alone), and each recipient gets the message once.
async fn two_instances_keep_one_tenants_pace(backend: Backend) {
    const RPS: u32 = 20;
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let connector = MockServer::start().await;
    let received = record_posts(&connector, ACTIVITIES, |_| sent()).await;
    let users = add_users(&db, &format!("{}/", connector.uri()), "pace-", 200).await;
    let config = || herald::engine::EngineConfig {
        // A debug build on a busy machine delays receipts: allow for it in the windows.
        window_margin: Duration::from_millis(60),
        tenant_lease: Duration::from_secs(3),
        ..bare_config(8, Duration::from_secs(30), RPS)
    };
    let a = start_bare_engine(&db, Arc::new(SystemClock), config()).await;
    let b = start_bare_engine(&open(&test_db), Arc::new(SystemClock), config()).await;
    let id = a
        .engine()
        .enqueue(
            TENANT,
            MessageKind::Notice,
            json!({"text": "hi"}),
            due_now(&users),
        )
        .await
        .unwrap();
    b.engine().wake();
    wait_delivered(&db, &id, None, Duration::from_secs(60)).await;
    a.shutdown(Duration::from_secs(5)).await;
    b.shutdown(Duration::from_secs(5)).await;

    let times = received.times();
    let mut paths = received.paths();
    paths.sort();
    paths.dedup();
    assert_eq!(
        (times.len(), paths.len()),
        (200, 200),
        "each recipient once"
    );
    let peak = max_in_window(&times, Duration::from_secs(1));
    assert!(
        peak <= RPS as usize,
        "{peak} sends in one second (limit {RPS})"
    );
}

/// Instances started together on a fresh PostgreSQL database all come up: migrations are
/// applied once, the others wait for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(herald_postgres),
    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
)]
async fn instances_starting_together_migrate_once() {
    let test_db = TestDb::new(Backend::Postgres);
    let url = DatabaseUrl::parse(&test_db.url).unwrap();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || Db::open(&url, 2).map(|_| ()))
        })
        .collect();
    for s in starts {
        s.join().unwrap().expect("every instance starts");
    }
    let db = Db::open(&url, 2).unwrap();
    assert!(db.migrate().unwrap().is_empty(), "nothing left to apply");
}

/// The race the renewal must survive (PostgreSQL, READ COMMITTED): a's claim has lapsed and b
/// takes the tenant over while a renews it. a's renewal waits for b's row lock, then finds the
/// row is b's: a must not believe it still owns the tenant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(herald_postgres),
    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
)]
async fn a_renewal_racing_a_takeover_does_not_keep_the_tenant() {
    let test_db = TestDb::new(Backend::Postgres);
    let db = open(&test_db);
    let users = add_users(&db, "https://example.invalid/", "race-", 2).await;
    let t0 = Utc::now();
    work(&db, "t1", &users, t0).await;
    assert_eq!(owned(&round(&db, "a", t0, terms(true)).await), ["t1"]);
    let later = t0 + TimeDelta::seconds(11);

    let (taken_tx, taken_rx) = std::sync::mpsc::channel();
    let (commit_tx, commit_rx) = std::sync::mpsc::channel::<()>();
    let b_db = db.clone();
    let b = std::thread::spawn(move || {
        let mut conn = b_db.get().unwrap();
        let mut conn = conn.as_conn();
        // b's round, left uncommitted (an outer transaction) until told.
        conn.transaction(|conn| {
            let round = dispatch::claim(conn, "b", later, &terms(true))?;
            taken_tx
                .send(round.owned.keys().cloned().collect::<Vec<_>>())
                .unwrap();
            commit_rx.recv().unwrap();
            Ok::<_, herald::store::StoreError>(())
        })
        .unwrap();
    });
    assert_eq!(taken_rx.recv().unwrap(), ["t1"], "b takes the lapsed claim");
    let a_db = db.clone();
    let (pid_tx, pid_rx) = std::sync::mpsc::channel();
    let a = std::thread::spawn(move || {
        let mut conn = a_db.get().unwrap();
        let mut conn = conn.as_conn();
        pid_tx.send(backend_pid(&mut conn)).unwrap();
        dispatch::claim(&mut conn, "a", later, &terms(true)).unwrap()
    });
    // a's renewal is now waiting on b's lock; let b commit.
    wait_until_blocked(&db, pid_rx.recv().unwrap());
    assert!(!a.is_finished(), "a's renewal waits for b");
    commit_tx.send(()).unwrap();
    b.join().unwrap();
    let a = a.join().unwrap();
    assert!(
        a.owned.is_empty(),
        "a kept a tenant b took over: {:?}",
        a.owned
    );
    let owners = db.run(dispatch::owners).await.unwrap();
    assert_eq!(owners[0].1, "b");
}

/// An instance that joins gets its share of the busy tenants from those holding more: each
/// hands over only what the others lack, with the grace of a tenant let go (never two owners
/// at once), and the newcomer takes them when they are free, even in its first lease.
async fn a_newcomer_is_handed_its_share(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let users = add_users(&db, "https://example.invalid/", "hand-", 2).await;
    let t0 = Utc::now();
    let tenants: Vec<String> = (1..=6).map(|i| format!("t{i}")).collect();
    for t in &tenants {
        work(&db, t, &users, t0).await;
    }
    let a = round(&db, "a", t0, terms(true)).await;
    assert_eq!(a.owned.len(), 6, "alone, a takes every busy tenant");
    // Alone, a keeps them all round after round.
    let a = round(&db, "a", t0 + TimeDelta::seconds(1), terms(true)).await;
    assert_eq!((a.owned.len(), a.handed_over.len()), (6, 0));

    // b starts (a newcomer may not take over lapsed claims, but may take what is handed over).
    let at = t0 + TimeDelta::seconds(2);
    let b = round(&db, "b", at, terms(false)).await;
    assert!(b.owned.is_empty(), "every tenant is a's: {:?}", b.owned);
    let a = round(&db, "a", at, terms(true)).await;
    assert_eq!(a.owned.len(), 3, "a keeps its share");
    assert_eq!(a.handed_over.len(), 3, "and hands the rest over");
    let b = round(&db, "b", at + TimeDelta::seconds(1), terms(false)).await;
    assert!(b.owned.is_empty(), "not within the grace: {:?}", b.owned);
    assert_eq!(
        b.next_free,
        Some((at + TimeDelta::seconds(2)).trunc_subsecs(6)),
        "b knows when they are free"
    );
    let b = round(&db, "b", at + TimeDelta::seconds(3), terms(false)).await;
    assert_eq!(b.owned.len(), 3, "b takes what a handed over");
    assert!(b.taken_over.is_empty(), "a hand-over, not a takeover");
    assert!(b.owned.keys().all(|t| !a.owned.contains_key(t)));
    let a = round(&db, "a", at + TimeDelta::seconds(3), terms(true)).await;
    assert_eq!((a.owned.len(), a.handed_over.len()), (3, 0), "settled");

    // c joins: a and b each hand over one, no more.
    let at = at + TimeDelta::seconds(4);
    assert!(round(&db, "c", at, terms(false)).await.owned.is_empty());
    let a = round(&db, "a", at, terms(true)).await;
    let b = round(&db, "b", at, terms(true)).await;
    assert_eq!((a.owned.len(), a.handed_over.len()), (2, 1));
    assert_eq!((b.owned.len(), b.handed_over.len()), (2, 1));
    let c = round(&db, "c", at + TimeDelta::seconds(3), terms(false)).await;
    assert_eq!(c.owned.len(), 2, "c has its share");
    let owners = db.run(dispatch::owners).await.unwrap();
    let count = |who: &str| owners.iter().filter(|(_, o, _)| o == who).count();
    assert_eq!((count("a"), count("b"), count("c")), (2, 2, 2));

    // c leaves cleanly: a and b take its tenants back after the grace.
    let at = at + TimeDelta::seconds(4);
    db.run(move |conn| dispatch::release_all(conn, "c", at, TimeDelta::seconds(2)))
        .await
        .unwrap();
    let later = at + TimeDelta::seconds(3);
    let a = round(&db, "a", later, terms(true)).await;
    let b = round(&db, "b", later, terms(true)).await;
    assert_eq!(a.owned.len() + b.owned.len(), 6, "{a:?} {b:?}");
    assert!(a.owned.len() >= 2 && b.owned.len() >= 2);
}

/// Two engines, the second starting once the first dispatches every tenant: it is handed
/// its share, every recipient gets the message once, each tenant keeps its pace, and no
/// tenant is ever sent to by both engines within the same second.
async fn a_late_engine_takes_its_share_without_overlap(backend: Backend) {
    const RPS: u32 = 10;
    const TENANTS: usize = 4;
    const EACH: usize = 50;
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let connector = MockServer::start().await;
    let sends: Arc<std::sync::Mutex<Vec<(std::time::Instant, String, String)>>> = Arc::default();
    let log = sends.clone();
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path_regex(ACTIVITIES))
        .respond_with(move |r: &wiremock::Request| {
            let by = r.headers.get(SENT_BY).and_then(|v| v.to_str().ok());
            let by = by.unwrap_or("?").to_string();
            log.lock()
                .unwrap()
                .push((std::time::Instant::now(), r.url.path().to_string(), by));
            sent()
        })
        .mount(&connector)
        .await;
    let users = add_users(
        &db,
        &format!("{}/", connector.uri()),
        "late-",
        TENANTS * EACH,
    )
    .await;
    let config = || herald::engine::EngineConfig {
        window_margin: Duration::from_millis(60),
        tenant_lease: Duration::from_secs(3),
        ..bare_config(8, Duration::from_secs(30), RPS)
    };
    let a = start_bare_engine_named(&db, Arc::new(SystemClock), config(), "a").await;
    let mut ids = Vec::new();
    for (k, chunk) in users.chunks(EACH).enumerate() {
        let tenant = format!("late-tenant-{k}");
        let id = a
            .engine()
            .enqueue(
                &tenant,
                MessageKind::Notice,
                json!({"text": "hi"}),
                due_now(chunk),
            )
            .await
            .unwrap();
        ids.push(id);
    }
    let tenant_of_path = |path: &str| -> usize {
        let conversation = path.split('/').nth(3).unwrap_or_default();
        let i = conversation.rsplit("late-").next().unwrap_or_default();
        i.parse::<usize>().unwrap_or(usize::MAX) / EACH
    };
    wait_for(
        Duration::from_secs(15),
        "a sending for every tenant",
        || {
            let sends = sends.clone();
            async move {
                let s = sends.lock().unwrap();
                let seen: std::collections::BTreeSet<usize> =
                    s.iter().map(|(_, p, _)| tenant_of_path(p)).collect();
                seen.len() == TENANTS
            }
        },
    )
    .await;
    let b = start_bare_engine_named(&open(&test_db), Arc::new(SystemClock), config(), "b").await;
    let joined = std::time::Instant::now();
    for id in &ids {
        wait_delivered(&db, id, Some(EACH), Duration::from_secs(90)).await;
    }
    a.shutdown(Duration::from_secs(5)).await;
    b.shutdown(Duration::from_secs(5)).await;

    let sends = sends.lock().unwrap().clone();
    let mut paths: Vec<&str> = sends.iter().map(|(_, p, _)| p.as_str()).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(
        (sends.len(), paths.len()),
        (TENANTS * EACH, TENANTS * EACH),
        "each recipient once"
    );
    let mut b_tenants = std::collections::BTreeSet::new();
    let mut b_first = None::<std::time::Instant>;
    for k in 0..TENANTS {
        let mine: Vec<_> = sends.iter().filter(|s| tenant_of_path(&s.1) == k).collect();
        let times: Vec<_> = mine.iter().map(|s| s.0).collect();
        let peak = max_in_window(&times, Duration::from_secs(1));
        assert!(peak <= RPS as usize, "tenant {k}: {peak} in one second");
        for x in mine.iter().filter(|s| s.2 == "a") {
            for y in mine.iter().filter(|s| s.2 == "b") {
                let apart = if x.0 > y.0 { x.0 - y.0 } else { y.0 - x.0 };
                assert!(
                    apart >= Duration::from_secs(1),
                    "tenant {k} sent to by both engines {apart:?} apart"
                );
            }
        }
        if let Some(first) = mine.iter().filter(|s| s.2 == "b").map(|s| s.0).min() {
            b_tenants.insert(k);
            b_first = Some(b_first.map_or(first, |t: std::time::Instant| t.min(first)));
        }
    }
    assert_eq!(b_tenants.len(), TENANTS / 2, "b was handed its share");
    let after = b_first.unwrap() - joined;
    // Two claim periods (1 s each) and the grace (2 s), with room for a loaded machine.
    assert!(
        after < Duration::from_secs(6),
        "b's first send {after:?} after it started"
    );
}

/// A tenant let go for lack of work, whose work comes again within its grace, is its last
/// owner's again at once (it sent the last second; nobody else may before the grace ends).
async fn work_coming_again_within_the_grace_stays_with_the_owner(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let users = add_users(&db, "https://example.invalid/", "again-", 1).await;
    let t0 = Utc::now();
    assert!(round(&db, "a", t0, terms(true)).await.owned.is_empty());
    assert!(round(&db, "b", t0, terms(true)).await.owned.is_empty());
    work(&db, "t1", &users, t0).await;
    round(&db, "a", t0, terms(true)).await;
    let ids = lease(&db, "a", "t1", t0).await;
    let outcomes: Vec<_> = ids
        .iter()
        .map(|&id| Outcome::Delivered {
            id,
            activity_id: None,
        })
        .collect();
    db.run(move |conn| deliveries::record(conn, "a", &outcomes, t0))
        .await
        .unwrap();
    let a = round(&db, "a", t0 + TimeDelta::seconds(1), terms(true)).await;
    assert_eq!(a.let_go, ["t1"]);
    work(&db, "t1", &users, t0 + TimeDelta::seconds(1)).await;
    let b = round(&db, "b", t0 + TimeDelta::seconds(1), terms(true)).await;
    assert!(b.owned.is_empty(), "within the grace: {b:?}");
    let a = round(&db, "a", t0 + TimeDelta::seconds(1), terms(true)).await;
    assert_eq!(
        owned(&a),
        ["t1"],
        "back with its owner at once (no clock must move)"
    );
}
