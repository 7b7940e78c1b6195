//! The visual cue stream: where the music is (count-in, section, pass, bar, beat) at
//! any moment, for the class view on the projector and for `render --cues`.
//!
//! A cue is computed from the score and the tempo map, never sent through the audio
//! callback: the screen reads the engine's published timeline frame and asks where
//! that is. For a phase piece the section says the shift, and the section's grids hold
//! both patterns. Must not allocate per call in `cue_at_tick` (the screen asks 60
//! times a second) or know about the screen.

use super::score::{NoteRole, Score};
use super::tempo_map::TempoMap;

/// Where the music is at one tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cue {
    /// True during the count-in bars.
    pub count_in: bool,
    /// The bar: of the count-in while counting in, else of the performance
    /// (repeats unrolled), counting from 1.
    pub bar: u64,
    /// The beat in the bar, from 1 (compound meters count dotted beats).
    pub beat: u64,
    /// The section playing (an index into the score's sections), none in the count-in
    /// or after the end.
    pub section: Option<usize>,
    /// Which pass through the section, from 1.
    pub pass: u64,
}

impl Score {
    pub fn cue_at_tick(&self, tick: u64) -> Cue {
        let position = self.bar_at_tick(tick);
        if tick < self.count_in_ticks {
            return Cue {
                count_in: true,
                bar: position.bar,
                beat: position.beat,
                section: None,
                pass: 0,
            };
        }
        let section = self.span_index_at(tick);
        let pass = section
            .and_then(|i| self.sections.get(i))
            .map_or(0, |s| (tick - s.start_tick) / s.pass_ticks.max(1) + 1);
        Cue {
            count_in: false,
            bar: position.bar,
            beat: position.beat,
            section,
            pass,
        }
    }
}

/// A cue at the first frame of every beat from the count-in to the end of the piece:
/// the metronome's beats, in whatever meter each section is in.
pub fn beat_cues(score: &Score, tempo_map: &TempoMap) -> Vec<(u64, Cue)> {
    score
        .lanes
        .get(score.click_lane())
        .map(|click| {
            click
                .notes
                .iter()
                .filter(|n| n.role != NoteRole::SubBeat)
                .map(|n| (tempo_map.frame_at_tick(n.tick), score.cue_at_tick(n.tick)))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // a test that indexes out of range fails, as it should
mod tests {
    use super::*;
    use crate::engine::ScoreOptions;
    use crate::music::phase::clapping_music;

    #[test]
    fn clapping_music_cues_count_in_then_shift_by_section() {
        let score = Score::new(
            &clapping_music(2),
            ScoreOptions {
                count_in_bars: 1,
                tempo: None,
            },
        );
        let bar = score.meter.bar_ticks();
        let first = score.cue_at_tick(0);
        assert!(first.count_in && first.bar == 1 && first.beat == 1);
        let start = score.cue_at_tick(bar);
        assert_eq!(
            (start.bar, start.beat, start.section, start.pass),
            (1, 1, Some(0), 1)
        );
        let second_pass = score.cue_at_tick(2 * bar);
        assert_eq!((second_pass.section, second_pass.pass), (Some(0), 2));
        let shift_one = score.cue_at_tick(3 * bar + score.meter.beat_ticks());
        assert_eq!(
            (shift_one.bar, shift_one.beat, shift_one.section),
            (3, 2, Some(1))
        );
        assert_eq!(score.sections[1].name, "shift 1");
        assert_eq!(score.cue_at_tick(score.end_tick).section, None);
    }
}
