//! A room of USB microphones, through the virtual host's microphones: each on a clock
//! of its own (hundreds of ppm off), with its own latency and block size, calibrated
//! and recorded beside the main device; every track must line up with the offline
//! render to ±1 frame from the start of the piece to its end.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should stop at the failing line

mod common;

use common::*;
use std::path::Path;
use std::process::Output;

fn with_library(dir: &Path, args: &[&str]) -> Output {
    let library = dir.join("library");
    let mut full: Vec<&str> = vec!["--library", library.to_str().unwrap()];
    full.extend_from_slice(args);
    bandroom(&full, dir)
}

fn mono(path: &Path) -> Vec<f32> {
    let (samples, channels) = read_wav(path);
    samples.into_iter().step_by(channels).collect()
}

/// The shift (in frames, within ±`reach`) that best lines `track` up with `reference`
/// over `len` frames from `from`: 0 when the track is where the render is.
fn best_shift(reference: &[f32], track: &[f32], from: usize, len: usize, reach: i64) -> i64 {
    let window = &reference[from..from + len];
    let energy: f64 = window.iter().map(|s| f64::from(*s).powi(2)).sum();
    assert!(energy > 1.0, "the window at {from} holds music");
    (-reach..=reach)
        .max_by(|a, b| {
            let score = |shift: i64| -> f64 {
                window
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let at = from as i64 + i as i64 + shift;
                        let t = usize::try_from(at)
                            .ok()
                            .and_then(|at| track.get(at))
                            .copied()
                            .unwrap_or(0.0);
                        f64::from(*r) * f64::from(t)
                    })
                    .sum()
            };
            score(*a).total_cmp(&score(*b))
        })
        .unwrap()
}

/// Where the piece is in the render: its first and last sounding frames.
fn music_span(render: &[f32]) -> (usize, usize) {
    let first = render.iter().position(|s| s.abs() > 0.01).unwrap();
    let last = render.iter().rposition(|s| s.abs() > 0.01).unwrap();
    (first, last)
}

const MICS: [&str; 10] = [
    "--host",
    "virtual",
    "--virtual-speed",
    "40",
    "--virtual-mics",
    "2",
    "--virtual-mic-ppm",
    "300,-250",
    "--virtual-mic-latency",
    "100,700",
];

fn record_clapping_music(d: &Path, out: &str, extra: &[&str]) -> serde_json::Value {
    let record = with_library(
        d,
        &[
            &[
                "record",
                "--inputs",
                "1,virtual mic 1@1,virtual mic 2@1",
                "--play",
                "clapping-music",
                "--repeats",
                "2",
                "--out",
                out,
                "--virtual-mic-block",
                "128,480",
            ][..],
            &MICS,
            extra,
        ]
        .concat(),
    );
    assert_ok(&record);
    take_json(&d.join(out))
}

/// The three windows the alignment is measured in: two seconds at the start, the
/// middle and the end of the piece.
fn windows(render: &[f32]) -> [usize; 3] {
    let (first, last) = music_span(render);
    let two = 96_000;
    [first, (first + last) / 2 - two / 2, last - two]
}

#[test]
fn microphones_on_their_own_clocks_line_up_with_the_render_from_start_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_ok(&bandroom(
        &[
            "render",
            "clapping-music",
            "--repeats",
            "2",
            "--out",
            "render.wav",
        ],
        d,
    ));
    let render = mono(&d.join("render.wav"));
    let calibrate = with_library(
        d,
        &[
            &["calibrate", "--also", "virtual mic 1@1,virtual mic 2@1"][..],
            &MICS,
            &["--virtual-mic-block", "128,480"],
        ]
        .concat(),
    );
    assert_ok(&calibrate);
    let said = String::from_utf8_lossy(&calibrate.stdout).to_string();
    assert_contains(&said, "virtual mic 1: sound arrives 100 frames");
    assert_contains(&said, "virtual mic 2: sound arrives 700 frames");

    let info = record_clapping_music(d, "take", &[]);
    assert_eq!(info["complete"], true, "{info}");
    let devices = info["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    for (device, ppm) in devices.iter().zip([300.0, -250.0]) {
        let measured = device["drift_ppm"].as_f64().unwrap();
        assert!((measured - ppm).abs() < 5.0, "{device}");
        assert_eq!(device["clock_followed"], true);
        assert_eq!(device["gaps"].as_array().unwrap().len(), 0, "{device}");
    }
    assert_eq!(devices[0]["correction_frames"], 100);
    assert_eq!(devices[1]["correction_frames"], 700);
    let take = d.join("take");
    for file in [
        "input-1.wav",
        "device-1-input-1.wav",
        "device-2-input-1.wav",
    ] {
        let track = mono(&take.join(file));
        assert_eq!(track.len(), render.len(), "{file} has the take's length");
        for from in windows(&render) {
            let shift = best_shift(&render, &track, from, 96_000, 40);
            assert!(
                shift.abs() <= 1,
                "{file}: {shift} frames off at frame {from}; devices: {}",
                info["devices"]
            );
        }
    }
    // The main device is exact to the sample, as it always was.
    assert_eq!(mono(&take.join("input-1.wav")), render);

    // Without following the clocks the fast microphone runs ahead: about 15 ms by the end.
    let info = record_clapping_music(d, "uncorrected", &["--no-clock-correction"]);
    assert_eq!(info["devices"][0]["clock_followed"], false);
    let fast = mono(&d.join("uncorrected/device-1-input-1.wav"));
    let [_, _, end] = windows(&render);
    let shift = best_shift(&render, &fast, end, 96_000, 1_500);
    assert!(
        shift.abs() > 100,
        "uncorrected, the end is {shift} frames off"
    );
}

#[test]
fn an_unplugged_microphone_ends_only_its_own_tracks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let record = with_library(
        d,
        &[
            "record",
            "--inputs",
            "1,virtual mic 1@1,virtual mic 2@1",
            "--seconds",
            "6",
            "--out",
            "take",
            "--latency",
            "0",
            "--host",
            "virtual",
            "--virtual-speed",
            "20",
            "--virtual-mics",
            "2",
            "--virtual-mic-unplug-after",
            "0,96000",
        ],
    );
    assert_ok(&record);
    let info = take_json(&d.join("take"));
    assert_eq!(info["complete"], true, "the take is kept: {info}");
    let tracks = info["tracks"].as_array().unwrap();
    assert!(
        tracks.iter().all(|t| t["frames"] == 288_000),
        "every track keeps the take's length: {tracks:?}"
    );
    let unplugged = &info["devices"][1];
    let warnings = unplugged["warnings"].to_string();
    assert_contains(&warnings, "unplugged");
    let gaps = unplugged["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{unplugged}");
    let at = gaps[0]["at_frame"].as_u64().unwrap();
    assert!((90_000..=100_000).contains(&at), "{unplugged}");
    assert_eq!(info["devices"][0]["gaps"].as_array().unwrap().len(), 0);
}

#[test]
fn a_device_named_wrongly_is_refused_with_what_there_is() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let record = with_library(
        d,
        &[
            "record",
            "--inputs",
            "1,virtual mic 3@1",
            "--seconds",
            "1",
            "--out",
            "take",
            "--host",
            "virtual",
            "--virtual-mics",
            "2",
        ],
    );
    assert!(!record.status.success());
    let said = stderr(&record);
    assert_contains(&said, "virtual mic 3");
    assert_contains(&said, "virtual mic 1, virtual mic 2");
    assert!(!d.join("take").exists(), "no take folder is left behind");
}

#[test]
fn a_twenty_minute_take_holds_to_the_frame_and_measures_the_drift_to_5_ppm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // At 8 kHz twenty minutes of three tracks is 115 MB, not 690.
    let piece = ["clapping-music", "--repeats", "48", "--sample-rate", "8000"];
    assert_ok(&bandroom(
        &[&["render"][..], &piece, &["--out", "render.wav"]].concat(),
        d,
    ));
    let render = mono(&d.join("render.wav"));
    assert!(render.len() > 20 * 60 * 8_000, "{} frames", render.len());
    let record = with_library(
        d,
        &[
            &["record", "--inputs", "1,virtual mic 1@1", "--play"][..],
            &piece,
            &[
                "--out",
                "take",
                "--latency",
                "0",
                "--host",
                "virtual",
                "--virtual-latency",
                "0",
                "--virtual-speed",
                "150",
                "--virtual-mics",
                "1",
                "--virtual-mic-ppm",
                "180",
                "--virtual-mic-block",
                "100",
            ],
        ]
        .concat(),
    );
    assert_ok(&record);
    let info = take_json(&d.join("take"));
    let measured = info["devices"][0]["drift_ppm"].as_f64().unwrap();
    assert!((measured - 180.0).abs() < 5.0, "{measured} ppm");
    let mic = mono(&d.join("take/device-1-input-1.wav"));
    assert_eq!(mic.len(), render.len());
    let (_, last) = music_span(&render);
    let shift = best_shift(&render, &mic, last - 16_000, 16_000, 40);
    assert!(
        shift.abs() <= 1,
        "{shift} frames off after twenty minutes; devices: {}",
        info["devices"]
    );
}

/// A filed take keeps which device each input was on: a pupil playing into a USB
/// microphone is attributed that microphone's track, never the interface's input 1.
#[test]
fn a_pupil_at_a_microphone_is_given_the_microphones_track_in_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib");
    class_8b(&root);
    let record = in_library(
        &root,
        &[
            "record",
            "--host",
            "virtual",
            "--virtual-speed",
            "20",
            "--virtual-mics",
            "1",
            "--virtual-mic-latency",
            "0",
            "--latency",
            "0",
            "--inputs",
            "1,virtual mic 1@1",
            "--play",
            "clapping-music",
            "--repeats",
            "1",
            "--class",
            "8B",
            "--plays",
            "1:Amira Okafor:clapper 1",
            "--plays",
            "virtual mic 1@1:Jan Nowak:clapper 2",
        ],
    );
    assert_ok(&record);
    let conn = rusqlite::Connection::open(root.join("bandroom.sqlite")).unwrap();
    let rows: Vec<(String, i64, Option<String>, String)> = conn
        .prepare(
            "SELECT t.file, t.input_channel, t.input_device, p.display_name
             FROM track t JOIN performer f ON f.track_id = t.id JOIN pupil p ON p.id = f.pupil_id
             ORDER BY t.number",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        vec![
            ("input-1.wav".into(), 1, None, "Amira Okafor".into()),
            (
                "device-1-input-1.wav".into(),
                1,
                Some("virtual mic 1".into()),
                "Jan Nowak".into()
            ),
        ]
    );
    let wrong = in_library(
        &root,
        &[
            "record",
            "--host",
            "virtual",
            "--virtual-mics",
            "1",
            "--inputs",
            "1,virtual mic 1@1",
            "--seconds",
            "1",
            "--class",
            "8B",
            "--plays",
            "virtual mic 1@2:Jan Nowak",
        ],
    );
    assert!(!wrong.status.success());
    assert_contains(&stderr(&wrong), "virtual mic 1@2 is not one of --inputs");
}

/// "Which mic is this?" from the command line: three microphones on clocks of their own,
/// somebody clapping in front of the second. Only the second is named, with its id; the
/// interface's inputs and the other microphones hear nothing and stay unnamed.
#[test]
fn identify_names_the_microphone_that_was_clapped_at() {
    let dir = tempfile::tempdir().unwrap();
    let out = with_library(
        dir.path(),
        &[
            "devices",
            "--host",
            "virtual",
            "--virtual-mics",
            "3",
            "--virtual-mic-ppm",
            "150,-200,80",
            "--virtual-mic-clap",
            "2",
            "--identify",
            "--seconds",
            "3",
        ],
    );
    assert_ok(&out);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert_contains(&said, "heard: virtual mic 2 (id virtual:mic-2)");
    for other in ["virtual mic 1", "virtual mic 3", "heard: Input"] {
        assert!(!said.contains(other), "{other} was named:\n{said}");
    }
    // One line per clap (one a second), not one per reading.
    let heard = said.matches("heard:").count();
    assert!((1..=4).contains(&heard), "{heard} lines:\n{said}");
}

/// Nobody claps: nothing is named, and the teacher is told what to do.
#[test]
fn identify_in_a_quiet_room_names_nothing_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = with_library(
        dir.path(),
        &[
            "devices",
            "--host",
            "virtual",
            "--virtual-mics",
            "2",
            "--identify",
            "--seconds",
            "1.5",
        ],
    );
    assert_ok(&out);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!said.contains("heard:"), "{said}");
    assert_contains(&said, "no input stood out");
    // A microphone that is not there is refused before anything listens.
    let out = with_library(
        dir.path(),
        &[
            "devices",
            "--host",
            "virtual",
            "--virtual-mics",
            "2",
            "--virtual-mic-clap",
            "3",
            "--identify",
        ],
    );
    assert!(!out.status.success());
    assert_contains(&stderr(&out), "--virtual-mic-clap 3");
}

/// A microphone named by its identity (which holds ':' as ALSA's and the virtual host's
/// do) seats its pupil with `--plays`; the take's track on it is theirs, and what its
/// clock did is said when the take is filed (an unplugged microphone here).
#[test]
fn plays_names_a_microphone_by_an_identity_with_colons() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("library");
    class_8b(&root);
    let out = in_library(
        &root,
        &[
            "record",
            "--host",
            "virtual",
            "--virtual-speed",
            "20",
            "--virtual-mics",
            "2",
            "--virtual-mic-unplug-after",
            "0,48000",
            "--inputs",
            "1,virtual:mic-2@1",
            "--seconds",
            "3",
            "--latency",
            "0",
            "--class",
            "8B",
            "--plays",
            "virtual:mic-2@1:Jan Nowak",
            "--plays",
            "1:Amira Okafor",
        ],
    );
    assert_ok(&out);
    assert_contains(&stderr(&out), "note: take 1: virtual mic 2");
    assert_contains(&stderr(&out), "unplugged");
    let listed = String::from_utf8_lossy(
        &in_library(&root, &["takes", "list", "--pupil", "Jan Nowak"]).stdout,
    )
    .into_owned();
    assert_contains(&listed, "2: Jan Nowak");
}
