//! Group audience benchmark: a campaign whose list is one Entra ID group of 100,000 users,
//! served by a fake Microsoft Graph in this process (wiremock, pages of 999 with
//! `@odata.nextLink`), is resolved the way the planner resolves it (`Reach::prepare`: every
//! page read, members matched to herald's users by object id) and then planned (the same
//! transaction the engine runs), on SQLite.
//!
//!     cargo run --release --example group_audience -- [--members 100000]
//!
//! The last line is `group members=N resolve_s=R plan_s=P total_s=T cpu_s=C peak_rss_mib=M`.
//! CPU time and peak RSS (VmHWM) are the whole process's, the fake Graph's page building
//! included.

#[path = "support/proc_stats.rs"]
mod proc_stats;

use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use herald::audience::Reach;
use herald::graph::GraphClient;
use herald::outbox::Outbox;
use herald::store::groups::NewGroup;
use herald::store::schema::users as u;
use herald::store::{DatabaseUrl, Db, campaigns, lists};
use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TENANT: &str = "bench-tenant";
const GROUP: &str = "0b1c2d3e-0000-4000-8000-00000000abcd";
const PAGE: usize = 999;

/// One page of the group's members (`skip` the first), as Graph answers it.
fn page(base: &str, members: usize, skip: usize) -> ResponseTemplate {
    let end = (skip + PAGE).min(members);
    let value: Vec<serde_json::Value> = (skip..end)
        .map(|i| {
            json!({
                "@odata.type": "#microsoft.graph.user",
                "id": format!("{i:08x}-1111-4222-8333-444455556666"),
                "displayName": format!("Person {i}"),
                "userPrincipalName": format!("person{i}@contoso.com"),
                "mail": format!("person{i}@contoso.com"),
                "accountEnabled": true
            })
        })
        .collect();
    let mut body = json!({ "value": value });
    if end < members {
        body["@odata.nextLink"] = json!(format!(
            "{base}/v1.0/groups/{GROUP}/transitiveMembers?$select=id&$top={PAGE}&$skiptoken={end}"
        ));
    }
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::main]
async fn main() {
    let mut members = 100_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--members" => {
                members = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--members N")
            }
            other => panic!("unknown flag {other}; see the header of examples/group_audience.rs"),
        }
    }

    // The fake Graph: a token for any tenant, the group's members page after page.
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/[^/]+/oauth2/v2.0/token$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3600, "access_token": "bench"
        })))
        .mount(&graph)
        .await;
    let base = graph.uri();
    let served = base.clone();
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/groups/{GROUP}/transitiveMembers")))
        .respond_with(move |r: &Request| {
            let skip = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "$skiptoken")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            page(&served, members, skip)
        })
        .mount(&graph)
        .await;

    // Setup (not timed): herald's users (installed through Teams, so known by object id), a
    // list naming only the group, a campaign due now.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("group.db").display());
    let db = Db::open(&DatabaseUrl::parse(&url).unwrap(), 4).expect("database opens");
    let now = Utc::now();
    let campaign_id = db
        .run(move |conn| {
            let n = now.naive_utc();
            conn.write_transaction(|conn| {
                for start in (0..members).step_by(1000) {
                    let rows: Vec<_> = (start..(start + 1000).min(members))
                        .map(|i| {
                            (
                                u::id.eq(uuid::Uuid::now_v7().to_string()),
                                u::tenant_id.eq(TENANT),
                                u::channel_id.eq("msteams"),
                                u::channel_user_id.eq(format!("29:p{i}")),
                                u::aad_object_id.eq(format!("{i:08x}-1111-4222-8333-444455556666")),
                                u::bot_id.eq("28:bot"),
                                u::service_url.eq("https://smba.trafficmanager.net/emea/"),
                                u::conversation_id.eq(format!("a:p{i}")),
                                u::email.eq(format!("person{i}@contoso.com")),
                                u::user_principal_name.eq(format!("person{i}@contoso.com")),
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
            })?;
            let list = lists::create(conn, TENANT, "everyone", "admin", &[], now)?.unwrap();
            let group = NewGroup {
                group_id: GROUP.into(),
                name: "Everyone".into(),
                mail: Some("everyone@contoso.com".into()),
            };
            herald::store::groups::add(conn, &list.id, &[group], now)?;
            let settings = campaigns::Settings {
                list_id: list.id,
                channel: "msteams".into(),
                start_at: now,
                time_zone: "Europe/Paris".into(),
                duration_minutes: 3 * 24 * 60,
                hours: "Mon-Fri 09:00-12:00, Mon-Fri 14:00-18:00".into(),
                presence: "any".into(),
                message: "Bonjour [FIRSTNAME]".into(),
            };
            Ok(
                campaigns::create(conn, TENANT, "everyone", "admin", &settings, 7, now)?
                    .campaign()
                    .unwrap()
                    .id,
            )
        })
        .await
        .unwrap();
    let (list_id, channel) = {
        let id = campaign_id.clone();
        let c = db
            .run(move |conn| campaigns::get(conn, &id))
            .await
            .unwrap()
            .unwrap();
        (c.list_id, c.channel)
    };
    let reach = Reach {
        graph: Some(Arc::new(GraphClient::new(
            herald::startup::http_client().unwrap(),
            &base,
            &format!("{base}/{{tenant}}/oauth2/v2.0/token"),
            "bench-app",
            secrecy::SecretString::from("secret"),
        ))),
        ..Reach::default()
    };

    // Timed: what the planner does when the start comes.
    let cpu0 = proc_stats::cpu_seconds("self");
    let started = Instant::now();
    let expanded = reach
        .prepare(&db, TENANT, Some(&list_id), &channel, false)
        .await
        .expect("the group resolves");
    let resolve_s = started.elapsed().as_secs_f64();
    assert!(expanded.unresolved.is_empty(), "{:?}", expanded.unresolved);
    assert_eq!(expanded.identities.len(), members);
    let outbox = Outbox::new(db.clone());
    let id = campaign_id.clone();
    let planned = db
        .run(move |conn| {
            herald::engine::planner::plan_through(
                &outbox,
                conn,
                &id,
                now + TimeDelta::seconds(1),
                false,
                &expanded,
            )
        })
        .await
        .unwrap()
        .expect("the campaign starts");
    let total_s = started.elapsed().as_secs_f64();
    let cpu_s = proc_stats::cpu_seconds("self") - cpu0;
    assert_eq!(planned, members, "every member planned");
    let pages = graph.received_requests().await.unwrap().len() - 1;
    println!("graph pages={pages}");
    println!(
        "group members={members} resolve_s={resolve_s:.3} plan_s={:.3} total_s={total_s:.3} cpu_s={cpu_s:.3} peak_rss_mib={:.1}",
        total_s - resolve_s,
        proc_stats::peak_rss_mib("self")
    );
}
