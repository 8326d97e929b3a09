//! Each person's own time (`time: local`): start, window and business hours in each recipient's
//! zone (the one their Teams client reports, else their mailbox's through Graph, else the
//! campaign's, counted), daylight-saving exact, on a manual clock and a fake connector.

mod common;

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use common::*;
use herald::store::{campaigns, users};

on_both_backends!(
    each_person_gets_ten_to_noon_of_their_own_clock_and_the_unknown_are_counted,
    the_window_follows_a_daylight_saving_change_in_one_zone,
    a_windows_zone_from_the_mailbox_settings_is_used_when_the_client_gave_none,
    a_turn_with_a_new_zone_updates_the_user,
    the_absence_ladder_climbs_in_the_recipients_zone,
    slow_mailbox_lookups_stop_at_their_budget_and_the_rest_fall_back,
    a_throttled_mailbox_lookup_pauses_the_tenant,
    a_zone_another_instance_wrote_is_picked_up_when_the_note_expires,
);

const ADMIN: &str = "29:boss";
const SETTINGS: &str =
    "admins = [\"aad-boss\"]\n[delivery]\nretry_base = \"50ms\"\nretry_max = \"200ms\"\n";
const WAIT: Duration = Duration::from_secs(30);

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// An app on a manual clock set at `at`, with its admin installed.
async fn app_at(backend: Backend, at: &str, extra: &str) -> TestApp {
    let clock = herald::domain::ManualClock::new(utc(at));
    let app = spawn_app_on_clock(backend, &format!("{SETTINGS}{extra}"), clock).await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    app
}

/// Installs `user` whose client reports `zone` (its clientInfo entity; none: no entity at all).
async fn install_in(app: &TestApp, user: &str, zone: Option<&str>) {
    let mut a = app.install(&format!("f:{user}"), &format!("29:{user}"));
    a["entities"] = match zone {
        Some(z) => json!([{"type": "clientInfo", "locale": "en-US", "timezone": z}]),
        None => json!([]),
    };
    assert_eq!(app.post_signed(&a).await.status(), 200);
}

async fn campaign(app: &TestApp, name: &str) -> campaigns::Campaign {
    let name = name.to_string();
    app.app_db
        .run(move |conn| campaigns::find(conn, TENANT, &name))
        .await
        .unwrap()
        .unwrap()
}

/// Each delivery of the campaign: (channel user id, status, planned moment, planned zone).
async fn plan_of(app: &TestApp, id: &str) -> Vec<(String, String, NaiveDateTime, String)> {
    let id = id.to_string();
    app.app_db
        .run(move |conn| {
            use diesel::prelude::*;
            use herald::store::schema::{deliveries as d, users as u};
            Ok(herald::run_on!(conn, |x| d::table
                .inner_join(u::table.on(u::id.eq(d::user_id)))
                .filter(d::message_id.eq(&id))
                .order(u::channel_user_id)
                .select((
                    u::channel_user_id,
                    d::status,
                    d::planned_at.assume_not_null(),
                    d::planned_zone.assume_not_null()
                ))
                .load::<(String, String, NaiveDateTime, String)>(x))?)
        })
        .await
        .unwrap()
}

async fn planned(
    app: &TestApp,
    id: &str,
    n: usize,
) -> Vec<(String, String, NaiveDateTime, String)> {
    wait_for(WAIT, "the campaign planned", || async move {
        plan_of(app, id).await.len() == n
    })
    .await;
    plan_of(app, id).await
}

/// Moves the clock to `at` and lets the engine send what is due.
async fn move_to(app: &TestApp, at: DateTime<Utc>) {
    let by = at - app.now();
    if by > TimeDelta::zero() {
        app.advance(by);
    }
    app.engine.wake();
    let (db, now) = (app.app_db.clone(), app.now());
    wait_for(WAIT, "what is due sent", || {
        let db = db.clone();
        async move {
            db.run(move |conn| herald::store::deliveries::queue_depth(conn, now))
                .await
                .is_ok_and(|(due, leased)| due == 0 && leased == 0)
        }
    })
    .await;
}

fn statuses(plan: &[(String, String, NaiveDateTime, String)]) -> Vec<(&str, &str)> {
    plan.iter()
        .map(|(u, s, _, _)| (u.as_str(), s.as_str()))
        .collect()
}

async fn create(app: &TestApp, lines: &str, lang: &str) -> String {
    app.tell(ADMIN, lines, lang).await
}

async fn each_person_gets_ten_to_noon_of_their_own_clock_and_the_unknown_are_counted(
    backend: Backend,
) {
    // Monday 2026-11-30; the campaign is on Tuesday at 10:00, Paris time.
    let app = app_at(backend, "2026-11-30T00:00:00Z", "").await;
    install_in(&app, "a-tokyo", Some("Asia/Tokyo")).await;
    install_in(&app, "b-paris", Some("Europe/Paris")).await;
    install_in(&app, "c-montreal", Some("America/Montreal")).await;
    install_in(&app, "d-nowhere", None).await;
    app.tell(
        ADMIN,
        "list create world ada.a-tokyo@contoso.com ada.b-paris@contoso.com \
         ada.c-montreal@contoso.com ada.d-nowhere@contoso.com",
        "en-US",
    )
    .await;
    let reply = create(
        &app,
        "campaign create sun\nlist: world\nstart: 2026-12-01 10:00\nduration: 2h\n\
         hours: Mon-Fri 09:00-18:00\ntimezone: Europe/Paris\ntime: local\nmessage:\nHello [FIRSTNAME]",
        "en-US",
    )
    .await;
    assert!(reply.starts_with("Campaign **sun** scheduled."), "{reply}");
    let info = app.tell(ADMIN, "campaign info sun", "en-US").await;
    assert!(
        info.contains("Time: local (each person's own time zone)"),
        "{info}"
    );
    let c = campaign(&app, "sun").await;
    assert!(c.local_time);

    // Not planned yet before 10:00 has come anywhere (Kiritimati, UTC+14, first).
    move_to(&app, utc("2026-11-30T19:59:00Z")).await;
    assert!(plan_of(&app, &c.id).await.is_empty());
    move_to(&app, utc("2026-11-30T20:00:00Z")).await;
    let plan = planned(&app, &c.id, 4).await;
    let zones: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
    assert_eq!(
        zones,
        [
            "Asia/Tokyo",
            "Europe/Paris",
            "America/Montreal",
            "Europe/Paris"
        ]
    );
    for (user, _, at, zone) in &plan {
        let local = at.and_utc().with_timezone(&zone.parse::<Tz>().unwrap());
        assert!((10..12).contains(&local.hour()), "{user}: {local}");
        assert_eq!(local.date_naive().to_string(), "2026-12-01", "{user}");
    }
    let c = campaign(&app, "sun").await;
    assert_eq!(c.zone_fallbacks, 1);

    // Tokyo's 10:00-12:00 is 01:00-03:00 UTC; Paris's 09:00-11:00; Montreal's 15:00-17:00.
    move_to(&app, utc("2026-12-01T00:59:00Z")).await;
    assert!(
        statuses(&plan_of(&app, &c.id).await)
            .iter()
            .all(|s| s.1 == "pending")
    );
    move_to(&app, utc("2026-12-01T03:00:00Z")).await;
    assert_eq!(
        statuses(&plan_of(&app, &c.id).await),
        [
            ("29:a-tokyo", "delivered"),
            ("29:b-paris", "pending"),
            ("29:c-montreal", "pending"),
            ("29:d-nowhere", "pending")
        ]
    );
    move_to(&app, utc("2026-12-01T08:59:00Z")).await;
    assert_eq!(statuses(&plan_of(&app, &c.id).await)[1].1, "pending");
    move_to(&app, utc("2026-12-01T11:00:00Z")).await;
    assert_eq!(
        statuses(&plan_of(&app, &c.id).await),
        [
            ("29:a-tokyo", "delivered"),
            ("29:b-paris", "delivered"),
            ("29:c-montreal", "pending"),
            ("29:d-nowhere", "delivered")
        ]
    );
    move_to(&app, utc("2026-12-01T14:59:00Z")).await;
    assert_eq!(statuses(&plan_of(&app, &c.id).await)[2].1, "pending");
    move_to(&app, utc("2026-12-01T17:00:00Z")).await;
    assert!(
        statuses(&plan_of(&app, &c.id).await)
            .iter()
            .all(|s| s.1 == "delivered")
    );

    // The fallback is said in `campaign info` and the report, in English and French.
    let info = app.tell(ADMIN, "campaign info sun", "en-US").await;
    assert!(
        info.contains(
            "1 person's time zone was not known: the campaign's (Europe/Paris) was used."
        ),
        "{info}"
    );
    let info = app.tell(ADMIN, "campagne info sun", "fr-FR").await;
    assert!(
        info.contains("Le fuseau horaire de 1 personne n'était pas connu"),
        "{info}"
    );
    let report = app.tell(ADMIN, "campaign report sun", "en-US").await;
    assert!(
        report.contains(r#"{"title":"Campaign's zone used (zone unknown)","value":"1"}"#),
        "{report}"
    );
    // The CSV: each recipient's zone and planned local time, in their own block at the end.
    let id = c.id.clone();
    let rows = app
        .app_db
        .run(move |conn| {
            let ids = [id];
            herald::store::reports::recipients(conn, &ids, &ids, None, &[])
        })
        .await
        .unwrap();
    let csv = String::from_utf8(herald::reports::recipients_csv(&rows).unwrap()).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",zone,planned_local"));
    for (line, (_, _, at, zone)) in lines.zip(&plan) {
        let local = at.and_utc().with_timezone(&zone.parse::<Tz>().unwrap());
        assert!(
            line.ends_with(&format!(",{zone},{}", local.format("%Y-%m-%d %H:%M"))),
            "{line}"
        );
    }
    app.shut_down().await;
}

async fn the_window_follows_a_daylight_saving_change_in_one_zone(backend: Backend) {
    // Monday 2026-10-26: Paris left summer time on Sunday (UTC+1 now), Montreal is still on it
    // (UTC-4) until 2026-11-01. The campaign is on Montreal's time.
    let app = app_at(backend, "2026-10-25T12:00:00Z", "").await;
    install_in(&app, "a-paris", Some("Europe/Paris")).await;
    install_in(&app, "b-montreal", Some("America/Montreal")).await;
    install_in(&app, "c-tokyo", Some("Asia/Tokyo")).await;
    app.tell(
        ADMIN,
        "list create dst ada.a-paris@contoso.com ada.b-montreal@contoso.com ada.c-tokyo@contoso.com",
        "en-US",
    )
    .await;
    let reply = create(
        &app,
        "campagne créer dst\nliste: dst\ndébut: 2026-10-26 10:00\ndurée: 2h\n\
         horaires: Lun-Ven 09:00-18:00\nfuseau: America/Montreal\nheure: locale\nmessage:\nBonjour",
        "fr-FR",
    )
    .await;
    assert!(reply.contains("dst"), "{reply}");
    let c = campaign(&app, "dst").await;
    assert!(c.local_time, "{reply}");
    move_to(&app, utc("2026-10-26T00:00:00Z")).await;
    let plan = planned(&app, &c.id, 3).await;
    let (paris, montreal, tokyo) = (&plan[0].2, &plan[1].2, &plan[2].2);
    // Paris on winter time: 10:00-12:00 is 09:00-11:00 UTC (not 08:00-10:00).
    assert!(
        (utc("2026-10-26T09:00:00Z")..utc("2026-10-26T11:00:00Z")).contains(&paris.and_utc()),
        "{paris}"
    );
    // Montreal on summer time: 14:00-16:00 UTC; Tokyo (no daylight saving): 01:00-03:00 UTC.
    assert!(
        (utc("2026-10-26T14:00:00Z")..utc("2026-10-26T16:00:00Z")).contains(&montreal.and_utc()),
        "{montreal}"
    );
    assert!(
        (utc("2026-10-26T01:00:00Z")..utc("2026-10-26T03:00:00Z")).contains(&tokyo.and_utc()),
        "{tokyo}"
    );
    assert_eq!(campaign(&app, "dst").await.zone_fallbacks, 0);
    move_to(&app, utc("2026-10-26T16:00:00Z")).await;
    assert!(
        statuses(&plan_of(&app, &c.id).await)
            .iter()
            .all(|s| s.1 == "delivered")
    );
    app.shut_down().await;
}

async fn a_windows_zone_from_the_mailbox_settings_is_used_when_the_client_gave_none(
    backend: Backend,
) {
    let app = app_at(
        backend,
        "2026-11-30T00:00:00Z",
        "\n[graph]\nenabled = true\npresence_refresh = \"0s\"\n",
    )
    .await;
    install_in(&app, "a-mailbox", None).await;
    install_in(&app, "b-nomailbox", None).await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users/aad-a-mailbox/mailboxSettings"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "timeZone": "Tokyo Standard Time", "language": {"locale": "ja-JP"}
        })))
        .mount(&app.graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users/aad-b-nomailbox/mailboxSettings"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"code": "MailboxNotEnabledForRESTAPI"}
        })))
        .mount(&app.graph)
        .await;
    app.tell(
        ADMIN,
        "list create mbx ada.a-mailbox@contoso.com ada.b-nomailbox@contoso.com",
        "en-US",
    )
    .await;
    for name in ["one", "two"] {
        let reply = create(
            &app,
            &format!(
                "campaign create {name}\nlist: mbx\nstart: 2026-12-01 10:00\nduration: 2h\n\
                 timezone: Europe/Paris\ntime: local\nmessage:\nHello"
            ),
            "en-US",
        )
        .await;
        assert!(reply.contains("scheduled"), "{reply}");
    }
    // Before it starts, `campaign info` says when it is planned (10:00 at UTC+14).
    let info = app.tell(ADMIN, "campaign info one", "en-US").await;
    assert!(
        info.contains("Planned from 2026-11-30 21:00 (Europe/Paris)"),
        "{info}"
    );
    let info = app.tell(ADMIN, "campagne info one", "fr-FR").await;
    assert!(
        info.contains("Planifiée dès le 2026-11-30 21:00 (Europe/Paris)"),
        "{info}"
    );
    move_to(&app, utc("2026-11-30T20:00:00Z")).await;
    let one = campaign(&app, "one").await;
    let two = campaign(&app, "two").await;
    let plan = planned(&app, &one.id, 2).await;
    let plan_two = planned(&app, &two.id, 2).await;
    wait_for(WAIT, "the campaign started", || async {
        campaign(&app, "one").await.started_at.is_some()
    })
    .await;
    let info = app.tell(ADMIN, "campaign info one", "en-US").await;
    assert!(!info.contains("Planned from"), "{info}");
    assert_eq!(plan[0].3, "Asia/Tokyo");
    let local = plan[0].2.and_utc().with_timezone(&chrono_tz::Asia::Tokyo);
    assert!((10..12).contains(&local.hour()), "{local}");
    assert_eq!(plan[1].3, "Europe/Paris");
    assert_eq!(campaign(&app, "one").await.zone_fallbacks, 1);
    // Kept on the user, as an IANA name, and not asked again within the day (two campaigns,
    // one call per person).
    let list = app.app_db.run(users::list).await.unwrap();
    let a = list
        .iter()
        .find(|u| u.channel_user_id == "29:a-mailbox")
        .unwrap();
    assert_eq!(a.mailbox_time_zone.as_deref(), Some("Asia/Tokyo"));
    assert!(a.mailbox_time_zone_at.is_some());
    let asked: Vec<String> = app
        .graph
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/mailboxSettings"))
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(asked.len(), 2, "{asked:?}");
    // A report over both campaigns: each row shows its own delivery's zone and moment (each
    // person has one delivery per campaign, drawn apart).
    let ids = [one.id.clone(), two.id.clone()];
    let rows = app
        .app_db
        .run(move |conn| herald::store::reports::recipients(conn, &ids, &ids, None, &[]))
        .await
        .unwrap();
    let csv = String::from_utf8(herald::reports::recipients_csv(&rows).unwrap()).unwrap();
    let mut shown: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.rsplitn(3, ',').take(2).collect::<Vec<_>>().join(","))
        .collect();
    let mut wanted: Vec<String> = plan
        .iter()
        .chain(&plan_two)
        .map(|(_, _, at, zone)| {
            let local = at.and_utc().with_timezone(&zone.parse::<Tz>().unwrap());
            format!("{},{zone}", local.format("%Y-%m-%d %H:%M"))
        })
        .collect();
    shown.sort();
    wanted.sort();
    assert_eq!(shown, wanted);
    app.shut_down().await;
}

async fn a_turn_with_a_new_zone_updates_the_user(backend: Backend) {
    let app = app_at(backend, "2026-11-30T00:00:00Z", "").await;
    install_in(&app, "traveller", Some("Europe/Paris")).await;
    let zone = |app: &TestApp| {
        let db = app.app_db.clone();
        async move {
            db.run(users::list)
                .await
                .unwrap()
                .into_iter()
                .find(|u| u.channel_user_id == "29:traveller")
                .and_then(|u| u.time_zone)
        }
    };
    assert_eq!(zone(&app).await.as_deref(), Some("Europe/Paris"));
    let say = |text: &str, tz: &str| {
        let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), "29:traveller", text);
        a["localTimezone"] = json!(tz);
        a
    };
    let a: Value = say("hello", "Asia/Tokyo");
    assert_eq!(app.post_signed(&a).await.status(), 200);
    assert_eq!(zone(&app).await.as_deref(), Some("Asia/Tokyo"));
    // The same zone again changes nothing; a zone herald cannot read is not kept.
    let a = say("hello again", "Asia/Tokyo");
    assert_eq!(app.post_signed(&a).await.status(), 200);
    let a = say("and again", "Mars/Olympus");
    assert_eq!(app.post_signed(&a).await.status(), 200);
    assert_eq!(zone(&app).await.as_deref(), Some("Asia/Tokyo"));
    let a = say("back home", "Europe/Paris");
    assert_eq!(app.post_signed(&a).await.status(), 200);
    assert_eq!(zone(&app).await.as_deref(), Some("Europe/Paris"));
    app.shut_down().await;
}

async fn the_absence_ladder_climbs_in_the_recipients_zone(backend: Backend) {
    let app = app_at(
        backend,
        "2026-11-30T00:00:00Z",
        "\n[graph]\nenabled = true\npresence_refresh = \"0s\"\n",
    )
    .await;
    install_in(&app, "a-tokyo", Some("Asia/Tokyo")).await;
    Mock::given(method("POST"))
        .and(path("/v1.0/communications/getPresencesByUserId"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            {"id": "aad-a-tokyo", "availability": "Away", "activity": "Away"}
        ]})))
        .mount(&app.graph)
        .await;
    app.tell(ADMIN, "list create far ada.a-tokyo@contoso.com", "en-US")
        .await;
    let reply = create(
        &app,
        "campaign create far\nlist: far\nstart: 2026-12-01 10:00\nduration: 2h\n\
         hours: Mon-Fri 09:00-18:00\ntimezone: Europe/Paris\npresence: available\n\
         time: local\nmessage:\nHello",
        "en-US",
    )
    .await;
    assert!(reply.contains("scheduled"), "{reply}");
    move_to(&app, utc("2026-11-30T20:00:00Z")).await;
    let c = campaign(&app, "far").await;
    let planned_at = planned(&app, &c.id, 1).await[0].2.and_utc();
    let row = |app: &TestApp| {
        let (db, id) = (app.app_db.clone(), c.id.clone());
        async move {
            let d = db
                .run(move |conn| herald::store::deliveries::of_message(conn, &id))
                .await
                .unwrap()
                .remove(0);
            (d.status, d.ladder_step, d.next_attempt_at.and_utc())
        }
    };
    // Absent at T (10:xx in Tokyo): T + 10 minutes, then the next full hour of Tokyo's clock.
    move_to(&app, planned_at).await;
    let (status, step, next) = row(&app).await;
    assert_eq!((status.as_str(), step), ("pending", 1));
    assert_eq!(next, planned_at + TimeDelta::minutes(10));
    move_to(&app, next).await;
    let (_, step, next) = row(&app).await;
    assert_eq!(step, 2);
    let local = next.with_timezone(&chrono_tz::Asia::Tokyo);
    // The first full hour after T + 10 minutes, on Tokyo's clock.
    let after = (planned_at + TimeDelta::minutes(10)).with_timezone(&chrono_tz::Asia::Tokyo);
    assert_eq!((local.hour(), local.minute()), (after.hour() + 1, 0));
    // Then the next business day's opening in Tokyo: Wednesday 09:00 JST (00:00 UTC), not
    // Paris's (08:00 UTC).
    move_to(&app, next).await;
    let (_, step, next) = row(&app).await;
    assert_eq!(step, 3);
    assert_eq!(next, utc("2026-12-02T00:00:00Z"));
    app.shut_down().await;
}

/// Installs `n` users with no client zone (`{prefix}00`...) and a list `list` of them.
async fn zoneless(app: &TestApp, prefix: &str, n: usize, list: &str) -> Vec<String> {
    let users: Vec<String> = (0..n).map(|i| format!("{prefix}{i:02}")).collect();
    for u in &users {
        install_in(app, u, None).await;
    }
    let emails: Vec<String> = users
        .iter()
        .map(|u| format!("ada.{u}@contoso.com"))
        .collect();
    app.tell(
        ADMIN,
        &format!("list create {list} {}", emails.join(" ")),
        "en-US",
    )
    .await;
    users
}

async fn local_campaign(app: &TestApp, name: &str, list: &str) {
    let reply = create(
        app,
        &format!(
            "campaign create {name}\nlist: {list}\nstart: 2026-12-01 10:00\nduration: 2h\n\
             timezone: Europe/Paris\ntime: local\nmessage:\nHello"
        ),
        "en-US",
    )
    .await;
    assert!(reply.contains("scheduled"), "{reply}");
}

async fn mailbox_asks(app: &TestApp) -> usize {
    app.graph
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/mailboxSettings"))
        .count()
}

async fn slow_mailbox_lookups_stop_at_their_budget_and_the_rest_fall_back(backend: Backend) {
    // The lease is 6 s, so the lookups of one start get 2 s; each takes 1.2 s, 8 at a time: the
    // first 8 are answered, the next 8 cut off, the other 32 never asked (48 one by one: 58 s).
    let app = app_at(
        backend,
        "2026-11-30T00:00:00Z",
        "lease = \"6s\"\n[graph]\nenabled = true\npresence_refresh = \"0s\"\n",
    )
    .await;
    let users = zoneless(&app, "slow", 48, "many").await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"timeZone": "Tokyo Standard Time"}))
                .set_delay(Duration::from_millis(1200)),
        )
        .mount(&app.graph)
        .await;
    local_campaign(&app, "many", "many").await;
    let began = std::time::Instant::now();
    move_to(&app, utc("2026-11-30T20:00:00Z")).await;
    let c = campaign(&app, "many").await;
    let plan = planned(&app, &c.id, 48).await;
    let took = began.elapsed();
    assert!(took < Duration::from_secs(5), "planning took {took:?}");
    let tokyo = plan.iter().filter(|p| p.3 == "Asia/Tokyo").count();
    assert_eq!(tokyo, 8, "{plan:?}");
    assert_eq!(campaign(&app, "many").await.zone_fallbacks, 40);
    let asked = mailbox_asks(&app).await;
    assert!((8..=16).contains(&asked), "{asked} lookups");
    // Those not answered keep nothing: they are asked at a later start.
    let list = app.app_db.run(users::list).await.unwrap();
    let kept = list
        .iter()
        .filter(|u| users.iter().any(|n| u.channel_user_id == format!("29:{n}")))
        .filter(|u| u.mailbox_time_zone_at.is_some())
        .count();
    assert_eq!(kept, 8);
    app.shut_down().await;
}

async fn a_throttled_mailbox_lookup_pauses_the_tenant(backend: Backend) {
    let app = app_at(
        backend,
        "2026-11-30T00:00:00Z",
        "[graph]\nenabled = true\npresence_refresh = \"0s\"\n",
    )
    .await;
    zoneless(&app, "thr", 12, "thr").await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .mount(&app.graph)
        .await;
    local_campaign(&app, "first", "thr").await;
    move_to(&app, utc("2026-11-30T20:00:00Z")).await;
    let first = campaign(&app, "first").await;
    planned(&app, &first.id, 12).await;
    assert_eq!(campaign(&app, "first").await.zone_fallbacks, 12);
    let asked = mailbox_asks(&app).await;
    // One round at most (8 at once); the ones after the 429 are not sent.
    assert!((1..=8).contains(&asked), "{asked} lookups");
    // Retry-After (an hour) holds: the next campaign of the tenant asks nothing.
    local_campaign(&app, "second", "thr").await;
    move_to(&app, utc("2026-11-30T20:05:00Z")).await;
    let second = campaign(&app, "second").await;
    planned(&app, &second.id, 12).await;
    assert_eq!(mailbox_asks(&app).await, asked);
    assert_eq!(campaign(&app, "second").await.zone_fallbacks, 12);
    app.shut_down().await;
}

async fn a_zone_another_instance_wrote_is_picked_up_when_the_note_expires(backend: Backend) {
    let app = app_at(backend, "2026-11-30T00:00:00Z", "").await;
    install_in(&app, "flyer", Some("Europe/Paris")).await;
    let zone = || {
        let db = app.app_db.clone();
        async move {
            db.run(users::list)
                .await
                .unwrap()
                .into_iter()
                .find(|u| u.channel_user_id == "29:flyer")
                .and_then(|u| u.time_zone)
        }
    };
    let say = |tz: &str| {
        let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), "29:flyer", "hi");
        a["localTimezone"] = json!(tz);
        a
    };
    assert_eq!(app.post_signed(&say("Asia/Tokyo")).await.status(), 200);
    assert_eq!(zone().await.as_deref(), Some("Asia/Tokyo"));
    // Another instance saw the person back in Paris.
    app.app_db
        .run(|conn| {
            use diesel::prelude::*;
            use herald::store::schema::users as u;
            herald::run_on!(conn, |x| diesel::update(
                u::table.filter(u::channel_user_id.eq("29:flyer"))
            )
            .set(u::time_zone.eq("Europe/Paris"))
            .execute(x))?;
            Ok::<_, herald::store::StoreError>(())
        })
        .await
        .unwrap();
    // Within the note's life this instance trusts its note (no database call)...
    app.advance(TimeDelta::minutes(5));
    assert_eq!(app.post_signed(&say("Asia/Tokyo")).await.status(), 200);
    assert_eq!(zone().await.as_deref(), Some("Europe/Paris"));
    // ...and after it, reads the record again and writes the zone the client reports.
    app.advance(TimeDelta::minutes(6));
    assert_eq!(app.post_signed(&say("Asia/Tokyo")).await.status(), 200);
    assert_eq!(zone().await.as_deref(), Some("Asia/Tokyo"));
    app.shut_down().await;
}
