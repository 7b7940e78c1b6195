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
pub use track_analysis::{
    Judging, RoomTrack, Track, analyse, read_take_track, read_track, room_onsets,
};

/// Why work after a take could not be done, in words for the teacher.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Library(#[from] crate::library::LibraryError),
    /// The take's arrangement could not be found or read.
    #[error(transparent)]
    Arrangement(#[from] crate::music::ArrangementError),
    /// The take remembers a section, tempo or length its arrangement does not allow
    /// (the file was changed since the take was made).
    #[error(transparent)]
    PlayedAs(#[from] crate::music::MusicError),
    /// The take has no arrangement, or the arrangement no such part or notes.
    #[error("{0}")]
    NothingToCompare(String),
    /// A track that cannot be read, or does not fit the take.
    #[error("{0}")]
    Track(String),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    EngineBusy(#[from] crate::engine::EngineBusy),
    /// The analysis could not be written out for the library.
    #[error("the analysis could not be stored: {0}")]
    Store(#[from] serde_json::Error),
}
