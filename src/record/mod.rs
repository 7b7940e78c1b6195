//! Writing audio to disk: WAV files that appear whole or not at all.
//!
//! Owns WAV writing (hound) and the temporary-name-then-rename rule for every output.
//! The recorder thread for live takes (ring buffers → disk, periodic sync, crash
//! recovery, peak files) will live here too. Must never run on the audio thread.

pub mod atomic_file;
pub mod wav;

pub use atomic_file::{FileError, PendingFile};
pub use wav::{WavError, WavFormat, WavOutput};
pub mod peaks;
pub mod recorder;
pub mod take_file;
pub mod wav_repair;
