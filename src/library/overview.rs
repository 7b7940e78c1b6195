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
    /// The first level per criterion (of the judgements the filter lets through).
    pub first: Vec<Option<i64>>,
    /// How many judgements each criterion's cell stands on.
    pub judgements: Vec<usize>,
}

/// How a pupil's level in one criterion has moved since their first judgement in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trend {
    Up,
    Same,
    Down,
}

impl GridRow {
    /// The trend of criterion `col`: `None` until it has been judged twice.
    pub fn trend(&self, col: usize) -> Option<Trend> {
        if self.judgements.get(col).copied().unwrap_or(0) < 2 {
            return None;
        }
        let (first, latest) = (
            self.first.get(col)?.as_ref()?,
            self.levels.get(col)?.as_ref()?,
        );
        Some(match latest.cmp(first) {
            std::cmp::Ordering::Greater => Trend::Up,
            std::cmp::Ordering::Equal => Trend::Same,
            std::cmp::Ordering::Less => Trend::Down,
        })
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClassGrid {
    /// (key, title, number of levels) of the class framework's criteria.
    pub criteria: Vec<(String, String, usize)>,
    pub rows: Vec<GridRow>,
}

/// Which judgements the class grid counts: a date range (`YYYY-MM-DD`, `to` exclusive,
/// e.g. a term's bounds) and the part and tier they were made on. `None` counts all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GridFilter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub part: Option<String>,
    pub tier: Option<String>,
}

/// What a class's judgements were made on, for the progress screen's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JudgedContexts {
    /// The dates of judgements (`YYYY-MM-DD`), each once, oldest first.
    pub days: Vec<String>,
    pub parts: Vec<String>,
    pub tiers: Vec<String>,
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
        self.class_grid_where(class, &GridFilter::default())
    }

    /// The class grid counting only the judgements `filter` lets through: "latest" is
    /// then the latest within the term, part or tier asked for.
    pub fn class_grid_where(&self, class: i64, filter: &GridFilter) -> Result<ClassGrid> {
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
                first: vec![None; criteria.len()],
                judgements: vec![0; criteria.len()],
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
             JOIN counted_assessment a ON a.pupil_id = m.pupil_id
             JOIN level l ON l.id = a.level_id
             JOIN strand s ON s.id = l.strand_id
             WHERE m.class_id = ?1 AND s.framework_id = ?2
               AND (?3 IS NULL OR a.assessed_at >= ?3) AND (?4 IS NULL OR a.assessed_at < ?4)
               AND (?5 IS NULL OR a.part = ?5) AND (?6 IS NULL OR a.tier = ?6)
             ORDER BY a.assessed_at, a.id",
        )?;
        let mut judged = statement.query(params![
            class,
            framework,
            filter.from,
            filter.to,
            filter.part,
            filter.tier
        ])?;
        while let Some(r) = judged.next()? {
            let pupil: i64 = r.get(0)?;
            let key: String = r.get(1)?;
            if let (Some(&row), Some(&col)) = (index.get(&pupil), column.get(key.as_str())) {
                let level: i64 = r.get(2)?;
                let cell = &mut rows[row];
                cell.levels[col] = Some(level);
                cell.first[col].get_or_insert(level);
                cell.judgements[col] += 1;
            }
        }
        Ok(ClassGrid { criteria, rows })
    }

    /// The days, parts and tiers the judgements of `class`'s pupils were made on.
    pub fn judged_contexts(&self, class: i64) -> Result<JudgedContexts> {
        let distinct = |column: &str| -> Result<Vec<String>> {
            let sql = format!(
                "SELECT DISTINCT {column} AS v FROM class_member m
                 JOIN counted_assessment a ON a.pupil_id = m.pupil_id
                 WHERE m.class_id = ?1 AND {column} IS NOT NULL ORDER BY v"
            );
            let mut statement = self.conn.prepare_cached(&sql)?;
            let values = statement
                .query_map([class], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(values)
        };
        Ok(JudgedContexts {
            days: distinct("substr(a.assessed_at, 1, 10)")?,
            parts: distinct("a.part")?,
            tiers: distinct("a.tier")?,
        })
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
             JOIN counted_assessment a ON a.pupil_id = m.pupil_id
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
