//! The files an erasure deletes, in the order that can never lose a recording: the
//! erasure's transaction deletes the rows and writes each file it frees into
//! `erasure_pending_file`; only after that commit are the files removed, each ledger
//! row going once its file is gone. Killed in between, the ledger still lists what is
//! garbage, and the next open (or `check --repair`, or `erase --resume`) finishes it.
//!
//! Also owns what older bandrooms left in `takes/.erasing` (they moved files there
//! before committing): a file the database still names is put back where it belongs,
//! and only what no row names is ever removed.
//!
//! Must never delete a path the ledger does not list, nor one outside `takes/`.

use super::error::{LibraryError, Result};
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};

/// Where bandroom before schema 10 moved an erasure's files before its commit.
pub(crate) const LEGACY_ERASING_DIR: &str = "takes/.erasing";

/// Records, inside the erasure's transaction, that `relative` (a take folder or a file in
/// one, relative to the library root) is to be deleted once the transaction commits.
/// Paths that do not stay inside `takes/` are never recorded, so never deleted.
pub(crate) fn record(conn: &Connection, relative: &str) -> Result<bool> {
    if !is_deletable(relative) {
        return Ok(false);
    }
    conn.execute(
        "INSERT OR IGNORE INTO erasure_pending_file (path) VALUES (?1)",
        [relative],
    )?;
    Ok(true)
}

/// The paths (relative to the root) an erasure committed to deleting that are not gone
/// yet.
pub(crate) fn pending(conn: &Connection) -> Result<Vec<String>> {
    let mut statement = conn.prepare("SELECT path FROM erasure_pending_file ORDER BY path")?;
    let rows = statement
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Deletes every pending path and its ledger row; returns the paths that could not be
/// removed (they stay in the ledger for the next try).
pub(crate) fn finish(conn: &Connection, root: &Path) -> Result<Vec<PathBuf>> {
    let mut left = Vec::new();
    for relative in pending(conn)? {
        if !finish_one(conn, root, &relative)? {
            left.push(root.join(&relative));
        }
    }
    Ok(left)
}

/// Deletes one pending path and its ledger row; false when it could not be removed.
pub(crate) fn finish_one(conn: &Connection, root: &Path, relative: &str) -> Result<bool> {
    if !is_deletable(relative) || remove(&root.join(relative)).is_err() {
        return Ok(false);
    }
    conn.execute(
        "DELETE FROM erasure_pending_file WHERE path = ?1",
        [relative],
    )?;
    Ok(true)
}

/// Removes one pending path: a folder with what is in it, or a file; already gone counts
/// as done. A link is removed itself, never followed.
fn remove(path: &Path) -> std::io::Result<()> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// A take folder or a file in one: `takes/…` with plain components only, and not one of
/// the library's own working folders.
fn is_deletable(relative: &str) -> bool {
    let Some(rest) = relative.strip_prefix("takes/") else {
        return false;
    };
    crate::own_files::is_inside_relative(rest) && !rest.starts_with('.')
}

/// What to do with one entry an older bandroom left in `takes/.erasing`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegacyLeftover {
    /// The database still names it: move it back to `to`.
    PutBack { from: PathBuf, to: PathBuf },
    /// No row names it: the erasure committed, so it is garbage.
    Garbage { path: PathBuf },
}

/// Sorts what is in `takes/.erasing` by whether the database still names it. Entries
/// were named `take-ID-PID` (a whole take folder), `track-ID-PID/FILE…` and
/// `note-ID-PID/FILE` by the old erasure; anything else is left alone (never reported as
/// garbage).
pub(crate) fn legacy_leftovers(conn: &Connection, root: &Path) -> Result<Vec<LegacyLeftover>> {
    let dir = root.join(LEGACY_ERASING_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let Some((kind, id)) = parse_legacy_name(&name) else {
            continue;
        };
        match kind {
            "take" => found.push(legacy_take(conn, root, path, id)?),
            "track" | "note" => found.extend(legacy_files(conn, root, &path, kind, id)?),
            _ => {}
        }
    }
    Ok(found)
}

/// `take-12-3456` → ("take", 12).
fn parse_legacy_name(name: &str) -> Option<(&str, i64)> {
    let mut parts = name.splitn(3, '-');
    let kind = parts.next()?;
    let id = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((kind, id))
}

fn legacy_take(conn: &Connection, root: &Path, path: PathBuf, id: i64) -> Result<LegacyLeftover> {
    let folder: Option<String> = conn
        .query_row("SELECT folder FROM take WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    Ok(match folder {
        // The take is still registered and its folder is not where it should be: this
        // is its folder, moved aside by an erasure that never committed.
        Some(folder) if is_deletable(&folder) && !root.join(&folder).exists() => {
            LegacyLeftover::PutBack {
                from: path,
                to: root.join(folder),
            }
        }
        Some(_) => LegacyLeftover::PutBack {
            from: path.clone(),
            to: path,
        },
        None => LegacyLeftover::Garbage { path },
    })
}

/// The files of one `track-…` or `note-…` entry: each back into its take's folder when
/// the row is still there, else garbage (the entry folder as a whole).
fn legacy_files(
    conn: &Connection,
    root: &Path,
    path: &Path,
    kind: &str,
    id: i64,
) -> Result<Vec<LegacyLeftover>> {
    let sql = if kind == "track" {
        "SELECT t.folder FROM track tr JOIN take t ON t.id = tr.take_id WHERE tr.id = ?1"
    } else {
        "SELECT t.folder || '/voice-notes' FROM voice_note v JOIN take t ON t.id = v.take_id
         WHERE v.id = ?1"
    };
    let folder: Option<String> = conn.query_row(sql, [id], |r| r.get(0)).optional()?;
    let Some(folder) = folder else {
        return Ok(vec![LegacyLeftover::Garbage {
            path: path.to_path_buf(),
        }]);
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(path)
        .map_err(|e| LibraryError::file(path, e))?
        .flatten()
    {
        let to = root.join(&folder).join(entry.file_name());
        found.push(LegacyLeftover::PutBack {
            from: entry.path(),
            to,
        });
    }
    Ok(found)
}

/// Puts one file or folder back where the database expects it. Refuses to write over
/// anything already there.
pub(crate) fn put_back(from: &Path, to: &Path) -> Result<()> {
    if from == to {
        return Err(LibraryError::Invalid(format!(
            "{} is named by the library but its take's folder already exists: compare the \
             two by hand; bandroom will not delete either",
            from.display()
        )));
    }
    if to.exists() {
        return Err(LibraryError::Invalid(format!(
            "{} cannot be put back: {} already exists",
            from.display(),
            to.display()
        )));
    }
    if let Some(parent) = to.parent() {
        crate::own_files::create_private_dir_all(parent)
            .map_err(|e| LibraryError::unwritable(parent, &e))?;
    }
    std::fs::rename(from, to).map_err(|e| LibraryError::unwritable(from, &e))?;
    // A track's entry folder is left empty once its files are back.
    if let Some(parent) = from.parent()
        && parent.parent().is_some_and(|p| p.ends_with(".erasing"))
    {
        let _ = std::fs::remove_dir(parent);
    }
    Ok(())
}
