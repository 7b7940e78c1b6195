//! Writing audio to disk: WAV files that appear whole or not at all.
//!
//! Owns WAV writing (hound), the recorder thread for live takes (ring buffers → disk,
//! periodic sync), crash repair, peak files and `take.json`. Files appear whole through
//! the leaf `atomic_file`. Must never run on the audio thread.

pub mod peaks;
pub mod recorder;
pub mod take_file;
pub mod wav;
pub mod wav_repair;

pub use wav::{WavError, WavFormat, WavOutput};
