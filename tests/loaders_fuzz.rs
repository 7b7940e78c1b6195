//! Property tests over every loader a user's file reaches: arrangements (TOML), MIDI
//! files, class rosters and criteria frameworks. Random bytes and small mutations of
//! valid files must give a result or an error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bandroom::library::parse_framework;
use bandroom::library::roster::parse_roster;
use bandroom::music::midi_file::parse_midi;
use bandroom::music::parse_arrangement;
use proptest::prelude::*;

const ARRANGEMENT: &str = include_str!("../assets/arrangements/pulse-layers.toml");
const FRAMEWORK: &str = include_str!("../assets/frameworks/radar-4.toml");
const MIDI: &[u8] = include_bytes!("data/drunken-sailor-lilypond.mid");
const ROSTER: &str = "Surname,Forename,Adno,PP,SEN\nOkafor,Amira,1001,Y,\n\"Nowak\",Jan,1002,,K\n";

/// A copy of `base` with bytes replaced, inserted and deleted at random places.
fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for &(position, value, kind) in edits {
        if bytes.is_empty() {
            bytes.push(value);
            continue;
        }
        let at = position % bytes.len();
        match kind % 3 {
            0 => bytes[at] = value,
            1 => bytes.insert(at, value),
            _ => {
                bytes.remove(at);
            }
        }
    }
    bytes
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn midi_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_midi(&bytes, "random.mid", "random");
        let mut with_header = b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\x80".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = parse_midi(&with_header, "random.mid", "random");
    }

    #[test]
    fn mutated_midi_never_panics(edits in edits(), cut in 0usize..1200) {
        let bytes = mutate(MIDI, &edits);
        let _ = parse_midi(&bytes, "mutated.mid", "mutated");
        let _ = parse_midi(&bytes[..cut.min(bytes.len())], "cut.mid", "cut");
    }

    #[test]
    fn arrangement_text_never_panics(text in "\\PC{0,300}") {
        let _ = parse_arrangement(&text, "random.toml", "random");
    }

    #[test]
    fn mutated_arrangements_never_panic(edits in edits()) {
        let bytes = mutate(ARRANGEMENT.as_bytes(), &edits);
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_arrangement(&text, "mutated.toml", "mutated");
    }

    #[test]
    fn rosters_never_panic(edits in edits(), random in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_roster(&mutate(ROSTER.as_bytes(), &edits), "mutated.csv");
        let _ = parse_roster(&random, "random.csv");
    }

    #[test]
    fn frameworks_never_panic(edits in edits()) {
        let bytes = mutate(FRAMEWORK.as_bytes(), &edits);
        let _ = parse_framework(&String::from_utf8_lossy(&bytes), "mutated.toml");
    }
}

/// Found by `mutated_midi_never_panics`: a header whose SMPTE frame-rate byte is -128
/// made midly negate it and overflow.
#[test]
fn a_time_code_of_minus_128_frames_is_refused_not_a_panic() {
    let mut bytes = MIDI.to_vec();
    assert_eq!(&bytes[..4], b"MThd");
    bytes[12] = 0x80;
    let error = parse_midi(&bytes, "smpte.mid", "smpte")
        .map(|_| ())
        .expect_err("an unreadable header");
    let message = error.to_string();
    assert!(message.contains("smpte.mid"), "{message}");
    assert!(message.contains("frames a second"), "{message}");
}

#[test]
fn the_unmutated_files_load() {
    // What each file holds, not only that it parses.
    let sailor = parse_midi(MIDI, "ds.mid", "ds").unwrap();
    assert_eq!(sailor.meter.to_string(), "4/4");
    assert!(!sailor.parts.is_empty());
    assert!(
        sailor
            .sections
            .iter()
            .any(|s| s.notes.iter().any(|n| !n.is_empty()))
    );
    let layers = parse_arrangement(ARRANGEMENT, "pl.toml", "pl").unwrap();
    let parts: Vec<&str> = layers.parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(parts, ["pulse", "ostinato", "off-beats", "bass", "riff"]);
    let sections: Vec<&str> = layers.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        sections,
        [
            "pulse",
            "ostinato enters",
            "bass enters",
            "everyone",
            "tag (faster)"
        ]
    );
    let (rows, problems) = parse_roster(ROSTER.as_bytes(), "r.csv").unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let read: Vec<(&str, Option<&str>, Vec<&str>)> = rows
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.number.as_deref(),
                r.groups.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            ("Amira Okafor", Some("1001"), vec!["PP"]),
            ("Jan Nowak", Some("1002"), vec!["SEN"]),
        ]
    );
    let radar = parse_framework(FRAMEWORK, "r4.toml").unwrap();
    let keys: Vec<&str> = radar.strands.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["pulse", "accuracy", "ensemble", "expression"]);
}
