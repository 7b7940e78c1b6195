//! Work that runs after a take, shared by the command line and the app: timing
//! analysis of attributed tracks (stored in the library), and a background runner so
//! the app's window never waits for it.
//!
//! Owns the glue between `analysis` (which knows nothing of scores or files), the
//! engine's score and tempo map, and the library. Must not print, draw or open devices.

mod background;
mod reference;
mod take_analysis;
mod track_analysis;

/// A track's waveform as the recorder wrote it beside the WAV: the screens read it
/// through here (in the background), not from the recorder's module.
pub use crate::record::peaks::{Peaks, read_peaks};
pub use background::{AnalysisJob, Background};
pub use reference::{played_arrangement, render_part};
pub use take_analysis::{analyse_and_store, stored_bands, stored_notes};
pub use track_analysis::{Judging, Track, analyse, read_track};

/// Why a track could not be analysed, in words for the teacher.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JobError(pub String);

impl From<crate::library::LibraryError> for JobError {
    fn from(e: crate::library::LibraryError) -> Self {
        JobError(e.to_string())
    }
}
