//! `list import <name>` with a file: the file downloaded from its host, read as a table, its
//! address column found, and the list created or replaced with those addresses in one
//! transaction. Anything wrong, and nothing is changed.

pub mod fetch;
mod table;

use chrono::{DateTime, Utc};

use crate::domain::roster::{self, Roster, RosterError};
use crate::store::list_import::{self, Replaced};
use crate::store::lists::List;
use crate::store::{Db, StoreError};

pub use fetch::{FetchError, Files};

/// A file a person sent: its name as shown, and where to download it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    pub name: String,
    pub download_url: String,
}

/// Why nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The message carries no file.
    NoFile,
    /// The file could not be downloaded (host not allowed, too large, host's refusal…).
    Fetch(FetchError),
    /// Neither a workbook nor text (an image renamed `.csv`, say).
    NotATable,
    /// A workbook that cannot be read.
    BadWorkbook,
    /// Nothing in it.
    Empty,
    /// No column of addresses.
    NoAddressColumn,
}

/// What importing came to.
#[derive(Debug)]
pub enum Imported {
    Done {
        list: List,
        /// Members the list had before (`None`: it was created).
        previous: Option<i64>,
        roster: Roster,
    },
    Refused(Refused),
}

/// How far a workbook may expand when unzipped, per byte of the file allowed.
const EXPANSION: u64 = 20;

/// The import use case.
pub struct Import<'a> {
    pub db: &'a Db,
    pub files: &'a Files,
}

impl Import<'_> {
    /// Reads `file` and makes list `name` exactly its addresses.
    pub async fn run(
        &self,
        tenant: &str,
        actor: &str,
        name: &str,
        file: Option<SentFile>,
        now: DateTime<Utc>,
    ) -> Result<Imported, StoreError> {
        let refused = |r| Ok(Imported::Refused(r));
        let Some(file) = file else {
            return refused(Refused::NoFile);
        };
        let bytes = match self.files.download(&file.download_url).await {
            Ok(bytes) => bytes,
            Err(e) => return refused(Refused::Fetch(e)),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return refused(Refused::Empty);
        }
        let max_expanded = self.files.max_bytes().saturating_mul(EXPANSION);
        // Reading a workbook is work for the CPU: off the async threads.
        let read = tokio::task::spawn_blocking(move || {
            let rows = table::rows(&bytes, max_expanded).map_err(|e| match e {
                table::TableError::NotATable => Refused::NotATable,
                table::TableError::BadWorkbook => Refused::BadWorkbook,
            })?;
            roster::read(&rows).map_err(|e| match e {
                RosterError::Empty => Refused::Empty,
                RosterError::NoAddressColumn => Refused::NoAddressColumn,
            })
        })
        .await;
        let roster = match read {
            Ok(Ok(roster)) => roster,
            Ok(Err(why)) => return refused(why),
            Err(_) => return refused(Refused::BadWorkbook),
        };
        let (t, n, a) = (tenant.to_string(), name.to_string(), actor.to_string());
        let emails = roster.addresses.clone();
        let Replaced { list, previous } = self
            .db
            .run(move |conn| list_import::replace(conn, &t, &n, &a, &emails, now))
            .await?;
        Ok(Imported::Done {
            list,
            previous,
            roster,
        })
    }
}
