//! MIDI files as arrangements: generated type 0 and type 1 files with known content
//! (tempo changes, running status, several channels, drums) placed to the frame against
//! the file's own tempo map; a real notation-software export; and broken files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bandroom::engine::{NoteRole, Score, ScoreOptions};
use bandroom::music::midi_file::parse_midi;
use bandroom::music::{Sound, TICKS_PER_QUARTER};
use common::*;
use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

const TPQ: u16 = 480;

fn meta(delta: u32, message: MetaMessage<'static>) -> TrackEvent<'static> {
    TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Meta(message),
    }
}

fn midi(delta: u32, channel: u8, message: MidiMessage) -> TrackEvent<'static> {
    TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Midi {
            channel: u4::new(channel),
            message,
        },
    }
}

/// A track of notes (start tick, length, key) on one channel, after a name and program.
fn track(
    name: &'static [u8],
    channel: u8,
    program: u8,
    notes: &[(u32, u32, u8)],
) -> Vec<TrackEvent<'static>> {
    let mut timed: Vec<(u32, bool, u8)> = Vec::new();
    for &(at, len, key) in notes {
        timed.push((at, true, key));
        timed.push((at + len, false, key));
    }
    // Note-offs before note-ons at the same tick.
    timed.sort_by_key(|(at, on, _)| (*at, *on));
    let mut events = vec![
        meta(0, MetaMessage::TrackName(name)),
        midi(
            0,
            channel,
            MidiMessage::ProgramChange {
                program: u7::new(program),
            },
        ),
    ];
    let mut now = 0;
    for (at, on, key) in timed {
        let key = u7::new(key);
        let message = if on {
            MidiMessage::NoteOn {
                key,
                vel: u7::new(90),
            }
        } else {
            MidiMessage::NoteOff {
                key,
                vel: u7::new(0),
            }
        };
        events.push(midi(at - now, channel, message));
        now = at;
    }
    events.push(meta(0, MetaMessage::EndOfTrack));
    events
}

/// Bars 1–2 at 120 BPM, bars 3 to beat 2 of bar 4 at 100 BPM, then 150 BPM; a marker
/// "B" at bar 3; piano quarters, bass halves, a kick on every beat.
fn band_file() -> Vec<u8> {
    let mut smf = Smf::new(Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(TPQ)),
    ));
    smf.tracks.push(vec![
        meta(0, MetaMessage::TimeSignature(4, 2, 24, 8)),
        meta(0, MetaMessage::Tempo(u24::new(500_000))),
        meta(3_840, MetaMessage::Tempo(u24::new(600_000))),
        meta(0, MetaMessage::Marker(b"B")),
        meta(2_880, MetaMessage::Tempo(u24::new(400_000))),
        meta(0, MetaMessage::EndOfTrack),
    ]);
    let quarters: Vec<(u32, u32, u8)> = (0..24)
        .map(|i| (i * 480, 240, 60 + (i % 8) as u8))
        .collect();
    let halves: Vec<(u32, u32, u8)> = (0..12)
        .map(|i| (i * 960, 900, 36 + (i % 3) as u8))
        .collect();
    let kicks: Vec<(u32, u32, u8)> = (0..24).map(|i| (i * 480, 60, 36)).collect();
    smf.tracks.push(track(b"Piano", 0, 0, &quarters));
    smf.tracks.push(track(b"Bass", 1, 33, &halves));
    smf.tracks.push(track(b"Drums", 9, 0, &kicks));
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes).unwrap();
    bytes
}

/// The frame of a file tick by the file's own tempo map, at 48 kHz (these tempi give
/// whole frames per tick: 50 at 120 BPM, 60 at 100, 40 at 150).
fn file_frame(tick: u64) -> u64 {
    let segments = [(0u64, 50u64), (3_840, 60), (6_720, 40)];
    let mut frame = 0;
    for (i, &(start, per_tick)) in segments.iter().enumerate() {
        let end = segments.get(i + 1).map_or(u64::MAX, |s| s.0);
        if tick > start {
            frame += (tick.min(end) - start) * per_tick;
        }
    }
    frame
}

#[test]
fn a_type_1_file_plays_every_note_on_the_frame_its_tempo_map_gives() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("band.mid"), band_file()).unwrap();
    assert_ok(&bandroom(
        &[
            "render",
            "band.mid",
            "--count-in",
            "0",
            "--out",
            "band.wav",
            "--events",
            "e.csv",
        ],
        d,
    ));
    let events = read_events(&d.join("e.csv"));
    let frames = |part: &str| -> Vec<u64> {
        events
            .iter()
            .filter(|e| e.part == part)
            .map(|e| e.frame)
            .collect()
    };
    let piano: Vec<u64> = (0..24).map(|i| file_frame(i * 480)).collect();
    assert_eq!(frames("Piano"), piano);
    let bass: Vec<u64> = (0..12).map(|i| file_frame(i * 960)).collect();
    assert_eq!(frames("Bass"), bass);
    assert_eq!(frames("Drums"), piano, "kicks on every beat");

    let arrangement = parse_midi(&band_file(), "band.mid", "band").unwrap();
    let names: Vec<&str> = arrangement
        .sections
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["start", "B"],
        "the marker on bar 3 starts a section"
    );
    assert_eq!(arrangement.sections[1].tempo_changes.len(), 1);
    let sounds: Vec<Sound> = arrangement.parts.iter().map(|p| p.sound).collect();
    assert_eq!(sounds, [Sound::Keys, Sound::Bass, Sound::Kit]);
    let ratio = TICKS_PER_QUARTER / u64::from(TPQ);
    let first_bass = &arrangement.sections[0].notes[1][0];
    assert_eq!(
        first_bass.len_ticks,
        900 * ratio,
        "note lengths keep the file's"
    );
}

/// A type 0 file written by hand with running status: one track, two channels.
fn running_status_file() -> Vec<u8> {
    let track: Vec<u8> = vec![
        0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, // tempo 500 000 µs
        0x00, 0x90, 0x3C, 0x64, // C4 on, channel 1
        0x60, 0x3C, 0x00, // (running status) C4 off after 96 ticks
        0x00, 0x3E, 0x64, // (running status) D4 on
        0x60, 0x3E, 0x00, // D4 off
        0x00, 0x91, 0x43, 0x50, // G4 on, channel 2
        0x81, 0x40, 0x43, 0x00, // (running status) G4 off after 192 ticks
        0x00, 0xFF, 0x2F, 0x00,
    ];
    let mut bytes = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk".to_vec();
    bytes.extend_from_slice(&(track.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&track);
    bytes
}

#[test]
fn a_type_0_file_with_running_status_splits_its_channels_into_parts() {
    let arrangement = parse_midi(&running_status_file(), "rs.mid", "rs").unwrap();
    let names: Vec<&str> = arrangement.parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["track 1 (channel 1)", "track 1 (channel 2)"]);
    let notes = &arrangement.sections[0].notes;
    let first: Vec<(u64, u64, u8)> = notes[0]
        .iter()
        .map(|n| (n.at_ticks, n.len_ticks, n.pitch))
        .collect();
    let t = TICKS_PER_QUARTER;
    assert_eq!(first, [(0, t, 60), (t, t, 62)]);
    let second: Vec<(u64, u64, u8)> = notes[1]
        .iter()
        .map(|n| (n.at_ticks, n.len_ticks, n.pitch))
        .collect();
    assert_eq!(second, [(2 * t, 2 * t, 67)], "after the two quarters");
}

#[test]
fn broken_and_unplayable_files_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut smpte = running_status_file();
    smpte[12] = 0xE7; // -25 frames a second
    smpte[13] = 0x28;
    let mut silent = Smf::new(Header::new(
        Format::SingleTrack,
        Timing::Metrical(u15::new(TPQ)),
    ));
    silent.tracks.push(vec![
        meta(0, MetaMessage::Tempo(u24::new(500_000))),
        meta(0, MetaMessage::EndOfTrack),
    ]);
    let mut silent_bytes = Vec::new();
    silent.write_std(&mut silent_bytes).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "smpte.mid",
            smpte,
            "uses SMPTE time code (25 frames a second)",
        ),
        ("silent.mid", silent_bytes, "silent.mid: has no notes"),
        (
            "cut.mid",
            band_file()[..40].to_vec(),
            "cut.mid: is not a readable MIDI file",
        ),
        (
            "text.mid",
            b"this is not midi".to_vec(),
            "text.mid: is not a readable MIDI file",
        ),
    ];
    for (name, bytes, expected) in cases {
        std::fs::write(d.join(name), bytes).unwrap();
        let output = bandroom(&["render", name, "--out", "x.wav"], d);
        assert!(!output.status.success(), "{name}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{name}: {message}");
        assert!(!message.contains("panicked"), "{message}");
    }
    assert!(!d.join("x.wav").exists());
}

#[test]
fn a_lilypond_export_imports_with_its_parts_sections_and_tempo_change() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/drunken-sailor-lilypond.mid");
    let arrangement = bandroom::music::resolve(path.to_str().unwrap()).unwrap();
    assert_eq!(arrangement.title, "Drunken Sailor");
    let parts: Vec<(&str, Sound)> = arrangement
        .parts
        .iter()
        .map(|p| (p.name.as_str(), p.sound))
        .collect();
    assert_eq!(
        parts,
        [("choir aahs", Sound::Tone), ("acoustic bass", Sound::Bass)]
    );
    let names: Vec<&str> = arrangement
        .sections
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["start", "A"]);
    assert_eq!(arrangement.sections[1].tempo.unwrap().as_f64(), 100.0);
    let count = |part: usize| -> usize {
        arrangement
            .sections
            .iter()
            .map(|s| s.notes[part].len())
            .sum()
    };
    assert_eq!((count(0), count(1)), (60, 30), "every note of both staves");
    assert_eq!(
        arrangement.sections[0].notes[0][0].pitch, 69,
        "the tune starts on A4"
    );

    let dir = tempfile::tempdir().unwrap();
    assert_ok(&bandroom(
        &[
            "render",
            path.to_str().unwrap(),
            "--count-in",
            "0",
            "--out",
            "ds.wav",
            "--events",
            "e.csv",
        ],
        dir.path(),
    ));
    let melody: Vec<u64> = read_events(&dir.path().join("e.csv"))
        .into_iter()
        .filter(|e| e.part == "choir aahs")
        .map(|e| e.frame)
        .collect();
    // Eight bars at 120 BPM (2 s each), then bars of 2.4 s at 100 BPM.
    assert!(melody.contains(&768_000), "the chorus starts on bar 9");
    assert_eq!(
        *melody.last().unwrap(),
        768_000 + 15 * 57_600,
        "the last note, beat 3 of bar 16"
    );
}

#[test]
fn import_writes_an_editable_arrangement_that_plays_the_same_notes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("band.mid"), band_file()).unwrap();
    let output = bandroom(&["import", "band.mid", "--out", "band.toml"], d);
    assert_ok(&output);
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(said.contains("3 part(s), 2 section(s), 60 notes"), "{said}");
    assert!(said.contains("set each part's tier"), "{said}");
    let from_midi = parse_midi(&band_file(), "band.mid", "band").unwrap();
    let from_toml = bandroom::music::load_arrangement_file(&d.join("band.toml")).unwrap();
    assert_eq!(
        from_toml.sections, from_midi.sections,
        "notes and tempo map survive the round trip"
    );
    assert_eq!(from_toml.parts, from_midi.parts);
    assert_eq!(from_toml.tempo, from_midi.tempo);
    // A teacher sets tiers and the file still loads.
    let edited = std::fs::read_to_string(d.join("band.toml"))
        .unwrap()
        .replacen("tier = \"core\"", "tier = \"starter\"", 1);
    std::fs::write(d.join("band.toml"), edited).unwrap();
    assert_ok(&bandroom(&["render", "band.toml", "--out", "b.wav"], d));
    let again = bandroom(&["import", "band.mid", "--out", "band.toml"], d);
    assert_contains(&stderr(&again), "already exists");

    // At a resolution 960 would round, with tempi that are no whole milli-BPM, and
    // with a pickup and a change of meter, the written file keeps everything exactly.
    let odd = tempo_every_bar_file(1024, 6, |bar| 461_538 + 7 * bar);
    std::fs::write(d.join("odd.mid"), &odd).unwrap();
    assert_ok(&bandroom(&["import", "odd.mid", "--out", "odd.toml"], d));
    let written = std::fs::read_to_string(d.join("odd.toml")).unwrap();
    assert!(written.contains("ticks_per_quarter = 1024"), "{written}");
    assert!(written.contains("\"461538 us\""), "{written}");
    let from_midi = parse_midi(&odd, "odd.mid", "odd").unwrap();
    let from_toml = bandroom::music::load_arrangement_file(&d.join("odd.toml")).unwrap();
    assert_eq!(from_toml.sections, from_midi.sections);
    let sailor = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sailor-pickup-lilypond.mid");
    std::fs::copy(&sailor, d.join("sailor.mid")).unwrap();
    assert_ok(&bandroom(
        &["import", "sailor.mid", "--out", "sailor.toml"],
        d,
    ));
    let from_toml = bandroom::music::load_arrangement_file(&d.join("sailor.toml")).unwrap();
    let from_midi = parse_midi(&std::fs::read(&sailor).unwrap(), "s.mid", "s").unwrap();
    assert_eq!(
        from_toml.sections, from_midi.sections,
        "pickup and meters kept"
    );
}

/// Real piano music from notation software: a note held under others on one track and
/// channel is released after notes that started later. It imports, each part's notes in
/// the order they start, the held note as long as it was written.
#[test]
fn a_lilypond_piano_export_with_held_notes_imports_in_start_order() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/held-notes-lilypond.mid");
    let bytes = std::fs::read(&path).unwrap();
    let arrangement = parse_midi(&bytes, "held-notes-lilypond.mid", "held-notes").unwrap();
    assert_eq!(arrangement.title, "Held Notes for Zoë");
    assert_eq!(arrangement.parts.len(), 2);
    let left = &arrangement.sections[0].notes[1];
    assert!(
        left.windows(2).all(|w| w[0].at_ticks <= w[1].at_ticks),
        "{left:?}"
    );
    let bar = 4 * TICKS_PER_QUARTER;
    let held = left
        .iter()
        .find(|n| n.pitch == 43 && n.at_ticks == 0)
        .unwrap();
    assert_eq!(held.len_ticks, bar, "the G held for the whole first bar");
    // Above it, the second voice's D, E and F♯ start at beats 1, 3 and 4.
    let above: Vec<u64> = left
        .iter()
        .filter(|n| n.at_ticks < bar && n.pitch != 43)
        .map(|n| n.at_ticks)
        .collect();
    assert_eq!(above, [0, 2 * TICKS_PER_QUARTER, 3 * TICKS_PER_QUARTER]);
}

/// The two-note case: C4 held for a bar, E4 on beats 2–3; and a key struck again while it
/// sounds, which ends the first note there, as a player's would.
#[test]
fn a_held_note_and_a_restruck_key_import_as_a_player_plays_them() {
    let q = u32::from(TPQ);
    let mut smf = Smf::new(Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(TPQ)),
    ));
    smf.tracks
        .push(track(b"Piano", 0, 0, &[(0, 4 * q, 60), (q, 2 * q, 64)]));
    // G4 struck at beat 1 and again at beat 2 before the first is released at beat 3.
    let key = u7::new(67);
    let on = |delta| {
        midi(
            delta,
            1,
            MidiMessage::NoteOn {
                key,
                vel: u7::new(80),
            },
        )
    };
    let off = |delta| {
        midi(
            delta,
            1,
            MidiMessage::NoteOff {
                key,
                vel: u7::new(0),
            },
        )
    };
    smf.tracks.push(vec![
        meta(0, MetaMessage::TrackName(b"Fl\xfbte")),
        on(0),
        on(q),
        off(q),
        off(q),
        meta(0, MetaMessage::EndOfTrack),
    ]);
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes).unwrap();
    let arrangement = parse_midi(&bytes, "held.mid", "held").unwrap();
    let notes = &arrangement.sections[0].notes;
    let piano: Vec<(u64, u64, u8)> = notes[0]
        .iter()
        .map(|n| (n.at_ticks, n.len_ticks, n.pitch))
        .collect();
    let t = TICKS_PER_QUARTER;
    assert_eq!(piano, [(0, 4 * t, 60), (t, 2 * t, 64)]);
    let flute: Vec<(u64, u64)> = notes[1].iter().map(|n| (n.at_ticks, n.len_ticks)).collect();
    assert_eq!(
        flute,
        [(0, t), (t, 2 * t)],
        "the second strike ends the first"
    );
    // The track name was written in Latin-1, as older software does.
    assert_eq!(arrangement.parts[1].name, "Flûte");
}

/// A pickup (written as a 1/4 bar before 4/4, as notation software does) and a real
/// change of time signature are placed in their bars: the pickup is bar 0 and its beat
/// the last of a 4/4 bar, the waltz's bar 3 is in 4/4 and clicks four beats.
#[test]
fn a_pickup_and_a_meter_change_are_placed_in_their_bars() {
    let q = u32::from(TPQ);
    // Time signatures (delta from the one before, beats of a quarter) in the first track.
    let signed = |signatures: &[(u32, u8)]| {
        let mut smf = Smf::new(Header::new(
            Format::Parallel,
            Timing::Metrical(u15::new(TPQ)),
        ));
        let mut conductor: Vec<TrackEvent<'static>> = signatures
            .iter()
            .map(|&(delta, top)| meta(delta, MetaMessage::TimeSignature(top, 2, 24, 8)))
            .collect();
        conductor.push(meta(0, MetaMessage::EndOfTrack));
        smf.tracks.push(conductor);
        smf.tracks.push(track(
            b"Melody",
            0,
            0,
            &[(0, q, 67), (q, q, 72), (5 * q, q, 74), (7 * q, q, 76)],
        ));
        let mut bytes = Vec::new();
        smf.write_std(&mut bytes).unwrap();
        bytes
    };
    let file = |top: u8, second_at: u32| signed(&[(0, top), (second_at, 4)]);
    let pickup = parse_midi(&file(1, q), "sailor.mid", "sailor").unwrap();
    assert_eq!(pickup.meter.to_string(), "4/4");
    let first = &pickup.sections[0];
    assert!(first.pickup && first.bars == 1, "{:?}", first.name);
    assert_eq!(first.meter.map(|m| m.to_string()).as_deref(), Some("1/4"));
    let t = TICKS_PER_QUARTER;
    let score = Score::new(&pickup, ScoreOptions::default());
    // One bar of count-in, then the pickup on beat 4 of bar 0, then bar 1.
    let at = |tick: u64| {
        let cue = score.cue_at_tick(tick);
        (cue.bar, cue.beat)
    };
    assert_eq!(at(4 * t), (0, 4));
    assert_eq!(at(5 * t), (1, 1));
    let played: Vec<u64> = score.lanes[0].notes.iter().map(|n| n.tick).collect();
    assert_eq!(
        played,
        [4 * t, 5 * t, 9 * t, 11 * t],
        "notes where the file has them"
    );
    let click = &score.lanes[score.click_lane()];
    let beat_on = |tick: u64| click.notes.iter().find(|n| n.tick == tick).unwrap().role;
    assert_eq!(beat_on(4 * t), NoteRole::Beat, "a pickup is not a downbeat");
    assert_eq!(beat_on(5 * t), NoteRole::Accent);

    // Two bars of 3/4, then 4/4: the change starts a section at bar 3.
    let waltz = parse_midi(&file(3, 6 * q), "waltz.mid", "waltz").unwrap();
    assert_eq!(waltz.meter.to_string(), "3/4");
    let names: Vec<&str> = waltz.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["start", "bar 3"]);
    assert_eq!(
        waltz.sections[1].meter.map(|m| m.to_string()).as_deref(),
        Some("4/4")
    );
    let score = Score::new(
        &waltz,
        ScoreOptions {
            count_in_bars: 0,
            tempo: None,
        },
    );
    let cue = score.cue_at_tick(6 * t + 3 * t);
    assert_eq!((cue.bar, cue.beat, cue.section), (3, 4, Some(1)));
    let accents: Vec<u64> = score.lanes[score.click_lane()]
        .notes
        .iter()
        .filter(|n| n.role == NoteRole::Accent)
        .map(|n| n.tick)
        .collect();
    assert_eq!(accents, [0, 3 * t, 6 * t], "bar lines of 3/4, then 4/4");

    // A change part-way through a later bar is refused with its bar and beat (the
    // first one off the bar lines is read as the piece's pickup, as LilyPond writes it).
    let torn = parse_midi(
        &signed(&[(0, 3), (6 * q, 4), (3 * q, 3)]),
        "torn.mid",
        "torn",
    )
    .unwrap_err();
    let said = torn.to_string();
    assert!(
        said.contains("from 4/4 to 3/4 part-way through bar 3 (beat 4)"),
        "{said}"
    );
}

/// Notation software's own pickups and metre changes, both ways they are written:
/// LilyPond starts 4/4 on the pickup note, so the later 2/4 falls part-way through its
/// bars; MuseScore writes the pickup as a bar of 1/4. Both import bar by bar alike.
#[test]
fn lilypond_and_musescore_exports_with_a_pickup_and_a_bar_of_two_four_import_bar_by_bar() {
    for file in ["sailor-pickup-lilypond.mid", "sailor-pickup-musescore.mid"] {
        pickup_and_two_four_bar_by_bar(file);
    }
}

fn pickup_and_two_four_bar_by_bar(file: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let bytes = std::fs::read(&path).unwrap();
    let arrangement = parse_midi(&bytes, file, "sailor").unwrap();
    let shape: Vec<(&str, u32, String, bool)> = arrangement
        .sections
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.bars,
                arrangement.meter_of(s).to_string(),
                s.pickup,
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("pickup", 1, "1/4".to_string(), true),
            ("start", 2, "4/4".to_string(), false),
            ("bar 3", 1, "2/4".to_string(), false),
            ("bar 4", 1, "4/4".to_string(), false),
        ],
        "{file}"
    );
    let score = Score::new(&arrangement, ScoreOptions::default());
    let t = TICKS_PER_QUARTER;
    let melody: Vec<(u64, u64)> = score.lanes[0]
        .notes
        .iter()
        .map(|n| {
            let cue = score.cue_at_tick(n.tick);
            (cue.bar, cue.beat)
        })
        .collect();
    // a | d2 d4 e | f2 e4 d | c4 a | d1
    assert_eq!(
        melody,
        [
            (0, 4),
            (1, 1),
            (1, 3),
            (1, 4),
            (2, 1),
            (2, 3),
            (2, 4),
            (3, 1),
            (3, 2),
            (4, 1)
        ],
        "{file}"
    );
    assert_eq!(score.end_tick, score.count_in_ticks + 15 * t, "{file}");
}

/// A file at `ppq` pulses a quarter, 4/4, a new tempo on every bar (microseconds a
/// quarter that are no whole milli-BPM), and a note on every beat and one a pulse
/// after each beat, for `bars` bars.
fn tempo_every_bar_file(ppq: u16, bars: u32, micros: impl Fn(u32) -> u32) -> Vec<u8> {
    let mut smf = Smf::new(Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(ppq)),
    ));
    let bar = 4 * u32::from(ppq);
    let mut conductor = vec![meta(0, MetaMessage::TimeSignature(4, 2, 24, 8))];
    for b in 0..bars {
        let delta = if b == 0 { 0 } else { bar };
        conductor.push(meta(delta, MetaMessage::Tempo(u24::new(micros(b)))));
    }
    conductor.push(meta(0, MetaMessage::EndOfTrack));
    smf.tracks.push(conductor);
    let q = u32::from(ppq);
    let beats: Vec<(u32, u32, u8)> = (0..bars * 4).map(|i| (i * q, q / 2, 60)).collect();
    let offbeats: Vec<(u32, u32, u8)> = (0..bars * 4).map(|i| (i * q + 1, 1, 72)).collect();
    smf.tracks.push(track(b"Beats", 0, 0, &beats));
    smf.tracks.push(track(b"Just after", 1, 0, &offbeats));
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes).unwrap();
    bytes
}

/// At 96, 384, 480 and 1024 pulses a quarter, with the tempo changing on every bar for
/// over ten minutes, every note lands on the frame the file's own ticks and
/// microseconds give (each note's exact time rounded once), through the score and
/// tempo map the engine plays from.
#[test]
fn files_at_any_resolution_with_a_tempo_on_every_bar_place_every_note_exactly() {
    use bandroom::engine::TempoMap;
    let rate = 48_000u32;
    let bars = 340;
    let micros = |bar: u32| 446_417 + 1_231 * (bar % 17);
    for ppq in [96u16, 384, 480, 1024] {
        let bytes = tempo_every_bar_file(ppq, bars, micros);
        let arrangement = parse_midi(&bytes, "tempi.mid", "tempi").unwrap();
        let score = Score::new(
            &arrangement,
            ScoreOptions {
                count_in_bars: 0,
                tempo: None,
            },
        );
        let map = TempoMap::new(
            rate,
            &score.played_tempo_changes(score.tempo).collect::<Vec<_>>(),
        );
        // The exact time of a file pulse, in frames · 1 000 000 · ppq.
        let p = u128::from(ppq);
        let exact = |pulse: u128| {
            let bar = pulse / (4 * p);
            let before: u128 = (0..bar).map(|b| 4 * p * u128::from(micros(b as u32))).sum();
            let into = (pulse - bar * 4 * p) * u128::from(micros(bar as u32));
            let num = (before + into) * u128::from(rate);
            let den = 1_000_000 * p;
            ((2 * num + den) / (2 * den)) as u64
        };
        let mut checked = 0;
        for (lane, offset) in [(0usize, 0u128), (1, 1)] {
            let notes = &score.lanes[lane].notes;
            assert_eq!(notes.len(), bars as usize * 4, "{ppq} ppq lane {lane}");
            for (i, note) in notes.iter().enumerate() {
                let pulse = i as u128 * p + offset;
                assert_eq!(
                    map.frame_at_tick(note.tick),
                    exact(pulse),
                    "{ppq} ppq: note {i} of lane {lane}"
                );
                checked += 1;
            }
        }
        let last = exact(u128::from(bars) * 4 * p);
        assert!(last > 10 * 60 * u64::from(rate), "{ppq} ppq: {last} frames");
        println!(
            "{ppq} ppq: {checked} notes exact over {:.1} minutes",
            last as f64 / f64::from(rate) / 60.0
        );
    }
}

/// Every note-on of MIDI files another program wrote is played: MMA's examples (Debian's
/// `mma`, which `make test` installs) re-strike held keys and strike one key twice on a
/// tick, as drum tracks do. The count of note-ons is read by Python's mido, so the
/// figure does not come from bandroom's own reader.
#[test]
fn every_note_on_of_mmas_example_files_is_played() {
    let examples = std::path::Path::new("/usr/share/doc/mma/examples/midi-inc");
    let files = [
        examples.join("frankie2.mid"),
        examples.join("mid2seq/rockgroove.mid"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for file in &files {
        assert!(
            file.is_file(),
            "{} is needed: `make test` installs mma",
            file.display()
        );
        let counted = std::process::Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(
                "import mido,sys\n\
                 print(sum(1 for t in mido.MidiFile(sys.argv[1]).tracks for m in t \
                 if m.type == 'note_on' and m.velocity > 0))",
            )
            .arg(file)
            .output()
            .expect("python3-mido is installed (make test)");
        assert!(counted.status.success(), "{}", stderr(&counted));
        let note_ons: usize = String::from_utf8_lossy(&counted.stdout)
            .trim()
            .parse()
            .unwrap();
        let events = dir.path().join("events.csv");
        let rendered = bandroom(
            &[
                "render",
                file.to_str().unwrap(),
                "--out",
                "x.wav",
                "--events",
                events.to_str().unwrap(),
                "--force",
            ],
            dir.path(),
        );
        assert_ok(&rendered);
        let played = read_events(&events)
            .iter()
            .filter(|e| e.part != "click")
            .count();
        assert_eq!(played, note_ons, "{}", file.display());
    }
}
