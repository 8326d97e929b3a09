//! Reading the audit log: `herald audit [--since] [--json]` and the admin chat command `audit`.

mod common;

use chrono::{TimeDelta, Utc};
use serde_json::Value;

use common::{Backend, TENANT, TestApp, spawn_app_with};
use herald::store::audit;

on_both_backends!(
    the_chat_audit_shows_the_tenants_latest_actions_in_pages,
    herald_audit_prints_the_latest_actions,
);

const ADMIN: &str = "admins = [\"aad-boss\"]";

fn herald_audit(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(&app.config_path)
        .arg("audit")
        .args(args)
        .output()
        .expect("herald audit runs")
}

fn audit_json(app: &TestApp, args: &[&str]) -> Vec<Value> {
    let out = herald_audit(app, &[&["--json"], args].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

async fn the_chat_audit_shows_the_tenants_latest_actions_in_pages(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    // Another tenant's entry, which nobody here may see.
    app.app_db
        .run(|conn| {
            audit::record(
                conn,
                "tenant-other",
                "spy",
                "list show secrets",
                "ok",
                Utc::now(),
            )
        })
        .await
        .unwrap();
    app.say("29:boss", "list create team ada@contoso.com", "en-US")
        .await;
    let refusal = app.say("29:eve", "audit", "en-US").await;
    assert!(
        refusal.starts_with("Sorry, only herald's administrators"),
        "{refusal}"
    );

    let page = app.say("29:boss", "audit", "en-US").await;
    assert!(
        page.starts_with("**Audit log** (page 1/1, latest first):"),
        "{page}"
    );
    let lines: Vec<&str> = page.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(lines.len(), 2, "{page}");
    // Newest first, in the admin's zone (Europe/Paris in the test activities).
    assert!(
        lines[0].contains("aad-eve · `audit` · refused: not an admin"),
        "{page}"
    );
    assert!(
        lines[1].contains("aad-boss · `list create team ada@contoso.com` · ok"),
        "{page}"
    );
    assert!(
        lines[0].contains("CET") || lines[0].contains("CEST"),
        "{page}"
    );
    assert!(
        !page.contains("secrets"),
        "another tenant's entry shown: {page}"
    );
    let help = app.say("29:boss", "help", "en-US").await;
    assert!(
        help.contains("**audit** [*page*]: the latest admin actions"),
        "{help}"
    );

    // 25 more actions: two pages of 20.
    for i in 0..25 {
        app.say("29:boss", &format!("list show team{i}"), "en-US")
            .await;
    }
    let page = app.say("29:boss", "audit", "en-US").await;
    assert!(
        page.starts_with("**Audit log** (page 1/2, latest first):"),
        "{page}"
    );
    assert_eq!(page.lines().filter(|l| l.starts_with("- ")).count(), 20);
    assert!(
        page.contains("`list show team24` · refused: unknown list"),
        "{page}"
    );
    assert!(page.ends_with("Type **audit 2** for more."), "{page}");
    let fr = app.say("29:boss", "audit 2", "fr-FR").await;
    assert!(
        fr.starts_with("**Journal d'audit** (page 2/2, les plus récentes d'abord) :"),
        "{fr}"
    );
    assert!(
        fr.contains("`list create team ada@contoso.com` · ok"),
        "{fr}"
    );
    assert!(!fr.contains("pour la suite"), "{fr}");
    let none = app.say("29:boss", "audit 9", "en-US").await;
    assert_eq!(none, "There is no page 9: the audit log has 2.");
    let bad = app.say("29:boss", "audit soon", "en-US").await;
    assert!(
        bad.contains("`audit` needs a page number, for example `audit 2`"),
        "{bad}"
    );
}

async fn herald_audit_prints_the_latest_actions(backend: Backend) {
    let app = spawn_app_with(backend, ADMIN).await;
    let old = Utc::now() - TimeDelta::days(10);
    app.app_db
        .run(move |conn| audit::record(conn, TENANT, "aad-boss", "lists", "ok", old))
        .await
        .unwrap();
    app.say("29:boss", "list create team ada@contoso.com", "en-US")
        .await;
    app.say("29:eve", "lists", "en-US").await;

    let all = audit_json(&app, &[]);
    let actions: Vec<(&str, &str, &str)> = all
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("aad-eve", "lists", "refused: not an admin"),
            ("aad-boss", "list create team ada@contoso.com", "ok"),
            ("aad-boss", "lists", "ok"),
        ]
    );
    assert_eq!(all[0]["tenant_id"], TENANT);
    assert!(all[0]["at"].as_str().unwrap().ends_with('Z'), "{all:?}");

    assert_eq!(audit_json(&app, &["--since", "7d"]).len(), 2);
    let date = (Utc::now() - TimeDelta::days(1))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(audit_json(&app, &["--since", &date]).len(), 2);
    assert_eq!(audit_json(&app, &["--since", "2100-01-01"]).len(), 0);
    assert_eq!(audit_json(&app, &["--limit", "1"]).len(), 1);

    let table = herald_audit(&app, &[]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains(&format!("{TENANT}  aad-eve  lists  refused: not an admin")),
        "{text}"
    );
    let bad = herald_audit(&app, &["--since", "soon"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("`soon` is neither a date"), "{err}");
}

#[test]
fn help_lists_the_audit_command() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["audit", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["--since", "--json", "--limit"] {
        assert!(text.contains(word), "{word} missing:\n{text}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit"));
}
