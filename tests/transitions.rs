//! A campaign's status moves only scheduled → running → completed: every other move is refused
//! by the store's write path with a typed error, and changes nothing.

mod common;

use chrono::{TimeDelta, Utc};

use common::*;
use herald::domain::campaign::CampaignStatus;
use herald::store::campaigns::{self, Settings};
use herald::store::{Conn, DatabaseUrl, Db, StoreError, lists};

on_both_backends!(
    a_campaign_moves_only_forward_and_a_forbidden_move_is_refused,
    a_campaign_whose_start_has_not_come_does_not_begin,
);

fn list(conn: &mut Conn<'_>) -> String {
    lists::create(
        conn,
        TENANT,
        "staff",
        "admin",
        &["a@contoso.com".to_string()],
        Utc::now(),
    )
    .unwrap()
    .unwrap()
    .id
}

fn settings(list_id: String, start_in: TimeDelta) -> Settings {
    Settings {
        list_id,
        channel: "msteams".into(),
        start_at: Utc::now() + start_in,
        time_zone: "Europe/Paris".into(),
        duration_minutes: 120,
        hours: "always".into(),
        presence: "any".into(),
        message: "Bonjour".into(),
    }
}

fn forbidden(r: Result<Option<campaigns::Campaign>, StoreError>, from: &str, to: &str) {
    match r {
        Err(StoreError::ForbiddenTransition { from: f, to: t }) => {
            assert_eq!((f.as_str(), t.as_str()), (from, to))
        }
        other => panic!("{from} → {to} should be refused, got {other:?}"),
    }
}

async fn a_campaign_moves_only_forward_and_a_forbidden_move_is_refused(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    db.run(|conn| {
        let l = list(conn);
        let s = settings(l, -TimeDelta::minutes(5));
        let c = campaigns::create(conn, TENANT, "forward", "admin", &s, 7, Utc::now())?
            .campaign()
            .unwrap();
        assert_eq!(c.status, CampaignStatus::Scheduled);
        let id = c.id.clone();
        let now = Utc::now();

        // Scheduled: it cannot skip running, nor stay where it is.
        forbidden(
            campaigns::set_status(conn, &id, CampaignStatus::Completed, now),
            "scheduled",
            "completed",
        );
        forbidden(
            campaigns::set_status(conn, &id, CampaignStatus::Scheduled, now),
            "scheduled",
            "scheduled",
        );
        assert_eq!(
            campaigns::get(conn, &id)?.unwrap().status,
            CampaignStatus::Scheduled
        );

        // Scheduled → running.
        let running = campaigns::begin(conn, &id, now)?.unwrap();
        assert_eq!(running.status, CampaignStatus::Running);
        assert!(running.started_at.is_some());
        assert!(campaigns::begin(conn, &id, now)?.is_none(), "started once");
        forbidden(
            campaigns::set_status(conn, &id, CampaignStatus::Scheduled, now),
            "running",
            "scheduled",
        );
        forbidden(
            campaigns::set_status(conn, &id, CampaignStatus::Running, now),
            "running",
            "running",
        );

        // Running → completed (nothing pending: no deliveries were planned here).
        assert_eq!(campaigns::complete_finished(conn, now)?, 1);
        let done = campaigns::get(conn, &id)?.unwrap();
        assert_eq!(done.status, CampaignStatus::Completed);
        assert!(done.completed_at.is_some());

        // Completed is final.
        for (to, word) in [
            (CampaignStatus::Running, "running"),
            (CampaignStatus::Scheduled, "scheduled"),
            (CampaignStatus::Completed, "completed"),
        ] {
            forbidden(campaigns::set_status(conn, &id, to, now), "completed", word);
        }
        assert!(campaigns::begin(conn, &id, now)?.is_none());
        assert_eq!(
            campaigns::get(conn, &id)?.unwrap().status,
            CampaignStatus::Completed
        );
        assert_eq!(campaigns::complete_finished(conn, now)?, 0);

        // No such campaign: nothing to move.
        assert!(campaigns::set_status(conn, "nope", CampaignStatus::Running, now)?.is_none());
        Ok(())
    })
    .await
    .unwrap();
}

async fn a_campaign_whose_start_has_not_come_does_not_begin(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    db.run(|conn| {
        let l = list(conn);
        let s = settings(l, TimeDelta::hours(1));
        let c = campaigns::create(conn, TENANT, "later", "admin", &s, 7, Utc::now())?
            .campaign()
            .unwrap();
        assert!(campaigns::begin(conn, &c.id, Utc::now())?.is_none());
        assert_eq!(
            campaigns::get(conn, &c.id)?.unwrap().status,
            CampaignStatus::Scheduled
        );
        Ok(())
    })
    .await
    .unwrap();
}
