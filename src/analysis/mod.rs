//! Timing analysis: where the onsets in a recorded track are, and how they line up
//! with the notes the part asked for.
//!
//! Owns onset detection (`onsets`) and matching detected onsets to expected notes with
//! the summaries teachers use (`matching`). Works on samples and frames only: it
//! never opens files, devices or the library, and never runs on the audio thread.

pub mod ensemble;
pub mod matching;
pub mod onsets;
pub mod spill;
pub mod trend;
