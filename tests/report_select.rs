//! The report page's filter, search, counts and paging run in the database: checked against
//! the meaning of each filter applied in Rust to the CSV's rows (the whole report read a slice
//! at a time), for every filter and several searches, on both backends; then a page of a
//! report larger than one page, across the sends and the members who were not installed.

mod common;

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;

use common::*;
use herald::domain::Lang;
use herald::domain::delivery::{MessageKind, Operation};
use herald::domain::report_filter::{Search, StatusFilter};
use herald::domain::tracking::{ReportKind, Signer};
use herald::reports::page::{PageRequest, report_page};
use herald::store::Db;
use herald::store::deliveries::NewDelivery;
use herald::store::reports::select::Hits;
use herald::store::reports::{self as store_reports, RecipientRow, select};
use herald::store::schema::{
    campaign_not_installed as ni, campaign_reads as cr, campaigns as c, deliveries as d, users as u,
};

/// A completed campaign to `sends` installed people (and `absent` members not installed):
/// by position, delivered (read every third, clicked every fourth), failed, expired, waiting
/// for presence, pending. Person 5 is "Élodie Dupont". Returns the campaign's id.
async fn campaign(db: &Db, sends: usize, absent: usize) -> String {
    let users = add_users(db, "https://smba.example.com/", "r", sends).await;
    db.run(move |conn| {
        let now = Utc::now();
        let at = now.naive_utc();
        let id = uuid::Uuid::now_v7().to_string();
        herald::run_on!(conn, |x| diesel::insert_into(c::table)
            .values((
                c::id.eq(&id),
                c::tenant_id.eq(TENANT),
                c::name.eq("Select"),
                c::name_key.eq("select"),
                c::list_id.eq("l"),
                c::channel.eq("msteams"),
                c::start_at.eq(at),
                c::time_zone.eq("Europe/Paris"),
                c::duration_minutes.eq(60_i64),
                c::hours.eq("Mon-Sun 00:00-23:59"),
                c::presence.eq("any"),
                c::message.eq("Bonjour"),
                c::status.eq("completed"),
                c::seed.eq(1_i64),
                c::targeted.eq(sends as i32),
                c::not_installed.eq(absent as i32),
                c::created_by.eq("t"),
                c::created_at.eq(at),
                c::updated_at.eq(at),
                c::install.eq(false),
                c::herald_installed.eq(0),
                c::local_time.eq(false),
                c::zone_fallbacks.eq(0),
            ))
            .execute(x))?;
        let payload = serde_json::json!({"type": "message", "text": "Bonjour"});
        let kind = MessageKind::Campaign.as_str();
        herald::store::deliveries::create_message(conn, &id, TENANT, kind, &payload, now)?;
        let items: Vec<NewDelivery> = users
            .iter()
            .map(|user| NewDelivery {
                user_id: user.clone(),
                operation: Operation::Send,
                target_activity_id: None,
                due: now + TimeDelta::days(30),
                planned: None,
            })
            .collect();
        herald::store::deliveries::enqueue(conn, &id, TENANT, &items, now)?;
        for (i, user) in users.iter().enumerate() {
            let (status, step) = match i % 8 {
                0..=3 => ("delivered", 0),
                4 => ("failed", 0),
                5 => ("expired", 0),
                6 => ("pending", 1),
                _ => ("pending", 0),
            };
            herald::run_on!(conn, |x| diesel::update(
                d::table
                    .filter(d::message_id.eq(&id))
                    .filter(d::user_id.eq(user))
            )
            .set((
                d::status.eq(status),
                d::ladder_step.eq(step),
                d::failure.eq((status == "failed").then_some("refused")),
            ))
            .execute(x))?;
            if i % 3 == 0 {
                herald::run_on!(conn, |x| diesel::insert_into(cr::table)
                    .values((
                        cr::campaign_id.eq(&id),
                        cr::user_id.eq(user),
                        cr::read_at.eq(at),
                        cr::source.eq("receipt"),
                    ))
                    .execute(x))?;
            }
        }
        let name = "Élodie Dupont";
        herald::run_on!(conn, |x| diesel::update(u::table.find(&users[5]))
            .set(u::display_name.eq(name))
            .execute(x))?;
        let clicks = format!(
            "INSERT INTO link_clicks (delivery_id, idx, first_at, last_at, clicks) \
             SELECT id, 0, created_at, created_at, 2 FROM deliveries \
             WHERE message_id = '{id}' AND id % 4 = 0"
        );
        herald::run_on!(conn, |x| diesel::sql_query(&clicks).execute(x))?;
        for i in 0..absent {
            herald::run_on!(conn, |x| diesel::insert_into(ni::table)
                .values((
                    ni::campaign_id.eq(&id),
                    ni::email.eq(format!("absent{i:03}@contoso.com")),
                ))
                .execute(x))?;
        }
        Ok(id)
    })
    .await
    .expect("the campaign stored")
}

/// What each filter means, said over a CSV row (the reference the database must match).
fn passes(f: StatusFilter, row: &RecipientRow) -> bool {
    let delivered = row.status == "delivered";
    match f {
        StatusFilter::All => true,
        StatusFilter::Delivered => delivered,
        StatusFilter::Read => row.read_at.is_some(),
        StatusFilter::Unread => delivered && row.read_at.is_none(),
        StatusFilter::Waiting => row.status == "pending" || row.status == "waiting for presence",
        StatusFilter::Failed => row.status.starts_with("failed"),
        StatusFilter::Expired => row.status == "expired",
        StatusFilter::NotInstalled => row.status == "not installed",
        StatusFilter::Clicked => row.clicks > 0,
        StatusFilter::Acknowledged => row.engagement.acknowledged_at.is_some(),
    }
}

async fn the_database_filters_and_searches_as_the_rows_say(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = Db::open(&herald::store::DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    let id = campaign(&db, 40, 0).await;
    db.run(move |conn| {
        let scope = store_reports::campaign_scope(conn, &id)?.expect("the campaign");
        let report = scope.report();
        let rows = store_reports::recipients(
            conn,
            &scope.sends,
            &scope.all,
            scope.reads_of.as_ref(),
            &[],
        )?;
        assert_eq!(rows.len(), 40);
        let counts = select::send_counts(conn, report)?;
        for f in StatusFilter::offered(ReportKind::Campaign) {
            let expected = rows.iter().filter(|r| passes(f, r)).count() as i64;
            assert_eq!(counts.of(f), expected, "{f:?}");
            assert!(
                expected > 0 || f == StatusFilter::NotInstalled,
                "{f:?} is exercised"
            );
            for typed in [
                "",
                "élodie",
                "ÉLODIE dup",
                "user r1",
                "R3",
                "contoso",
                "nobody",
                "%",
                "_",
            ] {
                let search = Search::new(typed);
                let want: Vec<&RecipientRow> = rows
                    .iter()
                    .filter(|r| passes(f, r) && search.matches(&r.name, &r.email))
                    .collect();
                let n = select::matching_sends(conn, report, f, &search)?;
                assert_eq!(n, want.len() as i64, "{f:?} {typed:?}");
                let want: Vec<RecipientRow> = want.into_iter().cloned().collect();
                // A search's first pass holding every match, and one holding only 3.
                for most in [select::FIRST_HITS, 3] {
                    // Page by page, seven at a time: the same rows in the same order.
                    let mut got = Vec::new();
                    for page in 0.. {
                        let part = if search.words().is_empty() {
                            select::sends_page(conn, report, f, page * 7, 7)?
                        } else {
                            // The first pass reads at most `most` ids: past them, the pages
                            // are cut by the database (a broad search's way).
                            let first = select::first_hits(conn, report, f, &search, most)?;
                            let hits = if Hits::is_full(&first, most) {
                                Hits::many(first, n)
                            } else {
                                Hits::all(first)
                            };
                            assert_eq!(hits.total(), n, "{f:?} {typed:?}");
                            select::hits_page(conn, report, f, &search, &hits, page * 7, 7)?
                        };
                        if part.is_empty() {
                            break;
                        }
                        got.extend(part);
                    }
                    assert_eq!(got, want, "{f:?} {typed:?}");
                }
            }
        }
        // The search is Unicode on both backends (SQLite's own lower() knows only ASCII).
        let one = select::matching_sends(conn, report, StatusFilter::All, &Search::new("ÉLODIE"))?;
        assert_eq!(one, 1);
        Ok(())
    })
    .await
    .unwrap();
}

/// The `<tbody>` rows' header cells (who each row is), in order.
fn row_names(html: &str) -> Vec<String> {
    let body = html
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tbody>")
        .next()
        .unwrap();
    body.split("<tr><th scope=\"row\">")
        .skip(1)
        .map(|r| r.split("</th>").next().unwrap().to_string())
        .collect()
}

async fn a_page_runs_on_from_the_sends_into_the_members_not_installed(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = Db::open(&herald::store::DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    let id = campaign(&db, 150, 60).await;
    let signer = Signer::new(b"a secret of the test's own, 32 bytes long");
    let ask = |status: StatusFilter, q: &str, page: usize| PageRequest {
        kind: ReportKind::Campaign,
        id: id.clone(),
        lang: Lang::En,
        expires: Utc::now().timestamp() + 3600,
        name: "select.html".into(),
        status,
        search: Search::new(q),
        page,
    };
    let page = |request| {
        let (db, signer) = (db.clone(), signer.clone());
        async move {
            report_page(&db, &signer, request)
                .await
                .unwrap()
                .expect("the page")
        }
    };
    let first = page(ask(StatusFilter::All, "", 1)).await;
    assert!(first.contains("Recipients: 210 shown of 210"), "{first}");
    assert!(first.contains("<dt>All</dt><dd>210</dd>"));
    assert!(first.contains("<dt>Not installed</dt><dd>60</dd>"));
    let names = row_names(&first);
    assert_eq!(names.len(), 100);
    assert_eq!(names[0], "User r0");
    // Page 2: the last 50 sends, then the first 50 members not installed.
    let second = row_names(&page(ask(StatusFilter::All, "", 2)).await);
    assert_eq!(second.len(), 100);
    assert_eq!(second[49], "User r149");
    assert_eq!(second[50], "absent000@contoso.com");
    assert_eq!(second[99], "absent049@contoso.com");
    let third = row_names(&page(ask(StatusFilter::All, "", 3)).await);
    assert_eq!(third.len(), 10);
    assert_eq!(third[9], "absent059@contoso.com");
    // Past the last page is the last page.
    assert_eq!(row_names(&page(ask(StatusFilter::All, "", 9)).await), third);
    // A search reaches both kinds of rows.
    let found = row_names(&page(ask(StatusFilter::All, "absent05", 1)).await);
    assert_eq!(found.len(), 10);
    let found = row_names(&page(ask(StatusFilter::NotInstalled, "absent00", 1)).await);
    assert_eq!(found.len(), 10);
    let found = row_names(&page(ask(StatusFilter::Failed, "r14", 1)).await);
    // r140..r149 and r14 itself: failed ones are those at position 4 mod 8 (r140, r148).
    assert_eq!(found, ["User r140", "User r148"]);
}

on_both_backends!(
    the_database_filters_and_searches_as_the_rows_say,
    a_page_runs_on_from_the_sends_into_the_members_not_installed,
);
