//! Planning benchmark: a campaign to a 100,000-member list is started the way the engine starts
//! it (audience resolved from the list, a seeded moment for each recipient over the window's
//! business hours, every delivery stored), on SQLite by default.
//!
//!     cargo run --release --example plan_campaign -- [--recipients 100000] [--database-url URL]
//!
//! The last line is `plan recipients=N planned=P seconds=S`.

use std::time::Instant;

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use herald::store::schema::users as u;
use herald::store::{DatabaseUrl, Db, campaigns, lists};

const TENANT: &str = "bench-tenant";

fn main() {
    let mut recipients = 100_000usize;
    let mut database_url = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--recipients" => {
                recipients = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--recipients N")
            }
            "--database-url" => database_url = args.next(),
            other => panic!("unknown flag {other}; see the header of examples/plan_campaign.rs"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let url = database_url
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("plan.db").display()));
    assert!(
        !url.starts_with("postgres"),
        "run it on a database of its own: SQLite only here"
    );
    let db = Db::open(&DatabaseUrl::parse(&url).unwrap(), 4).expect("database opens");
    let mut conn = db.get().unwrap();
    let mut conn = conn.as_conn();

    // Setup (not timed): installed users with emails, a list of them all, a campaign.
    let now = Utc::now();
    let n = now.naive_utc();
    let emails: Vec<String> = (0..recipients)
        .map(|i| format!("person{i}@contoso.com"))
        .collect();
    conn.write_transaction(|conn| {
        for (chunk_no, chunk) in emails.chunks(1000).enumerate() {
            let rows: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(k, email)| {
                    let i = chunk_no * 1000 + k;
                    (
                        u::id.eq(uuid::Uuid::now_v7().to_string()),
                        u::tenant_id.eq(TENANT),
                        u::channel_id.eq("msteams"),
                        u::channel_user_id.eq(format!("29:p{i}")),
                        u::bot_id.eq("28:bot"),
                        u::service_url.eq("https://smba.trafficmanager.net/emea/"),
                        u::conversation_id.eq(format!("a:p{i}")),
                        u::email.eq(email.as_str()),
                        u::installed.eq(true),
                        u::installed_changed_at.eq(n),
                        u::created_at.eq(n),
                        u::updated_at.eq(n),
                    )
                })
                .collect();
            herald::run_on!(conn, |c| diesel::insert_into(u::table)
                .values(&rows)
                .execute(c))?;
        }
        Ok::<_, herald::store::StoreError>(())
    })
    .unwrap();
    let list = lists::create(&mut conn, TENANT, "everyone", "admin", &emails, now)
        .unwrap()
        .unwrap();
    let settings = campaigns::Settings {
        list_id: list.id,
        channel: "msteams".into(),
        start_at: now + TimeDelta::minutes(1),
        time_zone: "Europe/Paris".into(),
        duration_minutes: 3 * 24 * 60,
        hours: "Mon-Fri 09:00-12:00, Mon-Fri 14:00-18:00".into(),
        presence: "any".into(),
        message: "Bonjour [FIRSTNAME] [LASTNAME]".into(),
    };
    let campaign = campaigns::create(&mut conn, TENANT, "everyone", "admin", &settings, 7, now)
        .unwrap()
        .campaign()
        .unwrap();

    // Timed: what the planner does when the start comes.
    let started = Instant::now();
    let planned =
        herald::engine::planner::plan(&mut conn, &campaign.id, now + TimeDelta::minutes(1), false)
            .unwrap()
            .expect("the campaign starts");
    let seconds = started.elapsed().as_secs_f64();

    let stored: i64 = herald::run_on!(&mut conn, |c| herald::store::schema::deliveries::table
        .filter(herald::store::schema::deliveries::message_id.eq(&campaign.id))
        .count()
        .get_result(c))
    .unwrap();
    assert_eq!(
        stored as usize, recipients,
        "every recipient has a delivery"
    );
    assert_eq!(planned, recipients);
    println!("plan recipients={recipients} planned={planned} seconds={seconds:.3}");
}
