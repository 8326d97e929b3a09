//! `list import <name>` with a file sent in the chat (issue 15, part 2): Teams hands the bot a
//! pre-authenticated download link; a wiremock server plays the file host (allowed through
//! `file_hosts = ["loopback"]`).

mod common;

use common::{Backend, TENANT, TestApp, spawn_app_with};
use herald::store::lists;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_backends!(
    a_csv_file_with_a_bom_semicolons_and_a_french_header_creates_the_list,
    an_excel_file_creates_the_list_with_the_same_counts,
    files_herald_cannot_use_get_a_clear_reply_and_change_nothing,
    importing_replaces_an_existing_list_and_keeps_its_id,
    a_non_admin_cannot_import,
);

const ADMIN: &str = "29:boss";
const CSV: &[u8] = include_bytes!("fixtures/import-staff.csv");

/// What `tests/fixtures/import-staff.csv` holds, each address once, in lower case.
const STAFF: [&str; 10] = [
    "ada@contoso.com",
    "alan@contoso.com",
    "charles.babbage@contoso.com",
    "emmy@contoso.com",
    "grace@contoso.com",
    "hedy@contoso.com",
    "margaret@contoso.com",
    "marie.curie@contoso.fr",
    "rosalind@contoso.com",
    "sophie@contoso.fr",
];

async fn app(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        "admins = [\"aad-boss\"]\nfile_hosts = [\"loopback\"]\nfile_max_bytes = 16384",
    )
    .await
}

/// A file host serving `body` at `/files/<name>`.
async fn host(files: &[(&str, Vec<u8>)]) -> MockServer {
    let server = MockServer::start().await;
    for (name, body) in files {
        Mock::given(method("GET"))
            .and(path(format!("/files/{name}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(body.clone()))
            .mount(&server)
            .await;
    }
    server
}

/// The attachment Teams puts on a message carrying a file.
fn file_attachment(name: &str, url: &str) -> Value {
    json!({
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "contentUrl": format!("https://contoso-my.sharepoint.com/personal/boss/Documents/Applications/{name}"),
        "name": name,
        "content": {
            "downloadUrl": url,
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
            "fileType": name.rsplit('.').next().unwrap_or_default(),
            "etag": "1",
        }
    })
}

/// Sends `text` with `attachments` as `user`; returns the one reply's text.
async fn send(
    app: &TestApp,
    user: &str,
    text: &str,
    attachments: Vec<Value>,
    locale: &str,
) -> String {
    let mut activity = app.message(&format!("1:{}", uuid::Uuid::new_v4()), user, text);
    activity["locale"] = json!(locale);
    activity["attachments"] = Value::Array(attachments);
    let replies = app.replies_to(&activity).await;
    assert_eq!(replies.len(), 1, "one reply to `{text}`: {replies:?}");
    common::reply_text(&replies[0])
}

async fn import(app: &TestApp, name: &str, file: &str, url: &str) -> String {
    send(
        app,
        ADMIN,
        &format!("list import {name}"),
        vec![file_attachment(file, url)],
        "en-US",
    )
    .await
}

/// Every list of the tenant: name, id, members.
async fn snapshot(app: &TestApp) -> Vec<(String, String, Vec<String>)> {
    app.app_db
        .run(|conn| {
            let mut out = Vec::new();
            for (list, _) in lists::all(conn, TENANT)? {
                let members = lists::members(conn, TENANT, &list.id, None)?
                    .into_iter()
                    .map(|m| m.email)
                    .collect();
                out.push((list.name, list.id, members));
            }
            Ok(out)
        })
        .await
        .unwrap()
}

async fn members_of(app: &TestApp, name: &str) -> Vec<String> {
    snapshot(app)
        .await
        .into_iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, _, m)| m)
        .unwrap_or_else(|| panic!("no list {name}"))
}

fn assert_staff_reply(reply: &str) {
    assert!(
        reply.contains("Accepted: 10 · duplicates: 3 · invalid: 4"),
        "{reply}"
    );
    for bad in ["jean(at)contoso.com", "paul@", "chez@moi", "à compléter"] {
        assert!(reply.contains(&format!("`{bad}`")), "{bad} named: {reply}");
    }
}

async fn a_csv_file_with_a_bom_semicolons_and_a_french_header_creates_the_list(backend: Backend) {
    let app = app(backend).await;
    let files = host(&[("staff.csv", CSV.to_vec())]).await;
    let reply = import(
        &app,
        "staff",
        "staff.csv",
        &format!("{}/files/staff.csv", files.uri()),
    )
    .await;
    assert!(
        reply.starts_with("List **staff** created from **staff.csv** with 10 members."),
        "{reply}"
    );
    assert_staff_reply(&reply);
    assert_eq!(members_of(&app, "staff").await, STAFF);

    // In French, the same file answers in French.
    let reply = send(
        &app,
        ADMIN,
        "liste importer équipe",
        vec![file_attachment(
            "staff.csv",
            &format!("{}/files/staff.csv", files.uri()),
        )],
        "fr-FR",
    )
    .await;
    assert!(
        reply.starts_with("Liste **équipe** créée depuis **staff.csv** avec 10 membres."),
        "{reply}"
    );
    assert!(
        reply.contains("Acceptées : 10 · doublons : 3 · invalides : 4"),
        "{reply}"
    );
    assert_eq!(members_of(&app, "équipe").await, STAFF);
}

/// The fixture's rows as a workbook: a header `E-mail` in the second column.
fn workbook() -> Vec<u8> {
    let text = std::str::from_utf8(CSV)
        .unwrap()
        .trim_start_matches('\u{feff}');
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(text.as_bytes());
    for (r, record) in reader.records().enumerate() {
        let record = record.unwrap();
        let (name, email) = (record.get(1).unwrap(), record.get(2).unwrap());
        let email = if r == 0 { "E-mail" } else { email };
        sheet.write_string(r as u32, 0, name).unwrap();
        sheet.write_string(r as u32, 1, email).unwrap();
        sheet.write_number(r as u32, 2, r as f64).unwrap();
    }
    // A second sheet is not read.
    book.add_worksheet()
        .write_string(0, 0, "other@contoso.com")
        .unwrap();
    book.save_to_buffer().unwrap()
}

async fn an_excel_file_creates_the_list_with_the_same_counts(backend: Backend) {
    let app = app(backend).await;
    let xlsx = workbook();
    assert!(xlsx.len() < 16384, "the workbook fits the test's limit");
    let files = host(&[("staff.xlsx", xlsx)]).await;
    let reply = import(
        &app,
        "staff",
        "staff.xlsx",
        &format!("{}/files/staff.xlsx", files.uri()),
    )
    .await;
    assert!(
        reply.starts_with("List **staff** created from **staff.xlsx** with 10 members."),
        "{reply}"
    );
    assert_staff_reply(&reply);
    assert_eq!(members_of(&app, "staff").await, STAFF);
}

/// A file host that streams `size` bytes of addresses without a `Content-Length` (chunked):
/// the limit must hold while the file comes in. Answers every connection; returns its base URL.
async fn chunked_host(size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let line = "someone@contoso.com\n".repeat(50);
                let mut sent = 0;
                while sent < size {
                    let chunk = format!("{:x}\r\n{line}\r\n", line.len());
                    if socket.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                    sent += line.len();
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    format!("http://{address}")
}

async fn files_herald_cannot_use_get_a_clear_reply_and_change_nothing(backend: Backend) {
    let app = app(backend).await;
    let streamed = chunked_host(100_000).await;
    let png = include_bytes!("../manifest/color.png").to_vec();
    let files = host(&[
        (
            "big.csv",
            format!("email\n{}", "someone@contoso.com\n".repeat(1000)).into_bytes(),
        ),
        ("photo.csv", png),
        ("empty.csv", Vec::new()),
        ("blank.csv", b"\xEF\xBB\xBF \r\n ; \r\n".to_vec()),
        (
            "names.csv",
            b"name;city\nAda;London\nGrace;Arlington\n".to_vec(),
        ),
    ])
    .await;
    // Off the allowed hosts, by redirect.
    Mock::given(method("GET"))
        .and(path("/files/moved.csv"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", "https://files.example.net/staff.csv"),
        )
        .mount(&files)
        .await;
    app.tell(ADMIN, "list create staff keep@contoso.com", "en-US")
        .await;
    let before = snapshot(&app).await;
    let url = |name: &str| format!("{}/files/{name}", files.uri());
    let cases = [
        (
            "big.csv".to_string(),
            url("big.csv"),
            "**big.csv** is larger than 16 KiB, the most herald imports (bot.file_max_bytes).",
        ),
        (
            "stream.csv".to_string(),
            format!("{streamed}/files/stream.csv"),
            "**stream.csv** is larger than 16 KiB, the most herald imports (bot.file_max_bytes).",
        ),
        (
            "staff.csv".to_string(),
            "https://contoso-my.sharepoint.com/personal/boss/_layouts/15/download.aspx?tempauth=x"
                .to_string(),
            "The file is stored on **contoso-my.sharepoint.com**, a host herald does not download from (bot.file_hosts).",
        ),
        (
            "moved.csv".to_string(),
            url("moved.csv"),
            "The file is stored on **files.example.net**, a host herald does not download from",
        ),
        (
            "photo.csv".to_string(),
            url("photo.csv"),
            "**photo.csv** is neither a CSV nor an Excel file.",
        ),
        (
            "empty.csv".to_string(),
            url("empty.csv"),
            "**empty.csv** is empty.",
        ),
        (
            "blank.csv".to_string(),
            url("blank.csv"),
            "**blank.csv** is empty.",
        ),
        (
            "names.csv".to_string(),
            url("names.csv"),
            "**names.csv** has no column of email addresses.",
        ),
        (
            "gone.csv".to_string(),
            url("gone.csv"),
            "**gone.csv** could not be downloaded (HTTP 404).",
        ),
    ];
    for list in ["staff", "fresh"] {
        for (file, link, expected) in &cases {
            let reply = import(&app, list, file, link).await;
            assert!(reply.contains(expected), "{file}: {reply}");
            assert!(reply.ends_with("Nothing was changed."), "{file}: {reply}");
            assert_eq!(snapshot(&app).await, before, "{file} changed nothing");
        }
    }
    // No file at all.
    let reply = send(&app, ADMIN, "list import staff", Vec::new(), "en-US").await;
    assert!(
        reply.starts_with("Send the file with the command: attach a CSV or Excel (.xlsx) file"),
        "{reply}"
    );
    let reply = send(&app, ADMIN, "liste importer staff", Vec::new(), "fr-FR").await;
    assert!(
        reply.starts_with("Envoyez le fichier avec la commande"),
        "{reply}"
    );
    assert!(reply.ends_with("Rien n'a été modifié."), "{reply}");
    assert_eq!(snapshot(&app).await, before);

    // The refusals are in the audit log.
    let log = app
        .app_db
        .run(|conn| herald::store::audit::recent(conn, TENANT, 50))
        .await
        .unwrap();
    assert!(
        log.iter().any(|e| e.action == "list import staff"
            && e.outcome == "refused: list import: file too large"),
        "{log:?}"
    );
}

async fn importing_replaces_an_existing_list_and_keeps_its_id(backend: Backend) {
    let app = app(backend).await;
    let reply = app
        .tell(
            ADMIN,
            "list create Staff old@contoso.com ada@contoso.com gone@contoso.com",
            "en-US",
        )
        .await;
    assert!(reply.contains("created with 3 members"), "{reply}");
    let reply = app
        .tell(
            ADMIN,
            "campaign create welcome\nlist: staff\nstart: 2030-12-02 10:00\nduration: 2h\nmessage: hi",
            "en-US",
        )
        .await;
    assert!(!reply.contains("no list"), "{reply}");
    let (_, id, _) = snapshot(&app).await.remove(0);

    let files = host(&[("staff.csv", CSV.to_vec())]).await;
    let reply = import(
        &app,
        "STAFF",
        "staff.csv",
        &format!("{}/files/staff.csv", files.uri()),
    )
    .await;
    assert!(
        reply.starts_with("List **Staff** replaced from **staff.csv**: 10 members now, 3 before."),
        "{reply}"
    );
    assert_staff_reply(&reply);
    let after = snapshot(&app).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0, "Staff");
    assert_eq!(after[0].1, id, "the list keeps its id");
    assert_eq!(after[0].2, STAFF);
    // The campaign still names it.
    let campaign = app
        .app_db
        .run(|conn| herald::store::campaigns::find(conn, TENANT, "welcome"))
        .await
        .unwrap()
        .expect("the campaign");
    assert_eq!(campaign.list_id, id);
}

async fn a_non_admin_cannot_import(backend: Backend) {
    let app = app(backend).await;
    let files = host(&[("staff.csv", CSV.to_vec())]).await;
    let reply = send(
        &app,
        "29:someone",
        "list import staff",
        vec![file_attachment(
            "staff.csv",
            &format!("{}/files/staff.csv", files.uri()),
        )],
        "en-US",
    )
    .await;
    assert!(
        reply.starts_with("Sorry, only herald's administrators"),
        "{reply}"
    );
    assert!(snapshot(&app).await.is_empty());
    assert!(
        files
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing downloaded for a non-admin"
    );
}
