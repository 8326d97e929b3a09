//! Named queries, straight against each backend.

mod common;

use chrono::{TimeDelta, Utc};
use common::{Backend, TestDb};
use herald::store::deliveries;
use herald::store::inbound::{self, ActivityKey};
use herald::store::users::{self, ConversationRef, InstallOutcome, Profile};
use herald::store::{DatabaseUrl, Db};
use serde_json::json;

on_both_backends!(
    a_claim_is_fresh_once_even_within_one_batch,
    old_claims_are_pruned,
    install_uninstall_and_revive_keep_one_user,
    a_failed_profile_fetch_keeps_what_was_known,
    an_enqueue_moves_the_generation_on_once_committed,
);

fn open(db: &TestDb) -> Db {
    Db::open(&DatabaseUrl::parse(&db.url).unwrap(), 2).expect("database opens")
}

fn key(id: &str) -> ActivityKey {
    ActivityKey {
        channel_id: "msteams".into(),
        conversation_id: "a:conv".into(),
        activity_id: id.into(),
    }
}

async fn a_claim_is_fresh_once_even_within_one_batch(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let mut conn = db.get().unwrap();
    let mut conn = conn.as_conn();
    let now = Utc::now();
    let (a, b) = (key("1"), key("2"));
    let fresh = inbound::claim_many(&mut conn, &[(&a, now), (&b, now), (&a, now)]).unwrap();
    assert_eq!(fresh, vec![true, true, false]);
    assert!(!inbound::claim(&mut conn, &b, now).unwrap());
    assert!(inbound::claim(&mut conn, &key("3"), now).unwrap());
    // Released, a claim can be taken again.
    inbound::release(&mut conn, &a).unwrap();
    assert!(inbound::claim(&mut conn, &a, now).unwrap());
}

async fn old_claims_are_pruned(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let mut conn = db.get().unwrap();
    let mut conn = conn.as_conn();
    let now = Utc::now();
    inbound::claim(&mut conn, &key("old"), now - TimeDelta::hours(25)).unwrap();
    inbound::claim(&mut conn, &key("new"), now).unwrap();
    assert_eq!(
        inbound::prune(&mut conn, now - TimeDelta::hours(24)).unwrap(),
        1
    );
    assert!(inbound::claim(&mut conn, &key("old"), now).unwrap());
    assert!(!inbound::claim(&mut conn, &key("new"), now).unwrap());
}

fn reference(user: &str) -> ConversationRef {
    ConversationRef {
        tenant_id: "t1".into(),
        channel_id: "msteams".into(),
        channel_user_id: user.into(),
        aad_object_id: Some("aad".into()),
        bot_id: "28:bot".into(),
        service_url: "https://smba.trafficmanager.net/emea/".into(),
        conversation_id: format!("a:{user}"),
        display_name: Some("From Activity".into()),
        locale: Some("fr-FR".into()),
        time_zone: Some("Europe/Paris".into()),
    }
}

fn profile() -> Profile {
    Profile {
        display_name: Some("Ada Lovelace".into()),
        given_name: Some("Ada".into()),
        surname: Some("Lovelace".into()),
        email: Some("Ada@Example.COM".into()),
        user_principal_name: Some("ada@example.com".into()),
        aad_object_id: Some("aad-1".into()),
    }
}

async fn install_uninstall_and_revive_keep_one_user(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let mut conn = db.get().unwrap();
    let mut conn = conn.as_conn();
    let t0 = Utc::now();
    let r = reference("29:ada");
    let (u, outcome) = users::record_install(&mut conn, &r, &profile(), t0).unwrap();
    assert_eq!(outcome, InstallOutcome::New);
    assert!(u.installed);
    assert_eq!(u.email.as_deref(), Some("ada@example.com"));
    assert_eq!(u.given_name.as_deref(), Some("Ada"));

    let (again, outcome) =
        users::record_install(&mut conn, &r, &profile(), t0 + TimeDelta::minutes(1)).unwrap();
    assert_eq!(outcome, InstallOutcome::Refreshed);
    assert_eq!(again.id, u.id);
    assert_eq!(
        again.installed_changed_at, u.installed_changed_at,
        "an upgrade does not reset 'since'"
    );

    let t1 = t0 + TimeDelta::hours(1);
    assert!(users::record_uninstall(&mut conn, &r, "uninstalled", t1).unwrap());
    assert!(
        !users::record_uninstall(&mut conn, &r, "uninstalled", t1).unwrap(),
        "a second uninstall changes nothing"
    );
    let gone = users::find(&mut conn, &r).unwrap().unwrap();
    assert!(!gone.installed);
    assert_eq!(gone.not_installed_reason.as_deref(), Some("uninstalled"));

    let t2 = t0 + TimeDelta::hours(2);
    let (back, outcome) = users::record_install(&mut conn, &r, &Profile::default(), t2).unwrap();
    assert_eq!(outcome, InstallOutcome::Revived);
    assert_eq!(back.id, u.id);
    assert!(back.installed);
    assert_eq!(back.not_installed_reason, None);
    assert_eq!(
        back.installed_changed_at.and_utc().timestamp(),
        t2.timestamp()
    );
    assert_eq!(users::list(&mut conn).unwrap().len(), 1);

    // Someone never seen who uninstalls is known, as not installed.
    let stranger = reference("29:stranger");
    assert!(users::record_uninstall(&mut conn, &stranger, "uninstalled", t2).unwrap());
    let all = users::list(&mut conn).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all.iter().filter(|u| u.installed).count(), 1);
}

async fn a_failed_profile_fetch_keeps_what_was_known(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let mut conn = db.get().unwrap();
    let mut conn = conn.as_conn();
    let r = reference("29:grace");
    users::record_install(&mut conn, &r, &profile(), Utc::now()).unwrap();
    let mut moved = r.clone();
    moved.service_url = "https://smba.trafficmanager.net/amer/".into();
    moved.locale = None;
    let (u, _) = users::record_install(&mut conn, &moved, &Profile::default(), Utc::now()).unwrap();
    assert_eq!(u.email.as_deref(), Some("ada@example.com"));
    assert_eq!(u.surname.as_deref(), Some("Lovelace"));
    assert_eq!(u.locale.as_deref(), Some("fr-FR"));
    assert_eq!(u.service_url, "https://smba.trafficmanager.net/amer/");
    // Without a profile, the activity's name and object id are used.
    let fresh = reference("29:hopper");
    let (h, _) = users::record_install(&mut conn, &fresh, &Profile::default(), Utc::now()).unwrap();
    assert_eq!(h.display_name.as_deref(), Some("From Activity"));
    assert_eq!(h.aad_object_id.as_deref(), Some("aad"));
}

/// The bundled SQLite is built as `.cargo/config.toml` asks: statements keep their plan
/// whatever is bound (no re-preparing a cached `LIMIT ?` query at every execution), and no
/// global lock around allocations.
#[tokio::test]
async fn sqlite_is_built_for_a_server() {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = diesel::sql_types::Text)]
        compile_options: String,
    }
    let test_db = TestDb::new(Backend::Sqlite);
    let options: Vec<String> = open(&test_db)
        .run(|conn| match conn {
            herald::store::Conn::Sqlite(c) => Ok(diesel::sql_query("PRAGMA compile_options")
                .load::<CompileOption>(*c)?
                .into_iter()
                .map(|o| o.compile_options)
                .collect()),
            herald::store::Conn::Postgres(_) => unreachable!("a SQLite database"),
        })
        .await
        .unwrap();
    for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
        assert!(
            options.iter().any(|o| o == wanted),
            "{wanted} in {options:?}"
        );
    }
}

/// Something enqueued, once committed, moves the enqueue generation on (what the bot's memory
/// of people with nothing to answer relies on); on PostgreSQL it is vouched for only while this
/// instance listens.
async fn an_enqueue_moves_the_generation_on_once_committed(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    if backend == Backend::Postgres {
        assert_eq!(db.enqueue_generation(), None, "not listening yet");
    }
    db.watch_enqueued();
    let start = std::time::Instant::now();
    while db.enqueue_generation().is_none() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "never listening"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let users = common::add_users(&db, "https://example.invalid/", "gen-", 2).await;
    let before = db.enqueue_generation().unwrap();
    db.run(move |conn| {
        conn.write_transaction(|conn| {
            deliveries::create_message(
                conn,
                "m-gen",
                "t",
                "test",
                &json!({"text": "hi"}),
                Utc::now(),
            )?;
            deliveries::enqueue(conn, "m-gen", "t", &common::due_now(&users), Utc::now())
        })
    })
    .await
    .unwrap();
    let after = db.enqueue_generation().unwrap();
    assert!(after > before, "{before} -> {after}");
}

/// Another instance's enqueue is heard: an enqueue notifies once committed, and a notification
/// moves this instance's generation on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(herald_postgres),
    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
)]
async fn another_instances_enqueue_is_heard() {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let test_db = TestDb::new(Backend::Postgres);
    let db = open(&test_db);
    db.watch_enqueued();
    let wait = |what: &'static str, done: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while !done() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "{what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    wait("listening", &|| db.enqueue_generation().is_some());
    // Another instance, as a bare connection listening on the same database.
    let mut other = diesel::PgConnection::establish(&test_db.url).unwrap();
    other.batch_execute("LISTEN herald_enqueued").unwrap();
    let users = common::add_users(&db, "https://example.invalid/", "heard-", 1).await;
    db.run(move |conn| {
        deliveries::create_message(
            conn,
            "m-heard",
            "t",
            "test",
            &json!({"text": "hi"}),
            Utc::now(),
        )?;
        deliveries::enqueue(conn, "m-heard", "t", &common::due_now(&users), Utc::now())
    })
    .await
    .unwrap();
    other.batch_execute("SELECT 1").unwrap();
    let heard = other.notifications_iter().filter_map(Result::ok).count();
    assert!(heard >= 1, "the enqueue notified the other instance");
    // And what another instance enqueues moves this one's generation on.
    let before = db.enqueue_generation().unwrap();
    other.batch_execute("NOTIFY herald_enqueued").unwrap();
    wait("the notification heard", &|| {
        db.enqueue_generation().is_some_and(|g| g > before)
    });
}
