//! The engine through its public API: exact scheduling inside blocks, transport,
//! mixer, metronome routing and meters, with no device in sight.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should stop at the failing line

mod common;

use bandroom::engine::{
    ClickRoute, Command, Engine, EngineConfig, EngineHandle, Event, NoteRole, Score, ScoreOptions,
};
use bandroom::music::{
    Arrangement, Bpm, Meter, Note, Part, Section, Sound, TICKS_PER_QUARTER, TempoRange,
};
use common::exact_frame;

fn bpm(v: f64) -> Bpm {
    Bpm::new(v).unwrap()
}

fn part(name: &str, sound: Sound) -> Part {
    Part {
        name: name.into(),
        sound,
        instrument: sound.name().into(),
        tier: "core".into(),
        stem: None,
        gain: 1.0,
        pan: 0.0,
    }
}

fn note(at_ticks: u64, pitch: u8) -> Note {
    Note {
        at_ticks,
        len_ticks: TICKS_PER_QUARTER / 2,
        pitch,
        velocity: 100,
    }
}

/// A 4/4 piece at `tempo` with one section of `bars` bars played `repeats` times.
fn piece(
    tempo: f64,
    parts: Vec<Part>,
    notes: Vec<Vec<Note>>,
    bars: u32,
    repeats: u32,
) -> Arrangement {
    let arrangement = Arrangement {
        name: "test".into(),
        title: "Test".into(),
        composer: None,
        meter: Meter::new(4, 4).unwrap(),
        tempo: TempoRange {
            default: bpm(tempo),
            practice_min: bpm(20.0),
            practice_max: bpm(400.0),
        },
        parts,
        sections: vec![Section {
            name: "A".into(),
            bars,
            repeats,
            tempo: None,
            tempo_changes: Vec::new(),
            chords: Vec::new(),
            grids: vec![None; notes.len()],
            notes,
            meter: None,
            pickup: false,
        }],
        tiers: vec!["core".into()],
    };
    arrangement.validate().unwrap();
    arrangement
}

fn engine(arr: &Arrangement, count_in: u32, config: EngineConfig) -> (Engine, EngineHandle) {
    let score = Score::new(
        arr,
        ScoreOptions {
            count_in_bars: count_in,
            tempo: None,
        },
    );
    Engine::new(score, config).unwrap()
}

fn drain(handle: &EngineHandle) -> Vec<Event> {
    std::iter::from_fn(|| handle.try_event()).collect()
}

#[test]
fn a_note_at_frame_1000_starts_at_offset_488_of_the_second_512_frame_block() {
    // At 120 BPM and 48 kHz a quarter is 24 000 frames, so 1/24 of a quarter is frame 1000.
    let arr = piece(
        120.0,
        vec![part("p", Sound::Clap)],
        vec![vec![note(TICKS_PER_QUARTER / 24, 60)]],
        1,
        1,
    );
    let (mut engine, handle) = engine(
        &arr,
        0,
        EngineConfig {
            max_block_frames: 512,
            ..Default::default()
        },
    );
    handle
        .send(Command::SetClickEnabled { enabled: false })
        .unwrap();
    handle.send(Command::Play).unwrap();
    let mut first = vec![0.0f32; 1024];
    let mut second = vec![0.0f32; 1024];
    engine.process(&mut first);
    engine.process(&mut second);
    assert!(first.iter().all(|s| *s == 0.0), "nothing before the note");
    let onset = second.iter().position(|s| *s != 0.0).unwrap() / 2;
    assert_eq!(onset, 488);
    let notes: Vec<u64> = drain(&handle)
        .into_iter()
        .filter_map(|e| match e {
            Event::Note { output_frame, .. } => Some(output_frame),
            _ => None,
        })
        .collect();
    assert_eq!(notes, vec![1000]);
}

#[test]
fn no_drift_after_ten_thousand_beats() {
    for rate in [44_100u32, 48_000] {
        let arr = piece(
            173.0,
            vec![part("pulse", Sound::Clap)],
            vec![vec![note(0, 60)]],
            1,
            2500,
        );
        let config = EngineConfig {
            sample_rate_hz: rate,
            max_block_frames: 4096,
            ..Default::default()
        };
        let (mut engine, handle) = engine(&arr, 0, config);
        handle.send(Command::Play).unwrap();
        let mut buffer = vec![0.0f32; 4096 * 2];
        let mut beats = Vec::new();
        let mut clicks = 0u64;
        while engine_is_running(&handle, &mut engine, &mut buffer) {
            for event in drain(&handle) {
                if let Event::Note {
                    output_frame, role, ..
                } = event
                {
                    if role == NoteRole::Part {
                        beats.push(output_frame);
                    } else {
                        assert_eq!(output_frame, exact_frame(clicks, 1, 173, rate.into()));
                        clicks += 1;
                    }
                }
            }
        }
        assert_eq!(beats.len(), 2500, "one clap per bar");
        for (bar, frame) in beats.iter().enumerate() {
            assert_eq!(
                *frame,
                exact_frame(bar as u64 * 4, 1, 173, rate.into()),
                "bar {bar} at {rate} Hz"
            );
        }
        assert_eq!(clicks, 10_000);
        assert_eq!(engine.end_frame(), exact_frame(10_000, 1, 173, rate.into()));
        assert_eq!(handle.events_dropped(), 0);
    }
}

fn engine_is_running(handle: &EngineHandle, engine: &mut Engine, buffer: &mut [f32]) -> bool {
    engine.process(buffer);
    handle.is_playing()
}

#[test]
fn a_looped_section_repeats_until_the_loop_is_cleared() {
    let arr = piece(
        120.0,
        vec![part("p", Sound::Tone)],
        vec![vec![note(0, 60)]],
        1,
        1,
    );
    let mut sections = arr.sections[0].clone();
    sections.name = "B".into();
    let mut arr = arr;
    arr.sections.push(sections);
    let (mut engine, handle) = engine(&arr, 0, EngineConfig::default());
    handle.send(Command::SetLoop { section: Some(1) }).unwrap();
    handle.send(Command::Play).unwrap();
    let bar = 96_000usize; // 4 beats at 120 BPM, 48 kHz
    let mut buffer = vec![0.0f32; 2 * 1000];
    for _ in 0..(5 * bar / 1000) {
        engine.process(&mut buffer);
    }
    let events = drain(&handle);
    let wraps: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::LoopWrapped {
                output_frame,
                to_frame,
            } => {
                assert_eq!(*to_frame, bar as u64);
                Some(*output_frame)
            }
            _ => None,
        })
        .collect();
    assert_eq!(wraps, vec![2 * bar as u64, 3 * bar as u64, 4 * bar as u64]);
    assert!(handle.is_playing());
    handle.send(Command::SetLoop { section: None }).unwrap();
    for _ in 0..(2 * bar / 1000) {
        engine.process(&mut buffer);
    }
    assert!(!handle.is_playing(), "without the loop the piece ends");
    assert!(
        drain(&handle)
            .iter()
            .any(|e| matches!(e, Event::Finished { .. }))
    );
}

#[test]
fn click_routed_to_its_own_channel_stays_out_of_the_mix() {
    let arr = piece(120.0, vec![part("p", Sound::Clap)], vec![vec![]], 1, 1);
    let config = EngineConfig {
        output_channels: 3,
        click_route: ClickRoute::Channel(2),
        ..Default::default()
    };
    let (mut engine, handle) = engine(&arr, 1, config);
    handle.send(Command::Play).unwrap();
    let mut buffer = vec![0.0f32; 3 * 48_000];
    engine.process(&mut buffer);
    let channel = |c: usize| buffer.iter().skip(c).step_by(3).map(|s| s * s).sum::<f32>();
    assert!(channel(2) > 0.0, "the teacher hears the click");
    assert_eq!(channel(0) + channel(1), 0.0, "the room does not");
    let bad = EngineConfig {
        output_channels: 2,
        click_route: ClickRoute::Channel(2),
        ..Default::default()
    };
    let score = Score::new(&arr, ScoreOptions::default());
    assert!(Engine::new(score, bad).is_err());
}

#[test]
fn mute_solo_gain_and_pan_shape_the_mix() {
    let arr = piece(
        120.0,
        vec![part("a", Sound::Tone), part("b", Sound::Tone)],
        vec![vec![note(0, 60)], vec![note(0, 67)]],
        1,
        1,
    );
    let render = |commands: &[Command]| {
        let (mut engine, handle) = engine(&arr, 0, EngineConfig::default());
        handle
            .send(Command::SetClickEnabled { enabled: false })
            .unwrap();
        for c in commands {
            handle.send(*c).unwrap();
        }
        handle.send(Command::Play).unwrap();
        let mut buffer = vec![0.0f32; 2 * 9600];
        engine.process(&mut buffer);
        let left: f32 = buffer.iter().step_by(2).map(|s| s * s).sum();
        let right: f32 = buffer.iter().skip(1).step_by(2).map(|s| s * s).sum();
        (left, right)
    };
    let (both_l, both_r) = render(&[]);
    let (solo_l, _) = render(&[Command::SetLaneSolo {
        lane: 0,
        soloed: true,
    }]);
    let (mute_l, _) = render(&[Command::SetLaneMute {
        lane: 1,
        muted: true,
    }]);
    assert!(solo_l > 0.0 && solo_l < both_l);
    assert_eq!(solo_l, mute_l, "soloing a is muting b");
    let (silent_l, silent_r) = render(&[Command::SetMasterGain { gain: 0.0 }]);
    assert_eq!(silent_l + silent_r, 0.0);
    let (hard_l, hard_r) = render(&[
        Command::SetLanePan { lane: 0, pan: -1.0 },
        Command::SetLanePan { lane: 1, pan: -1.0 },
    ]);
    assert!(hard_r < 1e-9 && hard_l > both_l);
    let (quiet_l, _) = render(&[
        Command::SetLaneGain { lane: 0, gain: 0.0 },
        Command::SetLaneGain { lane: 1, gain: 0.0 },
    ]);
    assert_eq!(quiet_l, 0.0);
    assert!(
        (both_l - both_r).abs() < 1e-3 * both_l,
        "centred parts are balanced"
    );
}

#[test]
fn practice_tempo_stretches_the_timeline_and_waits_for_stop_while_playing() {
    let arr = piece(
        120.0,
        vec![part("p", Sound::Clap)],
        vec![vec![note(0, 60)]],
        2,
        1,
    );
    let (mut engine, handle) = engine(&arr, 0, EngineConfig::default());
    assert_eq!(engine.end_frame(), 2 * 96_000);
    handle.send(Command::SetTempo { tempo: bpm(60.0) }).unwrap();
    engine.process(&mut [0.0; 2]);
    assert_eq!(engine.end_frame(), 4 * 96_000, "half speed, twice as long");
    handle.send(Command::Play).unwrap();
    engine.process(&mut [0.0; 200]);
    handle
        .send(Command::SetTempo { tempo: bpm(120.0) })
        .unwrap();
    engine.process(&mut [0.0; 200]);
    assert_eq!(
        engine.end_frame(),
        4 * 96_000,
        "no tempo jump mid-performance"
    );
    handle.send(Command::Stop).unwrap();
    engine.process(&mut [0.0; 2]);
    assert_eq!(engine.end_frame(), 2 * 96_000, "applied at stop");
    assert!(!handle.is_playing());
}

#[test]
fn locate_and_sections_report_where_the_class_is() {
    let mut arr = pulse_layers();
    arr.set_repeats(1);
    let (mut engine, handle) = engine(&arr, 0, EngineConfig::default());
    handle.send(Command::LocateSection { section: 3 }).unwrap();
    handle.send(Command::Play).unwrap();
    engine.process(&mut [0.0; 2 * 64]);
    assert_eq!(handle.section(), 3);
    let start = exact_frame((2 + 2 + 4) * 4, 1, 100, 48_000);
    assert_eq!(handle.position_frames(), start + 64);
    let events = drain(&handle);
    assert!(events.contains(&Event::SectionStarted {
        output_frame: 0,
        timeline_frame: start,
        section: 3
    }));
    handle.send(Command::Stop).unwrap();
    handle.send(Command::Locate { frame: 0 }).unwrap();
    engine.process(&mut [0.0; 2 * 64]);
    assert_eq!(handle.position_frames(), 0);
    assert_eq!(handle.section(), 0);
}

fn pulse_layers() -> Arrangement {
    bandroom::music::resolve("pulse-layers").unwrap()
}

#[test]
fn meters_are_read_from_another_thread_while_the_engine_plays() {
    let arr = pulse_layers();
    let (mut engine, handle) = engine(
        &arr,
        1,
        EngineConfig {
            max_block_frames: 64,
            ..Default::default()
        },
    );
    handle.send(Command::Play).unwrap();
    let mut buffer = vec![0.0f32; 2 * 64];
    // 30 ms: the count-in's first click is sounding, one 20 ms RMS window is complete.
    for _ in 0..30 {
        engine.process(&mut buffer);
    }
    let handle = std::sync::Arc::new(handle);
    let (rms_tx, rms_rx) = std::sync::mpsc::sync_channel(1);
    let reader = {
        let handle = std::sync::Arc::clone(&handle);
        std::thread::Builder::new()
            .name("meter reader".into())
            .spawn(move || {
                rms_tx.send(handle.meters().lane(5).unwrap().rms()).unwrap();
                // Peaks are held until read, so polling as a UI would finds them
                // however the two threads are scheduled.
                let mut loudest = 0.0f32;
                for _ in 0..5000 {
                    loudest = loudest.max(handle.meters().output(0).unwrap().take_peak());
                    if loudest > 0.01 {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                loudest
            })
            .unwrap()
    };
    // The engine waits for the first reading so it is taken while the click sounds.
    let click_rms = rms_rx.recv().unwrap();
    for _ in 0..(48_000 * 3 / 64) {
        engine.process(&mut buffer);
    }
    let loudest = reader.join().unwrap();
    assert!(
        loudest > 0.01,
        "peak seen from the reader thread: {loudest}"
    );
    assert!(
        click_rms > 0.0,
        "the click lane's RMS is published during the count-in"
    );
}
