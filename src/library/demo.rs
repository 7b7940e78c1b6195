//! The demo class a new library starts with, so the app is never empty on first start.
//!
//! Fictional pupils only. Must not be recreated once the library exists (a school that
//! deletes the demo class does not get it back).

use super::Library;
use super::error::Result;
use super::roster::RosterRow;

pub const DEMO_CLASS: &str = "Demo 7X";

const DEMO_PUPILS: &[(&str, &[&str])] = &[
    ("Ada Brook", &[]),
    ("Ben Carter", &["PP"]),
    ("Chloe Dawes", &[]),
    ("Dev Evans", &["EAL"]),
    ("Ella Fox", &[]),
    ("Finn Green", &["SEN"]),
    ("Grace Hill", &[]),
    ("Harry Ives", &["PP", "EAL"]),
    ("Isla Jones", &[]),
    ("Jay Kaur", &[]),
];

pub(crate) fn create(library: &mut Library) -> Result<()> {
    let class = library.add_class(DEMO_CLASS, Some("Year 7"), None)?;
    let rows: Vec<RosterRow> = DEMO_PUPILS
        .iter()
        .enumerate()
        .map(|(index, (name, groups))| RosterRow {
            line: index as u64 + 2,
            name: (*name).to_string(),
            number: None,
            groups: groups.iter().map(|g| (*g).to_string()).collect(),
        })
        .collect();
    library.import_roster(class, &rows, Vec::new(), true)?;
    Ok(())
}
