//! School years, classes and pupils: adding them, listing them, and finding one by what
//! a teacher types (a name, an admission number or `#id`).
//!
//! Must not import rosters (see `roster`) or erase pupils (see `protection`).

use super::error::{LibraryError, Result};
use super::frameworks::DEFAULT_FRAMEWORK;
use super::{Library, audit};
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClassSummary {
    pub id: i64,
    pub name: String,
    pub year: Option<String>,
    pub framework: String,
    pub pupils: i64,
    pub lessons: i64,
    pub takes: i64,
    /// Archived: kept with everything recorded, no longer offered for a lesson.
    pub archived: bool,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PupilSummary {
    pub id: i64,
    pub name: String,
    pub number: Option<String>,
    pub classes: Vec<String>,
    /// Monitoring groups: for aggregate reports only, so never serialised per pupil.
    #[serde(skip)]
    pub groups: Vec<String>,
    pub do_not_share: bool,
}

pub(crate) fn year_id(conn: &Connection, name: &str) -> Result<i64> {
    conn.execute(
        "INSERT INTO school_year (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
        [name],
    )?;
    Ok(
        conn.query_row("SELECT id FROM school_year WHERE name = ?1", [name], |r| {
            r.get(0)
        })?,
    )
}

fn split_list(text: Option<String>) -> Vec<String> {
    text.map(|t| t.split('\u{1f}').map(str::to_string).collect())
        .unwrap_or_default()
}

impl Library {
    pub fn add_class(
        &mut self,
        name: &str,
        year: Option<&str>,
        framework: Option<&str>,
    ) -> Result<i64> {
        let name = name.trim();
        if name.is_empty() {
            return Err(LibraryError::Invalid(
                "a class needs a name, e.g. 7D".into(),
            ));
        }
        if let Some(c) = crate::plain_text::first_hidden_control(name) {
            return Err(LibraryError::Invalid(format!(
                "the class name holds an invisible control or text-direction character \
                 (U+{:04X}): type it again without it",
                c as u32
            )));
        }
        let framework_id = self.framework_id(framework.unwrap_or(DEFAULT_FRAMEWORK))?;
        let tx = self.write()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM class WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(LibraryError::Invalid(format!(
                "there is already a class called {name:?}: choose another name"
            )));
        }
        let year_id = year.map(|y| year_id(&tx, y.trim())).transpose()?;
        tx.execute(
            "INSERT INTO class (name, year_id, framework_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, year_id, framework_id, super::now()],
        )?;
        let id = tx.last_insert_rowid();
        audit::append(&tx, "class.add", &format!("class #{id}"))?;
        tx.commit()?;
        Ok(id)
    }

    pub fn class_id(&self, name: &str) -> Result<i64> {
        self.conn
            .query_row("SELECT id FROM class WHERE name = ?1", [name.trim()], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| {
                LibraryError::NotFound(format!(
                    "no class called {name:?}: see `bandroom class list`, or add it with \
                     `bandroom class add {name:?}`"
                ))
            })
    }

    pub fn classes(&self) -> Result<Vec<ClassSummary>> {
        let mut statement = self.conn.prepare(
            "SELECT c.id, c.name, y.name, coalesce(f.name || ' v' || f.version, '-'),
                    (SELECT count(*) FROM class_member m WHERE m.class_id = c.id),
                    (SELECT count(*) FROM lesson l WHERE l.class_id = c.id),
                    (SELECT count(*) FROM take t JOIN lesson l ON l.id = t.lesson_id
                     WHERE l.class_id = c.id),
                    c.archived_at IS NOT NULL
             FROM class c LEFT JOIN school_year y ON y.id = c.year_id
             LEFT JOIN framework f ON f.id = c.framework_id ORDER BY c.name",
        )?;
        let rows = statement
            .query_map([], |r| {
                Ok(ClassSummary {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    year: r.get(2)?,
                    framework: r.get(3)?,
                    pupils: r.get(4)?,
                    lessons: r.get(5)?,
                    takes: r.get(6)?,
                    archived: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Pupils, alphabetically; only those in `class` when given.
    pub fn pupils(&self, class: Option<i64>) -> Result<Vec<PupilSummary>> {
        let mut statement = self.conn.prepare(
            "SELECT p.id, p.display_name, p.number, p.do_not_share,
                    (SELECT group_concat(c.name, char(31)) FROM class_member m
                     JOIN class c ON c.id = m.class_id WHERE m.pupil_id = p.id),
                    (SELECT group_concat(g.name, char(31)) FROM pupil_group g WHERE g.pupil_id = p.id)
             FROM pupil p
             WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM class_member m
                                        WHERE m.pupil_id = p.id AND m.class_id = ?1)
             ORDER BY p.display_name COLLATE NOCASE, p.id",
        )?;
        let rows = statement
            .query_map([class], |r| {
                Ok(PupilSummary {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    number: r.get(2)?,
                    do_not_share: r.get(3)?,
                    classes: split_list(r.get(4)?),
                    groups: split_list(r.get(5)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Finds one pupil from what a teacher typed: `#id`, an admission number or a name
    /// (case-insensitive), optionally within a class. Several matches is an error
    /// that lists how to tell them apart.
    pub fn find_pupil(&self, query: &str, class: Option<i64>) -> Result<i64> {
        let query = query.trim();
        if let Some(id) = query.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
            let found: Option<i64> = self
                .conn
                .query_row("SELECT id FROM pupil WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            return found.ok_or_else(|| LibraryError::NotFound(format!("no pupil #{id}")));
        }
        let mut statement = self.conn.prepare_cached(
            "SELECT p.id, p.number FROM pupil p
             WHERE (p.number = ?1 OR p.display_name = ?1 COLLATE NOCASE)
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM class_member m
                                          WHERE m.pupil_id = p.id AND m.class_id = ?2))",
        )?;
        let matches = statement
            .query_map(params![query, class], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        match matches.as_slice() {
            [(id, _)] => Ok(*id),
            [] => Err(LibraryError::NotFound(format!(
                "no pupil called {query:?}{}: see `bandroom pupils list`",
                if class.is_some() {
                    " in that class"
                } else {
                    ""
                }
            ))),
            several => Err(LibraryError::Invalid(format!(
                "{} pupils match {query:?}: give an admission number or #id instead ({})",
                several.len(),
                several
                    .iter()
                    .map(|(id, number)| match number {
                        Some(n) => format!("#{id} number {n}"),
                        None => format!("#{id}"),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// How many pupils (of `class`, or all) are in each monitoring group: the only way
    /// groups are shown.
    pub fn group_counts(&self, class: Option<i64>) -> Result<Vec<(String, i64)>> {
        let mut statement = self.conn.prepare(
            "SELECT g.name, count(*) FROM pupil_group g
             WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM class_member m
                                        WHERE m.pupil_id = g.pupil_id AND m.class_id = ?1)
             GROUP BY g.name COLLATE NOCASE ORDER BY g.name COLLATE NOCASE",
        )?;
        let rows = statement
            .query_map([class], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn pupil_name(&self, pupil: i64) -> Result<String> {
        Ok(self.conn.query_row(
            "SELECT display_name FROM pupil WHERE id = ?1",
            [pupil],
            |r| r.get(0),
        )?)
    }

    /// Marks a pupil as "do not share" (an objection or withdrawn consent): they are
    /// left out of every export that is not assessment evidence.
    pub fn set_do_not_share(&mut self, pupil: i64, do_not_share: bool) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "UPDATE pupil SET do_not_share = ?2 WHERE id = ?1",
            params![pupil, do_not_share],
        )?;
        audit::append(
            &tx,
            "pupil.sharing",
            &format!("pupil #{pupil} do_not_share={do_not_share}"),
        )?;
        tx.commit()?;
        Ok(())
    }
}
