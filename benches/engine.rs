//! Engine cost per block (64/128/512 frames, 2 and 8 parts) and offline render speed.
//!
//! Figures go in README.md's performance section. Run with `cargo bench --bench engine`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up; a failure should stop the run

mod common;

use bandroom::audio::offline::{self, RenderSettings};
use bandroom::engine::{Command, Engine, EngineConfig, EngineHandle, Score, ScoreOptions};
use bandroom::music::phase::clapping_music;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn playing_engine(parts: usize, block: usize) -> (Engine, EngineHandle) {
    let score = Score::new(&common::busy_band(parts), ScoreOptions::default());
    let config = EngineConfig {
        max_block_frames: block,
        ..EngineConfig::default()
    };
    let (engine, handle) = Engine::new(score, config).unwrap();
    handle.send(Command::SetSubBeats { enabled: true }).unwrap();
    handle.send(Command::Play).unwrap();
    (engine, handle)
}

fn process_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_process");
    for parts in [2usize, 8] {
        for block in [64usize, 128, 512] {
            let (mut engine, handle) = playing_engine(parts, block);
            let mut buffer = vec![0.0f32; block * 2];
            // Warm up into steady state: voices sounding, queues flowing.
            for _ in 0..100 {
                engine.process(&mut buffer);
            }
            group.throughput(Throughput::Elements(block as u64));
            group.bench_function(BenchmarkId::new(format!("{parts}_parts"), block), |b| {
                b.iter(|| {
                    engine.process(black_box(&mut buffer));
                    while handle.try_event().is_some() {}
                })
            });
        }
    }
    group.finish();
}

fn render_speed(c: &mut Criterion) {
    let mut group = c.benchmark_group("offline_render");
    group.sample_size(10);
    let arrangement = clapping_music(1);
    let frames = {
        let score = Score::new(&arrangement, ScoreOptions::default());
        let (engine, _) = Engine::new(score, EngineConfig::default()).unwrap();
        engine.end_frame()
    };
    group.throughput(Throughput::Elements(frames));
    group.bench_function("clapping_music_1_repeat_48k_block512", |b| {
        b.iter(|| {
            let score = Score::new(&arrangement, ScoreOptions::default());
            let config = EngineConfig {
                max_block_frames: 512,
                ..EngineConfig::default()
            };
            let (engine, handle) = Engine::new(score, config).unwrap();
            let settings = RenderSettings {
                block_frames: 512,
                tail_frames: 0,
            };
            offline::render(engine, &handle, settings, |block| {
                black_box(block.mix);
                Ok::<(), std::convert::Infallible>(())
            })
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, process_cost, render_speed);
criterion_main!(benches);
