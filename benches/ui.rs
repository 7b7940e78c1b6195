//! The app's frame time at its busiest: 32 live input meters and 32 waveform lanes of a
//! 5-minute take (from peaks in memory, as the app's peak cache holds them), laid out,
//! painted and tessellated by egui, against the budget of 4 ms per frame. GPU upload
//! and presentation are not included (they depend on the PC's graphics).
//!
//! Run with `cargo bench --bench ui`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up; a failure should stop the run

use bandroom::record::peaks::Peaks;
use bandroom::ui::live_wave::LiveWave;
use bandroom::ui::widgets::{PeakCache, level_meter, waveform};
use criterion::{Criterion, criterion_group, criterion_main};
use eframe::egui;
use std::hint::black_box;
use std::path::PathBuf;

const LANES: usize = 32;
const RATE: u32 = 48_000;
const FRAMES_PER_PEAK: u32 = 256;
const TAKE_SECS: u32 = 300;

fn five_minute_peaks(seed: usize) -> Peaks {
    let buckets = (TAKE_SECS * RATE / FRAMES_PER_PEAK) as usize;
    Peaks {
        frames_per_peak: FRAMES_PER_PEAK,
        sample_rate_hz: RATE,
        buckets: (0..buckets)
            .map(|i| {
                let a = (((i * (seed + 3)) % 997) as f32 / 997.0) * 0.8;
                (-a, a * 0.9)
            })
            .collect(),
    }
}

/// Times whole frames at 1920×1080: `draw` lays out one frame's central panel (the
/// frame's number lets levels move), then egui paints and tessellates it.
fn bench_frames(c: &mut Criterion, name: &str, mut draw: impl FnMut(&mut egui::Ui, u32)) {
    let ctx = egui::Context::default();
    let raw = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1920.0, 1080.0),
        )),
        ..egui::RawInput::default()
    };
    let mut tick = 0u32;
    c.bench_function(name, |b| {
        b.iter(|| {
            tick = tick.wrapping_add(1);
            let output = ctx.run(raw.clone(), |ctx| {
                egui::CentralPanel::default().show(ctx, |ui| draw(ui, tick));
            });
            black_box(ctx.tessellate(output.shapes, output.pixels_per_point))
        })
    });
}

/// A level that moves every frame, as meters do while recording.
fn moving_level(tick: u32, input: usize) -> f32 {
    ((tick as usize + input * 7) % 100) as f32 / 100.0
}

fn frame_time(c: &mut Criterion) {
    let mut cache = PeakCache::default();
    let lanes: Vec<PathBuf> = (0..LANES)
        .map(|i| PathBuf::from(format!("input-{}.wav", i + 1)))
        .collect();
    for (i, lane) in lanes.iter().enumerate() {
        cache.insert(lane, five_minute_peaks(i));
    }
    bench_frames(
        c,
        "UI frame: 32 meters + 32 waveform lanes of 5 minutes",
        |ui, tick| {
            ui.columns(2, |columns| {
                for input in 0..LANES {
                    let level = moving_level(tick, input);
                    level_meter(&mut columns[0], input + 1, level, level > 0.98, "Pupil");
                }
                for lane in &lanes {
                    waveform(&mut columns[1], &mut cache, lane, 26.0);
                }
            });
        },
    );
}

/// The lesson screen while recording: a meter and a growing waveform per input, five
/// minutes into the take.
fn recording_frame_time(c: &mut Criterion) {
    let waves: Vec<LiveWave> = (0..LANES)
        .map(|input| {
            let mut wave = LiveWave::default();
            // 40 meter reads a second, as the UI makes them.
            for read in 0..(TAKE_SECS * 40) {
                let peak = (((read as usize * (input + 3)) % 997) as f32 / 997.0) * 0.8;
                wave.push(f64::from(read) / 40.0, peak);
            }
            wave
        })
        .collect();
    bench_frames(
        c,
        "UI frame while recording: 32 meters + 32 growing waveforms at 5 minutes",
        |ui, tick| {
            for (input, wave) in waves.iter().enumerate() {
                let level = moving_level(tick, input);
                level_meter(ui, input + 1, level, level > 0.98, "Pupil");
                wave.show(ui, 12.0, "Input");
            }
        },
    );
}

criterion_group!(benches, frame_time, recording_frame_time);
criterion_main!(benches);
