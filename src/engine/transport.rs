//! Transport state: playing or not, where on the timeline, which section loops.
//!
//! Owns only the state; the engine moves it. Positions are timeline frames (the
//! musical clock, which jumps on locate and loop), never output frames.
//! Must not allocate: it lives inside the callback.

// Real-time code: no index may panic on the audio thread.
#![warn(clippy::indexing_slicing)]

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transport {
    pub playing: bool,
    pub position: u64,
    /// Where the piece ends on the timeline (the end of its last bar).
    pub end_frame: u64,
    pub loop_section: Option<usize>,
    /// The looped section's frames `[start, end)`, kept in step with the tempo map.
    pub loop_range: Option<(u64, u64)>,
    /// Offset inside the current block of the frame being decided, so events carry
    /// exact output frames.
    pub block_offset: u64,
}

impl Transport {
    pub fn new(end_frame: u64) -> Self {
        Self {
            playing: false,
            position: 0,
            end_frame,
            loop_section: None,
            loop_range: None,
            block_offset: 0,
        }
    }
}
