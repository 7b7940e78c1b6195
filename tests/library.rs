//! The class library against a real SQLite file, through the public API (as the app
//! uses it) and the `bandroom` binary (as scripts and the other process use it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bandroom::library::{
    GridFilter, LATEST_VERSION, Library, LibraryError, NewAssessment, TakeFilter, migrate_to,
};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Registers a take of `tracks` short WAV tracks in today's lesson of `class`.
fn make_take(lib: &mut Library, class: Option<i64>, tracks: usize) -> i64 {
    register_take_of(lib, class, tracks, 4_800)
}

/// A library with class 8B holding the given pupils (name, number).
fn library_with_class(root: &Path, pupils: &[(&str, &str)]) -> (Library, i64, Vec<i64>) {
    let mut lib = Library::open(root).unwrap();
    let class = lib.add_class("8B", Some("Year 8"), None).unwrap();
    let mut csv = String::from("name,number,groups\n");
    for (name, number) in pupils {
        csv.push_str(&format!("{name},{number},PP\n"));
    }
    let (rows, problems) =
        bandroom::library::roster::parse_roster(csv.as_bytes(), "roster").unwrap();
    lib.import_roster(class, &rows, problems, true).unwrap();
    let ids = pupils
        .iter()
        .map(|(_, number)| lib.find_pupil(number, None).unwrap())
        .collect();
    (lib, class, ids)
}

/// Records half a second from the virtual device into the folder `out`.
fn record_half_a_second(root: &Path, out: &Path) {
    let args = [
        "record",
        "--host",
        "virtual",
        "--inputs",
        "1",
        "--seconds",
        "0.5",
    ];
    let mut all = args.to_vec();
    all.extend(["--virtual-speed", "10", "--out", out.to_str().unwrap()]);
    assert_ok(&in_library(root, &all));
}

/// A new library (demo class only): its scratch folder, root and database file.
fn fresh_library() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    drop(Library::open(&root).unwrap());
    let db = root.join("bandroom.sqlite");
    (dir, root, db)
}

fn judgement(pupil: i64, take: i64, criterion: &str, level: &str) -> NewAssessment {
    NewAssessment {
        pupil,
        take: Some(take),
        criterion: criterion.into(),
        level: level.into(),
        comment: String::new(),
        assessor: "Ms Test".into(),
    }
}

fn row_of(grid: &bandroom::library::ClassGrid, pupil: i64) -> Vec<Option<i64>> {
    grid.rows
        .iter()
        .find(|r| r.pupil_id == pupil)
        .map(|r| r.levels.clone())
        .unwrap_or_default()
}

#[test]
fn a_new_library_has_the_demo_class_and_both_frameworks() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(&dir.path().join("lib")).unwrap();
    assert!(lib.was_created());
    let classes = lib.classes().unwrap();
    assert_eq!(classes.len(), 1);
    assert_eq!(classes[0].pupils, 10);
    let names: Vec<String> = lib
        .frameworks()
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["ks3-progression", "radar-4"]);
    drop(lib);
    let again = Library::open(&dir.path().join("lib")).unwrap();
    assert!(!again.was_created(), "a second open creates nothing");
    assert_eq!(again.classes().unwrap().len(), 1);
}

/// What a library written by schema version 1 holds (valid at every later version too).
const V1_FIXTURE: &str = "
INSERT INTO framework (id, name, version, title, source_sha256, imported_at)
    VALUES (90, 'old-school', 1, 'Old', 'x', '2024-09-01T09:00:00Z');
INSERT INTO strand (id, framework_id, key, title, position) VALUES (91, 90, 'pulse', 'Pulse', 0);
INSERT INTO level (id, strand_id, value, label, description) VALUES
    (92, 91, 1, 'Low', 'a'), (93, 91, 2, 'High', 'b');
INSERT INTO class (id, name, framework_id, created_at) VALUES (1, '9C', 90, '2024-09-01T09:00:00Z');
INSERT INTO pupil (id, display_name, number, created_at) VALUES (1, 'Old Pupil', '77', '2024-09-01T09:00:00Z');
INSERT INTO class_member VALUES (1, 1);
INSERT INTO lesson (id, class_id, title, started_at) VALUES (1, 1, 'Lesson', '2024-09-02T10:00:00Z');
INSERT INTO take (id, lesson_id, folder, recorded_at, host, input_device, output_device,
    sample_rate_hz, latency_applied_frames, frames, duration_secs, xruns, gaps, complete)
    VALUES (1, 1, 'takes/2024-09-02/100000-aaaa', '2024-09-02T10:00:00Z', 'alsa', 'in', 'out',
    48000, 300, 48000, 1.0, 0, 0, 1);
INSERT INTO track (id, take_id, number, file, input_channel, frames, sha256)
    VALUES (1, 1, 1, 'input-1.wav', 1, 48000, 'abc');
INSERT INTO performer VALUES (1, 1, 'part 1', 'core', 'clap');
INSERT INTO assessment (pupil_id, level_id, take_id, class_id, assessor, assessed_at)
    VALUES (1, 93, 1, 1, 'Mr Old', '2024-09-02T10:05:00Z');
";

#[test]
fn migrations_from_every_earlier_version_keep_the_data() {
    for from in 0..LATEST_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("lib");
        std::fs::create_dir_all(&root).unwrap();
        {
            let mut conn = rusqlite::Connection::open(root.join("bandroom.sqlite")).unwrap();
            migrate_to(&mut conn, from).unwrap();
            if from >= 1 {
                conn.execute_batch(V1_FIXTURE).unwrap();
            }
            if from >= 2 {
                // A version-2 bandroom set every take's review date when registering it.
                conn.execute_batch(
                    "UPDATE take SET retain_until = date(recorded_at, '+12 months')",
                )
                .unwrap();
            }
        }
        let lib = Library::open(&root).unwrap();
        let db = root.join("bandroom.sqlite");
        assert_eq!(
            count(&db, "PRAGMA user_version"),
            LATEST_VERSION,
            "from {from}"
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM pragma_foreign_key_check"),
            0
        );
        if from == 0 {
            assert!(lib.was_created(), "an empty file becomes a new library");
            continue;
        }
        assert!(
            !lib.was_created(),
            "from {from}: no demo class added to a school's library"
        );
        let take = lib.take(1).unwrap();
        assert_eq!(take.purpose, "rehearsal", "from {from}");
        assert_eq!(
            take.count_in_bars, 1,
            "from {from}: a take before version 3 had one bar"
        );
        assert_eq!(
            take.retain_until.as_deref(),
            Some("2025-09-02"),
            "from {from}"
        );
        let progress = lib.progress(1).unwrap();
        let pulse = progress
            .strands
            .iter()
            .find(|s| s.framework == "old-school")
            .unwrap();
        assert_eq!(pulse.latest.as_ref().unwrap().label, "High", "from {from}");
    }
}

#[test]
fn a_library_from_a_newer_bandroom_is_refused_untouched() {
    let (_dir, root, db) = fresh_library();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", LATEST_VERSION + 1)
            .unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let err = Library::open(&root)
        .err()
        .expect("a newer library is refused");
    assert!(matches!(err, LibraryError::TooNew { .. }), "{err}");
    assert!(err.to_string().contains("update bandroom"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file is untouched");
    let output = in_library(&root, &["class", "list"]);
    assert!(!output.status.success());
    assert_contains(&stderr(&output), "newer bandroom");
}

#[test]
fn roster_import_reports_bad_and_duplicate_rows_and_strict_imports_none() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    assert_ok(&in_library(&root, &["class", "add", "8B"]));
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "Forename,Surname,Admission No,SEN\n\
         Amira,Okafor,1001,K\n\
         Jan,,1002,\n\
         ,,1003,\n\
         Wei,Li,1001,\n\
         \"Zoë\",\"O'Neill, Jr\",1004,\n",
    )
    .unwrap();
    let strict = in_library(
        &root,
        &[
            "pupils",
            "import",
            roster.to_str().unwrap(),
            "--class",
            "8B",
            "--strict",
        ],
    );
    assert!(!strict.status.success());
    let message = stderr(&strict);
    assert!(message.contains("line 4 has no name"), "{message}");
    assert!(
        message.contains("line 5 repeats line 2 (number 1001)"),
        "{message}"
    );
    assert!(message.contains("nothing was imported"), "{message}");
    let db = root.join("bandroom.sqlite");
    let in_class =
        "SELECT count(*) FROM class_member m JOIN class c ON c.id = m.class_id WHERE c.name = '8B'";
    assert_eq!(count(&db, in_class), 0, "--strict imports none");

    let loose = in_library(
        &root,
        &[
            "pupils",
            "import",
            roster.to_str().unwrap(),
            "--class",
            "8B",
        ],
    );
    assert_ok(&loose);
    assert_contains(&stdout(&loose), "3 pupil(s) added");
    assert_eq!(count(&db, in_class), 3);
    let list = stdout(&in_library(
        &root,
        &["pupils", "list", "--class", "8B", "--json"],
    ));
    let pupils: serde_json::Value = serde_json::from_str(&list).unwrap();
    let names: Vec<&str> = pupils
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Amira Okafor", "Jan", "Zoë O'Neill, Jr"]);
    assert!(
        pupils[0].get("groups").is_none(),
        "groups are never listed per pupil"
    );
    let text = stdout(&in_library(&root, &["pupils", "list", "--class", "8B"]));
    assert!(
        text.contains("monitoring groups (counts only): SEN 1"),
        "{text}"
    );

    let again = in_library(
        &root,
        &[
            "pupils",
            "import",
            roster.to_str().unwrap(),
            "--class",
            "8B",
        ],
    );
    assert_contains(&stdout(&again), "0 pupil(s) added");
    assert_contains(&stdout(&again), "3 already in the class");
}

#[test]
fn a_group_track_attributes_every_pupil_and_judgements_keep_their_context() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut lib, class, pupils) = library_with_class(
        &root,
        &[("Amira Okafor", "1"), ("Jan Nowak", "2"), ("Li Wei", "3")],
    );
    let take = make_take(&mut lib, Some(class), 2);
    drop(lib);
    assert_ok(&in_library(
        &root,
        &[
            "perform",
            &take.to_string(),
            "--track",
            "1",
            "--pupils",
            "Amira Okafor,2",
            "--part",
            "part 1",
            "--tier",
            "core",
            "--instrument",
            "claps",
        ],
    ));
    assert_ok(&in_library(
        &root,
        &[
            "perform",
            &take.to_string(),
            "--track",
            "2",
            "--pupils",
            "#3",
            "--part",
            "part 2",
        ],
    ));
    let listed = stdout(&in_library(
        &root,
        &["takes", "list", "--pupil", "Jan Nowak", "--json"],
    ));
    let takes: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(takes.as_array().unwrap().len(), 1);
    let performers = &takes[0]["tracks"][0]["performers"];
    assert_eq!(
        performers.as_array().unwrap().len(),
        2,
        "a group on one microphone"
    );
    assert_eq!(performers[1]["tier"], "core");

    let mut lib = Library::open(&root).unwrap();
    lib.assess(&judgement(pupils[1], take, "pulse", "3"))
        .unwrap();
    let record = &lib.assessments(pupils[1]).unwrap()[0];
    assert_eq!(record.class.as_deref(), Some("8B"));
    assert_eq!(record.part.as_deref(), Some("part 1"));
    assert_eq!(record.tier.as_deref(), Some("core"));
    let groups = count(
        &root.join("bandroom.sqlite"),
        "SELECT count(*) FROM assessment WHERE groups = 'PP' AND instrument = 'claps'",
    );
    assert_eq!(groups, 1, "groups and instrument kept with the judgement");
    let not_there = lib
        .assess(&judgement(pupils[2], take + 1, "pulse", "3"))
        .unwrap_err();
    assert!(not_there.to_string().contains("no take"), "{not_there}");
    let unattributed = make_take(&mut lib, Some(class), 1);
    let err = lib
        .assess(&judgement(pupils[0], unattributed, "pulse", "3"))
        .unwrap_err();
    assert!(err.to_string().contains("bandroom perform"), "{err}");
}

#[test]
fn assessment_history_keeps_every_judgement_and_progress_shows_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut lib, class, pupils) = library_with_class(&root, &[("Amira Okafor", "1")]);
    let first = make_take(&mut lib, Some(class), 1);
    let second = make_take(&mut lib, Some(class), 1);
    for take in [first, second] {
        lib.attribute(take, 1, &pupils, Some("part 2"), Some("stretch"), None)
            .unwrap();
    }
    drop(lib);
    let t1 = first.to_string();
    let t2 = second.to_string();
    assert_ok(&in_library(
        &root,
        &[
            "assess",
            &t1,
            "--pupil",
            "Amira Okafor",
            "--criterion",
            "pulse",
            "--level",
            "2",
        ],
    ));
    assert_ok(&in_library(
        &root,
        &[
            "assess",
            &t2,
            "--pupil",
            "1",
            "--criterion",
            "Pulse and rhythm",
            "--level",
            "independent rhythm",
            "--comment",
            "held the shift",
        ],
    ));
    assert_ok(&in_library(
        &root,
        &[
            "assess",
            &t2,
            "--pupil",
            "1",
            "--criterion",
            "ensemble",
            "--level",
            "3",
        ],
    ));
    let json = stdout(&in_library(
        &root,
        &["progress", "--pupil", "Amira Okafor", "--json"],
    ));
    let progress: serde_json::Value = serde_json::from_str(&json).unwrap();
    let strands = progress["strands"].as_array().unwrap();
    assert_eq!(
        strands.len(),
        6,
        "every criterion of the class's framework, gaps included"
    );
    let pulse = strands.iter().find(|s| s["criterion"] == "pulse").unwrap();
    assert_eq!(
        pulse["history"].as_array().unwrap().len(),
        2,
        "never overwritten"
    );
    assert_eq!(pulse["history"][0]["level"], 2);
    assert_eq!(pulse["latest"]["level"], 4);
    assert_eq!(pulse["latest"]["take"], second);
    assert_eq!(pulse["latest"]["comment"], "held the shift");
    let accuracy = strands
        .iter()
        .find(|s| s["criterion"] == "accuracy")
        .unwrap();
    assert!(accuracy["latest"].is_null());
    let text = stdout(&in_library(&root, &["progress", "--pupil", "Amira Okafor"]));
    assert!(text.contains("4/5 Independent rhythm"), "{text}");
    assert!(text.contains("not yet assessed"), "{text}");
}

#[test]
fn unknown_names_and_levels_are_clear_errors_that_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut lib, class, pupils) = library_with_class(&root, &[("Amira Okafor", "1")]);
    let take = make_take(&mut lib, Some(class), 1);
    lib.attribute(take, 1, &pupils, None, None, None).unwrap();
    drop(lib);
    let db = root.join("bandroom.sqlite");
    let before = count(&db, "SELECT count(*) FROM assessment");
    let t = take.to_string();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "assess",
                &t,
                "--pupil",
                "Nobody",
                "--criterion",
                "pulse",
                "--level",
                "1",
            ],
            "no pupil called \"Nobody\"",
        ),
        (
            &[
                "assess",
                &t,
                "--pupil",
                "1",
                "--criterion",
                "tuning",
                "--level",
                "1",
            ],
            "use one of pulse, accuracy",
        ),
        (
            &[
                "assess",
                &t,
                "--pupil",
                "1",
                "--criterion",
                "pulse",
                "--level",
                "9",
            ],
            "from 1 to 5",
        ),
        (
            &[
                "assess",
                "999",
                "--pupil",
                "1",
                "--criterion",
                "pulse",
                "--level",
                "1",
            ],
            "no take 999",
        ),
        (
            &["pupils", "import", "missing.csv", "--class", "8B"],
            "cannot read the roster missing.csv",
        ),
        (
            &["pupils", "list", "--class", "9Z"],
            "no class called \"9Z\"",
        ),
        (
            &["perform", &t, "--track", "7", "--pupils", "1"],
            "has no track 7",
        ),
        (&["class", "add", "8B"], "already a class called \"8B\""),
        (
            &["frameworks", "import", "nothing.toml"],
            "cannot read the framework nothing.toml",
        ),
    ];
    for (args, expected) in cases {
        let output = in_library(&root, args);
        assert!(!output.status.success(), "{args:?} should fail");
        let message = stderr(&output);
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{message}");
    }
    assert_eq!(count(&db, "SELECT count(*) FROM assessment"), before);
    std::fs::write(dir.path().join("broken.csv"), "number,groups\n1,PP\n").unwrap();
    let output = in_library(&root, &["pupils", "import", "broken.csv", "--class", "8B"]);
    assert!(stderr(&output).contains("broken.csv: the header has no name column"));
}

#[test]
fn erasing_a_pupil_leaves_no_trace_of_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut lib, class, pupils) = library_with_class(
        &root,
        &[("Zebedee Quixley", "5551"), ("Ottoline Marsh", "5552")],
    );
    let (erased, kept) = (pupils[0], pupils[1]);
    let solo = make_take(&mut lib, Some(class), 1);
    let shared = make_take(&mut lib, Some(class), 2);
    lib.attribute(solo, 1, &[erased], Some("part 1"), None, None)
        .unwrap();
    lib.attribute(shared, 1, &[erased], Some("part 1"), None, None)
        .unwrap();
    lib.attribute(shared, 2, &[kept], Some("part 2"), None, None)
        .unwrap();
    lib.assess(&judgement(erased, solo, "pulse", "2")).unwrap();
    lib.assess(&judgement(kept, shared, "pulse", "3")).unwrap();
    lib.add_reflection(
        solo,
        erased,
        "Zebedee Quixley thinks it went well",
        &[("pulse".into(), "2".into())],
    )
    .unwrap();
    let solo_folder = lib.take_folder(&lib.take(solo).unwrap());
    drop(lib);

    let refused = in_library(&root, &["erase", "--pupil", "Zebedee Quixley"]);
    assert!(
        !refused.status.success(),
        "no terminal and no --yes: nothing erased"
    );
    assert_contains(&stderr(&refused), "--yes");
    let output = in_library(&root, &["erase", "--pupil", "Zebedee Quixley", "--yes"]);
    assert_ok(&output);
    assert_contains(
        &stdout(&output),
        "1 take(s) and 1 track(s) that were theirs alone deleted",
    );

    assert!(
        !solo_folder.exists(),
        "the take only they played in is gone with its files"
    );
    let lib = Library::open(&root).unwrap();
    let shared_take = lib.take(shared).unwrap();
    // Their own track goes (tests/safety.rs, D3); the classmate's stays with its audio.
    assert!(!lib.take_folder(&shared_take).join("input-1.wav").exists());
    assert!(
        lib.take_folder(&shared_take).join("input-2.wav").is_file(),
        "the classmate's audio kept"
    );
    assert_eq!(shared_take.tracks.len(), 1);
    assert_eq!(shared_take.tracks[0].performers[0].name, "Ottoline Marsh");
    assert_eq!(
        lib.assessments(kept).unwrap().len(),
        1,
        "others' judgements stay"
    );
    drop(lib);

    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut control_found = false;
    for file in &files {
        let name = file.to_string_lossy();
        assert!(
            !name.contains("Zebedee") && !name.contains("Quixley"),
            "{name}"
        );
        let bytes = std::fs::read(file).unwrap();
        for needle in ["Zebedee", "Quixley", "5551"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} found in {name}"
            );
        }
        control_found |= bytes.windows(8).any(|w| w == b"Ottoline");
    }
    assert!(control_found, "the search finds names that are still there");
    let audit: Vec<String> = {
        let conn = rusqlite::Connection::open(root.join("bandroom.sqlite")).unwrap();
        let mut s = conn.prepare("SELECT action FROM audit").unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(audit.contains(&"pupil.erase".to_string()));
}

#[test]
fn a_process_killed_mid_import_leaves_a_consistent_library() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    assert_ok(&in_library(&root, &["class", "add", "Big"]));
    let roster = dir.path().join("big.csv");
    let mut csv = String::from("name,number\n");
    for i in 0..30_000 {
        csv.push_str(&format!("Pupil {i},N{i}\n"));
    }
    std::fs::write(&roster, csv).unwrap();
    let db = root.join("bandroom.sqlite");
    // The import pauses inside its transaction after its 15,000th pupil (a test hook),
    // so the kill below certainly lands mid-import.
    let paused = dir.path().join("paused");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bandroom"))
        .args(["--library", root.to_str().unwrap(), "pupils", "import"])
        .arg(&roster)
        .args(["--class", "Big"])
        .env(
            "BANDROOM_TEST_PAUSE_IMPORT",
            format!("15000:{}", paused.display()),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !paused.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before its pause"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the import never paused"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    let _ = child.wait();
    let lib = Library::open(&root).unwrap();
    assert!(lib.check().unwrap().findings.is_empty());
    let pupils = count(&db, "SELECT count(*) FROM pupil WHERE number LIKE 'N%'");
    assert_eq!(pupils, 0, "a killed import leaves none of its 15,000 rows");
    drop(lib);
    // The same import, not killed, brings every pupil in.
    assert_ok(&in_library(
        &root,
        &[
            "pupils",
            "import",
            roster.to_str().unwrap(),
            "--class",
            "Big",
        ],
    ));
    assert_eq!(
        count(&db, "SELECT count(*) FROM pupil WHERE number LIKE 'N%'"),
        30_000
    );
}

#[test]
fn the_app_and_the_command_line_writing_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut lib, class, pupils) = library_with_class(&root, &[("Amira Okafor", "1")]);
    let take = make_take(&mut lib, Some(class), 1);
    lib.attribute(take, 1, &pupils, None, None, None).unwrap();
    let cli_root = root.clone();
    let classes = spawn_named("classes", move || {
        for i in 0..10 {
            assert_ok(&in_library(&cli_root, &["class", "add", &format!("C{i}")]));
        }
    });
    let mark_root = root.clone();
    let markers = spawn_named("markers", move || {
        for i in 0..10 {
            assert_ok(&in_library(
                &mark_root,
                &[
                    "mark",
                    &take.to_string(),
                    "--at",
                    "0.05",
                    "--text",
                    &format!("m{i}"),
                ],
            ));
        }
    });
    for i in 0..60 {
        let level = (i % 5 + 1).to_string();
        lib.assess(&judgement(pupils[0], take, "pulse", &level))
            .unwrap();
    }
    classes.join().unwrap();
    markers.join().unwrap();
    let db = root.join("bandroom.sqlite");
    assert_eq!(count(&db, "SELECT count(*) FROM assessment"), 60);
    assert_eq!(count(&db, "SELECT count(*) FROM marker"), 10);
    assert_eq!(
        count(&db, "SELECT count(*) FROM class WHERE name LIKE 'C%'"),
        10
    );
    assert!(lib.check().unwrap().findings.is_empty());
}

#[test]
fn check_finds_a_flipped_byte_and_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root).unwrap();
    let take = make_take(&mut lib, None, 3);
    let folder = lib.take_folder(&lib.take(take).unwrap());
    drop(lib);
    assert_ok(&in_library(&root, &["check"]));
    let flipped = folder.join("input-2.wav");
    let mut bytes = std::fs::read(&flipped).unwrap();
    bytes[5_000] ^= 0x01;
    std::fs::write(&flipped, bytes).unwrap();
    std::fs::remove_file(folder.join("input-3.wav")).unwrap();
    let output = in_library(&root, &["check", "--repair"]);
    assert!(!output.status.success(), "a damaged take needs a person");
    let report = stdout(&output);
    assert!(
        report.contains("input-2.wav has changed since it was recorded"),
        "{report}"
    );
    assert!(report.contains("input-3.wav is missing"), "{report}");
    assert!(
        !report.contains("input-1.wav"),
        "the good track is not reported: {report}"
    );
    assert!(folder.join("input-2.wav").exists(), "check never deletes");
}

#[test]
fn check_repair_registers_orphans_recovers_unfinished_takes_and_quarantines_junk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    drop(Library::open(&root).unwrap());
    // A complete take recorded into a folder, then dropped into takes/ by hand.
    let take_dir = dir.path().join("take");
    record_half_a_second(&root, &take_dir);
    std::fs::create_dir_all(root.join("takes/2026-01-05")).unwrap();
    std::fs::rename(&take_dir, root.join("takes/2026-01-05/orphan")).unwrap();
    // A recording cut off in the incoming folder: take.json says incomplete, and the
    // WAV header was never finished.
    let unfinished_src = dir.path().join("cut");
    record_half_a_second(&root, &unfinished_src);
    let mut info = take_json(&unfinished_src);
    info["complete"] = serde_json::json!(false);
    std::fs::write(unfinished_src.join("take.json"), info.to_string()).unwrap();
    let wav = unfinished_src.join("input-1.wav");
    let mut bytes = std::fs::read(&wav).unwrap();
    bytes[4..8].copy_from_slice(&0u32.to_le_bytes());
    bytes[40..44].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(&wav, bytes).unwrap();
    std::fs::rename(&unfinished_src, root.join("takes/.incoming/cut")).unwrap();
    // A folder with nothing bandroom can use.
    std::fs::create_dir_all(root.join("takes/2026-01-05/junk")).unwrap();
    std::fs::write(root.join("takes/2026-01-05/junk/notes.txt"), "?").unwrap();

    let first = in_library(&root, &["check"]);
    assert!(!first.status.success());
    let report = stdout(&first);
    assert!(
        report
            .contains("orphan: a take folder the library does not list → can be registered again"),
        "{report}"
    );
    assert!(
        report.contains("cut: a recording that was never finished → can be recovered"),
        "{report}"
    );
    assert!(
        report
            .contains("junk: a take folder the library does not list → can be moved to quarantine"),
        "{report}"
    );

    let repaired = in_library(&root, &["check", "--repair"]);
    assert_ok(&repaired);
    let lib = Library::open(&root).unwrap();
    let takes = lib.takes(&TakeFilter::default()).unwrap();
    assert_eq!(takes.len(), 2, "{}", stdout(&repaired));
    assert_eq!(
        takes.iter().filter(|t| !t.complete).count(),
        1,
        "the cut take is marked incomplete"
    );
    let quarantined: Vec<PathBuf> = std::fs::read_dir(root.join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0].join("notes.txt").is_file(),
        "quarantine keeps the files"
    );
    assert!(lib.check().unwrap().findings.is_empty());
}

#[test]
fn record_without_out_files_a_complete_hashed_take_into_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    assert_ok(&in_library(&root, &["class", "add", "8B"]));
    let mut args = CLAPPING_TAKE_IN_8B.to_vec();
    args.extend(["--purpose", "assessment"]);
    let output = in_library(&root, &args);
    assert_ok(&output);
    assert_contains(&stdout(&output), "take 1 is in the library");
    let lib = Library::open(&root).unwrap();
    let take = lib.take(1).unwrap();
    assert_eq!(take.class.as_deref(), Some("8B"));
    assert_eq!(take.arrangement.as_deref(), Some("clapping-music"));
    assert_eq!(take.purpose, "assessment");
    assert!(take.complete);
    assert_eq!(take.tracks.len(), 2);
    let folder = lib.take_folder(&take);
    assert!(folder.starts_with(root.join("takes")));
    for track in &take.tracks {
        let path = folder.join(&track.file);
        assert_eq!(bandroom::library::sha256_file(&path).unwrap(), track.sha256);
        let frames = u64::from(hound::WavReader::open(&path).unwrap().duration());
        assert_eq!(frames, track.frames);
        assert!(frames > 48_000 * 20, "{frames} frames of Clapping Music");
    }
    let incoming = std::fs::read_dir(root.join("takes/.incoming"))
        .unwrap()
        .count();
    assert_eq!(incoming, 0, "nothing left half-way");
    assert_eq!(take_json(&folder)["lesson_id"], take.lesson_id);
}

#[test]
fn backup_while_the_app_writes_is_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut lib, class, pupils) = library_with_class(&root, &[("Amira Okafor", "1")]);
    for _ in 0..5 {
        let take = make_take(&mut lib, Some(class), 2);
        lib.attribute(take, 1, &pupils, None, None, None).unwrap();
    }
    let writer_root = root.clone();
    let writer = spawn_named("writer", move || {
        let mut app = Library::open(&writer_root).unwrap();
        for i in 0..200 {
            let mut new = judgement(pupils[0], 1, "pulse", &(i % 5 + 1).to_string());
            new.comment = format!("write {i}");
            app.assess(&new).unwrap();
        }
    });
    let destination = dir.path().join("backup");
    let output = in_library(&root, &["backup", destination.to_str().unwrap()]);
    writer.join().unwrap();
    assert_ok(&output);
    // Ten take files and backups.log (which says this backup was started).
    assert_contains(&stdout(&output), "5 take(s), 11 file(s)");
    let copy = Library::open(&destination).unwrap();
    assert!(
        copy.check().unwrap().findings.is_empty(),
        "every file with its hash"
    );
    // The copy is one consistent moment of the writer: sound, with no dangling rows,
    // and holding exactly the first N writes in order (a torn copy would skip or
    // reorder some).
    let db = rusqlite::Connection::open(destination.join("bandroom.sqlite")).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let dangling: i64 = db
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(dangling, 0);
    let copied: Vec<String> = db
        .prepare("SELECT comment FROM assessment ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<String> = (0..copied.len()).map(|i| format!("write {i}")).collect();
    assert_eq!(copied, expected, "a prefix of the writes");
    assert!(copied.len() <= 200);
    let again = in_library(&root, &["backup", destination.to_str().unwrap()]);
    assert!(!again.status.success(), "a backup never overwrites another");
    assert_contains(&stderr(&again), "not empty");
}

#[test]
fn a_locked_library_is_reported_busy_and_a_short_lock_is_waited_for() {
    let (_dir, root, db) = fresh_library();
    let locker = rusqlite::Connection::open(&db).unwrap();
    locker
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO school_year (name) VALUES ('held');")
        .unwrap();
    let mut lib = Library::open_waiting(&root, Duration::from_millis(200)).unwrap();
    let err = lib.add_class("7Q", None, None).unwrap_err();
    assert!(matches!(err, LibraryError::Busy), "{err}");
    assert!(err.to_string().contains("nothing was changed"));
    // The command line waits for a writer that finishes within its timeout.
    let release = spawn_named("release", move || {
        std::thread::sleep(Duration::from_millis(700));
        locker.execute_batch("COMMIT").unwrap();
    });
    assert_ok(&in_library(&root, &["class", "add", "7Q"]));
    release.join().unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM class WHERE name = '7Q'"),
        1
    );
}

#[test]
fn a_full_or_read_only_disk_is_a_clear_error_and_nothing_is_half_applied() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&dir.path().join("small"), "600k");
    let root = dir.path().join("small/lib");
    assert_ok(&in_library(&root, &["class", "add", "8B"]));
    let db = root.join("bandroom.sqlite");
    let before = count(&db, "SELECT count(*) FROM pupil");
    // Fill the disk, then import a roster that needs more room than is left.
    let filler = dir.path().join("small/filler");
    let mut size = 0;
    while std::fs::write(
        filler.with_extension(size.to_string()),
        vec![0u8; 16 * 1024],
    )
    .is_ok()
    {
        size += 1;
    }
    let roster = dir.path().join("roster.csv");
    let mut csv = String::from("name,number\n");
    for i in 0..5_000 {
        csv.push_str(&format!("A rather long pupil name number {i},X{i}\n"));
    }
    std::fs::write(&roster, csv).unwrap();
    let output = in_library(
        &root,
        &[
            "pupils",
            "import",
            roster.to_str().unwrap(),
            "--class",
            "8B",
        ],
    );
    assert!(!output.status.success(), "a full disk is an error");
    let message = stderr(&output);
    assert!(
        message.contains("disk is full") || message.contains("No space"),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    for n in 0..size {
        let _ = std::fs::remove_file(filler.with_extension(n.to_string()));
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM pupil"),
        before,
        "nothing half-imported"
    );
    disk.remount_read_only();
    let output = in_library(&root, &["class", "add", "9C"]);
    assert!(!output.status.success(), "a read-only disk is an error");
    let message = stderr(&output);
    assert!(
        message.contains("read-only") || message.contains("cannot be written"),
        "{message}"
    );
    assert!(
        message.contains(root.to_str().unwrap()),
        "names the library: {message}"
    );
}

#[test]
fn pin_is_stored_as_an_argon2_hash_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root).unwrap();
    assert!(!lib.has_pin().unwrap());
    assert!(lib.set_pin(None, "12a4").is_err(), "digits only");
    lib.set_pin(None, "2468").unwrap();
    assert!(lib.check_pin("2468").unwrap());
    assert!(!lib.check_pin("2469").unwrap());
    let stored: String = rusqlite::Connection::open(root.join("bandroom.sqlite"))
        .unwrap()
        .query_row(
            "SELECT value FROM setting WHERE key = 'teacher_pin'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("2468"));
}

#[test]
fn retention_lists_takes_past_their_date_for_review() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root).unwrap();
    let take = make_take(&mut lib, None, 1);
    let recorded = lib.take(take).unwrap().recorded_at[..10].to_string();
    drop(lib);
    assert_ok(&in_library(
        &root,
        &["takes", "purpose", &take.to_string(), "rehearsal"],
    ));
    assert_ok(&in_library(
        &root,
        &["retention", "--set", "rehearsal=2", "--reapply"],
    ));
    let lib = Library::open(&root).unwrap();
    let until = lib.take(take).unwrap().retain_until.unwrap();
    assert!(until > recorded, "{until} after {recorded}");
    assert!(lib.takes_due_for_review(&recorded).unwrap().is_empty());
    assert_eq!(lib.takes_due_for_review("2999-01-01").unwrap().len(), 1);
    let review = stdout(&in_library(
        &root,
        &["takes", "review", "--on", "2999-01-01"],
    ));
    assert!(review.contains(&format!("keep until {until}")), "{review}");
    let bad = in_library(&root, &["retention", "--set", "rehearsal=0"]);
    assert_contains(&stderr(&bad), "1 to 240");
}

#[test]
fn a_changed_framework_in_use_becomes_a_new_version() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let file = dir.path().join("ours.toml");
    let framework = |label: &str| {
        format!(
            "name = \"ours\"\ntitle = \"Ours\"\n[[strand]]\nkey = \"pulse\"\ntitle = \"Pulse\"\n\
             levels = [{{ label = \"{label}\", description = \"a\" }}, {{ label = \"Two\", description = \"b\" }}]\n"
        )
    };
    std::fs::write(&file, framework("One")).unwrap();
    assert!(
        stdout(&in_library(
            &root,
            &["frameworks", "import", file.to_str().unwrap()]
        ))
        .contains("imported ours version 1")
    );
    assert!(
        stdout(&in_library(
            &root,
            &["frameworks", "import", file.to_str().unwrap()]
        ))
        .contains("already in the library")
    );
    std::fs::write(&file, framework("Uno")).unwrap();
    assert!(
        stdout(&in_library(
            &root,
            &["frameworks", "import", file.to_str().unwrap()]
        ))
        .contains("imported ours version 2")
    );
    let db = root.join("bandroom.sqlite");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM level l JOIN strand s ON s.id = l.strand_id JOIN framework f ON f.id = s.framework_id WHERE f.name = 'ours' AND l.label = 'One'"
        ),
        1,
        "version 1 unchanged"
    );
    std::fs::write(&file, "name = \"ours\"\ntitle = 3\n").unwrap();
    let broken = in_library(&root, &["frameworks", "import", file.to_str().unwrap()]);
    assert_contains(&stderr(&broken), "(line 2)");
}

#[test]
fn the_class_grid_and_evidence_selection_show_latest_levels_and_first_and_last_evidence() {
    // "Today" must not move while the test runs (a run across midnight).
    bandroom::library::clock::fix_for_this_thread("2026-11-10T23:59:58Z").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut lib, class, pupils) =
        library_with_class(&root, &[("Amira Okafor", "1"), ("Jan Nowak", "2")]);
    let (a, b) = (pupils[0], pupils[1]);
    let first = make_take(&mut lib, Some(class), 1);
    let second = make_take(&mut lib, Some(class), 1);
    lib.attribute(first, 1, &[a], Some("clapper 1"), Some("core"), None)
        .unwrap();
    lib.attribute(second, 1, &[a], Some("clapper 2"), Some("stretch"), None)
        .unwrap();
    lib.assess(&judgement(a, first, "pulse", "2")).unwrap();
    lib.assess(&judgement(a, second, "pulse", "4")).unwrap();
    lib.assess(&judgement(a, second, "ensemble", "3")).unwrap();

    let grid = lib.class_grid(class).unwrap();
    let keys: Vec<&str> = grid.criteria.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        keys,
        [
            "pulse",
            "accuracy",
            "ensemble",
            "expression",
            "listening",
            "creating"
        ]
    );
    let row = |pupil| grid.rows.iter().find(|r| r.pupil_id == pupil).unwrap();
    assert_eq!(row(a).levels, [Some(4), None, Some(3), None, None, None]);
    assert!(
        row(b).levels.iter().all(Option::is_none),
        "gaps stay visible"
    );

    // Filtered by part, tier or term, "latest" is the latest of what is let through.
    let on_part = |part: &str| GridFilter {
        part: Some(part.into()),
        ..GridFilter::default()
    };
    let grid = lib.class_grid_where(class, &on_part("clapper 1")).unwrap();
    assert_eq!(row_of(&grid, a), [Some(2), None, None, None, None, None]);
    let stretch = GridFilter {
        tier: Some("stretch".into()),
        ..GridFilter::default()
    };
    let grid = lib.class_grid_where(class, &stretch).unwrap();
    assert_eq!(row_of(&grid, a), [Some(4), None, Some(3), None, None, None]);
    let long_ago = bandroom::library::terms::Term::of("2001-10-01").unwrap();
    let then = GridFilter {
        from: Some(long_ago.from()),
        to: Some(long_ago.to()),
        ..GridFilter::default()
    };
    let grid = lib.class_grid_where(class, &then).unwrap();
    assert!(row_of(&grid, a).iter().all(Option::is_none));
    let contexts = lib.judged_contexts(class).unwrap();
    assert_eq!(contexts.parts, ["clapper 1", "clapper 2"]);
    assert_eq!(contexts.tiers, ["core", "stretch"]);
    assert_eq!(contexts.days, [bandroom::library::now()[..10].to_string()]);

    let today = &bandroom::library::now()[..10];
    let picks = lib.evidence_selection(class, today, today).unwrap();
    assert_eq!(picks.len(), 2);
    let pulse = picks.iter().find(|p| p.criterion == "pulse").unwrap();
    assert_eq!((pulse.first_take, pulse.first_level), (first, 2));
    assert_eq!((pulse.last_take, pulse.last_level), (second, 4));
    let ensemble = picks.iter().find(|p| p.criterion == "ensemble").unwrap();
    assert_eq!(ensemble.first_take, ensemble.last_take);
    assert!(
        lib.evidence_selection(class, "2000-01-01", "2000-12-31")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_voice_note_is_kept_with_its_take_and_checked_like_a_track() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root).unwrap();
    let take = make_take(&mut lib, None, 1);
    let folder = lib.take_folder(&lib.take(take).unwrap());
    drop(lib);
    let note = dir.path().join("note.wav");
    write_wav(&note, 24_000, 3);
    let t = take.to_string();
    let output = in_library(
        &root,
        &["voice-note", &t, note.to_str().unwrap(), "--at", "0.05"],
    );
    assert_ok(&output);
    assert_contains(
        &stdout(&output),
        "voice note of 0.5 s added, for the teacher only",
    );
    let kept = folder.join("voice-notes/note-001.wav");
    assert_eq!(std::fs::read(&kept).unwrap(), std::fs::read(&note).unwrap());
    let frame = count(
        &root.join("bandroom.sqlite"),
        "SELECT frame FROM voice_note",
    );
    assert_eq!(frame, 2_400);
    let lib = Library::open(&root).unwrap();
    let notes = lib.voice_notes(take).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].frame, notes[0].file.as_str()),
        (Some(2_400), "voice-notes/note-001.wav")
    );
    assert!(lib.voice_notes(take + 1).unwrap().is_empty());
    drop(lib);
    std::fs::write(&kept, b"RIFF....WAVEjunk").unwrap();
    let check = in_library(&root, &["check"]);
    assert_contains(&stdout(&check), "note-001.wav has changed");
    std::fs::write(dir.path().join("bad.wav"), b"not audio").unwrap();
    let bad = in_library(
        &root,
        &[
            "voice-note",
            &t,
            dir.path().join("bad.wav").to_str().unwrap(),
        ],
    );
    assert_contains(&stderr(&bad), "bad.wav is not a readable WAV file");
}

#[test]
fn sign_in_codes_are_turned_on_printed_and_renewed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    // The school's own export: accents, apostrophes, two pupils of the same name.
    assert_ok(&in_library(&root, &["class", "add", "8B"]));
    let roster = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/class-8B-30-pupils.csv"
    );
    assert_ok(&in_library(
        &root,
        &["pupils", "import", roster, "--class", "8B"],
    ));
    let cards = dir.path().join("cards.html");
    let out = cards.to_str().unwrap();
    let print_cards = || in_library(&root, &["pupils", "cards", "--class", "8B", "--out", out]);
    let before = print_cards();
    assert_contains(&stderr(&before), "does not use sign-in codes");
    assert!(!cards.exists());
    assert_ok(&in_library(
        &root,
        &["pupils", "sign-in", "--class", "8B", "--on"],
    ));
    let output = print_cards();
    assert_ok(&output);
    assert_contains(&stdout(&output), "30 card(s) for 8B");
    let page = std::fs::read_to_string(&cards).unwrap();
    let lib = Library::open(&root).unwrap();
    let class = lib.class_id("8B").unwrap();
    let codes = lib.sign_in_codes(class).unwrap();
    assert_eq!(codes.len(), 30);
    for (_, name, code) in &codes {
        let escaped = name.replace('&', "&amp;");
        assert!(page.contains(&escaped), "{name} is on the sheet");
        assert!(page.contains(code.as_str()));
    }
    // A page already there is never replaced.
    let again = print_cards();
    assert_contains(&stderr(&again), "already exists");
    assert_eq!(std::fs::read_to_string(&cards).unwrap(), page);
    let (id, _, old) = codes[0].clone();
    drop(lib);
    let renewed = in_library(&root, &["pupils", "new-code", &format!("#{id}")]);
    assert_ok(&renewed);
    let lib = Library::open(&root).unwrap();
    assert!(!lib.check_sign_in_code(id, &old).unwrap() || stdout(&renewed).contains(&old));
    let new = lib.sign_in_codes(class).unwrap()[0].2.clone();
    assert!(lib.check_sign_in_code(id, &new).unwrap());
    assert_contains(&stdout(&renewed), &new);
}

#[test]
fn recording_for_an_unknown_class_stops_before_anything_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    drop(Library::open(&root).unwrap());
    let output = in_library(
        &root,
        &[
            "record",
            "--host",
            "virtual",
            "--inputs",
            "1",
            "--seconds",
            "1",
            "--class",
            "9Z",
        ],
    );
    assert!(!output.status.success());
    assert_contains(&stderr(&output), "no class called \"9Z\"");
    let incoming = std::fs::read_dir(root.join("takes/.incoming"))
        .unwrap()
        .count();
    assert_eq!(incoming, 0, "no folder made for a take that never started");
    let lessons = count(&root.join("bandroom.sqlite"), "SELECT count(*) FROM lesson");
    assert_eq!(lessons, 0);
    let bad = in_library(
        &root,
        &[
            "record",
            "--inputs",
            "1",
            "--seconds",
            "1",
            "--purpose",
            "fun",
        ],
    );
    assert_contains(&stderr(&bad), "unknown purpose \"fun\"");
}

#[test]
fn takes_filed_in_the_same_second_get_folders_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let mut lib = Library::open(dir.path()).unwrap();
    let mut folders = std::collections::HashSet::new();
    for _ in 0..60 {
        let lesson = lib.lesson_for_today(None).unwrap();
        let staged = lib.staging_folder().unwrap();
        write_wav(&staged.join("input-1.wav"), 480, 1);
        let take = bandroom::library::NewTake {
            // Every take claims the same second, as loop-recording or an import can.
            recorded_at: "2026-11-24T10:00:00Z".into(),
            arrangement: None,
            tempo_bpm: None,
            repeats: None,
            count_in_bars: 0,
            section: None,
            host: "virtual".into(),
            input_device: "virtual".into(),
            output_device: "virtual".into(),
            sample_rate_hz: 48_000,
            latency_applied_frames: 0,
            frames: 480,
            duration_secs: 0.01,
            xruns: 0,
            gaps: 0,
            complete: true,
            purpose: bandroom::library::Purpose::Rehearsal,
            music_frames: None,
            pass: None,
            tracks: vec![bandroom::library::NewTrack {
                number: 1,
                file: "input-1.wav".into(),
                input_channel: Some(1),
                input_device: None,
                midi_port: None,
                frames: 480,
            }],
        };
        let (_, folder) = lib.register_take(lesson, &staged, &take).unwrap();
        assert!(folder.join("input-1.wav").is_file());
        assert!(folders.insert(folder), "two takes share a folder");
    }
}

#[test]
fn a_room_plan_with_a_keyboard_and_parts_on_instruments_is_remembered_per_class() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut lib, class, pupils) =
        library_with_class(&root, &[("Amira Okafor", "1"), ("Jan Nowak", "2")]);
    let mut keys = bandroom::library::Seat::keyboard("Casio CT-S1 MIDI 1");
    keys.pupils = vec![pupils[1]];
    let mic = bandroom::library::Seat {
        input: 1,
        pupils: vec![pupils[0]],
        part: Some("clapper 1".into()),
        keyboard: None,
        device: None,
        device_name: None,
    };
    // A USB microphone's seat is kept by the device's identity, not its place in a list.
    let mut usb = bandroom::library::Seat::on_device(
        "alsa:hw:CARD=Device_1,DEV=0",
        "USB PnP Sound Device #2",
        1,
    );
    usb.pupils = vec![pupils[1]];
    lib.set_room_plan(class, &[mic.clone(), keys.clone(), usb.clone()])
        .unwrap();
    let instruments: std::collections::BTreeMap<String, String> =
        [("bass".to_string(), "Sound module:in".to_string())].into();
    lib.set_part_instruments(class, &instruments).unwrap();
    drop(lib);

    let lib = Library::open(&root).unwrap();
    assert_eq!(lib.room_plan(class).unwrap(), [mic, keys, usb]);
    assert_eq!(
        lib.room_plan(class).unwrap()[2].title(),
        "USB PnP Sound Device #2, input 1"
    );
    assert_eq!(lib.part_instruments(class).unwrap(), instruments);
    assert_eq!(
        lib.room_plan(class).unwrap()[1].title(),
        "Keyboard Casio CT-S1 MIDI 1"
    );
    assert!(lib.part_instruments(class + 1).unwrap().is_empty());
    drop(lib);
    // A damaged setting is named, not silently dropped.
    let conn = rusqlite::Connection::open(root.join("bandroom.sqlite")).unwrap();
    conn.execute(
        "UPDATE setting SET value = '{' WHERE key = ?1",
        [format!("part_instruments.{class}")],
    )
    .unwrap();
    let lib = Library::open(&root).unwrap();
    let err = lib.part_instruments(class).unwrap_err().to_string();
    assert!(
        err.contains("MIDI instruments") && err.contains("damaged"),
        "{err}"
    );
}

#[test]
fn a_library_written_by_the_first_bandroom_with_one_opens_with_all_its_data() {
    // A real database from commit 7e11f97 (schema version 2): tests/data/library-from-7e11f97.md.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/library-from-7e11f97.sqlite"),
        root.join("bandroom.sqlite"),
    )
    .unwrap();
    assert_eq!(
        count(&root.join("bandroom.sqlite"), "PRAGMA user_version"),
        2
    );
    let lib = Library::open(&root).unwrap();
    assert_eq!(
        count(&root.join("bandroom.sqlite"), "PRAGMA user_version"),
        LATEST_VERSION
    );
    let class = lib.class_id("8B").unwrap();
    let pupils = lib.pupils(Some(class)).unwrap();
    let names: Vec<&str> = pupils.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Amira Okafor", "Jan Nowak"]);
    let amira = &pupils[0];
    assert_eq!(amira.number.as_deref(), Some("5551"));
    assert_eq!(amira.groups, ["PP"]);
    let take = lib.take(1).unwrap();
    assert_eq!(take.tracks.len(), 2);
    assert_eq!(take.tracks[0].performers[0].name, "Amira Okafor");
    assert_eq!(
        take.tracks[0].performers[0].part.as_deref(),
        Some("clapper 1")
    );
    let judged = lib.assessments(amira.id).unwrap();
    assert_eq!(judged.len(), 1);
    assert_eq!(
        (
            judged[0].criterion.as_str(),
            judged[0].level,
            judged[0].comment.as_str()
        ),
        ("pulse", 3, "steady")
    );
    assert_eq!(judged[0].take, Some(1));
    assert_eq!(lib.markers(1).unwrap()[0].1, "lovely entry");
    assert_eq!(lib.reflections(amira.id).unwrap()[0].2, "I kept going");
    // The demo class the old bandroom created is there too, with its ten pupils.
    let demo = lib.class_id(bandroom::library::DEMO_CLASS).unwrap();
    assert_eq!(lib.pupils(Some(demo)).unwrap().len(), 10);
    // Its class keeps the framework version it was judged against, and that version's
    // levels now read in a pupil's words too, from the framework bandroom ships today.
    let levels = lib.criterion_levels(class).unwrap();
    let pulse = levels.iter().find(|c| c.key == "pulse").unwrap();
    assert_eq!(
        pulse.levels[2].pupil_words,
        "I play my rhythm right, rests and off-beats too."
    );
    assert!(
        levels
            .iter()
            .flat_map(|c| &c.levels)
            .all(|l| !l.pupil_words.is_empty())
    );
}

/// A judgement made in error is withdrawn with a reason: it stays in the library (and
/// its audit), but the grid, the history, progress and the evidence selection of every
/// export no longer count it. Undo withdraws the newest judgement of a take.
#[test]
fn a_withdrawn_judgement_counts_nowhere_but_is_kept_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut lib, class, pupils) = library_with_class(&root, &[("Amira Okafor", "1")]);
    let amira = pupils[0];
    let take = make_take(&mut lib, Some(class), 1);
    lib.attribute(take, 1, &pupils, Some("part 2"), None, None)
        .unwrap();
    let right = lib.assess(&judgement(amira, take, "pulse", "2")).unwrap();
    let slip = lib.assess(&judgement(amira, take, "pulse", "4")).unwrap();
    let grid = lib.class_grid(class).unwrap();
    assert_eq!(row_of(&grid, amira)[0], Some(4), "the slip is the latest");

    assert!(
        lib.withdraw_assessment(slip, "  ").is_err(),
        "a reason is needed"
    );
    lib.withdraw_assessment(slip, "clicked 4 for 2").unwrap();
    let again = lib.withdraw_assessment(slip, "twice").unwrap_err();
    assert!(again.to_string().contains("already withdrawn"), "{again}");
    assert!(lib.withdraw_assessment(9_999, "no such").is_err());

    let grid = lib.class_grid(class).unwrap();
    assert_eq!(
        row_of(&grid, amira)[0],
        Some(2),
        "the grid shows the right one"
    );
    let history = lib.assessments(amira).unwrap();
    assert_eq!(history.iter().map(|a| a.id).collect::<Vec<_>>(), [right]);
    let progress = lib.progress(amira).unwrap();
    let pulse = progress
        .strands
        .iter()
        .find(|s| s.criterion == "pulse")
        .unwrap();
    assert_eq!(pulse.latest.as_ref().map(|a| a.level), Some(2));
    let picks = lib
        .evidence_selection(class, "2000-01-01", "2999-12-31")
        .unwrap();
    assert!(picks.iter().all(|p| p.last_level == 2), "{picks:?}");

    // An export made now holds only what counts.
    let out = dir.path().join("bundle");
    assert_ok(&in_library(
        &root,
        &["export", "--class", "8B", "--out", out.to_str().unwrap()],
    ));
    let csv = std::fs::read_to_string(out.join("assessments.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        2,
        "the header and the right judgement: {csv}"
    );
    assert!(!csv.contains(",4,"), "{csv}");

    // Undo takes back the newest judgement still counted on the take.
    assert_eq!(lib.undo_last_assessment(take).unwrap(), Some(right));
    assert!(lib.assessments(amira).unwrap().is_empty());
    assert_eq!(lib.undo_last_assessment(take).unwrap(), None);
    drop(lib);

    // Both judgements and both withdrawals are still in the file.
    let db = root.join("bandroom.sqlite");
    assert_eq!(count(&db, "SELECT count(*) FROM assessment"), 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM withdrawal WHERE reason = 'clicked 4 for 2'"
        ),
        1
    );
}

/// `bandroom pupils import` reads the rostering bundles of schools' Microsoft and Google
/// set-ups, zipped or as folders; a bundle of several classes is chosen from by title or
/// code, and importing it again adds nobody twice.
#[test]
fn pupils_import_reads_one_roster_and_school_data_sync_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rosters");
    assert_ok(&in_library(&root, &["class", "add", "8B"]));
    let zip = data.join("oneroster-8B.zip");
    let zip = zip.to_str().unwrap();
    let unsure = in_library(&root, &["pupils", "import", zip, "--class", "8B"]);
    assert!(!unsure.status.success());
    let message = stderr(&unsure);
    assert!(
        message.contains("holding 2 classes (8B Music, 9C Music)")
            && message.contains("--from-class"),
        "{message}"
    );
    let db = root.join("bandroom.sqlite");
    // The demo class's pupils are there from the start.
    let before = count(&db, "SELECT count(*) FROM pupil");
    assert_eq!(before, 10);
    let in_8b = "SELECT count(*) FROM class_member m JOIN class c ON c.id = m.class_id \
                 WHERE c.name = '8B'";
    assert_eq!(count(&db, in_8b), 0, "nothing imported");
    for _ in 0..2 {
        let done = in_library(
            &root,
            &[
                "pupils",
                "import",
                zip,
                "--class",
                "8B",
                "--from-class",
                "8B/Mu1",
            ],
        );
        assert_ok(&done);
        assert_contains(
            &stderr(&done),
            "line 10 of enrollments.csv enrols \"u-9999\"",
        );
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM pupil"),
        before + 6,
        "six students, once each; no teacher or parent"
    );
    assert_eq!(count(&db, in_8b), 6);
    assert_ok(&in_library(&root, &["class", "add", "8B Music"]));
    let sds = data.join("sds-8B");
    let done = in_library(
        &root,
        &[
            "pupils",
            "import",
            sds.to_str().unwrap(),
            "--class",
            "8B Music",
        ],
    );
    assert_ok(&done);
    // The same admission numbers: the pupils join the second class, nobody is added.
    assert_contains(
        &stdout(&done),
        "0 pupil(s) added, 4 already in the library joined",
    );
}

/// Pupil mode is kept per PC: one PC left in it does not put another in it, and ending
/// it on one leaves the other as it is.
#[test]
fn pupil_mode_is_kept_for_each_pc_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (mut lib, class, _) = library_with_class(&dir.path().join("lib"), &[("Ada", "Brook")]);
    assert_eq!(lib.pupil_mode("music-1").unwrap(), None);
    lib.set_pupil_mode("music-1", Some(class)).unwrap();
    lib.set_pupil_mode("music-2", Some(class)).unwrap();
    assert_eq!(lib.pupil_mode("music-1").unwrap(), Some(class));
    assert_eq!(lib.pupil_mode("teacher-desk").unwrap(), None);
    lib.set_pupil_mode("music-1", None).unwrap();
    assert_eq!(lib.pupil_mode("music-1").unwrap(), None);
    assert_eq!(lib.pupil_mode("music-2").unwrap(), Some(class));
}
