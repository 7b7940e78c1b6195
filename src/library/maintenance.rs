//! Keeping the library sound: `check` (database integrity, every file present with the
//! hash it was registered with, orphaned and unfinished folders), the repairs it can
//! offer, and `backup` (SQLite's online backup plus the take files, consistent while
//! the app is recording).
//!
//! Must never delete a take's files on its own: a folder that is not understood is
//! quarantined (moved aside) so a person can decide. Reading take.json or repairing
//! WAV headers belongs to the caller, which knows the recorder's formats.

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
    /// A deleted take's folder left by an interrupted erasure.
    ErasureLeftover {
        folder: PathBuf,
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
                    "{}: left over from an interrupted erasure",
                    folder.display()
                )
            }
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

impl Library {
    pub fn check(&self) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        let mut statement = self.conn.prepare("PRAGMA integrity_check")?;
        let problems: Vec<String> = statement
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        report.findings.extend(
            problems
                .into_iter()
                .filter(|p| p != "ok")
                .map(CheckFinding::Integrity),
        );
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
        for (take, folder, file, expected) in registered_files(&self.conn)? {
            let path = self.root.join(&folder).join(&file);
            report.files_checked += 1;
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
                if !known.contains(&folder) {
                    report.findings.push(CheckFinding::Orphan { folder });
                }
            }
        }
        for folder in subfolders(&self.root.join(INCOMING_DIR)) {
            report.findings.push(CheckFinding::Unfinished { folder });
        }
        for folder in subfolders(&self.root.join("takes/.erasing")) {
            report
                .findings
                .push(CheckFinding::ErasureLeftover { folder });
        }
        Ok(report)
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
            std::fs::create_dir_all(parent).map_err(|e| LibraryError::unwritable(parent, &e))?;
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

    /// Removes what an interrupted erasure left behind (the database already forgot it).
    pub fn finish_erasure(&mut self, folder: &Path) -> Result<()> {
        if !folder.starts_with(self.root.join("takes/.erasing")) {
            return Err(LibraryError::Invalid(format!(
                "{} is not an erased take's folder",
                folder.display()
            )));
        }
        std::fs::remove_dir_all(folder).map_err(|e| LibraryError::unwritable(folder, &e))
    }

    /// Copies the library to `destination` (a new folder): the database through SQLite's
    /// online backup (consistent even while another process writes) and then the files
    /// that snapshot lists, each checked against its hash. Written under a temporary
    /// name, so an interrupted backup never looks complete.
    pub fn backup(&self, destination: &Path) -> Result<BackupReport> {
        if destination.exists()
            && std::fs::read_dir(destination).map_or(true, |mut d| d.next().is_some())
        {
            return Err(LibraryError::Invalid(format!(
                "{} already exists and is not empty: give a new folder for the backup",
                destination.display()
            )));
        }
        let partial = destination.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial).map_err(|e| LibraryError::unwritable(&partial, &e))?;
        let database = partial.join(super::DATABASE_FILE);
        let mut copy =
            rusqlite::Connection::open(&database).map_err(|e| LibraryError::file(&database, e))?;
        Backup::new(&self.conn, &mut copy)?.run_to_completion(
            512,
            Duration::from_millis(5),
            None,
        )?;
        let mut report = BackupReport {
            takes: copy.query_row("SELECT count(*) FROM take", [], |r| r.get::<_, i64>(0))?
                as usize,
            ..BackupReport::default()
        };
        for (_, folder, file, expected) in registered_files(&copy)? {
            let from = self.root.join(&folder).join(&file);
            let to = partial.join(&folder).join(&file);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| LibraryError::unwritable(parent, &e))?;
            }
            report.bytes += std::fs::copy(&from, &to).map_err(|e| {
                LibraryError::file(&from, format!("{e}: run `bandroom check` on the library"))
            })?;
            if sha256_file(&to)? != expected {
                return Err(LibraryError::file(
                    &from,
                    "does not match its registered hash: run `bandroom check`; the backup was not finished",
                ));
            }
            report.files += 1;
        }
        drop(copy);
        std::fs::rename(&partial, destination)
            .map_err(|e| LibraryError::unwritable(destination, &e))?;
        Ok(report)
    }
}
