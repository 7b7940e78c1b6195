//! Keeping the library sound: `check` (database integrity, every file present with the
//! hash it was registered with, orphaned and unfinished folders), the repairs it can
//! offer, and `backup` (SQLite's online backup plus the take files, consistent while
//! the app is recording).
//!
//! Must never delete a take's files on its own: a folder that is not understood is
//! quarantined (moved aside) so a person can decide. Reading take.json or repairing
//! WAV headers belongs to the caller, which knows the recorder's formats.

use super::erasure_files::{self, LegacyLeftover};
use super::error::{LibraryError, Result};
use super::takes::sha256_file;
use super::{INCOMING_DIR, Library, QUARANTINE_DIR, TAKES_DIR, audit};
use rusqlite::backup::Backup;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum RepairAction {
    /// A complete take folder the database does not list: register it again.
    Reregister,
    /// A recording that never finished: repair its files and register it as incomplete.
    Recover,
    /// Nothing to rebuild from: move it to `quarantine/` for a person to look at.
    Quarantine,
    /// An erasure that was interrupted after the database forgot the take: finish it.
    FinishErasure,
    /// A file an interrupted erasure of an older bandroom moved aside that the database
    /// still names: put it back where the take expects it.
    PutBack,
    /// Only a person can decide (a changed or missing file of a registered take).
    None,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum CheckFinding {
    Integrity(String),
    MissingFile {
        take: i64,
        path: PathBuf,
    },
    AlteredFile {
        take: i64,
        path: PathBuf,
    },
    /// A folder under `takes/` no take refers to.
    Orphan {
        folder: PathBuf,
    },
    /// A recording folder left in `takes/.incoming`.
    Unfinished {
        folder: PathBuf,
    },
    /// A deleted take's folder or file left by an interrupted erasure (no row names it).
    ErasureLeftover {
        folder: PathBuf,
    },
    /// A file an interrupted erasure moved aside before the database forgot it: the
    /// library still names it, and it belongs at `to`.
    ErasureUndone {
        folder: PathBuf,
        to: PathBuf,
    },
    /// A registered file that is a link (to anything, anywhere): never followed.
    LinkedFile {
        take: i64,
        path: PathBuf,
    },
    /// A registered file whose name leads outside its take folder: never read.
    UnsafePath {
        take: i64,
        file: String,
    },
}

impl std::fmt::Display for CheckFinding {
    /// What was found, in words for the teacher.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            CheckFinding::Integrity(what) => format!("database: {what}"),
            CheckFinding::MissingFile { take, path } => {
                format!("take {take}: {} is missing", path.display())
            }
            CheckFinding::AlteredFile { take, path } => format!(
                "take {take}: {} has changed since it was recorded (its SHA-256 differs)",
                path.display()
            ),
            CheckFinding::Orphan { folder } => {
                format!(
                    "{}: a take folder the library does not list",
                    folder.display()
                )
            }
            CheckFinding::Unfinished { folder } => {
                format!("{}: a recording that was never finished", folder.display())
            }
            CheckFinding::ErasureLeftover { folder } => {
                format!(
                    "{}: left over from an interrupted erasure (the library no longer \
                     names it)",
                    folder.display()
                )
            }
            CheckFinding::ErasureUndone { folder, to } if folder == to => format!(
                "{}: set aside by an erasure that never finished, and the library still \
                 names its take, whose folder exists: compare the two; bandroom deletes \
                 neither",
                folder.display()
            ),
            CheckFinding::ErasureUndone { folder, to } => format!(
                "{}: set aside by an erasure that never finished; the library still names \
                 it as {}",
                folder.display(),
                to.display()
            ),
            CheckFinding::LinkedFile { take, path } => format!(
                "take {take}: {} is a link, not the recording bandroom made; no command \
                 follows it (restore the take's file from a backup)",
                path.display()
            ),
            CheckFinding::UnsafePath { take, file } => format!(
                "take {take}: the library names a file {:?} outside the take's folder; \
                 bandroom does not read it (restore the library from a backup)",
                crate::plain_text::escape_for_terminal(file)
            ),
        };
        f.write_str(&text)
    }
}

impl CheckFinding {
    /// What `check --repair` would do about it; `folder_has_take_file` says whether a
    /// take.json was found (the caller reads it).
    pub fn suggested(&self, folder_has_take_file: bool) -> RepairAction {
        match self {
            CheckFinding::Orphan { .. } if folder_has_take_file => RepairAction::Reregister,
            CheckFinding::Unfinished { .. } if folder_has_take_file => RepairAction::Recover,
            CheckFinding::Orphan { .. } | CheckFinding::Unfinished { .. } => {
                RepairAction::Quarantine
            }
            CheckFinding::ErasureLeftover { .. } => RepairAction::FinishErasure,
            CheckFinding::ErasureUndone { folder, to } if folder != to => RepairAction::PutBack,
            _ => RepairAction::None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct CheckReport {
    pub takes: usize,
    pub files_checked: usize,
    pub findings: Vec<CheckFinding>,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct BackupReport {
    pub takes: usize,
    pub files: usize,
    pub bytes: u64,
    /// Why the backup is not in the audit log (the library's disk is full), if it is not.
    pub not_audited: Option<String>,
}

fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// (take id, folder, file) of every registered track and voice note.
fn registered_files(conn: &rusqlite::Connection) -> Result<Vec<(i64, String, String, String)>> {
    let mut statement = conn.prepare(
        "SELECT t.id, t.folder, tr.file, tr.sha256 FROM track tr JOIN take t ON t.id = tr.take_id
         UNION ALL
         SELECT t.id, t.folder, v.file, v.sha256 FROM voice_note v JOIN take t ON t.id = v.take_id
         ORDER BY 1, 3",
    )?;
    let rows = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// True when a take's folder and file, as the database lists them, stay inside the
/// library's `takes/` folder.
fn is_inside_library(folder: &str, file: &str) -> bool {
    use crate::own_files::is_inside_relative;
    folder.starts_with("takes/") && is_inside_relative(folder) && is_inside_relative(file)
}

impl Library {
    /// Reads every table once, so a damaged one is named; the rest of `check` goes on
    /// with what can be read.
    fn check_tables(&self, report: &mut CheckReport) -> Result<bool> {
        let problems: Vec<String> = match self
            .conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        {
            Ok(problems) => problems,
            Err(e) => vec![e.to_string()],
        };
        let mut damaged = false;
        for problem in problems.into_iter().filter(|p| p != "ok").take(20) {
            damaged = true;
            report.findings.push(CheckFinding::Integrity(problem));
        }
        let tables: Vec<String> = match self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        {
            Ok(tables) => tables,
            Err(e) => {
                report.findings.push(CheckFinding::Integrity(format!(
                    "the list of tables cannot be read ({e}): restore the library from a backup"
                )));
                return Ok(true);
            }
        };
        for table in tables {
            // Every row of the table itself (not an index, which count(*) would use).
            let read = self
                .conn
                .prepare(&format!(
                    "SELECT * FROM \"{}\" NOT INDEXED",
                    table.replace('"', "")
                ))
                .and_then(|mut statement| {
                    let mut rows = statement.query([])?;
                    while rows.next()?.is_some() {}
                    Ok(())
                });
            if let Err(e) = read {
                damaged = true;
                report.findings.push(CheckFinding::Integrity(format!(
                    "table {table} cannot be read ({e}): restore it from a backup"
                )));
            }
        }
        Ok(damaged)
    }

    pub fn check(&self) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        if self.check_tables(&mut report)? {
            // Reading files through damaged tables could fail half-way: report the tables.
            let files = self.check_files(&mut report);
            if let Err(e) = files {
                report.findings.push(CheckFinding::Integrity(format!(
                    "take files could not all be checked ({e})"
                )));
            }
            return Ok(report);
        }
        self.check_files(&mut report)?;
        Ok(report)
    }

    fn check_files(&self, report: &mut CheckReport) -> Result<()> {
        let broken_links: i64 =
            self.conn
                .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
        if broken_links > 0 {
            report.findings.push(CheckFinding::Integrity(format!(
                "{broken_links} row(s) point at rows that no longer exist"
            )));
        }
        report.takes = self
            .conn
            .query_row("SELECT count(*) FROM take", [], |r| r.get::<_, i64>(0))?
            as usize;
        let legacy = erasure_files::legacy_leftovers(&self.conn, &self.root)?;
        // A file an unfinished erasure set aside is reported once, as that (it can be
        // put back), not also as missing.
        let set_aside = |path: &Path| {
            legacy.iter().any(|l| match l {
                LegacyLeftover::PutBack { from, to } => from != to && path.starts_with(to),
                LegacyLeftover::Garbage { .. } => false,
            })
        };
        for (take, folder, file, expected) in registered_files(&self.conn)? {
            if !is_inside_library(&folder, &file) {
                report
                    .findings
                    .push(CheckFinding::UnsafePath { take, file });
                continue;
            }
            let path = self.root.join(&folder).join(&file);
            report.files_checked += 1;
            if crate::own_files::is_link(&path) {
                report
                    .findings
                    .push(CheckFinding::LinkedFile { take, path });
                continue;
            }
            if !path.is_file() && set_aside(&path) {
                continue;
            }
            if !path.is_file() {
                report
                    .findings
                    .push(CheckFinding::MissingFile { take, path });
            } else if sha256_file(&path)? != expected {
                report
                    .findings
                    .push(CheckFinding::AlteredFile { take, path });
            }
        }
        let pending: Vec<PathBuf> = erasure_files::pending(&self.conn)?
            .into_iter()
            .map(|p| self.root.join(p))
            .collect();
        let known: HashSet<PathBuf> = self
            .conn
            .prepare("SELECT folder FROM take")?
            .query_map([], |r| r.get::<_, String>(0))?
            .map(|f| f.map(|f| self.root.join(f)))
            .collect::<rusqlite::Result<_>>()?;
        for day in subfolders(&self.root.join(TAKES_DIR)) {
            if is_hidden(&day) {
                continue;
            }
            for folder in subfolders(&day) {
                // An erased take's folder is never offered to be registered again.
                if !known.contains(&folder) && !pending.contains(&folder) {
                    report.findings.push(CheckFinding::Orphan { folder });
                }
            }
        }
        for folder in subfolders(&self.root.join(INCOMING_DIR)) {
            report.findings.push(CheckFinding::Unfinished { folder });
        }
        for folder in pending.into_iter().filter(|p| p.exists()) {
            report
                .findings
                .push(CheckFinding::ErasureLeftover { folder });
        }
        for leftover in legacy {
            report.findings.push(match leftover {
                LegacyLeftover::PutBack { from, to } => {
                    CheckFinding::ErasureUndone { folder: from, to }
                }
                LegacyLeftover::Garbage { path } => CheckFinding::ErasureLeftover { folder: path },
            });
        }
        Ok(())
    }

    /// Moves a folder the library cannot use into `quarantine/`, never deleting it.
    pub fn quarantine(&mut self, folder: &Path) -> Result<PathBuf> {
        let name = folder
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("folder")
            .to_string();
        let stamp = super::now().replace([':', '-'], "");
        let destination = self
            .root
            .join(QUARANTINE_DIR)
            .join(format!("{stamp}-{name}"));
        if let Some(parent) = destination.parent() {
            crate::own_files::create_private_dir_all(parent)
                .map_err(|e| LibraryError::unwritable(parent, &e))?;
        }
        std::fs::rename(folder, &destination).map_err(|e| LibraryError::unwritable(folder, &e))?;
        let tx = self.write()?;
        audit::append(
            &tx,
            "check.quarantine",
            &format!("{} moved to {}", folder.display(), destination.display()),
        )?;
        tx.commit()?;
        Ok(destination)
    }

    /// Removes what an interrupted erasure left behind, only when no row of the library
    /// names it: a path the erasure ledger lists, or an older bandroom's set-aside entry
    /// whose rows are gone.
    pub fn finish_erasure(&mut self, folder: &Path) -> Result<()> {
        let listed = erasure_files::pending(&self.conn)?
            .into_iter()
            .find(|p| self.root.join(p) == folder);
        if let Some(relative) = listed {
            if !erasure_files::finish_one(&self.conn, &self.root, &relative)? {
                return Err(LibraryError::file(folder, "could not be removed"));
            }
            return Ok(());
        }
        let garbage = erasure_files::legacy_leftovers(&self.conn, &self.root)?
            .into_iter()
            .any(|l| {
                l == LegacyLeftover::Garbage {
                    path: folder.to_path_buf(),
                }
            });
        if !garbage {
            return Err(LibraryError::Invalid(format!(
                "{} is not something an erasure left behind that the library no longer \
                 names; bandroom will not delete it",
                folder.display()
            )));
        }
        std::fs::remove_dir_all(folder).map_err(|e| LibraryError::unwritable(folder, &e))
    }

    /// Moves a file an unfinished erasure set aside back to where the library names it.
    pub fn put_back_erased(&mut self, from: &Path, to: &Path) -> Result<()> {
        let named = erasure_files::legacy_leftovers(&self.conn, &self.root)?
            .into_iter()
            .any(|l| {
                l == LegacyLeftover::PutBack {
                    from: from.to_path_buf(),
                    to: to.to_path_buf(),
                }
            });
        if !named {
            return Err(LibraryError::Invalid(format!(
                "{} is not a file an unfinished erasure set aside",
                from.display()
            )));
        }
        erasure_files::put_back(from, to)?;
        let tx = self.write()?;
        audit::append(
            &tx,
            "check.put_back",
            &format!("{} put back as {}", from.display(), to.display()),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Copies the whole library to `destination` (a new or empty folder): the database
    /// through SQLite's online backup (consistent even while another process writes),
    /// then every other file of the library (settings and calibrations, the school's
    /// arrangements, every take folder with its take.json, peaks and voice notes),
    /// skipping only the live log files, recordings still being made and files being
    /// erased. Each copy is hashed and checked (registered files against the hash they
    /// were registered with), and the copied database is integrity-checked. Written
    /// under a temporary name, so an interrupted backup never looks complete; the
    /// backup is private to the user.
    pub fn backup(&mut self, destination: &Path) -> Result<BackupReport> {
        if destination.exists()
            && std::fs::read_dir(destination).map_or(true, |mut d| d.next().is_some())
        {
            return Err(LibraryError::Invalid(format!(
                "{} already exists and is not empty: give a new folder for the backup",
                destination.display()
            )));
        }
        let destination_abs = absolute(destination);
        if destination_abs.starts_with(absolute(&self.root)) {
            return Err(LibraryError::Invalid(format!(
                "{} is inside the library: give a folder elsewhere (another disk is best)",
                destination.display()
            )));
        }
        // An erased pupil's files must not reach a backup: finish what an interrupted
        // erasure left (its rows are already gone).
        let _ = self.finish_erasure_files();
        for leftover in crate::own_files::leftovers_of(destination) {
            let _ = crate::own_files::remove_leftover(&leftover, destination);
        }
        let partial = crate::own_files::scratch_path(destination, "partial");
        let _writing = crate::own_files::in_progress(&partial);
        remove_scratch(&partial, destination);
        // Logged before it starts, so an erasure can find a backup that never finished.
        log_backup_started(&self.root, &absolute(destination));
        let result = self.backup_into(&partial);
        let report = match result {
            Ok(report) => report,
            Err(e) => {
                remove_scratch(&partial, destination);
                return Err(e);
            }
        };
        if destination.exists() {
            // An empty folder the user made for the backup.
            std::fs::remove_dir(destination)
                .map_err(|e| LibraryError::unwritable(destination, &e))?;
        }
        if let Err(e) = std::fs::rename(&partial, destination) {
            remove_scratch(&partial, destination);
            return Err(LibraryError::unwritable(destination, &e));
        }
        // Kept beside the database as well as in it, so a damaged database can still
        // say where its backups are.
        log_backup(&self.root, &absolute(destination));
        let mut report = report;
        // On a full library disk the backup is made all the same (to another disk); the
        // audit line cannot be, and the teacher is told.
        let audited = self.write().and_then(|tx| {
            audit::append(
                &tx,
                "library.backup",
                &absolute(destination).display().to_string(),
            )?;
            Ok(tx.commit()?)
        });
        match audited {
            Ok(()) => {}
            Err(e) if self.conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) => {
                report.not_audited = Some(e.to_string());
            }
            Err(e) => return Err(e),
        }
        Ok(report)
    }

    fn backup_into(&self, partial: &Path) -> Result<BackupReport> {
        crate::own_files::create_private_dir_all(partial)
            .map_err(|e| LibraryError::unwritable(partial, &e))?;
        let database = partial.join(super::DATABASE_FILE);
        crate::own_files::create_private_file(&database)
            .map_err(|e| LibraryError::unwritable(&database, &e))?;
        let mut copy =
            rusqlite::Connection::open(&database).map_err(|e| LibraryError::file(&database, e))?;
        Backup::new(&self.conn, &mut copy)?.run_to_completion(
            512,
            Duration::from_millis(5),
            None,
        )?;
        let integrity: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            return Err(LibraryError::Invalid(format!(
                "the copied database fails its integrity check ({integrity}); the backup \
                 was not finished: run `bandroom check`"
            )));
        }
        let mut report = BackupReport {
            takes: copy.query_row("SELECT count(*) FROM take", [], |r| r.get::<_, i64>(0))?
                as usize,
            ..BackupReport::default()
        };
        let mut registered = std::collections::HashMap::new();
        for (_, folder, file, expected) in registered_files(&copy)? {
            if is_inside_library(&folder, &file) {
                registered.insert(format!("{folder}/{file}"), expected);
            }
        }
        drop(copy);
        let erased = erasure_files::pending(&self.conn)?;
        let is_erased = |relative: &str| {
            erased
                .iter()
                .any(|p| relative == p || relative.starts_with(&format!("{p}/")))
        };
        for relative in library_files(&self.root)? {
            if is_erased(&relative) {
                continue;
            }
            let from = self.root.join(&relative);
            let to = partial.join(&relative);
            if let Some(parent) = to.parent() {
                crate::own_files::create_private_dir_all(parent)
                    .map_err(|e| LibraryError::unwritable(parent, &e))?;
            }
            let (bytes, hash) = copy_hashed(&from, &to)?;
            report.bytes += bytes;
            let expected = registered.remove(&relative);
            if expected.as_ref().is_some_and(|e| *e != hash) {
                return Err(LibraryError::file(
                    &from,
                    "does not match its registered hash: run `bandroom check`; the backup was not finished",
                ));
            }
            if sha256_file(&to)? != hash {
                return Err(LibraryError::file(
                    &to,
                    "reads back differently from what was copied (is the backup disk failing?); the backup was not finished",
                ));
            }
            report.files += 1;
        }
        if let Some(missing) = registered.keys().next() {
            let path = self.root.join(missing);
            let why = if crate::own_files::is_link(&path) {
                "is a link, not a recording, and backups never follow links: run `bandroom \
                 check`; the backup was not finished"
            } else {
                "is registered but missing: run `bandroom check`; the backup was not finished"
            };
            return Err(LibraryError::file(&path, why));
        }
        Ok(report)
    }

    /// Restores a backup made by [`Library::backup`] into `target`, a new or empty
    /// folder: every file is copied and checked, then the restored library is opened and
    /// checked. Never writes over an existing library.
    pub fn restore(backup: &Path, target: &Path) -> Result<CheckReport> {
        if !backup.join(super::DATABASE_FILE).is_file() {
            return Err(LibraryError::Invalid(format!(
                "{} is not a bandroom backup (it has no {}): give the folder `bandroom backup` made",
                backup.display(),
                super::DATABASE_FILE
            )));
        }
        if target.exists() && std::fs::read_dir(target).map_or(true, |mut d| d.next().is_some()) {
            return Err(LibraryError::Invalid(format!(
                "{} already exists and is not empty: restore into a new folder, then point \
                 bandroom at it with --library or BANDROOM_LIBRARY",
                target.display()
            )));
        }
        for leftover in crate::own_files::leftovers_of(target) {
            let _ = crate::own_files::remove_leftover(&leftover, target);
        }
        let partial = crate::own_files::scratch_path(target, "partial");
        let _writing = crate::own_files::in_progress(&partial);
        remove_scratch(&partial, target);
        let copied = (|| {
            crate::own_files::create_private_dir_all(&partial)
                .map_err(|e| LibraryError::unwritable(&partial, &e))?;
            let mut files = library_files(backup)?;
            files.push(super::DATABASE_FILE.to_string());
            for relative in files {
                let from = backup.join(&relative);
                let to = partial.join(&relative);
                if let Some(parent) = to.parent() {
                    crate::own_files::create_private_dir_all(parent)
                        .map_err(|e| LibraryError::unwritable(parent, &e))?;
                }
                let (_, hash) = copy_hashed(&from, &to)?;
                if sha256_file(&to)? != hash {
                    return Err(LibraryError::file(
                        &to,
                        "reads back differently from the backup",
                    ));
                }
            }
            Ok(())
        })();
        if let Err(e) = copied {
            remove_scratch(&partial, target);
            return Err(e);
        }
        if target.exists() {
            std::fs::remove_dir(target).map_err(|e| LibraryError::unwritable(target, &e))?;
        }
        std::fs::rename(&partial, target).map_err(|e| {
            remove_scratch(&partial, target);
            LibraryError::unwritable(target, &e)
        })?;
        let mut restored = Library::open(target)?;
        let report = restored.check()?;
        let tx = restored.write()?;
        audit::append(
            &tx,
            "library.restore",
            &format!("restored from {}", absolute(backup).display()),
        )?;
        tx.commit()?;
        Ok(report)
    }
}

/// The file beside the database that lists the backups made of the library.
const BACKUP_LOG: &str = "backups.log";

fn log_backup(root: &Path, destination: &Path) {
    append_log(
        root,
        BACKUP_LOG,
        &format!("{}\t{}", super::now(), destination.display()),
    );
}

/// A backup about to be written: `started TIME PATH`, so its half copy can be found.
fn log_backup_started(root: &Path, destination: &Path) {
    append_log(
        root,
        BACKUP_LOG,
        &format!("started\t{}\t{}", super::now(), destination.display()),
    );
}

/// The file beside the database that lists where bundles were exported.
const EXPORT_LOG: &str = "exports.log";

/// Appends one line to a log beside the database (private to the user).
fn append_log(root: &Path, log: &str, line: &str) {
    use std::io::Write;
    let path = root.join(log);
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    if let Ok(mut file) = options.open(&path) {
        let _ = writeln!(file, "{line}");
    }
}

/// Paths of a log's lines (`TIME\tPATH`, or `started\tTIME\tPATH` when `started`),
/// each once, oldest first.
fn logged_paths(root: &Path, log: &str, started: bool) -> Vec<String> {
    let text = crate::own_files::read_regular_text(&root.join(log), 4 << 20).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            match (started, fields.as_slice()) {
                (false, [_, path]) | (true, ["started", _, path]) => Some(path.to_string()),
                _ => None,
            }
        })
        .filter(|path| seen.insert(path.clone()))
        .collect()
}

/// The backups made of the library at `root`, oldest first (read without the database).
pub(crate) fn backups_logged(root: &Path) -> Vec<String> {
    logged_paths(root, BACKUP_LOG, false)
}

/// Records that a bundle was exported to `destination` (erasure lists it).
pub(crate) fn log_export(root: &Path, destination: &Path) {
    append_log(
        root,
        EXPORT_LOG,
        &format!("{}\t{}", super::now(), absolute(destination).display()),
    );
}

/// Every place bandroom exported a bundle to, oldest first.
pub(crate) fn exports_logged(root: &Path) -> Vec<String> {
    logged_paths(root, EXPORT_LOG, false)
}

/// Half-written backups and exports of processes that are gone, beside destinations
/// bandroom knows (a killed backup's whole copy of the database): (leftover, the
/// destination it was for).
pub(crate) fn unfinished_copies(root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut places = logged_paths(root, BACKUP_LOG, true);
    places.extend(exports_logged(root));
    let mut found = Vec::new();
    for place in places {
        let dest = PathBuf::from(place);
        for leftover in crate::own_files::leftovers_of(&dest) {
            found.push((leftover, dest.clone()));
        }
    }
    found.sort();
    found.dedup();
    found
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

fn remove_scratch(path: &Path, dest: &Path) {
    if crate::own_files::is_scratch_of(path, dest) && path.is_dir() {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// Copies one regular file, hashing what was read; returns (bytes, SHA-256).
fn copy_hashed(from: &Path, to: &Path) -> Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Write};
    let mut input = crate::own_files::open_regular(from).map_err(|e| {
        LibraryError::file(from, format!("{e}: run `bandroom check` on the library"))
    })?;
    let mut output =
        crate::own_files::create_private_file(to).map_err(|e| LibraryError::unwritable(to, &e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = input
            .read(&mut buffer)
            .map_err(|e| LibraryError::file(from, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        output
            .write_all(&buffer[..n])
            .map_err(|e| LibraryError::unwritable(to, &e))?;
        total += n as u64;
    }
    output
        .sync_all()
        .map_err(|e| LibraryError::unwritable(to, &e))?;
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((total, hash))
}

/// Every regular file of the library folder that a backup holds (relative,
/// `/`-separated): everything but the database and its live log files (the database is
/// copied through SQLite), recordings still being made, files being erased, and
/// bandroom's own temporary files. Links are never followed.
fn library_files(root: &Path) -> Result<Vec<String>> {
    let skipped_top = [
        super::DATABASE_FILE.to_string(),
        format!("{}-wal", super::DATABASE_FILE),
        format!("{}-shm", super::DATABASE_FILE),
        format!("{}-journal", super::DATABASE_FILE),
    ];
    let skipped_dirs = [INCOMING_DIR, erasure_files::LEGACY_ERASING_DIR];
    let mut found = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| LibraryError::file(&dir, e))?;
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            if name.contains(".bandroom-") {
                continue;
            }
            if kind.is_dir() {
                if !skipped_dirs.contains(&relative.as_str()) {
                    stack.push((entry.path(), relative));
                }
            } else if kind.is_file() && !(prefix.is_empty() && skipped_top.contains(&name)) {
                found.push(relative);
            }
        }
    }
    found.sort();
    Ok(found)
}
