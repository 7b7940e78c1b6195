//! Backing stems: decoding and resampling a 3-minute stereo 44.1 kHz WAV to 48 kHz
//! (times real time), and the engine's callback cost with 8 busy parts plus 2 stems.
//!
//! Under `cargo test` (no `--bench`) the stem is 3 seconds long, so the suite only
//! checks the benchmark still runs. Run with `cargo bench --bench stems`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up; a failure should stop the run

mod common;

use bandroom::audio::stems::load_stem;
use bandroom::engine::{Command, Engine, EngineConfig, Score, ScoreOptions};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn stem_secs() -> u32 {
    if std::env::args().any(|a| a == "--bench") {
        180
    } else {
        3
    }
}

/// A stereo 44.1 kHz 16-bit WAV of `secs` seconds (two detuned tones), made once.
fn stereo_stem(secs: u32) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("stem-{secs}s.wav"));
    if !path.exists() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let partial = path.with_extension("partial");
        let mut writer = hound::WavWriter::create(&partial, spec).unwrap();
        for i in 0..u64::from(secs) * 44_100 {
            let t = i as f32 / 44_100.0;
            let left = (t * 220.0 * std::f32::consts::TAU).sin() * 0.4;
            let right = (t * 221.5 * std::f32::consts::TAU).sin() * 0.4;
            writer.write_sample((left * 32_000.0) as i16).unwrap();
            writer.write_sample((right * 32_000.0) as i16).unwrap();
        }
        writer.finalize().unwrap();
        std::fs::rename(&partial, &path).unwrap();
    }
    path
}

fn decode_and_resample(c: &mut Criterion) {
    let secs = stem_secs();
    let path = stereo_stem(secs);
    let mut group = c.benchmark_group("stems");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(secs) * 44_100));
    group.bench_function(
        format!("decode_and_resample_{secs}s_stereo_44k1_to_48k"),
        |b| b.iter(|| load_stem(black_box(&path), 48_000, 3600.0).unwrap()),
    );
    group.finish();
}

fn callback_with_stems(c: &mut Criterion) {
    let stem = load_stem(&stereo_stem(stem_secs()), 48_000, 3600.0).unwrap();
    let mut group = c.benchmark_group("engine_process_8_parts_2_stems");
    for block in [64usize, 128] {
        let mut score = Score::new(
            &common::busy_band(8),
            ScoreOptions {
                count_in_bars: 0,
                tempo: None,
            },
        );
        score.attach_stem(0, stem.samples.clone());
        score.attach_stem(1, stem.samples.clone());
        let (mut engine, handle) = Engine::new(
            score,
            EngineConfig {
                max_block_frames: block,
                ..EngineConfig::default()
            },
        )
        .unwrap();
        handle.send(Command::Play).unwrap();
        let mut buffer = vec![0.0f32; block * 2];
        for _ in 0..100 {
            engine.process(&mut buffer);
        }
        group.throughput(Throughput::Elements(block as u64));
        // Go back to the start before the stems run out, so every block plays them.
        let blocks_per_pass = (stem.samples.len() / block).saturating_sub(1).max(1);
        let mut played = 0usize;
        group.bench_function(BenchmarkId::from_parameter(block), |b| {
            b.iter(|| {
                played += 1;
                if played.is_multiple_of(blocks_per_pass) {
                    handle.send(Command::Locate { frame: 0 }).unwrap();
                }
                engine.process(black_box(&mut buffer));
                while handle.try_event().is_some() {}
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode_and_resample, callback_with_stems);
criterion_main!(benches);
