//! No data loss and no race: a list a campaign still needs cannot be deleted, the planner plans
//! the row it starts, and a redelivered activity never repeats a broadcast, even when the audit
//! log cannot be written.

mod common;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use diesel::connection::SimpleConnection;
use serde_json::json;

use common::*;
use herald::domain::spread;
use herald::engine::planner;
use herald::store::campaigns::{self, Saved, Settings};
use herald::store::lists::{self, Deleted};
use herald::store::{Conn, DatabaseUrl, Db, audit, deliveries};

on_both_backends!(
    a_list_a_scheduled_or_running_campaign_uses_cannot_be_deleted,
    an_edit_committed_before_the_start_is_planned_and_one_after_is_refused,
    a_failed_audit_write_after_a_broadcast_does_not_repeat_it_on_redelivery,
    a_campaign_naming_a_list_deleted_meanwhile_is_not_saved,
);

const ADMIN: &str = "admins = [\"aad-boss\"]";
const WAIT: Duration = Duration::from_secs(20);

fn create(name: &str, list: &str) -> String {
    format!(
        "campaign create {name}\nlist: {list}\nstart: 2030-12-02 10:00\nduration: 2h\n\
         hours: Mon-Fri 09:00-18:00\ntimezone: Europe/Paris\nmessage:\nBonjour [FIRSTNAME] !"
    )
}

async fn a_list_a_scheduled_or_running_campaign_uses_cannot_be_deleted(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    app.say(
        "29:boss",
        "list create staff a@contoso.com b@contoso.com",
        "en-US",
    )
    .await;
    app.say("29:boss", &create("welcome", "staff"), "en-US")
        .await;
    app.say("29:boss", &create("autumn", "staff"), "en-US")
        .await;

    let reply = app.say("29:boss", "list delete staff", "en-US").await;
    assert_eq!(
        reply,
        "List **staff** was not deleted: scheduled or running campaigns use it (**autumn**, \
         **welcome**). Edit or delete those campaigns, or wait until they complete."
    );
    let reply = app.say("29:boss", "liste supprimer staff", "fr-FR").await;
    assert!(
        reply.starts_with("La liste **staff** n'a pas été supprimée")
            && reply.contains("(**autumn**, **welcome**)"),
        "{reply}"
    );
    // Nothing changed: the list and its members are there.
    let shown = app.say("29:boss", "list show staff", "en-US").await;
    assert!(shown.starts_with("**staff**: 0/2 installed"), "{shown}");
    let outcomes: Vec<String> = app
        .app_db
        .run(|conn| audit::recent(conn, TENANT, 10))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.contains("staff") && e.action.contains("supprimer"))
        .map(|e| e.outcome)
        .collect();
    assert_eq!(outcomes, ["refused: list in use"]);

    // Running: still refused. Completed: it may go.
    app.say("29:boss", "campaign delete autumn", "en-US").await;
    let c = app
        .app_db
        .run(|conn| campaigns::find(conn, TENANT, "welcome"))
        .await
        .unwrap()
        .unwrap();
    let started = app
        .app_db
        .run(move |conn| planner::plan(conn, &c.id, c.start_at.and_utc(), false))
        .await
        .unwrap();
    assert_eq!(started, Some(0));
    let reply = app.say("29:boss", "list delete staff", "en-US").await;
    assert!(reply.contains("(**welcome**)"), "{reply}");
    app.app_db
        .run(|conn| campaigns::complete_finished(conn, Utc::now()))
        .await
        .unwrap();
    let reply = app.say("29:boss", "list delete staff", "en-US").await;
    assert_eq!(reply, "List **staff** deleted.");
}

/// A list of `n` members who all installed the bot, and a campaign on it, straight in the store.
fn seed(conn: &mut Conn<'_>, list: &str, prefix: &str, n: usize) -> String {
    let emails: Vec<String> = (0..n).map(|i| format!("{prefix}{i}@contoso.com")).collect();
    for (i, email) in emails.iter().enumerate() {
        let r = herald::store::users::ConversationRef {
            tenant_id: TENANT.into(),
            channel_id: "msteams".into(),
            channel_user_id: format!("29:{prefix}{i}"),
            bot_id: "28:bot".into(),
            service_url: "https://smba.trafficmanager.net/emea/".into(),
            conversation_id: format!("a:{prefix}{i}"),
            ..Default::default()
        };
        let profile = herald::store::users::Profile {
            email: Some(email.clone()),
            ..Default::default()
        };
        herald::store::users::record_install(conn, &r, &profile, Utc::now()).unwrap();
    }
    lists::create(conn, TENANT, list, "admin", &emails, Utc::now())
        .unwrap()
        .unwrap()
        .id
}

/// The campaign's settings as first saved: list `a`, from an hour ago, for 2 hours, always open.
fn settings(list_id: &str) -> Settings {
    Settings {
        list_id: list_id.to_string(),
        channel: "msteams".into(),
        start_at: Utc::now() - TimeDelta::hours(1),
        time_zone: "Europe/Paris".into(),
        duration_minutes: 120,
        hours: "always".into(),
        presence: "any".into(),
        message: "Bonjour".into(),
    }
}

/// The edit: list `b`, a 10-day window open only on weekday mornings.
fn edited(list_id: &str, first: &Settings) -> Settings {
    Settings {
        list_id: list_id.to_string(),
        duration_minutes: 10 * 24 * 60,
        hours: "Mon-Fri 09:00-12:00".into(),
        ..first.clone()
    }
}

/// Asserts the campaign's deliveries are exactly the plan of the row that became running.
fn assert_planned_from_the_row(conn: &mut Conn<'_>, id: &str, members: usize) {
    let c = campaigns::get(conn, id).unwrap().unwrap();
    assert_eq!(c.status, "running");
    let tz: chrono_tz::Tz = c.time_zone.tz();
    let start = c.start_at.and_utc();
    let end = start + TimeDelta::minutes(c.duration_minutes);
    let intervals = c.hours.open_intervals(tz, start, end);
    let mut expected = spread::plan(&intervals, members, c.seed as u64).unwrap();
    let mut planned: Vec<_> = deliveries::of_message(conn, id)
        .unwrap()
        .into_iter()
        .map(|d| d.planned_at.unwrap().and_utc())
        .collect();
    expected.sort();
    planned.sort();
    assert_eq!(
        planned.len(),
        members,
        "one delivery per member of the row's list"
    );
    assert_eq!(
        planned, expected,
        "moments drawn from the row's window and hours"
    );
    assert_eq!(c.targeted as usize, members);
}

/// On both backends, the interleaving without threads: the planner has read the due campaigns
/// (the stale copy the old planner planned from), an edit commits, then the planner starts it.
async fn an_edit_committed_before_the_start_is_planned_and_one_after_is_refused(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    db.run(|conn| {
        let a = seed(conn, "a", "a", 3);
        let b = seed(conn, "b", "b", 5);
        let first = settings(&a);
        let c = campaigns::create(conn, TENANT, "race", "admin", &first, 7, Utc::now())?
            .campaign()
            .unwrap();
        let due = campaigns::due_to_start(conn, Utc::now())?;
        assert_eq!(due.len(), 1);
        assert!(matches!(
            campaigns::update(conn, &c.id, &edited(&b, &first), Utc::now())?,
            Saved::Done(_)
        ));
        assert_eq!(planner::plan(conn, &due[0].id, Utc::now(), false)?, Some(5));
        assert_planned_from_the_row(conn, &c.id, 5);
        // After the start, an edit is refused and changes nothing.
        assert!(matches!(
            campaigns::update(conn, &c.id, &first, Utc::now())?,
            Saved::Started
        ));
        assert_planned_from_the_row(conn, &c.id, 5);

        // An edit that moves the start to later: the stale due list does not start it.
        let later = Settings {
            start_at: Utc::now() + TimeDelta::days(1),
            ..first.clone()
        };
        let d = campaigns::create(conn, TENANT, "moved", "admin", &first, 8, Utc::now())?
            .campaign()
            .unwrap();
        campaigns::update(conn, &d.id, &later, Utc::now())?;
        assert_eq!(planner::plan(conn, &d.id, Utc::now(), false)?, None);
        assert_eq!(campaigns::get(conn, &d.id)?.unwrap().status, "scheduled");
        Ok(())
    })
    .await
    .unwrap();
}

/// The save that lost the race to a list delete: nothing is saved, the list is named gone.
async fn a_campaign_naming_a_list_deleted_meanwhile_is_not_saved(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    db.run(|conn| {
        let a = seed(conn, "a", "a", 1);
        let b = seed(conn, "b", "b", 1);
        let first = settings(&a);
        let c = campaigns::create(conn, TENANT, "kept", "admin", &first, 7, Utc::now())?
            .campaign()
            .unwrap();
        assert_eq!(lists::delete(conn, &b)?, Deleted::Done);
        let gone = settings(&b);
        assert!(matches!(
            campaigns::create(conn, TENANT, "lost", "admin", &gone, 7, Utc::now())?,
            Saved::ListGone
        ));
        assert!(matches!(
            campaigns::update(conn, &c.id, &gone, Utc::now())?,
            Saved::ListGone
        ));
        assert!(campaigns::find(conn, TENANT, "lost")?.is_none());
        assert_eq!(campaigns::get(conn, &c.id)?.unwrap().list_id, a);
        assert_eq!(lists::delete(conn, &b)?, Deleted::Gone);
        Ok(())
    })
    .await
    .unwrap();
}

// PostgreSQL, where two transactions really interleave -----------------------------------------

/// Runs `f` on a connection of its own inside a transaction that stays open until `commit`
/// receives; returns `f`'s result once committed.
fn hold_open<T: Send + 'static>(
    db: &Db,
    f: impl FnOnce(&mut Conn<'_>) -> T + Send + 'static,
) -> (
    std::sync::mpsc::Receiver<T>,
    std::sync::mpsc::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let (commit_tx, commit_rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let db = db.clone();
    let handle = std::thread::spawn(move || {
        let mut pooled = db.get().unwrap();
        let mut conn = pooled.as_conn();
        let out = conn
            .transaction::<_, diesel::result::Error, _>(|conn| {
                let out = f(conn);
                ready_tx.send(()).unwrap();
                commit_rx.recv().unwrap();
                Ok(out)
            })
            .unwrap();
        done_tx.send(out).unwrap();
    });
    ready_rx.recv().unwrap();
    (done_rx, commit_tx, handle)
}

/// Runs `f` on a connection of its own in a thread; returns its backend pid and the result.
fn in_thread<T: Send + 'static>(
    db: &Db,
    f: impl FnOnce(&mut Conn<'_>) -> T + Send + 'static,
) -> (i32, std::thread::JoinHandle<T>) {
    let (pid_tx, pid_rx) = std::sync::mpsc::channel();
    let db = db.clone();
    let handle = std::thread::spawn(move || {
        let mut pooled = db.get().unwrap();
        let mut conn = pooled.as_conn();
        pid_tx.send(backend_pid(&mut conn)).unwrap();
        f(&mut conn)
    });
    (pid_rx.recv().unwrap(), handle)
}

fn postgres_db() -> (TestDb, Db) {
    let test_db = TestDb::new(Backend::Postgres);
    let db = Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 4).unwrap();
    (test_db, db)
}

#[test]
#[cfg_attr(
    not(herald_postgres),
    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
)]
fn postgres_an_edit_held_open_across_the_start_is_planned_with_its_values() {
    let (_guard, db) = postgres_db();
    let (id, b, first) = {
        let mut pooled = db.get().unwrap();
        let conn = &mut pooled.as_conn();
        let a = seed(conn, "a", "a", 3);
        let b = seed(conn, "b", "b", 5);
        let first = settings(&a);
        let c = campaigns::create(conn, TENANT, "race", "admin", &first, 7, Utc::now())
            .unwrap()
            .campaign()
            .unwrap();
        (c.id, b, first)
    };
    // The edit's transaction is open; the planner starts meanwhile and must wait for it.
    let (id2, edit) = (id.clone(), edited(&b, &first));
    let (edit_done, commit, editor) = hold_open(&db, move |conn| {
        campaigns::update(conn, &id2, &edit, Utc::now())
    });
    let id3 = id.clone();
    let (pid, planner) = in_thread(&db, move |conn| {
        planner::plan(conn, &id3, Utc::now(), false).unwrap()
    });
    wait_until_blocked(&db, pid);
    commit.send(()).unwrap();
    editor.join().unwrap();
    assert!(matches!(edit_done.recv().unwrap().unwrap(), Saved::Done(_)));
    assert_eq!(
        planner.join().unwrap(),
        Some(5),
        "planned with the edited list"
    );
    let mut pooled = db.get().unwrap();
    assert_planned_from_the_row(&mut pooled.as_conn(), &id, 5);
}

#[test]
#[cfg_attr(
    not(herald_postgres),
    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
)]
fn postgres_an_edit_racing_a_start_held_open_is_refused() {
    let (_guard, db) = postgres_db();
    let (id, b, first) = {
        let mut pooled = db.get().unwrap();
        let conn = &mut pooled.as_conn();
        let a = seed(conn, "a", "a", 3);
        let b = seed(conn, "b", "b", 5);
        let first = settings(&a);
        let c = campaigns::create(conn, TENANT, "race", "admin", &first, 7, Utc::now())
            .unwrap()
            .campaign()
            .unwrap();
        (c.id, b, first)
    };
    // The planner's transaction is open; the edit comes meanwhile and must wait for it.
    let id2 = id.clone();
    let (planned, commit, starter) = hold_open(&db, move |conn| {
        planner::plan(conn, &id2, Utc::now(), false).unwrap()
    });
    let (id3, edit) = (id.clone(), edited(&b, &first));
    let (pid, editor) = in_thread(&db, move |conn| {
        campaigns::update(conn, &id3, &edit, Utc::now()).unwrap()
    });
    wait_until_blocked(&db, pid);
    commit.send(()).unwrap();
    starter.join().unwrap();
    assert_eq!(
        planned.recv().unwrap(),
        Some(3),
        "planned with the first list"
    );
    assert!(matches!(editor.join().unwrap(), Saved::Started));
    let mut pooled = db.get().unwrap();
    let conn = &mut pooled.as_conn();
    assert_planned_from_the_row(conn, &id, 3);
    assert_eq!(
        campaigns::get(conn, &id).unwrap().unwrap().list_id,
        first.list_id
    );
}

#[test]
#[cfg_attr(
    not(herald_postgres),
    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
)]
fn postgres_a_campaign_saved_while_its_list_is_deleted_never_names_a_deleted_list() {
    let (_guard, db) = postgres_db();
    let a = {
        let mut pooled = db.get().unwrap();
        seed(&mut pooled.as_conn(), "a", "a", 2)
    };
    // The campaign's save is open: the delete waits, then sees the campaign and is refused.
    let s = settings(&a);
    let (saved, commit, saver) = hold_open(&db, move |conn| {
        campaigns::create(conn, TENANT, "first", "admin", &s, 1, Utc::now()).unwrap()
    });
    let a2 = a.clone();
    let (pid, deleter) = in_thread(&db, move |conn| lists::delete(conn, &a2).unwrap());
    wait_until_blocked(&db, pid);
    commit.send(()).unwrap();
    saver.join().unwrap();
    assert!(matches!(saved.recv().unwrap(), Saved::Done(_)));
    assert_eq!(
        deleter.join().unwrap(),
        Deleted::InUse(vec!["first".into()])
    );

    // The delete is open (the campaign first deleted): the save waits, then finds no list.
    {
        let mut pooled = db.get().unwrap();
        let conn = &mut pooled.as_conn();
        let c = campaigns::find(conn, TENANT, "first").unwrap().unwrap();
        assert!(campaigns::delete(conn, &c.id).unwrap());
    }
    let a2 = a.clone();
    let (deleted, commit, deleter) = hold_open(&db, move |conn| lists::delete(conn, &a2).unwrap());
    let s = settings(&a);
    let (pid, saver) = in_thread(&db, move |conn| {
        campaigns::create(conn, TENANT, "second", "admin", &s, 2, Utc::now()).unwrap()
    });
    wait_until_blocked(&db, pid);
    commit.send(()).unwrap();
    deleter.join().unwrap();
    assert_eq!(deleted.recv().unwrap(), Deleted::Done);
    assert!(matches!(saver.join().unwrap(), Saved::ListGone));
    let mut pooled = db.get().unwrap();
    let conn = &mut pooled.as_conn();
    assert!(campaigns::find(conn, TENANT, "second").unwrap().is_none());
}

// The audit log and redeliveries -----------------------------------------------------------

/// Makes every insert into `audit_log` fail, as a full disk or a revoked grant would.
async fn break_the_audit_log(app: &TestApp) {
    let sql = match app.backend {
        Backend::Sqlite => {
            "CREATE TRIGGER audit_down BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION audit_down() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'audit log unavailable'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER audit_down BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_down();"
        }
    };
    app.app_db
        .run(move |conn| Ok(herald::run_on!(conn, |c| c.batch_execute(sql))?))
        .await
        .unwrap();
}

async fn a_failed_audit_write_after_a_broadcast_does_not_repeat_it_on_redelivery(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    for (id, user) in [("f:boss", "29:boss"), ("f:u1", "29:u1"), ("f:u2", "29:u2")] {
        assert_eq!(app.post_signed(&app.install(id, user)).await.status(), 200);
    }
    break_the_audit_log(&app).await;
    let cards = || async {
        app.sent_messages()
            .await
            .into_iter()
            .filter(|r| {
                let body: serde_json::Value = r.body_json().unwrap_or_default();
                body["summary"] == json!("Fire drill")
            })
            .count()
    };
    let activity = app.message(
        "1:broadcast-once",
        "29:boss",
        "broadcast all\nsubject: Fire drill\nAt 11:00, please leave by the stairs.",
    );
    let replies = app.replies_to(&activity).await;
    assert_eq!(replies.len(), 1, "the admin gets an answer");
    let answer = reply_text(&replies[0]);
    assert!(
        answer.contains("Broadcast **#1** **Fire drill** is on its way to 3 people")
            && answer.contains("it could not be written to the audit log"),
        "{answer}"
    );
    wait_for(WAIT, "3 cards", || async { cards().await == 3 }).await;

    // The Bot Framework redelivers the same activity: nothing is done again.
    let again = app.replies_to(&activity).await;
    assert_eq!(again.len(), 1, "a redelivery is not answered again");
    // A second broadcast would have been stored while the redelivery was handled.
    let n = app
        .app_db
        .run(|conn| {
            use diesel::prelude::*;
            use herald::store::schema::broadcasts::dsl::*;
            Ok(herald::run_on!(conn, |c| broadcasts
                .count()
                .get_result::<i64>(c))?)
        })
        .await
        .unwrap();
    assert_eq!(n, 1, "one broadcast stored");
    let card_deliveries = app
        .app_db
        .run(|conn| {
            let bc = herald::store::broadcasts::find(conn, TENANT, 1)?.unwrap();
            let mut n = 0;
            for (m, _) in herald::store::broadcasts::messages(
                conn,
                &bc.id,
                herald::store::broadcasts::Role::Card,
            )? {
                n += deliveries::of_message(conn, &m)?.len();
            }
            Ok(n)
        })
        .await
        .unwrap();
    assert_eq!(card_deliveries, 3, "one card each, nothing else queued");
    assert_eq!(cards().await, 3, "exactly one set of cards");
}
