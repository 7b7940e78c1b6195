//! Proves the audio thread's rule: `Engine::process` never allocates, across a whole
//! session that uses every feature (count-in, sub-beats, loop, locate, tempo change,
//! mixer commands, stems, a full event queue and buffers longer than a block).
//!
//! The violation counter is global to the process, so the tests take turns.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should stop at the failing line

use assert_no_alloc::{AllocDisabler, assert_no_alloc, reset_violation_count, violation_count};
use bandroom::engine::{Command, Engine, EngineConfig, Score, ScoreOptions};
use bandroom::music::{Bpm, phase::clapping_music, resolve};

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

/// The violation counter is global: tests that read it take turns.
static COUNTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn process(engine: &mut Engine, buffer: &mut [f32]) {
    assert_no_alloc(|| engine.process(buffer));
}

#[test]
fn engine_process_never_allocates() {
    let _turn = COUNTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // The harness itself must notice an allocation, or a zero below proves nothing.
    reset_violation_count();
    let boxed = assert_no_alloc(|| Box::new(7u64));
    assert!(
        violation_count() > 0,
        "assert_no_alloc did not count an allocation"
    );
    drop(boxed);
    reset_violation_count();

    for (arrangement, block) in [
        (clapping_music(2), 64usize),
        (resolve("pulse-layers").unwrap(), 37),
        // Every synthesized sound: keys, bass, pluck, kick, snare, hi-hat, clap, tone.
        (
            resolve(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/every-sound.toml"
            ))
            .unwrap(),
            128,
        ),
        // A whole-class band: 21 parts, chords on the downbeats.
        (resolve("bandroom-blues").unwrap(), 256),
    ] {
        let mut score = Score::new(
            &arrangement,
            ScoreOptions {
                count_in_bars: 2,
                tempo: None,
            },
        );
        // A backing stem on the first part, playing from bar 1 for ten seconds.
        score.attach_stem(0, std::sync::Arc::from(vec![0.25f32; 480_000]));
        let config = EngineConfig {
            max_block_frames: block,
            stems: true,
            voices: 8,
            event_capacity: 16,
            ..EngineConfig::default()
        };
        let (mut engine, handle) = Engine::new(score, config).unwrap();
        // A MIDI thread listening: part cues are sent from the callback too.
        let cues = handle.part_cues();
        let mut cues_seen = 0usize;
        let mut small = vec![0.0f32; block * 2];
        // Longer than a block: the engine splits it, still without allocating.
        let mut large = vec![0.0f32; block * 2 * 7 + 2];
        let script: &[(u32, Command)] = &[
            (0, Command::SetSubBeats { enabled: true }),
            (
                0,
                Command::SetTempo {
                    tempo: Bpm::new(150.0).unwrap(),
                },
            ),
            (0, Command::Play),
            (300, Command::SetLaneGain { lane: 0, gain: 0.5 }),
            (400, Command::SetLanePan { lane: 1, pan: -0.7 }),
            (
                500,
                Command::SetLaneSolo {
                    lane: 1,
                    soloed: true,
                },
            ),
            (
                600,
                Command::SetLaneMute {
                    lane: 0,
                    muted: true,
                },
            ),
            (700, Command::SetLoop { section: Some(1) }),
            (800, Command::SetMasterGain { gain: 0.8 }),
            (
                900,
                Command::SetTempo {
                    tempo: Bpm::new(120.0).unwrap(),
                },
            ),
            (1500, Command::SetLoop { section: None }),
            (1600, Command::Stop),
            (1601, Command::LocateSection { section: 2 }),
            (1602, Command::Play),
            (1700, Command::Locate { frame: 10_000 }),
            (1800, Command::SetClickEnabled { enabled: false }),
        ];
        let mut step = 0u32;
        let mut next = 0usize;
        while step < 2_000 || handle.is_playing() {
            while next < script.len() && script[next].0 == step {
                handle.send(script[next].1).unwrap();
                next += 1;
            }
            if step.is_multiple_of(3) {
                process(&mut engine, &mut large);
            } else {
                process(&mut engine, &mut small);
            }
            // Drain only now and then, so the engine also meets a full event queue.
            if step.is_multiple_of(1000) {
                while handle.try_event().is_some() {}
                cues_seen += cues.try_iter().count();
            }
            step += 1;
        }
        assert!(
            handle.events_dropped() > 0,
            "the full-queue path was exercised"
        );
        assert!(cues_seen > 0, "part cues reached the MIDI side");
        assert!(handle.part_cues_dropped() > 0, "and met a full queue");
        assert!(engine.stem(0).is_some());
        assert!(step > 2_000, "the session played to its end");
    }
    assert_eq!(violation_count(), 0, "Engine::process allocated");
}

/// The live callbacks as a device runs them: the engine on the output stream, the
/// clock and the capture tap with 32 inputs on the input stream, with jittered stamps,
/// a lost block, rings that fill up, and a take that ends.
#[test]
fn live_callbacks_never_allocate_with_32_inputs() {
    let _turn = COUNTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    reset_violation_count();
    use bandroom::audio::clock::{ClockAnchor, InputStamp, OutputStamp};
    use bandroom::audio::live::{capture_input, engine_output};
    use bandroom::engine::{CaptureConfig, CaptureTap};

    let score = Score::new(&clapping_music(1), ScoreOptions::default());
    let (engine, handle) = Engine::new(
        score,
        EngineConfig {
            max_block_frames: 128,
            ..EngineConfig::default()
        },
    )
    .unwrap();
    let (tap, mut reader) = CaptureTap::new(
        &CaptureConfig {
            channels: (0..32).collect(),
            device_channels: 32,
            ring_frames: 48_000,
        },
        &handle,
    );
    let status = std::sync::Arc::clone(tap.status());
    let anchor = ClockAnchor::new();
    let mut output = engine_output(engine, &anchor);
    let mut input = capture_input(tap, &anchor, 37, 32);
    handle.send(Command::Record { frames: 48_000 * 4 }).unwrap();
    handle.send(Command::Play).unwrap();
    let block = 128usize;
    let mut out = vec![0.0f32; block * 2];
    let input_block: Vec<f32> = (0..block * 32).map(|i| (i % 97) as f32 / 97.0).collect();
    let mut device_frame: i64 = 0;
    let mut step = 0u64;
    while !status.finished.load(std::sync::atomic::Ordering::Acquire) {
        let jitter = (step % 3) as i64 - 1;
        let stamp_out = OutputStamp {
            playback_frame: device_frame + jitter,
            reported_latency_frames: 128,
            time_secs: 0.0,
        };
        let stamp_in = InputStamp {
            capture_frame: device_frame - jitter,
            reported_latency_frames: 128,
            time_secs: 0.0,
        };
        assert_no_alloc(|| output(&mut out, stamp_out));
        if step % 50 != 49 {
            assert_no_alloc(|| input(&input_block, stamp_in));
        }
        // The recorder falls behind for a while, then catches up: the overflow path runs too.
        if !(200..600).contains(&step) {
            for ring in &mut reader.tracks {
                let n = ring.slots();
                if let Ok(chunk) = ring.read_chunk(n) {
                    chunk.commit_all();
                }
            }
            while reader.gaps.pop().is_ok() {}
        }
        device_frame += block as i64;
        step += 1;
        assert!(step < 100_000, "the take never finished");
    }
    assert!(
        status
            .overflow_frames
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    assert!(
        status
            .dropped_frames
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    assert_eq!(violation_count(), 0, "a live callback allocated");
}

/// Playing a take back in the app: the mix, a solo switched mid-way, the end reached.
#[test]
fn the_playback_callback_never_allocates() {
    let _turn = COUNTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    reset_violation_count();
    use bandroom::audio::clock::OutputStamp;
    use bandroom::audio::playback::take_player;
    let tracks: Vec<std::sync::Arc<[f32]>> = (0..8)
        .map(|i| std::sync::Arc::from(vec![0.01 * i as f32; 48_000 + i * 100]))
        .collect();
    let (state, mut output, mut input) = take_player(tracks, 2);
    let stamp = OutputStamp {
        playback_frame: 0,
        reported_latency_frames: 0,
        time_secs: 0.0,
    };
    let mut block = vec![0.0f32; 2 * 256];
    let mut blocks = 0;
    while state.is_playing() {
        if blocks == 50 {
            state.solo(3);
        }
        assert_no_alloc(|| output(&mut block, stamp));
        assert_no_alloc(|| {
            input(
                &block,
                bandroom::audio::clock::InputStamp {
                    capture_frame: 0,
                    reported_latency_frames: 0,
                    time_secs: 0.0,
                },
            )
        });
        blocks += 1;
        assert!(blocks < 1_000, "playback never ended");
    }
    assert_eq!(state.position(), 48_700);
    assert_eq!(violation_count(), 0, "the playback callback allocated");
}

/// A further input device's callback (a USB microphone's): while its aligner follows it,
/// and after the aligner has stopped and its ring has filled.
#[test]
fn a_further_devices_input_callback_never_allocates() {
    let _turn = COUNTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    reset_violation_count();
    use bandroom::audio::aligner::{AlignerSetup, DeviceAligner};
    use bandroom::audio::clock::{ClockAnchor, InputStamp, OutputClock, OutputStamp};
    use bandroom::engine::{CaptureConfig, CaptureTap, Command, Engine, EngineConfig, Score};
    let (mut engine, handle) = Engine::new(Score::silence(), EngineConfig::default()).unwrap();
    handle
        .send(Command::Record {
            frames: 48_000 * 60,
        })
        .unwrap();
    let (tap, _reader) = CaptureTap::new(
        &CaptureConfig {
            channels: vec![0, 1],
            device_channels: 2,
            ring_frames: 48_000 * 70,
        },
        &handle,
    );
    let anchor = ClockAnchor::new();
    let (mut callback, aligner) = DeviceAligner::start(
        AlignerSetup {
            name: "test mic".into(),
            device_rate_hz: 48_000,
            engine_rate_hz: 48_000,
            channels: vec![1, 0],
            device_channels: 4,
            correction_frames: 0,
            follow_clock: true,
            ring_secs: 1,
        },
        tap,
        &anchor,
    )
    .unwrap();
    let mut output_clock = OutputClock::new(&anchor);
    let mut out = vec![0.0f32; 2 * 256];
    let mic: Vec<f32> = (0..4 * 200).map(|i| (i % 13) as f32 / 13.0).collect();
    for block in 0..500u64 {
        let frame = engine.output_frame();
        engine.process(&mut out);
        output_clock.on_block(
            frame,
            256,
            OutputStamp {
                playback_frame: frame as i64,
                reported_latency_frames: 0,
                time_secs: frame as f64 / 48_000.0,
            },
        );
        let stamp = InputStamp {
            capture_frame: (block * 200) as i64,
            reported_latency_frames: 0,
            time_secs: (block * 200) as f64 / 48_000.3,
        };
        assert_no_alloc(|| callback(&mic, stamp));
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
    // The aligner stops: from here the ring fills and the callback drops blocks.
    drop(aligner);
    for block in 500..2_000u64 {
        let stamp = InputStamp {
            capture_frame: (block * 200) as i64,
            reported_latency_frames: 0,
            time_secs: (block * 200) as f64 / 48_000.3,
        };
        assert_no_alloc(|| callback(&mic, stamp));
    }
    assert_eq!(
        violation_count(),
        0,
        "a further device's callback allocated"
    );
}

/// "Which mic is this?" listens through input callbacks that only keep each input's
/// loudest sample: they must not allocate either.
#[test]
fn the_identify_callbacks_never_allocate() {
    use bandroom::audio::clock::InputStamp;
    use bandroom::audio::identify::{PeakLevels, peak_callback};
    let _turn = COUNTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    reset_violation_count();
    let levels = PeakLevels::new(34);
    let mut interface = peak_callback(std::sync::Arc::clone(&levels), 0, 32, true);
    let mut usb = peak_callback(std::sync::Arc::clone(&levels), 32, 2, false);
    let block: Vec<f32> = (0..32 * 256)
        .map(|i| (i % 17) as f32 / 17.0 - 0.5)
        .collect();
    let mic: Vec<f32> = (0..2 * 441).map(|i| (i % 5) as f32 / 5.0).collect();
    for n in 0..200i64 {
        let stamp = InputStamp {
            capture_frame: n * 256,
            reported_latency_frames: 0,
            time_secs: n as f64 * 256.0 / 48_000.0,
        };
        assert_no_alloc(|| interface(&block, stamp));
        assert_no_alloc(|| usb(&mic, stamp));
    }
    assert_eq!(violation_count(), 0, "an identify callback allocated");
    let peaks = levels.take();
    assert!(
        peaks[0] > 0.4 && peaks[33] == 0.0 && peaks[32] > 0.7,
        "{peaks:?}"
    );
}
