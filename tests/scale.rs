//! Three `herald serve` processes on one PostgreSQL database deliver one campaign to a fake
//! connector, through a SIGKILL of the instance that dispatches the tenant and a 10 s database
//! outage. Checked: every recipient reached, duplicates only from sends in flight at the kill,
//! the tenant never above `global_rps` in any second, the takeover within its bound, `/readyz`
//! 503 during the outage.
//!
//! PostgreSQL only. 1,500 recipients by default (about a minute); the full run:
//! `HERALD_SCALE_RECIPIENTS=20000 HERALD_TEST_POSTGRES_URL=… cargo test --release --test scale -- --nocapture`
//!
//! The outage cuts the instances' connections through a proxy. `scripts/scale.sh` stops the
//! PostgreSQL server itself instead (`HERALD_SCALE_DB_STOP` / `HERALD_SCALE_DB_START`, shell
//! commands), which every other user of that server notices: run it on its own.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::proxy::Proxy;
use common::tokens::{APP_ID, APP_PASSWORD};
use common::*;
use herald::store::users::{ConversationRef, Profile};
use herald::store::{DatabaseUrl, Db, campaigns, dispatch, lists};

const INSTANCES: usize = 3;
const GLOBAL_RPS: usize = 50;
const CONCURRENCY: usize = 16;
const TENANT_LEASE: Duration = Duration::from_secs(10);
/// How long after a SIGKILL a send the killed instance had already written may still come in.
const STRAGGLERS: Duration = Duration::from_millis(250);

/// One `herald serve` process.
struct Instance {
    child: Child,
    address: String,
    log: PathBuf,
}

impl Instance {
    fn start(dir: &Path, n: usize, toml: &str) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = dir.join(format!("instance-{n}.toml"));
        std::fs::write(
            &config,
            format!("[server]\nbind = \"127.0.0.1:{port}\"\n\n{toml}"),
        )
        .unwrap();
        let log = dir.join(format!("instance-{n}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .env("RUST_LOG", "info,actix_server=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("herald starts");
        Instance {
            child,
            address: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    async fn ready(&self, client: &reqwest::Client) -> u16 {
        client
            .get(format!("{}/readyz", self.address))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}

/// Kills every instance still running when the test ends, however it ends.
struct Fleet(Vec<Instance>);

impl Drop for Fleet {
    fn drop(&mut self) {
        for i in &mut self.0 {
            let _ = i.child.kill();
            let _ = i.child.wait();
        }
    }
}

/// `n` people who installed the bot, each with an email the list names.
async fn add_people(db: &Db, service_url: &str, n: usize) -> Vec<String> {
    let service_url = service_url.to_string();
    db.run(move |conn| {
        conn.write_transaction(|conn| {
            let mut emails = Vec::with_capacity(n);
            for i in 0..n {
                let r = ConversationRef {
                    tenant_id: TENANT.into(),
                    channel_id: "msteams".into(),
                    channel_user_id: format!("29:s{i}"),
                    aad_object_id: Some(format!("aad-s{i}")),
                    bot_id: format!("28:{APP_ID}"),
                    service_url: service_url.clone(),
                    conversation_id: format!("a:s{i}"),
                    display_name: Some(format!("Person {i}")),
                    locale: None,
                    time_zone: None,
                };
                let email = format!("s{i}@contoso.com");
                let profile = Profile {
                    given_name: Some("Ada".into()),
                    surname: Some(format!("Lovelace{i}")),
                    email: Some(email.clone()),
                    ..Profile::default()
                };
                herald::store::users::record_install(conn, &r, &profile, Utc::now())?;
                emails.push(email);
            }
            Ok(emails)
        })
    })
    .await
    .expect("people added")
}

/// The instance (by index) that dispatches the tenant now, from the lease row's owner
/// (`host-pid-tag`).
async fn owner(db: &Db, fleet: &Fleet) -> Option<usize> {
    let owners = db.run(dispatch::owners).await.ok()?;
    let (_, name, _) = owners.into_iter().find(|(t, _, _)| t == TENANT)?;
    let pid: u32 = name.rsplit('-').nth(1)?.parse().ok()?;
    fleet.0.iter().position(|i| i.child.id() == pid)
}

fn shell(command: &str) {
    let status = Command::new("sh").arg("-c").arg(command).status().unwrap();
    assert!(status.success(), "`{command}` failed: {status}");
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(herald_postgres),
    ignore = "set HERALD_TEST_POSTGRES_URL to run this on PostgreSQL"
)]
async fn three_instances_deliver_a_campaign_through_a_kill_and_a_database_outage() {
    let recipients = env_number("HERALD_SCALE_RECIPIENTS", 1_500);
    // The fake counts sends when they arrive, and four processes plus PostgreSQL share two
    // cores here: receipts were seen up to ~10 ms late in a release build (one second then held
    // 51 sends spaced 20 ms apart), far more in a debug build. The margin is the setting for
    // exactly that jitter (`delivery.window_margin`); 20 ms paces at 49 per second.
    let margin_ms = if cfg!(debug_assertions) { 60 } else { 20 };

    let proxy = Proxy::start("127.0.0.1:5432").await;
    let test_db = TestDb::new(Backend::Postgres);
    let db = Db::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 4).unwrap();

    let login = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/botframework.com/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": BEARER
        })))
        .mount(&login)
        .await;
    let connector = MockServer::start().await;
    let received = record_posts(&connector, ACTIVITIES, |_| {
        sent().set_delay(Duration::from_millis(20))
    })
    .await;

    let seeding = Instant::now();
    let emails = add_people(&db, &format!("{}/", connector.uri()), recipients).await;
    let start = Utc::now() + TimeDelta::seconds(3);
    let campaign = db
        .run(move |conn| {
            let list = lists::create(conn, TENANT, "everyone", "admin", &emails, start)?.unwrap();
            let settings = campaigns::Settings {
                list_id: list.id,
                channel: "msteams".into(),
                start_at: start,
                time_zone: "Europe/Paris".into(),
                // Shorter than the send time at 50 per second: the dispatcher runs flat out.
                duration_minutes: 1,
                hours: "always".into(),
                presence: "any".into(),
                message: "Bonjour [FIRSTNAME] [LASTNAME]".into(),
            };
            Ok(
                campaigns::create(conn, TENANT, "scale", "admin", &settings, 7, start)?
                    .campaign()
                    .unwrap(),
            )
        })
        .await
        .unwrap();
    eprintln!(
        "scale: {recipients} people and the campaign stored in {:?}",
        seeding.elapsed()
    );

    let db_url = test_db.url.replacen("127.0.0.1:5432", &proxy.addr, 1);
    let toml = format!(
        r#"[database]
url = "{db_url}"
max_connections = 4

[bot]
app_id = "{APP_ID}"
app_password = "{APP_PASSWORD}"
openid_metadata_url = "{login}/channel/.well-known/openidconfiguration"
emulator_openid_metadata_url = "{login}/emulator/.well-known/openid-configuration"
token_endpoint = "{login}/{{tenant}}/oauth2/v2.0/token"

[delivery]
global_rps = {GLOBAL_RPS}
concurrency = {CONCURRENCY}
tenant_lease = "{lease}s"
window_margin = "{margin_ms}ms"
"#,
        login = login.uri(),
        lease = TENANT_LEASE.as_secs(),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = Fleet(
        (0..INSTANCES)
            .map(|n| Instance::start(dir.path(), n, &toml))
            .collect(),
    );
    let client = reqwest::Client::new();
    for i in &fleet.0 {
        wait_for(Duration::from_secs(30), "an instance ready", || async {
            i.ready(&client).await == 200
        })
        .await;
    }

    // 1. Kill the instance that dispatches the tenant, a quarter of the way through.
    // Generous waits: sending goes at GLOBAL_RPS at best.
    let sending = |n: usize| Duration::from_secs(60 + 2 * (n / GLOBAL_RPS) as u64);
    wait_for(sending(recipients / 4), "a quarter delivered", || async {
        received.len() >= recipients / 4
    })
    .await;
    let victim = owner(&db, &fleet)
        .await
        .expect("an instance owns the tenant");
    fleet.0[victim].child.kill().unwrap();
    let killed_at = Instant::now();
    fleet.0[victim].child.wait().unwrap();
    let at_kill = received.len();
    // A send the victim wrote before it died may still be taken in by the fake connector just
    // after: only sends from a moment after its death are a survivor's (on a loaded machine,
    // one came in after the kill while the victim still held the tenant). The takeover is
    // still timed from the kill.
    tokio::time::sleep(STRAGGLERS).await;
    let after_stragglers = Instant::now();
    wait_for(TENANT_LEASE * 3, "sends after the kill", || async {
        received.times().iter().any(|t| *t > after_stragglers)
    })
    .await;
    let resumed = received
        .times()
        .into_iter()
        .filter(|t| *t > after_stragglers)
        .min()
        .unwrap()
        - killed_at;
    let survivors: Vec<usize> = (0..INSTANCES).filter(|i| *i != victim).collect();
    let new_owner = owner(&db, &fleet).await.expect("a new owner");
    assert!(survivors.contains(&new_owner));
    eprintln!(
        "scale: killed instance {victim} (SIGKILL) after {at_kill} sends; instance {new_owner} \
         resumed sending {resumed:?} later"
    );
    // Bound: the claim runs out (at most one lease after its last renewal) and a survivor's
    // next round (every third of a lease) takes it.
    let bound = TENANT_LEASE + TENANT_LEASE / 3 + Duration::from_secs(2);
    assert!(
        resumed <= bound,
        "took over after {resumed:?} (bound {bound:?})"
    );

    // 2. Ten seconds without PostgreSQL, past half way.
    wait_for(
        Duration::from_secs(600),
        "more than half delivered",
        || async { received.len() >= recipients * 11 / 20 },
    )
    .await;
    let server_commands = (
        std::env::var("HERALD_SCALE_DB_STOP").ok(),
        std::env::var("HERALD_SCALE_DB_START").ok(),
    );
    match &server_commands {
        (Some(stop), Some(_)) => shell(stop),
        _ => proxy.cut().await,
    }
    let cut = Instant::now();
    let at_cut = received.len();
    let mut first_503 = [None; INSTANCES];
    while cut.elapsed() < Duration::from_secs(10) {
        for &i in &survivors {
            let status = fleet.0[i].ready(&client).await;
            if status == 503 && first_503[i].is_none() {
                first_503[i] = Some(cut.elapsed());
            }
            if first_503[i].is_some() {
                assert_eq!(
                    status, 503,
                    "instance {i} ready again while the database is away"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for &i in &survivors {
        let t = first_503[i].unwrap_or_else(|| panic!("instance {i} never said 503"));
        assert!(
            t < Duration::from_secs(3),
            "instance {i}: 503 only after {t:?}"
        );
    }
    let during = received.len() - at_cut;
    match &server_commands {
        (Some(_), Some(start)) => shell(start),
        _ => proxy.restore(),
    }
    // Without the database nothing new is leased: only what was leased ahead (two rounds of
    // sending slots) and what was in flight can go out.
    assert!(
        during <= 3 * CONCURRENCY,
        "{during} sends while the database was away"
    );
    eprintln!(
        "scale: database cut for 10 s after {at_cut} sends; /readyz 503 after {:?}; {during} \
         sends went out during the outage (already leased)",
        first_503.iter().flatten().max().unwrap()
    );

    // 3. The campaign completes.
    wait_delivered(&db, &campaign.id, Some(recipients), sending(recipients)).await;
    // The survivors stop (SIGTERM: each finishes its in-flight sends, then exits): once they
    // have exited, no copy can still be on its way.
    for &i in &survivors {
        let pid = fleet.0[i].child.id().to_string();
        let signalled = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(
            signalled.is_ok_and(|s| s.success()),
            "SIGTERM to instance {i}"
        );
    }
    let stopping = Instant::now();
    for &i in &survivors {
        while fleet.0[i]
            .child
            .try_wait()
            .expect("instance status")
            .is_none()
        {
            assert!(
                stopping.elapsed() < Duration::from_secs(30),
                "instance {i} did not stop"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let log = received.0.lock().unwrap().clone();
    let mut per_chat: HashMap<String, Vec<Instant>> = HashMap::new();
    for (t, p) in &log {
        per_chat.entry(p.clone()).or_default().push(*t);
    }
    assert_eq!(per_chat.len(), recipients, "every recipient reached");
    let duplicates: Vec<_> = per_chat.values().filter(|ts| ts.len() > 1).collect();
    for ts in &duplicates {
        assert_eq!(ts.len(), 2, "sent {} times", ts.len());
        // The first copy was on the wire (or its outcome on its way) when the owner died.
        let before = killed_at.saturating_duration_since(ts[0]);
        assert!(
            ts[0] <= killed_at && before < Duration::from_secs(1),
            "a duplicate whose first copy was not in flight at the kill ({before:?} before it)"
        );
    }
    assert!(
        duplicates.len() <= CONCURRENCY,
        "{} duplicates, more than the sends in flight",
        duplicates.len()
    );
    let mut times: Vec<Instant> = log.iter().map(|(t, _)| *t).collect();
    times.sort();
    let peak = max_in_window(&times, Duration::from_secs(1));
    if peak > GLOBAL_RPS {
        // Where it happened, to tell a second sender from receipt jitter.
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= Duration::from_secs(1) {
                start += 1;
            }
            if end - start + 1 > GLOBAL_RPS {
                let gaps: Vec<u128> = times[start..=end]
                    .windows(2)
                    .map(|w| (w[1] - w[0]).as_millis())
                    .collect();
                eprintln!(
                    "scale: {} sends in the second from {:?} after the kill / {:?} after the \
                     cut; gaps (ms) {gaps:?}",
                    end - start + 1,
                    times[start].saturating_duration_since(killed_at),
                    times[start].saturating_duration_since(cut),
                );
            }
        }
    }
    let took =
        log.iter().map(|(t, _)| *t).max().unwrap() - log.iter().map(|(t, _)| *t).min().unwrap();
    eprintln!(
        "scale: {recipients} recipients, {} sends, {} duplicates (in flight at the kill), busiest \
         second {peak} (global_rps {GLOBAL_RPS}), first to last send {took:?}",
        log.len(),
        duplicates.len()
    );
    for i in &fleet.0 {
        let text = std::fs::read_to_string(&i.log).unwrap_or_default();
        for line in text.lines().filter(|l| l.contains("took over")) {
            eprintln!("scale: log: {line}");
        }
    }
    assert!(peak <= GLOBAL_RPS, "{peak} sends in one second");
}
