//! The `herald` binary itself: start-up refusals, migrate, and a clean exit on SIGTERM/SIGINT.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, TestDb};

fn herald() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_herald"));
    // Keep the developer's own settings and variables out of the way.
    for var in [
        "MicrosoftAppId",
        "MicrosoftAppPassword",
        "MicrosoftAppType",
        "MicrosoftAppTenantId",
    ] {
        c.env_remove(var);
    }
    c.env("RUST_LOG", "info");
    c
}

fn write_config(dir: &tempfile::TempDir, toml: &str) -> std::path::PathBuf {
    let path = dir.path().join("appsettings.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

#[test]
fn help_lists_every_command() {
    let out = herald().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "migrate", "users", "--config"] {
        assert!(text.contains(word), "{word} missing from --help:\n{text}");
    }
}

#[test]
fn auth_off_on_a_public_address_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(Backend::Sqlite);
    let config = write_config(
        &dir,
        &format!(
            "[server]\nbind = \"0.0.0.0:0\"\n[database]\nurl = \"{}\"\n",
            db.url
        ),
    );
    let out = herald()
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bot.app_id"), "{err}");
    assert!(err.contains("127.0.0.1"), "says how to fix it: {err}");
}

#[test]
fn unknown_key_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&dir, "[bot]\napp_idd = \"x\"\n");
    let out = herald().arg("--config").arg(&config).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("app_idd"), "{err}");
}

#[test]
fn migrate_creates_the_sqlite_database_and_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("nested/folder/herald.db");
    let config = write_config(
        &dir,
        &format!("[database]\nurl = \"sqlite://{}\"\n", db_path.display()),
    );
    let out = herald()
        .arg("--config")
        .arg(&config)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db_path.is_file());
    // Running it again is a no-op.
    let again = herald()
        .arg("--config")
        .arg(&config)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(again.status.success());
}

/// Starts `herald serve` on a free port; returns the child and the port it logged.
fn serve(config: &std::path::Path) -> (std::process::Child, u16) {
    let mut child = herald()
        .arg("--config")
        .arg(config)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(port) = line
                .split("port=")
                .nth(1)
                .and_then(|p| p.split_whitespace().next())
                .and_then(|p| p.parse::<u16>().ok())
            {
                let _ = tx.send(port);
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("herald logged its port");
    (child, port)
}

fn stops_cleanly_on(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(Backend::Sqlite);
    let config = write_config(
        &dir,
        &format!(
            "[server]\nbind = \"127.0.0.1:0\"\n[database]\nurl = \"{}\"\n",
            db.url
        ),
    );
    let (mut child, port) = serve(&config);
    let health = plain_http::get_status(port, "/healthz");
    assert_eq!(health, 200);
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0), "exit status after SIG{signal}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "herald did not stop after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

mod plain_http {
    /// A GET with a plain TCP exchange, to stay free of an async runtime here.
    pub fn get_status(port: u16, path: &str) -> u16 {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        response
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }
}

#[test]
fn sigterm_stops_the_server_with_exit_code_zero() {
    stops_cleanly_on("TERM");
}

#[test]
fn sigint_stops_the_server_with_exit_code_zero() {
    stops_cleanly_on("INT");
}
