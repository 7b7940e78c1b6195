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
    /// The time signature the section is played in.
    pub meter: Meter,
    /// The number teachers give the section's first bar: from 1, or 0 for a pickup.
    pub first_bar: u64,
    /// Beats of the bar that come before the section's first note: a pickup of one
    /// beat in 4/4 starts on beat 4, so 3. Zero for every full bar.
    pub beats_before: u64,
}

/// Where a tick is in its bar, as a teacher counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarPosition {
    /// The bar's number (count-in bars count from 1 on their own).
    pub bar: u64,
    /// The beat, from 1 (compound meters count dotted beats).
    pub beat: u64,
    /// Ticks since the bar line (a pickup's bar line is before the piece starts).
    pub into_bar: u64,
    /// Ticks of a full bar in the meter in force.
    pub bar_ticks: u64,
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
        let count_in_ticks = meter.bar_ticks() * u64::from(options.count_in_bars);
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
        let mut bar = u64::from(!arrangement.sections.first().is_some_and(|s| s.pickup));
        for (index, section) in arrangement.sections.iter().enumerate() {
            let written_here = section.tempo.unwrap_or(written);
            let start = if tempo_changes.is_empty() { 0 } else { tick };
            if tempo_changes.last().map(|(_, b)| *b) != Some(written_here) {
                tempo_changes.push((start, written_here));
            }
            let beats_before = pickup_beats_before(arrangement, index);
            // A pickup is counted in the bar it completes: the next section's meter.
            let section_meter = match arrangement.sections.get(index + 1) {
                Some(next) if beats_before > 0 => arrangement.meter_of(next),
                _ => arrangement.meter_of(section),
            };
            let pass_ticks = arrangement.pass_ticks(section);
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
                meter: section_meter,
                first_bar: bar,
                beats_before,
            });
            bar += u64::from(section.bars) * u64::from(section.repeats);
        }
        let end_tick = tick;
        let mut clicks = Vec::new();
        click_bars(&mut clicks, meter, 0, count_in_ticks, 0);
        for span in &sections {
            let skip = span.beats_before * span.meter.beat_ticks();
            click_bars(
                &mut clicks,
                span.meter,
                span.start_tick,
                span.end_tick,
                skip,
            );
        }
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

    /// The section span playing at `tick`, none in the count-in or after the end.
    pub fn span_index_at(&self, tick: u64) -> Option<usize> {
        self.sections
            .iter()
            .position(|s| (s.start_tick..s.end_tick).contains(&tick))
    }

    /// The bar and beat at `tick`, in the meter in force there (the piece's meter in
    /// the count-in and after the end).
    pub fn bar_at_tick(&self, tick: u64) -> BarPosition {
        let count = |tick: u64, from: u64, meter: Meter, first_bar: u64, before: u64| {
            let bar_ticks = meter.bar_ticks().max(1);
            let beat_ticks = meter.beat_ticks().max(1);
            let into = tick.saturating_sub(from) + before * beat_ticks;
            BarPosition {
                bar: first_bar + into / bar_ticks,
                beat: (into % bar_ticks) / beat_ticks + 1,
                into_bar: into % bar_ticks,
                bar_ticks,
            }
        };
        let in_span = |tick: u64, span: &SectionSpan| {
            count(
                tick,
                span.start_tick,
                span.meter,
                span.first_bar,
                span.beats_before,
            )
        };
        if tick < self.count_in_ticks {
            return count(tick, 0, self.meter, 1, 0);
        }
        if let Some(span) = self.span_index_at(tick).and_then(|i| self.sections.get(i)) {
            return in_span(tick, span);
        }
        // After the end, bars go on counting in the piece's meter.
        let (from, first_bar) = self
            .sections
            .last()
            .map_or((self.count_in_ticks, 1), |last| {
                let final_bar = in_span(last.end_tick.saturating_sub(1), last).bar;
                (last.end_tick, final_bar + 1)
            });
        count(tick, from, self.meter, first_bar, 0)
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

/// The beats of a full bar before the pickup that opens `arrangement` (section
/// `index`), so the pickup's first beat is counted as the last beat(s) of a bar. Zero
/// for every other section, and when the pickup's beats are not the next bar's beats.
fn pickup_beats_before(arrangement: &Arrangement, index: usize) -> u64 {
    let Some(pickup) = arrangement.sections.get(index).filter(|s| s.pickup) else {
        return 0;
    };
    let short = arrangement.meter_of(pickup);
    let full = arrangement
        .sections
        .get(index + 1)
        .map_or(arrangement.meter, |s| arrangement.meter_of(s));
    let beat = full.beat_ticks();
    if short.bar_ticks() < full.bar_ticks() && short.bar_ticks().is_multiple_of(beat) {
        (full.bar_ticks() - short.bar_ticks()) / beat
    } else {
        0
    }
}

/// Metronome clicks on every sub-beat from `from` to `to` in `meter`, the bar lines
/// `skip` ticks before `from` (a pickup's bar begins before the piece).
fn click_bars(clicks: &mut Vec<ScoreNote>, meter: Meter, from: u64, to: u64, skip: u64) {
    let sub = meter.sub_beat_ticks().max(1);
    let bar_ticks = meter.bar_ticks().max(1);
    let beat_ticks = meter.beat_ticks().max(1);
    let mut t = from;
    while t < to {
        let into = t - from + skip;
        let (role, velocity) = if into.is_multiple_of(bar_ticks) {
            (NoteRole::Accent, ACCENT_VELOCITY)
        } else if into.is_multiple_of(beat_ticks) {
            (NoteRole::Beat, BEAT_VELOCITY)
        } else {
            (NoteRole::SubBeat, SUB_BEAT_VELOCITY)
        };
        clicks.push(ScoreNote {
            tick: t,
            len_ticks: sub,
            pitch: 0,
            velocity,
            role,
        });
        t += sub;
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
        // A bar of 12/8 is six quarters.
        let bar = 6 * crate::music::TICKS_PER_QUARTER;
        assert_eq!(score.count_in_ticks, bar);
        assert_eq!(score.sections.len(), 13);
        assert_eq!(score.end_tick, bar + 13 * 4 * bar);
        // Eight claps a bar per clapper.
        assert_eq!(score.lanes[0].notes.len(), 13 * 4 * 8);
        assert_eq!(score.lanes[0].notes[0].tick, bar);
        let click = &score.lanes[score.click_lane()];
        assert_eq!(click.notes.len() as u64, score.end_tick / (bar / 12));
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
