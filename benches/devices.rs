//! Further input devices: what aligning them costs on the recorder side, and how close
//! the clock follower gets.
//!
//! `aligner/N` aligns 10 s of N one-channel 48 kHz devices, each 250 ppm fast, through
//! the same `DeviceAligner` a take uses (its own thread per device, rubato's
//! asynchronous resampler, both clocks followed), fed as fast as the threads can take it.
//! The time is from the moment every aligner has locked until every device's track is
//! complete, so ×RT is seconds of audio per second of wall clock; the budget in the
//! issue is 32 devices at ≥ 10× real time on this 2-core machine.
//!
//! After the timings, the follower's error on a device 180 ppm fast whose block stamps
//! jitter by ±0.5 ms is printed after 10 s, 60 s and 10 minutes.
//! Run with `cargo bench --bench devices`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up; a failure should stop the run

use bandroom::audio::aligner::{AlignerSetup, DeviceAligner};
use bandroom::audio::clock::{ClockAnchor, InputStamp, OutputClock, OutputStamp};
use bandroom::audio::clock_follow::ClockFollower;
use bandroom::engine::{CaptureConfig, CaptureTap, Command, Engine, EngineConfig, Score};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const RATE: u32 = 48_000;
const SECS: u64 = 10;
const BLOCK: usize = 256;
const PPM: f64 = 250.0;

/// Aligns `SECS` seconds of `devices` drifting devices. Returns the seconds of audio
/// timed and the wall-clock time they took: the first stretch is fed at a walk until
/// every aligner's clocks are locked (untimed: locking needs the output's stamps to move
/// while the aligner watches), the rest as fast as the aligners take it.
fn align_devices(devices: usize) -> (f64, Duration) {
    let frames = SECS * u64::from(RATE);
    let (mut engine, handle) = Engine::new(Score::silence(), EngineConfig::default()).unwrap();
    handle.send(Command::Record { frames }).unwrap();
    let anchor = ClockAnchor::new();
    let mut callbacks = Vec::new();
    let mut aligners = Vec::new();
    let mut readers = Vec::new();
    for d in 0..devices {
        let (tap, reader) = CaptureTap::new(
            &CaptureConfig {
                channels: vec![0],
                device_channels: 1,
                ring_frames: (frames + u64::from(RATE)) as usize,
            },
            &handle,
        );
        let (callback, aligner) = DeviceAligner::start(
            AlignerSetup {
                name: format!("bench mic {d}"),
                device_rate_hz: RATE,
                engine_rate_hz: RATE,
                channels: vec![0],
                device_channels: 1,
                correction_frames: 0,
                follow_clock: true,
                ring_secs: SECS as u32 + 2,
            },
            tap,
            &anchor,
        )
        .unwrap();
        callbacks.push(callback);
        aligners.push(aligner);
        readers.push(reader);
    }
    let mut output = OutputClock::new(&anchor);
    let own_rate = f64::from(RATE) * (1.0 + PPM * 1e-6);
    let mut out = vec![0.0f32; BLOCK * 2];
    let block: Vec<f32> = (0..BLOCK).map(|i| ((i % 97) as f32 / 97.0) - 0.5).collect();
    let mut device_frame = 0u64;
    let mut started: Option<(Instant, u64)> = None;
    while engine.output_frame() < frames + u64::from(RATE) / 2 {
        let frame = engine.output_frame();
        engine.process(&mut out);
        output.on_block(
            frame,
            BLOCK,
            OutputStamp {
                playback_frame: frame as i64,
                reported_latency_frames: 0,
                time_secs: frame as f64 / f64::from(RATE),
            },
        );
        while (device_frame + BLOCK as u64) as f64 / own_rate
            <= (frame + BLOCK as u64) as f64 / f64::from(RATE)
        {
            let stamp = InputStamp {
                capture_frame: device_frame as i64,
                reported_latency_frames: 0,
                time_secs: device_frame as f64 / own_rate,
            };
            for callback in &mut callbacks {
                callback(&block, stamp);
            }
            device_frame += BLOCK as u64;
        }
        if started.is_none() {
            if aligners.iter().all(|a| a.report().locked) {
                started = Some((Instant::now(), engine.output_frame()));
            } else {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    let (started, from_frame) = started.expect("every aligner locked within the take");
    let until = Instant::now() + Duration::from_secs(120);
    while aligners
        .iter()
        .any(|a| !a.status().finished.load(Ordering::Acquire))
        && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    let took = started.elapsed();
    for aligner in aligners {
        let report = aligner.stop();
        assert_eq!(report.jumps, 0, "{report:?}");
    }
    for mut reader in readers {
        let got = std::iter::from_fn(|| reader.tracks[0].pop().ok()).count() as u64;
        assert_eq!(got, frames, "every device's track must be complete");
    }
    let timed_secs = frames.saturating_sub(from_frame) as f64 / f64::from(RATE);
    (timed_secs, took)
}

fn aligner(c: &mut Criterion) {
    let mut group = c.benchmark_group("aligner");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for devices in [1usize, 8, 32] {
        group.throughput(Throughput::Elements(
            devices as u64 * SECS * u64::from(RATE),
        ));
        group.bench_with_input(BenchmarkId::from_parameter(devices), &devices, |b, &n| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut slowest = f64::INFINITY;
                for _ in 0..iters {
                    let (audio_secs, took) = align_devices(n);
                    // Criterion's time is scaled to the full SECS, so runs compare.
                    total += took.mul_f64(SECS as f64 / audio_secs.max(1e-3));
                    slowest = slowest.min(audio_secs / took.as_secs_f64().max(1e-9));
                }
                println!(
                    "aligner/{n}: slowest run {slowest:.1}× real time with all {n} device(s) at once ({:.0}× real time per device)",
                    slowest * n as f64
                );
                total
            });
        });
    }
    group.finish();
}

/// A small linear congruential generator: jitter that is the same every run.
struct Jitter(u64);

impl Jitter {
    /// Uniform in ±`half_width` seconds.
    fn next(&mut self, half_width: f64) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let unit = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        (unit * 2.0 - 1.0) * half_width
    }
}

/// The follower's error after 10 s, 60 s and 10 minutes of jittery stamps.
fn follower_error(c: &mut Criterion) {
    let ppm = 180.0;
    let own_rate = f64::from(RATE) * (1.0 + ppm * 1e-6);
    let mut follower = ClockFollower::new(RATE);
    let mut jitter = Jitter(2026);
    let mut frame = 0u64;
    for check_secs in [10.0, 60.0, 600.0] {
        while (frame as f64) / own_rate < check_secs {
            follower.stamp(frame, frame as f64 / own_rate + jitter.next(0.000_5));
            frame += BLOCK as u64;
        }
        let truth = frame as f64 / own_rate;
        let error_us = (follower.time_of(frame as f64).unwrap_or(f64::NAN) - truth) * 1e6;
        println!(
            "clock follower after {check_secs:>4} s (180 ppm, ±0.5 ms jitter): drift {:.2} ppm (error {:+.2} ppm), time error {error_us:+.1} µs ({:+.3} frames), jumps {}",
            follower.drift_ppm(),
            follower.drift_ppm() - ppm,
            error_us * 1e-6 * f64::from(RATE),
            follower.jumps()
        );
    }
    // The per-stamp cost, for completeness: one stamp per callback per device.
    c.bench_function("clock follower stamp", |b| {
        let mut follower = ClockFollower::new(RATE);
        let mut frame = 0u64;
        b.iter(|| {
            follower.stamp(frame, frame as f64 / own_rate);
            frame += BLOCK as u64;
        });
    });
}

criterion_group!(benches, aligner, follower_error);
criterion_main!(benches);
