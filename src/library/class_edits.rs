//! Changing classes and pupils after they are set up: renaming and archiving a class,
//! correcting a pupil's name, number and groups, moving a pupil to another class.
//! Every change is one transaction with an audit line that names ids, never names.
//!
//! Must not import rosters (`roster`) or erase pupils (`protection`): a pupil who
//! leaves the school is erased there, not edited away here.

use super::error::{LibraryError, Result};
use super::{Library, audit};
use rusqlite::{OptionalExtension, params};

/// A pupil as the teacher corrects them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PupilEdit {
    pub name: String,
    /// The school's admission number; `None` when the school gives none.
    pub number: Option<String>,
    /// Monitoring groups (PP, SEN, EAL …).
    pub groups: Vec<String>,
    pub do_not_share: bool,
}

fn class_exists(tx: &rusqlite::Transaction<'_>, class: i64) -> Result<()> {
    let found: Option<i64> = tx
        .query_row("SELECT id FROM class WHERE id = ?1", [class], |r| r.get(0))
        .optional()?;
    found
        .map(|_| ())
        .ok_or_else(|| LibraryError::NotFound(format!("class #{class} is not in the library")))
}

impl Library {
    /// Renames a class; two classes may not share a name (case aside).
    pub fn rename_class(&mut self, class: i64, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(LibraryError::Invalid(
                "a class name needs 1 to 40 characters, e.g. 8B or \"Year 8 band\". Nothing was \
                 changed"
                    .into(),
            ));
        }
        if let Some(c) = crate::plain_text::first_hidden_control(name) {
            return Err(LibraryError::Invalid(format!(
                "the class name holds an invisible character (U+{:04X}): type it again. Nothing \
                 was changed",
                c as u32
            )));
        }
        let tx = self.write()?;
        class_exists(&tx, class)?;
        let taken: Option<i64> = tx
            .query_row(
                "SELECT id FROM class WHERE name = ?1 AND id <> ?2",
                params![name, class],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(LibraryError::Invalid(format!(
                "there is already a class called {name}: choose another name. Nothing was changed"
            )));
        }
        tx.execute(
            "UPDATE class SET name = ?2 WHERE id = ?1",
            params![class, name],
        )?;
        audit::append(&tx, "class.rename", &format!("class #{class}"))?;
        tx.commit()?;
        Ok(())
    }

    /// Archives a class (its pupils, takes and judgements are kept; the start screen no
    /// longer offers it), or brings it back.
    pub fn set_class_archived(&mut self, class: i64, archived: bool) -> Result<()> {
        let tx = self.write()?;
        class_exists(&tx, class)?;
        tx.execute(
            "UPDATE class SET archived_at = CASE WHEN ?2 THEN coalesce(archived_at, ?3) END
             WHERE id = ?1",
            params![class, archived, super::now()],
        )?;
        audit::append(
            &tx,
            if archived {
                "class.archive"
            } else {
                "class.unarchive"
            },
            &format!("class #{class}"),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Corrects a pupil: name, number, groups and "do not share", checked as a roster
    /// row is, in one change.
    pub fn edit_pupil(&mut self, pupil: i64, edit: &PupilEdit) -> Result<()> {
        let name = edit.name.trim().to_string();
        if name.is_empty() {
            return Err(LibraryError::Invalid(
                "a pupil needs a name. Nothing was changed".into(),
            ));
        }
        let number = edit
            .number
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let groups: Vec<String> = edit
            .groups
            .iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        let row = super::roster::checked_row(0, name, number, groups).map_err(|why| {
            LibraryError::Invalid(format!("the pupil {why}. Nothing was changed"))
        })?;
        let tx = self.write()?;
        let exists: Option<i64> = tx
            .query_row("SELECT id FROM pupil WHERE id = ?1", [pupil], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            return Err(LibraryError::NotFound(format!(
                "pupil #{pupil} is not in the library"
            )));
        }
        if let Some(number) = &row.number {
            let holder: Option<i64> = tx
                .query_row(
                    "SELECT id FROM pupil WHERE number = ?1 AND id <> ?2",
                    params![number, pupil],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(other) = holder {
                return Err(LibraryError::Invalid(format!(
                    "number {number} already belongs to another pupil (#{other}): check the \
                     number. Nothing was changed"
                )));
            }
        }
        tx.execute(
            "UPDATE pupil SET display_name = ?2, number = ?3, do_not_share = ?4 WHERE id = ?1",
            params![pupil, row.name, row.number, edit.do_not_share],
        )?;
        tx.execute("DELETE FROM pupil_group WHERE pupil_id = ?1", [pupil])?;
        for group in &row.groups {
            tx.execute(
                "INSERT INTO pupil_group (pupil_id, name) VALUES (?1, ?2)",
                params![pupil, group],
            )?;
        }
        audit::append(&tx, "pupil.edit", &format!("pupil #{pupil}"))?;
        tx.commit()?;
        Ok(())
    }

    /// Moves a pupil from one class to another (their takes and judgements stay with
    /// them; lessons already taught stay the old class's).
    pub fn move_pupil(&mut self, pupil: i64, from: i64, to: i64) -> Result<()> {
        if from == to {
            return Ok(());
        }
        let tx = self.write()?;
        class_exists(&tx, to)?;
        let left = tx.execute(
            "DELETE FROM class_member WHERE class_id = ?1 AND pupil_id = ?2",
            params![from, pupil],
        )?;
        if left == 0 {
            return Err(LibraryError::NotFound(format!(
                "pupil #{pupil} is not in class #{from}. Nothing was changed"
            )));
        }
        tx.execute(
            "INSERT INTO class_member (class_id, pupil_id) VALUES (?1, ?2)
             ON CONFLICT DO NOTHING",
            params![to, pupil],
        )?;
        audit::append(
            &tx,
            "pupil.move",
            &format!("pupil #{pupil} from class #{from} to class #{to}"),
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> (tempfile::TempDir, Library, i64, i64) {
        let dir = tempfile::tempdir().unwrap();
        let mut lib = Library::open(&dir.path().join("lib")).unwrap();
        let class = lib.add_class("8B", None, None).unwrap();
        let rows = vec![
            crate::library::roster::RosterRow {
                line: 2,
                name: "Mo Ahmed".into(),
                number: Some("A1".into()),
                groups: vec!["PP".into()],
            },
            crate::library::roster::RosterRow {
                line: 3,
                name: "Zoe Okafor".into(),
                number: Some("A2".into()),
                groups: vec![],
            },
        ];
        lib.import_roster(class, &rows, Vec::new(), true).unwrap();
        let mo = lib.find_pupil("A1", None).unwrap();
        (dir, lib, class, mo)
    }

    #[test]
    fn a_pupil_is_corrected_and_a_taken_number_changes_nothing() {
        let (_dir, mut lib, class, mo) = library();
        lib.edit_pupil(
            mo,
            &PupilEdit {
                name: " Mohammed Ahmed ".into(),
                number: Some("A9".into()),
                groups: vec!["EAL".into(), "pp".into(), "PP".into()],
                do_not_share: true,
            },
        )
        .unwrap();
        let after = lib.pupils(Some(class)).unwrap();
        let mo_now = after.iter().find(|p| p.id == mo).unwrap();
        assert_eq!(mo_now.name, "Mohammed Ahmed");
        assert_eq!(mo_now.number.as_deref(), Some("A9"));
        assert_eq!(mo_now.groups, ["EAL", "pp"]);
        assert!(mo_now.do_not_share);
        let err = lib
            .edit_pupil(
                mo,
                &PupilEdit {
                    name: "Mo".into(),
                    number: Some("A2".into()),
                    ..PupilEdit::default()
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("already belongs"), "{err}");
        let err = lib
            .edit_pupil(
                mo,
                &PupilEdit {
                    name: "Mo\u{202e}".into(),
                    ..PupilEdit::default()
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("invisible"), "{err}");
        let unchanged = lib.pupils(Some(class)).unwrap();
        assert_eq!(unchanged, after, "a refused edit changes nothing");
    }

    #[test]
    fn a_class_is_renamed_archived_and_a_pupil_moved_with_ids_only_in_the_audit() {
        let (_dir, mut lib, class, mo) = library();
        let other = lib.add_class("9C", None, None).unwrap();
        let err = lib.rename_class(class, "9c").unwrap_err();
        assert!(err.to_string().contains("already a class called"), "{err}");
        lib.rename_class(class, "8B Music").unwrap();
        assert_eq!(lib.class_id("8B Music").unwrap(), class);
        lib.set_class_archived(other, true).unwrap();
        let classes = lib.classes().unwrap();
        assert!(classes.iter().find(|c| c.id == other).unwrap().archived);
        assert!(!classes.iter().find(|c| c.id == class).unwrap().archived);
        lib.move_pupil(mo, class, other).unwrap();
        assert_eq!(lib.pupils(Some(class)).unwrap().len(), 1);
        assert_eq!(lib.pupils(Some(other)).unwrap()[0].id, mo);
        let err = lib.move_pupil(mo, class, other).unwrap_err();
        assert!(err.to_string().contains("is not in class"), "{err}");
        lib.set_class_archived(other, false).unwrap();
        assert!(!lib.classes().unwrap().iter().any(|c| c.archived));
        let mut statement = lib
            .conn
            .prepare("SELECT action || ' ' || detail FROM audit")
            .unwrap();
        let text: Vec<String> = statement
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let text = text.join("\n");
        assert!(text.contains("pupil.move"), "{text}");
        assert!(
            !text.contains("Mo Ahmed") && !text.contains("8B Music"),
            "{text}"
        );
    }
}
