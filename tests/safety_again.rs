//! Regression tests for the second data-protection audit ("safe again after growing"):
//! one test (or more) per finding, named after its number, each failing on the code
//! the audit found.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bandroom::library::{Library, roster::parse_roster};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

fn class_of(lib: &mut Library, class: &str, names: &[&str]) -> (i64, Vec<i64>) {
    let class_id = lib.add_class(class, None, None).unwrap();
    let csv = format!("name\n{}\n", names.join("\n"));
    let (rows, problems) = parse_roster(csv.as_bytes(), "roster").unwrap();
    lib.import_roster(class_id, &rows, problems, true).unwrap();
    let pupils = lib.pupils(Some(class_id)).unwrap();
    let ids = names
        .iter()
        .map(|n| pupils.iter().find(|p| p.name == *n).unwrap().id)
        .collect();
    (class_id, ids)
}

fn take_played_by(lib: &mut Library, class: i64, tracks: &[&[i64]]) -> i64 {
    let take = register_take_of(lib, Some(class), tracks.len(), 4_800);
    for (n, pupils) in tracks.iter().enumerate() {
        if !pupils.is_empty() {
            lib.attribute(take, n as i64 + 1, pupils, Some("clapper 1"), None, None)
                .unwrap();
        }
    }
    take
}

fn out_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every regular file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// A small seeded generator (the tests print the seed, so a failure can be replayed).
struct Seeded(u64);

impl Seeded {
    fn from_env(name: &str) -> Seeded {
        let seed = std::env::var("BANDROOM_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        println!("{name}: seed {seed} (BANDROOM_TEST_SEED={seed} replays it)");
        Seeded(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

// ---------------------------------------------------------------------------------
// 1. An interrupted erasure never deletes a recording the library still names

/// A library where Amira played 120 takes alone and one with Jan; returns its root.
fn library_for_erasure(dir: &Path) -> PathBuf {
    let root = dir.join("lib");
    let mut lib = Library::open(&root).unwrap();
    let (class, pupils) = class_of(&mut lib, "8B", &["Amira Okafor", "Jan Nowak"]);
    for _ in 0..120 {
        take_played_by(&mut lib, class, &[&[pupils[0]], &[pupils[0]]]);
    }
    take_played_by(&mut lib, class, &[&[pupils[0]], &[pupils[1]]]);
    root
}

/// After whatever happened, the library and its files agree: `check --repair` leaves
/// nothing for a person, and a backup succeeds.
fn assert_library_whole(root: &Path, dir: &Path, label: &str) {
    let repaired = in_library(root, &["check", "--repair"]);
    assert!(
        repaired.status.success(),
        "{label}: check --repair left something: {}",
        out_text(&repaired)
    );
    let checked = in_library(root, &["check"]);
    assert!(
        checked.status.success(),
        "{label}: check after repair: {}",
        out_text(&checked)
    );
    let backup = dir.join(format!("backup-{label}"));
    let backed_up = in_library(root, &["backup", backup.to_str().unwrap()]);
    assert!(
        backed_up.status.success(),
        "{label}: backup after an interrupted erasure: {}",
        out_text(&backed_up)
    );
}

#[test]
fn f1_an_erasure_killed_at_any_moment_loses_no_recording_the_library_names() {
    let mut random = Seeded::from_env("f1");
    for round in 0..6 {
        let dir = tempfile::tempdir().unwrap();
        let root = library_for_erasure(dir.path());
        let db = root.join("bandroom.sqlite");
        let tracks_before = count(&db, "SELECT count(*) FROM track");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bandroom"))
            .args(["--library", root.to_str().unwrap()])
            .args(["erase", "--pupil", "Amira Okafor", "--yes"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let delay = random.below(8) + round * 7;
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL: no handler runs
        let _ = child.wait();
        let label = format!("round {round}, killed after {delay} ms");
        let pupil_left = count(
            &db,
            "SELECT count(*) FROM pupil WHERE display_name = 'Amira Okafor'",
        );
        let ledger = count(&db, "SELECT count(*) FROM erasure_pending_file");
        println!("{label}: pupil still there: {pupil_left}, files waiting: {ledger}");
        assert_library_whole(&root, dir.path(), &format!("round{round}"));
        let wavs = files_under(&root.join("takes"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "wav"))
            .count() as i64;
        let tracks_now = count(&db, "SELECT count(*) FROM track");
        assert_eq!(
            wavs, tracks_now,
            "{label}: every WAV on disk is a registered track and every track has its WAV"
        );
        if pupil_left == 1 {
            assert_eq!(tracks_now, tracks_before, "{label}: nothing was erased");
        } else {
            assert_eq!(tracks_now, 1, "{label}: only Jan's track is left");
        }
    }
}

#[test]
fn f1_a_take_an_older_erasure_set_aside_is_put_back_not_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root).unwrap();
    let (class, pupils) = class_of(&mut lib, "8B", &["Amira Okafor", "Jan Nowak"]);
    let take = take_played_by(&mut lib, class, &[&[pupils[0]], &[pupils[0]]]);
    let shared = take_played_by(&mut lib, class, &[&[pupils[0]], &[pupils[1]]]);
    let folder = root.join(lib.take(take).unwrap().folder);
    let shared_folder = root.join(lib.take(shared).unwrap().folder);
    drop(lib);
    // What bandroom before this fix did before its commit, killed right after.
    let erasing = root.join("takes/.erasing");
    std::fs::create_dir_all(erasing.join("track-999-4242")).unwrap();
    std::fs::rename(&folder, erasing.join(format!("take-{take}-4242"))).unwrap();
    let track_one = count(
        &root.join("bandroom.sqlite"),
        &format!("SELECT id FROM track WHERE take_id = {shared} AND number = 1"),
    );
    let aside = erasing.join(format!("track-{track_one}-4242"));
    std::fs::create_dir_all(&aside).unwrap();
    std::fs::rename(shared_folder.join("input-1.wav"), aside.join("input-1.wav")).unwrap();

    let checked = in_library(&root, &["check"]);
    let text = out_text(&checked);
    for line in text.lines().filter(|l| l.contains("-4242")) {
        let named = line.contains(&format!("take-{take}-")) || line.contains("track-");
        let garbage = line.contains("track-999-4242");
        assert!(
            garbage || !line.contains("the erasure can be finished"),
            "check must never offer to delete what the library names:\n{line}"
        );
        assert!(named);
    }
    assert!(
        !text.contains("is missing"),
        "set aside, not missing:\n{text}"
    );
    let repaired = in_library(&root, &["check", "--repair"]);
    assert!(repaired.status.success(), "{}", out_text(&repaired));
    assert!(folder.join("input-1.wav").is_file(), "the take is back");
    assert!(
        shared_folder.join("input-1.wav").is_file(),
        "the track is back"
    );
    assert!(
        !erasing.join("track-999-4242").exists(),
        "what no row names is finished"
    );
    assert_ok(&in_library(&root, &["check"]));
}

#[test]
fn f1_files_an_erasure_committed_to_deleting_go_at_the_next_open_and_are_never_reregistered() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root).unwrap();
    let (class, pupils) = class_of(&mut lib, "8B", &["Amira Okafor"]);
    let take = take_played_by(&mut lib, class, &[&[pupils[0]]]);
    let folder = root.join(lib.take(take).unwrap().folder);
    drop(lib);
    // The erasure's transaction committed (rows gone, the folder in the ledger) and the
    // process was killed before it removed the folder.
    let relative = folder
        .strip_prefix(&root)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let conn = rusqlite::Connection::open(root.join("bandroom.sqlite")).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; DELETE FROM take WHERE id = {take};
         INSERT INTO erasure_pending_file (path) VALUES ('{relative}');"
    ))
    .unwrap();
    drop(conn);
    let checked = in_library(&root, &["check"]);
    let text = out_text(&checked);
    assert!(
        !text.contains("registered again"),
        "an erased take is never offered back:\n{text}"
    );
    assert!(text.contains("interrupted erasure"), "{text}");
    assert!(folder.exists(), "check alone changes nothing");
    drop(Library::open(&root).unwrap());
    assert!(!folder.exists(), "the next open finishes the erasure");
    assert_ok(&in_library(&root, &["check"]));
}

// ---------------------------------------------------------------------------------
// 2. `export --force` removes only what an earlier bundle wrote

/// A library with 8B (two pupils judged on one take), at `dir/lib`.
fn judged_library(dir: &Path) -> PathBuf {
    let root = dir.join("lib");
    let mut lib = Library::open(&root).unwrap();
    let (class, pupils) = class_of(&mut lib, "8B", &["Amira Okafor", "Jan Nowak"]);
    let take = take_played_by(&mut lib, class, &[&[pupils[0]], &[pupils[1]]]);
    for (pupil, level) in [(pupils[0], "3"), (pupils[1], "2")] {
        lib.assess(&bandroom::library::NewAssessment {
            pupil,
            take: Some(take),
            criterion: "pulse".into(),
            level: level.into(),
            comment: String::new(),
            assessor: "teacher".into(),
        })
        .unwrap();
    }
    root
}

fn unzip(zip: &Path, into: &Path) {
    let status = std::process::Command::new("unzip")
        .args(["-q", "-o"])
        .arg(zip)
        .arg("-d")
        .arg(into)
        .status()
        .expect("unzip is installed (make test)");
    assert!(status.success());
}

#[test]
fn f2_force_never_deletes_what_a_teacher_keeps_beside_an_unzipped_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let root = judged_library(dir.path());
    assert_ok(&in_library(
        &root,
        &["export", "--class", "8B", "--out", "8B.zip"],
    ));
    // Every entry of the zip sits in one folder named after it.
    let listing = std::process::Command::new("unzip")
        .args(["-Z1"])
        .arg(dir.path().join("8B.zip"))
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&listing.stdout).into_owned();
    assert!(names.lines().count() > 2, "{names}");
    assert!(
        names.lines().all(|n| n.starts_with("8B/")),
        "a zip entry outside its folder:\n{names}"
    );
    assert_ok(&in_library(&root, &["verify", "8B.zip"]));

    // Downloads with the teacher's own files and an older, flat bundle zip unpacked in.
    let downloads = dir.path().join("Downloads");
    std::fs::create_dir_all(downloads.join("photos")).unwrap();
    std::fs::write(downloads.join("tax-return.pdf"), b"%PDF private").unwrap();
    std::fs::write(downloads.join("photos/beach.jpg"), b"jpeg").unwrap();
    unzip(&dir.path().join("8B.zip"), &dir.path().join("unpacked"));
    for entry in files_under(&dir.path().join("unpacked/8B")) {
        let to = downloads.join(&entry);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(dir.path().join("unpacked/8B").join(&entry), to).unwrap();
    }
    let before = files_under(&downloads);
    let refused = in_library(
        &root,
        &["export", "--class", "8B", "--out", "Downloads", "--force"],
    );
    assert!(!refused.status.success(), "{}", out_text(&refused));
    let text = out_text(&refused);
    assert!(text.contains("tax-return.pdf"), "{text}");
    assert!(text.contains("photos/"), "{text}");
    assert_eq!(files_under(&downloads), before, "Downloads was touched");
    assert_eq!(
        std::fs::read(downloads.join("tax-return.pdf")).unwrap(),
        b"%PDF private"
    );
}

#[test]
fn f2_force_refuses_a_bundle_a_colleague_added_to_and_replaces_a_pristine_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = judged_library(dir.path());
    assert_ok(&in_library(
        &root,
        &["export", "--class", "8B", "--out", "bundle"],
    ));
    assert_ok(&in_library(
        &root,
        &["export", "--class", "8B", "--out", "bundle", "--force"],
    ));
    std::fs::write(dir.path().join("bundle/moderator-notes.txt"), b"notes").unwrap();
    let refused = in_library(
        &root,
        &["export", "--class", "8B", "--out", "bundle", "--force"],
    );
    assert!(!refused.status.success());
    assert!(out_text(&refused).contains("moderator-notes.txt"));
    assert!(dir.path().join("bundle/moderator-notes.txt").is_file());
    assert!(
        dir.path().join("bundle/manifest.json").is_file(),
        "the bundle stays"
    );
}

// ---------------------------------------------------------------------------------
// 3. Sign-in tries are counted per pupil in the library

#[test]
fn f3_wrong_sign_in_tries_survive_a_restart_and_lock_out_only_that_pupil() {
    use bandroom::library::{SIGN_IN_FREE_TRIES, SignInOutcome};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (class, pupils) = {
        let mut lib = Library::open(&root).unwrap();
        let made = class_of(&mut lib, "8B", &["Amira Okafor", "Jan Nowak"]);
        lib.set_sign_in(made.0, true).unwrap();
        made
    };
    let (amira, jan) = (pupils[0], pupils[1]);
    let codes = Library::open(&root).unwrap().sign_in_codes(class).unwrap();
    let jan_code = codes.iter().find(|c| c.0 == jan).unwrap().2.clone();
    let amira_code = codes.iter().find(|c| c.0 == amira).unwrap().2.clone();
    // Jan guesses at Amira's code, signing in as himself between guesses, and the app
    // is restarted (the library opened again) after every guess.
    let mut outcomes = Vec::new();
    for guess in 0..SIGN_IN_FREE_TRIES + 1 {
        let mut lib = Library::open(&root).unwrap();
        let wrong = if amira_code == "ant apple" {
            "bee bell"
        } else {
            "ant apple"
        };
        outcomes.push(lib.attempt_sign_in(amira, wrong).unwrap());
        assert_eq!(
            lib.attempt_sign_in(jan, &jan_code).unwrap(),
            SignInOutcome::Welcome,
            "guess {guess}: Jan signs in as himself whatever was tried at Amira"
        );
    }
    assert!(
        matches!(outcomes.last(), Some(SignInOutcome::Wait { secs }) if *secs >= 30),
        "after {SIGN_IN_FREE_TRIES} wrong tries Amira's code waits: {outcomes:?}"
    );
    let mut lib = Library::open(&root).unwrap();
    // Even the right code waits now: the guesser cannot tell it was right.
    assert!(matches!(
        lib.attempt_sign_in(amira, &amira_code).unwrap(),
        SignInOutcome::Wait { .. }
    ));
    let guessed = lib.guessed_codes(class).unwrap();
    assert_eq!(guessed.len(), 1, "{guessed:?}");
    assert_eq!(guessed[0].pupil, amira);
    assert_eq!(
        guessed[0].wrong_tries, SIGN_IN_FREE_TRIES,
        "tries while waiting are not tried"
    );
    // A new code ends the wait and the warning.
    let fresh = lib.renew_sign_in_code(amira).unwrap();
    assert_eq!(
        lib.attempt_sign_in(amira, &fresh).unwrap(),
        SignInOutcome::Welcome
    );
    assert!(lib.guessed_codes(class).unwrap().is_empty());
}

#[test]
fn f3_no_two_pupils_of_a_class_share_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut lib = Library::open(&dir.path().join("lib")).unwrap();
    for class in 0..60 {
        let names: Vec<String> = (0..30)
            .map(|n| format!("Pupil{class} Number{n:02}"))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let (id, _) = class_of(&mut lib, &format!("class {class}"), &names);
        lib.set_sign_in(id, true).unwrap();
        let codes = lib.sign_in_codes(id).unwrap();
        let unique: std::collections::HashSet<&str> =
            codes.iter().map(|(_, _, c)| c.as_str()).collect();
        assert_eq!(codes.len(), 30);
        assert_eq!(unique.len(), 30, "class {class} has a shared code");
    }
}

// ---------------------------------------------------------------------------------
// 4. A forgotten PIN is reset by the PC's administrator alone

#[cfg(unix)]
#[test]
fn f4_pin_reset_from_an_ordinary_account_is_refused() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root).unwrap();
    lib.set_pin(None, "2468").unwrap();
    drop(lib);
    // The teacher's own account (not root) owns the library, as on a classroom PC.
    let nobody = 65534;
    for path in std::iter::once(dir.path().to_path_buf()).chain(walk_all(dir.path())) {
        std::os::unix::fs::lchown(&path, Some(nobody), Some(nobody)).unwrap();
    }
    let mut reset = std::process::Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(env!("CARGO_BIN_EXE_bandroom"))
        .args(["--library", root.to_str().unwrap(), "pin", "set", "--reset"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runuser (util-linux) runs a command as another account");
    reset.stdin.take().unwrap().write_all(b"1111\n").unwrap();
    let output = reset.wait_with_output().unwrap();
    assert!(!output.status.success(), "{}", out_text(&output));
    assert!(
        out_text(&output).contains("administrator"),
        "{}",
        out_text(&output)
    );
    let mut lib = Library::open(&root).unwrap();
    assert!(lib.check_pin("2468").unwrap(), "the PIN is unchanged");
}

/// Every path under `dir`, folders included.
fn walk_all(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}

// ---------------------------------------------------------------------------------
// 6. The spellings people type, and admission numbers, are erased and pseudonymised

/// Files under `dir` holding any of `needles` (bytes as written, and ASCII case folded).
fn files_holding(dir: &Path, needles: &[&str]) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for file in files_under(dir) {
        let Ok(bytes) = std::fs::read(dir.join(&file)) else {
            continue;
        };
        let lower = bytes.to_ascii_lowercase();
        for needle in needles {
            let n = needle.as_bytes().to_ascii_lowercase();
            if lower.windows(n.len()).any(|w| w == n.as_slice()) {
                found.push((file.clone(), needle.to_string()));
            }
        }
    }
    found
}

/// 8B: Siobhán O'Brien (A1234), İpek Işık (A5678) and Jan Nowak, whose texts name the
/// first two as phones and classmates type them.
fn library_with_hard_names(root: &Path) -> (Library, Vec<i64>, i64) {
    let mut lib = Library::open(root).unwrap();
    let class = lib.add_class("8B", None, None).unwrap();
    let csv = "name,number\nSiobhán O'Brien,A1234\nİpek Işık,A5678\nJan Nowak,A9999\n";
    let (rows, problems) = parse_roster(csv.as_bytes(), "roster").unwrap();
    lib.import_roster(class, &rows, problems, true).unwrap();
    let pupils = lib.pupils(Some(class)).unwrap();
    let id = |n: &str| pupils.iter().find(|p| p.name == n).unwrap().id;
    let p = vec![id("Siobhán O'Brien"), id("İpek Işık"), id("Jan Nowak")];
    let take = take_played_by(&mut lib, class, &[&[p[0]], &[p[1]], &[p[2]]]);
    lib.add_reflection(
        take,
        p[2],
        "I clapped with Siobhan O’Brien (A1234) and IPEK ISIK, a5678",
        &[],
    )
    .unwrap();
    lib.add_marker(take, 10, "o’brien rushes; Ipek steady", "teacher")
        .unwrap();
    lib.assess(&bandroom::library::NewAssessment {
        pupil: p[2],
        take: Some(take),
        criterion: "pulse".into(),
        level: "3".into(),
        comment: "followed SIOBHAN and ipek".into(),
        assessor: "teacher".into(),
    })
    .unwrap();
    (lib, p, take)
}

#[test]
fn f6_erasure_finds_typographic_apostrophes_missing_diacritics_turkish_i_and_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (mut lib, p, _) = library_with_hard_names(&root);
    lib.erase_pupil(p[0]).unwrap();
    lib.erase_pupil(p[1]).unwrap();
    drop(lib);
    let found = files_holding(
        &root,
        &[
            "Siobh",
            "O'Brien",
            "O’Brien",
            "Brien",
            "A1234",
            "A5678",
            "Ipek",
            "İpek",
            "Işık",
            "ISIK",
        ],
    );
    assert!(found.is_empty(), "survives erasure: {found:?}");
}

#[test]
fn f6_a_pseudonymised_bundle_holds_no_spelling_of_a_name_nor_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let (lib, _, _) = library_with_hard_names(&root);
    drop(lib);
    assert_ok(&in_library(
        &root,
        &[
            "export",
            "--class",
            "8B",
            "--pseudonymise",
            "--out",
            "bundle",
        ],
    ));
    let found = files_holding(
        &dir.path().join("bundle"),
        &[
            "Siobh", "Brien", "A1234", "A5678", "A9999", "Ipek", "Işık", "ISIK", "Nowak",
        ],
    );
    assert!(found.is_empty(), "in the pseudonymised bundle: {found:?}");
}

// ---------------------------------------------------------------------------------
// 7. Erasing a pupil whose name is made of common words changes only what names them

#[test]
fn f7_common_words_change_only_in_texts_tied_to_the_erased_pupil() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root).unwrap();
    let (b8, p8) = class_of(&mut lib, "8B", &["Will Long", "Jan Nowak"]);
    let (c9, p9) = class_of(&mut lib, "9C", &["April May", "Ola Berg"]);
    let take8 = take_played_by(&mut lib, b8, &[&[p8[0]], &[p8[1]]]);
    let take9 = take_played_by(&mut lib, c9, &[&[p9[0]], &[p9[1]]]);
    let judge = |lib: &mut Library, pupil, take, comment: &str| {
        lib.assess(&bandroom::library::NewAssessment {
            pupil,
            take: Some(take),
            criterion: "pulse".into(),
            level: "3".into(),
            comment: comment.into(),
            assessor: "teacher".into(),
        })
        .unwrap();
    };
    let elsewhere = "he will need a long rest; he will try again in May";
    judge(&mut lib, p9[1], take9, elsewhere);
    judge(&mut lib, p9[1], take9, "as good as Will Long last year");
    judge(&mut lib, p8[1], take8, "kept time with Will");
    let preview = lib.erasure_text_changes(p8[0]).unwrap();
    let report = lib.erase_pupil(p8[0]).unwrap();
    assert_eq!(
        report.texts_changed, preview,
        "what was shown is what changed"
    );
    let ola: Vec<String> = lib
        .assessments(p9[1])
        .unwrap()
        .into_iter()
        .map(|a| a.comment)
        .collect();
    assert!(ola.contains(&elsewhere.to_string()), "{ola:?}");
    assert!(
        ola.contains(&"as good as [erased pupil] last year".to_string()),
        "the whole name goes everywhere: {ola:?}"
    );
    let jan = &lib.assessments(p8[1]).unwrap()[0].comment;
    assert_eq!(jan, "kept time with [erased pupil]");
    assert_eq!(report.texts_rewritten, 2);

    // `erase --yes` prints the texts it changes.
    let (_, more) = class_of(&mut lib, "10A", &["Rose Green"]);
    let take10 = take_played_by(&mut lib, c9, &[&[more[0]], &[p9[1]]]);
    judge(&mut lib, p9[1], take10, "duet with Rose");
    drop(lib);
    let erased = in_library(&root, &["erase", "--pupil", "Rose Green", "--yes"]);
    assert_ok(&erased);
    assert!(
        out_text(&erased).contains("duet with [erased pupil]"),
        "{}",
        out_text(&erased)
    );
}

// ---------------------------------------------------------------------------------
// 10. Interrupted exports and backups leave no hidden copy of children's data

/// bandroom's own temporary names (`.NAME.bandroom-…`) anywhere under `dir`.
fn scratch_names_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.contains(".bandroom-") {
                found.push(entry.path());
            } else if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            }
        }
    }
    found
}

#[cfg(unix)]
#[test]
fn f10_sigterm_and_sighup_remove_a_half_export_and_a_later_run_clears_a_killed_ones() {
    let mut random = Seeded::from_env("f10");
    let dir = tempfile::tempdir().unwrap();
    let root = library_for_erasure(dir.path());
    {
        // Two judged takes of a minute each, so an export takes a while to write.
        let mut lib = Library::open(&root).unwrap();
        let class = lib.class_id("8B").unwrap();
        let amira = lib.find_pupil("Amira Okafor", Some(class)).unwrap();
        for level in ["2", "3"] {
            let take = register_take_of(&mut lib, Some(class), 2, 48_000 * 60);
            lib.attribute(take, 1, &[amira], Some("clapper 1"), None, None)
                .unwrap();
            lib.assess(&bandroom::library::NewAssessment {
                pupil: amira,
                take: Some(take),
                criterion: "pulse".into(),
                level: level.into(),
                comment: String::new(),
                assessor: "teacher".into(),
            })
            .unwrap();
        }
    }
    let stick = dir.path().join("usb");
    std::fs::create_dir_all(&stick).unwrap();
    for (round, signal) in ["TERM", "HUP", "INT"].into_iter().enumerate() {
        let out = stick.join(format!("8B-{round}.zip"));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_bandroom"))
            .args(["--library", root.to_str().unwrap()])
            .args(["export", "--class", "8B", "--audio", "wav", "--out"])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100 + random.below(300)));
        let _ = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status();
        let finished = child.wait_with_output().unwrap();
        println!("SIG{signal}: exit {:?}", finished.status.code());
        let left = scratch_names_under(&stick);
        assert!(left.is_empty(), "SIG{signal} left {left:?}");
    }
    // A run killed outright (SIGKILL: nothing can clean up) left a half copy: the next
    // export to the same place removes it, as its process is gone.
    let out = stick.join("8B.zip");
    let killed = stick.join(".8B.zip.bandroom-partial-4194999");
    std::fs::create_dir_all(killed.join("audio")).unwrap();
    std::fs::write(killed.join("report.html"), "Amira Okafor").unwrap();
    assert_ok(&in_library(
        &root,
        &["export", "--class", "8B", "--out", out.to_str().unwrap()],
    ));
    assert!(!killed.exists(), "the killed export's copy is gone");
    // Erasure removes a killed backup's copy beside a backup destination it knows.
    let backup = dir.path().join("backups/monday");
    assert_ok(&in_library(&root, &["backup", backup.to_str().unwrap()]));
    let half = dir.path().join("backups/.tuesday.bandroom-partial-4194999");
    std::fs::create_dir_all(&half).unwrap();
    std::fs::copy(root.join("bandroom.sqlite"), half.join("bandroom.sqlite")).unwrap();
    // Tuesday's backup was started (and logged) by the run that was killed.
    let log = root.join("backups.log");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str(&format!(
        "started\t2026-12-08T10:00:00Z\t{}\n",
        dir.path().join("backups/tuesday").display()
    ));
    std::fs::write(&log, text).unwrap();
    let erased = in_library(&root, &["erase", "--pupil", "Amira Okafor", "--yes"]);
    assert_ok(&erased);
    assert!(!half.exists(), "{}", out_text(&erased));
    let said = out_text(&erased);
    assert!(said.contains("unfinished backup"), "{said}");
    assert!(
        said.contains("8B.zip"),
        "exported bundles are listed: {said}"
    );
    assert!(said.contains("monday"), "{said}");
}

#[test]
fn f11_a_bundle_inside_the_library_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = judged_library(dir.path());
    let inside = root.join("exports/8B");
    let refused = in_library(
        &root,
        &["export", "--class", "8B", "--out", inside.to_str().unwrap()],
    );
    assert!(!refused.status.success());
    assert!(
        out_text(&refused).contains("inside the library"),
        "{}",
        out_text(&refused)
    );
    assert!(!inside.exists());
}

// ---------------------------------------------------------------------------------
// 12. Voice notes the app can play, or a refusal with the reason

fn wav_of(path: &Path, rate: u32, channels: u16, frames: usize) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..frames * usize::from(channels) {
        writer
            .write_sample(((i as f32 * 0.05).sin() * 8_000.0) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}

#[test]
fn f12_a_phone_note_is_converted_and_impossible_notes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = judged_library(dir.path());
    let phone = dir.path().join("memo.wav");
    wav_of(&phone, 44_100, 2, 44_100 * 2);
    let added = in_library(
        &root,
        &["voice-note", "1", phone.to_str().unwrap(), "--at", "0"],
    );
    assert_ok(&added);
    let lib = Library::open(&root).unwrap();
    let take = lib.take(1).unwrap();
    let note = &lib.voice_notes(1).unwrap()[0];
    let stored = root.join(&take.folder).join(&note.file);
    let reader = hound::WavReader::open(&stored).unwrap();
    assert_eq!(reader.spec().channels, 1);
    assert_eq!(reader.spec().sample_rate, take.sample_rate_hz);
    let secs = f64::from(reader.duration()) / f64::from(take.sample_rate_hz);
    assert!((secs - 2.0).abs() < 0.05, "{secs} s");
    drop(lib);

    let slow = dir.path().join("one-hertz.wav");
    wav_of(&slow, 1, 1, 10);
    let refused = in_library(&root, &["voice-note", "1", slow.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        out_text(&refused).contains("1 Hz"),
        "{}",
        out_text(&refused)
    );
    let long = dir.path().join("lecture.wav");
    wav_of(&long, 8_000, 1, 8_000 * 400);
    let refused = in_library(&root, &["voice-note", "1", long.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(out_text(&refused).contains("longer than a voice note"));
    assert_eq!(
        Library::open(&root).unwrap().voice_notes(1).unwrap().len(),
        1
    );
}

// ---------------------------------------------------------------------------------
// 13. A link in a take folder: one rule for every reader

#[cfg(unix)]
#[test]
fn f13_a_linked_track_is_reported_by_check_and_followed_by_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let root = judged_library(dir.path());
    let lib = Library::open(&root).unwrap();
    let folder = root.join(lib.take(1).unwrap().folder);
    drop(lib);
    // The same bytes elsewhere, linked in place of the recording: its hash still matches.
    let elsewhere = dir.path().join("elsewhere.wav");
    std::fs::rename(folder.join("input-1.wav"), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, folder.join("input-1.wav")).unwrap();
    let checked = in_library(&root, &["check"]);
    assert!(!checked.status.success());
    assert!(
        out_text(&checked).contains("is a link"),
        "{}",
        out_text(&checked)
    );
    let exported = in_library(&root, &["export", "--class", "8B", "--out", "bundle"]);
    assert_ok(&exported);
    let bundle_files = files_under(&dir.path().join("bundle"));
    let wavs: Vec<_> = bundle_files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "wav"))
        .collect();
    assert_eq!(
        wavs.len(),
        1,
        "the linked track is not followed: {bundle_files:?}"
    );
    let backup = in_library(&root, &["backup", "backup"]);
    assert!(!backup.status.success());
    assert!(
        out_text(&backup).contains("is a link"),
        "{}",
        out_text(&backup)
    );
}

// ---------------------------------------------------------------------------------
// 14. A full library disk still lets the teacher read, check, back up and export

#[test]
fn f14_reading_commands_work_on_a_full_library_disk() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    let _mounted = SmallDisk::mount(&disk, "8m");
    let root = judged_library(&disk);
    // Fill what is left of the disk.
    let mut filler = std::fs::File::create(disk.join("filler")).unwrap();
    let block = vec![0u8; 1 << 16];
    while std::io::Write::write_all(&mut filler, &block).is_ok() {}
    drop(filler);
    let bundle = dir.path().join("bundle");
    for args in [
        vec!["takes", "list"],
        vec!["check"],
        vec!["export", "--class", "8B", "--out", bundle.to_str().unwrap()],
    ] {
        let mut all = vec!["--library", root.to_str().unwrap()];
        all.extend(&args);
        let output = bandroom(&all, dir.path());
        assert!(
            output.status.success(),
            "{args:?} on a full library disk: {}",
            out_text(&output)
        );
    }
    let mut all = vec!["--library", root.to_str().unwrap()];
    all.extend(["backup", "backup"]);
    let output = bandroom(&all, dir.path());
    assert!(output.status.success(), "backup: {}", out_text(&output));
}

// ---------------------------------------------------------------------------------
// 15. `pupils cards --out` never follows a dangling link

#[cfg(unix)]
#[test]
fn f15_card_sheets_are_created_new_and_never_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root).unwrap();
    let (class, _) = class_of(&mut lib, "8B", &["Amira Okafor", "Jan Nowak"]);
    lib.set_sign_in(class, true).unwrap();
    drop(lib);
    let elsewhere = dir.path().join("shared/everyone-can-read.html");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    let link = dir.path().join("cards.html");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    let written = in_library(
        &root,
        &[
            "pupils",
            "cards",
            "--class",
            "8B",
            "--out",
            link.to_str().unwrap(),
        ],
    );
    assert!(!written.status.success(), "{}", out_text(&written));
    assert!(
        !elsewhere.exists(),
        "the names and codes went through the link"
    );
    let fresh = dir.path().join("fresh.html");
    assert_ok(&in_library(
        &root,
        &[
            "pupils",
            "cards",
            "--class",
            "8B",
            "--out",
            fresh.to_str().unwrap(),
        ],
    ));
    assert!(std::fs::read_to_string(&fresh).unwrap().contains("Amira"));
}

// ---------------------------------------------------------------------------------
// 19. A render never writes over a file silently

#[test]
fn f19_render_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.wav"), b"precious").unwrap();
    std::fs::write(dir.path().join("keep.csv"), b"precious").unwrap();
    let refused = bandroom(
        &[
            "render",
            "clapping-music",
            "--repeats",
            "1",
            "--out",
            "keep.wav",
        ],
        dir.path(),
    );
    assert!(!refused.status.success());
    assert!(
        out_text(&refused).contains("--force"),
        "{}",
        out_text(&refused)
    );
    let refused = bandroom(
        &[
            "render",
            "clapping-music",
            "--repeats",
            "1",
            "--out",
            "new.wav",
            "--events",
            "keep.csv",
        ],
        dir.path(),
    );
    assert!(!refused.status.success());
    assert_eq!(
        std::fs::read(dir.path().join("keep.wav")).unwrap(),
        b"precious"
    );
    assert_eq!(
        std::fs::read(dir.path().join("keep.csv")).unwrap(),
        b"precious"
    );
    assert!(
        !dir.path().join("new.wav").exists(),
        "nothing written when refused"
    );
    assert_ok(&bandroom(
        &[
            "render",
            "clapping-music",
            "--repeats",
            "1",
            "--out",
            "keep.wav",
            "--force",
        ],
        dir.path(),
    ));
    assert_ne!(
        std::fs::read(dir.path().join("keep.wav")).unwrap(),
        b"precious"
    );
}

// ---------------------------------------------------------------------------------
// 18. A MIDI file of 65,535 tracks and a 200 MB moderation sheet are refused at once

#[test]
fn f18_a_file_of_65535_tracks_is_refused_before_it_is_played() {
    use midly::{Format, Header, Smf, Timing, TrackEvent, TrackEventKind};
    let dir = tempfile::tempdir().unwrap();
    let mut smf = Smf::new(Header::new(Format::Parallel, Timing::Metrical(480.into())));
    for n in 0..65_535u32 {
        smf.tracks.push(vec![
            TrackEvent {
                delta: 0.into(),
                kind: TrackEventKind::Midi {
                    channel: 0.into(),
                    message: midly::MidiMessage::NoteOn {
                        key: ((n % 60) as u8 + 30).into(),
                        vel: 64.into(),
                    },
                },
            },
            TrackEvent {
                delta: 480.into(),
                kind: TrackEventKind::Midi {
                    channel: 0.into(),
                    message: midly::MidiMessage::NoteOff {
                        key: ((n % 60) as u8 + 30).into(),
                        vel: 0.into(),
                    },
                },
            },
            TrackEvent {
                delta: 0.into(),
                kind: TrackEventKind::Meta(midly::MetaMessage::EndOfTrack),
            },
        ]);
    }
    let path = dir.path().join("many.mid");
    smf.save(&path).unwrap();
    let started = std::time::Instant::now();
    let output = bandroom(&["render", "many.mid", "--out", "many.wav"], dir.path());
    assert!(!output.status.success());
    assert!(
        out_text(&output).contains("65535 tracks"),
        "{}",
        out_text(&output)
    );
    // A hang guard, not a benchmark: the audit saw over five minutes.
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn f18_a_huge_moderation_sheet_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let root = judged_library(dir.path());
    let sheet = dir.path().join("sheet.csv");
    let file = std::fs::File::create(&sheet).unwrap();
    // 200 MB that take no disk: refused on its size, never read.
    file.set_len(200 << 20).unwrap();
    let output = in_library(
        &root,
        &[
            "moderation",
            "import",
            sheet.to_str().unwrap(),
            "--moderator",
            "J. Patel",
        ],
    );
    assert!(!output.status.success());
    assert!(
        out_text(&output).contains("larger than any judgement sheet"),
        "{}",
        out_text(&output)
    );
}

// ---------------------------------------------------------------------------------
// 17. No monitoring figures for a selection of pupils that is part of a class

#[test]
fn f17_a_bundle_of_part_of_a_class_has_no_monitoring_table() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = Library::open(&root).unwrap();
    let class = lib.add_class("8B", None, None).unwrap();
    let mut csv = String::from("name,pupil premium\n");
    for i in 0..7 {
        csv.push_str(&format!("Pp Pupil{i},Y\n"));
    }
    for i in 0..7 {
        csv.push_str(&format!("Other Pupil{i},N\n"));
    }
    let (rows, problems) = parse_roster(csv.as_bytes(), "roster").unwrap();
    lib.import_roster(class, &rows, problems, true).unwrap();
    for pupil in lib.pupils(Some(class)).unwrap() {
        let take = take_played_by(&mut lib, class, &[&[pupil.id]]);
        let level = if pupil.name.starts_with("Pp") {
            "4"
        } else {
            "2"
        };
        lib.assess(&bandroom::library::NewAssessment {
            pupil: pupil.id,
            take: Some(take),
            criterion: "pulse".into(),
            level: level.into(),
            comment: String::new(),
            assessor: "teacher".into(),
        })
        .unwrap();
    }
    drop(lib);
    assert_ok(&in_library(
        &root,
        &["export", "--class", "8B", "--out", "whole"],
    ));
    let whole = std::fs::read_to_string(dir.path().join("whole/report.html")).unwrap();
    assert!(
        whole.contains("Monitoring groups"),
        "a whole class is monitored"
    );
    let mut args = vec!["export", "--class", "8B", "--out", "part"];
    let names: Vec<String> = (0..7)
        .map(|i| format!("Pp Pupil{i}"))
        .chain((0..6).map(|i| format!("Other Pupil{i}")))
        .collect();
    for name in &names {
        args.extend(["--pupil", name.as_str()]);
    }
    assert_ok(&in_library(&root, &args));
    let part = std::fs::read_to_string(dir.path().join("part/report.html")).unwrap();
    assert!(
        !part.contains("Monitoring groups"),
        "a class less one pupil is monitored: the two bundles give that pupil away"
    );
}
