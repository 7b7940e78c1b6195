//! Live callback cost (engine with 8 parts + metronome on the output, capture of 8, 16
//! or 32 inputs on the input) and recorder throughput writing 32 tracks to disk.
//!
//! Criterion reports the mean per callback pair; the p99 over 20 000 individually
//! timed callback pairs is printed beside it, against the 25 % budget of DESIGN.md.
//! Run with `cargo bench --bench live`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up; a failure should stop the run

mod common;

use bandroom::audio::clock::{ClockAnchor, InputStamp, OutputStamp};
use bandroom::audio::device::{InputCallback, OutputCallback};
use bandroom::audio::live::{capture_input, engine_output};
use bandroom::engine::{
    CaptureConfig, CaptureReader, CaptureTap, Command, Engine, EngineConfig, Score, ScoreOptions,
};
use bandroom::record::recorder::Recorder;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::time::{Duration, Instant};

const RATE: u32 = 48_000;

struct Live {
    output: OutputCallback,
    input: InputCallback,
    reader: CaptureReader,
    out: Vec<f32>,
    inp: Vec<f32>,
    device_frame: i64,
    block: usize,
}

impl Live {
    fn new(inputs: usize, block: usize) -> Live {
        let score = Score::new(&common::busy_band(8), ScoreOptions::default());
        let (engine, handle) = Engine::new(
            score,
            EngineConfig {
                max_block_frames: block,
                ..EngineConfig::default()
            },
        )
        .unwrap();
        let (tap, reader) = CaptureTap::new(
            &CaptureConfig {
                channels: (0..inputs).collect(),
                device_channels: inputs,
                ring_frames: 5 * RATE as usize,
            },
            &handle,
        );
        let anchor = ClockAnchor::new();
        handle.send(Command::Record { frames: u64::MAX }).unwrap();
        handle.send(Command::Play).unwrap();
        Live {
            output: engine_output(engine, &anchor),
            input: capture_input(tap, &anchor, 128, inputs),
            reader,
            out: vec![0.0; block * 2],
            inp: (0..block * inputs)
                .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
                .collect(),
            device_frame: 0,
            block,
        }
    }

    /// One output and one input callback, as the device would call them.
    fn callbacks(&mut self) {
        (self.output)(
            &mut self.out,
            OutputStamp {
                playback_frame: self.device_frame,
                reported_latency_frames: 0,
                time_secs: 0.0,
            },
        );
        (self.input)(
            &self.inp,
            InputStamp {
                capture_frame: self.device_frame,
                reported_latency_frames: 0,
                time_secs: 0.0,
            },
        );
        self.device_frame += self.block as i64;
    }

    /// What the recorder thread does, outside the timed callbacks.
    fn drain(&mut self) {
        for ring in &mut self.reader.tracks {
            let n = ring.slots();
            if let Ok(chunk) = ring.read_chunk(n) {
                chunk.commit_all();
            }
        }
        while self.reader.gaps.pop().is_ok() {}
    }
}

fn callback_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("live_callbacks_8_parts");
    for inputs in [8usize, 16, 32] {
        for block in [64usize, 128] {
            let mut live = Live::new(inputs, block);
            for _ in 0..200 {
                live.callbacks();
                live.drain();
            }
            // p99 over individually timed callback pairs.
            let mut times: Vec<Duration> = (0..20_000)
                .map(|_| {
                    let t = Instant::now();
                    live.callbacks();
                    let spent = t.elapsed();
                    live.drain();
                    spent
                })
                .collect();
            times.sort_unstable();
            let period = Duration::from_secs_f64(block as f64 / f64::from(RATE));
            let p99 = times[times.len() * 99 / 100];
            eprintln!(
                "live callbacks, {inputs} inputs, {block} frames: p99 {:.1} µs = {:.1} % of the {:.0} µs period (median {:.1} µs)",
                p99.as_secs_f64() * 1e6,
                100.0 * p99.as_secs_f64() / period.as_secs_f64(),
                period.as_secs_f64() * 1e6,
                times[times.len() / 2].as_secs_f64() * 1e6
            );
            group.throughput(Throughput::Elements(block as u64));
            group.bench_function(BenchmarkId::new(format!("{inputs}_inputs"), block), |b| {
                b.iter_custom(|iters| {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let t = Instant::now();
                        live.callbacks();
                        spent += t.elapsed();
                        live.drain();
                    }
                    spent
                })
            });
        }
    }
    group.finish();
}

fn recorder_throughput(c: &mut Criterion) {
    const TRACKS: usize = 32;
    const SECONDS: usize = 20;
    let mut group = c.benchmark_group("recorder");
    group.sample_size(10);
    group.throughput(Throughput::Elements((SECONDS * RATE as usize) as u64));
    group.bench_function("32_tracks_20_s_to_disk", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().unwrap();
                let score = Score::new(&common::busy_band(1), ScoreOptions::default());
                let (mut engine, handle) = Engine::new(score, EngineConfig::default()).unwrap();
                let total = (SECONDS * RATE as usize) as u64;
                let (mut tap, reader) = CaptureTap::new(
                    &CaptureConfig {
                        channels: (0..TRACKS).collect(),
                        device_channels: TRACKS,
                        ring_frames: 5 * RATE as usize,
                    },
                    &handle,
                );
                // The take covers output frames 0..total: one engine block starts it.
                handle.send(Command::Record { frames: total }).unwrap();
                engine.process(&mut [0.0; 2]);
                let names: Vec<String> = (1..=TRACKS).map(|n| format!("input-{n}")).collect();
                let block = 1024usize;
                let input: Vec<f32> = (0..block * TRACKS)
                    .map(|i| (i % 101) as f32 / 101.0)
                    .collect();
                let status = std::sync::Arc::clone(tap.status());
                let started = Instant::now();
                let recorder = Recorder::start(dir.path(), &names, RATE, reader).unwrap();
                let mut frame = 0i64;
                while frame < total as i64 {
                    // Feed as fast as the recorder drains: only a full ring makes us wait.
                    if status
                        .overflow_frames
                        .load(std::sync::atomic::Ordering::Relaxed)
                        > 0
                    {
                        panic!("the recorder fell behind a feeder that waits for room");
                    }
                    if tap.room_frames() >= block {
                        tap.capture(&input, frame);
                        frame += block as i64;
                    } else {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
                let report = recorder.finish();
                spent += started.elapsed();
                assert_eq!(report.frames, total);
                assert!(report.error.is_none());
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, callback_cost, recorder_throughput);
criterion_main!(benches);
