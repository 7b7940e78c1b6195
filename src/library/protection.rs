//! Erasing a pupil: their personal data and judgements go; takes where they were the
//! only performer go with their files; takes shared with others keep the audio but
//! lose the pupil's attribution; the audit log records only that an erasure happened.
//!
//! SQLite's `secure_delete` (set on every connection) zeroes the freed rows, and the
//! write-ahead log is checkpointed and truncated afterwards, so the name is not left
//! in the file's free pages. Must not touch pupils other than the one erased.

use super::error::{LibraryError, Result};
use super::{Library, TAKES_DIR, audit};
use rusqlite::params;
use std::path::PathBuf;

/// Where folders of erased takes wait between the database commit and their removal.
const ERASING_DIR: &str = "takes/.erasing";

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ErasureReport {
    pub takes_deleted: usize,
    pub shared_takes_kept: usize,
    pub assessments_removed: usize,
    /// Folders that could not be removed from disk (the database no longer lists them).
    pub folders_left: Vec<PathBuf>,
}

impl Library {
    pub fn erase_pupil(&mut self, pupil: i64) -> Result<ErasureReport> {
        let root = self.root.clone();
        let erasing = root.join(ERASING_DIR);
        std::fs::create_dir_all(&erasing).map_err(|e| LibraryError::unwritable(&erasing, &e))?;
        let mut report = ErasureReport::default();
        let tx = self.write()?;
        // Takes the pupil played in, and whether anyone else did.
        let mut statement = tx.prepare(
            "SELECT t.id, t.folder,
                    EXISTS (SELECT 1 FROM track t2 JOIN performer f2 ON f2.track_id = t2.id
                            WHERE t2.take_id = t.id AND f2.pupil_id <> ?1)
             FROM take t WHERE t.id IN (SELECT tr.take_id FROM track tr
                                        JOIN performer f ON f.track_id = tr.id
                                        WHERE f.pupil_id = ?1)",
        )?;
        let takes = statement
            .query_map([pupil], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(statement);
        report.assessments_removed = tx.query_row(
            "SELECT count(*) FROM assessment WHERE pupil_id = ?1",
            [pupil],
            |r| r.get::<_, i64>(0),
        )? as usize;
        let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
        for (take, folder, shared) in &takes {
            if *shared {
                report.shared_takes_kept += 1;
                continue;
            }
            tx.execute("DELETE FROM take WHERE id = ?1", [take])?;
            report.takes_deleted += 1;
            let from = root.join(folder);
            if from.starts_with(root.join(TAKES_DIR)) && from.exists() {
                let to = erasing.join(format!("take-{take}"));
                if let Err(e) = std::fs::rename(&from, &to) {
                    for (back_from, back_to) in moved.iter().rev() {
                        let _ = std::fs::rename(back_to, back_from);
                    }
                    return Err(LibraryError::unwritable(&from, &e));
                }
                moved.push((from, to));
            }
        }
        let deleted = tx.execute("DELETE FROM pupil WHERE id = ?1", params![pupil])?;
        if deleted == 0 {
            return Err(LibraryError::NotFound(format!("no pupil #{pupil}")));
        }
        audit::append(
            &tx,
            "pupil.erase",
            &format!(
                "a pupil was erased: {} take(s) deleted, {} shared take(s) kept without them",
                report.takes_deleted, report.shared_takes_kept
            ),
        )?;
        if let Err(e) = tx.commit() {
            for (from, to) in moved.iter().rev() {
                let _ = std::fs::rename(to, from);
            }
            return Err(e.into());
        }
        for (_, to) in moved {
            if std::fs::remove_dir_all(&to).is_err() {
                report.folders_left.push(to);
            }
        }
        // Old page images in the write-ahead log may still hold the name.
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(report)
    }
}
