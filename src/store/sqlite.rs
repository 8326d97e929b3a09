//! How each SQLite connection is set up.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;

/// Most attempts at switching a fresh file to WAL while other connections hold it.
const WAL_TRIES: u32 = 100;
const WAL_PAUSE: Duration = Duration::from_millis(10);

/// Sets a new connection's pragmas: `busy_timeout` first, so every later statement waits for
/// a lock instead of failing at once; then WAL. Switching a fresh file to WAL needs it to
/// itself, and SQLite answers `database is locked` at once (without waiting) to a connection
/// whose lock upgrade could deadlock, so when several connections open a fresh file together
/// the switch is tried again for a moment (once one has switched, the others find WAL set).
pub(super) fn configure(c: &mut SqliteConnection) -> Result<(), diesel::result::Error> {
    c.batch_execute("PRAGMA busy_timeout = 10000;")?;
    let mut tries = 1;
    while let Err(e) = c.batch_execute("PRAGMA journal_mode = WAL;") {
        if tries >= WAL_TRIES || !e.to_string().contains("locked") {
            return Err(e);
        }
        tries += 1;
        std::thread::sleep(WAL_PAUSE);
    }
    c.batch_execute(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
         PRAGMA wal_autocheckpoint = 8192; PRAGMA journal_size_limit = 67108864;",
    )?;
    super::sql::register_sqlite(c)
}
