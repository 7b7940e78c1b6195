//! Class rosters from CSV: the exports of school MIS systems differ, so the header
//! decides which column is which, and common spellings are accepted.
//!
//! Owns reading a roster (header recognition, delimiter, per-row problems by line) and
//! applying it to a class in one transaction. Must not guess at data a header does not
//! name: a file without a recognisable name column is refused as a whole.

use super::error::{LibraryError, Result};
use super::{Library, audit};
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub struct RosterRow {
    pub line: u64,
    pub name: String,
    pub number: Option<String>,
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RosterProblem {
    pub line: u64,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct RosterImport {
    pub added: usize,
    /// Pupils already on the library (by number) newly placed in this class.
    pub joined: usize,
    pub already_in_class: usize,
    pub problems: Vec<RosterProblem>,
    /// False when `--strict` refused the whole file because of a problem.
    pub applied: bool,
}

/// What a header column holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Column {
    Name,
    Forename,
    Surname,
    Number,
    Groups,
    /// A yes/no column for one monitoring group (e.g. "Pupil Premium").
    Flag(&'static str),
}

fn column_for(header: &str) -> Option<Column> {
    let key: String = header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match key.as_str() {
        "name" | "pupil" | "pupilname" | "student" | "studentname" | "displayname" | "fullname"
        | "preferredname" | "learner" | "learnername" => Column::Name,
        "forename" | "firstname" | "givenname" | "preferredforename" | "legalforename" => {
            Column::Forename
        }
        "surname" | "lastname" | "familyname" | "preferredsurname" | "legalsurname" => {
            Column::Surname
        }
        "number" | "admissionnumber" | "admissionno" | "adno" | "admno" | "candidatenumber"
        | "candidateno" | "candno" | "pupilid" | "studentid" | "pupilnumber" | "id" => {
            Column::Number
        }
        "groups" | "group" | "monitoringgroups" | "flags" => Column::Groups,
        "pp" | "pupilpremium" | "pupilpremiumindicator" => Column::Flag("PP"),
        "sen" | "send" | "senstatus" | "senprovision" => Column::Flag("SEN"),
        "eal" | "englishasanadditionallanguage" => Column::Flag("EAL"),
        "fsm" | "freeschoolmeals" => Column::Flag("FSM"),
        _ => return None,
    })
}

fn is_yes(value: &str) -> bool {
    // SEN columns often hold a code ("K", "E") rather than yes/no: any code counts.
    let v = value.trim().to_ascii_lowercase();
    !(v.is_empty() || matches!(v.as_str(), "n" | "no" | "false" | "0" | "none" | "-"))
}

fn sniff_delimiter(first_line: &[u8]) -> u8 {
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|&d| count(d))
        .unwrap_or(b',')
}

/// One pupil's row once its fields are found, checked the same way whichever format it
/// came from: no hidden control characters, a name of a sensible length, groups once.
pub(crate) fn checked_row(
    line: u64,
    name: String,
    number: Option<String>,
    mut groups: Vec<String>,
) -> std::result::Result<RosterRow, String> {
    let hidden = std::iter::once(&name)
        .chain(number.iter())
        .chain(groups.iter())
        .find_map(|text| crate::plain_text::first_hidden_control(text));
    if let Some(c) = hidden {
        return Err(format!(
            "holds an invisible control or text-direction character (U+{:04X}): remove it in \
             the school system's export and import again",
            c as u32
        ));
    }
    if name.chars().count() > 80 {
        return Err("has a name longer than 80 characters".into());
    }
    groups.sort_by_key(|g| g.to_lowercase());
    groups.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    Ok(RosterRow {
        line,
        name,
        number,
        groups,
    })
}

/// Reads a roster. A header without a name column is an error for the whole file;
/// anything wrong with a row becomes a problem for that line.
pub fn parse_roster(bytes: &[u8], origin: &str) -> Result<(Vec<RosterRow>, Vec<RosterProblem>)> {
    if bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF")
        || bytes.iter().take(512).filter(|&&b| b == 0).count() > 8
    {
        return Err(LibraryError::Invalid(format!(
            "{origin}: the roster is UTF-16 text (as Excel's \"Unicode text\" saves it): save it \
             as \"CSV UTF-8\" and import again"
        )));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sniff_delimiter(first_line))
        .flexible(true)
        .from_reader(bytes);
    let headers = reader.byte_headers().map_err(|e| {
        LibraryError::Invalid(format!("{origin}: cannot read the header line ({e})"))
    })?;
    let columns: Vec<Option<Column>> = headers
        .iter()
        .map(|h| std::str::from_utf8(h).ok().and_then(column_for))
        .collect();
    let has = |c: Column| columns.contains(&Some(c));
    let names_given = has(Column::Name) || (has(Column::Forename) && has(Column::Surname));
    if !names_given {
        return Err(LibraryError::Invalid(format!(
            "{origin}: the header has no name column: name it \"name\" (or \"pupil\", \
             \"student\"), or give \"forename\" and \"surname\" columns"
        )));
    }
    let header_fields = headers.len();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in reader.byte_records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(RosterProblem {
                    line,
                    message: format!("cannot be read as CSV ({e})"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let problem = |message: String| RosterProblem { line, message };
        if record.len() != header_fields {
            problems.push(problem(format!(
                "has {} fields but the header has {header_fields}: check for a stray comma \
                 or quote",
                record.len()
            )));
            continue;
        }
        let Ok(fields) = record
            .iter()
            .map(|f| std::str::from_utf8(f).map(|s| s.trim().to_string()))
            .collect::<std::result::Result<Vec<_>, _>>()
        else {
            problems.push(problem(
                "is not UTF-8 text: save the roster as \"CSV UTF-8\" and import again".into(),
            ));
            continue;
        };
        let (mut name, mut forename, mut surname, mut number) = (None, None, None, None);
        let mut groups: Vec<String> = Vec::new();
        for (column, value) in columns.iter().zip(fields) {
            match column {
                Some(Column::Name) if !value.is_empty() => name = Some(value),
                Some(Column::Forename) if !value.is_empty() => forename = Some(value),
                Some(Column::Surname) if !value.is_empty() => surname = Some(value),
                Some(Column::Number) if !value.is_empty() => number = Some(value),
                Some(Column::Groups) => groups.extend(
                    value
                        .split([';', ',', '|', '/'])
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(str::to_string),
                ),
                Some(Column::Flag(group)) if is_yes(&value) => groups.push((*group).to_string()),
                _ => {}
            }
        }
        let name = name.or(match (forename, surname) {
            (Some(f), Some(s)) => Some(format!("{f} {s}")),
            (Some(one), None) | (None, Some(one)) => Some(one),
            (None, None) => None,
        });
        let Some(name) = name else {
            problems.push(problem("has no name".into()));
            continue;
        };
        match checked_row(line, name, number, groups) {
            Ok(row) => rows.push(row),
            Err(message) => problems.push(problem(message)),
        }
    }
    Ok((rows, problems))
}

/// A test's hook into the middle of an import: with `BANDROOM_TEST_PAUSE_IMPORT` set to
/// `N:FILE`, the import creates FILE after adding its Nth pupil (inside the transaction)
/// and waits there to be killed, so a test can prove that a kill which certainly lands
/// mid-transaction leaves nothing half-imported. Unset, it costs one lookup per import.
fn pause_for_a_test(added: usize) {
    static PAUSE: std::sync::OnceLock<Option<(usize, std::path::PathBuf)>> =
        std::sync::OnceLock::new();
    let pause = PAUSE.get_or_init(|| {
        let spec = std::env::var("BANDROOM_TEST_PAUSE_IMPORT").ok()?;
        let (count, file) = spec.split_once(':')?;
        Some((count.parse().ok()?, std::path::PathBuf::from(file)))
    });
    if let Some((at, file)) = pause
        && *at == added
    {
        let _ = std::fs::write(file, b"paused mid-import");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

impl Library {
    /// Adds a roster's pupils to a class in one transaction. With `strict`, any problem
    /// (in parsing or against the library) means nothing is imported.
    pub fn import_roster(
        &mut self,
        class: i64,
        rows: &[RosterRow],
        mut problems: Vec<RosterProblem>,
        strict: bool,
    ) -> Result<RosterImport> {
        let mut outcome = RosterImport::default();
        let tx = self.write()?;
        let mut seen: HashMap<String, u64> = HashMap::new();
        for row in rows {
            let identity = match &row.number {
                Some(n) => format!("number {n}"),
                None => format!("name {}", row.name.to_lowercase()),
            };
            if let Some(first) = seen.insert(identity.clone(), row.line) {
                problems.push(RosterProblem {
                    line: row.line,
                    message: format!("repeats line {first} ({identity})"),
                });
                continue;
            }
            let existing: Option<(i64, String)> = match &row.number {
                Some(number) => tx
                    .query_row(
                        "SELECT id, display_name FROM pupil WHERE number = ?1",
                        [number],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?,
                None => tx
                    .query_row(
                        "SELECT p.id, p.display_name FROM pupil p JOIN class_member m
                         ON m.pupil_id = p.id AND m.class_id = ?1
                         WHERE p.display_name = ?2 COLLATE NOCASE",
                        params![class, row.name],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?,
            };
            let pupil = match existing {
                Some((id, stored)) if !stored.eq_ignore_ascii_case(&row.name) => {
                    problems.push(RosterProblem {
                        line: row.line,
                        message: format!(
                            "number {} already belongs to another pupil (#{id}): check the \
                             number, or rename that pupil first",
                            row.number.as_deref().unwrap_or_default()
                        ),
                    });
                    continue;
                }
                Some((id, _)) => id,
                None => {
                    tx.execute(
                        "INSERT INTO pupil (display_name, number, created_at) VALUES (?1, ?2, ?3)",
                        params![row.name, row.number, super::now()],
                    )?;
                    outcome.added += 1;
                    pause_for_a_test(outcome.added);
                    tx.last_insert_rowid()
                }
            };
            let joined = tx.execute(
                "INSERT OR IGNORE INTO class_member (class_id, pupil_id) VALUES (?1, ?2)",
                params![class, pupil],
            )?;
            if joined == 0 {
                outcome.already_in_class += 1;
            } else if existing.is_some() {
                outcome.joined += 1;
            }
            for group in &row.groups {
                tx.execute(
                    "INSERT OR IGNORE INTO pupil_group (pupil_id, name) VALUES (?1, ?2)",
                    params![pupil, group],
                )?;
            }
        }
        problems.sort_by_key(|p| p.line);
        outcome.applied = !strict || problems.is_empty();
        outcome.problems = problems;
        if outcome.applied {
            audit::append(
                &tx,
                "roster.import",
                &format!(
                    "class #{class}: {} added, {} joined, {} rows refused",
                    outcome.added,
                    outcome.joined,
                    outcome.problems.len()
                ),
            )?;
            tx.commit()?;
        } else {
            outcome.added = 0;
            outcome.joined = 0;
            outcome.already_in_class = 0;
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mis_style_headers_with_split_names_and_flags_are_understood() {
        let csv = "\u{feff}Legal Surname;Preferred Forename;Adno;Pupil Premium;SEN Status;EAL\n\
                   Okafor;Amira;1001;Y;K;N\n\
                   Nowak;Jan;1002;N;N;Yes\n";
        let (rows, problems) = parse_roster(csv.as_bytes(), "r.csv").unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows[0].name, "Amira Okafor");
        assert_eq!(rows[0].number.as_deref(), Some("1001"));
        assert_eq!(rows[0].groups, vec!["PP", "SEN"]);
        assert_eq!(rows[1].groups, vec!["EAL"]);
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_good_rows_kept() {
        let csv = "name,number,groups\nAmira,1,PP\n,2,\n\"Jan\",3,SEN;EAL,extra\nLi,4,\n";
        let (rows, problems) = parse_roster(csv.as_bytes(), "r.csv").unwrap();
        assert_eq!(
            rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["Amira", "Li"]
        );
        assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), [3, 4]);
        assert!(problems[0].message.contains("no name"));
        assert!(problems[1].message.contains("4 fields"));
    }

    #[test]
    fn a_header_without_names_refuses_the_file() {
        let err = parse_roster(b"number,groups\n1,PP\n", "r.csv").unwrap_err();
        assert!(
            err.to_string()
                .contains("r.csv: the header has no name column")
        );
    }

    #[test]
    fn latin1_rows_are_refused_with_advice() {
        let (rows, problems) = parse_roster(b"name\nZo\xeb\nLi\n", "r.csv").unwrap();
        assert_eq!(rows.len(), 1);
        assert!(problems[0].message.contains("CSV UTF-8"));
    }
}
