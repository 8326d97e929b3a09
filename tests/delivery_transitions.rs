//! A delivery's status only moves the ways `DeliveryStatus::transition` allows: recording an
//! outcome for a delivery that already ended is refused with a typed error and changes nothing.

mod common;

use chrono::{TimeDelta, Utc};
use common::*;
use diesel::prelude::*;
use herald::domain::delivery::DeliveryStatus;
use herald::store::deliveries::{self, Delivery, Outcome};
use herald::store::schema::deliveries as d;
use herald::store::{DatabaseUrl, Db, StoreError};
use serde_json::json;

on_both_backends!(
    recording_an_outcome_on_a_delivered_row_is_refused_and_changes_nothing,
    a_final_row_is_refused_even_if_it_carries_a_lease,
);

const TENANT: &str = "t-transitions";

fn open(test_db: &TestDb) -> Db {
    Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 4).unwrap()
}

/// Two deliveries of one message, leased by `a`; their ids.
async fn leased_pair(db: &Db) -> Vec<i64> {
    let users = add_users(db, "https://example.invalid/", "tr-", 2).await;
    let now = Utc::now();
    db.run(move |conn| {
        deliveries::create_message(conn, "m-tr", TENANT, "test", &json!({"text": "hi"}), now)?;
        deliveries::enqueue(conn, "m-tr", TENANT, &due_now(&users), now)?;
        deliveries::lease(
            conn,
            "a",
            &[TENANT.to_string()],
            &[],
            now + TimeDelta::seconds(1),
            now + TimeDelta::minutes(5),
            10,
        )
    })
    .await
    .unwrap()
    .into_iter()
    .map(|l| l.delivery.id)
    .collect()
}

async fn rows(db: &Db) -> Vec<Delivery> {
    db.run(|conn| deliveries::of_message(conn, "m-tr"))
        .await
        .unwrap()
}

/// What a write may change, to compare before and after.
fn fields(r: &Delivery) -> String {
    format!(
        "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {}",
        r.status,
        r.attempts,
        r.activity_id,
        r.failure,
        r.last_error,
        r.leased_by,
        r.completed_at,
        r.next_attempt_at,
        r.updated_at
    )
}

async fn record_one(db: &Db, owner: &str, outcome: Outcome) -> Result<bool, StoreError> {
    let owner = owner.to_string();
    db.run(move |conn| deliveries::record_one(conn, &owner, &outcome, Utc::now()))
        .await
}

fn later_outcomes(id: i64) -> Vec<Outcome> {
    let at = Utc::now() + TimeDelta::minutes(1);
    vec![
        Outcome::Delivered {
            id,
            activity_id: Some("again".into()),
        },
        Outcome::Retry {
            id,
            at,
            error: "HTTP 503".into(),
        },
        Outcome::Failed {
            id,
            reason: "refused".into(),
            error: "HTTP 400".into(),
            user_gone: None,
        },
        Outcome::Released { id, at: Some(at) },
        Outcome::Absent {
            id,
            at,
            step: 1,
            presence: Some("Away".into()),
        },
        Outcome::Expired { id, presence: None },
    ]
}

async fn recording_an_outcome_on_a_delivered_row_is_refused_and_changes_nothing(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let ids = leased_pair(&db).await;
    assert_eq!(ids.len(), 2);
    let (done, other) = (ids[0], ids[1]);
    let delivered = Outcome::Delivered {
        id: done,
        activity_id: Some("1:first".into()),
    };
    assert!(record_one(&db, "a", delivered).await.unwrap());
    let before = rows(&db).await;
    let row = before.iter().find(|r| r.id == done).unwrap();
    assert_eq!(row.status, DeliveryStatus::Delivered);
    assert_eq!(row.status, "delivered");

    for outcome in later_outcomes(done) {
        let to = outcome.status();
        let refused = record_one(&db, "a", outcome.clone()).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::ForbiddenTransition { ref from, to: ref t })
                    if from == DeliveryStatus::Delivered.as_str() && t == to.as_str()
            ),
            "{outcome:?}: {refused:?}"
        );
        // In a batch, the refused outcome is dropped and the others still recorded.
        let batch = vec![outcome];
        let applied = db
            .run(move |conn| deliveries::record(conn, "a", &batch, Utc::now()))
            .await
            .unwrap();
        assert_eq!(applied, [false]);
    }
    let after = rows(&db).await;
    assert_eq!(
        after.iter().map(fields).collect::<Vec<_>>(),
        before.iter().map(fields).collect::<Vec<_>>(),
        "nothing changed"
    );

    // The other row, still pending and leased by a: another owner's outcome is not recorded
    // (not refused: the row may still move), a's is.
    let retry = Outcome::Retry {
        id: other,
        at: Utc::now(),
        error: "HTTP 503".into(),
    };
    assert!(!record_one(&db, "b", retry.clone()).await.unwrap());
    assert!(record_one(&db, "a", retry).await.unwrap());
    let row = rows(&db).await.into_iter().find(|r| r.id == other).unwrap();
    assert_eq!((row.status, row.attempts), (DeliveryStatus::Pending, 1));
}

/// Only pending rows carry a lease; one that (by hand, or a bug) still carries one once ended
/// is refused all the same: the status condition, not the lease, guards the move.
async fn a_final_row_is_refused_even_if_it_carries_a_lease(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = open(&test_db);
    let ids = leased_pair(&db).await;
    let id = ids[0];
    let failed = Outcome::Failed {
        id,
        reason: "refused".into(),
        error: "HTTP 400".into(),
        user_gone: None,
    };
    assert!(record_one(&db, "a", failed).await.unwrap());
    let until = (Utc::now() + TimeDelta::minutes(5)).naive_utc();
    db.run(move |conn| {
        Ok::<_, StoreError>(herald::run_on!(conn, |c| diesel::update(
            d::table.filter(d::id.eq(id))
        )
        .set((d::leased_by.eq("a"), d::lease_expires_at.eq(until)))
        .execute(c))?)
    })
    .await
    .unwrap();
    let before = rows(&db).await;
    for outcome in later_outcomes(id)
        .into_iter()
        .filter(|o| !matches!(o, Outcome::Delivered { .. }))
    {
        let refused = record_one(&db, "a", outcome.clone()).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::ForbiddenTransition { ref from, .. })
                    if from == DeliveryStatus::Failed.as_str()
            ),
            "{outcome:?}: {refused:?}"
        );
    }
    assert_eq!(
        rows(&db).await.iter().map(fields).collect::<Vec<_>>(),
        before.iter().map(fields).collect::<Vec<_>>()
    );
}
