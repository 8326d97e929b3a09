//! Presence kept on the user record: every lookup for a gated send lands on the user
//! (availability, activity, when) and on the delivery row (what that attempt saw); `herald users`,
//! `list show` and the report CSV show it; a presence observed within `graph.presence_max_age`
//! decides without asking Graph, an older one is looked up in batches of 650; a presence policy
//! with Graph off is not silently ignored.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

use common::tokens::APP_ID;
use common::*;
use herald::domain::ManualClock;
use herald::store::deliveries::{self, Delivery};
use herald::store::presence::{self, Observed};
use herald::store::users::{ConversationRef, Profile};
use herald::store::{campaigns, lists};

on_both_backends!(
    a_gated_campaign_leaves_presence_on_users_lists_and_the_csv,
    a_recent_presence_decides_without_asking_graph,
    an_old_presence_is_looked_up_in_batches_of_650,
    a_presence_policy_with_graph_off_warns_how_everyone_is_treated,
    what_an_attempt_saw_and_whom_to_look_up_ahead,
);

const ADMIN: &str = "29:boss";
const WAIT: Duration = Duration::from_secs(60);
/// Graph on, polling off (`presence_refresh = "0s"`): these tests count the gated sends' own
/// lookups, which a polling refresh would mix with its own.
const GRAPH_ON: &str = "admins = [\"aad-boss\"]\n[delivery]\nglobal_rps = 1000\nconcurrency = 16\n\
                        retry_base = \"50ms\"\nretry_max = \"200ms\"\n[graph]\nenabled = true\npresence_refresh = \"0s\"\n";

/// Requests to Graph's presence endpoint: the ids each asked for.
#[derive(Clone, Default)]
struct Asked(Arc<Mutex<Vec<Vec<String>>>>);

impl Asked {
    fn calls(&self) -> Vec<usize> {
        self.0.lock().unwrap().iter().map(Vec::len).collect()
    }
}

/// A fake Graph presence endpoint answering `presence(id)` = (availability, activity).
async fn fake_presence(app: &TestApp, presence: fn(&str) -> (&'static str, &'static str)) -> Asked {
    let asked = Asked::default();
    let seen = asked.clone();
    Mock::given(method("POST"))
        .and(path("/v1.0/communications/getPresencesByUserId"))
        .respond_with(move |r: &Request| {
            let body: Value = r.body_json().unwrap();
            let ids: Vec<String> = body["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect();
            let value: Vec<Value> = ids
                .iter()
                .map(|id| {
                    let (availability, activity) = presence(id);
                    json!({"id": id, "availability": availability, "activity": activity})
                })
                .collect();
            seen.0.lock().unwrap().push(ids);
            ResponseTemplate::new(200).set_body_json(json!({ "value": value }))
        })
        .mount(&app.graph)
        .await;
    asked
}

/// `n` installed users `p{i}` (Entra id `aad-p{i}`, email `p{i}@contoso.com`), and a list `all`
/// `staff` of them.
async fn people(app: &TestApp, n: usize) {
    let service_url = app.service_url();
    let now = app.now();
    app.app_db
        .run(move |conn| {
            let mut emails = Vec::with_capacity(n);
            for i in 0..n {
                let r = ConversationRef {
                    tenant_id: TENANT.into(),
                    channel_id: "msteams".into(),
                    channel_user_id: format!("29:p{i}"),
                    aad_object_id: Some(format!("aad-p{i}")),
                    bot_id: format!("28:{APP_ID}"),
                    service_url: service_url.clone(),
                    conversation_id: format!("a:p{i}"),
                    display_name: Some(format!("Person {i}")),
                    locale: None,
                    time_zone: None,
                };
                let profile = Profile {
                    given_name: Some(format!("P{i}")),
                    email: Some(format!("p{i}@contoso.com")),
                    ..Profile::default()
                };
                herald::store::users::record_install(conn, &r, &profile, now)?;
                emails.push(format!("p{i}@contoso.com"));
            }
            lists::create(conn, TENANT, "staff", "admin", &emails, now)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// The app on a manual clock, its admin installed.
async fn app_on_clock(backend: Backend, settings: &str) -> TestApp {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_app_on_clock(backend, settings, clock).await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    app
}

/// Creates campaign `name` to list `staff` gated on `available`, starting in 2 minutes; moves
/// the clock past its window and wakes the engine. Returns the campaign's id.
async fn run_gated_campaign(
    app: &TestApp,
    name: &str,
    seen_ago: Option<(usize, TimeDelta)>,
) -> String {
    let start = app.now() + TimeDelta::minutes(2);
    let reply = app
        .tell(
            ADMIN,
            &format!(
                "campaign create {name}\nlist: staff\nstart: {}\nduration: 1h\nhours: always\n\
                 timezone: UTC\npresence: available\nmessage:\nHello [FIRSTNAME]",
                start.format("%Y-%m-%d %H:%M")
            ),
            "en-US",
        )
        .await;
    assert!(reply.contains("scheduled"), "{reply}");
    assert!(!reply.contains("Graph is off"), "Graph is on: {reply}");
    if let Some((n, age)) = seen_ago {
        // Recorded before the clock moves: the engine may plan and send as soon as it does.
        seen(app, n, app.now() + TimeDelta::hours(2) - age).await;
    }
    app.advance(TimeDelta::hours(2));
    app.engine.wake();
    let name = name.to_string();
    app.app_db
        .run(move |conn| campaigns::find(conn, TENANT, &name))
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn deliveries_of(app: &TestApp, id: &str) -> Vec<Delivery> {
    let id = id.to_string();
    app.app_db
        .run(move |conn| deliveries::of_message(conn, &id))
        .await
        .unwrap()
}

/// Waits until each delivery of `id` was attempted at least once (the first rung for those
/// held back, delivered for the others).
async fn all_attempted(app: &TestApp, id: &str, n: usize) {
    wait_for(WAIT, "every recipient attempted", || async {
        let rows = deliveries_of(app, id).await;
        rows.len() == n
            && rows
                .iter()
                .all(|d| d.last_attempt_at.is_some() && d.leased_by.is_none())
    })
    .await;
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn a_gated_campaign_leaves_presence_on_users_lists_and_the_csv(backend: Backend) {
    let app = app_on_clock(backend, GRAPH_ON).await;
    people(&app, 3).await;
    // A fourth member never looked up: nothing to show for them.
    app.app_db
        .run(|conn| {
            let list = lists::find(conn, TENANT, "staff")?.unwrap();
            lists::add_members(
                conn,
                &list.id,
                &["nobody@contoso.com".to_string()],
                Utc::now(),
            )
        })
        .await
        .unwrap();
    let asked = fake_presence(&app, |id| match id {
        "aad-p0" => ("Available", "Available"),
        "aad-p1" => ("Busy", "InACall"),
        _ => ("Away", "Away"),
    })
    .await;
    let id = run_gated_campaign(&app, "gated", None).await;
    all_attempted(&app, &id, 3).await;
    let seen_at = stamp(app.now());
    assert_eq!(asked.calls(), [3], "one lookup for the three");

    // The delivery rows: what each attempt saw, sent or held back.
    let rows = deliveries_of(&app, &id).await;
    let mut by_presence: Vec<(String, Option<String>, Option<String>)> = rows
        .iter()
        .map(|d| {
            (
                d.status.to_string(),
                d.presence.clone(),
                d.presence_activity.clone(),
            )
        })
        .collect();
    by_presence.sort();
    assert_eq!(
        by_presence,
        [
            (
                "delivered".into(),
                Some("Available".into()),
                Some("Available".into())
            ),
            ("pending".into(), Some("Away".into()), Some("Away".into())),
            (
                "pending".into(),
                Some("Busy".into()),
                Some("InACall".into())
            ),
        ]
    );

    // herald users --json: availability, activity and when, for each recipient.
    let users = app.users_json();
    let user = |email: &str| {
        users
            .iter()
            .find(|u| u["email"] == email)
            .unwrap_or_else(|| panic!("{email} in {users:?}"))
            .clone()
    };
    for (email, availability, activity) in [
        ("p0@contoso.com", "Available", "Available"),
        ("p1@contoso.com", "Busy", "InACall"),
        ("p2@contoso.com", "Away", "Away"),
    ] {
        let u = user(email);
        assert_eq!(u["availability"], availability, "{u}");
        assert_eq!(u["activity"], activity, "{u}");
        assert_eq!(u["presence_observed_at"], seen_at.as_str(), "{u}");
    }
    // The admin was never looked up: nothing observed.
    let boss = users
        .iter()
        .find(|u| u["aad_object_id"] == "aad-boss")
        .unwrap();
    assert!(
        boss["availability"].is_null() && boss["presence_observed_at"].is_null(),
        "{boss}"
    );
    // The table, and the function the command prints with.
    let table = String::from_utf8(app.users_command(&[])).unwrap();
    assert!(table.contains("PRESENCE (OBSERVED)"), "{table}");
    assert!(
        table.contains(&format!("Busy/InACall ({seen_at})")),
        "{table}"
    );
    let listed = app.app_db.run(herald::store::users::list).await.unwrap();
    let json: Vec<Value> =
        serde_json::from_str(&herald::cli::users_json(&listed).unwrap()).unwrap();
    assert_eq!(json, users);

    // list show: a mark per member, in the admin's language; nothing for who was never seen.
    let shown = app.tell(ADMIN, "list show staff", "en-US").await;
    for line in [
        "p0@contoso.com (installed) · ● available",
        "p1@contoso.com (installed) · ◐ busy",
        "p2@contoso.com (installed) · ○ away",
    ] {
        assert!(shown.contains(line), "{line} in {shown}");
    }
    let nobody = shown.lines().find(|l| l.contains("nobody@")).unwrap();
    assert!(!nobody.contains('·'), "{nobody}");
    let montre = app.tell(ADMIN, "liste afficher staff", "fr-FR").await;
    for line in [
        "p0@contoso.com (installé) · ● disponible",
        "p1@contoso.com (installé) · ◐ occupé",
        "p2@contoso.com (installé) · ○ absent",
    ] {
        assert!(montre.contains(line), "{line} in {montre}");
    }

    // p1 is seen Available now (a later observation): the CSV gives the presence at the last
    // attempt (Busy, InACall) and the one now.
    let later = app.now() + TimeDelta::minutes(1);
    app.app_db
        .run(move |conn| {
            presence::record(
                conn,
                TENANT,
                &[Observed {
                    aad_object_id: "aad-p1".into(),
                    availability: "Available".into(),
                    activity: "Available".into(),
                }],
                later,
            )
        })
        .await
        .unwrap();
    let campaign = id.clone();
    let rows = app
        .app_db
        .run(move |conn| {
            let scope = herald::store::reports::campaign_scope(conn, &campaign)?.unwrap();
            herald::store::reports::recipients(
                conn,
                &scope.sends,
                &scope.all,
                scope.reads_of.as_ref(),
                &scope.not_installed,
            )
        })
        .await
        .unwrap();
    let csv = herald::reports::recipients_csv(&rows).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        headers[..13],
        [
            "name",
            "email",
            "status",
            "attempts",
            "last_attempt",
            "next_attempt",
            "sent_at",
            "read_at",
            "first_click",
            "clicks",
            "error",
            "repairs",
            "resends"
        ],
        "the columns before stay as they were"
    );
    // The presence block (the local-time block, `zone` and `planned_local`, comes after it).
    assert_eq!(
        headers[13..18],
        [
            "presence_at_last_attempt",
            "activity_at_last_attempt",
            "presence_now",
            "activity_now",
            "presence_observed_at"
        ]
    );
    let records: HashMap<String, Vec<String>> = reader
        .records()
        .map(|r| {
            let r: Vec<String> = r.unwrap().iter().map(String::from).collect();
            (r[1].clone(), r)
        })
        .collect();
    let p1 = &records["p1@contoso.com"];
    assert_eq!(p1[2], "waiting for presence");
    assert_eq!(
        p1[13..18],
        [
            "Busy".to_string(),
            "InACall".into(),
            "Available".into(),
            "Available".into(),
            stamp(later)
        ]
    );
    let p0 = &records["p0@contoso.com"];
    assert_eq!(p0[2], "delivered");
    assert_eq!(
        p0[13..18],
        [
            "Available".to_string(),
            "Available".into(),
            "Available".into(),
            "Available".into(),
            seen_at.clone()
        ]
    );
    let p2 = &records["p2@contoso.com"];
    assert_eq!(p2[13..17], ["Away", "Away", "Away", "Away"]);
}

/// Each of the 1,000 recipients is available (Graph says so, or the record does).
fn available(_: &str) -> (&'static str, &'static str) {
    ("Available", "Available")
}

/// Records every `p{i}` of `n` as seen (Available) at `at`.
async fn seen(app: &TestApp, n: usize, at: DateTime<Utc>) {
    app.app_db
        .run(move |conn| {
            let observed: Vec<Observed> = (0..n)
                .map(|i| Observed {
                    aad_object_id: format!("aad-p{i}"),
                    availability: "Available".into(),
                    activity: "Available".into(),
                })
                .collect();
            presence::record(conn, TENANT, &observed, at)
        })
        .await
        .unwrap();
}

async fn a_recent_presence_decides_without_asking_graph(backend: Backend) {
    let app = app_on_clock(backend, GRAPH_ON).await;
    people(&app, 1000).await;
    let asked = fake_presence(&app, available).await;
    let id = run_gated_campaign(&app, "fresh", Some((1000, TimeDelta::seconds(10)))).await;
    wait_delivered(&app.app_db, &id, Some(1000), WAIT).await;
    assert_eq!(asked.calls(), Vec::<usize>::new(), "no Graph presence call");
    let rows = deliveries_of(&app, &id).await;
    assert!(
        rows.iter()
            .all(|d| d.presence.as_deref() == Some("Available")
                && d.presence_activity.as_deref() == Some("Available")),
        "each attempt's presence is kept"
    );
}

async fn an_old_presence_is_looked_up_in_batches_of_650(backend: Backend) {
    let app = app_on_clock(backend, GRAPH_ON).await;
    people(&app, 1000).await;
    let asked = fake_presence(&app, available).await;
    let id = run_gated_campaign(&app, "stale", Some((1000, TimeDelta::minutes(10)))).await;
    wait_delivered(&app.app_db, &id, Some(1000), WAIT).await;
    assert_eq!(asked.calls(), [650, 350], "1,000 looked up in two calls");
    let mut ids: Vec<String> = asked.0.lock().unwrap().concat();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1000, "each looked up once");
    // Recorded on the users, as seen now (PostgreSQL keeps microseconds).
    let now = app.now().naive_utc();
    let at_now = |t: Option<chrono::NaiveDateTime>| {
        t.is_some_and(|t| (t - now).abs() < TimeDelta::milliseconds(1))
    };
    let users = app.app_db.run(herald::store::users::list).await.unwrap();
    let recipients: Vec<_> = users
        .iter()
        .filter(|u| u.channel_user_id.starts_with("29:p"))
        .collect();
    assert_eq!(recipients.len(), 1000);
    assert!(
        recipients.iter().all(|u| at_now(u.presence_observed_at)
            && u.presence_activity.as_deref() == Some("Available"))
    );
}

async fn a_presence_policy_with_graph_off_warns_how_everyone_is_treated(backend: Backend) {
    let create = |name: &str, presence: &str| {
        format!(
            "campaign create {name}\nlist: staff\nstart: 2030-12-02 10:00\nduration: 2h\n\
             presence: {presence}\nmessage:\nHello [FIRSTNAME]"
        )
    };
    let cree = |name: &str| {
        format!(
            "campagne créer {name}\nliste: staff\ndébut: 2030-12-02 10:00\ndurée: 2h\n\
             présence: disponible\nmessage:\nBonjour [PRENOM]"
        )
    };
    // Graph off, unknown presence sent (the default).
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]").await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    people(&app, 1).await;
    let reply = app
        .tell(ADMIN, &create("gated", "available"), "en-US")
        .await;
    assert!(reply.contains("scheduled"), "{reply}");
    assert!(
        reply.contains("Microsoft Graph is off")
            && reply.contains("everyone will be sent the message anyway"),
        "{reply}"
    );
    let edited = app
        .tell(ADMIN, "campaign edit gated\nduration: 1h", "en-US")
        .await;
    assert!(
        edited.contains("updated") && edited.contains("sent the message anyway"),
        "{edited}"
    );
    let any = app.tell(ADMIN, &create("open", "any"), "en-US").await;
    assert!(
        any.contains("scheduled") && !any.contains("Graph is off"),
        "{any}"
    );
    let fr = app.tell(ADMIN, &cree("filtre"), "fr-FR").await;
    assert!(
        fr.contains("Microsoft Graph est désactivé")
            && fr.contains("tout le monde recevra le message"),
        "{fr}"
    );

    // Graph off, unknown presence waits: everyone is treated as absent.
    let app = spawn_app_with(
        backend,
        "admins = [\"aad-boss\"]\n[campaigns]\nunknown_presence = \"wait\"\n",
    )
    .await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    people(&app, 1).await;
    let reply = app
        .tell(ADMIN, &create("gated", "available"), "en-US")
        .await;
    assert!(
        reply.contains("Microsoft Graph is off")
            && reply.contains("everyone will be treated as absent"),
        "{reply}"
    );
    let fr = app.tell(ADMIN, &cree("filtre"), "fr-FR").await;
    assert!(
        fr.contains("tout le monde sera considéré comme absent"),
        "{fr}"
    );

    // Graph on: no warning.
    let app = spawn_app_with(
        backend,
        "admins = [\"aad-boss\"]\n[graph]\nenabled = true\npresence_refresh = \"0s\"\n",
    )
    .await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    people(&app, 1).await;
    let reply = app
        .tell(ADMIN, &create("gated", "available"), "en-US")
        .await;
    assert!(
        reply.contains("scheduled") && !reply.contains("Graph is off"),
        "{reply}"
    );
}

/// The store side: the presence an attempt saw lands only on rows its owner leases; the
/// recipients looked up ahead are the unleased, due-soon, stale ones of the messages given.
async fn what_an_attempt_saw_and_whom_to_look_up_ahead(backend: Backend) {
    use herald::store::deliveries::presence::{Seen, note, stale_ahead};
    let test_db = TestDb::new(backend);
    let db = herald::store::Db::open(&herald::store::DatabaseUrl::parse(&test_db.url).unwrap(), 2)
        .unwrap();
    let now: DateTime<Utc> = "2026-12-01T09:00:00Z".parse().unwrap();
    let ids = db
        .run(move |conn| {
            let mut ids = Vec::new();
            for i in 0..6 {
                let r = ConversationRef {
                    tenant_id: TENANT.into(),
                    channel_id: "msteams".into(),
                    channel_user_id: format!("29:s{i}"),
                    // s5 has no Entra id: Graph cannot be asked about them.
                    aad_object_id: (i != 5).then(|| format!("aad-s{i}")),
                    bot_id: "28:bot".into(),
                    service_url: "https://smba.example/".into(),
                    conversation_id: format!("a:s{i}"),
                    ..ConversationRef::default()
                };
                let (u, _) =
                    herald::store::users::record_install(conn, &r, &Profile::default(), now)?;
                ids.push(u.id);
            }
            Ok(ids)
        })
        .await
        .unwrap();
    let (users, other) = (ids.clone(), ids.clone());
    db.run(move |conn| {
        let payload = json!({"type": "message"});
        deliveries::create_message(conn, "m1", TENANT, "campaign", &payload, now)?;
        deliveries::create_message(conn, "m2", TENANT, "campaign", &payload, now)?;
        let at = |user: &String, minutes: i64| deliveries::NewDelivery {
            user_id: user.clone(),
            operation: deliveries::Operation::Send,
            target_activity_id: None,
            due: now + TimeDelta::minutes(minutes),
            planned: None,
        };
        // m1: s0, s1 and s2 due now, s3 in 5 minutes, s4 due now but seen 10 s ago, s5 due
        // now without an Entra id; m2: s0..s5 due now.
        let m1 = vec![
            at(&users[0], 0),
            at(&users[1], 0),
            at(&users[2], 0),
            at(&users[3], 5),
            at(&users[4], 0),
            at(&users[5], 0),
        ];
        deliveries::enqueue(conn, "m1", TENANT, &m1, now)?;
        let m2: Vec<_> = other.iter().map(|u| at(u, 0)).collect();
        deliveries::enqueue(conn, "m2", TENANT, &m2, now)?;
        presence::record(
            conn,
            TENANT,
            &[Observed {
                aad_object_id: "AAD-S4".into(),
                availability: "Busy".into(),
                activity: "InAMeeting".into(),
            }],
            now - TimeDelta::seconds(10),
        )
    })
    .await
    .unwrap();
    // "me" leases 1 row of m1 (s0, first due).
    let leased = db
        .run(move |conn| {
            deliveries::lease(
                conn,
                "me",
                &[TENANT.to_string()],
                &[],
                now,
                now + TimeDelta::minutes(1),
                1,
            )
        })
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    let mine = leased[0].delivery.id;
    let ahead = db
        .run(move |conn| {
            stale_ahead(
                conn,
                TENANT,
                &["m1".to_string()],
                now + TimeDelta::seconds(60),
                now - TimeDelta::seconds(60),
                10,
            )
        })
        .await
        .unwrap();
    let mut expected: Vec<String> = ["aad-s0", "aad-s1", "aad-s2"].map(String::from).to_vec();
    let leased_aad = leased[0].user.aad_object_id.clone().unwrap();
    expected.retain(|a| *a != leased_aad);
    let mut got = ahead.clone();
    got.sort();
    assert_eq!(
        got, expected,
        "unleased, due within a minute, stale, with an Entra id"
    );
    let capped = db
        .run(move |conn| {
            stale_ahead(
                conn,
                TENANT,
                &["m1".to_string(), "m2".to_string()],
                now,
                now,
                3,
            )
        })
        .await
        .unwrap();
    assert_eq!(capped.len(), 3, "at most the room left: {capped:?}");

    // What the attempt saw lands on "me"'s row only.
    let all: Vec<i64> = db
        .run(|conn| {
            Ok(deliveries::of_message(conn, "m1")?
                .into_iter()
                .map(|d| d.id)
                .collect::<Vec<_>>())
        })
        .await
        .unwrap();
    let seen: Vec<Seen> = all
        .iter()
        .map(|&id| Seen {
            id,
            availability: Some("Away".into()),
            activity: Some("Away".into()),
        })
        .collect();
    let changed = db.run(move |conn| note(conn, "me", &seen)).await.unwrap();
    assert_eq!(changed, 1);
    let rows = db
        .run(|conn| deliveries::of_message(conn, "m1"))
        .await
        .unwrap();
    for d in rows {
        let expected = (d.id == mine).then(|| "Away".to_string());
        assert_eq!(
            (d.presence.clone(), d.presence_activity.clone()),
            (expected.clone(), expected)
        );
    }
}
