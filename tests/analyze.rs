//! `bandroom analyze` on tracks made by the engine itself, where the truth is known:
//! a perfect take, a pupil who rushes by 20 ms, a shift in Clapping Music that takes two
//! bars to settle, and tracks that should give a plain warning instead of numbers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bandroom::music::phase::clapping_music;
use bandroom::music::toml_writer::arrangement_to_toml;
use common::*;
use std::path::Path;

fn analyze_json(dir: &Path, track: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "analyze",
        track,
        "--arrangement",
        "clapping-music",
        "--part",
        "clapper 2",
        "--json",
    ];
    args.extend_from_slice(extra);
    let output = bandroom(&args, dir);
    assert_ok(&output);
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Clapper 2's stem of Clapping Music with `repeats` per section, from the engine.
fn clapper_two(dir: &Path, repeats: &str) -> String {
    assert_ok(&bandroom(
        &[
            "render",
            "clapping-music",
            "--repeats",
            repeats,
            "--out",
            "cm.wav",
            "--stems",
            "stems",
        ],
        dir,
    ));
    "stems/clapper 2.wav".to_string()
}

#[test]
fn the_engines_own_take_is_all_hits_on_time_with_the_promised_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let track = clapper_two(d, "1");
    let report = analyze_json(d, &track, &["--repeats", "1"]);
    let notes = report["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 104, "8 claps in each of 13 sections");
    for note in notes {
        assert_eq!(note["status"], "hit");
        let deviation = note["deviation_ms"].as_f64().unwrap();
        assert!(deviation.abs() <= 1.0, "{note}");
        assert!(
            note["expected_frame"].as_u64().is_some() && note["detected_frame"].as_u64().is_some()
        );
    }
    assert_eq!(report["extras"].as_array().unwrap().len(), 0);
    let summary = &report["summary"];
    assert_eq!(
        (
            summary["hits"].as_u64(),
            summary["misses"].as_u64(),
            summary["extras"].as_u64()
        ),
        (Some(104), Some(0), Some(0))
    );
    assert!(summary["mean_deviation_ms"].as_f64().unwrap().abs() <= 1.0);
    assert!(summary["sd_deviation_ms"].as_f64().unwrap() <= 1.0);
}

#[test]
fn a_pupil_who_rushes_by_20_ms_reports_minus_20() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let track = clapper_two(d, "1");
    let (samples, channels) = read_wav(&d.join(&track));
    let mono: Vec<f32> = samples.chunks(channels).map(|f| f[0]).skip(960).collect();
    write_mono_wav(&d.join("rushed.wav"), &mono);
    let report = analyze_json(d, "rushed.wav", &["--repeats", "1"]);
    let mean = report["summary"]["mean_deviation_ms"].as_f64().unwrap();
    assert!((mean + 20.0).abs() <= 1.0, "mean {mean} ms");
    assert_eq!(report["summary"]["hits"], 104);
    let text = bandroom(
        &[
            "analyze",
            "rushed.wav",
            "--arrangement",
            "clapping-music",
            "--part",
            "clapper 2",
            "--repeats",
            "1",
        ],
        d,
    );
    assert_contains(&String::from_utf8_lossy(&text.stdout), "(rushing)");
}

#[test]
fn a_late_shift_is_reported_at_its_section_with_how_long_it_took() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Clapping Music, 4 bars a section, where clapper 2 keeps the old pattern for the
    // first two bars of "shift 3" before moving.
    let mut piece = clapping_music(4);
    let mut late = piece.sections[3].clone();
    late.notes[1] = piece.sections[2].notes[1].clone();
    late.repeats = 2;
    piece.sections[3].repeats = 2;
    piece.sections.insert(3, late);
    std::fs::write(d.join("late.toml"), arrangement_to_toml(&piece, "test")).unwrap();
    assert_ok(&bandroom(
        &[
            "render",
            "late.toml",
            "--out",
            "late.wav",
            "--stems",
            "late",
        ],
        d,
    ));
    let report = analyze_json(d, "late/clapper 2.wav", &["--repeats", "4"]);
    let sections = report["sections"].as_array().unwrap();
    let shift3 = sections.iter().find(|s| s["name"] == "shift 3").unwrap();
    assert_eq!(shift3["settled_after_passes"], 2, "{shift3}");
    let rates: Vec<f64> = shift3["pass_hit_rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_f64().unwrap())
        .collect();
    assert!(
        rates[0] < 0.75 && rates[1] < 0.75 && rates[2] == 1.0 && rates[3] == 1.0,
        "{rates:?}"
    );
    for other in sections.iter().filter(|s| s["name"] != "shift 3") {
        assert_eq!(other["settled_after_passes"], 0, "{}", other["name"]);
    }
}

#[test]
fn silent_clipped_and_mistimed_tracks_get_warnings_and_bad_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_mono_wav(&d.join("silent.wav"), &vec![0.0; 48_000 * 30]);
    let report = analyze_json(d, "silent.wav", &["--repeats", "1"]);
    assert_eq!(report["summary"]["hits"], 0);
    assert!(report["summary"]["mean_deviation_ms"].is_null());
    assert_contains(&report["warnings"].to_string(), "no onsets found");

    let track = clapper_two(d, "1");
    let report = analyze_json(d, &track, &["--repeats", "1", "--tempo", "120"]);
    assert_contains(&report["warnings"].to_string(), "tempo mismatch suspected");

    let short: Vec<f32> = read_wav(&d.join(&track))
        .0
        .chunks(2)
        .map(|f| f[0] * 40.0)
        .take(48_000 * 5)
        .collect();
    write_mono_wav(&d.join("short.wav"), &short);
    let report = analyze_json(d, "short.wav", &["--repeats", "1"]);
    let warnings = report["warnings"].to_string();
    assert_contains(&warnings, "the track ends before the part");
    assert_contains(&warnings, "the track clips");

    std::fs::write(d.join("junk.wav"), b"RIFF nonsense").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["junk.wav", "--part", "clapper 2"],
            "junk.wav is a WAV file in a form bandroom cannot read",
        ),
        (
            &["silent.wav", "--part", "clapper 3"],
            "has no part 'clapper 3'; parts are: clapper 1, clapper 2",
        ),
        (
            &[
                "silent.wav",
                "--part",
                "clapper 2",
                "--sample-rate",
                "44100",
            ],
            "analyse at the track's own rate",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["analyze", "--arrangement", "clapping-music"];
        args.extend_from_slice(extra);
        let output = bandroom(&args, d);
        assert!(!output.status.success(), "{extra:?}");
        assert_contains(&stderr(&output), expected);
    }
}

#[test]
fn attributing_a_library_track_analyses_it_and_takes_show_compares_the_pair() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let run = |args: &[&str]| {
        let output = in_library(&root, args);
        assert_ok(&output);
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    class_8b(&root);
    run(CLAPPING_TAKE_IN_8B);
    let first = run(&[
        "perform",
        "1",
        "--track",
        "1",
        "--pupils",
        "Amira Okafor",
        "--part",
        "clapper 1",
    ]);
    assert_contains(&first, "(clapper 1): 104 of 104 notes hit");
    run(&[
        "perform",
        "1",
        "--track",
        "2",
        "--pupils",
        "Jan Nowak",
        "--part",
        "clapper 2",
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&run(&["takes", "show", "1", "--json"])).unwrap();
    let analyses = report["analyses"].as_array().unwrap();
    assert_eq!(analyses.len(), 2);
    for a in analyses {
        assert_eq!(a["hits"], 104, "{a}");
        assert!(a["mean_deviation_ms"].as_f64().unwrap().abs() <= 1.0, "{a}");
    }
    // The framework suggests (never records) a pulse level from the timing spread.
    let suggestions = report["suggestions"].as_array().unwrap();
    assert_eq!(suggestions.len(), 2, "{suggestions:?}");
    assert!(
        suggestions
            .iter()
            .all(|s| s["criterion"] == "pulse" && s["level"] == 5)
    );
    let progress: serde_json::Value =
        serde_json::from_str(&run(&["progress", "--pupil", "Amira Okafor", "--json"])).unwrap();
    let pulse = progress["strands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["criterion"] == "pulse")
        .unwrap();
    assert!(
        pulse["latest"].is_null(),
        "a suggestion is not a judgement: {pulse}"
    );
    let trend: serde_json::Value =
        serde_json::from_str(&run(&["takes", "trend", "--class", "8B", "--json"])).unwrap();
    assert_eq!(trend[0]["take"], 1);
    assert_eq!(trend[0]["analysed_tracks"], 2);
    assert!(
        trend[0]["mean_pair_spread_ms"].as_f64().unwrap() <= 1.0,
        "{trend}"
    );
    let text = run(&["takes", "show", "1"]);
    assert_contains(
        &text,
        "suggested for Amira Okafor: pulse level 5 (Rhythmic leadership)",
    );
    let pair = &report["ensemble"][0];
    // The clappers share every clap they play at the same moment: in the bar where
    // clapper 2 is k eighths ahead, the steps where the pattern and its shift both clap.
    let shared: usize = (0..13)
        .map(|k| {
            (0..12)
                .filter(|&i| CLAPPING_PATTERN[i] && CLAPPING_PATTERN[(i + k) % 12])
                .count()
        })
        .sum();
    assert_eq!(
        pair["shared_notes"].as_u64().unwrap(),
        shared as u64,
        "{pair}"
    );
    assert!(pair["mean_ms"].as_f64().unwrap().abs() <= 1.0, "{pair}");
}

#[test]
fn windows_as_note_values_and_custom_bands_change_the_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let track = clapper_two(d, "1");
    let (samples, channels) = read_wav(&d.join(&track));
    // 30 ms late: inside a 50 ms window, outside a 1/64 (about 23 ms at 160 BPM).
    let mut late = vec![0.0f32; 1_440];
    late.extend(samples.chunks(channels).map(|f| f[0]));
    write_mono_wav(&d.join("late.wav"), &late);
    let wide = analyze_json(d, "late.wav", &["--repeats", "1"]);
    assert_eq!(wide["summary"]["hits"], 104);
    assert_eq!(
        wide["summary"]["good"], 104,
        "30 ms is 'good' in the default bands"
    );
    let narrow = analyze_json(
        d,
        "late.wav",
        &["--repeats", "1", "--window", "1/64", "--bands", "10,20,25"],
    );
    assert_eq!(
        narrow["summary"]["hits"], 0,
        "a sixty-fourth at 160 BPM is about 23 ms"
    );
    assert_eq!(narrow["bands"]["loose_ms"], 25.0);
    let bad = bandroom(
        &[
            "analyze",
            "late.wav",
            "--arrangement",
            "clapping-music",
            "--part",
            "clapper 2",
            "--window",
            "soon",
        ],
        d,
    );
    assert_contains(&stderr(&bad), "--window: window 'soon'");
}

#[test]
fn record_with_plays_attributes_and_analyses_each_track_as_the_take_lands() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    let run = |args: &[&str]| in_library(&root, args);
    class_8b(&root);
    let take = CLAPPING_TAKE_IN_8B;
    let mut wrong = take.to_vec();
    wrong.extend(["--plays", "1:Amira Okafor:clapper 3"]);
    let refused = run(&wrong);
    assert!(!refused.status.success());
    assert_contains(&stderr(&refused), "has no part 'clapper 3'");
    let mut nobody = take.to_vec();
    nobody.extend(["--plays", "2:Nobody:clapper 2"]);
    assert_contains(&stderr(&run(&nobody)), "no pupil called \"Nobody\"");
    assert_eq!(
        std::fs::read_dir(root.join("takes/.incoming"))
            .unwrap()
            .count(),
        0,
        "no take was started"
    );

    let mut right = take.to_vec();
    right.extend([
        "--plays",
        "1:Amira Okafor:clapper 1",
        "--plays",
        "2:Jan Nowak:clapper 2",
    ]);
    let output = run(&right);
    assert_ok(&output);
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_contains(&said, "take 1 track 1 (clapper 1): 104 of 104 notes hit");
    assert_contains(&said, "take 1 track 2 (clapper 2): 104 of 104 notes hit");
    let listed = String::from_utf8_lossy(&run(&["takes", "list", "--pupil", "Jan Nowak"]).stdout)
        .into_owned();
    assert_contains(&listed, "2: Jan Nowak (clapper 2)");

    // Each part's tier and instrument go with the attribution, as in the app, so a
    // judgement made on the track carries them.
    let piece = bandroom::music::resolve_in("clapping-music", None).unwrap();
    let conn = rusqlite::Connection::open(root.join("bandroom.sqlite")).unwrap();
    for part in ["clapper 1", "clapper 2"] {
        let written = piece.parts.iter().find(|p| p.name == part).unwrap();
        let stored: (Option<String>, Option<String>) = conn
            .query_row(
                "SELECT tier, instrument FROM performer WHERE part = ?1",
                [part],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            stored,
            (Some(written.tier.clone()), Some(written.instrument.clone())),
            "{part}"
        );
    }
}

/// The reference part a pupil hears beside their own track sits on the take's timeline:
/// analysed against the part, every note is found where the score puts it.
#[test]
fn the_reference_part_of_a_take_is_on_the_takes_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    record_on_virtual(
        &root,
        &[
            "--inputs",
            "1",
            "--play",
            "clapping-music",
            "--repeats",
            "1",
            "--tempo",
            "172",
        ],
    );
    let lib = bandroom::library::Library::open(&root).unwrap();
    let take = lib
        .takes(&bandroom::library::TakeFilter::default())
        .unwrap()
        .remove(0);
    let frames = (take.duration_secs * f64::from(take.sample_rate_hz)) as usize;
    let reference = bandroom::jobs::render_part(&root, &take, "clapper 2", frames).unwrap();
    assert_eq!(reference.len(), frames, "as long as the take, no longer");
    let (arrangement, options) = bandroom::jobs::played_arrangement(&root, &take).unwrap();
    assert_eq!(options.tempo.map(|t| t.as_f64()), Some(172.0));
    let judging = bandroom::jobs::Judging {
        offset: 0,
        window: bandroom::analysis::matching::Window::Millis(50.0),
        bands: Default::default(),
        played_until: None,
    };
    let analysis = bandroom::jobs::analyse(
        &bandroom::jobs::Track::Audio(reference),
        take.sample_rate_hz,
        &arrangement,
        options,
        "clapper 2",
        judging,
        &[],
    )
    .unwrap();
    let s = &analysis.summary;
    // Every one of clapper 2's 104 notes (13 bars of 8 claps), none missed.
    assert_eq!((s.hits, s.misses), (104, 0));
    let mean = s.mean_deviation_ms.unwrap();
    assert!(mean.abs() < 2.0, "mean deviation {mean} ms");
    let err = bandroom::jobs::render_part(&root, &take, "tuba", frames).unwrap_err();
    assert!(err.to_string().contains("no part 'tuba'"), "{err}");

    // A take stopped part-way: what was not reached is "not played", never a miss
    // (a take stopped after 45 s once reported over a thousand misses).
    let stopped = frames / 2;
    let reference = bandroom::jobs::render_part(&root, &take, "clapper 2", stopped).unwrap();
    let analysis = bandroom::jobs::analyse(
        &bandroom::jobs::Track::Audio(reference),
        take.sample_rate_hz,
        &arrangement,
        options,
        "clapper 2",
        bandroom::jobs::Judging {
            played_until: Some(stopped as u64),
            ..judging
        },
        &[],
    )
    .unwrap();
    let s = &analysis.summary;
    assert_eq!(s.misses, 0, "{s:?}");
    assert!(s.hits > 30, "{s:?}");
    assert_eq!(
        s.hits + analysis.not_played,
        104,
        "every note is hit or not played"
    );
    assert!(
        analysis.warnings.iter().any(|w| w.contains("not played")),
        "{:?}",
        analysis.warnings
    );
}

/// `analyze --room`: two pupils' microphones that hear each other. Alone, a pupil's
/// track counts the neighbour's claps as extras; with the other microphone as the room,
/// they are spill, reported apart, and the pupil's own claps are all still hit.
#[test]
fn the_other_microphone_as_the_room_turns_the_neighbours_claps_into_spill() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = bandroom(
        &[
            "render",
            "clapping-music",
            "--repeats",
            "1",
            "--out",
            "mix.wav",
            "--stems",
            "stems",
        ],
        d,
    );
    assert_ok(&out);
    let mono = |name: &str| {
        let (samples, channels) = read_wav(&d.join("stems").join(name));
        samples
            .chunks(channels)
            .map(|f| f.iter().sum::<f32>() / channels as f32)
            .collect::<Vec<f32>>()
    };
    let (one, two) = (mono("clapper 1.wav"), mono("clapper 2.wav"));
    // Each microphone hears the other pupil 6 ms later at -8 dB.
    let delay = 288;
    let heard = |own: &[f32], other: &[f32]| -> Vec<f32> {
        (0..own.len())
            .map(|n| {
                own[n]
                    + if n >= delay {
                        0.4 * other[n - delay]
                    } else {
                        0.0
                    }
            })
            .collect()
    };
    write_mono_wav(&d.join("mic-1.wav"), &heard(&one, &two));
    write_mono_wav(&d.join("mic-2.wav"), &heard(&two, &one));
    // Pupil 1's microphone against clapper 1, with `extra` options.
    let analyse_mic_1 = |extra: &[&str]| {
        let mut args = vec![
            "analyze",
            "mic-1.wav",
            "--arrangement",
            "clapping-music",
            "--repeats",
            "1",
            "--part",
            "clapper 1",
        ];
        args.extend_from_slice(extra);
        let out = bandroom(&args, d);
        assert_ok(&out);
        out
    };
    let json = |out: std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let alone = json(analyse_mic_1(&["--json"]));
    let room = json(analyse_mic_1(&["--room", "mic-2.wav", "--json"]));
    let extras = |v: &serde_json::Value| v["summary"]["extras"].as_u64().unwrap();
    let hits = |v: &serde_json::Value| v["summary"]["hits"].as_u64().unwrap();
    assert!(extras(&alone) > 20, "alone: {}", extras(&alone));
    assert!(extras(&room) <= 2, "with the room: {}", extras(&room));
    assert!(room["spill"].as_u64().unwrap() >= extras(&alone) - 2);
    assert_eq!(
        hits(&room),
        hits(&alone),
        "the pupil's own claps are all kept"
    );
    let table = analyse_mic_1(&["--room", "mic-2.wav"]);
    assert_contains(
        &String::from_utf8_lossy(&table.stdout),
        "heard from the room's other players",
    );

    // In the library, the take's other microphone is the room without being asked.
    let root = d.join("lib");
    let mut lib = bandroom::library::Library::open(&root).unwrap();
    let lesson = lib.lesson_for_today(None).unwrap();
    let staged = lib.staging_folder().unwrap();
    for n in [1, 2] {
        std::fs::copy(
            d.join(format!("mic-{n}.wav")),
            staged.join(format!("input-{n}.wav")),
        )
        .unwrap();
    }
    let frames = one.len() as u64;
    let take = bandroom::library::NewTake {
        recorded_at: bandroom::library::now(),
        arrangement: Some("clapping-music".into()),
        tempo_bpm: None,
        repeats: Some(1),
        count_in_bars: 1,
        section: None,
        host: "test".into(),
        input_device: "two microphones".into(),
        output_device: "none".into(),
        sample_rate_hz: 48_000,
        latency_applied_frames: 0,
        frames,
        duration_secs: frames as f64 / 48_000.0,
        xruns: 0,
        gaps: 0,
        complete: true,
        purpose: bandroom::library::Purpose::Rehearsal,
        music_frames: None,
        pass: None,
        tracks: [1, 2]
            .map(|n| bandroom::library::NewTrack {
                number: n,
                file: format!("input-{n}.wav"),
                input_channel: Some(n),
                input_device: None,
                midi_port: None,
                frames,
            })
            .to_vec(),
    };
    let (id, _) = lib.register_take(lesson, &staged, &take).unwrap();
    let summary = lib.take(id).unwrap();
    bandroom::jobs::analyse_and_store(&mut lib, &summary, 1, "clapper 1").unwrap();
    let stored = lib.analyses(id).unwrap();
    let detail: serde_json::Value = serde_json::from_str(&stored[0].detail).unwrap();
    assert_eq!(stored[0].extras as u64, extras(&room), "as with --room");
    assert_eq!(detail["spill"], room["spill"]);
}
