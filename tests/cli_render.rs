//! `bandroom render` as a teacher or a script uses it: outputs, exactness and errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should stop at the failing line

mod common;

use common::*;
use std::path::Path;

/// `bandroom render EXTRA --force`: the tests render to the same names again and again.
fn render(dir: &Path, extra: &[&str]) {
    let mut args = vec!["render"];
    args.extend_from_slice(extra);
    args.push("--force");
    assert_ok(&bandroom(&args, dir));
}

#[test]
fn output_is_bit_identical_for_every_block_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut reference: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = None;
    for block in ["1", "37", "64", "512", "4096"] {
        let out = format!("b{block}.wav");
        let stems = format!("stems{block}");
        let events = format!("e{block}.csv");
        render(
            dir.path(),
            &[
                "clapping-music",
                "--repeats",
                "1",
                "--tempo",
                "173",
                "--sub-beats",
                "--out",
                &out,
                "--stems",
                &stems,
                "--events",
                &events,
                "--block",
                block,
            ],
        );
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        let outputs = (
            read(&out),
            read(&format!("{stems}/clapper 2.wav")),
            read(&events),
        );
        match &reference {
            None => reference = Some(outputs),
            Some(first) => {
                assert!(first.0 == outputs.0, "mix differs at --block {block}");
                assert!(first.1 == outputs.1, "stem differs at --block {block}");
                assert!(first.2 == outputs.2, "events differ at --block {block}");
            }
        }
    }
}

/// Every clap and click of Clapping Music, computed from the score by hand.
fn expected_clapping_events(repeats: u64, bpm: u64, sample_rate: u64) -> Vec<EventRow> {
    let eighth = |n: u64| exact_frame(n, 2, bpm, sample_rate);
    let mut rows = Vec::new();
    let count_in = 12;
    let total = count_in + 13 * repeats * 12;
    for e in (0..total).step_by(3) {
        let (kind, velocity) = if e % 12 == 0 {
            ("accent", 127)
        } else {
            ("beat", 100)
        };
        rows.push(EventRow {
            frame: eighth(e),
            part: "click".into(),
            kind: kind.into(),
            velocity,
        });
    }
    for k in 0..13u64 {
        for r in 0..repeats {
            for i in 0..12u64 {
                let at = count_in + (k * repeats + r) * 12 + i;
                for (part, hit) in [
                    ("clapper 1", CLAPPING_PATTERN[i as usize]),
                    ("clapper 2", CLAPPING_PATTERN[((i + k) % 12) as usize]),
                ] {
                    if hit {
                        rows.push(EventRow {
                            frame: eighth(at),
                            part: part.into(),
                            kind: "clap".into(),
                            velocity: 96,
                        });
                    }
                }
            }
        }
    }
    rows.sort();
    rows
}

#[test]
fn events_land_on_exact_rational_frames_at_173_bpm() {
    let dir = tempfile::tempdir().unwrap();
    for rate in [44_100u64, 48_000] {
        let rate_text = rate.to_string();
        render(
            dir.path(),
            &[
                "clapping-music",
                "--repeats",
                "2",
                "--tempo",
                "173",
                "--sample-rate",
                &rate_text,
                "--out",
                "m.wav",
                "--events",
                "e.csv",
                "--block",
                "333",
            ],
        );
        let mut actual = read_events(&dir.path().join("e.csv"));
        actual.sort();
        let expected = expected_clapping_events(2, 173, rate);
        assert_eq!(actual.len(), expected.len(), "{rate} Hz: number of events");
        for (a, e) in actual.iter().zip(&expected) {
            assert_eq!(a, e, "{rate} Hz");
        }
        // 173 BPM gives no whole number of frames per eighth at either rate.
        assert_ne!((rate * 60) % (173 * 2), 0);
    }
}

#[test]
fn each_clap_audibly_starts_at_its_frame_in_its_stem() {
    let dir = tempfile::tempdir().unwrap();
    render(
        dir.path(),
        &[
            "clapping-music",
            "--repeats",
            "1",
            "--out",
            "m.wav",
            "--stems",
            "s",
            "--events",
            "e.csv",
        ],
    );
    let events = read_events(&dir.path().join("e.csv"));
    for part in ["clapper 1", "clapper 2"] {
        let (stem, channels) = read_wav(&dir.path().join(format!("s/{part}.wav")));
        let frames: Vec<u64> = events
            .iter()
            .filter(|e| e.part == part)
            .map(|e| e.frame)
            .collect();
        assert_eq!(frames.len(), 13 * 8, "{part}: eight claps a bar");
        let window = 48;
        let first = frames[0];
        assert_eq!(
            energy(&stem, channels, 0, 0, first),
            0.0,
            "{part}: silence before the first clap"
        );
        for &f in &frames {
            let before = energy(&stem, channels, 0, f - window, f);
            let after = energy(&stem, channels, 0, f, f + window);
            assert!(
                after > 10.0 * before + 1e-6,
                "{part}: no onset at frame {f} (before {before:e}, after {after:e})"
            );
            // The clap starts on its frame, not one sample late.
            assert!(
                stem[(f as usize) * channels].abs() > 1e-4,
                "{part}: silent at {f}"
            );
        }
    }
}

#[test]
fn stems_add_up_to_the_mix_and_click_holds_only_clicks() {
    let dir = tempfile::tempdir().unwrap();
    render(
        dir.path(),
        &[
            "pulse-layers",
            "--out",
            "m.wav",
            "--stems",
            "s",
            "--events",
            "e.csv",
            "--block",
            "100",
        ],
    );
    let (mix, channels) = read_wav(&dir.path().join("m.wav"));
    let names = ["pulse", "ostinato", "off-beats", "bass", "riff", "click"];
    let stems: Vec<Vec<f32>> = names
        .iter()
        .map(|n| read_wav(&dir.path().join(format!("s/{n}.wav"))).0)
        .collect();
    assert!(
        stems.iter().all(|s| s.len() == mix.len()),
        "stems are sample-aligned with the mix"
    );
    for (i, m) in mix.iter().enumerate() {
        let sum = stems.iter().fold(0.0f32, |acc, s| acc + s[i]);
        assert_eq!(sum, *m, "sample {i}");
    }
    // Only the click lane sounds during the count-in bar (4 beats at 100 BPM).
    let count_in = exact_frame(4, 1, 100, 48_000);
    assert!(energy(&stems[5], channels, 0, 0, count_in) > 0.0);
    for stem in &stems[..5] {
        assert_eq!(energy(stem, channels, 0, 0, count_in), 0.0);
    }
    // The tag is faster: its events follow the 112 BPM segment from its exact start.
    let events = read_events(&dir.path().join("e.csv"));
    let tag_start_beats = 4 + (2 * 2 + 2 * 2 + 4 + 4 * 2) * 4;
    let tag_start = exact_frame(tag_start_beats, 1, 100, 48_000);
    let last_click = events
        .iter()
        .filter(|e| e.part == "click")
        .map(|e| e.frame)
        .max()
        .unwrap();
    assert_eq!(last_click, tag_start + exact_frame(7, 1, 112, 48_000));
}

#[test]
fn no_click_and_count_in_zero() {
    let dir = tempfile::tempdir().unwrap();
    render(
        dir.path(),
        &[
            "clapping-music",
            "--repeats",
            "1",
            "--count-in",
            "0",
            "--no-click",
            "--out",
            "m.wav",
            "--events",
            "e.csv",
        ],
    );
    let events = read_events(&dir.path().join("e.csv"));
    assert!(events.iter().all(|e| e.part != "click"));
    assert_eq!(
        events.iter().map(|e| e.frame).min(),
        Some(0),
        "the piece starts at once"
    );
    let (mix, _) = read_wav(&dir.path().join("m.wav"));
    // 13 bars of 12 eighths at 160 BPM, plus one second of tail.
    assert_eq!(
        mix.len() as u64 / 2,
        exact_frame(13 * 12, 2, 160, 48_000) + 48_000
    );
}

#[test]
fn every_listed_arrangement_renders_by_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let listing = bandroom(&["arrangements"], dir.path());
    assert_ok(&listing);
    let text = String::from_utf8(listing.stdout).unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // Exactly the built-ins, in their order (no user folder here).
    let built_in: Vec<&str> = bandroom::music::BUILT_INS.iter().map(|b| b.name).collect();
    assert_eq!(
        names,
        [
            "clapping-music",
            "pulse-layers",
            "drunken-sailor",
            "bandroom-blues"
        ]
    );
    assert_eq!(names, built_in, "{text}");
    for name in names {
        render(
            dir.path(),
            &[
                name,
                "--repeats",
                "1",
                "--sample-rate",
                "8000",
                "--out",
                "a.wav",
            ],
        );
    }
}

/// Runs a render that must fail and checks the message and that nothing was left behind.
fn refused(args: &[&str], expect_in_message: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        "title = \"Broken\"\nmeter = \"4/4\"\n[tempo]\nbpm = 100\n\n[[part]]\nname = \"a\"\nsound = \"clap\"\n[[section]]\nname = \"A\"\nbars = [2\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("clash.toml"),
        "title = \"Clash\"\nmeter = \"4/4\"\n[tempo]\nbpm = 100\n[[part]]\nname = \"a/b\"\nsound = \"clap\"\n[[part]]\nname = \"a:b\"\nsound = \"clap\"\n[[section]]\nname = \"A\"\nbars = 1\n",
    )
    .unwrap();
    let before: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let mut full = vec!["render"];
    full.extend_from_slice(args);
    let output = bandroom(&full, dir.path());
    assert!(!output.status.success(), "{args:?} should fail");
    let message = stderr(&output);
    assert_eq!(message.trim_end().lines().count(), 1, "one line: {message}");
    assert!(message.contains(expect_in_message), "{args:?}: {message}");
    let mut after: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    after.retain(|name| !before.contains(name) && name != "stems");
    assert!(after.is_empty(), "{args:?} left {after:?} behind");
    if dir.path().join("stems").exists() {
        assert_eq!(
            std::fs::read_dir(dir.path().join("stems")).unwrap().count(),
            0
        );
    }
}

#[test]
fn bad_input_gets_one_clear_line_and_leaves_no_files() {
    let x = ["--out", "x.wav"];
    let cases: &[(&[&str], &str)] = &[
        (&["clapping-musik"], "unknown arrangement 'clapping-musik'"),
        (&["missing.toml"], "missing.toml"),
        (&["broken.toml"], "broken.toml: line 11"),
        (&["clapping-music", "--tempo", "0"], "tempo 0"),
        (&["clapping-music", "--tempo", "5000"], "5000"),
        (&["clapping-music", "--sample-rate", "0"], "sample rate 0"),
        (&["clapping-music", "--block", "0"], "--block 0"),
        (&["clapping-music", "--count-in", "100"], "--count-in 100"),
        (&["clapping-music", "--repeats", "0"], "--repeats 0"),
        (&["clapping-music", "--format", "mp3"], "mp3"),
        (&["song.mid"], "song.mid"),
        // Fails after the mix file was opened: the half-made mix must vanish too.
        (&["clash.toml", "--stems", "stems"], "a-b.wav"),
    ];
    for (args, message) in cases {
        refused(&[*args, &x[..]].concat(), message);
    }
    refused(
        &["clapping-music", "--out", "no/such/folder/x.wav"],
        "no/such/folder/x.wav",
    );
    refused(&["clapping-music", "--out", "."], "cannot write");
}

/// Regression: `bandroom arrangements | head -1` used to panic when the reader left.
#[test]
fn a_reader_that_leaves_early_ends_output_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["arrangements"][..], &["devices", "--host", "virtual"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bandroom"))
            .args(args)
            .current_dir(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away before a line is written
        let output = child.wait_with_output().unwrap();
        let message = stderr(&output);
        assert!(!message.contains("panicked"), "{args:?}: {message}");
        assert_ne!(output.status.code(), Some(101), "{args:?}: {message}");
    }
}

#[test]
fn every_sound_renders_identically_at_every_block_size() {
    let dir = tempfile::tempdir().unwrap();
    let piece = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/every-sound.toml");
    let mut first: Option<Vec<u8>> = None;
    for block in ["1", "64", "4096"] {
        render(
            dir.path(),
            &[piece, "--out", "m.wav", "--block", block, "--stems", "s"],
        );
        let mix = std::fs::read(dir.path().join("m.wav")).unwrap();
        match &first {
            None => first = Some(mix),
            Some(f) => assert!(*f == mix, "mix differs at --block {block}"),
        }
    }
    // Every part is heard, and the band stays below full scale.
    for part in [
        "kick", "snare", "hi-hat", "claps", "bass", "piano", "ukulele", "tune",
    ] {
        let (stem, channels) = read_wav(&dir.path().join(format!("s/{part}.wav")));
        let frames = stem.len() as u64 / channels as u64;
        assert!(
            energy(&stem, channels, 0, 0, frames) > 1e-5,
            "{part} is silent"
        );
    }
    let (mix, _) = read_wav(&dir.path().join("m.wav"));
    assert!(mix.iter().all(|s| s.abs() < 1.0), "the mix clips");
}

#[test]
fn a_schools_own_arrangements_are_listed_and_played_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let folder = d.join("library/arrangements");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("year7-clap.toml"),
        "title = \"Year 7 clap\"\n[tempo]\nbpm = 120\n[phase]\npattern = \"x x . x\"\nrepeats = 2\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("broken.toml"),
        "title = \"Broken\"\nmeter = \"4/4\"\n[tempo\n",
    )
    .unwrap();
    let library = d.join("library");
    let lib = library.to_str().unwrap();

    let listing = bandroom(&["--library", lib, "arrangements"], d);
    assert_ok(&listing);
    let text = String::from_utf8(listing.stdout).unwrap();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .map(str::to_string)
    };
    let mine = line("year7-clap").unwrap_or_else(|| panic!("not listed: {text}"));
    assert!(
        mine.contains("clapper 2 (stretch)"),
        "parts and tiers are listed: {mine}"
    );
    let broken = line("broken").unwrap_or_else(|| panic!("not listed: {text}"));
    assert!(
        broken.contains("line 3"),
        "the broken file says where: {broken}"
    );
    assert!(
        line("clapping-music").is_some(),
        "built-ins are still there: {text}"
    );
    assert!(line("pulse-layers").unwrap().contains("ostinato (core)"));

    assert_ok(&bandroom(
        &[
            "--library",
            lib,
            "render",
            "year7-clap",
            "--out",
            "mine.wav",
            "--events",
            "e.csv",
        ],
        d,
    ));
    let claps = read_events(&d.join("e.csv"))
        .iter()
        .filter(|e| e.kind == "clap")
        .count();
    assert_eq!(
        claps,
        5 * 2 * 3 * 2,
        "five sections, twice each, three claps a bar, two clappers"
    );
    let refused = bandroom(&["--library", lib, "render", "broken", "--out", "b.wav"], d);
    assert_contains(&stderr(&refused), "broken.toml: line 3");
}

#[test]
fn pcm16_and_pcm24_renders_hold_the_float_render_to_the_last_bit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for format in ["float32", "pcm24", "pcm16"] {
        render(
            d,
            &[
                "clapping-music",
                "--repeats",
                "1",
                "--format",
                format,
                "--out",
                &format!("{format}.wav"),
            ],
        );
    }
    let (float, _) = read_wav(&d.join("float32.wav"));
    assert!(
        float.iter().any(|s| s.abs() > 0.1),
        "the render has content"
    );
    for (format, full_scale, bits) in [("pcm24", 8_388_607.0f32, 24), ("pcm16", 32_767.0, 16)] {
        let mut reader = hound::WavReader::open(d.join(format!("{format}.wav"))).unwrap();
        assert_eq!(reader.spec().bits_per_sample, bits);
        assert_eq!(reader.spec().sample_format, hound::SampleFormat::Int);
        let ints: Vec<i32> = reader.samples::<i32>().map(Result::unwrap).collect();
        assert_eq!(ints.len(), float.len(), "{format}");
        // Each value is the float sample, clipped at full scale and rounded.
        for (i, (int, f)) in ints.iter().zip(&float).enumerate() {
            let want = (f.clamp(-1.0, 1.0) * full_scale).round() as i32;
            assert_eq!(*int, want, "{format} sample {i}: {f}");
        }
    }
}

/// A piece whose parts together pass full scale: the render says so and is written
/// quieter, peaking at −1 dBFS, instead of hard-clipping the PCM file while it reported a
/// peak above 0 dBFS.
#[test]
fn a_render_that_would_clip_is_written_at_a_safe_level_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut piece = String::from("title = \"Too loud\"\nmeter = \"4/4\"\n[tempo]\nbpm = 100\n");
    for n in 1..=4 {
        piece.push_str(&format!(
            "[[part]]\nname = \"piano {n}\"\nsound = \"piano\"\ngain = 4.0\n"
        ));
    }
    piece.push_str("[[section]]\nname = \"all\"\nbars = 1\n");
    for n in 1..=4 {
        piece.push_str(&format!(
            "[[section.play]]\npart = \"piano {n}\"\nrhythm = \"x x x x\"\npitches = [\"C4+E4+G4\"]\n"
        ));
    }
    std::fs::write(d.join("loud.toml"), piece).unwrap();
    let out = bandroom(
        &[
            "render",
            "loud.toml",
            "--out",
            "loud.wav",
            "--format",
            "pcm16",
            "--stems",
            "stems",
        ],
        d,
    );
    assert_ok(&out);
    let said = stderr(&out);
    assert!(said.contains("the mix would peak at +"), "{said}");
    assert_contains(&String::from_utf8_lossy(&out.stdout), "peak -1.0 dBFS");
    let pcm16_peak = |path: &Path| {
        hound::WavReader::open(path)
            .unwrap()
            .samples::<i16>()
            .map(|s| f32::from(s.unwrap()).abs() / 32_768.0)
            .fold(0.0f32, f32::max)
    };
    let peak = pcm16_peak(&d.join("loud.wav"));
    assert!((0.88..=0.8915).contains(&peak), "peak {peak}");
    let stem_peak = pcm16_peak(&d.join("stems/piano 1.wav"));
    assert!(
        stem_peak < peak,
        "the stems are lowered with the mix: {stem_peak}"
    );
}
