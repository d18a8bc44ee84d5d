//! Persistence: one diesel connection type over SQLite and PostgreSQL, chosen from the URL scheme.

pub mod agencies;
pub mod calendar;
pub mod cases;
pub mod feeds;
pub mod locks;
pub mod papers;
pub mod reminders;
pub mod reports;
pub mod rows;
pub mod schema;
pub mod seed;
pub mod sessions;
pub mod users;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseSettings;
use crate::error::AppError;

/// The PostgreSQL advisory-lock key that serialises instances' start-up ("foi-trac" in ASCII).
const STARTUP_LOCK: i64 = 0x666f_692d_7472_6163;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Where the data lives, decided from the URL alone (never by trying each backend in turn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite { path: String },
    Postgres { url: String },
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("database.url is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres { url: url.to_owned() });
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/foi-tracker.db".into());
            }
            return Ok(Target::Sqlite { path: path.to_owned() });
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(format!(
                "unsupported database URL scheme `{scheme}://`: use sqlite://PATH, a file path, postgres:// or postgresql://"
            ));
        }
        if url.contains(':') && !url.starts_with("file:") && !url.starts_with('/') && !url.starts_with('.') {
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(format!(
                "unsupported database URL scheme `{scheme}:`: use sqlite://PATH, a file path or postgres://"
            ));
        }
        Ok(Target::Sqlite { path: url.to_owned() })
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Target::Sqlite { .. } => "sqlite",
            Target::Postgres { .. } => "postgres",
        }
    }

    /// The database as an operator's message names it: the SQLite file, or the PostgreSQL URL with
    /// its password masked.
    pub fn describe(&self) -> String {
        match self {
            Target::Sqlite { path } => format!("the SQLite database {path}"),
            Target::Postgres { url } => format!("the PostgreSQL database {}", mask_password(url)),
        }
    }

    /// For a SQLite file: an exclusive lock on `<file>.startup-lock`, held until the returned file is
    /// dropped or the process ends (None for an in-memory or URI database, private to this process).
    fn sqlite_startup_lock(&self) -> anyhow::Result<Option<std::fs::File>> {
        let Target::Sqlite { path } = self else { return Ok(None) };
        if path.starts_with("file:") || path == ":memory:" {
            return Ok(None);
        }
        let lock_path = format!("{path}.startup-lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| anyhow::anyhow!("cannot open the start-up lock {lock_path}: {e}"))?;
        lock.lock().map_err(|e| anyhow::anyhow!("cannot take the start-up lock {lock_path}: {e}"))?;
        Ok(Some(lock))
    }

    /// For SQLite: make sure the file's directory exists so the first start needs no set-up.
    fn prepare(&self) -> std::io::Result<()> {
        if let Target::Sqlite { path } = self {
            if path.starts_with("file:") {
                return Ok(());
            }
            if let Some(dir) = PathBuf::from(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        }
        Ok(())
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.split_once('/').map_or((rest, None), |(a, t)| (a, Some(t)));
    let masked = match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    // A password may also come as a query parameter.
    let tail = tail.map(|t| {
        let (path, query) = t.split_once('?').map_or((t, None), |(p, q)| (p, Some(q)));
        match query {
            Some(q) => {
                let params: Vec<String> = q
                    .split('&')
                    .map(|kv| match kv.split_once('=') {
                        Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                        _ => kv.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", params.join("&"))
            }
            None => path.to_owned(),
        }
    });
    match tail {
        Some(t) => format!("{scheme}://{masked}/{t}"),
        None => format!("{scheme}://{masked}"),
    }
}

/// A connection lent by the pool (returned to it when dropped).
pub type PooledConn = PooledConnection<ConnectionManager>;

/// An r2d2 manager that opens the backend the URL names and sets SQLite's pragmas on every connection.
pub struct ConnectionManager {
    target: Target,
    busy_timeout_ms: u32,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match &self.target {
            Target::Postgres { url } => {
                let conn = diesel::PgConnection::establish(url).map_err(diesel::r2d2::Error::ConnectionError)?;
                Ok(DbConnection::Postgres(conn))
            }
            Target::Sqlite { path } => {
                let mut conn =
                    diesel::SqliteConnection::establish(path).map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL is a property of the file, set once in `Db::connect`; these are per connection.
                // synchronous = FULL: in WAL mode NORMAL may lose the last commits on a power cut,
                // and an acknowledged registration or action must survive one.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                    self.busy_timeout_ms
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1").map_err(diesel::r2d2::Error::QueryError)
    }

    /// A connection whose transaction could not be closed (e.g. the server went away mid-way) is
    /// not lent again. A connection the server dropped while idle is caught by the check on
    /// checkout (`is_valid`), so after a database restart requests succeed again at once.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        match conn {
            DbConnection::Postgres(c) => c.is_broken(),
            DbConnection::Sqlite(c) => c.is_broken(),
        }
    }
}

/// Failed connection attempts while the database is away: the pool retries them in the background,
/// and each would be one log line; this keeps the first and then one every 30 s.
#[derive(Debug, Default)]
struct QuietConnectErrors {
    last_logged: std::sync::Mutex<Option<std::time::Instant>>,
}

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for QuietConnectErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        let mut last = self.last_logged.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(30)) {
            *last = Some(std::time::Instant::now());
            tracing::warn!(%error, "cannot connect to the database (retrying; repeats are logged every 30 s)");
        }
    }
}

/// What `Db::backup` wrote.
#[derive(Debug, Clone, Copy)]
pub struct BackupCopy {
    pub bytes: u64,
    pub cases: i64,
}

/// The database handle shared by the HTTP workers, the CLI and the jobs.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager>,
    target: Target,
}

impl Db {
    /// Opens the pool. The first connection is made here, directly, so an unreachable or unopenable
    /// database is one clear error naming it (password masked), not a stream of retries.
    pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<Db> {
        let target = Target::parse(&settings.url).map_err(anyhow::Error::msg)?;
        let cannot_open = |e: &dyn std::fmt::Display| anyhow::anyhow!("cannot open {}: {e}", target.describe());
        target.prepare().map_err(|e| cannot_open(&e))?;
        let manager = ConnectionManager { target: target.clone(), busy_timeout_ms: settings.sqlite_busy_timeout_ms };
        match &target {
            Target::Sqlite { path } => {
                // Switching to WAL needs the database to itself, so it happens once, before the
                // pool opens its connections, and under the start-up lock, before another
                // instance's migrations can hold the file.
                let _lock = target.sqlite_startup_lock()?;
                let mut conn = diesel::SqliteConnection::establish(path).map_err(|e| cannot_open(&e))?;
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL;",
                    settings.sqlite_busy_timeout_ms
                ))
                .map_err(|e| cannot_open(&e))?;
            }
            Target::Postgres { url } => {
                // libpq's message spans lines (the error, then a hint): one line for the operator.
                diesel::PgConnection::establish(url)
                    .map_err(|e| cannot_open(&e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")))?;
            }
        }
        let pool = Pool::builder()
            .max_size(settings.pool_size.max(1))
            .connection_timeout(Duration::from_secs(settings.connect_timeout_seconds.max(1)))
            .test_on_check_out(true)
            .error_handler(Box::new(QuietConnectErrors::default()))
            .build(manager)
            .map_err(|e| cannot_open(&e))?;
        Ok(Db { pool, target })
    }

    /// The pool's connections (all, idle) for metrics.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    pub fn backend_name(&self) -> &'static str {
        self.target.backend_name()
    }

    pub fn conn(&self) -> Result<PooledConn, AppError> {
        Ok(self.pool.get()?)
    }

    /// Runs blocking database work on actix's blocking thread pool, never on the async executor.
    pub async fn run<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
    }

    /// `run`, with a second connection when the database is PostgreSQL and one is idle in the pool,
    /// for work that can read in two halves at once (a report). Never waits for the second one.
    pub async fn run_with_helper<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection, Option<&mut DbConnection>) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let (pool, postgres) = (self.pool.clone(), matches!(self.target, Target::Postgres { .. }));
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            let mut helper = if postgres { pool.try_get() } else { None };
            work(&mut conn, helper.as_deref_mut())
        })
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
    }

    /// A second connection for `conn`'s work, as `run_with_helper` takes one.
    pub fn helper(&self) -> Option<PooledConn> {
        matches!(self.target, Target::Postgres { .. }).then(|| self.pool.try_get()).flatten()
    }

    /// Applies every pending migration of this backend and loads the shipped calendar notices the
    /// database lacks; returns how many migrations ran.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        self.exclusively(|conn| {
            let applied = match conn {
                DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
                DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            };
            let applied = applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
            let filled = cases::backfill_search_keys(conn)
                .map_err(|e| anyhow::anyhow!("filling the applicant search keys failed: {e}"))?;
            if filled > 0 {
                tracing::info!(cases = filled, "filled the applicant search keys of earlier cases");
            }
            let indexed = cases::backfill_search_terms(conn)
                .map_err(|e| anyhow::anyhow!("filling the free-text search terms failed: {e}"))?;
            if indexed > 0 {
                tracing::info!(cases = indexed, "filled the free-text search terms of earlier cases");
            }
            let loaded = calendar::ensure_shipped(conn)
                .map_err(|e| anyhow::anyhow!("loading the shipped calendar failed: {e}"))?;
            if !loaded.is_empty() {
                tracing::info!(years = ?loaded, "loaded the shipped national calendar");
            }
            Ok(applied)
        })
    }

    /// A consistent copy of a live SQLite database (`VACUUM INTO`: one read transaction, so writers
    /// carry on and the copy is the database as of one instant, WAL included), checked with
    /// `PRAGMA integrity_check` once written.
    pub fn backup(&self, to: &std::path::Path) -> anyhow::Result<BackupCopy> {
        if !matches!(self.target, Target::Sqlite { .. }) {
            anyhow::bail!(
                "`backup` copies a SQLite database; back up PostgreSQL with pg_dump -Fc (see the README's Deployment section)"
            );
        }
        if to.exists() {
            anyhow::bail!("{} exists: give a new file name, so no earlier backup is overwritten", to.display());
        }
        let target = to.to_str().ok_or_else(|| anyhow::anyhow!("{} is not a UTF-8 path", to.display()))?;
        let mut conn = self.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
        diesel::sql_query("VACUUM INTO ?")
            .bind::<diesel::sql_types::Text, _>(target)
            .execute(&mut *conn)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", to.display()))?;
        let mut copy = diesel::SqliteConnection::establish(target)?;
        #[derive(QueryableByName)]
        struct Check {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check").load(&mut copy)?;
        if check.iter().map(|c| c.integrity_check.as_str()).collect::<Vec<_>>() != ["ok"] {
            anyhow::bail!("the copy {} failed its integrity check", to.display());
        }
        let cases: i64 = schema::cases::table.count().get_result(&mut copy)?;
        Ok(BackupCopy { bytes: std::fs::metadata(to)?.len(), cases })
    }

    /// Readiness: a round trip to the database, waiting at most a second for a connection (so a
    /// probe reflects an outage within a second, not after the pool's full timeout).
    pub async fn ping(&self) -> Result<(), AppError> {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get_timeout(Duration::from_secs(1))?;
            conn.batch_execute("SELECT 1").map_err(AppError::from)
        })
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
    }

    /// Runs `work` alone among every instance sharing this database: the start-up steps (migrations,
    /// the shipped calendar, the first administrator) of instances started at once must not race.
    /// PostgreSQL: a session advisory lock (released when the connection ends, even on a crash);
    /// SQLite: an exclusive lock on a file beside the database (`<file>.startup-lock`).
    pub fn exclusively<T>(&self, work: impl FnOnce(&mut DbConnection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let mut conn = self.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
        match &mut *conn {
            DbConnection::Postgres(pg) => {
                diesel::sql_query(format!("SELECT pg_advisory_lock({STARTUP_LOCK})")).execute(pg)?;
                let result = work(&mut conn);
                let unlocked = match &mut *conn {
                    DbConnection::Postgres(pg) => {
                        diesel::sql_query(format!("SELECT pg_advisory_unlock({STARTUP_LOCK})")).execute(pg)
                    }
                    DbConnection::Sqlite(_) => unreachable!("the same connection"),
                };
                let value = result?;
                unlocked?;
                Ok(value)
            }
            DbConnection::Sqlite(_) => {
                let _lock = self.target.sqlite_startup_lock()?;
                work(&mut conn)
            }
        }
    }
}

/// True when a diesel error is a unique-constraint violation (on either backend).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

/// An error inside a transaction: the database's own (kept whole, so a caller can tell a unique
/// violation from the rest) or the application's.
pub enum TxError {
    Db(diesel::result::Error),
    App(AppError),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

impl From<AppError> for TxError {
    fn from(e: AppError) -> Self {
        TxError::App(e)
    }
}

impl From<TxError> for AppError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Db(e) => e.into(),
            TxError::App(e) => e,
        }
    }
}

/// Runs `work` in one transaction: all of it is written, or nothing.
///
/// On SQLite the transaction takes the write lock when it begins (`BEGIN IMMEDIATE`): a transaction
/// that reads and then writes would otherwise fail at once with "database is locked" when another
/// writer committed after its read (WAL cannot upgrade a stale snapshot), instead of waiting its turn
/// within the busy timeout.
pub fn transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
) -> Result<T, TxError> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(lite) = conn else {
        return conn.transaction::<T, TxError, _>(work);
    };
    if AnsiTransactionManager::transaction_manager_status_mut(lite).transaction_depth()?.is_some() {
        // Inside a transaction already: a savepoint, as diesel nests them.
        return conn.transaction::<T, TxError, _>(work);
    }
    AnsiTransactionManager::begin_transaction_sql(lite, "BEGIN IMMEDIATE")?;
    let result = work(conn);
    let DbConnection::Sqlite(lite) = conn else { unreachable!("the same connection") };
    match result {
        Ok(value) => match AnsiTransactionManager::commit_transaction(lite) {
            Ok(()) => Ok(value),
            Err(e) => {
                // The commit failed (and diesel tried to roll back): leave no transaction open.
                let _ = AnsiTransactionManager::rollback_transaction(lite);
                Err(e.into())
            }
        },
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(lite)?;
            Err(e)
        }
    }
}

/// `transaction` for work that speaks `AppError`: all of it is written, or nothing.
pub fn atomically<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    Ok(transaction(conn, |conn| work(conn).map_err(TxError::App))?)
}

/// A stored value the code does not know: the database holds something no release wrote.
pub(crate) fn corrupt(what: &str, value: &str) -> AppError {
    AppError::Internal(format!("stored case has unknown {what} `{value}`"))
}

/// "Now" for storage: UTC, microseconds, bound from Rust so both backends agree.
pub fn now() -> chrono::NaiveDateTime {
    crate::domain::truncate_to_micros(chrono::Utc::now()).naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        assert_eq!(Target::parse("sqlite://data/x.db").unwrap(), Target::Sqlite { path: "data/x.db".into() });
        assert_eq!(Target::parse("sqlite:///var/lib/x.db").unwrap(), Target::Sqlite { path: "/var/lib/x.db".into() });
        assert_eq!(Target::parse("./data/x.db").unwrap(), Target::Sqlite { path: "./data/x.db".into() });
        assert_eq!(Target::parse("x.db").unwrap(), Target::Sqlite { path: "x.db".into() });
        assert!(matches!(Target::parse("postgres://u@h/db").unwrap(), Target::Postgres { .. }));
        assert!(matches!(Target::parse("postgresql://u@h/db").unwrap(), Target::Postgres { .. }));
    }

    #[test]
    fn other_schemes_are_refused_not_opened_as_files() {
        for bad in ["mysql://u@h/db", "postgres:u@h", "http://x", "", "sqlite://"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    /// The two migration folders hold the same migrations; a file may differ between them only when
    /// both copies say why in their first line (`-- differs: ...`), e.g. a PostgreSQL-only index.
    #[test]
    fn the_backends_migrations_agree_or_say_why_not() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let files = |backend: &str| -> std::collections::BTreeMap<String, String> {
            let mut all = std::collections::BTreeMap::new();
            for dir in std::fs::read_dir(root.join(backend)).unwrap() {
                let dir = dir.unwrap().path();
                for file in std::fs::read_dir(&dir).unwrap() {
                    let file = file.unwrap().path();
                    let name = format!(
                        "{}/{}",
                        dir.file_name().unwrap().to_string_lossy(),
                        file.file_name().unwrap().to_string_lossy()
                    );
                    all.insert(name, std::fs::read_to_string(&file).unwrap());
                }
            }
            all
        };
        let (sqlite, postgres) = (files("sqlite"), files("postgres"));
        assert_eq!(
            sqlite.keys().collect::<Vec<_>>(),
            postgres.keys().collect::<Vec<_>>(),
            "both backends have the same migrations"
        );
        for (name, text) in &sqlite {
            let other = &postgres[name];
            let explained = |t: &str| t.lines().next().is_some_and(|l| l.starts_with("-- differs:"));
            assert!(text == other || (explained(text) && explained(other)), "{name} differs without a reason");
        }
    }
}
