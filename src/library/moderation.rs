//! A moderator's blind judgements brought back from a moderation pack: pupils are
//! found again by their pseudonym (only this library's key maps codes back), levels by
//! the class framework, and the judgements are stored apart from the department's own
//! so a moderator never changes a pupil's progress.
//!
//! Must not compute agreement (that is `export::moderation`'s) or read files.

use super::error::{LibraryError, Result};
use super::judgements::{framework_for, level_id};
use super::{Library, audit};
use rusqlite::params;
use std::collections::HashMap;

/// One line of a returned judgement sheet, with the pupil already found.
#[derive(Clone, Debug, PartialEq)]
pub struct ModeratorJudgement {
    pub pupil: i64,
    pub take: Option<i64>,
    pub criterion: String,
    pub level: String,
    pub comment: String,
}

impl Library {
    /// Pupil ids by pseudonym, for every pupil in the library.
    pub fn pupils_by_pseudonym(&mut self) -> Result<HashMap<String, i64>> {
        let ids: Vec<i64> = self
            .conn
            .prepare("SELECT id FROM pupil")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut map = HashMap::with_capacity(ids.len());
        for id in ids {
            map.insert(self.pseudonym(id)?, id);
        }
        Ok(map)
    }

    /// Stores a moderator's judgements in one transaction; a bad criterion or level
    /// anywhere stores nothing. `source_sha256` names the sheet they came from, so the
    /// same sheet imported twice is refused.
    pub fn import_moderation(
        &mut self,
        moderator: &str,
        source_sha256: &str,
        rows: &[ModeratorJudgement],
    ) -> Result<i64> {
        let tx = self.write()?;
        let seen: Option<String> = tx
            .query_row(
                "SELECT imported_at FROM moderation WHERE source_sha256 = ?1",
                [source_sha256],
                |r| r.get(0),
            )
            .ok();
        if let Some(at) = seen {
            return Err(LibraryError::Invalid(format!(
                "this judgement sheet was already imported on {}",
                &at[..at.len().min(10)]
            )));
        }
        tx.execute(
            "INSERT INTO moderation (moderator, source_sha256, imported_at) VALUES (?1, ?2, ?3)",
            params![moderator.trim(), source_sha256, super::now()],
        )?;
        let id = tx.last_insert_rowid();
        for row in rows {
            let (framework, _) = framework_for(&tx, row.pupil, row.take)?;
            let level = level_id(&tx, framework, &row.criterion, &row.level)?;
            tx.execute(
                "INSERT INTO moderation_judgement (moderation_id, pupil_id, take_id, level_id, comment)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, row.pupil, row.take, level, row.comment.trim()],
            )?;
        }
        audit::append(
            &tx,
            "moderation",
            &format!("imported {} judgement(s) as moderation #{id}", rows.len()),
        )?;
        tx.commit()?;
        Ok(id)
    }
}
