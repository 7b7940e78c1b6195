//! What the progress screens and exports ask of many judgements at once: the class
//! grid (pupils × criteria, latest level, gaps visible) and the evidence selection (the
//! earliest and latest evidence take per pupil and criterion in a date range, so
//! progress can be heard side by side).
//!
//! Each answer is a bounded number of indexed queries, whatever the library's size
//! (the benchmark holds them to the 50 ms screen budget on ten school years).
//! Must not format anything for display.

use super::Library;
use super::error::Result;
use rusqlite::params;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GridRow {
    pub pupil_id: i64,
    pub name: String,
    /// The latest level per criterion, in the order of [`ClassGrid::criteria`].
    pub levels: Vec<Option<i64>>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClassGrid {
    /// (key, title, number of levels) of the class framework's criteria.
    pub criteria: Vec<(String, String, usize)>,
    pub rows: Vec<GridRow>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EvidencePick {
    pub pupil_id: i64,
    pub criterion: String,
    pub first_take: i64,
    pub first_level: i64,
    pub first_at: String,
    pub last_take: i64,
    pub last_level: i64,
    pub last_at: String,
}

impl Library {
    pub fn class_grid(&self, class: i64) -> Result<ClassGrid> {
        let framework: Option<i64> = self.conn.query_row(
            "SELECT framework_id FROM class WHERE id = ?1",
            [class],
            |r| r.get(0),
        )?;
        let criteria = match framework {
            Some(f) => self.strands(f)?,
            None => Vec::new(),
        };
        let column: HashMap<&str, usize> = criteria
            .iter()
            .enumerate()
            .map(|(i, (key, _, _))| (key.as_str(), i))
            .collect();
        let mut rows: Vec<GridRow> = self
            .pupils(Some(class))?
            .into_iter()
            .map(|p| GridRow {
                pupil_id: p.id,
                name: p.name,
                levels: vec![None; criteria.len()],
            })
            .collect();
        let index: HashMap<i64, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.pupil_id, i))
            .collect();
        // In time order, so the last judgement seen for a cell is its latest.
        let mut statement = self.conn.prepare_cached(
            "SELECT a.pupil_id, s.key, l.value
             FROM class_member m
             JOIN assessment a ON a.pupil_id = m.pupil_id
             JOIN level l ON l.id = a.level_id
             JOIN strand s ON s.id = l.strand_id
             WHERE m.class_id = ?1 AND s.framework_id = ?2
             ORDER BY a.assessed_at, a.id",
        )?;
        let mut judged = statement.query(params![class, framework])?;
        while let Some(r) = judged.next()? {
            let pupil: i64 = r.get(0)?;
            let key: String = r.get(1)?;
            if let (Some(&row), Some(&col)) = (index.get(&pupil), column.get(key.as_str())) {
                rows[row].levels[col] = Some(r.get(2)?);
            }
        }
        Ok(ClassGrid { criteria, rows })
    }

    /// For each pupil of `class` and each criterion judged with a take as evidence
    /// between `from` and `to` (inclusive dates, `YYYY-MM-DD`): the first and last such
    /// judgement's take.
    pub fn evidence_selection(
        &self,
        class: i64,
        from: &str,
        to: &str,
    ) -> Result<Vec<EvidencePick>> {
        // Grouped by pupil and criterion, in time order: the first row of a group is
        // its earliest evidence, the last its latest.
        let mut statement = self.conn.prepare_cached(
            "SELECT a.pupil_id, s.key, a.take_id, l.value, a.assessed_at
             FROM class_member m
             JOIN assessment a ON a.pupil_id = m.pupil_id
             JOIN level l ON l.id = a.level_id
             JOIN strand s ON s.id = l.strand_id
             WHERE m.class_id = ?1 AND a.take_id IS NOT NULL
               AND a.assessed_at >= ?2 AND a.assessed_at < date(?3, '+1 day')
             ORDER BY a.pupil_id, s.key, a.assessed_at, a.id",
        )?;
        let mut picks: Vec<EvidencePick> = Vec::new();
        let mut judged = statement.query(params![class, from, to])?;
        while let Some(r) = judged.next()? {
            let (pupil, key): (i64, String) = (r.get(0)?, r.get(1)?);
            let (take, level, at): (i64, i64, String) = (r.get(2)?, r.get(3)?, r.get(4)?);
            match picks.last_mut() {
                Some(p) if p.pupil_id == pupil && p.criterion == key => {
                    p.last_take = take;
                    p.last_level = level;
                    p.last_at = at;
                }
                _ => picks.push(EvidencePick {
                    pupil_id: pupil,
                    criterion: key,
                    first_take: take,
                    first_level: level,
                    first_at: at.clone(),
                    last_take: take,
                    last_level: level,
                    last_at: at,
                }),
            }
        }
        Ok(picks)
    }
}
