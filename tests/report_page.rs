//! The report page end to end: the card's link, the counts, the chart and the per-recipient
//! table with its status filter and search, the CSV link, the admin's language, escaping, and
//! expired or tampered links; then the same page in a real headless Chromium (DOM assertions,
//! console errors, screenshots kept under `target/test-artefacts/`).

mod common;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

use common::*;
use herald::domain::Lang;
use herald::domain::tracking::{ReportFile, ReportGrant, ReportKind, Signer};
use herald::store::deliveries::{self, Outcome};

const ADMIN: &str = "29:boss";
const PUBLIC: &str = "https://herald.example.com";
const WAIT: Duration = Duration::from_secs(20);
/// A name that would run a script, break an attribute or open a tag if it were not escaped.
const HOSTILE: &str = "<script>alert(\"x\")</script> Zoé O'Hara & Co";

/// The tracking secret the app made and keeps in its database.
async fn signer(app: &TestApp) -> Signer {
    let secret = app
        .app_db
        .run(|conn| herald::store::tracking::shared_secret(conn, Utc::now()))
        .await
        .unwrap();
    Signer::new(secret.as_bytes())
}

/// Our app's URL for a public one.
fn local(app: &TestApp, public: &str) -> String {
    public.replacen(PUBLIC, &app.address, 1)
}

async fn say_card(app: &TestApp, text: &str, locale: &str) -> Value {
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), ADMIN, text);
    a["locale"] = json!(locale);
    app.replies_to(&a).await.pop().expect("a reply")
}

/// The card's action titled `title`: its URL on our app.
fn action_url(app: &TestApp, card: &Value, title: &str) -> String {
    let content = &card["attachments"][0]["content"];
    let url = content["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "Action.OpenUrl" && a["title"] == title)
        .unwrap_or_else(|| panic!("an action {title:?} in {content}"))["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with(&format!("{PUBLIC}/reports/")), "{url}");
    local(app, &url)
}

/// A campaign of seven recipients and one member not installed: u0 delivered and read (and
/// clicked twice), u1 and u6 delivered and not read, u2 waiting for presence, u3 expired, u4
/// failed, u5 never installed but listed as `ghost`. u6's name is hostile HTML.
/// Returns the app and the campaign's id.
async fn campaign(backend: Backend) -> (TestApp, String) {
    let app = spawn_app_configured(
        backend,
        &format!("public_url = \"{PUBLIC}\""),
        "admins = [\"aad-boss\"]",
    )
    .await;
    Mock::given(method("GET"))
        .and(path_regex(r"/members/29(:|%3A)u6$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "29:u6", "name": HOSTILE, "objectId": "aad-u6", "givenName": "Zoé",
            "surname": "O'Hara", "email": "zoe.u6@contoso.com",
            "userPrincipalName": "zoe.u6@contoso.com", "tenantId": TENANT,
        })))
        .with_priority(1)
        .mount(&app.connector)
        .await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    for i in [0, 1, 2, 3, 4, 6] {
        app.post_signed(&app.install(&format!("f:u{i}"), &format!("29:u{i}")))
            .await;
    }
    app.say(
        ADMIN,
        "list create spring ada.u0@contoso.com ada.u1@contoso.com ada.u2@contoso.com \
         ada.u3@contoso.com ada.u4@contoso.com zoe.u6@contoso.com ghost@contoso.com",
        "en-US",
    )
    .await;
    let reply = app
        .say(
            ADMIN,
            "campaign create spring\nlist: spring\nstart: 2030-12-02 10:00\nduration: 2h\n\
             message:\nBonjour [FIRSTNAME], see https://intra.example.com/spring",
            "en-US",
        )
        .await;
    assert!(
        reply.starts_with("Campaign **spring** scheduled."),
        "{reply}"
    );
    let c = app
        .app_db
        .run(|conn| herald::store::campaigns::find(conn, TENANT, "spring"))
        .await
        .unwrap()
        .unwrap();
    let c2 = c.clone();
    app.app_db
        .run(move |conn| herald::engine::planner::plan(conn, &c2.id, c2.start_at.and_utc(), true))
        .await
        .unwrap();
    // Play the outcomes by hand, in the future the plan is due in.
    let later = c.start_at.and_utc() + TimeDelta::hours(3);
    let tenant = c.tenant_id.clone();
    let leased = app
        .app_db
        .run(move |conn| {
            let tenants = [tenant];
            deliveries::lease(
                conn,
                "test",
                &tenants,
                &[],
                later,
                later + TimeDelta::hours(1),
                10,
            )
        })
        .await
        .unwrap();
    assert_eq!(leased.len(), 6);
    let of = |n: usize| {
        leased
            .iter()
            .find(|l| l.user.conversation_id == format!("a:conv-u{n}"))
            .unwrap()
            .delivery
            .id
    };
    let delivered = |n: usize, activity: &str| Outcome::Delivered {
        id: of(n),
        activity_id: Some(activity.into()),
    };
    let outcomes = vec![
        delivered(0, "1"),
        delivered(1, "2"),
        delivered(6, "6"),
        Outcome::Absent {
            id: of(2),
            at: later + TimeDelta::minutes(10),
            step: 1,
            presence: Some("Away".into()),
        },
        Outcome::Expired {
            id: of(3),
            presence: Some("Offline".into()),
        },
        Outcome::Failed {
            id: of(4),
            reason: "refused".into(),
            error: "HTTP 400 BadArgument".into(),
            user_gone: None,
        },
    ];
    app.app_db
        .run(move |conn| deliveries::record(conn, "test", &outcomes, later))
        .await
        .unwrap();
    // u0 clicks the link twice and reads the message (a Teams read receipt).
    let token = signer(&app)
        .await
        .link_token(of(0), 0, Utc::now().timestamp() + 3600);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..2 {
        let r = no_redirects
            .get(format!("{}/l/{token}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
    }
    let mut a = app.message(&format!("1:{}", uuid::Uuid::new_v4()), "29:u0", "");
    a["type"] = json!("event");
    a["name"] = json!("application/vnd.microsoft.readReceipt");
    a["value"] = json!({ "lastReadMessageId": "1" });
    assert_eq!(app.post_signed(&a).await.status(), 200);
    (app, c.id)
}

/// The `<tbody>` rows' header cells (who each row is), in order.
fn row_names(html: &str) -> Vec<String> {
    let body = html
        .split("<tbody>")
        .nth(1)
        .and_then(|rest| rest.split("</tbody>").next())
        .expect("a table body");
    body.split("<tr><th scope=\"row\">")
        .skip(1)
        .map(|r| r.split("</th>").next().unwrap().to_string())
        .collect()
}

/// The value of the first `attr="…"` after `after` in `html`.
fn attr_after(html: &str, after: &str, attr: &str) -> String {
    let rest = &html[html
        .find(after)
        .unwrap_or_else(|| panic!("{after} in the page"))..];
    let start = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    rest[start..start + rest[start..].find('"').unwrap()].to_string()
}

/// `href` (relative) resolved against the page's URL.
fn resolve(page: &str, href: &str) -> String {
    url::Url::parse(page)
        .unwrap()
        .join(&href.replace("&amp;", "&"))
        .unwrap()
        .to_string()
}

async fn get(app: &TestApp, url: &str) -> (u16, String) {
    let r = app.client.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn the_page_shows_counts_chart_csv_and_filtered_recipients(backend: Backend) {
    let (app, id) = campaign(backend).await;
    let card = say_card(&app, "campaign report spring", "en-US").await;
    let page = action_url(&app, &card, "Open the report page");
    assert!(page.ends_with("/spring%2Ehtml"), "{page}");

    let r = app.client.get(&page).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'sha256-"),
        "{csp}"
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let html = r.text().await.unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "{html}"
    );
    assert!(html.contains("name=\"viewport\""));
    assert!(
        html.contains("<caption id=\"caption\">Recipients: 7 shown of 7</caption>"),
        "{html}"
    );
    assert!(html.contains("<label for=\"status\">Status</label>"));
    assert!(html.contains("<label for=\"q\">Search a name or address</label>"));
    assert!(html.contains("<th scope=\"col\">Reactions</th>"));
    // A campaign has no acknowledgements nor answers.
    assert!(!html.contains("Acknowledged") && !html.contains("<th scope=\"col\">Answer"));
    // Counts, also in the filter's choices.
    for (label, n) in [
        ("All", 7),
        ("Delivered", 3),
        ("Read", 1),
        ("Not read", 2),
        ("Waiting", 1),
        ("Failed", 1),
        ("Expired", 1),
        ("Not installed", 1),
        ("Clicked", 1),
    ] {
        assert!(
            html.contains(&format!("<dt>{label}</dt><dd>{n}</dd>")),
            "{label} {n}: {html}"
        );
        assert!(
            html.contains(&format!(">{label} ({n})</option>")),
            "{label} {n}"
        );
    }
    // One row per recipient; the hostile name is text, never markup.
    let names = row_names(&html);
    assert_eq!(names.len(), 7, "{names:?}");
    assert!(
        names.contains(&"ghost@contoso.com".to_string()),
        "{names:?}"
    );
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Zoé O&#x27;Hara &amp; Co"),
        "{html}"
    );
    assert!(html.contains("failed (refused)") && html.contains("waiting for presence"));
    assert!(html.contains("<td data-label=\"Clicks\">2</td>"));

    // The filter "not read": exactly the two unread.
    let (status, unread) = get(&app, &format!("{page}?status=unread")).await;
    assert_eq!(status, 200);
    let mut names = row_names(&unread);
    names.sort();
    assert_eq!(
        names,
        [
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Zoé O&#x27;Hara &amp; Co",
            "Ada Lovelace u1"
        ]
    );
    assert!(unread.contains("<option value=\"unread\" selected>"));
    // The search finds a person (case and spaces aside), with and without a filter.
    let (_, found) = get(&app, &format!("{page}?q=%20LOVELACE%20u3%20")).await;
    assert_eq!(row_names(&found), ["Ada Lovelace u3"]);
    assert!(
        found.contains("value=\"lovelace u3\""),
        "the box keeps the search"
    );
    let (_, none) = get(&app, &format!("{page}?status=read&q=u3")).await;
    assert!(row_names(&none).is_empty());
    assert!(none.contains("Nobody matches this status and search."));
    // Bad input is named, in the admin's language.
    let (status, bad) = get(&app, &format!("{page}?status=unred")).await;
    assert_eq!(status, 400);
    assert!(
        bad.contains("“unred” is not a status filter. Use one of: all, delivered"),
        "{bad}"
    );
    let (status, bad) = get(&app, &format!("{page}?page=0")).await;
    assert_eq!(status, 400);
    assert!(bad.contains("“0” is not a page number"), "{bad}");

    // The chart and the CSV, through the page's own (relative, signed) links.
    let chart = resolve(&page, &attr_after(&html, "<figure", "src"));
    let r = app.client.get(&chart).send().await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["content-type"].to_str().unwrap()
        ),
        (200, "image/png")
    );
    let csv_href = attr_after(&html, "id=\"csv\"", "href");
    assert!(csv_href.ends_with("/spring-recipients.csv"), "{csv_href}");
    let (status, csv) = get(&app, &resolve(&page, &csv_href)).await;
    assert_eq!(status, 200);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.records().count(), 7);

    // Someone else's signature, or one changed character: 404. Expired: 410, in its language.
    let token = page
        .split("/reports/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let mut chars: Vec<char> = token.chars().collect();
    chars[12] = if chars[12] == 'x' { 'y' } else { 'x' };
    let tampered: String = chars.into_iter().collect();
    let (status, _) = get(&app, &page.replace(token, &tampered)).await;
    assert_eq!(status, 404);
    let grant = |lang| ReportGrant {
        kind: ReportKind::Campaign,
        id: id.clone(),
        file: ReportFile::Page(lang),
    };
    let forged =
        Signer::new(b"another herald").report_token(&grant(Lang::En), Utc::now().timestamp() + 60);
    let (status, _) = get(
        &app,
        &format!("{}/reports/{forged}/spring.html", app.address),
    )
    .await;
    assert_eq!(status, 404);
    let expired = signer(&app)
        .await
        .report_token(&grant(Lang::Fr), Utc::now().timestamp() - 1);
    let (status, gone) = get(
        &app,
        &format!("{}/reports/{expired}/spring.html", app.address),
    )
    .await;
    assert_eq!(status, 410);
    assert!(
        gone.contains("<html lang=\"fr\">") && gone.contains("Ce lien de rapport a expiré"),
        "{gone}"
    );
    // The name in the path is only a name; the token says which report.
    let (status, other) = get(&app, &page.replace("spring%2Ehtml", "x.html")).await;
    assert_eq!(status, 200);
    assert_eq!(row_names(&other).len(), 7);
}

async fn the_page_speaks_the_admins_language(backend: Backend) {
    let (app, _) = campaign(backend).await;
    let card = say_card(&app, "campagne rapport spring", "fr-FR").await;
    let page = action_url(&app, &card, "Ouvrir la page du rapport");
    let (status, html) = get(&app, &format!("{page}?status=unread")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(
        html.contains("<caption id=\"caption\">Destinataires : 2 affichés sur 7</caption>"),
        "{html}"
    );
    assert!(html.contains(">Non lus (2)</option>") && html.contains("<dt>Non installés</dt>"));
    assert!(html.contains("Télécharger le CSV (7 destinataires)"));
    assert!(!html.contains("Not read"));
    let (status, bad) = get(&app, &format!("{page}?status=x")).await;
    assert_eq!(status, 400);
    assert!(bad.contains("« x » n’est pas un filtre de statut"), "{bad}");
}

/// A broadcast's page: its subject escaped in the title, the acknowledgement column.
async fn a_broadcast_page_shows_acknowledgements(backend: Backend) {
    let app = spawn_app_configured(
        backend,
        &format!("public_url = \"{PUBLIC}\""),
        "admins = [\"aad-boss\"]",
    )
    .await;
    app.post_signed(&app.install("f:boss", ADMIN)).await;
    app.post_signed(&app.install("f:u0", "29:u0")).await;
    let reply = say_card(
        &app,
        "broadcast all\nsubject: <b>Plan</b> & \"more\"\nack: yes\nRead it.",
        "en-US",
    )
    .await;
    assert!(
        reply_text(&reply).contains("on its way to 2 people"),
        "{reply}"
    );
    let cards = app
        .app_db
        .run(|conn| {
            let b = herald::store::broadcasts::find(conn, TENANT, 1)?.unwrap();
            herald::store::broadcasts::messages(conn, &b.id, herald::store::broadcasts::Role::Card)
        })
        .await
        .unwrap();
    for (message, _) in &cards {
        wait_delivered(&app.app_db, message, None, WAIT).await;
    }
    let card = say_card(&app, "broadcast info 1", "en-US").await;
    let page = action_url(&app, &card, "Open the report page");
    assert!(page.ends_with("/broadcast%2D1%2Ehtml"), "{page}");
    let (status, html) = get(&app, &page).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<h1>#1 &lt;b&gt;Plan&lt;/b&gt; &amp; &quot;more&quot;</h1>"),
        "{html}"
    );
    assert!(html.contains("<th scope=\"col\">Acknowledged (UTC)</th>"));
    assert!(
        html.contains("<option value=\"acknowledged\">Acknowledged (0)</option>"),
        "{html}"
    );
    assert_eq!(row_names(&html).len(), 2);
    let (_, unread) = get(&app, &format!("{page}?status=unread")).await;
    assert_eq!(row_names(&unread).len(), 2);
}

on_both_backends!(
    the_page_shows_counts_chart_csv_and_filtered_recipients,
    the_page_speaks_the_admins_language,
    a_broadcast_page_shows_acknowledgements,
);

// ---------------------------------------------------------------------------------------------
// In a real browser: Debian's `chromium` driven through `chromedriver` (WebDriver).

/// Set to a Chromium binary (e.g. `/usr/bin/chromium`) to run the browser test; `.ci/run` sets
/// it. When set, a browser that fails to start fails the test; when not, `build.rs` leaves
/// `cfg(herald_chromium)` unset and the test is reported as ignored, with the reason.
const CHROMIUM_VAR: &str = "HERALD_TEST_CHROMIUM";
/// The chromedriver to use; by default `chromedriver` from `PATH`.
const CHROMEDRIVER_VAR: &str = "HERALD_TEST_CHROMEDRIVER";

/// A chromedriver process, stopped when dropped.
struct Driver {
    child: std::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let program = std::env::var(CHROMEDRIVER_VAR).unwrap_or_else(|_| "chromedriver".into());
        let child = std::process::Command::new(&program)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{CHROMIUM_VAR} is set but {program} did not start: {e}"));
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let status = format!("{}/status", driver.url);
        wait_for(WAIT, "chromedriver ready", || {
            let status = status.clone();
            async move {
                match reqwest::get(&status).await {
                    Ok(r) => r
                        .json::<Value>()
                        .await
                        .is_ok_and(|v| v["value"]["ready"] == true),
                    Err(_) => false,
                }
            }
        })
        .await;
        driver
    }

    async fn browser(&self) -> fantoccini::Client {
        let chromium = std::env::var(CHROMIUM_VAR).expect("the browser test runs with it set");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1000"],
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("{CHROMIUM_VAR} is set but Chromium did not start: {e}"))
    }
}

/// chromedriver's browser log (console messages, failed loads, policy violations).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// The browser's console errors (and failed loads) since the last call.
async fn console_errors(browser: &fantoccini::Client) -> Vec<Value> {
    let log = browser
        .issue_cmd(BrowserLog)
        .await
        .expect("the browser log");
    log.as_array()
        .unwrap_or_else(|| panic!("a list of log entries: {log}"))
        .iter()
        .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
        .cloned()
        .collect()
}

/// The names in the table's row headers, as the browser shows them.
async fn shown_names(browser: &fantoccini::Client) -> Vec<String> {
    let mut names = Vec::new();
    for th in browser
        .find_all(fantoccini::Locator::Css(
            "#recipients tbody tr th[scope=row]",
        ))
        .await
        .unwrap()
    {
        names.push(th.text().await.unwrap());
    }
    names
}

/// Waits until the browser's address contains `part` (after a form was sent).
async fn wait_for_url(browser: &fantoccini::Client, part: &str) {
    wait_for(WAIT, &format!("an address with {part}"), || async {
        browser
            .current_url()
            .await
            .is_ok_and(|u| u.as_str().contains(part))
    })
    .await;
}

/// Where screenshots are kept: `target/test-artefacts/` (made if missing).
fn artefacts() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder")
        .join("test-artefacts");
    std::fs::create_dir_all(&dir).expect("target/test-artefacts");
    dir
}

async fn the_page_works_in_a_real_browser(backend: Backend) {
    let (app, _) = campaign(backend).await;
    let card = say_card(&app, "campaign report spring", "en-US").await;
    let page = action_url(&app, &card, "Open the report page");
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&page).await.unwrap();
    use fantoccini::Locator::{Css, Id};

    // One row per recipient, in a real table with a caption and labelled controls.
    assert_eq!(shown_names(&browser).await.len(), 7);
    let caption = browser.find(Css("#recipients caption")).await.unwrap();
    assert_eq!(caption.text().await.unwrap(), "Recipients: 7 shown of 7");
    for (control, label) in [("status", "Status"), ("q", "Search a name or address")] {
        let l = browser
            .find(Css(&format!("label[for={control}]")))
            .await
            .unwrap();
        assert_eq!(l.text().await.unwrap(), label);
        browser.find(Id(control)).await.unwrap();
    }
    let chart_loaded = browser
        .execute(
            "const i = document.querySelector('figure img'); return i.complete && i.naturalWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(chart_loaded, json!(720), "the chart is shown");
    let dir = artefacts();
    let shot = browser.screenshot().await.unwrap();
    std::fs::write(
        dir.join(format!("report-page-{backend:?}.png").to_lowercase()),
        &shot,
    )
    .unwrap();

    // The filter "not read" (applied by the page's script as soon as it is chosen).
    browser
        .find(Id("status"))
        .await
        .unwrap()
        .select_by_value("unread")
        .await
        .unwrap();
    wait_for_url(&browser, "status=unread").await;
    let mut unread = shown_names(&browser).await;
    unread.sort();
    assert_eq!(
        unread,
        [
            "<script>alert(\"x\")</script> Zoé O'Hara & Co",
            "Ada Lovelace u1"
        ]
    );

    // The search finds a person (the filter back on "all").
    browser
        .find(Id("status"))
        .await
        .unwrap()
        .select_by_value("all")
        .await
        .unwrap();
    wait_for_url(&browser, "status=all").await;
    browser
        .find(Id("q"))
        .await
        .unwrap()
        .send_keys("lovelace U3")
        .await
        .unwrap();
    browser
        .find(Css("#controls button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&browser, "q=lovelace").await;
    assert_eq!(shown_names(&browser).await, ["Ada Lovelace u3"]);

    // The CSV link downloads: fetched from the page's own link.
    let fetched = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.getElementById('csv').href)
               .then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t])))
               .catch(e => done(['failed', String(e), '']));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fetched[0], json!(200), "{fetched}");
    assert_eq!(fetched[1], "text/csv; charset=utf-8");
    let text = fetched[2].as_str().unwrap();
    assert!(text.starts_with("name,email,status,"), "{text}");
    assert_eq!(
        csv::Reader::from_reader(text.as_bytes()).records().count(),
        7
    );

    // On a phone's width the page still reads: nothing wider than the screen but the table,
    // which scrolls in its own box.
    browser.goto(&page).await.unwrap();
    browser.set_window_size(390, 844).await.unwrap();
    let overflow = browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, json!(0), "no sideways scrolling of the page");
    let shot = browser.screenshot().await.unwrap();
    std::fs::write(
        dir.join(format!("report-page-phone-{backend:?}.png").to_lowercase()),
        &shot,
    )
    .unwrap();

    let errors = console_errors(&browser).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    browser.close().await.unwrap();
}

mod browser {
    mod sqlite {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[cfg_attr(
            not(herald_chromium),
            ignore = "set HERALD_TEST_CHROMIUM to a Chromium binary to run the browser test"
        )]
        async fn the_page_works_in_a_real_browser() {
            super::super::the_page_works_in_a_real_browser(crate::common::Backend::Sqlite).await
        }
    }
    mod postgres {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[cfg_attr(
            not(all(herald_chromium, herald_postgres)),
            ignore = "set HERALD_TEST_CHROMIUM and HERALD_TEST_POSTGRES_URL to run this"
        )]
        async fn the_page_works_in_a_real_browser() {
            super::super::the_page_works_in_a_real_browser(crate::common::Backend::Postgres).await
        }
    }
}
