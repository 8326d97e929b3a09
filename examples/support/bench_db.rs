//! The fan-out benchmarks' database: a temporary SQLite file or a fresh PostgreSQL schema,
//! with installed recipients on the fake connector and a message each tenant sends them.

use diesel::prelude::*;
use herald::store::Db;
use herald::store::deliveries::{self, NewDelivery, Operation};
use herald::store::schema::users as u;
use serde_json::json;

/// The one tenant of a single-tenant run.
pub const TENANT: &str = "bench-tenant";

/// A database of its own: a temporary SQLite file, or a fresh PostgreSQL schema.
pub struct BenchDb {
    pub url: String,
    cleanup: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl BenchDb {
    pub fn new(url: Option<&str>) -> BenchDb {
        let dir = tempfile::tempdir().unwrap();
        match url.filter(|u| u.starts_with("postgres")) {
            None => BenchDb {
                url: format!("sqlite://{}", dir.path().join("fanout.db").display()),
                cleanup: None,
                _dir: dir,
            },
            Some(base) => {
                use diesel::connection::SimpleConnection;
                let schema = format!("herald_fanout_{}", std::process::id());
                let mut c = diesel::PgConnection::establish(base).expect("PostgreSQL reachable");
                c.batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
                ))
                .unwrap();
                let sep = if base.contains('?') { '&' } else { '?' };
                BenchDb {
                    url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    cleanup: Some((base.to_string(), schema)),
                    _dir: dir,
                }
            }
        }
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        use diesel::connection::SimpleConnection;
        if let Some((base, schema)) = &self.cleanup
            && let Ok(mut c) = diesel::PgConnection::establish(base)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// The tenant of recipient `i` when each tenant has `per_tenant` of them.
pub fn tenant_of(i: usize, per_tenant: usize) -> String {
    if per_tenant == usize::MAX {
        TENANT.to_string()
    } else {
        format!("bench-tenant-{}", i / per_tenant)
    }
}

/// N installed users whose conversations are `a:f-{i}` on the fake connector, `per_tenant`
/// in each tenant; returns their ids.
pub fn add_users(db: &Db, service_url: &str, n: usize, per_tenant: usize) -> Vec<String> {
    let mut conn = db.get().unwrap();
    let mut conn = conn.as_conn();
    let now = chrono::Utc::now().naive_utc();
    let ids: Vec<String> = (0..n).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    conn.write_transaction(|conn| {
        for (start, chunk) in ids.chunks(1000).enumerate() {
            let rows: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    let i = start * 1000 + k;
                    (
                        u::id.eq(id.clone()),
                        u::tenant_id.eq(tenant_of(i, per_tenant)),
                        u::channel_id.eq("msteams"),
                        u::channel_user_id.eq(format!("29:f-{i}")),
                        u::bot_id.eq("28:bench-bot"),
                        u::service_url.eq(service_url),
                        u::conversation_id.eq(format!("a:f-{i}")),
                        u::installed.eq(true),
                        u::installed_changed_at.eq(now),
                        u::created_at.eq(now),
                        u::updated_at.eq(now),
                    )
                })
                .collect();
            herald::run_on!(conn, |c| diesel::insert_into(u::table)
                .values(&rows)
                .execute(c))?;
        }
        Ok::<_, herald::store::StoreError>(())
    })
    .expect("users inserted");
    ids
}

/// One message per tenant (its broadcast), a delivery due `now` for each of `users`, taken
/// `per_tenant` at a time.
pub fn enqueue_all(
    conn: &mut herald::store::Conn<'_>,
    users: &[String],
    per_tenant: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), herald::store::StoreError> {
    let chunk = per_tenant.min(users.len()).max(1);
    for (k, users) in users.chunks(chunk).enumerate() {
        let tenant = tenant_of(k * chunk, per_tenant);
        let message_id = format!("fanout-message-{k}");
        deliveries::create_message(
            conn,
            &message_id,
            &tenant,
            "bench",
            &json!({"type": "message", "text": "Bonjour à toutes et à tous", "summary": "Annonce"}),
            now,
        )?;
        let items: Vec<NewDelivery> = users
            .iter()
            .map(|user_id| NewDelivery {
                user_id: user_id.clone(),
                operation: Operation::Send,
                target_activity_id: None,
                due: now,
                planned: None,
            })
            .collect();
        deliveries::enqueue(conn, &message_id, &tenant, &items, now)?;
    }
    Ok(())
}
