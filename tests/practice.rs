//! Practice tools through the command line: section and bar-range loops, passes, tempo
//! ramps, muted parts, a tier on its own, and the cue stream, checked to the frame.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::path::Path;

/// (frame, count_in, bar, beat, section, pass) rows of a cues CSV.
fn read_cues(path: &Path) -> Vec<(u64, bool, u64, u64, String, u64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("frame,count_in,bar,beat,section,pass"));
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (
                f[0].parse().unwrap(),
                f[1] == "1",
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
                f[4].to_string(),
                f[5].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_tempo_ramp_puts_every_pass_on_its_exact_frame() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Pulse Layers is written at 100 BPM in 4/4: one bar at 50 %, 75 % and 100 %.
    assert_ok(&bandroom(
        &[
            "render",
            "pulse-layers",
            "--bars",
            "1",
            "--ramp",
            "50:25:100",
            "--count-in",
            "0",
            "--out",
            "r.wav",
            "--cues",
            "c.csv",
            "--events",
            "e.csv",
        ],
        d,
    ));
    let bar = |bpm: u64| exact_frame(4, 1, bpm, 48_000);
    let expected = [0, bar(50), bar(50) + bar(75)];
    assert_eq!(expected, [0, 230_400, 384_000]);
    let cues = read_cues(&d.join("c.csv"));
    let downbeats: Vec<u64> = cues.iter().filter(|c| c.3 == 1).map(|c| c.0).collect();
    assert_eq!(downbeats, expected);
    let names: Vec<&str> = cues
        .iter()
        .filter(|c| c.3 == 1)
        .map(|c| c.4.as_str())
        .collect();
    assert_eq!(names, ["pulse (50 %)", "pulse (75 %)", "pulse (100 %)"]);
    let accents: Vec<u64> = read_events(&d.join("e.csv"))
        .into_iter()
        .filter(|e| e.kind == "accent")
        .map(|e| e.frame)
        .collect();
    assert_eq!(
        accents, expected,
        "the metronome's downbeats agree with the cues"
    );
    let (samples, channels) = read_wav(&d.join("r.wav"));
    assert!(samples.len() / channels >= (expected[2] + bar(100)) as usize);
}

#[test]
fn a_section_loops_for_its_passes_and_cues_name_the_shift() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_ok(&bandroom(
        &[
            "render",
            "clapping-music",
            "--repeats",
            "1",
            "--section",
            "shift 3",
            "--passes",
            "3",
            "--count-in",
            "1",
            "--out",
            "s.wav",
            "--cues",
            "c.csv",
            "--events",
            "e.csv",
        ],
        d,
    ));
    let cues = read_cues(&d.join("c.csv"));
    // 12/8: four dotted-quarter beats a bar; one count-in bar, then three passes.
    assert_eq!(cues.len(), 4 * 4);
    assert!(
        cues[..4].iter().all(|c| c.1 && c.4.is_empty()),
        "count-in first"
    );
    let played: Vec<(u64, u64, &str)> = cues[4..]
        .iter()
        .filter(|c| c.3 == 1)
        .map(|c| (c.2, c.5, c.4.as_str()))
        .collect();
    assert_eq!(
        played,
        [(1, 1, "shift 3"), (2, 1, "shift 3"), (3, 1, "shift 3")]
    );
    // Clapper 2 plays the pattern rotated by three eighths in every pass.
    let eighth = exact_frame(1, 2, 160, 48_000);
    let bar = 12 * eighth;
    let pattern = [1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0];
    let expected: Vec<u64> = (0..3u64)
        .flat_map(|pass| {
            (0..12u64)
                .filter(|i| pattern[(*i as usize + 3) % 12] == 1)
                .map(move |i| bar + pass * bar + i * eighth)
        })
        .collect();
    let clapper2: Vec<u64> = read_events(&d.join("e.csv"))
        .into_iter()
        .filter(|e| e.part == "clapper 2")
        .map(|e| e.frame)
        .collect();
    assert_eq!(clapper2, expected);
}

#[test]
fn solo_tier_and_mute_leave_only_the_parts_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_ok(&bandroom(
        &[
            "render",
            "bandroom-blues",
            "--bars",
            "5-6",
            "--solo-tier",
            "starter",
            "--mute",
            "voices-starter",
            "--sample-rate",
            "16000",
            "--out",
            "b.wav",
            "--stems",
            "stems",
        ],
        d,
    ));
    for entry in std::fs::read_dir(d.join("stems")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (samples, _) = read_wav(&path);
        let peak = samples.iter().fold(0.0f32, |p, x| p.max(x.abs()));
        let should_sound =
            (name.ends_with("-starter") && name != "voices-starter") || name == "click";
        assert_eq!(peak > 0.0, should_sound, "{name}: peak {peak}");
    }
}

#[test]
fn practice_mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--bars", "0-3"], "bars 0–3 are not in 'Pulse Layers'"),
        (
            &["--bars", "five"],
            "--bars five: write the first and last bar",
        ),
        (
            &["--ramp", "fast"],
            "--ramp: ramp 'fast': write START:STEP:END",
        ),
        (
            &["--section", "bridge"],
            "--section bridge: 'Pulse Layers' has no section 'bridge'; its sections are: pulse,",
        ),
        (&["--mute", "tuba"], "--mute: there is no part 'tuba'"),
        (
            &["--solo-tier", "gold"],
            "--solo-tier: no part of 'Pulse Layers' is at tier 'gold'",
        ),
        (&["--passes", "0"], "--passes 0 is not allowed"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["render", "pulse-layers", "--out", "x.wav"];
        args.extend_from_slice(extra);
        let output = bandroom(&args, dir.path());
        assert!(!output.status.success(), "{extra:?}");
        assert!(
            stderr(&output).contains(expected),
            "{extra:?}: {}",
            stderr(&output)
        );
        assert!(
            !dir.path().join("x.wav").exists(),
            "nothing written for {extra:?}"
        );
    }
}
