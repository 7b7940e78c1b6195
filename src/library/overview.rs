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
        // SQLite takes the bare columns of a max() aggregate from the row holding the max.
        let mut statement = self.conn.prepare_cached(
            "SELECT a.pupil_id, s.key, l.value, max(a.assessed_at || printf('%012d', a.id))
             FROM class_member m
             JOIN assessment a ON a.pupil_id = m.pupil_id
             JOIN level l ON l.id = a.level_id
             JOIN strand s ON s.id = l.strand_id AND s.framework_id = ?2
             WHERE m.class_id = ?1
             GROUP BY a.pupil_id, l.strand_id",
        )?;
        let latest = statement.query_map(params![class, framework], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for entry in latest {
            let (pupil, key, level) = entry?;
            if let (Some(&row), Some(&col)) = (index.get(&pupil), column.get(key.as_str())) {
                rows[row].levels[col] = Some(level);
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
        let mut statement = self.conn.prepare_cached(
            "WITH judged AS (
                 SELECT a.pupil_id, s.key, l.value, a.take_id, a.assessed_at,
                        row_number() OVER (PARTITION BY a.pupil_id, s.id
                                           ORDER BY a.assessed_at, a.id) AS first_rank,
                        row_number() OVER (PARTITION BY a.pupil_id, s.id
                                           ORDER BY a.assessed_at DESC, a.id DESC) AS last_rank
                 FROM class_member m
                 JOIN assessment a ON a.pupil_id = m.pupil_id
                 JOIN level l ON l.id = a.level_id
                 JOIN strand s ON s.id = l.strand_id
                 WHERE m.class_id = ?1 AND a.take_id IS NOT NULL
                   AND a.assessed_at >= ?2 AND a.assessed_at < date(?3, '+1 day'))
             SELECT f.pupil_id, f.key, f.take_id, f.value, f.assessed_at,
                    l.take_id, l.value, l.assessed_at
             FROM judged f JOIN judged l ON l.pupil_id = f.pupil_id AND l.key = f.key
                                        AND l.last_rank = 1
             WHERE f.first_rank = 1
             ORDER BY f.pupil_id, f.key",
        )?;
        let picks = statement
            .query_map(params![class, from, to], |r| {
                Ok(EvidencePick {
                    pupil_id: r.get(0)?,
                    criterion: r.get(1)?,
                    first_take: r.get(2)?,
                    first_level: r.get(3)?,
                    first_at: r.get(4)?,
                    last_take: r.get(5)?,
                    last_level: r.get(6)?,
                    last_at: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(picks)
    }
}
