//! Live capture through the virtual loopback device: calibration, sample-exact
//! alignment with the offline render, injected dropouts, crash recovery, bad input.

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

/// One channel of a WAV.
fn channel(path: &Path, c: usize) -> Vec<f32> {
    let (samples, channels) = read_wav(path);
    samples.into_iter().skip(c).step_by(channels).collect()
}

#[test]
fn calibration_measures_the_injected_latency_and_takes_line_up_with_the_render_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let render = clapping_music_render(d);
    let (left, right) = (render[0].clone(), render[1].clone());
    for latency in ["0", "37", "4801"] {
        for block in ["64", "128", "1000"] {
            let virtual_args = [
                "--host",
                "virtual",
                "--virtual-latency",
                latency,
                "--virtual-block",
                block,
                "--virtual-speed",
                "40",
            ];
            let calibrate = with_library(d, &[&["calibrate"][..], &virtual_args].concat());
            assert_ok(&calibrate);
            let said = String::from_utf8_lossy(&calibrate.stdout).to_string();
            assert!(
                said.contains(&format!("comes back {latency} frames")),
                "{said}"
            );

            let out = format!("take-{latency}-{block}");
            let record = with_library(
                d,
                &[
                    &[
                        "record",
                        "--inputs",
                        "1,2",
                        "--play",
                        "clapping-music",
                        "--repeats",
                        "1",
                        "--out",
                        &out,
                    ][..],
                    &virtual_args,
                ]
                .concat(),
            );
            assert_ok(&record);
            let take_dir = d.join(&out);
            let info = take_json(&take_dir);
            assert_eq!(info["complete"], true);
            assert_eq!(
                info["latency"]["applied_frames"],
                latency.parse::<i64>().unwrap()
            );
            assert_eq!(info["gaps"].as_array().unwrap().len(), 0);
            let one = channel(&take_dir.join("input-1.wav"), 0);
            let two = channel(&take_dir.join("input-2.wav"), 0);
            assert_eq!(
                one.len(),
                left.len(),
                "latency {latency}, block {block}: take length"
            );
            let first_miss = one.iter().zip(&left).position(|(a, b)| a != b);
            assert_eq!(
                first_miss, None,
                "latency {latency}, block {block}: input 1 differs from the render"
            );
            assert!(
                two == right,
                "latency {latency}, block {block}: input 2 differs from the render"
            );
        }
    }
}

#[test]
fn dropped_input_becomes_silence_of_exactly_the_dropped_length() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let render = clapping_music_render(d).swap_remove(0);
    let record = with_library(
        d,
        &[
            "record",
            "--inputs",
            "1",
            "--play",
            "clapping-music",
            "--repeats",
            "1",
            "--out",
            "take",
            "--host",
            "virtual",
            "--virtual-latency",
            "100",
            "--virtual-block",
            "500",
            "--virtual-dropout-every",
            "40",
            "--virtual-speed",
            "40",
            "--latency",
            "100",
        ],
    );
    assert_ok(&record);
    let info = take_json(&d.join("take"));
    let gaps = info["gaps"].as_array().unwrap();
    // The device loses blocks 40, 80, 120 ... (each 500 frames); block k covers
    // device frames (k-1)*500.., which land 100 frames earlier on the timeline.
    assert!(gaps.len() >= 50, "{} gaps", gaps.len());
    let recorded = channel(&d.join("take/input-1.wav"), 0);
    assert_eq!(recorded.len(), render.len(), "gaps keep the take's length");
    let mut silent = vec![false; recorded.len()];
    for (i, gap) in gaps.iter().enumerate() {
        let at = gap["at_frame"].as_u64().unwrap();
        let frames = gap["frames"].as_u64().unwrap();
        assert_eq!(frames, 500, "gap {i}");
        assert_eq!(at, 40 * 500 * (i as u64 + 1) - 500 - 100, "gap {i}");
        for f in at..at + frames {
            silent[f as usize] = true;
        }
    }
    for (f, (got, want)) in recorded.iter().zip(&render).enumerate() {
        let expected = if silent[f] { 0.0 } else { *want };
        assert_eq!(*got, expected, "frame {f}");
    }
    assert_eq!(
        info["dropped_frames"].as_u64().unwrap(),
        500 * gaps.len() as u64
    );
    // Each dropped block is also reported as an xrun, as a real interface would report
    // it (the device may drop one more after the take's last frame).
    let xruns = info["xruns"].as_u64().unwrap();
    assert!(
        (gaps.len() as u64..=gaps.len() as u64 + 1).contains(&xruns),
        "{xruns} xruns for {} gaps",
        gaps.len()
    );
}

#[test]
fn a_killed_recording_is_recovered_losing_at_most_the_last_second() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut child = spawn_bandroom(
        d,
        &[
            "record",
            "--inputs",
            "1,2",
            "--play",
            "clapping-music",
            "--out",
            "take",
            "--host",
            "virtual",
        ],
    );
    wait_for_take(&d.join("take"));
    let started = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_millis(3500));
    child.kill().unwrap(); // SIGKILL: no clean-up runs
    let killed_after = started.elapsed().as_secs_f64();
    child.wait().unwrap();
    assert_eq!(take_json(&d.join("take"))["complete"], false);

    let recover = bandroom(&["recover", "take"], d);
    assert_ok(&recover);
    let info = take_json(&d.join("take"));
    assert_eq!(info["recovered"], true);
    for n in [1, 2] {
        let path = d.join(format!("take/input-{n}.wav"));
        let reader = hound::WavReader::open(&path).expect("a valid WAV after recovery");
        let secs = f64::from(reader.duration()) / 48_000.0;
        assert!(
            secs >= killed_after - 1.0 - 0.5,
            "input-{n}: {secs:.2} s kept of {killed_after:.2} s"
        );
        assert!(
            secs <= killed_after + 0.5,
            "input-{n}: {secs:.2} s is more than was played"
        );
        let peaks = bandroom::record::peaks::read_peaks(&path.with_extension("peaks")).unwrap();
        assert_eq!(peaks.buckets.len() as u32, reader.duration().div_ceil(256));
    }
}

#[test]
#[allow(clippy::too_many_lines)] // a table of cases, one per line of bad input
fn bad_device_input_gets_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("file"), "not a folder").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "record",
                "--inputs",
                "1",
                "--seconds",
                "1",
                "--out",
                "t",
                "--host",
                "martian",
            ],
            "unknown audio host 'martian'",
        ),
        (
            &[
                "record",
                "--inputs",
                "33",
                "--seconds",
                "1",
                "--out",
                "t",
                "--host",
                "virtual",
            ],
            "32 input channels",
        ),
        (
            &[
                "record",
                "--inputs",
                "0",
                "--seconds",
                "1",
                "--out",
                "t",
                "--host",
                "virtual",
            ],
            "count from 1",
        ),
        (
            &[
                "record",
                "--inputs",
                "1,1",
                "--seconds",
                "1",
                "--out",
                "t",
                "--host",
                "virtual",
            ],
            "twice",
        ),
        (
            &[
                "record",
                "--inputs",
                "1",
                "--seconds",
                "-3",
                "--out",
                "t",
                "--host",
                "virtual",
            ],
            "--seconds",
        ),
        (
            &[
                "record",
                "--inputs",
                "1",
                "--seconds",
                "1",
                "--out",
                "t",
                "--host",
                "virtual",
                "--sample-rate",
                "5",
            ],
            "--sample-rate 5",
        ),
        (
            &[
                "record",
                "--inputs",
                "1",
                "--seconds",
                "1",
                "--out",
                "file/t",
                "--host",
                "virtual",
            ],
            "file/t",
        ),
        (
            &[
                "record", "--inputs", "1", "--play", "nope", "--out", "t", "--host", "virtual",
            ],
            "unknown arrangement 'nope'",
        ),
        (
            &[
                "record",
                "--inputs",
                "1",
                "--seconds",
                "1",
                "--out",
                "t",
                "--host",
                "virtual",
                "--virtual-block",
                "0",
            ],
            "--virtual-block 0",
        ),
        (
            &["calibrate", "--host", "virtual", "--channel", "40"],
            "32 input channels",
        ),
        (&["recover", "missing"], "missing"),
    ];
    for (args, expected) in cases {
        let output = with_library(d, args);
        assert!(!output.status.success(), "{args:?} should fail");
        let message = stderr(&output);
        assert_eq!(message.trim_end().lines().count(), 1, "{args:?}: {message}");
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(!d.join("t").exists(), "{args:?} left a take folder behind");
    }
    // A folder that already holds a take is not overwritten.
    assert_ok(&with_library(
        d,
        &[
            "record",
            "--inputs",
            "1",
            "--seconds",
            "0.1",
            "--out",
            "t",
            "--host",
            "virtual",
            "--virtual-speed",
            "20",
        ],
    ));
    let again = with_library(
        d,
        &[
            "record",
            "--inputs",
            "1",
            "--seconds",
            "0.1",
            "--out",
            "t",
            "--host",
            "virtual",
        ],
    );
    assert_contains(&stderr(&again), "already holds a take");
}

#[test]
fn seconds_give_an_exact_length_and_peaks_describe_the_audio() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let output = with_library(
        d,
        &[
            "record",
            "--inputs",
            "3",
            "--seconds",
            "1.5",
            "--out",
            "t",
            "--host",
            "virtual",
            "--virtual-speed",
            "20",
            "--sample-rate",
            "44100",
        ],
    );
    assert_ok(&output);
    let info = take_json(&d.join("t"));
    assert_eq!(info["frames"], 66_150);
    assert_eq!(info["sample_rate_hz"], 44_100);
    assert_eq!(info["tracks"][0]["file"], "input-3.wav");
    let reader = hound::WavReader::open(d.join("t/input-3.wav")).unwrap();
    assert_eq!(reader.duration(), 66_150);
    assert_eq!(reader.spec().sample_format, hound::SampleFormat::Float);
    assert_eq!(reader.spec().bits_per_sample, 32);
    let samples: Vec<f32> = reader.into_samples::<f32>().map(Result::unwrap).collect();
    let peaks = bandroom::record::peaks::read_peaks(&d.join("t/input-3.peaks")).unwrap();
    assert_eq!(peaks.sample_rate_hz, 44_100);
    assert_eq!(peaks.buckets.len(), 66_150usize.div_ceil(256));
    for (i, (min, max)) in peaks.buckets.iter().enumerate() {
        let bucket = &samples[i * 256..((i + 1) * 256).min(samples.len())];
        let lo = bucket.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = bucket.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!((*min, *max), (lo, hi), "bucket {i}");
    }
}

#[test]
fn ctrl_c_finishes_the_take_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let child = spawn_bandroom(
        d,
        &[
            "record",
            "--inputs",
            "1",
            "--play",
            "clapping-music",
            "--out",
            "take",
            "--host",
            "virtual",
        ],
    );
    wait_for_take(&d.join("take"));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let output = child.wait_with_output().unwrap();
    assert_ok(&output);
    let info = take_json(&d.join("take"));
    assert_eq!(
        info["complete"], true,
        "Ctrl-C ends a take, it does not break it"
    );
    let frames = info["frames"].as_u64().unwrap();
    assert!(
        (48_000..=48_000 * 4).contains(&frames),
        "{frames} frames after about 1.5 s"
    );
    let reader = hound::WavReader::open(d.join("take/input-1.wav")).unwrap();
    assert_eq!(u64::from(reader.duration()), frames);
}

#[test]
fn a_full_disk_stops_the_take_with_valid_files_and_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let disk = SmallDisk::mount(&d.join("small"), "300k");
    let output = with_library(
        d,
        &[
            "record",
            "--inputs",
            "1,2",
            "--seconds",
            "5",
            "--out",
            "small/take",
            "--host",
            "virtual",
            "--virtual-speed",
            "10",
        ],
    );
    assert!(!output.status.success(), "a full disk is an error");
    let message = stderr(&output);
    assert!(message.contains("disk full"), "{message}");
    for n in [1, 2] {
        let path = d.join(format!("small/take/input-{n}.wav"));
        let reader = hound::WavReader::open(&path).expect("a valid WAV despite the full disk");
        let secs = f64::from(reader.duration()) / 48_000.0;
        assert!(
            secs > 0.1 && secs < 1.0,
            "input-{n}: {secs:.2} s on a 300 KB disk"
        );
        let samples: Vec<f32> = reader.into_samples::<f32>().map(Result::unwrap).collect();
        assert_eq!(
            samples.len() as f64 / 48_000.0,
            secs,
            "every sample the header counts is there"
        );
    }
    drop(disk);
}

/// ALSA through real cpal streams, on the `null` PCM every ALSA install has (silence in,
/// discarded out, no clock of its own): the backend opens, runs and closes cleanly.
#[test]
fn alsa_streams_record_through_the_null_device() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let output = with_library(
        d,
        &[
            "record",
            "--host",
            "alsa",
            "--input",
            "null",
            "--output",
            "null",
            "--inputs",
            "1,2",
            "--seconds",
            "1",
            "--out",
            "take",
        ],
    );
    assert_ok(&output);
    let info = take_json(&d.join("take"));
    assert_eq!(info["host"], "alsa");
    assert_eq!(info["input_device"], "null");
    assert!(
        info["buffer_frames"].as_u64().unwrap() > 0,
        "the granted buffer is reported"
    );
    for n in [1, 2] {
        let reader = hound::WavReader::open(d.join(format!("take/input-{n}.wav"))).unwrap();
        assert_eq!(reader.duration(), 48_000);
    }
    let missing = with_library(
        d,
        &[
            "record",
            "--host",
            "alsa",
            "--input",
            "Focusrite",
            "--inputs",
            "1",
            "--seconds",
            "1",
            "--out",
            "t2",
        ],
    );
    let message = stderr(&missing);
    assert!(
        message.contains("no input device called 'Focusrite' on alsa"),
        "{message}"
    );
    assert!(
        message.contains("null"),
        "the message lists what there is: {message}"
    );
    assert_eq!(
        message.trim_end().lines().count(),
        1,
        "one line, no alsa-lib chatter: {message}"
    );
}

/// Regression: with no usable sound card, alsa-lib printed its own lines ("ALSA lib
/// confmisc.c: ... Cannot get card index") before bandroom's one-line error.
#[test]
fn a_missing_sound_card_gets_one_line_without_alsa_lib_chatter() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // An ALSA configuration whose default device names a card that is not there.
    let config = d.join("asound.conf");
    std::fs::write(
        &config,
        "pcm.!default { type hw card \"NoSuchCard\" device 0 }\nctl.!default { type hw card \"NoSuchCard\" }\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bandroom"))
        .args([
            "--library",
            "lib",
            "record",
            "--host",
            "alsa",
            "--inputs",
            "1",
            "--seconds",
            "1",
            "--out",
            "take",
        ])
        .current_dir(d)
        .env("ALSA_CONFIG_PATH", &config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = stderr(&output);
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    assert!(message.contains("--host virtual"), "{message}");
    assert!(!d.join("take").exists());
}
