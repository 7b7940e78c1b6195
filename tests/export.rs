//! Evidence bundles: what a progress export holds, that `verify` catches missing,
//! altered and extra files, and that a pseudonymised bundle names no pupil anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::path::Path;

/// Every file under `root`, relative, `/`-separated.
fn files_in(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path)
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push(rel)
            }
        }
    }
    files.sort();
    files
}

/// The one file of the bundle in `audio/FOLDER/` whose name ends with `suffix` (file
/// names start with the take's date).
fn one_file(root: &Path, folder: &str, suffix: &str) -> String {
    let found: Vec<String> = files_in(root)
        .into_iter()
        .filter(|f| f.starts_with(&format!("audio/{folder}/")) && f.ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "{suffix}: {found:?}");
    found[0].clone()
}

/// A class with two pupils, two analysed takes and judgements from both.
fn class_with_evidence(root: &Path) {
    assert_ok(&in_library(root, &["class", "add", "8B"]));
    let roster = root.parent().unwrap().join("r.csv");
    std::fs::write(
        &roster,
        "name,number\nZebedee Quixley,5551\nOttoline Marsh,5552\n",
    )
    .unwrap();
    assert_ok(&in_library(
        root,
        &[
            "pupils",
            "import",
            roster.to_str().unwrap(),
            "--class",
            "8B",
        ],
    ));
    for _ in 0..2 {
        assert_ok(&in_library(
            root,
            &[
                "record",
                "--host",
                "virtual",
                "--inputs",
                "1,2",
                "--seconds",
                "0.5",
                "--virtual-speed",
                "10",
                "--class",
                "8B",
                "--purpose",
                "assessment",
                "--plays",
                "1:Zebedee Quixley",
                "--plays",
                "2:Ottoline Marsh",
            ],
        ));
    }
    for (take, level) in [("1", "2"), ("2", "4")] {
        assert_ok(&in_library(
            root,
            &[
                "assess",
                take,
                "--pupil",
                "5551",
                "--criterion",
                "pulse",
                "--level",
                level,
                "--comment",
                "Zebedee Quixley kept the pulse",
            ],
        ));
        assert_ok(&in_library(
            root,
            &[
                "assess",
                take,
                "--pupil",
                "5552",
                "--criterion",
                "ensemble",
                "--level",
                level,
            ],
        ));
    }
}

#[test]
fn a_progress_bundle_holds_the_evidence_and_verify_catches_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    class_with_evidence(&root);
    let bundle = dir.path().join("bundle");
    let output = in_library(
        &root,
        &["export", "--class", "8B", "--out", bundle.to_str().unwrap()],
    );
    assert_ok(&output);
    assert_contains(
        &String::from_utf8_lossy(&output.stdout),
        "2 pupil(s), 4 judgement(s), 6 recording(s)",
    );
    for file in ["report.html", "assessments.csv", "manifest.json"] {
        assert!(bundle.join(file).is_file(), "{file}");
    }
    let first_name = one_file(&bundle, "Zebedee-Quixley", "take-1-track-1.wav");
    let first = bundle.join(&first_name);
    one_file(&bundle, "Zebedee-Quixley", "take-2-track-1.wav");
    assert!(
        !files_in(&bundle)
            .iter()
            .any(|f| f.contains("Zebedee") && f.ends_with("track-2.wav")),
        "only the pupil's own track"
    );
    let mix = one_file(&bundle, "mixes", "take-1-mix.wav");
    assert!(mix.starts_with("audio/mixes/"), "{mix}");
    let html = std::fs::read_to_string(bundle.join("report.html")).unwrap();
    assert_contains(&html, "<svg class=\"radar\"");
    assert_contains(&html, &format!("src=\"{first_name}\""));
    assert_contains(&html, &format!("src=\"{mix}\""));
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("<script"),
        "self-contained"
    );
    let csv = std::fs::read_to_string(bundle.join("assessments.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert_contains(&csv, "Zebedee Quixley,8B,pulse,4,");
    assert_ok(&in_library(&root, &["verify", bundle.to_str().unwrap()]));

    let mut bytes = std::fs::read(&first).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&first, bytes).unwrap();
    std::fs::write(bundle.join("notes.txt"), "added later").unwrap();
    std::fs::remove_file(bundle.join("assessments.csv")).unwrap();
    let checked = in_library(&root, &["verify", bundle.to_str().unwrap()]);
    assert!(!checked.status.success());
    let said = String::from_utf8_lossy(&checked.stdout).into_owned();
    assert_contains(&said, &format!("altered: {first_name}"));
    assert_contains(&said, "extra: notes.txt");
    assert_contains(&said, "missing: assessments.csv");

    let again = in_library(
        &root,
        &["export", "--class", "8B", "--out", bundle.to_str().unwrap()],
    );
    assert_contains(&stderr(&again), "already exists");
    assert_contains(&stderr(&again), "--force");
    assert!(!dir.path().join("bundle.partial").exists());
    let audit = count(
        &root.join("bandroom.sqlite"),
        "SELECT count(*) FROM audit WHERE action = 'export'",
    );
    assert_eq!(audit, 1, "every export is in the audit log");
}

#[test]
fn a_pseudonymised_bundle_names_no_pupil_and_keeps_their_codes_stable() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    class_with_evidence(&root);
    let mut codes = Vec::new();
    for name in ["p1", "p2"] {
        let bundle = dir.path().join(name);
        assert_ok(&in_library(
            &root,
            &[
                "export",
                "--class",
                "8B",
                "--pseudonymise",
                "--out",
                bundle.to_str().unwrap(),
            ],
        ));
        let mut files = Vec::new();
        let mut stack = vec![bundle.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path)
                } else {
                    files.push(path)
                }
            }
        }
        for file in &files {
            let text = file.to_string_lossy();
            let bytes = std::fs::read(file).unwrap();
            for needle in ["Zebedee", "Quixley", "Ottoline", "Marsh"] {
                assert!(!text.contains(needle), "{text}");
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{needle} in {text}"
                );
            }
        }
        let csv = std::fs::read_to_string(bundle.join("assessments.csv")).unwrap();
        let code = csv
            .lines()
            .find(|l| l.contains(",pulse,"))
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_string();
        assert!(code.starts_with("P-") && code.len() == 8, "{code}");
        assert_contains(&csv, &format!("{code} kept the pulse"));
        codes.push(code);
        assert_ok(&in_library(&root, &["verify", bundle.to_str().unwrap()]));
    }
    assert_eq!(
        codes[0], codes[1],
        "the same pupil has the same code in every export"
    );
}

#[test]
fn monitoring_groups_appear_only_as_aggregates_with_small_groups_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    assert_ok(&in_library(&root, &["class", "add", "9C"]));
    let mut roster = String::from("name,number,groups\n");
    for i in 0..14 {
        let group = match i {
            0..=5 => "PP",
            6..=8 => "SEN",
            _ => "",
        };
        roster.push_str(&format!("Pupil {i},{i},{group}\n"));
    }
    let path = dir.path().join("9c.csv");
    std::fs::write(&path, roster).unwrap();
    assert_ok(&in_library(
        &root,
        &["pupils", "import", path.to_str().unwrap(), "--class", "9C"],
    ));
    let bundle = dir.path().join("b");
    let empty = in_library(
        &root,
        &["export", "--class", "9C", "--out", bundle.to_str().unwrap()],
    );
    assert_contains(&stderr(&empty), "nothing to export");
    assert!(!bundle.exists() && !dir.path().join("b.partial").exists());
    let everyone: Vec<String> = (0..14).map(|i| format!("Pupil {i}")).collect();
    assert_ok(&in_library(
        &root,
        &[
            "record",
            "--host",
            "virtual",
            "--inputs",
            "1",
            "--seconds",
            "0.3",
            "--virtual-speed",
            "10",
            "--class",
            "9C",
            "--plays",
            &format!("1:{}", everyone.join(",")),
        ],
    ));
    for i in 0..14 {
        assert_ok(&in_library(
            &root,
            &[
                "assess",
                "1",
                "--pupil",
                &i.to_string(),
                "--criterion",
                "pulse",
                "--level",
                "3",
            ],
        ));
    }
    assert_ok(&in_library(
        &root,
        &["export", "--class", "9C", "--out", bundle.to_str().unwrap()],
    ));
    let html = std::fs::read_to_string(bundle.join("report.html")).unwrap();
    assert_contains(&html, "<h2>Monitoring groups</h2>");
    assert_contains(&html, "<tr><td>PP</td><td>6</td>");
    assert_contains(&html, "<tr><td>SEN</td><td>fewer than 5</td>");
}

#[test]
fn a_zipped_bundle_verifies_entry_by_entry_and_reports_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    class_with_evidence(&root);
    let zip_path = dir.path().join("8B.zip");
    assert_ok(&in_library(
        &root,
        &[
            "export",
            "--class",
            "8B",
            "--out",
            zip_path.to_str().unwrap(),
        ],
    ));
    assert!(zip_path.is_file());
    assert!(
        !dir.path().join("8B.folder").exists(),
        "the packing folder is removed"
    );
    let verified = in_library(&root, &["verify", zip_path.to_str().unwrap()]);
    assert_ok(&verified);
    assert_contains(
        &String::from_utf8_lossy(&verified.stdout),
        "all 8 files match the manifest",
    );
    // Info-ZIP's own test of every entry agrees (`make test` installs unzip).
    let checked = std::process::Command::new("unzip")
        .arg("-t")
        .arg(&zip_path)
        .output()
        .expect("unzip is installed (make test)");
    let report = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{report}");
    assert_contains(&report, "No errors detected");
    let entries: Vec<&str> = report.lines().filter(|l| l.contains("testing:")).collect();
    assert_eq!(entries.len(), 9, "8 files and the manifest: {report}");
    assert!(
        entries.iter().all(|l| l.trim_end().ends_with("OK")),
        "{report}"
    );
    // Flip a byte inside a stored WAV entry: the zip still opens, the hash differs.
    let mut bytes = std::fs::read(&zip_path).unwrap();
    let at = bytes.windows(4).position(|w| w == b"data").unwrap() + 200;
    bytes[at] ^= 0x55;
    std::fs::write(&zip_path, bytes).unwrap();
    let tampered = in_library(&root, &["verify", zip_path.to_str().unwrap()]);
    assert!(!tampered.status.success());
    assert_contains(
        &String::from_utf8_lossy(&tampered.stdout),
        "altered: audio/",
    );
    std::fs::write(dir.path().join("not.zip"), b"not a zip").unwrap();
    let junk = in_library(
        &root,
        &["verify", dir.path().join("not.zip").to_str().unwrap()],
    );
    assert_contains(&stderr(&junk), "not a readable zip");
}

#[test]
fn a_moderators_judgements_are_compared_per_criterion() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ours = "pupil,class,criterion,level,date,assessor,take,comment\n\
                P-AAAAAA,8B,pulse,3,2026-11-23,t,1,\nP-BBBBBB,8B,pulse,2,2026-11-23,t,1,\n\
                P-CCCCCC,8B,pulse,4,2026-11-23,t,2,\nP-AAAAAA,8B,ensemble,2,2026-11-23,t,1,\n";
    let theirs = "pupil,criterion,take,level\nP-AAAAAA,pulse,1,3\nP-BBBBBB,pulse,1,3\n\
                  P-CCCCCC,pulse,2,2\nP-AAAAAA,ensemble,1,2\n";
    std::fs::write(d.join("ours.csv"), ours).unwrap();
    std::fs::write(d.join("theirs.csv"), theirs).unwrap();
    let output = bandroom(
        &["moderation", "compare", "ours.csv", "theirs.csv", "--json"],
        d,
    );
    assert_ok(&output);
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let pulse = result
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["criterion"] == "pulse")
        .unwrap();
    assert_eq!(pulse["pairs"], 3);
    assert!((pulse["exact"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert!((pulse["adjacent"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(pulse["disagreements"][0][0], "P-CCCCCC");
    let text = bandroom(&["moderation", "compare", "ours.csv", "theirs.csv"], d);
    assert_contains(
        &String::from_utf8_lossy(&text.stdout),
        "P-CCCCCC, take 2: level 4 here, 2 from the moderator",
    );
    std::fs::write(
        d.join("bad.csv"),
        "pupil,criterion,take,level\nP-A,pulse,1,three\n",
    )
    .unwrap();
    let bad = bandroom(&["moderation", "compare", "ours.csv", "bad.csv"], d);
    assert_contains(
        &stderr(&bad),
        "bad.csv: line 2: level \"three\" is not a number",
    );
}

#[test]
fn a_lesson_bundle_leaves_out_pupils_who_are_not_to_be_shared() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    class_with_evidence(&root);
    assert_ok(&in_library(
        &root,
        &["pupils", "sharing", "Ottoline Marsh", "--do-not-share"],
    ));
    let bundle = dir.path().join("lesson");
    let output = in_library(
        &root,
        &[
            "export",
            "--class",
            "8B",
            "--kind",
            "lesson",
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    assert_ok(&output);
    let files = files_in(&bundle);
    let tracks: Vec<&String> = files.iter().filter(|f| f.ends_with(".wav")).collect();
    assert_eq!(
        tracks.len(),
        2,
        "Zebedee's track of each take only: {files:?}"
    );
    assert!(
        tracks.iter().all(|f| f.ends_with("track-1.wav")),
        "{tracks:?}"
    );
    let everything: String = files
        .iter()
        .map(|f| std::fs::read_to_string(bundle.join(f)).unwrap_or_default())
        .collect();
    assert!(
        !everything.contains("Ottoline"),
        "a withheld pupil is not named"
    );
    assert_contains(&everything, "Zebedee Quixley");
    assert_contains(
        &everything,
        "2 track(s) of pupils who are not to be shared left out",
    );
    let takes = std::fs::read_to_string(bundle.join("takes.csv")).unwrap();
    assert_eq!(takes.lines().count(), 3, "{takes}");
    assert_ok(&in_library(&root, &["verify", bundle.to_str().unwrap()]));
}

#[test]
fn a_moderation_pack_goes_out_blind_and_comes_back_as_agreement() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    class_with_evidence(&root);
    let pack = dir.path().join("pack");
    assert_ok(&in_library(
        &root,
        &[
            "export",
            "--class",
            "8B",
            "--kind",
            "moderation",
            "--out",
            pack.to_str().unwrap(),
        ],
    ));
    assert!(!pack.join("assessments.csv").exists());
    let html = std::fs::read_to_string(pack.join("report.html")).unwrap();
    assert!(!html.contains("kept the pulse") && !html.contains("Zebedee"));
    assert!(
        !html.contains("class=\"radar\""),
        "no judgements, so no radar"
    );
    assert_contains(&html, "Criteria and levels");
    let sheet = std::fs::read_to_string(pack.join("judgement-sheet.csv")).unwrap();
    let lines: Vec<&str> = sheet.lines().collect();
    assert_eq!(lines[0], "pupil,criterion,take,level,comment");
    assert_eq!(
        lines.len(),
        3,
        "the latest evidence take per pupil and criterion: {sheet}"
    );
    // The moderator agrees on pulse (4) and judges ensemble two levels lower (2 not 4).
    let filled: String = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                format!("{line}\n")
            } else if line.contains(",pulse,") {
                format!("{},4,secure\n", line.trim_end_matches(','))
            } else {
                format!("{},2,\n", line.trim_end_matches(','))
            }
        })
        .collect();
    let returned = dir.path().join("returned.csv");
    std::fs::write(&returned, filled).unwrap();
    let output = in_library(
        &root,
        &[
            "moderation",
            "import",
            returned.to_str().unwrap(),
            "--moderator",
            "A. Moderator",
            "--json",
        ],
    );
    assert_ok(&output);
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let by = |key: &str| {
        result
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["criterion"] == key)
            .unwrap()
            .clone()
    };
    assert_eq!(by("pulse")["exact"], 1.0);
    assert_eq!(by("ensemble")["exact"], 0.0);
    assert_eq!(by("ensemble")["disagreements"][0][2], 4);
    assert_eq!(by("ensemble")["disagreements"][0][3], 2);
    let again = in_library(
        &root,
        &[
            "moderation",
            "import",
            returned.to_str().unwrap(),
            "--moderator",
            "A. Moderator",
        ],
    );
    assert_contains(&stderr(&again), "already imported");
    // The moderator's levels never become the pupil's progress.
    let progress = in_library(&root, &["progress", "--pupil", "5552", "--json"]);
    assert_ok(&progress);
    let progress: serde_json::Value = serde_json::from_slice(&progress.stdout).unwrap();
    let ensemble = progress["strands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["criterion"] == "ensemble")
        .unwrap();
    assert_eq!(ensemble["latest"]["level"], 4, "{ensemble}");
}

#[test]
fn flac_recordings_decode_to_the_recorded_samples() {
    // A recording with content (a half-scale tone), so the round trip is tested on
    // values that use all 24 bits, not near-silence.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    {
        let mut lib = bandroom::library::Library::open(&root).unwrap();
        let class = lib.add_class("8B", None, None).unwrap();
        let (rows, problems) =
            bandroom::library::roster::parse_roster(b"name\nZebedee Quixley\n", "r").unwrap();
        lib.import_roster(class, &rows, problems, true).unwrap();
        let pupil = lib.find_pupil("Zebedee Quixley", Some(class)).unwrap();
        for level in ["2", "3"] {
            let take = register_take_of(&mut lib, Some(class), 1, 96_000);
            lib.attribute(take, 1, &[pupil], None, None, None).unwrap();
            lib.assess(&bandroom::library::NewAssessment {
                pupil,
                take: Some(take),
                criterion: "pulse".into(),
                level: level.into(),
                comment: String::new(),
                assessor: "Ms Test".into(),
            })
            .unwrap();
        }
    }
    let (wav, flac) = (dir.path().join("w"), dir.path().join("f"));
    for (out, format) in [(&wav, "wav"), (&flac, "flac")] {
        assert_ok(&in_library(
            &root,
            &[
                "export",
                "--class",
                "8B",
                "--audio",
                format,
                "--out",
                out.to_str().unwrap(),
            ],
        ));
    }
    let track = one_file(&wav, "Zebedee-Quixley", "take-2-track-1.wav");
    let encoded = flac.join(track.replace(".wav", ".flac"));
    let mut reader = hound::WavReader::open(wav.join(&track)).unwrap();
    let original: Vec<f32> = reader.samples::<f32>().map(Result::unwrap).collect();
    assert_eq!(reader.spec().channels, 1);
    let rate = reader.spec().sample_rate;
    let decoded = bandroom::audio::stems::load_stem(&encoded, rate, 3600.0)
        .unwrap()
        .samples;
    assert_eq!(decoded.len(), original.len());
    let loudest = original.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(loudest > 0.4, "the recording has content: peak {loudest}");
    let worst = original
        .iter()
        .zip(decoded.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "24-bit FLAC differs by {worst}");
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    assert!(size(&encoded) < size(&wav.join(&track)));
    // The reference decoder checks every frame's CRC and the stream's MD5 (`make test`
    // installs flac), and decodes it to the same samples.
    let tested = std::process::Command::new("flac")
        .args(["-t", "-s"])
        .arg(&encoded)
        .output()
        .expect("flac is installed (make test)");
    assert!(
        tested.status.success(),
        "flac -t: {}",
        String::from_utf8_lossy(&tested.stderr)
    );
    let decoded_by_flac = dir.path().join("by-flac.wav");
    let decoding = std::process::Command::new("flac")
        .args(["-d", "-s", "-o"])
        .arg(&decoded_by_flac)
        .arg(&encoded)
        .status()
        .unwrap();
    assert!(decoding.success());
    let mut reader = hound::WavReader::open(&decoded_by_flac).unwrap();
    assert_eq!(reader.spec().bits_per_sample, 24);
    let by_flac: Vec<f32> = reader
        .samples::<i32>()
        .map(|s| s.unwrap() as f32 / 8_388_608.0)
        .collect();
    assert_eq!(by_flac.len(), original.len());
    let worst = original
        .iter()
        .zip(&by_flac)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "flac's own decoder differs by {worst}");
    assert_ok(&in_library(&root, &["verify", flac.to_str().unwrap()]));
}

#[test]
fn a_lost_recording_is_listed_not_fatal_and_force_replaces_a_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    class_with_evidence(&root);
    let lost = files_in(&root.join("takes"))
        .into_iter()
        .find(|f| f.ends_with(".wav"))
        .unwrap();
    std::fs::remove_file(root.join("takes").join(&lost)).unwrap();
    let bundle = dir.path().join("b");
    // Only a folder that is a bandroom bundle, holding nothing its manifest does not
    // list, may be replaced (tests/safety.rs D1, tests/safety_again.rs F2).
    assert_ok(&in_library(
        &root,
        &["export", "--class", "8B", "--out", bundle.to_str().unwrap()],
    ));
    // A file the old bundle listed, gone: the new bundle brings it back.
    std::fs::remove_file(bundle.join("report.html")).unwrap();
    let output = in_library(
        &root,
        &[
            "export",
            "--class",
            "8B",
            "--force",
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    assert_ok(&output);
    assert_contains(
        &String::from_utf8_lossy(&output.stdout),
        "missing from the library",
    );
    assert!(
        bundle.join("report.html").is_file(),
        "--force replaced the old bundle"
    );
    let html = std::fs::read_to_string(bundle.join("report.html")).unwrap();
    assert_contains(&html, "Recordings missing from the library");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let missing = manifest["missing"].as_array().unwrap();
    assert!(!missing.is_empty(), "{manifest}");
    assert!(
        missing
            .iter()
            .all(|m| !bundle.join(m.as_str().unwrap()).exists())
    );
    assert_ok(&in_library(&root, &["verify", bundle.to_str().unwrap()]));
}

#[test]
fn a_full_disk_leaves_no_half_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    class_with_evidence(&root);
    let disk = SmallDisk::mount(&dir.path().join("small"), "150k");
    let bundle = dir.path().join("small/bundle");
    let output = in_library(
        &root,
        &["export", "--class", "8B", "--out", bundle.to_str().unwrap()],
    );
    assert!(!output.status.success());
    assert_contains(&stderr(&output), "No space left on device");
    assert!(
        files_in(&dir.path().join("small")).is_empty(),
        "nothing left behind"
    );
    drop(disk);
}

/// Runs headless Chromium (Debian's `chromium`, installed by `make test`) on a page:
/// (the DOM after load, the browser's console lines).
fn chromium(page: &Path, extra: &[String], profile: &Path) -> (String, String) {
    let output = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("Debian's chromium is needed for this test: `make test` installs it");
    assert!(output.status.success(), "{}", stderr(&output));
    let console = stderr(&output)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .collect::<Vec<_>>()
        .join("\n");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        console,
    )
}

#[test]
fn the_report_opens_in_a_real_browser_offline_with_every_recording_in_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    class_with_evidence(&root);
    let bundle = dir.path().join("bundle");
    assert_ok(&in_library(
        &root,
        &["export", "--class", "8B", "--out", bundle.to_str().unwrap()],
    ));
    let profile = dir.path().join("profile");
    let dump = vec!["--dump-dom".to_string()];
    let (dom, console) = chromium(&bundle.join("report.html"), &dump, &profile);
    assert!(
        console.is_empty(),
        "the page asked for something it may not have:\n{console}"
    );
    assert_eq!(
        dom.matches("<svg class=\"radar\"").count(),
        2,
        "one radar per pupil"
    );
    let sources: Vec<&str> = dom
        .split("<audio")
        .skip(1)
        .map(|a| a.split("src=\"").nth(1).unwrap().split('"').next().unwrap())
        .collect();
    assert_eq!(sources.len(), 8, "two tracks and two mixes per pupil");
    for source in &sources {
        assert!(
            bundle.join(source).is_file(),
            "{source} is not in the bundle"
        );
    }
    // The same check notices a page that reaches out: the report's own policy blocks it.
    let html = std::fs::read_to_string(bundle.join("report.html")).unwrap();
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        html.replace("<body>", "<body><img src=\"http://example.invalid/x.png\">"),
    )
    .unwrap();
    let (_, blocked) = chromium(&control, &dump, &profile);
    assert_contains(&blocked, "http://example.invalid/x.png");
    assert_contains(&blocked, "Content Security Policy");

    let shot = std::env::var_os("BANDROOM_SCREENSHOTS")
        .map_or_else(|| dir.path().to_path_buf(), std::path::PathBuf::from)
        .join("report.png");
    let args = vec![
        format!("--screenshot={}", shot.display()),
        "--window-size=1100,1800".to_string(),
    ];
    chromium(&bundle.join("report.html"), &args, &profile);
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 20_000,
        "a real page was drawn"
    );
}

#[test]
fn the_report_names_every_level_and_prints_to_a_clean_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    class_with_evidence(&root);
    let bundle = dir.path().join("bundle");
    assert_ok(&in_library(
        &root,
        &["export", "--class", "8B", "--out", bundle.to_str().unwrap()],
    ));
    let profile = dir.path().join("profile");
    let (dom, _) = chromium(
        &bundle.join("report.html"),
        &["--dump-dom".to_string()],
        &profile,
    );
    // Every level of the framework is named and described (KS3 progression, pulse).
    assert_contains(
        &dom,
        "<b>Secure rhythm</b>: Plays the part's rhythms accurately",
    );
    assert_contains(&dom, "<b>Rhythmic leadership</b>:");
    // Zebedee's pulse went from 2 to 4: each is shown with its name.
    assert_contains(&dom, "<b>4</b> Independent rhythm");
    assert_contains(&dom, "has moved up in a criterion when their latest level");
    // Ottoline was never judged on pulse: a gap, said in words.
    assert_contains(&dom, "Pulse and rhythm: not judged yet");
    assert_contains(&dom, "8B: levels at the first and the latest judgement");

    let pdf = dir.path().join("report.pdf");
    chromium(
        &bundle.join("report.html"),
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".to_string(),
        ],
        &profile,
    );
    let text = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("poppler's pdftotext is needed: `make test` installs poppler-utils");
    assert!(text.status.success(), "{}", stderr(&text));
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert_contains(&text, "Criteria and levels");
    assert_contains(&text, "moved up");
    assert_contains(&text, "Zebedee Quixley");
    // Printed, a player is no control: none is drawn, and no page is blank.
    let pages = text.split('\u{c}').filter(|p| !p.trim().is_empty()).count();
    let counted = text.matches('\u{c}').count();
    assert!(
        pages >= 1 && pages + 1 >= counted,
        "{pages} of {counted} pages have text"
    );
    // The first page as a picture, to look at (BANDROOM_SCREENSHOTS keeps it).
    let keep = std::env::var_os("BANDROOM_SCREENSHOTS")
        .map_or_else(|| dir.path().to_path_buf(), std::path::PathBuf::from);
    let stem = keep.join("report-print-page-1");
    let drawn = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&pdf)
        .arg(&stem)
        .output()
        .expect("poppler's pdftoppm is needed: `make test` installs poppler-utils");
    assert!(drawn.status.success(), "{}", stderr(&drawn));
    let png = stem.with_extension("png");
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "the first page has something on it"
    );
}

/// Runs the CLI and samples its peak resident memory (VmHWM) until it exits.
fn peak_memory_kib(root: &Path, args: &[&str]) -> (std::process::Output, u64) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bandroom"))
        .arg("--library")
        .arg(root)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(&status) {
            // The high-water mark only grows, so a late sample holds the peak so far.
            if let Some(kib) = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    (child.wait_with_output().unwrap(), peak)
}

#[test]
fn an_export_of_300_takes_streams_file_by_file_under_a_memory_ceiling() {
    const TAKES: usize = 300;
    const FRAMES: usize = 96_000; // two seconds each: 115 MB of recordings in all
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    assert_ok(&in_library(&root, &["class", "add", "8B"]));
    {
        let mut lib = bandroom::library::Library::open(&root).unwrap();
        let class = lib.class_id("8B").unwrap();
        for _ in 0..TAKES {
            register_take_of(&mut lib, Some(class), 1, FRAMES);
        }
    }
    let bundle = dir.path().join("all.zip");
    let (output, peak_kib) = peak_memory_kib(
        &root,
        &[
            "export",
            "--class",
            "8B",
            "--kind",
            "lesson",
            "--audio",
            "flac",
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    assert_ok(&output);
    assert_contains(
        &String::from_utf8_lossy(&output.stdout),
        &format!("{} recording(s)", 2 * TAKES),
    );
    let recordings_mib = (TAKES * FRAMES * 4) as f64 / (1 << 20) as f64;
    eprintln!(
        "exporting {TAKES} takes ({recordings_mib:.0} MiB of recordings, as FLAC in a zip): \
         peak resident memory {:.1} MiB",
        peak_kib as f64 / 1024.0
    );
    assert!(
        peak_kib < 24 * 1024,
        "peak {peak_kib} KiB: the export holds recordings in memory"
    );
    assert_ok(&in_library(&root, &["verify", bundle.to_str().unwrap()]));
}

/// Rows of a bundle's assessments.csv: (pupil, criterion, level, date, take).
fn assessment_rows(bundle: &Path) -> Vec<(String, String, String, String, String)> {
    let mut reader = csv::Reader::from_path(bundle.join("assessments.csv")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                r[2].to_string(),
                r[3].to_string(),
                r[4].to_string(),
                r[6].to_string(),
            )
        })
        .collect()
}

#[test]
fn export_selects_by_period_pupil_criterion_and_class() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let mut lib = bandroom::library::Library::open(&root).unwrap();
    let roster =
        |names: &str| bandroom::library::roster::parse_roster(names.as_bytes(), "r").unwrap();
    let b8 = lib.add_class("8B", None, None).unwrap();
    let (rows, problems) = roster("name\nAmira Okafor\nJan Nowak\n");
    lib.import_roster(b8, &rows, problems, true).unwrap();
    let c9 = lib.add_class("9C", None, None).unwrap();
    let (rows, problems) = roster("name\nSam Brook\n");
    lib.import_roster(c9, &rows, problems, true).unwrap();
    let amira = lib.find_pupil("Amira Okafor", Some(b8)).unwrap();
    let jan = lib.find_pupil("Jan Nowak", Some(b8)).unwrap();
    let sam = lib.find_pupil("Sam Brook", Some(c9)).unwrap();
    // Three lessons on three days; everyone judged on pulse and ensemble each time.
    let days = ["2026-09-14", "2026-10-12", "2026-11-09"];
    let mut takes = Vec::new();
    for (n, day) in days.iter().enumerate() {
        bandroom::library::clock::fix_for_this_thread(&format!("{day}T10:00:00Z")).unwrap();
        let mut of_day = Vec::new();
        for (class, pupils) in [(b8, vec![amira, jan]), (c9, vec![sam])] {
            let take = register_take_of(&mut lib, Some(class), pupils.len(), 4_800);
            for (track, pupil) in pupils.iter().enumerate() {
                lib.attribute(take, track as i64 + 1, &[*pupil], None, None, None)
                    .unwrap();
                for criterion in ["pulse", "ensemble"] {
                    lib.assess(&bandroom::library::NewAssessment {
                        pupil: *pupil,
                        take: Some(take),
                        criterion: criterion.into(),
                        level: (n + 2).to_string(),
                        comment: String::new(),
                        assessor: "Ms Test".into(),
                    })
                    .unwrap();
                }
            }
            of_day.push(take);
        }
        takes.push(of_day);
    }
    bandroom::library::clock::release_this_thread();
    drop(lib);
    let export = |out: &str, extra: &[&str]| {
        let mut args = vec!["export", "--out", out];
        args.extend_from_slice(extra);
        assert_ok(&in_library(&root, &args));
        dir.path().join(out)
    };

    // --to is inclusive: the first two lessons, not the third.
    let period = export(
        "period",
        &["--class", "8B", "--from", days[0], "--to", days[1]],
    );
    let rows = assessment_rows(&period);
    assert_eq!(
        rows.len(),
        2 * 2 * 2,
        "two pupils, two criteria, two days: {rows:?}"
    );
    assert!(
        rows.iter().all(|r| r.3 == days[0] || r.3 == days[1]),
        "{rows:?}"
    );
    let files = files_in(&period);
    let audio_of = |take: i64| files.iter().any(|f| f.contains(&format!("-take-{take}-")));
    assert!(audio_of(takes[0][0]), "the first evidence: {files:?}");
    assert!(audio_of(takes[1][0]), "the latest evidence in the period");
    assert!(!audio_of(takes[2][0]), "the lesson after --to is left out");
    assert!(!audio_of(takes[0][1]), "another class's take is not in it");
    let report = std::fs::read_to_string(period.join("report.html")).unwrap();
    assert_contains(&report, &format!("From {} to {}", days[0], days[1]));

    // One pupil, one criterion.
    let one = export(
        "one",
        &[
            "--class",
            "8B",
            "--pupil",
            "Jan Nowak",
            "--criterion",
            "ensemble",
        ],
    );
    let rows = assessment_rows(&one);
    assert_eq!(rows.len(), 3, "Jan's ensemble, three days: {rows:?}");
    assert!(rows.iter().all(|r| r.0 == "Jan Nowak" && r.1 == "ensemble"));
    assert!(
        !files_in(&one).iter().any(|f| f.contains("Amira")),
        "no other pupil's recordings"
    );

    // Several classes at once.
    let both = export("both", &["--class", "8B", "--class", "9C"]);
    let mut pupils: Vec<String> = assessment_rows(&both).into_iter().map(|r| r.0).collect();
    pupils.sort();
    pupils.dedup();
    assert_eq!(pupils, ["Amira Okafor", "Jan Nowak", "Sam Brook"]);
    assert_eq!(assessment_rows(&both).len(), 3 * 2 * 3);
}
