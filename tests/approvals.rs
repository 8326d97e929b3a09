//! Four-eyes approval end to end (`[approval] required = true`): a broadcast or campaign an
//! admin sends waits; each approver gets a card; the first decision wins; the author is told;
//! every step is audited. An author cannot approve their own; a start passed while waiting is
//! not sent late; with approval off (or off for the tenant) nothing changes.

mod common;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use common::*;
use herald::store::{audit, campaigns};

/// A broadcast with a `send:` time: the approvers see when it is to go; once approved it is
/// scheduled for that time (nothing goes now) and its author is told when.
async fn an_approved_broadcast_with_a_send_time_is_scheduled(backend: Backend) {
    let app = setup(backend, APPROVAL).await;
    let day = (Utc::now() + TimeDelta::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let reply = app
        .tell(
            ADMIN,
            &format!("broadcast staff\nsend: {day} 09:00\ntimezone: UTC\nsubject: Later\nSoon."),
            "en-US",
        )
        .await;
    assert!(reply.contains("**Later** awaits approval"), "{reply}");
    let data = approval_cards(&app, "Later").await;
    let card = sent_with_summary(&app, "Approval requested: Later").await[0]
        .1
        .to_string();
    assert!(
        card.contains(&format!("At {day} 09:00 UTC (UTC)")),
        "{card}"
    );
    let approved = card_text(&press(&app, "29:a1", &data, "approve", "").await);
    assert!(approved.contains("was approved by"), "{approved}");
    wait_for(WAIT, "the author told", || async {
        texts_to(&app, "a:conv-boss").await.iter().any(|t| {
            t.contains(&format!(
                "approved **Later**: it is broadcast **#1**, scheduled for {day} 09:00 UTC (UTC)"
            ))
        })
    })
    .await;
    app.drained("everything sent").await;
    assert!(
        sent_with_summary(&app, "Later").await.is_empty(),
        "nothing now"
    );
    let list = app.tell(ADMIN, "broadcasts", "en-US").await;
    assert!(
        list.contains(&format!("scheduled for {day} 09:00")),
        "{list}"
    );
}

on_both_backends!(
    an_approved_broadcast_with_a_send_time_is_scheduled,
    a_broadcast_waits_for_approval_and_goes_once_approved,
    a_rejection_with_its_reason_reaches_the_author_and_sends_nothing,
    two_approvers_pressing_at_once_give_one_decision,
    a_campaign_waits_and_a_start_passed_while_waiting_is_not_sent,
    approval_off_or_off_for_the_tenant_changes_nothing,
);

const ADMIN: &str = "29:boss";
const WAIT: Duration = Duration::from_secs(30);
/// `boss` is an admin and an approver (never of their own); `a1` approves by object id, `a2`
/// by UPN.
const APPROVAL: &str = "admins = [\"aad-boss\"]\n[approval]\nrequired = true\n\
    approvers = [\"aad-boss\", \"AAD-a1\", \"ada.a2@contoso.com\"]\n";

async fn setup_on(app: TestApp) -> TestApp {
    for (id, user) in [("f:boss", ADMIN), ("f:a1", "29:a1"), ("f:a2", "29:a2")] {
        assert_eq!(app.post_signed(&app.install(id, user)).await.status(), 200);
    }
    for i in 0..3 {
        let install = app.install(&format!("f:u{i}"), &format!("29:u{i}"));
        assert_eq!(app.post_signed(&install).await.status(), 200);
    }
    let reply = app
        .tell(
            ADMIN,
            "list create staff ada.u0@contoso.com ada.u1@contoso.com ada.u2@contoso.com",
            "en-US",
        )
        .await;
    assert!(reply.contains("created with 3 members"), "{reply}");
    app
}

async fn setup(backend: Backend, settings: &str) -> TestApp {
    setup_on(spawn_app_with(backend, settings).await).await
}

/// The messages the connector received whose summary is `summary`, by conversation.
async fn sent_with_summary(app: &TestApp, summary: &str) -> Vec<(String, Value)> {
    app.sent_messages()
        .await
        .into_iter()
        .filter_map(|r| r.body_json::<Value>().ok())
        .filter(|b| b["summary"] == summary)
        .map(|b| {
            (
                b["conversation"]["id"].as_str().unwrap_or("").to_string(),
                b,
            )
        })
        .collect()
}

/// Texts sent to `conversation` (e.g. `a:conv-boss`).
async fn texts_to(app: &TestApp, conversation: &str) -> Vec<String> {
    app.sent_messages()
        .await
        .into_iter()
        .filter_map(|r| r.body_json::<Value>().ok())
        .filter(|b| b["conversation"]["id"] == conversation)
        .filter_map(|b| b["text"].as_str().map(str::to_string))
        .collect()
}

/// Waits for the approval cards of `title` (one per approver but the author); returns the
/// data of the Approve action.
async fn approval_cards(app: &TestApp, title: &str) -> Value {
    let summary = format!("Approval requested: {title}");
    wait_for(WAIT, "the approval cards", || async {
        sent_with_summary(app, &summary).await.len() == 2
    })
    .await;
    let cards = sent_with_summary(app, &summary).await;
    let mut to: Vec<&str> = cards.iter().map(|(c, _)| c.as_str()).collect();
    to.sort();
    assert_eq!(to, ["a:conv-a1", "a:conv-a2"], "never the author");
    let card = &cards[0].1["attachments"][0]["content"];
    assert_eq!(card["actions"][0]["type"], "Action.Execute");
    card["actions"][0]["data"].clone()
}

/// `user` presses a request's button (`decision`, with `reason` typed in the box).
async fn press(app: &TestApp, user: &str, data: &Value, decision: &str, reason: &str) -> Value {
    press_in(app, user, data, decision, reason, "en-US").await
}

/// `press` from a Teams client in `locale`.
async fn press_in(
    app: &TestApp,
    user: &str,
    data: &Value,
    decision: &str,
    reason: &str,
    locale: &str,
) -> Value {
    let mut data = data.clone();
    data["decision"] = json!(decision);
    data["reason"] = json!(reason);
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, "");
    a.as_object_mut().unwrap().remove("text");
    a["type"] = json!("invoke");
    a["name"] = json!("adaptiveCard/action");
    a["locale"] = json!(locale);
    a["value"] = json!({"action": {"type": "Action.Execute", "verb": decision, "data": data}, "trigger": "manual"});
    let response = app.post_signed(&a).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("an invoke response")
}

fn refused(body: &Value, code: &str, says: &str) {
    assert_eq!(body["statusCode"], 400, "{body}");
    assert_eq!(body["value"]["code"], code, "{body}");
    let message = body["value"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{body}");
}

fn card_text(body: &Value) -> String {
    assert_eq!(body["statusCode"], 200, "{body}");
    body["value"].to_string()
}

/// The tenant's audit log, oldest first: `action → outcome`.
async fn audit_lines(app: &TestApp) -> Vec<String> {
    let mut rows = app
        .app_db
        .run(|c| audit::recent(c, TENANT, 200))
        .await
        .unwrap();
    rows.reverse();
    rows.into_iter()
        .map(|e| format!("{} | {} → {}", e.actor, e.action, e.outcome))
        .collect()
}

async fn a_broadcast_waits_for_approval_and_goes_once_approved(backend: Backend) {
    let app = setup(backend, APPROVAL).await;
    let reply = app
        .tell(
            ADMIN,
            "broadcast staff\nsubject: Lunch\nPizza at noon",
            "en-US",
        )
        .await;
    assert!(
        reply.contains("**Lunch** awaits approval: 2 approvers were asked"),
        "{reply}"
    );
    let data = approval_cards(&app, "Lunch").await;
    let card = sent_with_summary(&app, "Approval requested: Lunch").await[0].1["attachments"][0]
        ["content"]
        .to_string();
    for shown in [
        "Pizza at noon",
        "staff: 3 people (0 not installed)",
        "As soon as it is approved",
        "Input.Text",
        "Approve",
        "Reject",
    ] {
        assert!(card.contains(shown), "{shown} in {card}");
    }
    app.drained("the approval cards").await;
    assert!(
        sent_with_summary(&app, "Lunch").await.is_empty(),
        "nothing before approval"
    );
    // Nothing is edited behind the approvers' back.
    let edit = app
        .tell(
            ADMIN,
            "broadcast edit 1\nsubject: Lunch\nBeer at noon",
            "en-US",
        )
        .await;
    assert!(edit.contains("Approval is required here"), "{edit}");
    // The author, an approver too, cannot approve their own.
    refused(
        &press(&app, ADMIN, &data, "approve", "").await,
        "OwnRequest",
        "cannot approve their own",
    );
    // Nor can someone who is not an approver; a rejection needs its reason.
    refused(
        &press(&app, "29:u0", &data, "approve", "").await,
        "NotApprover",
        "not an approver",
    );
    refused(
        &press(&app, "29:a1", &data, "reject", "  ").await,
        "NeedsReason",
        "reason",
    );
    let approved = card_text(&press(&app, "29:a1", &data, "approve", "").await);
    assert!(
        approved.contains("was approved by Ada Lovelace a1"),
        "{approved}"
    );
    wait_for(WAIT, "the broadcast's cards", || async {
        sent_with_summary(&app, "Lunch").await.len() == 3
    })
    .await;
    wait_for(WAIT, "the author told", || async {
        texts_to(&app, "a:conv-boss").await.iter().any(|t| {
            t.contains(
                "Ada Lovelace a1 approved **Lunch**: broadcast **#1** is on its way to 3 people",
            )
        })
    })
    .await;
    // The second approver sees who decided; nothing is sent twice.
    let second = card_text(&press(&app, "29:a2", &data, "approve", "").await);
    assert!(
        second.contains("was approved by Ada Lovelace a1"),
        "{second}"
    );
    app.drained("everything sent").await;
    assert_eq!(sent_with_summary(&app, "Lunch").await.len(), 3);
    let log = audit_lines(&app).await.join("\n");
    for step in [
        "aad-boss | broadcast staff → ok: awaiting approval",
        "aad-boss | approval request: broadcast Lunch → asked 2 approvers",
        "aad-boss | approve broadcast: Lunch → refused: own request",
        "aad-u0 | approve broadcast: Lunch → refused: not an approver",
        "aad-a1 | reject broadcast: Lunch → refused: no reason",
        "aad-a1 | approve broadcast: Lunch → approved",
        "aad-boss | approved broadcast released: Lunch → broadcast #1",
        "aad-a2 | approve broadcast: Lunch → refused: already approved",
    ] {
        assert!(log.contains(step), "{step} in\n{log}");
    }
}

async fn a_rejection_with_its_reason_reaches_the_author_and_sends_nothing(backend: Backend) {
    let app = setup(backend, APPROVAL).await;
    // In French: the approver's card, the refusal and the author's notice.
    let reply = app
        .tell(
            ADMIN,
            "diffusion staff\nsujet: Fête\nVendredi à 18 h",
            "fr-FR",
        )
        .await;
    assert!(reply.contains("**Fête** attend une validation"), "{reply}");
    let data = approval_cards(&app, "Fête").await;
    let own = press_in(&app, ADMIN, &data, "approve", "", "fr-FR").await;
    refused(
        &own,
        "OwnRequest",
        "un auteur ne peut pas valider son propre message",
    );
    let rejected = card_text(&press(&app, "29:a2", &data, "reject", "Wrong date").await);
    assert!(
        rejected.contains("was rejected by Ada Lovelace a2"),
        "{rejected}"
    );
    assert!(rejected.contains("Wrong date"), "{rejected}");
    wait_for(WAIT, "the author told", || async {
        texts_to(&app, "a:conv-boss").await.iter().any(|t| {
            t.contains("Ada Lovelace a2") && t.contains("**Fête**") && t.contains("Wrong date")
        })
    })
    .await;
    app.drained("everything sent").await;
    assert!(
        sent_with_summary(&app, "Fête").await.is_empty(),
        "nothing sent"
    );
    let late = card_text(&press(&app, "29:a1", &data, "approve", "").await);
    assert!(late.contains("was rejected by Ada Lovelace a2"), "{late}");
    app.drained("everything sent").await;
    assert!(
        sent_with_summary(&app, "Fête").await.is_empty(),
        "still nothing sent"
    );
    let log = audit_lines(&app).await.join("\n");
    assert!(
        log.contains("aad-a2 | reject broadcast: Fête → rejected: Wrong date"),
        "{log}"
    );
}

async fn two_approvers_pressing_at_once_give_one_decision(backend: Backend) {
    let app = setup(backend, APPROVAL).await;
    app.tell(ADMIN, "broadcast staff\nsubject: Race\nWho wins?", "en-US")
        .await;
    let data = approval_cards(&app, "Race").await;
    let (one, two) = tokio::join!(
        press(&app, "29:a1", &data, "approve", ""),
        press(&app, "29:a2", &data, "reject", "No")
    );
    let (one, two) = (card_text(&one), card_text(&two));
    let approved = one.contains("was approved by Ada Lovelace a1");
    let rejected = two.contains("was rejected by Ada Lovelace a2");
    assert!(approved != rejected, "exactly one decision: {one} / {two}");
    // Both see the same decision.
    let decision = if approved {
        "was approved by Ada Lovelace a1"
    } else {
        "was rejected by Ada Lovelace a2"
    };
    assert!(
        one.contains(decision) && two.contains(decision),
        "{one} / {two}"
    );
    if approved {
        wait_for(WAIT, "the broadcast's cards", || async {
            sent_with_summary(&app, "Race").await.len() == 3
        })
        .await;
    }
    app.drained("everything sent").await;
    assert_eq!(
        sent_with_summary(&app, "Race").await.len(),
        if approved { 3 } else { 0 }
    );
    let log = audit_lines(&app).await;
    let decided = log
        .iter()
        .filter(|l| l.ends_with("→ approved") || l.ends_with("→ rejected: No"))
        .count();
    let refused = log
        .iter()
        .filter(|l| l.contains("refused: already"))
        .count();
    assert_eq!((decided, refused), (1, 1), "{log:#?}");
}

const CAMPAIGN_SETTINGS: &str = "admins = [\"aad-boss\"]\n[approval]\nrequired = true\n\
    approvers = [\"aad-a1\", \"aad-a2\"]\n";

fn campaign_command(name: &str, start: chrono::DateTime<Utc>) -> String {
    format!(
        "campaign create {name}\nlist: staff\nstart: {}\nduration: 1h\nhours: always\n\
         timezone: UTC\npresence: any\nmessage:\nHello [FIRSTNAME] [LASTNAME]",
        start.format("%Y-%m-%d %H:%M")
    )
}

async fn status_of(app: &TestApp, name: &'static str) -> String {
    app.app_db
        .run(move |c| campaigns::find(c, TENANT, name))
        .await
        .unwrap()
        .unwrap()
        .status
        .to_string()
}

/// Campaign messages to the list's members starting with `greeting` (herald's welcome says
/// "Hello Ada!").
async fn campaign_sends(app: &TestApp, greeting: &str) -> usize {
    app.sent_messages()
        .await
        .into_iter()
        .filter_map(|r| r.body_json::<Value>().ok())
        .filter(|b| {
            b["text"].as_str().is_some_and(|t| t.starts_with(greeting))
                && b["conversation"]["id"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("a:conv-u"))
        })
        .count()
}

async fn a_campaign_waits_and_a_start_passed_while_waiting_is_not_sent(backend: Backend) {
    let clock = herald::domain::ManualClock::new(Utc::now());
    let app = setup_on(spawn_app_on_clock(backend, CAMPAIGN_SETTINGS, clock).await).await;
    // On time: approved before its start, it is scheduled and goes at its start.
    let reply = app
        .tell(
            ADMIN,
            &campaign_command("ontime", app.now() + TimeDelta::minutes(30)),
            "en-US",
        )
        .await;
    assert!(
        reply.contains("**ontime** saved, awaiting approval: 2 approvers were asked"),
        "{reply}"
    );
    assert_eq!(status_of(&app, "ontime").await, "awaiting approval");
    let data = approval_cards(&app, "ontime").await;
    let card = sent_with_summary(&app, "Approval requested: ontime").await;
    let to_a1 = card
        .iter()
        .find(|(c, _)| c == "a:conv-a1")
        .unwrap()
        .1
        .to_string();
    assert!(
        to_a1.contains("Hello Ada Lovelacea1"),
        "the approver's own names: {to_a1}"
    );
    assert!(to_a1.contains("staff: 3 people"), "{to_a1}");
    // Nothing is planned while it waits, even past its start.
    let late_reply = app
        .tell(
            ADMIN,
            &campaign_command("late", app.now() + TimeDelta::minutes(40)),
            "en-US",
        )
        .await;
    assert!(late_reply.contains("awaiting approval"), "{late_reply}");
    let late_data = approval_cards(&app, "late").await;
    let approved = card_text(&press(&app, "29:a1", &data, "approve", "").await);
    assert!(approved.contains("was approved by"), "{approved}");
    assert_eq!(status_of(&app, "ontime").await, "scheduled");
    app.advance(TimeDelta::hours(2));
    app.engine.wake();
    wait_for(WAIT, "the approved campaign sent", || async {
        campaign_sends(&app, "Hello Ada Lovelace").await == 3
    })
    .await;
    assert_eq!(
        status_of(&app, "late").await,
        "awaiting approval",
        "not planned"
    );
    // Approved after its start: nothing goes, the author is told to pick a new start.
    let body = card_text(&press(&app, "29:a2", &late_data, "approve", "").await);
    assert!(body.contains("was approved by Ada Lovelace a2"), "{body}");
    wait_for(WAIT, "the author told", || async {
        texts_to(&app, "a:conv-boss").await.iter().any(|t| {
            t.contains("approved **late**, but its start") && t.contains("Pick a new start")
        })
    })
    .await;
    app.advance(TimeDelta::hours(2));
    app.engine.wake();
    app.drained("everything sent").await;
    assert_eq!(
        campaign_sends(&app, "Hello Ada Lovelace").await,
        3,
        "the late one sent nothing"
    );
    assert_eq!(status_of(&app, "late").await, "awaiting approval");
    let log = audit_lines(&app).await.join("\n");
    assert!(
        log.contains("approve campaign: late → approved after the start: not sent"),
        "{log}"
    );
    assert!(log.contains("approve campaign: ontime → approved"), "{log}");
}

async fn approval_off_or_off_for_the_tenant_changes_nothing(backend: Backend) {
    let off_here = format!("{APPROVAL}[approval.tenants.\"{TENANT}\"]\nrequired = false\n");
    for settings in ["admins = [\"aad-boss\"]\n".to_string(), off_here] {
        let app = setup(backend, &settings).await;
        let reply = app
            .tell(
                ADMIN,
                "broadcast staff\nsubject: Direct\nNo waiting",
                "en-US",
            )
            .await;
        assert!(reply.contains("is on its way to 3 people"), "{reply}");
        wait_for(WAIT, "the cards", || async {
            sent_with_summary(&app, "Direct").await.len() == 3
        })
        .await;
        app.drained("everything sent").await;
        assert!(
            sent_with_summary(&app, "Approval requested: Direct")
                .await
                .is_empty()
        );
        let reply = app
            .tell(
                ADMIN,
                &campaign_command("plain", Utc::now() + TimeDelta::days(2)),
                "en-US",
            )
            .await;
        assert!(reply.contains("Campaign **plain** scheduled"), "{reply}");
        assert_eq!(status_of(&app, "plain").await, "scheduled");
    }
    // Required for another tenant only: this one is not held either.
    let elsewhere = "admins = [\"aad-boss\"]\n[approval.tenants.\"tenant-other\"]\nrequired = true\n\
        approvers = [\"aad-a1\"]\n";
    let app = setup(backend, elsewhere).await;
    let reply = app
        .tell(ADMIN, "broadcast staff\nsubject: Here\nNot held", "en-US")
        .await;
    assert!(reply.contains("is on its way to 3 people"), "{reply}");
}
