//! Music as data: arrangements, parts, sections and notes in musical time.
//!
//! Owns the arrangement model, the TOML format, the phase-piece generator and the
//! built-in repertoire. Depends on nothing else in bandroom; the engine reads it, never
//! the other way round. Must not know about frames, devices or the library.

pub mod arrangement;
pub mod builtin;
mod error;
mod midi_bars;
pub mod midi_file;
pub mod phase;
pub mod practice;
pub mod time;
pub mod toml_format;
pub mod toml_writer;

pub use arrangement::{
    Arrangement, Family, MAX_PIECE_SECS, Note, Part, Section, Sound, TempoRange,
};
pub use builtin::{BUILT_INS, resolve, resolve_in, user_arrangements};
pub use error::MusicError;
pub use time::{Bpm, Meter, TICKS_PER_QUARTER};
pub use toml_format::{ArrangementError, load_arrangement_file, parse_arrangement};
