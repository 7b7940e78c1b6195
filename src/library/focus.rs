//! Today's focus: the one to three criteria a teacher judges a class on this lesson,
//! remembered per class (a plain setting, `class.<id>.focus`), and the levels of a
//! class's criteria with their names and descriptors, for the judging buttons.
//!
//! Must not record judgements (see `judgements`) or decide levels.

use super::Library;
use super::error::{LibraryError, Result};

/// At most this many criteria are judged at once: more and judging stops being quick.
pub const MAX_FOCUS: usize = 3;

/// One level of a criterion, as the framework words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelWords {
    pub label: String,
    pub description: String,
    /// The level in a pupil's own words; empty when the framework gives none.
    pub pupil_words: String,
}

/// A criterion of a class's framework with its levels, lowest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CriterionLevels {
    pub key: String,
    pub title: String,
    pub levels: Vec<LevelWords>,
}

fn focus_key(class: i64) -> String {
    format!("class.{class}.focus")
}

impl Library {
    /// The criteria of a class's framework, each with its levels' names and descriptors.
    pub fn criterion_levels(&self, class: i64) -> Result<Vec<CriterionLevels>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT s.key, s.title, l.label, l.description, l.pupil_words FROM class c
             JOIN strand s ON s.framework_id = c.framework_id
             JOIN level l ON l.strand_id = s.id
             WHERE c.id = ?1 ORDER BY s.position, l.value",
        )?;
        let rows = statement.query_map([class], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                LevelWords {
                    label: r.get(2)?,
                    description: r.get(3)?,
                    pupil_words: r.get(4)?,
                },
            ))
        })?;
        let mut out: Vec<CriterionLevels> = Vec::new();
        for row in rows {
            let (key, title, level) = row?;
            match out.last_mut() {
                Some(last) if last.key == key => last.levels.push(level),
                _ => out.push(CriterionLevels {
                    key,
                    title,
                    levels: vec![level],
                }),
            }
        }
        Ok(out)
    }

    /// The class's focus criteria (keys, in the framework's order); empty when none are
    /// chosen, which means every criterion. Keys the framework no longer has are dropped.
    pub fn focus_criteria(&self, class: i64) -> Result<Vec<String>> {
        let Some(stored) = self.setting(&focus_key(class))? else {
            return Ok(Vec::new());
        };
        let chosen: Vec<&str> = stored.split(',').map(str::trim).collect();
        Ok(self
            .criterion_levels(class)?
            .into_iter()
            .map(|c| c.key)
            .filter(|k| chosen.contains(&k.as_str()))
            .collect())
    }

    /// Chooses the class's focus criteria: none (judge every criterion) or one to
    /// [`MAX_FOCUS`] of its framework's criteria.
    pub fn set_focus_criteria(&mut self, class: i64, keys: &[String]) -> Result<()> {
        if keys.len() > MAX_FOCUS {
            return Err(LibraryError::Invalid(format!(
                "choose at most {MAX_FOCUS} focus criteria ({} were chosen): judging stays \
                 quick with a few. Nothing was changed",
                keys.len()
            )));
        }
        let known = self.criterion_levels(class)?;
        if known.is_empty() {
            return Err(LibraryError::NotFound(format!(
                "class #{class} is not in the library, or its framework has no criteria"
            )));
        }
        if let Some(unknown) = keys.iter().find(|k| !known.iter().any(|c| &c.key == *k)) {
            return Err(LibraryError::Invalid(format!(
                "'{unknown}' is not a criterion of this class's framework; its criteria are {}. \
                 Nothing was changed",
                known
                    .iter()
                    .map(|c| c.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let tx = self.write()?;
        Library::put_setting(&tx, &focus_key(class), &keys.join(","))?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> (tempfile::TempDir, Library, i64) {
        let dir = tempfile::tempdir().unwrap();
        let mut lib = Library::open(&dir.path().join("lib")).unwrap();
        let class = lib.add_class("8B", None, None).unwrap();
        (dir, lib, class)
    }

    #[test]
    fn focus_is_remembered_per_class_in_the_frameworks_order() {
        let (_dir, mut lib, class) = library();
        let other = lib.add_class("9C", None, None).unwrap();
        assert!(lib.focus_criteria(class).unwrap().is_empty());
        lib.set_focus_criteria(class, &["ensemble".into(), "pulse".into()])
            .unwrap();
        assert_eq!(lib.focus_criteria(class).unwrap(), ["pulse", "ensemble"]);
        assert!(lib.focus_criteria(other).unwrap().is_empty());
        lib.set_focus_criteria(class, &[]).unwrap();
        assert!(lib.focus_criteria(class).unwrap().is_empty());
    }

    #[test]
    fn more_than_three_or_an_unknown_criterion_is_refused_and_changes_nothing() {
        let (_dir, mut lib, class) = library();
        lib.set_focus_criteria(class, &["pulse".into()]).unwrap();
        let four: Vec<String> = lib
            .criterion_levels(class)
            .unwrap()
            .into_iter()
            .take(4)
            .map(|c| c.key)
            .collect();
        let err = lib.set_focus_criteria(class, &four).unwrap_err();
        assert!(err.to_string().contains("at most 3"), "{err}");
        let err = lib
            .set_focus_criteria(class, &["volume".into()])
            .unwrap_err();
        assert!(err.to_string().contains("'volume'"), "{err}");
        assert_eq!(lib.focus_criteria(class).unwrap(), ["pulse"]);
    }

    #[test]
    fn levels_carry_the_frameworks_names_and_descriptors() {
        let (_dir, lib, class) = library();
        let criteria = lib.criterion_levels(class).unwrap();
        assert_eq!(criteria.len(), 6);
        let pulse = &criteria[0];
        assert_eq!(pulse.key, "pulse");
        assert_eq!(pulse.levels.len(), 5);
        assert_eq!(pulse.levels[0].label, "Finding the pulse");
        assert!(pulse.levels[4].description.contains("groove"));
    }
}
