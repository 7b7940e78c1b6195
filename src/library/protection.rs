//! Erasing a pupil: their personal data, judgements and reflections go; each track that
//! was theirs alone goes with its file; a take goes whole only when every track in it
//! was theirs alone (classmates' tracks, the take's markers and voice notes stay); on
//! tracks they shared they lose their attribution; their name is rewritten as
//! `[erased pupil]` in every other text the library holds (classmates' comments,
//! markers, reflections, moderators' comments, lesson titles); the audit log records
//! only that an erasure happened.
//!
//! SQLite's `secure_delete` (set on every connection) zeroes the freed rows, and the
//! write-ahead log is checkpointed and truncated afterwards, so the name is not left
//! in the file's free pages. When another reader keeps the checkpoint from finishing,
//! the erasure says so and `erase --resume` finishes it. Must not touch pupils other
//! than the one erased, beyond removing that pupil's name from their texts.

use super::error::{LibraryError, Result};
use super::{Library, audit, erasure_files};
use crate::name_scrubber::{NameScrubber, Sought};
use rusqlite::{OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What an erased pupil's name becomes in other pupils' texts.
pub const ERASED_PUPIL: &str = "[erased pupil]";

/// The setting that marks an erasure whose checkpoint has not finished.
const PENDING_KEY: &str = "erasure.checkpoint_pending";

/// The texts of the library that may name a pupil: (table, id column, text column, the
/// condition under which a row is tied to the pupil `?1`: in a take they played, in a
/// class they belong to, or about a classmate). A whole name or number is replaced in
/// every text; a single part of the name ("Will", "May") only in tied ones, so erasing
/// a pupil whose name is also a common word leaves every other class's texts alone.
const FREE_TEXTS: &[(&str, &str, &str, &str)] = &[
    (
        "assessment",
        "id",
        "comment",
        "pupil_id <> ?1 AND (take_id IN (SELECT take_id FROM pupil_takes)
             OR class_id IN (SELECT class_id FROM pupil_classes)
             OR pupil_id IN (SELECT pupil_id FROM classmates))",
    ),
    (
        "marker",
        "id",
        "text",
        "take_id IN (SELECT take_id FROM pupil_takes)
             OR take_id IN (SELECT t.id FROM take t JOIN lesson l ON l.id = t.lesson_id
                            WHERE l.class_id IN (SELECT class_id FROM pupil_classes))",
    ),
    (
        "reflection",
        "id",
        "text",
        "pupil_id <> ?1 AND (take_id IN (SELECT take_id FROM pupil_takes)
             OR pupil_id IN (SELECT pupil_id FROM classmates))",
    ),
    (
        "moderation_judgement",
        "rowid",
        "comment",
        "pupil_id <> ?1 AND (take_id IN (SELECT take_id FROM pupil_takes)
             OR pupil_id IN (SELECT pupil_id FROM classmates))",
    ),
    (
        "lesson",
        "id",
        "title",
        "class_id IN (SELECT class_id FROM pupil_classes)",
    ),
];

/// One text an erasure rewrites, as it will read afterwards.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TextChange {
    /// What kind of text: "assessment", "marker", "reflection", "moderation_judgement"
    /// or "lesson".
    pub kind: &'static str,
    pub id: i64,
    pub after: String,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ErasureReport {
    pub takes_deleted: usize,
    /// Tracks that were the pupil's alone, deleted from takes that others played in.
    pub tracks_deleted: usize,
    pub shared_takes_kept: usize,
    pub assessments_removed: usize,
    /// Other pupils' texts (comments, markers, reflections …) that named the pupil.
    pub texts_rewritten: usize,
    /// Those texts, as they now read.
    pub texts_changed: Vec<TextChange>,
    /// Folders and files that could not be removed from disk (the database no longer
    /// lists them; the next open, `check --repair` or `erase --resume` finishes them).
    pub folders_left: Vec<PathBuf>,
    /// Backups bandroom made before this erasure: they still hold the pupil.
    pub earlier_backups: Vec<String>,
    /// Places bandroom exported bundles to: a bundle made before this erasure may still
    /// hold the pupil.
    pub exported_bundles: Vec<String>,
    /// Half-written backups and exports (of processes that are gone) beside those places,
    /// removed by this erasure.
    pub unfinished_copies_removed: Vec<PathBuf>,
}

/// One take the pupil played in: its folder, and for each track its file and whether it
/// was the pupil's alone.
struct PlayedTake {
    id: i64,
    folder: String,
    tracks: Vec<(i64, String, bool)>,
}

/// (note id, take folder, note file) of each voice note meant for `pupil` alone.
fn notes_for_pupil(conn: &rusqlite::Connection, pupil: i64) -> Result<Vec<(i64, String, String)>> {
    let mut statement = conn.prepare(
        "SELECT v.id, t.folder, v.file FROM voice_note v JOIN take t ON t.id = v.take_id
         WHERE v.for_pupil = ?1",
    )?;
    let rows = statement
        .query_map([pupil], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn played_takes(conn: &rusqlite::Connection, pupil: i64) -> Result<Vec<PlayedTake>> {
    let mut statement = conn.prepare(
        "SELECT t.id, t.folder, tr.id, tr.file,
                EXISTS (SELECT 1 FROM performer f WHERE f.track_id = tr.id AND f.pupil_id = ?1),
                EXISTS (SELECT 1 FROM performer f WHERE f.track_id = tr.id AND f.pupil_id <> ?1)
         FROM take t JOIN track tr ON tr.take_id = t.id
         WHERE t.id IN (SELECT tr2.take_id FROM track tr2 JOIN performer f2 ON f2.track_id = tr2.id
                        WHERE f2.pupil_id = ?1)
         ORDER BY t.id, tr.number",
    )?;
    let rows = statement
        .query_map([pupil], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut takes: Vec<PlayedTake> = Vec::new();
    for (take, folder, track, file, theirs, others) in rows {
        if takes.last().is_none_or(|t| t.id != take) {
            takes.push(PlayedTake {
                id: take,
                folder,
                tracks: Vec::new(),
            });
        }
        if let Some(last) = takes.last_mut() {
            last.tracks.push((track, file, theirs && !others));
        }
    }
    Ok(takes)
}

/// Deletes the rows of every take and track that was the pupil's alone and of every
/// voice note meant for them alone, writing each file they free into the erasure
/// ledger (removed only after the commit).
fn forget_recordings(
    tx: &rusqlite::Transaction<'_>,
    pupil: i64,
    report: &mut ErasureReport,
) -> Result<()> {
    let takes = played_takes(tx, pupil)?;
    report.assessments_removed = tx.query_row(
        "SELECT count(*) FROM assessment WHERE pupil_id = ?1",
        [pupil],
        |r| r.get::<_, i64>(0),
    )? as usize;
    for take in &takes {
        if take.tracks.iter().all(|(_, _, alone)| *alone) {
            tx.execute("DELETE FROM take WHERE id = ?1", [take.id])?;
            report.takes_deleted += 1;
            erasure_files::record(tx, &take.folder)?;
            continue;
        }
        report.shared_takes_kept += 1;
        for (track, file, alone) in &take.tracks {
            if !*alone {
                continue;
            }
            tx.execute("DELETE FROM track WHERE id = ?1", [track])?;
            report.tracks_deleted += 1;
            if !crate::own_files::is_plain_file_name(file) {
                continue;
            }
            erasure_files::record(tx, &format!("{}/{file}", take.folder))?;
            let peaks = Path::new(file).with_extension("peaks");
            erasure_files::record(tx, &format!("{}/{}", take.folder, peaks.display()))?;
        }
    }
    // A voice note for this pupil alone is about them: it goes with them (its row by the
    // foreign key, its file here), in a take that stays for the others.
    for (_, folder, file) in notes_for_pupil(tx, pupil)? {
        if let Some(name) = file.strip_prefix("voice-notes/")
            && crate::own_files::is_plain_file_name(name)
        {
            erasure_files::record(tx, &format!("{folder}/voice-notes/{name}"))?;
        }
    }
    Ok(())
}

/// Every text an erasure of `pupil` changes, as it will read: the whole name and the
/// admission number anywhere, single parts of the name only in texts tied to them.
fn text_changes(conn: &rusqlite::Connection, pupil: i64) -> Result<Vec<TextChange>> {
    let (name, number): (String, Option<String>) = conn
        .query_row(
            "SELECT display_name, number FROM pupil WHERE id = ?1",
            [pupil],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| LibraryError::NotFound(format!("no pupil #{pupil}")))?;
    let mut sought = vec![Sought {
        text: &name,
        label: ERASED_PUPIL,
        parts: false,
    }];
    if let Some(number) = number.as_deref() {
        sought.push(Sought {
            text: number,
            label: ERASED_PUPIL,
            parts: false,
        });
    }
    let whole = NameScrubber::of(sought.iter().copied(), ERASED_PUPIL);
    sought[0].parts = true;
    let parts = NameScrubber::of(sought, ERASED_PUPIL);
    let mut changes = Vec::new();
    for (table, id, column, tied) in FREE_TEXTS {
        let sql = format!(
            "WITH pupil_takes AS (
                 SELECT DISTINCT tr.take_id FROM track tr JOIN performer f ON f.track_id = tr.id
                 WHERE f.pupil_id = ?1),
             pupil_classes AS (SELECT class_id FROM class_member WHERE pupil_id = ?1),
             classmates AS (
                 SELECT pupil_id FROM class_member
                 WHERE class_id IN (SELECT class_id FROM pupil_classes))
             SELECT {id}, {column}, coalesce(({tied}), 0) FROM {table}"
        );
        let rows: Vec<(i64, String, bool)> = conn
            .prepare(&sql)?
            .query_map([pupil], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (row, text, is_tied) in rows {
            let scrubber = if is_tied { &parts } else { &whole };
            if scrubber.finds_any(&text) {
                changes.push(TextChange {
                    kind: table,
                    id: row,
                    after: scrubber.scrub(&text),
                });
            }
        }
    }
    Ok(changes)
}

/// Writes `changes` (from [`text_changes`]); returns those of rows still there (a
/// marker of a take that went with the pupil has gone with it).
fn rewrite_texts(
    tx: &rusqlite::Transaction<'_>,
    changes: Vec<TextChange>,
) -> Result<Vec<TextChange>> {
    let mut written = Vec::new();
    for change in changes {
        let Some((table, id, column, _)) = FREE_TEXTS.iter().find(|t| t.0 == change.kind) else {
            continue;
        };
        let updated = tx.execute(
            &format!("UPDATE {table} SET {column} = ?1 WHERE {id} = ?2"),
            params![change.after, change.id],
        )?;
        if updated > 0 {
            written.push(change);
        }
    }
    Ok(written)
}

/// Checkpoints the write-ahead log into the database and truncates it; false when a
/// reader kept it from finishing.
fn truncate_log(conn: &rusqlite::Connection) -> Result<bool> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    Ok(busy == 0)
}

impl Library {
    /// The texts erasing `pupil` would change, as they would read afterwards: shown to
    /// the teacher before they confirm (and printed by `erase --yes`).
    pub fn erasure_text_changes(&self, pupil: i64) -> Result<Vec<TextChange>> {
        text_changes(&self.conn, pupil)
    }

    pub fn erase_pupil(&mut self, pupil: i64) -> Result<ErasureReport> {
        let mut report = ErasureReport {
            earlier_backups: self.known_backups()?,
            exported_bundles: super::maintenance::exports_logged(&self.root),
            ..ErasureReport::default()
        };
        let tx = self.write()?;
        // Worked out before the rows go: which texts are tied to the pupil depends on
        // their takes and classes.
        let changes = text_changes(&tx, pupil)?;
        forget_recordings(&tx, pupil, &mut report)?;
        let deleted = tx.execute("DELETE FROM pupil WHERE id = ?1", params![pupil])?;
        if deleted == 0 {
            return Err(LibraryError::NotFound(format!("no pupil #{pupil}")));
        }
        report.texts_changed = rewrite_texts(&tx, changes)?;
        report.texts_rewritten = report.texts_changed.len();
        tx.execute(
            "INSERT INTO setting (key, value) VALUES (?1, '1')
             ON CONFLICT (key) DO UPDATE SET value = '1'",
            [PENDING_KEY],
        )?;
        audit::append(
            &tx,
            "pupil.erase",
            &format!(
                "a pupil was erased: {} take(s) and {} track(s) deleted, {} shared take(s) \
                 kept without them, {} other text(s) rewritten",
                report.takes_deleted,
                report.tracks_deleted,
                report.shared_takes_kept,
                report.texts_rewritten
            ),
        )?;
        // Until this commit no file has been touched: killed before it, the pupil and
        // every recording are as they were.
        tx.commit()?;
        // A printed card sheet names the pupil: the app writes it again when asked.
        super::sign_in::remove_card_sheets(&self.root);
        report.folders_left = self.finish_erasure_files()?;
        // A killed backup's half copy is a whole copy of the database: it goes too.
        for (copy, dest) in super::maintenance::unfinished_copies(&self.root) {
            if crate::own_files::remove_leftover(&copy, &dest).is_ok() {
                report.unfinished_copies_removed.push(copy);
            }
        }
        self.finish_erasure_checkpoint()?;
        Ok(report)
    }

    /// Deletes the files erasures have committed to deleting (an erasure killed after
    /// its commit left some); returns those that could not be removed.
    pub fn finish_erasure_files(&mut self) -> Result<Vec<PathBuf>> {
        super::erasure_files::finish(&self.conn, &self.root)
    }

    /// True when an erasure's checkpoint has not finished (`erase --resume` finishes it).
    pub fn erasure_pending(&self) -> Result<bool> {
        Ok(self.setting(PENDING_KEY)?.is_some())
    }

    /// Copies every page out of the write-ahead log into the database and truncates the
    /// log, so the old pages that held an erased name are gone. Each try waits (SQLite's
    /// busy handler, up to the connection's busy timeout) for readers to finish; after
    /// three it fails plainly.
    pub fn finish_erasure_checkpoint(&mut self) -> Result<()> {
        for _ in 0..3 {
            if truncate_log(&self.conn)? {
                self.conn
                    .execute("DELETE FROM setting WHERE key = ?1", [PENDING_KEY])?;
                // Deleting the marker wrote to the log again: empty it once more.
                if truncate_log(&self.conn)? {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(LibraryError::ErasureUnfinished)
    }

    /// Records that a bundle of this library's data was exported to `destination`, so an
    /// erasure can list it.
    pub fn record_export_destination(&self, destination: &Path) {
        super::maintenance::log_export(&self.root, destination);
    }

    /// Backups made of this library, as their folders (oldest first).
    pub fn known_backups(&self) -> Result<Vec<String>> {
        Ok(super::maintenance::backups_logged(&self.root))
    }
}
