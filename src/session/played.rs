//! Where the music of a running take is, in the words a screen uses: the cue (bar,
//! beat, count-in), the section by name, the bar within a pass of it, the position in
//! the bar; and the parts a teacher may mute or solo.
//!
//! Must not talk to the engine: positions come in as engine frames, which the running
//! take reports; everything here is computed from the score and its tempo map.

use crate::engine::cues::Cue;
use crate::engine::{Score, TempoMap};
use crate::music::Arrangement;

/// The music being played with a take, kept for the screens.
pub struct PlayedMusic {
    pub arrangement: Arrangement,
    score: Score,
    tempo_map: TempoMap,
}

impl PlayedMusic {
    pub(super) fn new(arrangement: Arrangement, score: Score, rate_hz: u32) -> PlayedMusic {
        let tempo_map = TempoMap::new(
            rate_hz,
            &score.played_tempo_changes(score.tempo).collect::<Vec<_>>(),
        );
        PlayedMusic {
            arrangement,
            score,
            tempo_map,
        }
    }

    /// Where the music is at engine frame `frame`.
    pub fn cue_at(&self, frame: u64) -> Cue {
        self.score.cue_at_tick(self.tempo_map.tick_at_frame(frame))
    }

    /// The name of the score's section `index` (as the engine counts them).
    pub fn section_name(&self, index: usize) -> Option<&str> {
        self.score.sections.get(index).map(|s| s.name.as_str())
    }

    /// The bar within the current pass of the playing section (from 0).
    pub fn bar_in_section(&self, frame: u64) -> Option<usize> {
        let tick = self.tempo_map.tick_at_frame(frame);
        let cue = self.score.cue_at_tick(tick);
        let span = self.score.sections.get(cue.section?)?;
        let into = tick.saturating_sub(span.start_tick) % span.pass_ticks.max(1);
        Some((into / span.meter.bar_ticks().max(1)) as usize)
    }

    /// Ticks into the current bar, and the bar's length in ticks.
    pub fn bar_position(&self, frame: u64) -> (u64, u64) {
        let position = self.score.bar_at_tick(self.tempo_map.tick_at_frame(frame));
        (position.into_bar, position.bar_ticks)
    }

    /// The parts a teacher can mute or solo: (lane, name), the metronome left out.
    pub fn part_lanes(&self) -> Vec<(usize, String)> {
        let click = self.score.click_lane();
        self.score
            .lanes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != click)
            .map(|(i, lane)| (i, lane.name.clone()))
            .collect()
    }

    /// How many lanes the score has (parts and the metronome).
    pub fn lanes(&self) -> usize {
        self.score.lanes.len()
    }
}
