//! Onset analysis speed on one track: a 3-minute mono 48 kHz take of claps and plucks
//! in light noise, against the budget of at least 100× real time per track.
//!
//! With `--room`, the same track told apart from three other microphones of the take
//! (their onsets found once, as the library does): the cost added per track analysed.
//!
//! Under `cargo test` (no `--bench`) the track is 5 seconds long. Run with
//! `cargo bench --bench analysis`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up; a failure should stop the run

use bandroom::analysis::onsets::{OnsetSettings, detect, detect_bursts};
use bandroom::analysis::spill::own_claps;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const RATE: u32 = 48_000;

fn take(secs: usize) -> Vec<f32> {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut out: Vec<f32> = (0..secs * RATE as usize).map(|_| noise() * 0.003).collect();
    let step = RATE as usize / 4; // eighths at 120 BPM
    for (i, at) in (0..out.len()).step_by(step).enumerate() {
        for n in 0..(RATE as usize / 8).min(out.len() - at) {
            let t = n as f32 / RATE as f32;
            out[at + n] += if i % 2 == 0 {
                noise() * (-t / 0.012).exp() * 0.6
            } else {
                (t * 220.0 * std::f32::consts::TAU).sin() * (-t / 0.1).exp() * 0.4
            };
        }
    }
    out
}

fn onset_speed(c: &mut Criterion) {
    let secs = if std::env::args().any(|a| a == "--bench") {
        180
    } else {
        5
    };
    let track = take(secs);
    let mut group = c.benchmark_group("analysis");
    group.sample_size(10);
    group.throughput(Throughput::Elements(track.len() as u64));
    group.bench_function(format!("onsets_{secs}s_track"), |b| {
        b.iter(|| detect(black_box(&track), RATE, OnsetSettings::default()))
    });
    // Three neighbours: the same take shifted by a few milliseconds and quieter.
    let room: Vec<Vec<(u64, f32)>> = [96usize, 240, 432]
        .iter()
        .map(|&shift| {
            let mut other = vec![0.0f32; shift];
            other.extend(track.iter().map(|x| x * 0.5));
            detect_bursts(&other, RATE, OnsetSettings::default())
        })
        .collect();
    group.bench_function(format!("onsets_{secs}s_track_with_3_room_tracks"), |b| {
        b.iter(|| {
            let own = detect_bursts(black_box(&track), RATE, OnsetSettings::default());
            own_claps(&own, &room, RATE, OnsetSettings::default())
        })
    });
    group.finish();
}

criterion_group!(benches, onset_speed);
criterion_main!(benches);
