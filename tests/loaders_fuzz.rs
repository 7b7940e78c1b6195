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

#[test]
fn the_unmutated_files_load() {
    assert!(parse_midi(MIDI, "ds.mid", "ds").is_ok());
    assert!(parse_arrangement(ARRANGEMENT, "pl.toml", "pl").is_ok());
    assert!(
        parse_roster(ROSTER.as_bytes(), "r.csv")
            .unwrap()
            .1
            .is_empty()
    );
    assert!(parse_framework(FRAMEWORK, "r4.toml").is_ok());
}
