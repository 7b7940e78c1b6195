//! Judgements and the words around a take: assessments against a framework's levels,
//! markers, and pupils' reflections with self-assessment (voice notes: `voice_notes`).
//!
//! Owns attaching context to every judgement (class, part, tier, instrument, monitoring
//! groups, date) from what the library already knows, so a teacher never types it, and
//! the progress queries over a pupil's history. Judgements are only ever added: a new
//! judgement supersedes an older one in "latest", and both stay in the history.
//! Must not decide levels (analysis may suggest; a teacher confirms).

use super::error::{LibraryError, Result};
use super::{Library, audit};
use crate::name_scrubber::{NameScrubber, Sought};
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Clone, Debug, PartialEq)]
pub struct NewAssessment {
    pub pupil: i64,
    pub take: Option<i64>,
    /// A strand key or title of the class's framework.
    pub criterion: String,
    /// A level number or label.
    pub level: String,
    pub comment: String,
    pub assessor: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AssessmentRecord {
    pub id: i64,
    pub assessed_at: String,
    pub framework: String,
    pub criterion: String,
    pub level: i64,
    pub label: String,
    pub take: Option<i64>,
    pub class: Option<String>,
    pub part: Option<String>,
    pub tier: Option<String>,
    pub comment: String,
    pub assessor: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StrandProgress {
    pub framework: String,
    pub criterion: String,
    pub title: String,
    pub levels: usize,
    pub latest: Option<AssessmentRecord>,
    /// Oldest first.
    pub history: Vec<AssessmentRecord>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Progress {
    pub pupil_id: i64,
    pub name: String,
    pub strands: Vec<StrandProgress>,
}

/// The framework that applies to a pupil's judgement: the take's class's, else the
/// pupil's most recent class's, else the newest default.
pub(crate) fn framework_for(
    conn: &Connection,
    pupil: i64,
    take: Option<i64>,
) -> Result<(i64, Option<i64>)> {
    let from_take: Option<(Option<i64>, Option<i64>)> = match take {
        Some(take) => conn
            .query_row(
                "SELECT c.framework_id, c.id FROM take t JOIN lesson l ON l.id = t.lesson_id
                 LEFT JOIN class c ON c.id = l.class_id WHERE t.id = ?1",
                [take],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?,
        None => None,
    };
    if let Some((Some(framework), class)) = from_take {
        return Ok((framework, class));
    }
    let from_class: Option<(i64, i64)> = conn
        .query_row(
            "SELECT c.framework_id, c.id FROM class_member m JOIN class c ON c.id = m.class_id
             WHERE m.pupil_id = ?1 AND c.framework_id IS NOT NULL ORDER BY c.created_at DESC
             LIMIT 1",
            [pupil],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((framework, class)) = from_class {
        return Ok((framework, from_take.and_then(|t| t.1).or(Some(class))));
    }
    let default: i64 = conn.query_row(
        "SELECT id FROM framework WHERE name = ?1 ORDER BY version DESC LIMIT 1",
        [super::frameworks::DEFAULT_FRAMEWORK],
        |r| r.get(0),
    )?;
    Ok((default, from_take.and_then(|t| t.1)))
}

/// The level id for a criterion (strand key or title) and level (number or label).
pub(crate) fn level_id(
    conn: &Connection,
    framework: i64,
    criterion: &str,
    level: &str,
) -> Result<i64> {
    let strand: Option<i64> = conn
        .query_row(
            "SELECT id FROM strand WHERE framework_id = ?1
             AND (key = ?2 COLLATE NOCASE OR title = ?2 COLLATE NOCASE)",
            params![framework, criterion.trim()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(strand) = strand else {
        let keys: Vec<String> = conn
            .prepare("SELECT key FROM strand WHERE framework_id = ?1 ORDER BY position")?
            .query_map([framework], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        return Err(LibraryError::NotFound(format!(
            "no criterion {criterion:?} in this class's framework: use one of {}",
            keys.join(", ")
        )));
    };
    let found: Option<i64> = conn
        .query_row(
            "SELECT id FROM level WHERE strand_id = ?1
             AND (CAST(value AS TEXT) = ?2 OR label = ?2 COLLATE NOCASE)",
            params![strand, level.trim()],
            |r| r.get(0),
        )
        .optional()?;
    found.ok_or_else(|| {
        let count: i64 = conn
            .query_row(
                "SELECT count(*) FROM level WHERE strand_id = ?1",
                [strand],
                |r| r.get(0),
            )
            .unwrap_or(0);
        LibraryError::NotFound(format!(
            "no level {level:?} for {criterion}: give a number from 1 to {count} or a level's name"
        ))
    })
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AssessmentRecord> {
    Ok(AssessmentRecord {
        id: r.get(0)?,
        assessed_at: r.get(1)?,
        framework: r.get(2)?,
        criterion: r.get(3)?,
        level: r.get(4)?,
        label: r.get(5)?,
        take: r.get(6)?,
        class: r.get(7)?,
        part: r.get(8)?,
        tier: r.get(9)?,
        comment: r.get(10)?,
        assessor: r.get(11)?,
    })
}

/// What another pupil's name becomes in a text a pupil reads.
const A_CLASSMATE: &str = "a classmate";

impl Library {
    /// Records a judgement with its context. Returns its id.
    pub fn assess(&mut self, new: &NewAssessment) -> Result<i64> {
        let tx = self.write()?;
        let (framework, class) = framework_for(&tx, new.pupil, new.take)?;
        let level = level_id(&tx, framework, &new.criterion, &new.level)?;
        let context: Option<(Option<String>, Option<String>, Option<String>)> = match new.take {
            Some(take) => {
                let exists: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM take WHERE id = ?1)",
                    [take],
                    |r| r.get(0),
                )?;
                if !exists {
                    return Err(LibraryError::NotFound(format!(
                        "no take {take}: see `bandroom takes list`"
                    )));
                }
                let played = tx
                    .query_row(
                        "SELECT f.part, f.tier, f.instrument FROM performer f
                         JOIN track t ON t.id = f.track_id
                         WHERE t.take_id = ?1 AND f.pupil_id = ?2 ORDER BY t.number LIMIT 1",
                        params![take, new.pupil],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                if played.is_none() {
                    return Err(LibraryError::Invalid(format!(
                        "pupil #{} is not attributed to any track of take {take}: say who played \
                         with `bandroom perform {take} --track N --pupils NAME` first",
                        new.pupil
                    )));
                }
                played
            }
            None => None,
        };
        let (part, tier, instrument) = context.unwrap_or((None, None, None));
        let groups: String = tx.query_row(
            "SELECT coalesce(group_concat(name, ','), '') FROM
                 (SELECT name FROM pupil_group WHERE pupil_id = ?1 ORDER BY name)",
            [new.pupil],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO assessment (pupil_id, level_id, take_id, class_id, part, tier,
                 instrument, groups, comment, assessor, assessed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                new.pupil,
                level,
                new.take,
                class,
                part,
                tier,
                instrument,
                groups,
                new.comment.trim(),
                new.assessor,
                super::now()
            ],
        )?;
        let id = tx.last_insert_rowid();
        audit::append(
            &tx,
            "assessment.add",
            &format!("assessment #{id} for pupil #{}", new.pupil),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Takes a judgement back: it stays in the library (judgements are append-only) with
    /// a withdrawal beside it saying why and who, and no view, radar, trend or export
    /// counts it again.
    pub fn withdraw_assessment(&mut self, id: i64, reason: &str) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(LibraryError::Invalid(
                "say why the judgement is withdrawn (e.g. \"wrong pupil\")".into(),
            ));
        }
        if let Some(c) = crate::plain_text::first_hidden_control(reason) {
            return Err(LibraryError::Invalid(format!(
                "the reason holds a hidden control character (U+{:04X}): type it again",
                u32::from(c)
            )));
        }
        let tx = self.write()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM assessment WHERE id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(LibraryError::NotFound(format!(
                "there is no judgement #{id}"
            )));
        }
        let added = tx.execute(
            "INSERT OR IGNORE INTO withdrawal (assessment_id, reason, withdrawn_by, withdrawn_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, reason, super::current_actor(), super::now()],
        )?;
        if added == 0 {
            return Err(LibraryError::Invalid(format!(
                "judgement #{id} was already withdrawn"
            )));
        }
        audit::append(&tx, "assessment.withdraw", &format!("assessment #{id}"))?;
        tx.commit()?;
        Ok(())
    }

    /// Withdraws the newest judgement still counted on `take` (the one just made, when
    /// the wrong level was clicked). Returns its id, or `None` when there is none.
    pub fn undo_last_assessment(&mut self, take: i64) -> Result<Option<i64>> {
        let last: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM counted_assessment WHERE take_id = ?1
                 ORDER BY assessed_at DESC, id DESC LIMIT 1",
                [take],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = last {
            self.withdraw_assessment(id, "undone straight away")?;
        }
        Ok(last)
    }

    /// Every judgement of a pupil, oldest first.
    pub fn assessments(&self, pupil: i64) -> Result<Vec<AssessmentRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT a.id, a.assessed_at, f.name, s.key, l.value, l.label, a.take_id, c.name,
                    a.part, a.tier, a.comment, a.assessor
             FROM counted_assessment a JOIN level l ON l.id = a.level_id
             JOIN strand s ON s.id = l.strand_id JOIN framework f ON f.id = s.framework_id
             LEFT JOIN class c ON c.id = a.class_id
             WHERE a.pupil_id = ?1 ORDER BY a.assessed_at, a.id",
        )?;
        let rows = statement
            .query_map([pupil], record_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Latest level and history per criterion, for every strand of the frameworks the
    /// pupil has been judged against plus their class's (so gaps show).
    pub fn progress(&self, pupil: i64) -> Result<Progress> {
        let name = self.pupil_name(pupil)?;
        let history = self.assessments(pupil)?;
        let (class_framework, _) = framework_for(&self.conn, pupil, None)?;
        let mut statement = self.conn.prepare_cached(
            "SELECT DISTINCT f.id, f.name, s.key, s.title, s.position,
                    (SELECT count(*) FROM level l2 WHERE l2.strand_id = s.id)
             FROM strand s JOIN framework f ON f.id = s.framework_id
             WHERE f.id = ?1 OR s.id IN (SELECT l.strand_id FROM counted_assessment a
                                         JOIN level l ON l.id = a.level_id WHERE a.pupil_id = ?2)
             ORDER BY f.id = ?1 DESC, f.name, s.position",
        )?;
        let strands = statement
            .query_map(params![class_framework, pupil], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(5)? as usize,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let strands = strands
            .into_iter()
            .map(|(framework, key, title, levels)| {
                let mine: Vec<AssessmentRecord> = history
                    .iter()
                    .filter(|a| a.framework == framework && a.criterion == key)
                    .cloned()
                    .collect();
                StrandProgress {
                    latest: mine.last().cloned(),
                    history: mine,
                    framework,
                    criterion: key,
                    title,
                    levels,
                }
            })
            .collect();
        Ok(Progress {
            pupil_id: pupil,
            name,
            strands,
        })
    }

    /// A teacher's marker, for the teacher alone (as every marker before audiences).
    pub fn add_marker(&mut self, take: i64, frame: u64, text: &str, author: &str) -> Result<i64> {
        self.add_marker_for(take, frame, text, author, super::NoteAudience::Teacher)
    }

    /// A marker pinned to `frame` of `take`, read in pupil review only by `audience`:
    /// the players of the take, or one pupil who played in it.
    pub fn add_marker_for(
        &mut self,
        take: i64,
        frame: u64,
        text: &str,
        author: &str,
        audience: super::NoteAudience,
    ) -> Result<i64> {
        use super::NoteAudience;
        if let NoteAudience::Pupil(pupil) = audience {
            let played: bool = self.conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM track t JOIN performer p ON p.track_id = t.id
                                WHERE t.take_id = ?1 AND p.pupil_id = ?2)",
                params![take, pupil],
                |r| r.get(0),
            )?;
            if !played {
                return Err(LibraryError::Invalid(format!(
                    "pupil #{pupil} did not play in take {take}: a marker for one pupil is for \
                     one of its players"
                )));
            }
        }
        let (for_players, for_pupil) = match audience {
            NoteAudience::Teacher => (false, None),
            NoteAudience::Players => (true, None),
            NoteAudience::Pupil(pupil) => (false, Some(pupil)),
        };
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO marker (take_id, frame, text, author, created_at, for_players, for_pupil)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                take,
                frame as i64,
                text.trim(),
                author,
                super::now(),
                for_players,
                for_pupil
            ],
        )
        .map_err(|e| missing_take(e, take))?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// (frame, text) of the markers of `take` that `pupil` may read in pupil review: those
    /// for the players (when they played in it) and those for them, with every other
    /// pupil's name and number replaced by "a classmate" (a classmate's first name on
    /// its own too).
    pub fn markers_for_pupil(&self, take: i64, pupil: i64) -> Result<Vec<(u64, String)>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT m.frame, m.text FROM marker m WHERE m.take_id = ?1
               AND (m.for_pupil = ?2
                    OR (m.for_pupil IS NULL AND m.for_players = 1 AND EXISTS (
                        SELECT 1 FROM track t JOIN performer p ON p.track_id = t.id
                        WHERE t.take_id = m.take_id AND p.pupil_id = ?2)))
             ORDER BY m.frame, m.id",
        )?;
        let rows = statement
            .query_map(params![take, pupil], |r| {
                Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if rows.is_empty() {
            return Ok(rows);
        }
        // Classmates by their whole name, each part and their number (a false positive
        // in a pupil's view costs a word; a name there costs a child's privacy); anyone
        // else in the library by their whole name and number.
        let everyone = self.pupils(None)?;
        let own_classes: Vec<String> = everyone
            .iter()
            .find(|p| p.id == pupil)
            .map(|p| p.classes.clone())
            .unwrap_or_default();
        let sought = everyone.iter().filter(|p| p.id != pupil).flat_map(|p| {
            std::iter::once(Sought {
                text: p.name.as_str(),
                label: A_CLASSMATE,
                parts: p.classes.iter().any(|c| own_classes.contains(c)),
            })
            .chain(p.number.as_deref().map(|n| Sought {
                text: n,
                label: A_CLASSMATE,
                parts: false,
            }))
        });
        let scrubber = NameScrubber::of(sought, A_CLASSMATE);
        Ok(rows
            .into_iter()
            .map(|(frame, text)| (frame, scrubber.scrub(&text)))
            .collect())
    }

    /// (frame, text, author) of a take's markers in time order, for the teacher.
    pub fn markers(&self, take: i64) -> Result<Vec<(u64, String, String)>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT frame, text, author FROM marker WHERE take_id = ?1 ORDER BY frame, id",
        )?;
        let rows = statement
            .query_map([take], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// (take, written_at, text) of a pupil's reflections, oldest first.
    pub fn reflections(&self, pupil: i64) -> Result<Vec<(i64, String, String)>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT take_id, written_at, text FROM reflection WHERE pupil_id = ?1
             ORDER BY written_at, id",
        )?;
        let rows = statement
            .query_map([pupil], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// A pupil's reflection on a take they played in, with a self-assessment given as
    /// (criterion, level) pairs on their class's framework.
    pub fn add_reflection(
        &mut self,
        take: i64,
        pupil: i64,
        text: &str,
        self_assessment: &[(String, String)],
    ) -> Result<i64> {
        let tx = self.write()?;
        let played: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM performer f JOIN track t ON t.id = f.track_id
                            WHERE t.take_id = ?1 AND f.pupil_id = ?2)",
            params![take, pupil],
            |r| r.get(0),
        )?;
        if !played {
            return Err(LibraryError::Invalid(format!(
                "pupil #{pupil} did not play in take {take}: pupils reflect on their own takes"
            )));
        }
        let (framework, _) = framework_for(&tx, pupil, Some(take))?;
        tx.execute(
            "INSERT INTO reflection (take_id, pupil_id, text, written_at) VALUES (?1, ?2, ?3, ?4)",
            params![take, pupil, text.trim(), super::now()],
        )?;
        let id = tx.last_insert_rowid();
        for (criterion, level) in self_assessment {
            let level = level_id(&tx, framework, criterion, level)?;
            tx.execute(
                "INSERT OR REPLACE INTO self_assessment (reflection_id, level_id) VALUES (?1, ?2)",
                params![id, level],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }
}

fn missing_take(e: rusqlite::Error, take: i64) -> LibraryError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) {
        LibraryError::NotFound(format!("no take {take}: see `bandroom takes list`"))
    } else {
        e.into()
    }
}
