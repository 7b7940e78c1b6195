//! MIDI in and out on its own threads: classroom keyboards recorded as tracks of a take,
//! parts sent to an instrument in the room, a foot pedal or chosen key as hands-free
//! transport, and an optional MIDI clock.
//!
//! Built on `midir`. On Linux bandroom reaches MIDI through JACK (PipeWire's JACK
//! layer on current desktops shows every USB keyboard there; with jackd, a2jmidid
//! does). Owns ports, parsing, the mapping from arrival time to the take's timeline,
//! Standard MIDI Files of takes and the scheduling of parts. Must not run inside an
//! audio callback (the engine hands it part cues through a channel), print, or touch
//! the library. Wall-clock moments reach the timeline through `SpeakerClock`, which the
//! caller implements over the audio clock, so this module depends on `engine` only
//! (and on `record` for files that appear whole).

mod control;
mod input;
mod message;
mod output;
mod ports;
mod recorder;
mod smf;

pub use control::{Action, ControlMap, Mapping, Trigger};
pub use input::{Arrival, MidiInputs};
pub use message::{Kind, Parser, ShortMessage};
pub use output::{MidiOut, OutputReport, PartRoute};
pub use ports::{PortList, find_port, list_ports, quiet_jack};
pub use recorder::{MidiNotice, MidiRecorder, MidiTrackReport, MidiTrackSpec, RecorderSetup};
pub use smf::{TimedMessage, read_note_onsets, write_take_track};

use std::path::PathBuf;
use std::time::Instant;

/// The bridge between wall-clock moments and the engine's output frames.
pub trait SpeakerClock: Send + Sync {
    /// The output frame sounding at the speaker at `at`, once audio runs.
    fn frame_at(&self, at: Instant) -> Option<i64>;
    /// The moment output frame `frame` reaches the speaker, once audio runs.
    fn instant_of(&self, frame: i64) -> Option<Instant>;
    /// The take's output frames (`end` is `u64::MAX` while open), once it has started.
    fn take_window(&self) -> Option<(u64, u64)>;
}

#[derive(Debug, thiserror::Error)]
pub enum MidiError {
    #[error(
        "no MIDI system is running ({0}): bandroom reaches MIDI keyboards through JACK or PipeWire's JACK layer; start one of them (keyboards plugged in by USB then appear), or record without MIDI"
    )]
    NoServer(String),
    #[error("there is no MIDI {direction} port called \"{wanted}\"; {}", available_ports(.available))]
    NoSuchPort {
        direction: &'static str,
        wanted: String,
        available: Vec<String>,
    },
    #[error("\"{wanted}\" matches several MIDI {direction} ports ({}); give more of the name", .matches.join(", "))]
    Ambiguous {
        direction: &'static str,
        wanted: String,
        matches: Vec<String>,
    },
    #[error("cannot connect to MIDI port \"{port}\": {reason} (is it still plugged in?)")]
    Connect { port: String, reason: String },
    #[error("\"{spec}\" is not understood: {reason}")]
    Spec { spec: String, reason: String },
    #[error("cannot write the MIDI track {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
    #[error("cannot read the MIDI file {}: {reason} (is it a Standard MIDI File?)", path.display())]
    Read { path: PathBuf, reason: String },
}

fn available_ports(ports: &[String]) -> String {
    if ports.is_empty() {
        "none is connected: plug the keyboard in, then run `bandroom midi-ports`".into()
    } else {
        format!("ports now: {}", ports.join(", "))
    }
}

/// A 1-based MIDI channel as musicians write it, 0-based as MIDI sends it.
pub fn parse_channel(text: &str, spec: &str) -> Result<u8, MidiError> {
    match text.trim().parse::<u8>() {
        Ok(n @ 1..=16) => Ok(n - 1),
        _ => Err(MidiError::Spec {
            spec: spec.to_string(),
            reason: format!("channel \"{text}\" must be 1 to 16"),
        }),
    }
}
