//! Retention: with a manual clock, old rows of finished work are purged in batches while a
//! campaign is being sent, and old reports keep their figures.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::json;

use common::*;
use herald::config::retention::RetentionSettings;
use herald::domain::ManualClock;
use herald::engine::planner;
use herald::store::broadcasts::{self, NewBroadcast};
use herald::store::campaigns::{self, Settings};
use herald::store::retention::{self, Table};
use herald::store::schema::{
    audit_log, broadcast_reads, campaign_reads, deliveries as d, link_clicks,
};
use herald::store::{Conn, DatabaseUrl, Db, audit, lists, reports};

on_both_backends!(
    old_rows_are_purged_in_batches_while_a_campaign_sends_and_reports_keep_their_figures,
    the_chat_report_of_a_purged_campaign_is_unchanged,
    a_broadcast_past_retention_cannot_be_recalled_and_says_so,
);

const WAIT: Duration = Duration::from_secs(30);
const OLD: usize = 45;
const CURRENT: usize = 30;

/// Installed users `29:{prefix}{i}` with emails `{prefix}{i}@contoso.com`, reached at `url`.
fn people(
    conn: &mut Conn<'_>,
    url: &str,
    prefix: &str,
    n: usize,
    now: DateTime<Utc>,
) -> Vec<String> {
    (0..n)
        .map(|i| {
            let r = herald::store::users::ConversationRef {
                tenant_id: TENANT.into(),
                channel_id: "msteams".into(),
                channel_user_id: format!("29:{prefix}{i}"),
                bot_id: "28:bot".into(),
                service_url: url.to_string(),
                conversation_id: format!("a:{prefix}{i}"),
                ..Default::default()
            };
            let profile = herald::store::users::Profile {
                email: Some(format!("{prefix}{i}@contoso.com")),
                given_name: Some("Ada".into()),
                ..Default::default()
            };
            herald::store::users::record_install(conn, &r, &profile, now)
                .unwrap()
                .0
                .id
        })
        .collect()
}

fn campaign(conn: &mut Conn<'_>, name: &str, emails: &[String], start: DateTime<Utc>) -> String {
    let list = lists::create(conn, TENANT, name, "admin", emails, start)
        .unwrap()
        .unwrap();
    let s = Settings {
        list_id: list.id,
        channel: "msteams".into(),
        start_at: start,
        time_zone: "Europe/Paris".into(),
        duration_minutes: 1,
        hours: "always".into(),
        presence: "any".into(),
        message: "Bonjour [FIRSTNAME], see https://contoso.com/news".into(),
    };
    campaigns::create(conn, TENANT, name, "admin", &s, 3, start)
        .unwrap()
        .campaign()
        .unwrap()
        .id
}

/// Everything a report shows of the old campaign and the old broadcast.
#[derive(Debug, PartialEq, Eq)]
struct Figures {
    campaign: campaigns::Counts,
    campaign_clicks: reports::Engagement,
    campaign_reads: i64,
    broadcast: broadcasts::Counts,
    broadcast_unread: usize,
    broadcast_clicks: reports::Engagement,
}

fn figures(conn: &mut Conn<'_>, campaign_id: &str, broadcast_id: &str) -> Figures {
    let c = campaigns::get(conn, campaign_id).unwrap().unwrap();
    let bc = broadcasts::get(conn, broadcast_id).unwrap().unwrap();
    let all = broadcasts::all_messages(conn, broadcast_id).unwrap();
    Figures {
        campaign: campaigns::counts(conn, &c).unwrap(),
        campaign_clicks: reports::engagement(conn, &[campaign_id.to_string()]).unwrap(),
        campaign_reads: reports::campaign_reads(conn, campaign_id).unwrap(),
        broadcast: broadcasts::counts(conn, &bc).unwrap(),
        broadcast_unread: broadcasts::unread(conn, &bc, 10).unwrap().0,
        broadcast_clicks: reports::engagement(conn, &all).unwrap(),
    }
}

macro_rules! count {
    ($conn:expr, $table:path) => {
        herald::run_on!($conn, |c| $table.count().get_result::<i64>(c)).unwrap()
    };
}

/// The old work, 200 days before `now`: a completed campaign (delivered, one failed, one
/// expired, clicks, reads) and a finished broadcast (delivered, read by some), plus old audit.
fn old_work(conn: &mut Conn<'_>, url: &str, then: DateTime<Utc>) -> (String, String) {
    let ids = people(conn, url, "old", OLD, then);
    let emails: Vec<String> = (0..OLD).map(|i| format!("old{i}@contoso.com")).collect();
    let id = campaign(conn, "old", &emails, then);
    assert_eq!(planner::plan(conn, &id, then, true).unwrap(), Some(OLD));
    let done = then + TimeDelta::minutes(5);
    herald::run_on!(conn, |c| diesel::update(
        d::table.filter(d::message_id.eq(&id))
    )
    .set((
        d::status.eq("delivered"),
        d::completed_at.eq(done.naive_utc()),
        d::updated_at.eq(done.naive_utc()),
    ))
    .execute(c))
    .unwrap();
    let rows = herald::store::deliveries::of_message(conn, &id).unwrap();
    herald::run_on!(conn, |c| diesel::update(d::table.find(rows[0].id))
        .set((d::status.eq("failed"), d::failure.eq("recipient_gone")))
        .execute(c))
    .unwrap();
    herald::run_on!(conn, |c| diesel::update(d::table.find(rows[1].id))
        .set(d::status.eq("expired"))
        .execute(c))
    .unwrap();
    for (i, row) in rows.iter().enumerate().skip(2).step_by(3) {
        for _ in 0..=(i % 2) {
            herald::store::tracking::click(conn, row.id, 0, done).unwrap();
        }
        herald::run_on!(conn, |c| diesel::insert_into(campaign_reads::table)
            .values((
                campaign_reads::campaign_id.eq(&id),
                campaign_reads::user_id.eq(&row.user_id),
                campaign_reads::read_at.eq(done.naive_utc()),
                campaign_reads::source.eq("receipt"),
            ))
            .execute(c))
        .unwrap();
    }
    campaigns::complete_finished(conn, done).unwrap();

    let new = NewBroadcast {
        tenant_id: TENANT.into(),
        subject: "Fire drill".into(),
        body: "Leave by the stairs".into(),
        list_id: None,
        audience: "all".into(),
        sender_id: ids[0].clone(),
        sender_name: "Ada".into(),
        links: Vec::new(),
        install: false,
        remind_after: None,
        ack: false,
        choices: Vec::new(),
    };
    let created = conn
        .write_transaction(|conn| {
            let post = &mut herald::outbox::Posting::default();
            herald::broadcasts::send::post_broadcast(
                conn,
                post,
                &new,
                &new.body,
                then,
                &Default::default(),
            )
        })
        .unwrap();
    let herald::broadcasts::Sent::Sent(bc, _) = created else {
        panic!("broadcast not sent")
    };
    let cards: Vec<String> = broadcasts::messages(conn, &bc.id, broadcasts::Role::Card)
        .unwrap()
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    herald::run_on!(conn, |c| diesel::update(
        d::table.filter(d::message_id.eq_any(&cards))
    )
    .set((
        d::status.eq("delivered"),
        d::completed_at.eq(done.naive_utc()),
        d::updated_at.eq(done.naive_utc()),
    ))
    .execute(c))
    .unwrap();
    for user in ids.iter().take(7) {
        herald::run_on!(conn, |c| diesel::insert_into(broadcast_reads::table)
            .values((
                broadcast_reads::broadcast_id.eq(&bc.id),
                broadcast_reads::user_id.eq(user),
                broadcast_reads::read_at.eq(done.naive_utc()),
                broadcast_reads::source.eq("button"),
            ))
            .execute(c))
        .unwrap();
    }
    // A message still pending (due later), as old as the rest: never purged.
    herald::store::deliveries::create_message(conn, "stuck", TENANT, "test", &json!({}), then)
        .unwrap();
    let later = herald::store::deliveries::NewDelivery {
        user_id: ids[2].clone(),
        operation: herald::store::deliveries::Operation::Send,
        target_activity_id: None,
        due: then + TimeDelta::days(400),
        planned: None,
    };
    herald::store::deliveries::enqueue(conn, "stuck", TENANT, &[later], then).unwrap();
    for i in 0..30 {
        audit::record(conn, TENANT, "aad-boss", &format!("lists {i}"), "ok", done).unwrap();
    }
    (id, bc.id.clone())
}

async fn old_rows_are_purged_in_batches_while_a_campaign_sends_and_reports_keep_their_figures(
    backend: Backend,
) {
    let test_db = TestDb::new(backend);
    let db = Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 6).unwrap();
    let connector = wiremock::MockServer::start().await;
    let received = record_posts(&connector, ACTIVITIES, |_| sent()).await;
    let url = format!("{}/", connector.uri());
    let then = Utc::now() - TimeDelta::days(200);
    let clock = ManualClock::new(Utc::now());

    let u = url.clone();
    let (old, bc) = db
        .run(move |conn| Ok(old_work(conn, &u, then)))
        .await
        .unwrap();
    let before = {
        let (old, bc) = (old.clone(), bc.clone());
        db.run(move |conn| Ok(figures(conn, &old, &bc)))
            .await
            .unwrap()
    };
    assert_eq!(before.campaign.delivered, OLD as i64 - 2);
    assert_eq!(
        before.campaign.failed,
        vec![("recipient_gone".to_string(), 1)]
    );
    assert!(before.campaign_clicks.clicks > before.campaign_clicks.people);
    assert_eq!(before.broadcast.read_button, 7);

    // The current campaign, due now on the manual clock: the engine sends it meanwhile.
    let engine = start_bare_engine(
        &db,
        Arc::new(clock.clone()),
        bare_config(4, Duration::from_secs(30), 1_000),
    )
    .await;
    let (u, now) = (url.clone(), herald::domain::Clock::now(&clock));
    let current = db
        .run(move |conn| {
            people(conn, &u, "cur", CURRENT, now);
            let emails: Vec<String> = (0..CURRENT)
                .map(|i| format!("cur{i}@contoso.com"))
                .collect();
            Ok(campaign(
                conn,
                "current",
                &emails,
                // Every planned moment already past: all due now.
                now - TimeDelta::minutes(5),
            ))
        })
        .await
        .unwrap();
    let counts = || {
        let db = db.clone();
        async move {
            db.run(|conn| {
                Ok([
                    count!(conn, d::table),
                    count!(conn, link_clicks::table),
                    count!(conn, campaign_reads::table),
                    count!(conn, broadcast_reads::table),
                    count!(conn, audit_log::table),
                ])
            })
            .await
        }
    };
    let rows_before = counts().await.unwrap();

    // The purge, batch after batch; between two batches the sends go on (the barrier: the
    // purge waits there until the engine sent the current campaign, which it could not do if a
    // purge transaction were still open across batches on SQLite).
    let settings = RetentionSettings {
        batch: 10,
        audit: Some(Duration::from_secs(100 * 24 * 3600)),
        ..RetentionSettings::default()
    };
    let batches: Arc<Mutex<Vec<(Table, usize, Instant)>>> = Arc::default();
    let (paused_tx, paused_rx) = std::sync::mpsc::channel::<()>();
    let (resume_tx, resume_rx) = std::sync::mpsc::channel::<()>();
    let purge = {
        let (db, batches, now) = (
            db.clone(),
            batches.clone(),
            herald::domain::Clock::now(&clock),
        );
        tokio::task::spawn_blocking(move || {
            let mut pooled = db.get().unwrap();
            let mut conn = pooled.as_conn();
            let mut last = Instant::now();
            let mut longest = Duration::ZERO;
            let purged =
                retention::purge_if_due(&mut conn, &settings.policy(), now, &mut |table, n| {
                    longest = longest.max(last.elapsed());
                    let mut seen = batches.lock().unwrap();
                    seen.push((table, n, Instant::now()));
                    if seen.len() == 2 {
                        paused_tx.send(()).unwrap();
                        resume_rx.recv().unwrap();
                    }
                    last = Instant::now();
                })
                .unwrap();
            (purged, longest)
        })
    };
    paused_rx
        .recv_timeout(WAIT)
        .expect("the purge reached its second batch");
    let woke = Instant::now();
    engine.engine().wake();
    wait_for(
        WAIT,
        "the current campaign sent during the purge",
        || async { received.len() == CURRENT },
    )
    .await;
    let sent_within = woke.elapsed();
    resume_tx.send(()).unwrap();
    let (purged, longest_batch) = purge.await.unwrap();
    let purged = purged.expect("the first purge is due");
    eprintln!(
        "retention: {} batches, rows {:?}, longest batch {longest_batch:?}; {CURRENT} sends in {sent_within:?} while the purge was between batches",
        purged.batches, purged.rows
    );

    // Several short batches, every old row of finished work gone, the current campaign's kept.
    assert_eq!(
        purged.folded, 2,
        "the old campaign and the old broadcast folded"
    );
    assert!(purged.batches >= 8, "{purged:?}");
    assert!(batches.lock().unwrap().iter().all(|(_, n, _)| *n <= 10));
    assert!(longest_batch < Duration::from_secs(5), "{longest_batch:?}");
    let rows_after = counts().await.unwrap();
    let current_rows = CURRENT as i64 + 1; // and the pending one
    assert_eq!(
        rows_after[0], current_rows,
        "only the current campaign's and the pending deliveries remain: {rows_before:?} → {rows_after:?}"
    );
    assert_eq!(
        &rows_after[1..4],
        &[0, 0, 0],
        "{rows_before:?} → {rows_after:?}"
    );
    assert_eq!(rows_after[4], 0, "audit entries older than 100 days");
    let after = db
        .run(move |conn| Ok(figures(conn, &old, &bc)))
        .await
        .unwrap();
    assert_eq!(after, before, "the old reports show the same figures");

    // Not due again before `every`; the current campaign's rows are untouched.
    let again = db
        .run(move |conn| {
            retention::purge_if_due(
                conn,
                &RetentionSettings::default().policy(),
                now,
                &mut |_, _| {},
            )
        })
        .await
        .unwrap();
    assert!(again.is_none());
    // (The fake connector has every send; the engine records the last outcomes just after.)
    wait_for(
        WAIT,
        "the current campaign's sends all kept and recorded delivered",
        || {
            let (db, c) = (db.clone(), current.clone());
            async move {
                let rows = db
                    .run(move |conn| herald::store::deliveries::of_message(conn, &c))
                    .await
                    .unwrap();
                rows.len() == CURRENT && rows.iter().all(|d| d.status == "delivered")
            }
        },
    )
    .await;
    engine.shutdown(Duration::from_secs(5)).await;
}

/// Two instances on one PostgreSQL: while one purges (holding the lock), the other skips; once
/// a purge ran, none runs again before `every`.
#[test]
#[cfg_attr(
    not(herald_postgres),
    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
)]
fn postgres_one_instance_purges_at_a_time() {
    let test_db = TestDb::new(Backend::Postgres);
    let db = Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 3).unwrap();
    let mut other = db.get().unwrap();
    let Conn::Postgres(pg) = other.as_conn() else {
        unreachable!()
    };
    // The lock another instance takes while it purges.
    diesel::sql_query(format!(
        "SELECT pg_advisory_lock({})",
        retention::RETENTION_LOCK
    ))
    .execute(pg)
    .unwrap();
    let mut mine = db.get().unwrap();
    let conn = &mut mine.as_conn();
    let settings = RetentionSettings::default();
    let now = Utc::now();
    let purge = |conn: &mut Conn<'_>| {
        retention::purge_if_due(conn, &settings.policy(), now, &mut |_, _| {}).unwrap()
    };
    assert!(
        purge(conn).is_none(),
        "skipped while another instance purges"
    );
    let Conn::Postgres(pg) = other.as_conn() else {
        unreachable!()
    };
    diesel::sql_query(format!(
        "SELECT pg_advisory_unlock({})",
        retention::RETENTION_LOCK
    ))
    .execute(pg)
    .unwrap();
    assert!(purge(conn).is_some(), "due, and the lock is free");
    assert!(purge(conn).is_none(), "not due again before `every`");
}

/// End to end: `campaign report` and `campaigns` answer the same once the rows are purged.
async fn the_chat_report_of_a_purged_campaign_is_unchanged(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]").await;
    for (id, user) in [("f:u1", "29:u1"), ("f:u2", "29:u2")] {
        app.post_signed(&app.install(id, user)).await;
    }
    app.say(
        "29:boss",
        "list create staff ada.u1@contoso.com ada.u2@contoso.com ghost@contoso.com",
        "en-US",
    )
    .await;
    app.say(
        "29:boss",
        "campaign create spring\nlist: staff\nstart: 2030-12-02 10:00\nduration: 2h\nmessage:\nHello [FIRSTNAME]",
        "en-US",
    )
    .await;
    let c = app
        .app_db
        .run(|conn| campaigns::find(conn, TENANT, "spring"))
        .await
        .unwrap()
        .unwrap();
    let done = c.start_at.and_utc() + TimeDelta::hours(3);
    let id = c.id.clone();
    app.app_db
        .run(move |conn| {
            planner::plan(conn, &id, c.start_at.and_utc(), false)?;
            let rows = herald::store::deliveries::of_message(conn, &id)?;
            herald::run_on!(conn, |x| diesel::update(d::table.find(rows[0].id))
                .set((
                    d::status.eq("delivered"),
                    d::completed_at.eq(done.naive_utc()),
                    d::updated_at.eq(done.naive_utc())
                ))
                .execute(x))?;
            herald::run_on!(conn, |x| diesel::update(d::table.find(rows[1].id))
                .set((
                    d::status.eq("failed"),
                    d::failure.eq("recipient_gone"),
                    d::updated_at.eq(done.naive_utc())
                ))
                .execute(x))?;
            campaigns::complete_finished(conn, done)?;
            Ok(())
        })
        .await
        .unwrap();
    let report = app.say("29:boss", "campaign report spring", "en-US").await;
    let listed = app.say("29:boss", "campaigns", "en-US").await;
    assert!(
        report.contains(r#"{"title":"Delivered","value":"1"}"#),
        "{report}"
    );
    assert!(
        report.contains(r#"{"title":"Failed","value":"1 recipient_gone"}"#),
        "{report}"
    );

    let later = done + TimeDelta::days(200);
    let purged = app
        .app_db
        .run(move |conn| {
            retention::purge(
                conn,
                &RetentionSettings::default().policy(),
                later,
                &mut |_, _| {},
            )
        })
        .await
        .unwrap();
    assert_eq!(purged.rows.get(&Table::Deliveries), Some(&2), "{purged:?}");
    let id = c.id.clone();
    let left = app
        .app_db
        .run(move |conn| herald::store::deliveries::of_message(conn, &id))
        .await
        .unwrap();
    assert!(left.is_empty());
    assert_eq!(
        app.say("29:boss", "campaign report spring", "en-US").await,
        report
    );
    assert_eq!(app.say("29:boss", "campaigns", "en-US").await, listed);
}

/// Once a broadcast's deliveries are purged, nothing says where its cards are: `broadcast
/// delete` says so instead of reporting a recall that removed nothing.
async fn a_broadcast_past_retention_cannot_be_recalled_and_says_so(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]").await;
    for (id, user) in [("r:boss", "29:boss"), ("r:u1", "29:u1"), ("r:u2", "29:u2")] {
        app.post_signed(&app.install(id, user)).await;
    }
    app.say(
        "29:boss",
        "list create staff ada.u1@contoso.com ada.u2@contoso.com",
        "en-US",
    )
    .await;
    // Its cards may leave before the answer does: the answer is the reply to the command.
    let command = app.message(
        "r-bc",
        "29:boss",
        "broadcast staff\nsubject: Fire drill\nAt 10:00.",
    );
    let answers = app.replies_to(&command).await;
    assert!(
        answers.iter().any(|a| reply_text(a).contains("#1")),
        "{answers:?}"
    );
    wait_for(Duration::from_secs(30), "both cards sent", || {
        let db = app.app_db.clone();
        async move {
            db.run(|conn| {
                let n: i64 = herald::run_on!(conn, |x| d::table
                    .filter(d::status.eq("pending"))
                    .count()
                    .get_result(x))?;
                Ok(n)
            })
            .await
            .unwrap()
                == 0
        }
    })
    .await;
    let later = Utc::now() + TimeDelta::days(200);
    let purged = app
        .app_db
        .run(move |conn| {
            retention::purge(
                conn,
                &RetentionSettings::default().policy(),
                later,
                &mut |_, _| {},
            )
        })
        .await
        .unwrap();
    assert_eq!(purged.rows.get(&Table::Deliveries), Some(&2), "{purged:?}");

    let deletes_before = app.connector_requests("DELETE", "").await.len();
    let reply = app.say("29:boss", "broadcast delete 1", "en-US").await;
    assert_eq!(
        reply,
        "Broadcast **#1** is older than the retention period: its deliveries are no longer \
         recorded, so its cards can no longer be recalled."
    );
    let reply = app.say("29:boss", "diffusion supprimer 1", "fr-FR").await;
    assert!(
        reply.starts_with("La diffusion **#1** est plus ancienne"),
        "{reply}"
    );
    assert_eq!(
        app.connector_requests("DELETE", "").await.len(),
        deletes_before
    );
    let info = app.say("29:boss", "broadcast info 1", "en-US").await;
    assert!(!info.contains("Recalled"), "not marked recalled: {info}");
}
