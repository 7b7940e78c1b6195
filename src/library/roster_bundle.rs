//! Roster bundles: the rostering exports that schools' Microsoft and Google set-ups
//! produce, read into the same rows a school-system CSV gives.
//!
//! - **OneRoster 1.1/1.2 CSV** (`users.csv`, `classes.csv`, `enrollments.csv`), as
//!   Google Classroom's and most MIS connectors' rostering writes it;
//! - **Microsoft School Data Sync** (v1 CSV: `Student.csv`, `Section.csv`,
//!   `StudentEnrollment.csv`).
//!
//! Either comes as a folder or a zip. A bundle holds many classes; the one imported is
//! the one the teacher names (by title or code), or the class named like the bandroom
//! class, or the only one. Only students are read; teachers and guardians in the same
//! files are never stored.
//!
//! Must not write to the library (`Library::import_roster` does) and must not read more
//! than a roster's worth of any file (a zip can claim anything).

use super::error::{LibraryError, Result};
use super::roster::{RosterProblem, RosterRow, checked_row, parse_roster};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// The most bytes read of any one file of a bundle.
const FILE_LIMIT: u64 = 8 << 20;
/// The most bytes inflated from a whole bundle: a trust's six files of a large school
/// fit many times over; a zip of many copies of one big file does not.
const BUNDLE_LIMIT: u64 = 24 << 20;
/// The most entries a roster zip may list before it is refused unread.
const MAX_ZIP_ENTRIES: usize = 1_000;
/// The most classes and enrolments read from a bundle (a whole secondary school has a
/// few hundred classes and tens of thousands of enrolments).
const MAX_CLASSES: usize = 5_000;
const MAX_ENROLMENTS: usize = 200_000;

/// The only files the two formats name (lower case): nothing else of a bundle is read.
const NAMED_FILES: [&str; 6] = [
    "users.csv",
    "classes.csv",
    "enrollments.csv",
    "student.csv",
    "section.csv",
    "studentenrollment.csv",
];

/// Which format a roster came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RosterKind {
    /// A school-system export: one CSV, one class.
    Csv,
    OneRoster,
    SchoolDataSync,
}

impl RosterKind {
    pub fn describe(self) -> &'static str {
        match self {
            RosterKind::Csv => "a school-system CSV",
            RosterKind::OneRoster => "a OneRoster bundle",
            RosterKind::SchoolDataSync => "a School Data Sync set",
        }
    }
}

/// A class a bundle holds, with how many students it enrols.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleClass {
    pub id: String,
    pub title: String,
    pub code: String,
    pub pupils: usize,
}

#[derive(Clone, Debug)]
struct Person {
    line: u64,
    name: Option<String>,
    number: Option<String>,
}

/// A roster file read, before a class is chosen from it.
#[derive(Clone, Debug)]
pub struct RosterFile {
    pub kind: RosterKind,
    origin: String,
    /// A plain CSV's rows.
    plain: Option<(Vec<RosterRow>, Vec<RosterProblem>)>,
    /// A bundle's classes, students (by id) and enrolments (class id, student id, line).
    classes: Vec<BundleClass>,
    students: HashMap<String, Person>,
    /// Users left out on purpose (teachers, parents, leavers): their enrolments are not
    /// problems.
    left_out: HashSet<String>,
    enrolments: Vec<(String, String, u64)>,
    enrolment_file: &'static str,
    student_file: &'static str,
}

/// The rows of one class, ready for `Library::import_roster`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassRoster {
    pub rows: Vec<RosterRow>,
    pub problems: Vec<RosterProblem>,
    /// The bundle's class they came from ("8B Music (8B/Mu1)"), for a bundle.
    pub from: Option<String>,
}

/// Reads a roster: a CSV file, or a OneRoster or School Data Sync folder or zip.
pub fn open_roster(path: &Path) -> Result<RosterFile> {
    let origin = path.display().to_string();
    let files = if path.is_dir() {
        folder_files(path)?
    } else {
        let bytes = crate::own_files::read_regular_limited(path, FILE_LIMIT)
            .map_err(|e| LibraryError::file(path, format!("cannot be read ({e})")))?;
        if bytes.starts_with(b"PK\x03\x04") {
            zip_files(&bytes, &origin)?
        } else {
            let plain = parse_roster(&bytes, &origin)?;
            return Ok(RosterFile {
                kind: RosterKind::Csv,
                origin,
                plain: Some(plain),
                classes: Vec::new(),
                students: HashMap::new(),
                left_out: HashSet::new(),
                enrolments: Vec::new(),
                enrolment_file: "",
                student_file: "",
            });
        }
    };
    if files.contains_key("users.csv") && files.contains_key("enrollments.csv") {
        one_roster(&files, origin)
    } else if files.contains_key("student.csv") && files.contains_key("studentenrollment.csv") {
        school_data_sync(&files, origin)
    } else {
        Err(LibraryError::Invalid(format!(
            "{origin} holds neither a OneRoster bundle (users.csv, classes.csv, \
             enrollments.csv) nor a School Data Sync set (Student.csv, Section.csv, \
             StudentEnrollment.csv): export the roster again, or give the class's CSV"
        )))
    }
}

impl RosterFile {
    /// The classes a bundle holds (none for a plain CSV), largest first.
    pub fn classes(&self) -> &[BundleClass] {
        &self.classes
    }

    /// The bundle's class that goes with the bandroom class `class_name`: the one
    /// `chosen` names (title, code or id), else one titled or coded like the class,
    /// else the only class with students.
    pub fn class_for(&self, class_name: &str, chosen: Option<&str>) -> Option<&BundleClass> {
        let same = |c: &BundleClass, text: &str| {
            let text = text.trim();
            c.title.trim().eq_ignore_ascii_case(text)
                || c.code.trim().eq_ignore_ascii_case(text)
                || c.id == text
        };
        if let Some(chosen) = chosen {
            return self.classes.iter().find(|c| same(c, chosen));
        }
        if let Some(found) = self.classes.iter().find(|c| same(c, class_name)) {
            return Some(found);
        }
        let mut with_pupils = self.classes.iter().filter(|c| c.pupils > 0);
        match (with_pupils.next(), with_pupils.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// The rows to import into `class_name`. A bundle whose class cannot be told is an
    /// error that lists its classes.
    pub fn rows_for(&self, class_name: &str, chosen: Option<&str>) -> Result<ClassRoster> {
        if let Some((rows, problems)) = &self.plain {
            return Ok(ClassRoster {
                rows: rows.clone(),
                problems: problems.clone(),
                from: None,
            });
        }
        let Some(class) = self.class_for(class_name, chosen) else {
            let listed: Vec<String> = self.classes.iter().map(|c| c.title.clone()).collect();
            return Err(LibraryError::Invalid(format!(
                "{} is {} holding {} classes ({}){}: choose which one is {class_name}",
                self.origin,
                self.kind.describe(),
                self.classes.len(),
                listed.join(", "),
                match chosen {
                    Some(c) => format!(", none called {c:?}"),
                    None => String::new(),
                }
            )));
        };
        let mut rows = Vec::new();
        let mut problems = Vec::new();
        for (class_id, student, line) in &self.enrolments {
            if class_id != &class.id {
                continue;
            }
            if self.left_out.contains(student) {
                continue;
            }
            let Some(person) = self.students.get(student) else {
                problems.push(RosterProblem {
                    line: *line,
                    message: format!(
                        "of {} enrols {student:?}, who is not a student in {}",
                        self.enrolment_file, self.student_file
                    ),
                });
                continue;
            };
            let about = |message: String| RosterProblem {
                line: person.line,
                message: format!("of {}: {message}", self.student_file),
            };
            let Some(name) = person.name.clone() else {
                problems.push(about("has no name".into()));
                continue;
            };
            match checked_row(person.line, name, person.number.clone(), Vec::new()) {
                Ok(row) => rows.push(row),
                Err(message) => problems.push(about(message)),
            }
        }
        rows.sort_by_key(|r| r.line);
        Ok(ClassRoster {
            rows,
            problems,
            from: Some(if class.code.is_empty() || class.code == class.title {
                class.title.clone()
            } else {
                format!("{} ({})", class.title, class.code)
            }),
        })
    }
}

/// The CSV files of a folder, by lower-case name.
fn folder_files(folder: &Path) -> Result<HashMap<String, Vec<u8>>> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| LibraryError::file(folder, format!("cannot be read ({e})")))?;
    let mut files = HashMap::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_lowercase();
        if !NAMED_FILES.contains(&name.as_str()) {
            continue;
        }
        let path = entry.path();
        // Symlinks and devices are not read: `read_regular_limited` refuses them.
        let bytes = crate::own_files::read_regular_limited(&path, FILE_LIMIT)
            .map_err(|e| LibraryError::file(&path, format!("cannot be read ({e})")))?;
        files.insert(name, bytes);
    }
    Ok(files)
}

/// The files the formats name, from a zip (wherever they sit in it), by lower-case
/// name; each read to at most [`FILE_LIMIT`] and all together to [`BUNDLE_LIMIT`],
/// whatever sizes the zip claims. A name found twice is refused: which is the roster
/// cannot be told.
fn zip_files(bytes: &[u8], origin: &str) -> Result<HashMap<String, Vec<u8>>> {
    let damaged = |e: &dyn std::fmt::Display| {
        LibraryError::Invalid(format!(
            "{origin} is a zip that cannot be read ({e}): export the roster again"
        ))
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| damaged(&e))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(LibraryError::Invalid(format!(
            "{origin} is a zip of {} entries, more than any roster export holds \
             ({MAX_ZIP_ENTRIES}): this is not a roster export",
            archive.len()
        )));
    }
    let mut files = HashMap::new();
    let mut inflated = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| damaged(&e))?;
        let name = entry
            .name()
            .map_err(|e| damaged(&e))?
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .to_lowercase();
        if !entry.is_file() || !NAMED_FILES.contains(&name.as_str()) {
            continue;
        }
        if files.contains_key(&name) {
            return Err(LibraryError::Invalid(format!(
                "{origin} holds {name} twice: export the roster again, or give its folder"
            )));
        }
        let allowed = FILE_LIMIT.min(BUNDLE_LIMIT - inflated);
        let mut content = Vec::new();
        (&mut entry)
            .take(allowed + 1)
            .read_to_end(&mut content)
            .map_err(|e| damaged(&e))?;
        if content.len() as u64 > allowed {
            return Err(LibraryError::Invalid(format!(
                "{origin}: {name} is larger than any roster ({} MB a file, {} MB a whole \
                 bundle): this is not a roster export",
                FILE_LIMIT >> 20,
                BUNDLE_LIMIT >> 20
            )));
        }
        inflated += content.len() as u64;
        files.insert(name, content);
    }
    Ok(files)
}

/// A CSV table: its header keys (lower case, letters and digits only) and its rows
/// with their line numbers.
struct Table {
    keys: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    /// A file the bundle must hold (`key` lower case; `shown` as its name is written).
    fn required(
        files: &HashMap<String, Vec<u8>>,
        key: &str,
        shown: &str,
        origin: &str,
    ) -> Result<Table> {
        Table::read(files.get(key).map_or(&[][..], Vec::as_slice), shown, origin)
    }

    fn read(bytes: &[u8], file: &str, origin: &str) -> Result<Table> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let keys = reader
            .headers()
            .map_err(|e| {
                LibraryError::Invalid(format!(
                    "{origin}: {file} has no readable header ({e}); it must be UTF-8 CSV"
                ))
            })?
            .iter()
            .map(|h| {
                h.chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_lowercase()
            })
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                LibraryError::Invalid(format!(
                    "{origin}: {file} cannot be read as UTF-8 CSV ({e})"
                ))
            })?;
            let line = record.position().map_or(0, |p| p.line());
            rows.push((line, record.iter().map(|f| f.trim().to_string()).collect()));
        }
        Ok(Table { keys, rows })
    }

    fn column(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.keys.iter().position(|k| k == n))
    }

    fn require(&self, names: &[&str], file: &str, origin: &str) -> Result<usize> {
        self.column(names).ok_or_else(|| {
            LibraryError::Invalid(format!(
                "{origin}: {file} has no {} column: export the roster again",
                names[0]
            ))
        })
    }
}

fn field(row: &[String], column: Option<usize>) -> Option<String> {
    column
        .and_then(|c| row.get(c))
        .filter(|v| !v.is_empty())
        .cloned()
}

fn full_name(given: Option<String>, family: Option<String>) -> Option<String> {
    match (given, family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (one, None) | (None, one) => one,
    }
}

/// Where a bundle keeps its classes: the file (lower case), its name as shown, and the
/// header keys of its columns.
struct ClassColumns {
    file: &'static str,
    shown: &'static str,
    id: &'static [&'static str],
    title: &'static [&'static str],
    code: &'static [&'static str],
}

/// The bundle's classes (none when it has no classes file: enrolments name them).
fn read_classes(
    files: &HashMap<String, Vec<u8>>,
    origin: &str,
    c: &ClassColumns,
) -> Result<Vec<BundleClass>> {
    let Some(bytes) = files.get(c.file) else {
        return Ok(Vec::new());
    };
    let t = Table::read(bytes, c.shown, origin)?;
    let id = t.require(c.id, c.shown, origin)?;
    let (title, code, status) = (t.column(c.title), t.column(c.code), t.column(&["status"]));
    Ok(t.rows
        .iter()
        .filter(|(_, row)| active(row, status))
        .filter_map(|(_, row)| {
            let class = field(row, Some(id))?;
            Some(BundleClass {
                title: field(row, title).unwrap_or_else(|| class.clone()),
                code: field(row, code).unwrap_or_default(),
                id: class,
                pupils: 0,
            })
        })
        .collect())
}

/// Enrolments being read, with each class's place in the list so that finding one is a
/// map lookup, not a search (a bundle of thousands of classes read in linear time).
struct Enrolling {
    classes: Vec<BundleClass>,
    index: HashMap<String, usize>,
    enrolments: Vec<(String, String, u64)>,
    origin: String,
}

impl Enrolling {
    fn new(classes: Vec<BundleClass>, origin: &str) -> Result<Enrolling> {
        let mut enrolling = Enrolling {
            classes: Vec::new(),
            index: HashMap::new(),
            enrolments: Vec::new(),
            origin: origin.to_string(),
        };
        for class in classes {
            if !enrolling.index.contains_key(&class.id) {
                enrolling.push_class(class)?;
            }
        }
        Ok(enrolling)
    }

    fn push_class(&mut self, class: BundleClass) -> Result<()> {
        if self.classes.len() >= MAX_CLASSES {
            return Err(LibraryError::Invalid(format!(
                "{} holds more than {MAX_CLASSES} classes, more than any school's roster: \
                 export the music department's classes only",
                self.origin
            )));
        }
        self.index.insert(class.id.clone(), self.classes.len());
        self.classes.push(class);
        Ok(())
    }

    /// A student's enrolment in a class, the class added (named by its id) when the
    /// classes file does not list it.
    fn enrol(&mut self, class: String, student: String, line: u64) -> Result<()> {
        if self.enrolments.len() >= MAX_ENROLMENTS {
            return Err(LibraryError::Invalid(format!(
                "{} holds more than {MAX_ENROLMENTS} enrolments, more than any school's \
                 roster: export the music department's classes only",
                self.origin
            )));
        }
        if !self.index.contains_key(&class) {
            self.push_class(BundleClass {
                id: class.clone(),
                title: class.clone(),
                code: String::new(),
                pupils: 0,
            })?;
        }
        self.enrolments.push((class, student, line));
        Ok(())
    }
}

/// Counts each class's enrolments (one pass) and orders classes largest first, then by
/// title.
fn finish(mut file: RosterFile) -> RosterFile {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (class, student, _) in &file.enrolments {
        if file.students.contains_key(student) {
            *counts.entry(class.as_str()).or_default() += 1;
        }
    }
    for class in &mut file.classes {
        class.pupils = counts.get(class.id.as_str()).copied().unwrap_or(0);
    }
    file.classes
        .sort_by(|a, b| b.pupils.cmp(&a.pupils).then_with(|| a.title.cmp(&b.title)));
    file
}

fn active(row: &[String], status: Option<usize>) -> bool {
    !field(row, status).is_some_and(|s| s.eq_ignore_ascii_case("tobedeleted"))
}

fn one_roster(files: &HashMap<String, Vec<u8>>, origin: String) -> Result<RosterFile> {
    let users = Table::required(files, "users.csv", "users.csv", &origin)?;
    let id = users.require(&["sourcedid"], "users.csv", &origin)?;
    let role = users.require(&["role"], "users.csv", &origin)?;
    let status = users.column(&["status"]);
    let enabled = users.column(&["enableduser"]);
    let preferred = users.column(&["preferredfirstname"]);
    let given = users.column(&["givenname"]);
    let family = users.column(&["familyname"]);
    let preferred_family = users.column(&["preferredlastname"]);
    let identifier = users.column(&["identifier"]);
    let mut students = HashMap::new();
    let mut left_out = HashSet::new();
    for (line, row) in &users.rows {
        let is_student = field(row, Some(role)).is_some_and(|r| r.eq_ignore_ascii_case("student"));
        let disabled = field(row, enabled).is_some_and(|e| e.eq_ignore_ascii_case("false"));
        let Some(user) = field(row, Some(id)) else {
            continue;
        };
        if !is_student || disabled || !active(row, status) {
            left_out.insert(user);
            continue;
        }
        let name = full_name(
            field(row, preferred).or_else(|| field(row, given)),
            field(row, preferred_family).or_else(|| field(row, family)),
        );
        // The MIS's own number when the connector passes it; the stable id otherwise,
        // so importing the same bundle twice finds the same pupils.
        let number = field(row, identifier).or_else(|| Some(user.clone()));
        students.insert(
            user,
            Person {
                line: *line,
                name,
                number,
            },
        );
    }
    let classes = read_classes(
        files,
        &origin,
        &ClassColumns {
            file: "classes.csv",
            shown: "classes.csv",
            id: &["sourcedid"],
            title: &["title"],
            code: &["classcode"],
        },
    )?;
    let e = Table::required(files, "enrollments.csv", "enrollments.csv", &origin)?;
    let class = e.require(&["classsourcedid"], "enrollments.csv", &origin)?;
    let user = e.require(&["usersourcedid"], "enrollments.csv", &origin)?;
    let role = e.column(&["role"]);
    let status = e.column(&["status"]);
    let mut enrolling = Enrolling::new(classes, &origin)?;
    for (line, row) in &e.rows {
        let student_role = field(row, role).is_none_or(|r| r.eq_ignore_ascii_case("student"));
        if let (Some(c), Some(u)) = (field(row, Some(class)), field(row, Some(user)))
            && student_role
            && active(row, status)
        {
            enrolling.enrol(c, u, *line)?;
        }
    }
    Ok(finish(RosterFile {
        kind: RosterKind::OneRoster,
        origin,
        plain: None,
        classes: enrolling.classes,
        students,
        left_out,
        enrolments: enrolling.enrolments,
        enrolment_file: "enrollments.csv",
        student_file: "users.csv",
    }))
}

fn school_data_sync(files: &HashMap<String, Vec<u8>>, origin: String) -> Result<RosterFile> {
    let s = Table::required(files, "student.csv", "Student.csv", &origin)?;
    let id = s.require(&["sisid"], "Student.csv", &origin)?;
    let first = s.column(&["firstname"]);
    let last = s.column(&["lastname"]);
    let number = s.column(&["studentnumber"]);
    let mut students = HashMap::new();
    let left_out = HashSet::new();
    for (line, row) in &s.rows {
        if let Some(sis) = field(row, Some(id)) {
            students.insert(
                sis.clone(),
                Person {
                    line: *line,
                    name: full_name(field(row, first), field(row, last)),
                    number: field(row, number).or(Some(sis)),
                },
            );
        }
    }
    let classes = read_classes(
        files,
        &origin,
        &ClassColumns {
            file: "section.csv",
            shown: "Section.csv",
            id: &["sisid"],
            title: &["sectionname"],
            code: &["sectionnumber", "coursenumber"],
        },
    )?;
    let e = Table::required(
        files,
        "studentenrollment.csv",
        "StudentEnrollment.csv",
        &origin,
    )?;
    let section = e.require(&["sectionsisid"], "StudentEnrollment.csv", &origin)?;
    let student = e.require(&["sisid"], "StudentEnrollment.csv", &origin)?;
    let mut enrolling = Enrolling::new(classes, &origin)?;
    for (line, row) in &e.rows {
        if let (Some(c), Some(u)) = (field(row, Some(section)), field(row, Some(student))) {
            enrolling.enrol(c, u, *line)?;
        }
    }
    Ok(finish(RosterFile {
        kind: RosterKind::SchoolDataSync,
        origin,
        plain: None,
        classes: enrolling.classes,
        students,
        left_out,
        enrolments: enrolling.enrolments,
        enrolment_file: "StudentEnrollment.csv",
        student_file: "Student.csv",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/rosters")
            .join(name)
    }

    fn names(roster: &ClassRoster) -> Vec<(&str, Option<&str>)> {
        roster
            .rows
            .iter()
            .map(|r| (r.name.as_str(), r.number.as_deref()))
            .collect()
    }

    #[test]
    fn a_one_roster_folder_and_its_zip_give_8b_students_only() {
        for bundle in ["oneroster-8B", "oneroster-8B.zip"] {
            let file = open_roster(&fixture(bundle)).unwrap();
            assert_eq!(file.kind, RosterKind::OneRoster);
            let titles: Vec<&str> = file.classes().iter().map(|c| c.title.as_str()).collect();
            assert_eq!(titles, ["8B Music", "9C Music"], "largest first");
            // The bandroom class "8B" matches neither title nor code exactly: it is
            // chosen, by code here.
            let roster = file.rows_for("8B", Some("8b/mu1")).unwrap();
            assert_eq!(
                names(&roster),
                [
                    ("Zoë Okafor", Some("A1001")),
                    ("Seán O'Brien", Some("A1002")),
                    ("Amelia-Rose Fitzgerald-Montgomery", Some("A1003")),
                    ("Mo Ahmed", Some("A1004")),
                    ("Mo Ahmed", Some("A1005")),
                    // No identifier: the stable id, so a second import finds her again.
                    ("Thị An Nguyễn", Some("u-1007")),
                ],
                "{bundle}: no teacher, parent, leaver or 9C pupil"
            );
            assert_eq!(roster.from.as_deref(), Some("8B Music (8B/Mu1)"));
            assert_eq!(roster.problems.len(), 1, "{:?}", roster.problems);
            assert_eq!(roster.problems[0].line, 10);
            assert!(roster.problems[0].message.contains("u-9999"));
        }
    }

    #[test]
    fn a_bundle_whose_class_cannot_be_told_lists_its_classes() {
        let file = open_roster(&fixture("oneroster-8B")).unwrap();
        let err = file.rows_for("Year 8 band", None).unwrap_err().to_string();
        assert!(err.contains("2 classes (8B Music, 9C Music)"), "{err}");
        assert!(err.contains("choose which one is Year 8 band"), "{err}");
        let err = file.rows_for("8B", Some("10A")).unwrap_err().to_string();
        assert!(err.contains("none called \"10A\""), "{err}");
        // Named like the bundle's class title, it needs no choosing.
        let roster = file.rows_for("9C Music", None).unwrap();
        assert_eq!(names(&roster), [("Inés García López", Some("A1008"))]);
    }

    #[test]
    fn a_school_data_sync_set_and_its_zip_in_a_sub_folder_are_read() {
        for bundle in ["sds-8B", "sds-8B.zip"] {
            let file = open_roster(&fixture(bundle)).unwrap();
            assert_eq!(file.kind, RosterKind::SchoolDataSync, "{bundle}");
            let roster = file.rows_for("8B Music", None).unwrap();
            assert_eq!(
                names(&roster),
                [
                    ("Zoë Okafor", Some("A1001")),
                    ("Seán O'Brien", Some("A1002")),
                    ("Mo Ahmed", Some("A1004")),
                    ("Mo Ahmed", Some("A1005")),
                ],
                "{bundle}"
            );
            assert!(roster.problems.is_empty(), "{:?}", roster.problems);
        }
    }

    #[test]
    fn a_plain_csv_is_read_as_before_and_a_folder_of_other_files_is_refused() {
        let file = open_roster(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/class-8B-30-pupils.csv"),
        )
        .unwrap();
        assert_eq!(file.kind, RosterKind::Csv);
        assert_eq!(file.rows_for("8B", None).unwrap().rows.len(), 30);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.csv"), "a,b\n1,2\n").unwrap();
        let err = open_roster(dir.path()).unwrap_err().to_string();
        assert!(err.contains("neither a OneRoster bundle"), "{err}");
    }

    #[test]
    fn a_zip_that_claims_a_huge_file_is_refused_without_reading_it_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("users.csv", options).unwrap();
        let block = vec![b'a'; 1 << 20];
        for _ in 0..(FILE_LIMIT >> 20) + 2 {
            std::io::Write::write_all(&mut zip, &block).unwrap();
        }
        zip.finish().unwrap();
        let err = open_roster(&path).unwrap_err().to_string();
        assert!(err.contains("larger than any roster"), "{err}");
    }

    fn zip_of(path: &std::path::Path, entries: &[(&str, &[u8], usize)]) {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, block, times) in entries {
            zip.start_file(*name, options).unwrap();
            for _ in 0..*times {
                std::io::Write::write_all(&mut zip, block).unwrap();
            }
        }
        zip.finish().unwrap();
    }

    #[test]
    fn a_bundle_is_capped_in_all_not_only_file_by_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("four.zip");
        let block = vec![b'a'; 1 << 20];
        // Four files the format names, each under the per-file cap, 28 MB in all.
        let seven = 7usize;
        zip_of(
            &path,
            &[
                ("users.csv", &block, seven),
                ("classes.csv", &block, seven),
                ("enrollments.csv", &block, seven),
                ("orgs/users.csv", &block, 0),
            ],
        );
        let err = open_roster(&path).unwrap_err().to_string();
        assert!(
            err.contains("twice") || err.contains("whole bundle"),
            "{err}"
        );
        zip_of(
            &path,
            &[
                ("users.csv", &block, seven),
                ("classes.csv", &block, seven),
                ("enrollments.csv", &block, seven),
                ("section.csv", &block, seven),
            ],
        );
        let err = open_roster(&path).unwrap_err().to_string();
        assert!(err.contains("whole bundle"), "{err}");
    }

    #[test]
    fn files_the_formats_do_not_name_are_never_inflated_and_entries_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.zip");
        let block = vec![b'a'; 1 << 20];
        // 8 MB entries under other names: skipped unread, so the bundle is only refused
        // for what it lacks.
        let names: Vec<String> = (0..6).map(|n| format!("copy-{n}.csv")).collect();
        let entries: Vec<(&str, &[u8], usize)> =
            names.iter().map(|n| (n.as_str(), &block[..], 8)).collect();
        zip_of(&path, &entries);
        let err = open_roster(&path).unwrap_err().to_string();
        assert!(err.contains("holds neither"), "{err}");
        let names: Vec<String> = (0..MAX_ZIP_ENTRIES + 1)
            .map(|n| format!("{n}.txt"))
            .collect();
        let entries: Vec<(&str, &[u8], usize)> =
            names.iter().map(|n| (n.as_str(), &b"x"[..], 1)).collect();
        zip_of(&path, &entries);
        let err = open_roster(&path).unwrap_err().to_string();
        assert!(err.contains("entries"), "{err}");
    }

    /// OneRoster files of `classes` classes, each of `per_class` students.
    fn big_one_roster(dir: &std::path::Path, classes: usize, per_class: usize) {
        let mut users = String::from("sourcedId,role,givenName,familyName\n");
        let mut class_rows = String::from("sourcedId,title\n");
        let mut enrolments = String::from("classSourcedId,userSourcedId,role\n");
        for c in 0..classes {
            class_rows.push_str(&format!("c{c},Class {c}\n"));
            for p in 0..per_class {
                let id = c * per_class + p;
                if c == 0 || p == 0 {
                    users.push_str(&format!("u{id},student,Pupil,Number{id}\n"));
                }
                enrolments.push_str(&format!("c{c},u{id},student\n"));
            }
        }
        std::fs::write(dir.join("users.csv"), users).unwrap();
        std::fs::write(dir.join("classes.csv"), class_rows).unwrap();
        std::fs::write(dir.join("enrollments.csv"), enrolments).unwrap();
    }

    #[test]
    fn thousands_of_classes_are_read_in_one_pass_and_too_many_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        // 4,000 classes and 100,000 enrolments (the audit's hanging bundle was of this
        // shape): read, counted, largest first.
        big_one_roster(dir.path(), 4_000, 25);
        let roster = open_roster(dir.path()).unwrap();
        assert_eq!(roster.classes().len(), 4_000);
        assert_eq!(roster.classes()[0].title, "Class 0");
        assert_eq!(roster.classes()[0].pupils, 25);
        let rows = roster.rows_for("x", Some("Class 0")).unwrap();
        assert_eq!(rows.rows.len(), 25);
        let many = tempfile::tempdir().unwrap();
        big_one_roster(many.path(), MAX_CLASSES + 1, 1);
        let err = open_roster(many.path()).unwrap_err().to_string();
        assert!(err.contains("classes"), "{err}");
    }
}
