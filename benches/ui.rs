//! The app's frame time at its busiest: 32 live input meters and 32 waveform lanes of a
//! 5-minute take (from peaks in memory, as the app's peak cache holds them), laid out,
//! painted and tessellated by egui, against the budget of 4 ms per frame. GPU upload
//! and presentation are not included (they depend on the PC's graphics).
//!
//! The whole lesson screen too, as the app draws it: a class of 35, 32 seated inputs and
//! a 5-minute take of 32 tracks in hand, judged; and the library reads on frames where
//! nothing changed, counted (there must be none).
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

/// A frame's input for a 1920×1080 window at scale 1.
fn full_hd() -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1920.0, 1080.0),
        )),
        ..egui::RawInput::default()
    }
}

/// Times whole frames at 1920×1080: `draw` lays out one frame's central panel (the
/// frame's number lets levels move), then egui paints and tessellates it.
fn bench_frames(c: &mut Criterion, name: &str, mut draw: impl FnMut(&mut egui::Ui, u32)) {
    let ctx = egui::Context::default();
    let raw = full_hd();
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
                    level_meter(
                        &mut columns[0],
                        &format!("Input {}", input + 1),
                        level,
                        level > 0.98,
                        "Pupil",
                    );
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
                level_meter(
                    ui,
                    &format!("Input {}", input + 1),
                    level,
                    level > 0.98,
                    "Pupil",
                );
                wave.show(ui, 12.0, "Input");
            }
        },
    );
}

/// A library with a class of 35, 32 of them seated, and one 5-minute take of 32 tracks
/// attributed to them (tiny WAVs on disk; the 5-minute peaks are put in the app's cache,
/// as the peak reader leaves them).
fn lesson_for_35(root: &std::path::Path) -> (bandroom::ui::BandroomApp, i64) {
    use bandroom::library::roster::RosterRow;
    use bandroom::library::{Library, NewTake, NewTrack, Purpose, Seat};
    let mut lib = Library::open(root).unwrap();
    let class = lib.add_class("8B", None, None).unwrap();
    let rows: Vec<RosterRow> = (0..35)
        .map(|i| RosterRow {
            line: i + 2,
            name: format!("Pupil-With-A-Long-Name {i:02} Fitzgerald-Montgomery"),
            number: Some(format!("A{i:04}")),
            groups: Vec::new(),
        })
        .collect();
    lib.import_roster(class, &rows, Vec::new(), true).unwrap();
    let pupils: Vec<i64> = lib
        .pupils(Some(class))
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    let seats: Vec<Seat> = (0..LANES)
        .map(|i| Seat {
            input: i + 1,
            pupils: vec![pupils[i]],
            part: Some(if i % 2 == 0 { "clapper 1" } else { "clapper 2" }.into()),
            ..Seat::default()
        })
        .collect();
    lib.set_room_plan(class, &seats).unwrap();
    let lesson = lib.lesson_for_today(Some(class)).unwrap();
    let staged = lib.staging_folder().unwrap();
    for n in 1..=LANES {
        let mut wav = hound::WavWriter::create(
            staged.join(format!("input-{n}.wav")),
            hound::WavSpec {
                channels: 1,
                sample_rate: RATE,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            },
        )
        .unwrap();
        for i in 0..4800 {
            wav.write_sample((i as f32 * 0.01).sin() * 0.5).unwrap();
        }
        wav.finalize().unwrap();
    }
    let frames = u64::from(TAKE_SECS * RATE);
    let take = NewTake {
        recorded_at: bandroom::library::now(),
        arrangement: Some("clapping-music".into()),
        tempo_bpm: Some(160.0),
        repeats: None,
        count_in_bars: 1,
        section: None,
        host: "virtual".into(),
        input_device: "virtual loopback".into(),
        output_device: "virtual loopback".into(),
        sample_rate_hz: RATE,
        latency_applied_frames: 0,
        frames,
        duration_secs: f64::from(TAKE_SECS),
        xruns: 0,
        gaps: 0,
        complete: true,
        purpose: Purpose::Assessment,
        music_frames: None,
        pass: None,
        tracks: (1..=LANES)
            .map(|n| NewTrack {
                number: n as i64,
                file: format!("input-{n}.wav"),
                input_channel: Some(n as i64),
                input_device: None,
                midi_port: None,
                frames,
            })
            .collect(),
    };
    let (take, folder) = lib.register_take(lesson, &staged, &take).unwrap();
    for (i, seat) in seats.iter().enumerate() {
        lib.attribute(
            take,
            i as i64 + 1,
            &seat.pupils,
            seat.part.as_deref(),
            None,
            None,
        )
        .unwrap();
    }
    drop(lib);
    let mut app = bandroom::ui::BandroomApp::open(root).unwrap();
    app.cx.class = Some(class);
    app.screen = bandroom::ui::Screen::Lesson;
    for n in 1..=LANES {
        app.cx
            .peaks
            .insert(&folder.join(format!("input-{n}.wav")), five_minute_peaks(n));
    }
    (app, class)
}

fn lesson_screen_frame_time(c: &mut Criterion) {
    lesson_screen_frames(c, &[]);
    lesson_screen_frames(c, &["pulse", "ensemble"]);
}

/// The lesson screen's frames with `focus` chosen for the class (none: every criterion).
fn lesson_screen_frames(c: &mut Criterion, focus: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, class) = lesson_for_35(&dir.path().join("lib"));
    let focus: Vec<String> = focus.iter().map(|k| k.to_string()).collect();
    app.cx.lib.set_focus_criteria(class, &focus).unwrap();
    let ctx = egui::Context::default();
    let raw = full_hd();
    let frame = |app: &mut bandroom::ui::BandroomApp| {
        let output = ctx.run(raw.clone(), |ctx| app.ui(ctx));
        black_box(ctx.tessellate(output.shapes, output.pixels_per_point))
    };
    // The first frames read the library and settle the layout; after that nothing
    // changes, and a frame must not go to the database at all.
    for _ in 0..5 {
        frame(&mut app);
    }
    let before = app.cx.cache.reads;
    for _ in 0..20 {
        frame(&mut app);
    }
    let reads = app.cx.cache.reads - before;
    println!("library reads on 20 unchanged frames of the lesson screen: {reads}");
    assert_eq!(reads, 0, "a frame where nothing changed read the library");
    let judged = if focus.is_empty() {
        "every criterion judged".to_string()
    } else {
        format!("focus {}", focus.join(" + "))
    };
    c.bench_function(
        &format!(
            "UI frame: lesson screen, class of 35, 32 inputs, 5-minute take of 32 tracks, {judged}"
        ),
        |b| b.iter(|| frame(&mut app)),
    );
}

criterion_group!(
    benches,
    frame_time,
    recording_frame_time,
    lesson_screen_frame_time
);
criterion_main!(benches);
