//! Admin commands in the chat: lists, refusals, the audit log, languages, allowed tenants.

mod common;

use common::{Backend, TENANT, TestApp, spawn_app_with};
use herald::store::audit;

on_both_backends!(
    an_admin_manages_lists_and_sees_who_installed,
    a_non_admin_is_refused_politely_and_audited,
    a_french_admin_gets_french_replies,
    an_admin_of_another_tenant_is_refused,
    activities_from_tenants_outside_the_allowed_list_are_ignored,
);

async fn audit_log(app: &TestApp) -> Vec<(String, String, String)> {
    app.app_db
        .run(|conn| audit::recent(conn, TENANT, 50))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.outcome))
        .collect()
}

async fn an_admin_manages_lists_and_sees_who_installed(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]").await;
    // u1 installs: the fake connector gives them ada.u1@contoso.com.
    app.post_signed(&app.install("f:i1", "29:u1")).await;

    let reply = app
        .say(
            "29:boss",
            "list create team ada.u1@contoso.com, Bob@Contoso.com nonsense",
            "en-US",
        )
        .await;
    assert!(
        reply.contains("List **team** created with 2 members."),
        "{reply}"
    );
    assert!(
        reply.contains("Ignored (not emails, groups or Skype ids): nonsense"),
        "{reply}"
    );

    let reply = app.say("29:boss", "list show team", "en-US").await;
    assert!(reply.starts_with("**team**: 1/2 installed"), "{reply}");
    assert!(reply.contains("ada.u1@contoso.com (installed)"), "{reply}");
    assert!(reply.contains("bob@contoso.com (not installed)"), "{reply}");

    let reply = app
        .say(
            "29:boss",
            "list add team\ncarol@contoso.com\nbob@contoso.com",
            "en-US",
        )
        .await;
    assert!(reply.contains("1 added to **team** (now 3)."), "{reply}");
    let reply = app
        .say("29:boss", "list remove team bob@contoso.com", "en-US")
        .await;
    assert!(
        reply.contains("1 removed from **team** (now 2)."),
        "{reply}"
    );
    let reply = app.say("29:boss", "lists", "en-US").await;
    assert_eq!(reply, "- **team** (2 members)");
    let reply = app
        .say("29:boss", "list create Team x@y.com", "en-US")
        .await;
    assert!(
        reply.contains("already exists"),
        "names are case-insensitive: {reply}"
    );
    let reply = app.say("29:boss", "list show nowhere", "en-US").await;
    assert!(
        reply.contains("There is no list named **nowhere**"),
        "{reply}"
    );
    let reply = app.say("29:boss", "list delete team", "en-US").await;
    assert!(reply.contains("List **team** deleted."), "{reply}");
    assert_eq!(app.say("29:boss", "lists", "en-US").await, "No lists yet.");
    let reply = app.say("29:boss", "list frobnicate team", "en-US").await;
    assert!(
        reply.contains("`frobnicate`") && reply.contains("create, add"),
        "{reply}"
    );

    // Admins see the admin commands in help; everything was audited as the admin.
    let help = app.say("29:boss", "help", "en-US").await;
    assert!(help.contains("admin commands"), "{help}");
    let log = audit_log(&app).await;
    assert_eq!(log.len(), 10, "{log:?}");
    assert!(log.iter().all(|(actor, _, _)| actor == "aad-boss"));
    assert!(
        log.iter()
            .any(|(_, action, outcome)| action == "list delete team" && outcome == "ok")
    );
    assert!(
        log.iter()
            .any(|(_, _, outcome)| outcome == "refused: duplicate name")
    );
}

async fn a_non_admin_is_refused_politely_and_audited(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-boss\"]").await;
    let reply = app
        .say("29:mallory", "list create secret a@b.com", "en-US")
        .await;
    assert!(
        reply.starts_with("Sorry, only herald's administrators"),
        "{reply}"
    );
    let reply = app.say("29:mallory", "campaign create x", "en-US").await;
    assert!(reply.starts_with("Sorry"), "{reply}");
    let help = app.say("29:mallory", "help", "en-US").await;
    assert!(!help.contains("admin commands"), "{help}");
    let log = audit_log(&app).await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|(actor, _, outcome)| actor == "aad-mallory" && outcome == "refused: not an admin"));
    let lists = app
        .app_db
        .run(|conn| herald::store::lists::all(conn, TENANT))
        .await
        .unwrap();
    assert!(lists.is_empty(), "nothing was created");
}

async fn a_french_admin_gets_french_replies(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"aad-chef\"]").await;
    let reply = app
        .say("29:chef", "liste créer équipe ada@contoso.com", "fr-FR")
        .await;
    assert_eq!(reply, "Liste **équipe** créée avec 1 membre.");
    let reply = app.say("29:chef", "liste afficher équipe", "fr-FR").await;
    assert!(reply.starts_with("**équipe**: 0/1 installés"), "{reply}");
    // A broadcast needs a sender herald knows (one who installed it).
    let reply = app
        .say("29:chef", "diffusion tous\nsujet: Test\nBonjour", "fr-FR")
        .await;
    assert!(reply.contains("Je ne vous connais pas encore"), "{reply}");
    let reply = app
        .say("29:someone", "liste créer y a@b.com", "fr-FR")
        .await;
    assert!(reply.starts_with("Désolé"), "{reply}");
}

async fn an_admin_of_another_tenant_is_refused(backend: Backend) {
    let app = spawn_app_with(backend, "admins = [\"fabrikam-id/aad-boss\"]").await;
    let reply = app.say("29:boss", "lists", "en-US").await;
    assert!(reply.starts_with("Sorry"), "{reply}");
    let app2 = spawn_app_with(backend, &format!("admins = [\"{TENANT}/aad-boss\"]")).await;
    assert_eq!(app2.say("29:boss", "lists", "en-US").await, "No lists yet.");
    // An admin named by UPN is recognised from the profile stored at install.
    let app3 = spawn_app_with(backend, "admins = [\"Ada.U1@contoso.com\"]").await;
    app3.post_signed(&app3.install("f:i1", "29:u1")).await;
    assert_eq!(app3.say("29:u1", "lists", "en-US").await, "No lists yet.");
    assert!(
        app3.say("29:u2", "lists", "en-US")
            .await
            .starts_with("Sorry")
    );
}

async fn activities_from_tenants_outside_the_allowed_list_are_ignored(backend: Backend) {
    let app = spawn_app_with(backend, "allowed_tenants = [\"fabrikam-id\"]").await;
    let activity = app.message("1:x", "29:u1", "help");
    assert_eq!(app.post_signed(&activity).await.status(), 200);
    assert!(app.sent_messages().await.is_empty());
    assert_eq!(
        app.post_signed(&app.install("f:y", "29:u1")).await.status(),
        200
    );
    assert!(app.users_json().is_empty());
}
