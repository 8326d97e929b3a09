//! Storage: one code base over SQLite (default, bundled) and PostgreSQL.
//!
//! The backend is chosen from the URL's scheme, never by trying connections in turn. Queries are
//! written once as named functions taking `&mut Conn`; the [`run_on!`] macro compiles each body
//! for both backends, so every diesel feature of each (upserts, `RETURNING`, row locks) stays
//! available. Pool checkouts and queries are blocking: async callers go through [`Db::run`].

pub mod approvals;
pub mod audit;
pub mod batch;
pub mod broadcasts;
pub mod campaigns;
pub mod deliveries;
pub mod dispatch;
pub mod engagement;
pub(crate) mod enqueued;
pub mod figures;
pub mod fold;
pub mod folded;
pub mod groups;
pub mod inbound;
pub mod installs;
pub mod list_import;
pub mod lists;
pub mod localtime;
pub mod presence;
pub mod presence_subs;
pub mod progress;
pub mod reactions;
mod redact;
pub mod repeats;
pub mod reports;
pub mod retention;
pub mod schema;
pub mod skype;
pub mod sql;
mod sqlite;
pub mod tracking;
pub mod users;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection as _, ConnectionError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::{ExposeSecret, SecretString};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// The PostgreSQL advisory lock key held while migrating ("herald" in ASCII).
const MIGRATION_LOCK: i64 = 0x6865_7261_6c64;

/// How names that are unique per tenant (lists, campaigns) are compared: trimmed, lower case.
pub(crate) fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A parsed `database.url`.
#[derive(Clone)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(SecretString),
}

#[derive(Debug, thiserror::Error)]
#[error("{0}; expected sqlite://PATH, a file path, or postgres://USER@HOST:PORT/DATABASE")]
pub struct DatabaseUrlError(String);

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, DatabaseUrlError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(DatabaseUrlError("empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(SecretString::from(url)));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(DatabaseUrlError("sqlite URL without a path".into()));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        // Anything else with a scheme is a typo or an unsupported database, not a file name.
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(DatabaseUrlError(format!("unsupported scheme `{scheme}`")));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(url)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Shows where the database is without its secrets (password, secret query values).
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => f.write_str(&redact::redacted(u.expose_secret())),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An owned connection to either backend, as the pool hands them out.
pub enum Connection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// A borrowed connection: what named queries take, so they compose inside transactions.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Connection {
    pub fn as_conn(&mut self) -> Conn<'_> {
        match self {
            Connection::Sqlite(c) => Conn::Sqlite(c),
            Connection::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A connection as the pool keeps it: with when it last answered the pool's liveness check.
pub struct Pooled {
    conn: Connection,
    checked: std::time::Instant,
}

impl Pooled {
    pub fn as_conn(&mut self) -> Conn<'_> {
        self.conn.as_conn()
    }
}

/// How long a PostgreSQL connection that answered the liveness check is handed out again
/// without another: a busy pool would otherwise add a round trip (`SELECT 1`) to every
/// checkout, as many as the work itself for a one-statement turn. A connection the server
/// dropped meanwhile fails its statement (an error, as if it had dropped just after a check),
/// and the next checkout after this long finds it dead and replaces it.
const CHECKED_FOR: Duration = Duration::from_secs(1);

/// Runs the same diesel code on whichever backend `conn` is: `run_on!(conn, |c| query.execute(c))`.
#[macro_export]
macro_rules! run_on {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::Conn::Sqlite(inner) => {
                let $c: &mut ::diesel::sqlite::SqliteConnection = &mut **inner;
                $body
            }
            $crate::store::Conn::Postgres(inner) => {
                let $c: &mut ::diesel::pg::PgConnection = &mut **inner;
                $body
            }
        }
    };
}

impl Conn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// A transaction that will write: on SQLite it takes the write lock at `BEGIN`
    /// (`BEGIN IMMEDIATE`), so a read followed by a write never fails on a lock upgrade.
    /// Inside another transaction it is a savepoint, as `transaction` is.
    pub fn write_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn<'_>) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        let outermost = !self.in_transaction();
        let done = match self {
            Conn::Sqlite(c) if !outermost => c.transaction(|c| f(&mut Conn::Sqlite(c))),
            Conn::Sqlite(c) => c.immediate_transaction(|c| f(&mut Conn::Sqlite(c))),
            Conn::Postgres(c) => c.transaction(|c| f(&mut Conn::Postgres(c))),
        };
        enqueued::settled(outermost);
        done
    }

    /// A plain transaction (nested calls become savepoints).
    pub fn transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn<'_>) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        let outermost = !self.in_transaction();
        let done = match self {
            Conn::Sqlite(c) => c.transaction(|c| f(&mut Conn::Sqlite(c))),
            Conn::Postgres(c) => c.transaction(|c| f(&mut Conn::Postgres(c))),
        };
        enqueued::settled(outermost);
        done
    }

    fn in_transaction(&mut self) -> bool {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let status = match self {
            Conn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(*c),
            Conn::Postgres(c) => AnsiTransactionManager::transaction_manager_status_mut(*c),
        };
        status.transaction_depth().ok().flatten().is_some()
    }
}

/// What storage can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had: the database is down or the pool is exhausted.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    /// A status write the lifecycle does not allow (a campaign from completed to running, an
    /// outcome for a delivery that already ended): see the `transition` functions in `domain`.
    #[error("forbidden status transition from {from} to {to}")]
    ForbiddenTransition { from: String, to: String },
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Opens connections for the pool, for the backend the URL names.
pub struct Manager {
    url: DatabaseUrl,
}

/// One connection, set up as the pool's are (SQLite: its pragmas).
pub fn establish(url: &DatabaseUrl) -> Result<Connection, ConnectError> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
            sqlite::configure(&mut c)?;
            Ok(Connection::Sqlite(c))
        }
        DatabaseUrl::Postgres(u) => Ok(Connection::Postgres(PgConnection::establish(
            &with_connect_timeout(u.expose_secret()),
        )?)),
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ConnectError;

    fn connect(&self) -> Result<Pooled, ConnectError> {
        Ok(Pooled {
            conn: establish(&self.url)?,
            checked: std::time::Instant::now(),
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), ConnectError> {
        match &mut pooled.conn {
            // An embedded database has no server to lose.
            Connection::Sqlite(_) => Ok(()),
            Connection::Postgres(_) if pooled.checked.elapsed() < CHECKED_FOR => Ok(()),
            Connection::Postgres(c) => {
                c.batch_execute("SELECT 1")?;
                pooled.checked = std::time::Instant::now();
                Ok(())
            }
        }
    }

    fn has_broken(&self, _conn: &mut Pooled) -> bool {
        false
    }
}

/// The connection pool, cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// The PostgreSQL URL, for a connection of its own (`enqueued`).
    url: DatabaseUrl,
    watch: std::sync::Arc<enqueued::Watch>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

/// A PostgreSQL URL with libpq's `connect_timeout` (5 s) unless it sets one: an unreachable
/// server (a partition, not a refusal) would otherwise hold a connection attempt for minutes.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout=5")
}

/// How long a readiness probe waits for a connection.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

impl Db {
    /// Opens the pool (creating the SQLite folder if needed) without running migrations.
    pub fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Db, StoreError> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| {
                StoreError::Unavailable(
                    ConnectError::Folder {
                        path: dir.to_path_buf(),
                        source,
                    }
                    .to_string(),
                )
            })?;
        }
        let size = match (max_connections, url.backend()) {
            (0, Backend::Sqlite) => 8,
            (0, Backend::Postgres) => 16,
            (n, _) => n,
        };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .error_handler(Box::new(r2d2::LoggingErrorHandler))
            .build(Manager { url: url.clone() })
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Db {
            pool,
            backend: url.backend(),
            url: url.clone(),
            watch: Default::default(),
        })
    }

    /// Opens the pool and applies pending migrations.
    pub fn open(url: &DatabaseUrl, max_connections: u32) -> Result<Db, StoreError> {
        let db = Db::connect(url, max_connections)?;
        db.migrate()?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every pending migration; returns the names applied. On PostgreSQL, instances
    /// starting at once apply them one after the other.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.get()?;
        let applied = match &mut conn.conn {
            Connection::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect()),
            Connection::Postgres(c) => {
                // Instances starting together take turns: the first applies, the others find
                // nothing pending. The lock is the session's, released below or with it.
                diesel::RunQueryDsl::execute(
                    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")),
                    c,
                )
                .map_err(|e| StoreError::Migration(e.to_string()))?;
                let applied = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.iter().map(|m| m.to_string()).collect());
                let _ = diesel::RunQueryDsl::execute(
                    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")),
                    c,
                );
                applied
            }
        };
        applied.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// A pooled connection, blocking up to the pool's timeout.
    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Runs blocking database work on the blocking thread pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get()?;
            f(&mut conn.as_conn())
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("database task failed: {e}")))?
    }

    /// True when a connection can be had and answers, within about a second: a readiness probe
    /// must not wait for the pool's full checkout timeout while the database is away.
    pub async fn ping(&self) -> bool {
        let pool = self.pool.clone();
        let probe = tokio::task::spawn_blocking(move || {
            let Ok(mut conn) = pool.get_timeout(PING_TIMEOUT) else {
                return false;
            };
            match &mut conn.conn {
                Connection::Sqlite(c) => c.batch_execute("SELECT 1").is_ok(),
                Connection::Postgres(c) => c.batch_execute("SELECT 1").is_ok(),
            }
        });
        matches!(
            tokio::time::timeout(PING_TIMEOUT * 2, probe).await,
            Ok(Ok(true))
        )
    }
}

#[cfg(test)]
mod tests;
