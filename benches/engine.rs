//! Engine cost per block (64/128/512 frames, 2 and 8 parts), offline render speed, and
//! a ten-minute four-track MIDI file imported and rendered.
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

/// Renders `arrangement` at 48 kHz in blocks of 512 frames, keeping nothing.
fn render_into_nothing(arrangement: &bandroom::music::Arrangement) -> offline::RenderSummary {
    let score = Score::new(arrangement, ScoreOptions::default());
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
        b.iter(|| render_into_nothing(&arrangement))
    });
    group.finish();
}

/// `bars` bars of a band as notation software exports it (300 bars are just over ten
/// minutes): 480 pulses a quarter, 4/4, a
/// tempo change every eight bars; piano chords on the beat, a bass, an eighth-note
/// melody and drums on channel 10.
fn band_file(bars: u32) -> Vec<u8> {
    use midly::num::{u4, u7, u15, u24, u28};
    use midly::{
        Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind,
    };
    const PPQ: u32 = 480;
    let at = |delta: u32, kind: TrackEventKind<'static>| TrackEvent {
        delta: u28::new(delta),
        kind,
    };
    let mut smf = Smf::new(Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(PPQ as u16)),
    ));
    let mut conductor = vec![at(
        0,
        TrackEventKind::Meta(MetaMessage::TimeSignature(4, 2, 24, 8)),
    )];
    for block in 0..bars.div_ceil(8) {
        let delta = if block == 0 { 0 } else { 8 * 4 * PPQ };
        let micros = 500_000 + 3_331 * (block % 5);
        conductor.push(at(
            delta,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(micros))),
        ));
    }
    conductor.push(at(0, TrackEventKind::Meta(MetaMessage::EndOfTrack)));
    smf.tracks.push(conductor);
    // (channel, program, step in pulses, length, pitches struck together)
    let lines: [(u8, u8, u32, u32, &[u8]); 4] = [
        (0, 0, PPQ, PPQ - 20, &[60, 64, 67]),
        (1, 33, PPQ, PPQ / 2, &[36]),
        (2, 73, PPQ / 2, PPQ / 2 - 10, &[72]),
        (9, 0, PPQ / 2, 30, &[42]),
    ];
    for (channel, program, step, length, pitches) in lines {
        let ch = u4::new(channel);
        let mut events = vec![at(
            0,
            TrackEventKind::Midi {
                channel: ch,
                message: MidiMessage::ProgramChange {
                    program: u7::new(program),
                },
            },
        )];
        let mut rest = 0;
        for i in 0..bars * 4 * PPQ / step {
            for (n, pitch) in pitches.iter().enumerate() {
                let key = u7::new(pitch + (i % 5) as u8);
                let delta = if n == 0 { rest } else { 0 };
                events.push(at(
                    delta,
                    TrackEventKind::Midi {
                        channel: ch,
                        message: MidiMessage::NoteOn {
                            key,
                            vel: u7::new(90),
                        },
                    },
                ));
            }
            for (n, pitch) in pitches.iter().enumerate() {
                let key = u7::new(pitch + (i % 5) as u8);
                let delta = if n == 0 { length } else { 0 };
                events.push(at(
                    delta,
                    TrackEventKind::Midi {
                        channel: ch,
                        message: MidiMessage::NoteOff {
                            key,
                            vel: u7::new(0),
                        },
                    },
                ));
            }
            rest = step - length;
        }
        events.push(at(0, TrackEventKind::Meta(MetaMessage::EndOfTrack)));
        smf.tracks.push(events);
    }
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes).unwrap();
    bytes
}

/// A ten-minute, four-track MIDI file read into an arrangement and rendered at 48 kHz:
/// criterion's elements are frames, so elements a second over 48 000 is × real time.
fn midi_import_and_render(c: &mut Criterion) {
    // `cargo test --benches` runs each benchmark once, in a debug build: there a
    // 30-second file shows the benchmark works; `cargo bench` measures ten minutes.
    let measuring = std::env::args().any(|a| a == "--bench");
    let bytes = band_file(if measuring { 300 } else { 15 });
    let mut group = c.benchmark_group("midi_file");
    group.sample_size(10);
    group.bench_function("import_10_minute_4_track_file", |b| {
        b.iter(|| {
            bandroom::music::midi_file::parse_midi(black_box(&bytes), "band.mid", "band").unwrap()
        })
    });
    let arrangement = bandroom::music::midi_file::parse_midi(&bytes, "band.mid", "band").unwrap();
    let frames = {
        let score = Score::new(&arrangement, ScoreOptions::default());
        let (engine, _) = Engine::new(score, EngineConfig::default()).unwrap();
        engine.end_frame()
    };
    assert!(
        !measuring || frames > 10 * 60 * 48_000,
        "ten minutes: {frames} frames"
    );
    group.throughput(Throughput::Elements(frames));
    group.bench_function("import_and_render_10_minute_4_track_file_48k", |b| {
        b.iter(|| {
            let arrangement =
                bandroom::music::midi_file::parse_midi(black_box(&bytes), "band.mid", "band")
                    .unwrap();
            render_into_nothing(&arrangement)
        })
    });
    group.finish();
}

criterion_group!(benches, process_cost, render_speed, midi_import_and_render);
criterion_main!(benches);
