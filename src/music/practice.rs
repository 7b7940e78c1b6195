//! Practice versions of an arrangement: a bar range, several passes, a tempo ramp
//! (e.g. 70 % then +5 % a pass up to 100 %), muted parts ("play along without me")
//! and one tier on its own.
//!
//! Each is a plain transformation into another `Arrangement`, so the engine plays a
//! practice version exactly as it plays the piece: every bar, loop and tempo step lands
//! on the frame the tempo map gives it. Bars are numbered as the class hears them, with
//! repeats unrolled (the class view counts the same way). Must not know about frames,
//! devices or files.

use super::arrangement::{Arrangement, Section};
use super::error::MusicError;
use super::time::Bpm;

/// Tempo steps from `start_percent` by `step_percent` a pass up to `end_percent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ramp {
    pub start_percent: u32,
    pub step_percent: u32,
    pub end_percent: u32,
}

impl Ramp {
    /// Reads `70:5:100` (start, step, end, in percent of the tempo).
    pub fn parse(text: &str) -> Result<Ramp, MusicError> {
        let numbers: Vec<u32> = text
            .split(':')
            .map(|n| n.trim().parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|_| {
                MusicError::Practice(format!(
                    "ramp '{text}': write START:STEP:END in percent, e.g. 70:5:100"
                ))
            })?;
        let [start_percent, step_percent, end_percent] = numbers[..] else {
            return Err(MusicError::Practice(format!(
                "ramp '{text}': write START:STEP:END in percent, e.g. 70:5:100"
            )));
        };
        let ramp = Ramp {
            start_percent,
            step_percent,
            end_percent,
        };
        if !(10..=200).contains(&start_percent)
            || !(10..=200).contains(&end_percent)
            || step_percent == 0
            || start_percent > end_percent
        {
            return Err(MusicError::Practice(format!(
                "ramp '{text}': start and end must be 10–200 %, start no higher than end, and the step at least 1 %"
            )));
        }
        if ramp.percents().len() > 40 {
            return Err(MusicError::Practice(format!(
                "ramp '{text}' makes more than 40 passes: take a bigger step"
            )));
        }
        Ok(ramp)
    }

    /// The tempo of each pass, in percent: the end is always reached exactly.
    pub fn percents(&self) -> Vec<u32> {
        let mut steps: Vec<u32> = (0..)
            .map(|k| self.start_percent + k * self.step_percent)
            .take_while(|p| *p < self.end_percent)
            .collect();
        steps.push(self.end_percent);
        steps
    }
}

/// The bars `first..=last` of the performance (repeats unrolled, counting from 1, or
/// from 0 when the piece starts with a pickup, as teachers count them).
pub fn bar_range(
    arrangement: &Arrangement,
    first: u32,
    last: u32,
) -> Result<Arrangement, MusicError> {
    let opening = u32::from(!arrangement.sections.first().is_some_and(|s| s.pickup));
    let total = arrangement.total_bars();
    let final_bar = total + u64::from(opening) - 1;
    if first < opening || first > last || u64::from(last) > final_bar {
        return Err(MusicError::Practice(format!(
            "bars {first}–{last} are not in '{}', which has bars {opening}–{final_bar}",
            arrangement.title
        )));
    }
    let mut sections = Vec::new();
    let mut bar = opening;
    for section in &arrangement.sections {
        let bar_ticks = arrangement.meter_of(section).bar_ticks();
        for _ in 0..section.repeats {
            let pass_first = bar;
            let pass_last = bar + section.bars - 1;
            bar += section.bars;
            let from = first.max(pass_first);
            let to = last.min(pass_last);
            if from > to {
                continue;
            }
            let (skip, keep) = (from - pass_first, to - from + 1);
            let (start, end) = (
                u64::from(skip) * bar_ticks,
                u64::from(skip + keep) * bar_ticks,
            );
            let in_force = section
                .tempo_changes
                .iter()
                .take_while(|(at, _)| *at <= start)
                .last()
                .map(|(_, bpm)| *bpm)
                .or(section.tempo);
            sections.push(Section {
                bars: keep,
                repeats: 1,
                tempo: in_force,
                tempo_changes: section
                    .tempo_changes
                    .iter()
                    .filter(|(at, _)| *at > start && *at < end)
                    .map(|(at, bpm)| (at - start, *bpm))
                    .collect(),
                notes: section
                    .notes
                    .iter()
                    .map(|notes| {
                        notes
                            .iter()
                            .filter(|n| (start..end).contains(&n.at_ticks))
                            .map(|n| super::arrangement::Note {
                                at_ticks: n.at_ticks - start,
                                ..*n
                            })
                            .collect()
                    })
                    .collect(),
                chords: section
                    .chords
                    .get(skip as usize..(skip + keep) as usize)
                    .map(<[String]>::to_vec)
                    .unwrap_or_default(),
                ..section.clone()
            });
        }
    }
    Ok(Arrangement {
        sections,
        ..arrangement.clone()
    })
}

/// The arrangement played `passes` times in a row.
pub fn passes(arrangement: &Arrangement, passes: u32) -> Arrangement {
    let sections = (0..passes.max(1))
        .flat_map(|_| arrangement.sections.iter().cloned())
        .collect();
    Arrangement {
        sections,
        ..arrangement.clone()
    }
}

/// One pass per step of the ramp, each section at its written tempo times the step.
pub fn ramp(arrangement: &Arrangement, ramp: Ramp) -> Result<Arrangement, MusicError> {
    let mut sections = Vec::new();
    for percent in ramp.percents() {
        for section in &arrangement.sections {
            let scale = |written: Bpm| {
                written
                    .percent(percent)
                    .map_err(|e| MusicError::Practice(format!("the ramp's {percent} % step: {e}")))
            };
            let tempo = scale(section.tempo.unwrap_or(arrangement.tempo.default))?;
            let tempo_changes = section
                .tempo_changes
                .iter()
                .map(|(at, bpm)| scale(*bpm).map(|b| (*at, b)))
                .collect::<Result<Vec<_>, _>>()?;
            sections.push(Section {
                tempo: Some(tempo),
                tempo_changes,
                name: format!("{} ({percent} %)", section.name),
                ..section.clone()
            });
        }
    }
    Ok(Arrangement {
        sections,
        ..arrangement.clone()
    })
}

/// Silences the named parts (their notes stay in the score, so cues still follow them).
pub fn mute(arrangement: &Arrangement, names: &[String]) -> Result<Arrangement, MusicError> {
    let mut result = arrangement.clone();
    for name in names {
        let index = result.part_index(name.trim()).ok_or_else(|| {
            let known: Vec<&str> = result.parts.iter().map(|p| p.name.as_str()).collect();
            MusicError::Practice(format!(
                "there is no part '{name}' to mute; parts are: {}",
                known.join(", ")
            ))
        })?;
        result.parts[index].gain = 0.0;
    }
    Ok(result)
}

/// Silences every part that is not in `tier`.
pub fn solo_tier(arrangement: &Arrangement, tier: &str) -> Result<Arrangement, MusicError> {
    if !arrangement.parts.iter().any(|p| p.tier == tier) {
        return Err(MusicError::Practice(format!(
            "no part of '{}' is at tier '{tier}'; its tiers are: {}",
            arrangement.title,
            arrangement.tiers.join(", ")
        )));
    }
    let mut result = arrangement.clone();
    for part in &mut result.parts {
        if part.tier != tier {
            part.gain = 0.0;
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::builtin::resolve;

    #[test]
    fn a_ramp_ends_exactly_on_its_last_step() {
        assert_eq!(
            Ramp::parse("70:5:100").unwrap().percents(),
            [70, 75, 80, 85, 90, 95, 100]
        );
        assert_eq!(Ramp::parse("70:20:100").unwrap().percents(), [70, 90, 100]);
        assert!(Ramp::parse("70:0:100").is_err());
        assert!(Ramp::parse("100:5:70").is_err());
        assert!(
            Ramp::parse("fast")
                .unwrap_err()
                .to_string()
                .contains("START:STEP:END")
        );
    }

    #[test]
    fn a_bar_range_keeps_the_notes_of_those_bars_only() {
        let blues = resolve("bandroom-blues").unwrap();
        // Bars 5–6 are the first two bars of the first chorus: after the 4-bar intro.
        let two = bar_range(&blues, 5, 6).unwrap();
        assert_eq!(two.total_bars(), 2);
        assert_eq!(two.sections[0].chords, ["C7", "C7"]);
        let bass = two.part_index("bass-starter").unwrap();
        assert_eq!(two.sections[0].notes[bass].len(), 2, "one root per bar");
        // Across the intro and the chorus: two sections.
        let across = bar_range(&blues, 4, 5).unwrap();
        assert_eq!(across.sections.len(), 2);
        assert_eq!(across.sections[0].chords, ["G7"]);
        assert!(bar_range(&blues, 0, 2).is_err());
        assert!(
            bar_range(&blues, 3, 999)
                .unwrap_err()
                .to_string()
                .contains("bars 1–")
        );
    }

    #[test]
    fn solo_and_mute_silence_the_right_parts() {
        let sailor = resolve("drunken-sailor").unwrap();
        let starters = solo_tier(&sailor, "starter").unwrap();
        for part in &starters.parts {
            assert_eq!(part.gain > 0.0, part.tier == "starter", "{}", part.name);
        }
        assert!(
            solo_tier(&sailor, "gold")
                .unwrap_err()
                .to_string()
                .contains("starter, core, stretch")
        );
        let without_me = mute(&sailor, &["voices-stretch".into()]).unwrap();
        let index = sailor.part_index("voices-stretch").unwrap();
        assert_eq!(without_me.parts[index].gain, 0.0);
        assert_eq!(
            without_me.sections, sailor.sections,
            "notes stay for the cues"
        );
        assert!(
            mute(&sailor, &["tuba".into()])
                .unwrap_err()
                .to_string()
                .contains("no part 'tuba'")
        );
    }
}
