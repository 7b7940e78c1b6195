//! The class library: classes, pupils, lessons, takes, tracks, performers, criteria
//! frameworks, judgements, markers, reflections, voice notes and the audit log, in one
//! SQLite file (`bandroom.sqlite`) beside the `takes/` folder.
//!
//! Owns the connection, its settings (WAL, foreign keys, busy timeout, secure delete)
//! and the library folder's layout. Every write runs in one immediate transaction, so
//! a second process waits instead of failing half-way, and nothing is half-applied.
//! Must not know about audio devices, the engine or the screen: takes arrive as plain
//! values, and files are only hashed, moved and checked here, never decoded.

mod analyses;
mod app_state;
mod audit;
mod class_edits;
mod classes;
pub mod clock;
mod demo;
mod erasure_files;
mod error;
mod focus;
mod frameworks;
mod judgements;
mod maintenance;
mod moderation;
mod overview;
mod pedal;
mod policy;
mod protection;
mod room_plan;
pub mod roster;
pub mod roster_bundle;
mod schema;
mod sign_in;
mod suggestions;
mod takes;
pub mod terms;
mod voice_notes;

pub use analyses::TrackAnalysis;
pub use class_edits::PupilEdit;
pub use classes::{ClassSummary, PupilSummary};
pub use demo::DEMO_CLASS;
pub use error::{LibraryError, Result};
pub use focus::{CriterionLevels, LevelWords, MAX_FOCUS};
pub use frameworks::{
    FrameworkDef, FrameworkSummary, LevelDef, StrandDef, TimingRule, parse_framework,
};
pub use judgements::{AssessmentRecord, NewAssessment, Progress, StrandProgress};
pub use maintenance::{BackupReport, CheckFinding, CheckReport, RepairAction};
pub use moderation::ModeratorJudgement;
pub use overview::{ClassGrid, EvidencePick, GridFilter, GridRow, JudgedContexts, Trend};
pub use policy::{PIN_FREE_GUESSES, Purpose, RetentionPolicy};
pub use protection::{ErasureReport, TextChange};
pub use room_plan::Seat;
pub use roster::{RosterImport, RosterProblem};
pub use schema::{LATEST_VERSION, migrate_to};
pub use sign_in::{
    CODE_WORDS, GuessedCode, SIGN_IN_CARDS_DIR, SIGN_IN_FREE_TRIES, SignInOutcome,
    sign_in_cards_file,
};
pub use suggestions::{Suggestion, level_for};
pub use takes::{
    NewTake, NewTrack, PerformerSummary, TakeFilter, TakeSummary, TrackSummary, sha256_file,
    sha256_reader,
};
pub use voice_notes::{NoteAudience, VoiceNote};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The database file inside the library folder.
pub const DATABASE_FILE: &str = "bandroom.sqlite";
/// Registered takes live in dated folders under this one.
pub const TAKES_DIR: &str = "takes";
/// Takes being recorded: moved into `takes/` only once complete and hashed.
pub const INCOMING_DIR: &str = "takes/.incoming";
/// Files `check --repair` set aside rather than delete.
pub const QUARANTINE_DIR: &str = "quarantine";

/// How long a writer waits for another process (the app while the CLI runs) to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a school keeps its own arrangements, inside the library folder. The one place
/// that knows it: the CLI, the app, the session and the background jobs all ask here.
pub fn arrangements_folder(library_root: &Path) -> PathBuf {
    library_root.join("arrangements")
}

pub struct Library {
    conn: Connection,
    root: PathBuf,
    /// True when this open created the library (and its demo class).
    created: bool,
}

impl Library {
    /// Opens the library in `root`, creating it (with a demo class and the built-in
    /// frameworks) on first use, and bringing an older schema up to date.
    pub fn open(root: &Path) -> Result<Library> {
        Library::open_waiting(root, BUSY_TIMEOUT)
    }

    /// As [`Library::open`], waiting at most `busy_timeout` for another writer.
    pub fn open_waiting(root: &Path, busy_timeout: Duration) -> Result<Library> {
        let library =
            Library::open_unchecked(root, busy_timeout).map_err(|e| with_known_backups(root, e))?;
        library.refuse_damage()?;
        // An erasure killed after its commit left files no row names: finish it now, so
        // no later command (a backup above all) meets the erased pupil's recordings.
        // What cannot be removed yet stays listed for `check`.
        let _ = erasure_files::finish(&library.conn, &library.root);
        Ok(library)
    }

    /// Opens a further connection to a library this process has already opened with
    /// [`Library::open`] (and so checked): the app's background jobs, which open one per
    /// job and must not re-read the whole database each time.
    pub fn reopen(root: &Path) -> Result<Library> {
        Library::open_unchecked(root, BUSY_TIMEOUT)
    }

    /// Opens the library for a command that only reads it (`takes list`, `export`): as
    /// [`Library::open`], and when the library's disk is full, read-only instead
    /// (SQLite's WAL index kept in this process's memory, so nothing is written beside
    /// the database). What such a command would record (the audit line of an export)
    /// then fails on its own and is said.
    pub fn open_for_reading(root: &Path) -> Result<Library> {
        Library::or_read_only(root, Library::open(root), true)
    }

    /// As [`Library::open_for_repair`] (no refusal of a damaged database), read-only when
    /// the disk is full: for `check` and `backup`.
    pub fn open_for_checking(root: &Path) -> Result<Library> {
        Library::or_read_only(root, Library::open_for_repair(root), false)
    }

    fn or_read_only(root: &Path, opened: Result<Library>, checked: bool) -> Result<Library> {
        match opened {
            Err(LibraryError::Unwritable { reason }) if root.join(DATABASE_FILE).is_file() => {
                let library =
                    Library::open_read_only(root).map_err(|e| LibraryError::Unwritable {
                        reason: format!(
                            "{reason}, and reading it without writing failed too ({e})"
                        ),
                    })?;
                if checked {
                    library.refuse_damage()?;
                }
                Ok(library)
            }
            other => other,
        }
    }

    /// A read-only connection whose WAL index lives in memory (exclusive locking mode set
    /// before the first read), so a full disk cannot stop it. Other processes wait to
    /// write while it is open: used only when the disk is full, when they could not.
    fn open_read_only(root: &Path) -> Result<Library> {
        let path = root.join(DATABASE_FILE);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        // `readonly_shm`: the shared WAL index is only read, never grown (growing it is
        // what a full disk refuses); SQLite keeps its own copy in memory.
        let uri = url_of(&path).map(|u| format!("{u}?mode=ro&readonly_shm=1"));
        let conn = uri
            .ok_or_else(|| rusqlite::Error::InvalidPath(path.clone()))
            .and_then(|uri| Connection::open_with_flags(uri, flags))
            .map_err(|e| LibraryError::Open {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let found = schema::version(&conn)?;
        if found != LATEST_VERSION {
            return Err(LibraryError::Invalid(format!(
                "the library at {} needs updating, which needs free space on its disk",
                root.display()
            )));
        }
        Ok(Library {
            conn,
            root: root.to_path_buf(),
            created: false,
        })
    }

    /// Opens the library without checking the database first, for `check` and `backup`,
    /// which must still work (and report per table) when a page is damaged.
    pub fn open_for_repair(root: &Path) -> Result<Library> {
        Library::open_unchecked(root, BUSY_TIMEOUT).map_err(|e| with_known_backups(root, e))
    }

    /// A damaged page must stop every command with advice (and the backups bandroom
    /// made), not read as "no takes".
    fn refuse_damage(&self) -> Result<()> {
        let verdict: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| self.with_backups(e.into()))?;
        if verdict != "ok" {
            return Err(self.with_backups(LibraryError::Corrupt {
                reason: verdict,
                backups: String::new(),
            }));
        }
        Ok(())
    }

    fn with_backups(&self, e: LibraryError) -> LibraryError {
        with_known_backups(&self.root, e)
    }

    fn open_unchecked(root: &Path, busy_timeout: Duration) -> Result<Library> {
        let existed = root.exists();
        crate::own_files::create_private_dir_all(&root.join(INCOMING_DIR))
            .map_err(|e| LibraryError::unwritable(root, &e))?;
        let path = root.join(DATABASE_FILE);
        make_library_private(root, existed, &path)?;
        let mut conn = open_connection(&path, busy_timeout)?;
        let before = schema::version(&conn)?;
        schema::migrate_to(&mut conn, LATEST_VERSION)?;
        let mut library = Library {
            conn,
            root: root.to_path_buf(),
            created: before == 0,
        };
        frameworks::install_built_ins(&mut library)?;
        if library.created {
            demo::create(&mut library)?;
        }
        Ok(library)
    }

    /// True when the library was opened read-only (its disk is full).
    pub fn is_read_only(&self) -> bool {
        self.conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database_path(&self) -> PathBuf {
        self.root.join(DATABASE_FILE)
    }

    pub fn was_created(&self) -> bool {
        self.created
    }

    /// A stable id for this library (exports name it; it never contains personal data).
    pub fn library_id(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("SELECT value FROM library_info WHERE key = 'id'", [], |r| {
                r.get(0)
            })?)
    }

    /// A number that grows whenever the library changes, through this handle or any
    /// other (the command line, a background job): screens keep what they show until
    /// it moves. A handle that cannot be asked reads 0, so nothing is kept.
    pub fn revision(&self) -> u64 {
        let others = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))
            .map_or(0, |v| v.unsigned_abs());
        self.conn.total_changes().wrapping_add(others << 32)
    }

    fn write(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
}

/// `file:` and the absolute path, every byte but plain ones percent-encoded (so `?`,
/// `#`, `%` and non-ASCII names reach SQLite's URI reader as they are).
fn url_of(path: &Path) -> Option<String> {
    let text = std::path::absolute(path).ok()?.to_str()?.to_string();
    let mut out = String::from("file:");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

/// The library folder, its `takes/` and the database are private to the user (0700 and
/// 0600 on Unix): on a shared PC other accounts must not read children's data. SQLite
/// gives its WAL and shared-memory files the database file's mode. A folder the user
/// chose that already existed keeps its own mode (it may be shared on purpose), but the
/// library's own files inside it are still made private.
fn make_library_private(root: &Path, existed: bool, database: &Path) -> Result<()> {
    let tighten = |path: &Path| {
        crate::own_files::make_private(path).map_err(|e| LibraryError::unwritable(path, &e))
    };
    if !existed {
        tighten(root)?;
    }
    tighten(&root.join(TAKES_DIR))?;
    tighten(&root.join(INCOMING_DIR))?;
    if !database.exists() {
        crate::own_files::create_private_file(database)
            .map_err(|e| LibraryError::unwritable(database, &e))?;
    }
    tighten(database)
}

/// Adds the backups bandroom made of this library to a corruption error's advice.
fn with_known_backups(root: &Path, e: LibraryError) -> LibraryError {
    match e {
        LibraryError::Corrupt { reason, .. } => {
            let known = maintenance::backups_logged(root);
            let backups = match known.last() {
                Some(newest) => format!(
                    " (the newest backup bandroom made is {newest}; older ones: {})",
                    if known.len() > 1 {
                        known[..known.len() - 1].join(", ")
                    } else {
                        "none".to_string()
                    }
                ),
                None => "; bandroom has made no backup of this library".to_string(),
            };
            LibraryError::Corrupt { reason, backups }
        }
        other => other,
    }
}

/// Opens (or creates) the database with the settings every connection needs.
fn open_connection(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let failed = |e: rusqlite::Error| {
        if matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
        ) {
            // A damaged first page: the same advice as any other damaged page.
            return LibraryError::from(e);
        }
        match unwritable_reason(path) {
            Some(reason) => LibraryError::Unwritable { reason },
            None => LibraryError::Open {
                path: path.to_path_buf(),
                reason: e.to_string(),
            },
        }
    };
    let conn = Connection::open_with_flags(path, flags).map_err(failed)?;
    conn.busy_timeout(busy_timeout)?;
    // WAL lets the app read while the CLI (or the recorder) writes; FULL sync because
    // a take's registration is evidence; secure_delete zeroes an erased pupil's rows.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(failed)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(LibraryError::Open {
            path: path.to_path_buf(),
            reason: format!("the disk does not support the journal bandroom needs (got {mode})"),
        });
    }
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;",
    )?;
    Ok(conn)
}

/// Why the library's disk cannot take writes, when that is why SQLite failed (SQLite
/// itself only says "disk I/O error" for a read-only or full disk).
fn unwritable_reason(path: &Path) -> Option<String> {
    use std::io::{ErrorKind, Write};
    let probe_path = crate::own_files::scratch_path(path, "probe");
    let probe = crate::own_files::create_private_file(&probe_path).and_then(|mut f| {
        f.write_all(&[0u8; 64 * 1024])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe_path);
    let folder = path.parent().unwrap_or(path).display();
    match probe {
        Ok(()) => None,
        Err(e) if e.kind() == ErrorKind::ReadOnlyFilesystem => {
            Some(format!("{folder}: the disk is read-only"))
        }
        Err(e) if e.kind() == ErrorKind::StorageFull => Some(format!("{folder}: the disk is full")),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            Some(format!("{folder}: permission denied"))
        }
        Err(_) => None,
    }
}

/// Who is acting, for the audit log and as the default assessor.
pub fn current_actor() -> String {
    std::env::var("BANDROOM_TEACHER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "teacher".to_string())
}

/// Now, as the library stores times: RFC 3339 in UTC to the second (see [`clock`]).
pub fn now() -> String {
    clock::now()
}
