//! Criteria frameworks: strands (criteria) with described levels, loaded from TOML.
//!
//! Owns the framework file format, its validation and how frameworks are stored.
//! A framework is identified by name and version; importing changed content under a
//! name that exists adds a new version, so judgements already made keep pointing at
//! the levels they were made against. Must not decide which framework a class uses
//! beyond looking it up.

use super::error::{LibraryError, Result};
use super::{Library, audit};
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;

/// Frameworks shipped with bandroom (`assets/frameworks/`), installed on every open.
const BUILT_INS: &[(&str, &str)] = &[
    (
        "ks3-progression.toml",
        include_str!("../../assets/frameworks/ks3-progression.toml"),
    ),
    (
        "radar-4.toml",
        include_str!("../../assets/frameworks/radar-4.toml"),
    ),
];

/// The framework a new class uses unless told otherwise.
pub const DEFAULT_FRAMEWORK: &str = "ks3-progression";

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FrameworkDef {
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "strand")]
    pub strands: Vec<StrandDef>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StrandDef {
    pub key: String,
    pub title: String,
    pub levels: Vec<LevelDef>,
    /// How timing analysis suggests a level for this strand, if it can.
    #[serde(default)]
    pub timing: Option<TimingRule>,
}

/// A level suggestion from timing: the most each level allows of a measure, in ms,
/// lowest level first. `measure` is "spread" (the SD of deviation) or "mean" (its
/// size, rushing or dragging alike).
#[derive(Clone, Debug, Deserialize, PartialEq, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimingRule {
    pub measure: String,
    pub max_ms: Vec<f64>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LevelDef {
    pub label: String,
    pub description: String,
    /// The level as a pupil would say it of themself ("I keep going after a mistake"),
    /// shown on a pupil's self-assessment; empty: the label is shown.
    #[serde(default)]
    pub pupil_words: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FrameworkSummary {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub title: String,
    pub strands: Vec<(String, String, usize)>,
    pub in_use: bool,
}

/// Reads a framework file's text; `origin` names it in errors.
pub fn parse_framework(text: &str, origin: &str) -> Result<FrameworkDef> {
    let def: FrameworkDef = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| format!(" (line {})", text[..s.start].lines().count().max(1)))
            .unwrap_or_default();
        LibraryError::Invalid(format!(
            "{origin}{line}: {}; see assets/frameworks/ for the format",
            e.message()
        ))
    })?;
    let invalid = |what: String| LibraryError::Invalid(format!("{origin}: {what}"));
    if def.name.trim().is_empty() || def.name.contains(char::is_whitespace) {
        return Err(invalid(format!(
            "name {:?} must be one word, e.g. \"my-school-ks3\"",
            def.name
        )));
    }
    if def.strands.is_empty() {
        return Err(invalid("has no [[strand]]: add at least one".into()));
    }
    let mut keys = std::collections::HashSet::new();
    for strand in &def.strands {
        if !keys.insert(strand.key.to_lowercase()) {
            return Err(invalid(format!(
                "strand key {:?} is used twice",
                strand.key
            )));
        }
        if let Some(rule) = &strand.timing {
            if rule.measure != "spread" && rule.measure != "mean" {
                return Err(invalid(format!(
                    "strand {:?}: timing measure {:?} is not \"spread\" or \"mean\"",
                    strand.key, rule.measure
                )));
            }
            if rule.max_ms.len() != strand.levels.len()
                || rule.max_ms.windows(2).any(|w| w[1] >= w[0])
                || rule.max_ms.iter().any(|v| !v.is_finite() || *v <= 0.0)
            {
                return Err(invalid(format!(
                    "strand {:?}: timing max_ms needs one limit per level ({}), each tighter than the last",
                    strand.key,
                    strand.levels.len()
                )));
            }
        }
        if !(2..=10).contains(&strand.levels.len()) {
            return Err(invalid(format!(
                "strand {:?} has {} levels: give between 2 and 10",
                strand.key,
                strand.levels.len()
            )));
        }
    }
    Ok(def)
}

fn sha256_hex(text: &str) -> String {
    // Reading from memory cannot fail.
    super::takes::sha256_reader(text.as_bytes())
        .map(|(hex, _)| hex)
        .unwrap_or_default()
}

pub(crate) fn install_built_ins(library: &mut Library) -> Result<()> {
    for (file, text) in BUILT_INS {
        let def = parse_framework(text, file)?;
        library.import_framework_text(&def, text)?;
    }
    Ok(())
}

impl Library {
    /// Imports a framework file. Same content as a stored version: nothing changes.
    /// Changed content under an existing name: a new version. Returns (id, version, new?).
    pub fn import_framework_text(
        &mut self,
        def: &FrameworkDef,
        text: &str,
    ) -> Result<(i64, i64, bool)> {
        let hash = sha256_hex(text);
        let stored = |conn: &rusqlite::Connection| -> Result<Option<(i64, i64)>> {
            Ok(conn
                .query_row(
                    "SELECT id, version FROM framework WHERE name = ?1 AND source_sha256 = ?2",
                    params![def.name, hash],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        };
        // Every open installs the built-ins: a read first, so an open never waits
        // for another process's write when there is nothing to add.
        if let Some((id, version)) = stored(&self.conn)? {
            return Ok((id, version, false));
        }
        let tx = self.write()?;
        if let Some((id, version)) = stored(&tx)? {
            return Ok((id, version, false));
        }
        let version: i64 = tx.query_row(
            "SELECT coalesce(max(version), 0) + 1 FROM framework WHERE name = ?1",
            [&def.name],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO framework (name, version, title, description, source_sha256, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                def.name,
                version,
                def.title,
                def.description,
                hash,
                super::now()
            ],
        )?;
        let id = tx.last_insert_rowid();
        for (position, strand) in def.strands.iter().enumerate() {
            let timing = strand
                .timing
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| LibraryError::Invalid(e.to_string()))?;
            tx.execute(
                "INSERT INTO strand (framework_id, key, title, position, timing)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, strand.key, strand.title, position as i64, timing],
            )?;
            let strand_id = tx.last_insert_rowid();
            for (index, level) in strand.levels.iter().enumerate() {
                let value = index as i64 + 1;
                tx.execute(
                    "INSERT INTO level (strand_id, value, label, description, pupil_words)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        strand_id,
                        value,
                        level.label,
                        level.description,
                        level.pupil_words
                    ],
                )?;
                // Earlier versions' classes read the same level in a pupil's words too:
                // the words change nothing a judgement was made against.
                if !level.pupil_words.is_empty() {
                    tx.execute(
                        "UPDATE level SET pupil_words = ?1
                         WHERE pupil_words = '' AND value = ?2 AND label = ?3
                           AND strand_id IN (SELECT s.id FROM strand s
                                             JOIN framework f ON f.id = s.framework_id
                                             WHERE f.name = ?4 AND s.key = ?5)",
                        params![level.pupil_words, value, level.label, def.name, strand.key],
                    )?;
                }
            }
        }
        audit::append(
            &tx,
            "framework.import",
            &format!("{} version {version}", def.name),
        )?;
        tx.commit()?;
        Ok((id, version, true))
    }

    /// The newest version of the framework called `name`.
    pub fn framework_id(&self, name: &str) -> Result<i64> {
        self.conn
            .query_row(
                "SELECT id FROM framework WHERE name = ?1 ORDER BY version DESC LIMIT 1",
                [name],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                LibraryError::NotFound(format!(
                    "no framework called {name:?}: see `bandroom frameworks list`, or import one \
                     with `bandroom frameworks import FILE.toml`"
                ))
            })
    }

    pub fn frameworks(&self) -> Result<Vec<FrameworkSummary>> {
        let mut statement = self.conn.prepare(
            "SELECT f.id, f.name, f.version, f.title,
                    EXISTS (SELECT 1 FROM assessment a JOIN level l ON l.id = a.level_id
                            JOIN strand s ON s.id = l.strand_id WHERE s.framework_id = f.id)
             FROM framework f ORDER BY f.name, f.version",
        )?;
        let rows = statement
            .query_map([], |r| {
                Ok(FrameworkSummary {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    version: r.get(2)?,
                    title: r.get(3)?,
                    strands: Vec::new(),
                    in_use: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|mut f| {
                f.strands = self.strands(f.id)?;
                Ok(f)
            })
            .collect()
    }

    /// (key, title, number of levels) of each strand, in order.
    pub fn strands(&self, framework_id: i64) -> Result<Vec<(String, String, usize)>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT s.key, s.title, (SELECT count(*) FROM level l WHERE l.strand_id = s.id)
             FROM strand s WHERE s.framework_id = ?1 ORDER BY s.position",
        )?;
        let rows = statement
            .query_map([framework_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as usize))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// (key, title, "label: description" of each level, lowest first) of each strand of
    /// a class's framework: what a moderator reads before judging blind.
    pub fn level_descriptors(&self, class: i64) -> Result<Vec<(String, String, Vec<String>)>> {
        Ok(self
            .criterion_levels(class)?
            .into_iter()
            .map(|c| {
                let words = c
                    .levels
                    .iter()
                    .map(|l| format!("{}: {}", l.label, l.description))
                    .collect();
                (c.key, c.title, words)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_frameworks_parse_with_the_promised_shape() {
        let ks3 = parse_framework(BUILT_INS[0].1, "ks3").unwrap();
        assert_eq!(ks3.strands.len(), 6);
        assert!(
            ks3.strands
                .iter()
                .all(|s| (4..=6).contains(&s.levels.len()))
        );
        let radar = parse_framework(BUILT_INS[1].1, "radar").unwrap();
        assert_eq!(radar.strands.len(), 4);
    }

    #[test]
    fn a_broken_framework_names_its_line() {
        let text = "name = \"x\"\ntitle = \"X\"\n[[strand]]\nkey = 3\n";
        let err = parse_framework(text, "mine.toml").unwrap_err().to_string();
        assert!(err.contains("mine.toml (line 4)"), "{err}");
    }

    #[test]
    fn a_strand_needs_at_least_two_levels() {
        let text = "name = \"x\"\ntitle = \"X\"\n[[strand]]\nkey = \"a\"\ntitle = \"A\"\n\
                    levels = [{ label = \"only\", description = \"one\" }]\n";
        let err = parse_framework(text, "mine.toml").unwrap_err().to_string();
        assert!(err.contains("has 1 levels"), "{err}");
    }

    #[test]
    fn a_timing_rule_needs_one_tightening_limit_per_level() {
        let text = "name = \"x\"\ntitle = \"X\"\n[[strand]]\nkey = \"pulse\"\ntitle = \"Pulse\"\n\
                    timing = { measure = \"spread\", max_ms = [20, 40] }\n\
                    levels = [{ label = \"a\", description = \"a\" }, { label = \"b\", description = \"b\" }]\n";
        let err = parse_framework(text, "mine.toml").unwrap_err().to_string();
        assert!(err.contains("each tighter than the last"), "{err}");
        let fine = text.replace("[20, 40]", "[40, 20]");
        assert!(
            parse_framework(&fine, "mine.toml").unwrap().strands[0]
                .timing
                .is_some()
        );
        let odd = text.replace("\"spread\"", "\"loudness\"");
        assert!(
            parse_framework(&odd, "mine.toml")
                .unwrap_err()
                .to_string()
                .contains("not \"spread\"")
        );
    }
}
