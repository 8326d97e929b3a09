//! The store's own unit tests: URL parsing and backends.

use super::*;

#[test]
fn backend_comes_from_the_scheme() {
    assert_eq!(
        DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
        Backend::Postgres
    );
    assert_eq!(
        DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
        Backend::Postgres
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite://data/herald.db")
            .unwrap()
            .backend(),
        Backend::Sqlite
    );
    assert_eq!(
        DatabaseUrl::parse("herald.db").unwrap().backend(),
        Backend::Sqlite
    );
}

#[test]
fn mistyped_postgres_url_is_not_a_file_name() {
    let err = DatabaseUrl::parse("postgress://u@h/db")
        .unwrap_err()
        .to_string();
    assert!(err.contains("postgress"), "{err}");
    assert!(DatabaseUrl::parse("").is_err());
    assert!(DatabaseUrl::parse("sqlite://").is_err());
}

#[test]
fn password_is_hidden() {
    let url = DatabaseUrl::parse("postgres://u:secret@h:5432/db?sslpassword=secret").unwrap();
    let shown = format!("{url:?} {url}");
    assert!(!shown.contains("secret"), "{shown}");
    assert!(shown.contains("h:5432/db"), "{shown}");
}

#[test]
fn migration_folders_match_between_backends() {
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let sqlite = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"));
    let postgres = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}
