//! Proves the audio thread's rule: `Engine::process` never allocates, across a whole
//! session that uses every feature (count-in, sub-beats, loop, locate, tempo change,
//! mixer commands, stems, a full event queue and buffers longer than a block).
//!
//! Everything is in one test because the violation counter is global to the process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should stop at the failing line

use assert_no_alloc::{AllocDisabler, assert_no_alloc, reset_violation_count, violation_count};
use bandroom::engine::{Command, Engine, EngineConfig, Score, ScoreOptions};
use bandroom::music::{Bpm, phase::clapping_music, resolve};

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

fn process(engine: &mut Engine, buffer: &mut [f32]) {
    assert_no_alloc(|| engine.process(buffer));
}

#[test]
fn engine_process_never_allocates() {
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
    ] {
        let score = Score::new(
            &arrangement,
            ScoreOptions {
                count_in_bars: 2,
                tempo: None,
            },
        );
        let config = EngineConfig {
            max_block_frames: block,
            stems: true,
            voices: 8,
            event_capacity: 16,
            ..EngineConfig::default()
        };
        let (mut engine, handle) = Engine::new(score, config).unwrap();
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
            }
            step += 1;
        }
        assert!(
            handle.events_dropped() > 0,
            "the full-queue path was exercised"
        );
        assert!(engine.stem(0).is_some());
        assert!(step > 2_000, "the session played to its end");
    }
    assert_eq!(violation_count(), 0, "Engine::process allocated");
}
