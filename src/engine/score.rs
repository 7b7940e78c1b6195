//! A performance prepared for the engine: every note of every lane in absolute ticks.
//!
//! Owns the flattening of an arrangement (sections × repeats, count-in, metronome
//! clicks, practice tempo) into sorted per-lane note lists. Built off the audio
//! thread; the engine only reads it. Must not know about frames or sample rates:
//! that is the tempo map's job.

use crate::music::{Arrangement, Bpm, Meter, Sound};

/// What a scheduled note is, which decides how it sounds and how it is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoteRole {
    /// A note of a part.
    Part,
    /// The metronome on the first beat of a bar.
    Accent,
    /// The metronome on any other beat.
    Beat,
    /// The metronome between beats (only sounds when sub-beats are on).
    SubBeat,
}

impl NoteRole {
    pub fn is_click(self) -> bool {
        !matches!(self, NoteRole::Part)
    }
}

/// How a lane sounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneSound {
    Part(Sound),
    Click,
}

impl LaneSound {
    /// The word used for a note of this lane in event logs: the part's sound, or the click's role.
    pub fn kind_name(self, role: NoteRole) -> &'static str {
        match (self, role) {
            (LaneSound::Part(sound), _) => sound.name(),
            (LaneSound::Click, NoteRole::Accent) => "accent",
            (LaneSound::Click, NoteRole::SubBeat) => "sub-beat",
            (LaneSound::Click, _) => "beat",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScoreNote {
    pub tick: u64,
    pub len_ticks: u64,
    pub pitch: u8,
    pub velocity: u8,
    pub role: NoteRole,
}

/// One part, or the metronome, with every note it plays.
#[derive(Clone, Debug)]
pub struct Lane {
    pub name: String,
    pub sound: LaneSound,
    pub gain: f32,
    pub pan: f32,
    pub notes: Vec<ScoreNote>,
}

/// Where a section (all its repeats) sits in the performance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionSpan {
    pub name: String,
    pub start_tick: u64,
    pub end_tick: u64,
    /// Length of one pass, in ticks.
    pub pass_ticks: u64,
}

/// Choices made when a performance is prepared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScoreOptions {
    /// Bars of metronome before the piece starts.
    pub count_in_bars: u32,
    /// Practice tempo for the first section; others keep their proportion to it.
    pub tempo: Option<Bpm>,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        Self {
            count_in_bars: 1,
            tempo: None,
        }
    }
}

/// The name of the metronome lane in events, stems and mixers.
pub const CLICK_LANE_NAME: &str = "click";

/// Metronome velocities: the downbeat stands out, sub-beats sit underneath.
const ACCENT_VELOCITY: u8 = 127;
const BEAT_VELOCITY: u8 = 100;
const SUB_BEAT_VELOCITY: u8 = 72;

/// A performance ready to play: lanes (parts first, click last), sections and tempi.
#[derive(Clone, Debug)]
pub struct Score {
    pub title: String,
    pub meter: Meter,
    pub lanes: Vec<Lane>,
    pub sections: Vec<SectionSpan>,
    /// Tempo changes as written (tick, tempo); the first is at tick 0.
    pub tempo_changes: Vec<(u64, Bpm)>,
    /// The arrangement's own tempo, from which practice tempi scale.
    pub written_tempo: Bpm,
    /// The tempo the first section plays at in this performance.
    pub tempo: Bpm,
    pub count_in_ticks: u64,
    pub end_tick: u64,
    /// Backing stems, each on its part's lane, starting on bar 1 (after the count-in).
    pub stems: Vec<ScoreStem>,
}

/// Audio a lane plays from bar 1, at the session rate (decoded before the engine starts).
#[derive(Clone, Debug)]
pub struct ScoreStem {
    pub lane: usize,
    pub samples: std::sync::Arc<[f32]>,
}

impl Score {
    /// Gives `lane` (a part) a stem to play from bar 1.
    pub fn attach_stem(&mut self, lane: usize, samples: std::sync::Arc<[f32]>) {
        if lane < self.part_count() {
            self.stems.retain(|s| s.lane != lane);
            self.stems.push(ScoreStem { lane, samples });
        }
    }

    /// Why stems cannot play at `tempo`, if they cannot: they are recorded at the
    /// arrangement's tempo, and stretching them would drift from the parts.
    pub fn stems_blocked_at(&self, tempo: Bpm) -> Option<String> {
        (!self.stems.is_empty() && tempo != self.written_tempo).then(|| {
            format!(
                "backing stems play only at the written tempo ({} BPM), not at {tempo} BPM",
                self.written_tempo
            )
        })
    }

    pub fn new(arrangement: &Arrangement, options: ScoreOptions) -> Self {
        let meter = arrangement.meter;
        let bar_ticks = meter.bar_ticks();
        let count_in_ticks = bar_ticks * u64::from(options.count_in_bars);
        let written = arrangement.tempo.default;
        let first_written = arrangement
            .sections
            .first()
            .and_then(|s| s.tempo)
            .unwrap_or(written);
        let played = options.tempo.unwrap_or(first_written);

        let mut lanes: Vec<Lane> = arrangement
            .parts
            .iter()
            .map(|p| Lane {
                name: p.name.clone(),
                sound: LaneSound::Part(p.sound),
                gain: p.gain,
                pan: p.pan,
                notes: Vec::new(),
            })
            .collect();
        let mut sections = Vec::with_capacity(arrangement.sections.len());
        let mut tempo_changes: Vec<(u64, Bpm)> = Vec::with_capacity(arrangement.sections.len());
        let mut tick = count_in_ticks;
        for section in &arrangement.sections {
            let written_here = section.tempo.unwrap_or(written);
            let start = if tempo_changes.is_empty() { 0 } else { tick };
            if tempo_changes.last().map(|(_, b)| *b) != Some(written_here) {
                tempo_changes.push((start, written_here));
            }
            let pass_ticks = bar_ticks * u64::from(section.bars);
            let start_tick = tick;
            for pass in 0..section.repeats {
                if pass > 0 && tempo_changes.last().map(|(_, b)| *b) != Some(written_here) {
                    tempo_changes.push((tick, written_here));
                }
                for &(at, bpm) in &section.tempo_changes {
                    if at > 0
                        && at < pass_ticks
                        && tempo_changes.last().map(|(_, b)| *b) != Some(bpm)
                    {
                        tempo_changes.push((tick + at, bpm));
                    }
                }
                for (lane, notes) in lanes.iter_mut().zip(&section.notes) {
                    lane.notes.extend(notes.iter().map(|n| ScoreNote {
                        tick: tick + n.at_ticks,
                        len_ticks: n.len_ticks.max(1),
                        pitch: n.pitch,
                        velocity: n.velocity,
                        role: NoteRole::Part,
                    }));
                }
                tick += pass_ticks;
            }
            sections.push(SectionSpan {
                name: section.name.clone(),
                start_tick,
                end_tick: tick,
                pass_ticks,
            });
        }
        let end_tick = tick;
        let sub = meter.sub_beat_ticks();
        let clicks = (0..end_tick / sub)
            .map(|i| {
                let t = i * sub;
                let (role, velocity) = if t.is_multiple_of(bar_ticks) {
                    (NoteRole::Accent, ACCENT_VELOCITY)
                } else if t.is_multiple_of(meter.beat_ticks()) {
                    (NoteRole::Beat, BEAT_VELOCITY)
                } else {
                    (NoteRole::SubBeat, SUB_BEAT_VELOCITY)
                };
                ScoreNote {
                    tick: t,
                    len_ticks: sub,
                    pitch: 0,
                    velocity,
                    role,
                }
            })
            .collect();
        lanes.push(Lane {
            name: CLICK_LANE_NAME.to_string(),
            sound: LaneSound::Click,
            gain: 1.0,
            pan: 0.0,
            notes: clicks,
        });
        Self {
            title: arrangement.title.clone(),
            meter,
            lanes,
            sections,
            tempo_changes,
            written_tempo: first_written,
            tempo: played,
            count_in_ticks,
            end_tick,
            stems: Vec::new(),
        }
    }

    /// Nothing to play: an engine with this score is silent (for recording without a
    /// backing). Its one click lane has no notes and the piece ends at once.
    pub fn silence() -> Self {
        let tempo = Bpm::new(120.0).unwrap_or_else(|e| unreachable!("{e}"));
        Self {
            title: "silence".into(),
            meter: Meter::new(4, 4).unwrap_or_else(|e| unreachable!("{e}")),
            lanes: vec![Lane {
                name: CLICK_LANE_NAME.to_string(),
                sound: LaneSound::Click,
                gain: 1.0,
                pan: 0.0,
                notes: Vec::new(),
            }],
            sections: Vec::new(),
            tempo_changes: vec![(0, tempo)],
            written_tempo: tempo,
            tempo,
            count_in_ticks: 0,
            end_tick: 0,
            stems: Vec::new(),
        }
    }

    /// The tempo changes of this performance, scaled to the chosen practice tempo.
    pub fn played_tempo_changes(&self, tempo: Bpm) -> impl Iterator<Item = (u64, Bpm)> + '_ {
        self.tempo_changes
            .iter()
            .map(move |(tick, written)| (*tick, written.scaled(self.written_tempo, tempo)))
    }

    /// Index of the metronome lane (always the last).
    pub fn click_lane(&self) -> usize {
        self.lanes.len() - 1
    }

    /// Number of lanes that are parts (the click lane follows them).
    pub fn part_count(&self) -> usize {
        self.lanes.len() - 1
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // a test that indexes out of range fails, as it should
mod tests {
    use super::*;
    use crate::music::phase::clapping_music;

    #[test]
    fn clapping_music_flattens_with_count_in_and_clicks() {
        let score = Score::new(&clapping_music(4), ScoreOptions::default());
        assert_eq!(score.count_in_ticks, 5760);
        assert_eq!(score.sections.len(), 13);
        assert_eq!(score.end_tick, 5760 + 13 * 4 * 5760);
        // Eight claps a bar per clapper.
        assert_eq!(score.lanes[0].notes.len(), 13 * 4 * 8);
        assert_eq!(score.lanes[0].notes[0].tick, 5760);
        let click = &score.lanes[score.click_lane()];
        assert_eq!(click.notes.len() as u64, score.end_tick / 480);
        assert_eq!(click.notes[0].role, NoteRole::Accent);
        assert_eq!(click.notes[3].role, NoteRole::Beat);
        assert_eq!(click.notes[1].role, NoteRole::SubBeat);
        assert_eq!(score.tempo_changes, vec![(0, Bpm::new(160.0).unwrap())]);
    }

    #[test]
    fn practice_tempo_scales_every_section() {
        let arr = crate::music::resolve("pulse-layers").unwrap();
        let score = Score::new(
            &arr,
            ScoreOptions {
                count_in_bars: 0,
                tempo: Some(Bpm::new(50.0).unwrap()),
            },
        );
        let played: Vec<u32> = score
            .played_tempo_changes(score.tempo)
            .map(|(_, b)| b.milli())
            .collect();
        assert_eq!(played, vec![50_000, 56_000]);
        assert_eq!(score.tempo_changes[0].0, 0);
    }
}
