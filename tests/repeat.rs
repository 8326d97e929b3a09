//! Recurring campaigns (`repeat:`): each occurrence is a run with its own window, audience
//! (resolved when it starts), deliveries and report; `campaign stop` ends the series, a run
//! already started completes. On a manual clock and a fake connector, daylight-saving exact.

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

use common::*;
use herald::domain::campaign::CampaignStatus;
use herald::store::{campaigns, repeats};

on_both_backends!(
    mondays_at_nine_run_five_weeks_across_the_end_of_summer_time_until_stopped,
    words_french_forms_bad_expressions_and_short_recurrences,
    stop_deletes_and_edits_keep_to_the_series_rules,
);

const ADMIN: &str = "29:boss";
const SETTINGS: &str =
    "admins = [\"aad-boss\"]\n[delivery]\nretry_base = \"50ms\"\nretry_max = \"200ms\"\n";
const WAIT: Duration = Duration::from_secs(30);
const PARIS: Tz = chrono_tz::Europe::Paris;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn app_at(backend: Backend, at: &str) -> TestApp {
    let clock = herald::domain::ManualClock::new(utc(at));
    let app = spawn_app_on_clock(backend, SETTINGS, clock).await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    app
}

async fn install(app: &TestApp, user: &str) {
    let a = app.install(&format!("f:{user}"), &format!("29:{user}"));
    assert_eq!(app.post_signed(&a).await.status(), 200);
}

async fn series_id(app: &TestApp, name: &str) -> String {
    let name = name.to_string();
    app.app_db
        .run(move |conn| campaigns::find(conn, TENANT, &name))
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The runs of a series: (number, campaign).
async fn runs(app: &TestApp, series: &str) -> Vec<(i32, campaigns::Campaign)> {
    let series = series.to_string();
    app.app_db
        .run(move |conn| repeats::runs(conn, &series))
        .await
        .unwrap()
}

/// Each delivery of a campaign: (channel user id, status), by user.
async fn deliveries(app: &TestApp, id: &str) -> Vec<(String, String)> {
    let id = id.to_string();
    app.app_db
        .run(move |conn| {
            use diesel::prelude::*;
            use herald::store::schema::{deliveries as d, users as u};
            Ok(herald::run_on!(conn, |x| d::table
                .inner_join(u::table.on(u::id.eq(d::user_id)))
                .filter(d::message_id.eq(&id))
                .order(u::channel_user_id)
                .select((u::channel_user_id, d::status))
                .load::<(String, String)>(x))?)
        })
        .await
        .unwrap()
}

/// Moves the clock to `at` and lets the engine plan and send what is due.
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

/// Waits until run `n` of the series has started (and so the next one is scheduled).
async fn started(app: &TestApp, series: &str, n: i32) -> campaigns::Campaign {
    wait_for(WAIT, "the run started", || async move {
        app.engine.wake();
        runs(app, series)
            .await
            .iter()
            .any(|(k, c)| *k == n && c.status != CampaignStatus::Scheduled)
    })
    .await;
    let all = runs(app, series).await;
    all.into_iter().find(|(k, _)| *k == n).unwrap().1
}

/// Waits until the campaign is completed (the planner completes it when it next looks: woken).
async fn completed(app: &TestApp, id: &str) {
    wait_for(WAIT, "the run completed", || async move {
        app.engine.wake();
        let id = id.to_string();
        app.app_db
            .run(move |conn| campaigns::get(conn, &id))
            .await
            .unwrap()
            .is_some_and(|c| c.status == CampaignStatus::Completed)
    })
    .await;
}

async fn mondays_at_nine_run_five_weeks_across_the_end_of_summer_time_until_stopped(
    backend: Backend,
) {
    // Thursday 2026-10-01; summer time in Paris ends on Sunday 2026-10-25.
    let app = app_at(backend, "2026-10-01T00:00:00Z").await;
    for u in ["a", "b", "c"] {
        install(&app, u).await;
    }
    app.tell(
        ADMIN,
        "list create team ada.a@contoso.com ada.b@contoso.com",
        "en-US",
    )
    .await;
    let reply = app
        .tell(
            ADMIN,
            "campaign create weekly\nlist: team\nstart: 2026-10-01 12:00\nduration: 2h\n\
             hours: always\ntimezone: Europe/Paris\nrepeat: 0 9 * * MON\nmessage:\nHello [FIRSTNAME]",
            "en-US",
        )
        .await;
    assert!(
        reply.starts_with("Campaign **weekly** scheduled."),
        "{reply}"
    );
    // The first run is the first Monday 09:00 after the start given.
    assert!(reply.contains("\n- start: 2026-10-05 09:00\n"), "{reply}");
    assert!(reply.contains("\n- Repeats: `0 9 * * MON`"), "{reply}");
    assert!(
        reply.contains(
            "\n- Next runs: 2026-10-05 09:00 CEST, 2026-10-12 09:00 CEST, 2026-10-19 09:00 CEST"
        ),
        "{reply}"
    );
    let series = series_id(&app, "weekly").await;

    // Run n starts at 09:00 Paris time: 07:00 UTC in summer, 08:00 UTC from 2026-10-26.
    let starts = [
        "2026-10-05T07:00:00Z",
        "2026-10-12T07:00:00Z",
        "2026-10-19T07:00:00Z",
        "2026-10-26T08:00:00Z",
    ];
    let mut run_ids = Vec::new();
    for (i, at) in starts.iter().enumerate() {
        let n = i as i32 + 1;
        let at = utc(at);
        if n == 3 {
            // Before run 3, c joins the list: runs 3 and 4 reach c, runs 1 and 2 did not.
            app.tell(ADMIN, "list add team ada.c@contoso.com", "en-US")
                .await;
        }
        move_to(&app, at - TimeDelta::minutes(1)).await;
        let before = runs(&app, &series).await;
        let this = before.iter().find(|(k, _)| *k == n).unwrap();
        assert_eq!(
            this.1.status,
            CampaignStatus::Scheduled,
            "run {n} not early"
        );
        assert_eq!(this.1.start_at.and_utc(), at, "run {n}'s start");
        let local = at.with_timezone(&PARIS);
        assert_eq!((local.hour(), local.minute()), (9, 0), "run {n} local time");
        assert!(deliveries(&app, &this.1.id).await.is_empty());

        move_to(&app, at).await;
        let run = started(&app, &series, n).await;
        run_ids.push(run.id.clone());
        if n == 4 {
            // Stopped while run 4 is under way (in French): run 4 completes, no run 5.
            let reply = app.tell(ADMIN, "campagne arrêter weekly", "fr-FR").await;
            assert_eq!(
                reply,
                "Campagne **weekly** arrêtée : plus aucune exécution. L'exécution 4 a déjà \
                 commencé et va jusqu'à son terme. L'exécution 5, qui était planifiée, \
                 n'aura pas lieu."
            );
        }
        move_to(&app, at + TimeDelta::hours(2)).await;
        completed(&app, &run.id).await;
        let expected: Vec<(String, String)> = match n {
            1 | 2 => vec!["29:a", "29:b"],
            _ => vec!["29:a", "29:b", "29:c"],
        }
        .into_iter()
        .map(|u| (u.to_string(), "delivered".to_string()))
        .collect();
        assert_eq!(deliveries(&app, &run.id).await, expected, "run {n}");
    }
    // No run 5: not on 2026-11-02 09:00 CET, nor after.
    move_to(&app, utc("2026-11-02T08:00:00Z")).await;
    move_to(&app, utc("2026-11-09T12:00:00Z")).await;
    let all = runs(&app, &series).await;
    assert_eq!(
        all.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(
        all.iter()
            .all(|(_, c)| c.status == CampaignStatus::Completed)
    );

    // The report: the latest run, and a line per earlier run with its own figures.
    let report = app.tell(ADMIN, "campaign report weekly", "en-US").await;
    for line in [
        "Run 4 of 4, starting 2026-10-26 09:00 CET",
        "Earlier runs:",
        "- Run 1: 2026-10-05 09:00 CEST, completed, 2/2 delivered",
        "- Run 2: 2026-10-12 09:00 CEST, completed, 2/2 delivered",
        "- Run 3: 2026-10-19 09:00 CEST, completed, 3/3 delivered",
        r#"{"title":"Delivered","value":"3"}"#,
        r#"{"title":"Targeted","value":"3"}"#,
        "Type **campaign report weekly 3** for one run's report.",
    ] {
        assert!(report.contains(line), "{line} in {report}");
    }
    // One run: run 2 had two people.
    let report = app.tell(ADMIN, "campaign report weekly 2", "en-US").await;
    assert!(
        report.contains("Run 2 of 4, starting 2026-10-12 09:00 CEST"),
        "{report}"
    );
    assert!(report.contains(r#"{"title":"Delivered","value":"2"}"#));
    assert!(report.contains(r#"{"title":"Targeted","value":"2"}"#));
    assert!(!report.contains("Earlier runs"), "{report}");
    let report = app.tell(ADMIN, "campagne rapport weekly 1", "fr-FR").await;
    assert!(
        report.contains("Exécution 1 sur 4, débutant le 2026-10-05 09:00 CEST"),
        "{report}"
    );
    let reply = app.tell(ADMIN, "campaign report weekly 9", "en-US").await;
    assert_eq!(
        reply,
        "Campaign **weekly** has no run 9: it has had 4 runs so far (1 to 4)."
    );
    let reply = app
        .tell(ADMIN, "campaign report weekly last", "en-US")
        .await;
    assert_eq!(
        reply,
        "`last` is not a run number: type for example **campaign report weekly 2**."
    );

    // `campaign info`: stopped; `campaigns` lists the series once, as its latest run.
    let info = app.tell(ADMIN, "campaign info weekly", "en-US").await;
    assert!(info.contains("\n- 4 runs have started."), "{info}");
    assert!(
        info.contains("\n- Next runs: none: stopped on 2026-10-26 09:00 CET"),
        "{info}"
    );
    let list = app.tell(ADMIN, "campaigns", "en-US").await;
    assert_eq!(list.matches("weekly").count(), 1, "{list}");
    assert!(list.contains("2026-10-26 09:00"), "{list}");
    let again = app.tell(ADMIN, "campaign stop weekly", "en-US").await;
    assert_eq!(
        again,
        "Campaign **weekly** was already stopped on 2026-10-26 09:00 CET."
    );
    assert_eq!(run_ids.len(), 4);
    app.shut_down().await;
}

async fn words_french_forms_bad_expressions_and_short_recurrences(backend: Backend) {
    let app = app_at(backend, "2026-10-01T00:00:00Z").await;
    install(&app, "a").await;
    app.tell(ADMIN, "list create team ada.a@contoso.com", "en-US")
        .await;
    let create = |name: &str, lines: &str| {
        format!("campaign create {name}\nlist: team\n{lines}\nmessage:\nHi")
    };

    // The words, in French: every day at the start's time, across the change of time.
    let reply = app
        .tell(
            ADMIN,
            "campagne créer quot\nliste: team\ndébut: 2026-10-24 09:30\ndurée: 2h\n\
             horaires: always\nfuseau: Europe/Paris\nrépéter: quotidien\nmessage:\nBonjour",
            "fr-FR",
        )
        .await;
    assert!(
        reply.contains("\n- Récurrence : quotidien (chaque jour à l'heure du début)"),
        "{reply}"
    );
    assert!(
        reply.contains(
            "\n- Prochaines exécutions : 2026-10-24 09:30 CEST, 2026-10-25 09:30 CET, \
             2026-10-26 09:30 CET"
        ),
        "{reply}"
    );
    assert!(
        reply.contains("Aucune exécution n'a encore commencé."),
        "{reply}"
    );
    let reply = app
        .tell(
            ADMIN,
            &create(
                "tuesdays",
                "start: 2026-10-20 10:00\nduration: 1d\nhours: always\ntimezone: Europe/Paris\nrepeat: weekly",
            ),
            "en-US",
        )
        .await;
    assert!(
        reply.contains(
            "\n- Repeats: weekly (every week on the start's weekday and time)\n- No run has \
             started yet.\n- Next runs: 2026-10-20 10:00 CEST, 2026-10-27 10:00 CET, \
             2026-11-03 10:00 CET"
        ),
        "{reply}"
    );
    let reply = app
        .tell(
            ADMIN,
            "campagne créer mois\nliste: team\ndébut: 2026-10-31 09:00\ndurée: 3d\n\
             horaires: always\nfuseau: Europe/Paris\nrépéter: mensuel\nmessage:\nBonjour",
            "fr-FR",
        )
        .await;
    // The 31st: November has none, so its last day.
    assert!(
        reply.contains(
            "\n- Prochaines exécutions : 2026-10-31 09:00 CET, 2026-11-30 09:00 CET, \
             2026-12-31 09:00 CET"
        ),
        "{reply}"
    );
    let info = app.tell(ADMIN, "campaign info mois", "en-US").await;
    assert!(
        info.contains("\n- Repeats: monthly (every month on the start's day and time;"),
        "{info}"
    );

    // Bad expressions, each said precisely, and nothing saved.
    let cases = [
        (
            "repeat: 0 9 * *",
            "en-US",
            "- repeat: `0 9 * *` is not a recurrence: write daily, weekly or monthly, or a cron \
             expression of 5 fields (minute hour day-of-month month day-of-week), where this has 4 \
             (for example `repeat: 0 9 * * MON`)",
        ),
        (
            "repeat: 0 25 * * *",
            "en-US",
            "- repeat: `0 25 * * *` is not a valid cron expression: minute 0-59, hour 0-23",
        ),
        (
            "répéter: tous les jours",
            "fr-FR",
            "- repeat : `tous les jours` n'est pas une récurrence : écrivez quotidien, \
             hebdomadaire ou mensuel",
        ),
        (
            "repeat: 0 9 30 2 *",
            "en-US",
            "- repeat: `0 9 30 2 *` has no occurrence after the campaign's start",
        ),
        (
            "repeat: 0 * * * *",
            "en-US",
            "- repeat: runs of `0 * * * *` can be as little as 1h apart, shorter than the \
             campaign's window (2h): each run must end before the next one starts.",
        ),
        (
            "repeat: 0 9,10 * * *",
            "fr-FR",
            "- repeat : les exécutions de `0 9,10 * * *` peuvent n'être espacées que de 1h, moins \
             que la fenêtre de la campagne (2h)",
        ),
        (
            "repeat: daily\ntime: local",
            "en-US",
            "- repeat: a repeating campaign follows the campaign's time zone: `time: local` \
             cannot be combined with `repeat`",
        ),
    ];
    for (i, (line, lang, says)) in cases.iter().enumerate() {
        let text = create(
            &format!("bad{i}"),
            &format!("start: 2026-10-20 10:00\nduration: 2h\nhours: always\n{line}"),
        );
        let reply = app.tell(ADMIN, &text, lang).await;
        assert!(reply.contains(says), "{line}: {reply}");
        let name = format!("bad{i}");
        let found = app
            .app_db
            .run(move |conn| campaigns::find(conn, TENANT, &name))
            .await
            .unwrap();
        assert!(found.is_none(), "{line}: nothing saved");
    }
    // A daily run may last up to a day (24 hours on the zone's clock, also on a 23-hour day);
    // two days is refused.
    let reply = app
        .tell(
            ADMIN,
            &create(
                "day",
                "start: 2026-10-20 10:00\nduration: 1d\nhours: always\ntimezone: Europe/Paris\nrepeat: daily",
            ),
            "en-US",
        )
        .await;
    assert!(reply.starts_with("Campaign **day** scheduled."), "{reply}");
    let reply = app
        .tell(
            ADMIN,
            &create(
                "twodays",
                "start: 2026-10-20 10:00\nduration: 2d\nhours: always\nrepeat: daily",
            ),
            "en-US",
        )
        .await;
    assert!(
        reply.contains("can be as little as 1d apart, shorter than the campaign's window (2d)"),
        "{reply}"
    );
    // The help says it in both languages.
    let help = app.tell(ADMIN, "help", "en-US").await;
    assert!(help.contains("**campaign stop** *name*"), "{help}");
    let aide = app.tell(ADMIN, "aide", "fr-FR").await;
    assert!(aide.contains("**campagne arrêter** *nom*"), "{aide}");
    app.shut_down().await;
}

async fn stop_deletes_and_edits_keep_to_the_series_rules(backend: Backend) {
    let app = app_at(backend, "2026-10-01T00:00:00Z").await;
    install(&app, "a").await;
    app.tell(ADMIN, "list create team ada.a@contoso.com", "en-US")
        .await;
    let reply = app.tell(ADMIN, "campaign stop nothing", "en-US").await;
    assert!(reply.contains("nothing"), "{reply}");
    app.tell(
        ADMIN,
        "campaign create once\nlist: team\nstart: 2026-10-05 10:00\nduration: 2h\nmessage:\nHi",
        "en-US",
    )
    .await;
    let reply = app.tell(ADMIN, "campaign stop once", "en-US").await;
    assert_eq!(
        reply,
        "Campaign **once** does not repeat, so there is nothing to stop (a started campaign is \
         never cancelled)."
    );
    let reply = app.tell(ADMIN, "campaign report once 1", "en-US").await;
    assert!(reply.contains("does not repeat"), "{reply}");
    app.tell(
        ADMIN,
        "campaign create daily\nlist: team\nstart: 2026-10-05 10:00\nduration: 2h\n\
         timezone: Europe/Paris\nrepeat: daily\nmessage:\nHi",
        "en-US",
    )
    .await;
    let reply = app.tell(ADMIN, "campaign stop daily", "en-US").await;
    assert!(reply.contains("has not started yet"), "{reply}");
    // Before it starts, an edit may change the recurrence, or remove it.
    let reply = app
        .tell(
            ADMIN,
            "campaign edit daily\nrepeat: 30 10 * * MON-FRI",
            "en-US",
        )
        .await;
    assert!(reply.contains("\n- start: 2026-10-05 10:30\n"), "{reply}");
    assert!(
        reply.contains("Next runs: 2026-10-05 10:30 CEST, 2026-10-06 10:30 CEST"),
        "{reply}"
    );
    let reply = app
        .tell(ADMIN, "campaign edit daily\nrepeat: no", "en-US")
        .await;
    assert!(!reply.contains("Repeats:"), "{reply}");
    let reply = app
        .tell(ADMIN, "campaign edit daily\nrepeat: daily", "en-US")
        .await;
    assert!(reply.contains("Repeats: daily"), "{reply}");
    let series = series_id(&app, "daily").await;

    // Two runs go; the third is scheduled. Deleting the series takes every run with it.
    move_to(&app, utc("2026-10-05T08:30:00Z")).await;
    let first = started(&app, &series, 1).await;
    move_to(&app, utc("2026-10-05T11:00:00Z")).await;
    completed(&app, &first.id).await;
    move_to(&app, utc("2026-10-06T08:30:00Z")).await;
    let second = started(&app, &series, 2).await;
    let reply = app.tell(ADMIN, "campaign delete daily", "en-US").await;
    assert!(reply.contains("running"), "{reply}");
    move_to(&app, utc("2026-10-06T11:00:00Z")).await;
    completed(&app, &second.id).await;
    assert_eq!(runs(&app, &series).await.len(), 3);
    let reply = app.tell(ADMIN, "campaign info daily", "en-US").await;
    assert!(reply.contains("2 runs have started."), "{reply}");
    assert!(
        reply.contains(
            "Next runs: 2026-10-07 10:30 CEST, 2026-10-08 10:30 CEST, 2026-10-09 10:30 CEST"
        ),
        "{reply}"
    );
    let reply = app.tell(ADMIN, "campaign delete daily", "en-US").await;
    assert!(reply.contains("deleted"), "{reply}");
    assert!(runs(&app, &series).await.is_empty());
    let left = app
        .app_db
        .run(|conn| campaigns::all(conn, TENANT))
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["once"]
    );
    app.shut_down().await;
}
