//! The phase-piece generator: Clapping Music and any clap pattern a teacher enters.
//!
//! Owns the rule that makes a phase piece: section 0 in unison, then one section per
//! step of the pattern in which part 2 is rotated left by one more step
//! (`pattern[(i + k) mod n]`), ending back in unison. Must not read files.

use super::arrangement::{
    Arrangement, DEFAULT_TIERS, DEFAULT_VELOCITY, Part, Section, Sound, TempoRange, notes_from_grid,
};
use super::error::MusicError;
use super::time::{Bpm, Meter, Step, TICKS_PER_QUARTER, grid_text, parse_rhythm};

/// Steve Reich's pattern for *Clapping Music* (1972), one bar of 12/8.
pub const CLAPPING_MUSIC_PATTERN: &str = "x x x . x x . x . x x .";

/// How many times each bar is played in the score; teachers often use 4 or 8.
pub const CLAPPING_MUSIC_REPEATS: u32 = 12;

/// What a teacher chooses for a phase piece.
#[derive(Clone, Debug)]
pub struct PhasePiece<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub composer: Option<&'a str>,
    /// A rhythm grid, one step per cell (`x` clap, `X` accented clap, `.` rest).
    pub pattern: &'a str,
    /// Length of one step in ticks (an eighth note = 480).
    pub step_ticks: u64,
    pub repeats: u32,
    pub tempo: TempoRange,
}

/// The built-in *Clapping Music*: Reich's pattern, eighth-note steps, 12 repeats,
/// quarter = 160 (the score asks for 160–184; classes practise slower).
pub fn clapping_music(repeats: u32) -> Arrangement {
    let piece = PhasePiece {
        name: "clapping-music",
        title: "Clapping Music",
        composer: Some("Steve Reich (1972)"),
        pattern: CLAPPING_MUSIC_PATTERN,
        step_ticks: TICKS_PER_QUARTER / 2,
        repeats,
        tempo: TempoRange {
            default: bpm(160.0),
            practice_min: bpm(80.0),
            practice_max: bpm(184.0),
        },
    };
    // The pattern and tempi above are constants that satisfy every check in `generate`.
    generate(&piece).unwrap_or_else(|e| unreachable!("built-in Clapping Music is valid: {e}"))
}

fn bpm(value: f64) -> Bpm {
    Bpm::new(value).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Builds the phase piece: `n + 1` sections for an `n`-step pattern.
pub fn generate(piece: &PhasePiece<'_>) -> Result<Arrangement, MusicError> {
    let steps = parse_rhythm(piece.pattern)?;
    if steps.len() < 2 {
        return Err(MusicError::Invalid(format!(
            "phase pattern '{}' needs at least 2 steps to shift against",
            piece.pattern
        )));
    }
    if steps.contains(&Step::Hold) {
        return Err(MusicError::Invalid(format!(
            "phase pattern '{}': claps cannot be held, use only x, X and .",
            piece.pattern
        )));
    }
    if !steps.iter().any(|s| matches!(s, Step::Hit | Step::Accent)) {
        return Err(MusicError::Invalid(format!(
            "phase pattern '{}' has no claps",
            piece.pattern
        )));
    }
    let whole = TICKS_PER_QUARTER * 4;
    if piece.step_ticks == 0 || !whole.is_multiple_of(piece.step_ticks) {
        return Err(MusicError::Invalid(
            "a phase step must divide a whole note evenly (e.g. 1/8 or 1/16)".into(),
        ));
    }
    let unit = u32::try_from(whole / piece.step_ticks)
        .map_err(|e| MusicError::Meter(format!("the pattern's step is too short: {e}")))?;
    let beats = u32::try_from(steps.len())
        .map_err(|e| MusicError::Meter(format!("the pattern is too long: {e}")))?;
    let meter = Meter::new(beats, unit)?;

    let n = steps.len();
    let steady = notes_from_grid(&steps, piece.step_ticks, &[], DEFAULT_VELOCITY);
    let sections = (0..=n)
        .map(|k| {
            let rotated: Vec<Step> = (0..n).map(|i| steps[(i + k) % n]).collect();
            let name = match k {
                0 => "unison".to_string(),
                k if k == n => "unison (end)".to_string(),
                k => format!("shift {k}"),
            };
            Section {
                name,
                bars: 1,
                repeats: piece.repeats,
                tempo: None,
                tempo_changes: Vec::new(),
                notes: vec![
                    steady.clone(),
                    notes_from_grid(&rotated, piece.step_ticks, &[], DEFAULT_VELOCITY),
                ],
                chords: Vec::new(),
                grids: vec![Some(grid_text(&steps)), Some(grid_text(&rotated))],
                meter: None,
                pickup: false,
            }
        })
        .collect();
    // Holding the steady pattern is the core task; shifting against it is the stretch.
    let clapper = |name: &str, tier: &str, pan: f32| Part {
        name: name.to_string(),
        sound: Sound::Clap,
        instrument: "claps".to_string(),
        tier: tier.to_string(),
        stem: None,
        gain: 1.0,
        pan,
    };
    let arrangement = Arrangement {
        name: piece.name.to_string(),
        title: piece.title.to_string(),
        composer: piece.composer.map(str::to_string),
        meter,
        tempo: piece.tempo,
        parts: vec![
            clapper("clapper 1", DEFAULT_TIERS[1], -0.35),
            clapper("clapper 2", DEFAULT_TIERS[2], 0.35),
        ],
        sections,
        tiers: DEFAULT_TIERS[1..].iter().map(|t| t.to_string()).collect(),
    };
    arrangement.validate()?;
    Ok(arrangement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn onsets(notes: &[super::super::arrangement::Note], step: u64) -> Vec<u64> {
        notes.iter().map(|n| n.at_ticks / step).collect()
    }

    #[test]
    fn clapping_music_has_thirteen_sections_and_rotates() {
        let piece = clapping_music(CLAPPING_MUSIC_REPEATS);
        assert_eq!(piece.meter, Meter::new(12, 8).unwrap());
        assert_eq!(piece.sections.len(), 13);
        let pattern = parse_rhythm(CLAPPING_MUSIC_PATTERN).unwrap();
        let hits: Vec<u64> = (0..12u64)
            .filter(|&i| pattern[i as usize] == Step::Hit)
            .collect();
        for (k, section) in piece.sections.iter().enumerate() {
            assert_eq!(section.repeats, 12);
            let eighth = TICKS_PER_QUARTER / 2;
            assert_eq!(
                onsets(&section.notes[0], eighth),
                hits,
                "part 1 never moves"
            );
            let expected: Vec<u64> = (0..12u64)
                .filter(|&i| pattern[((i as usize) + k) % 12] == Step::Hit)
                .collect();
            assert_eq!(onsets(&section.notes[1], eighth), expected, "section {k}");
        }
        assert_eq!(piece.sections[0].notes[0], piece.sections[0].notes[1]);
        assert_eq!(piece.sections[12].notes[0], piece.sections[12].notes[1]);
        assert_ne!(piece.sections[1].notes[0], piece.sections[1].notes[1]);
    }

    #[test]
    fn teacher_patterns_use_the_same_generator() {
        let piece = PhasePiece {
            name: "mine",
            title: "Mine",
            composer: None,
            pattern: "X . x x . x . .",
            step_ticks: TICKS_PER_QUARTER / 4,
            repeats: 4,
            tempo: clapping_music(1).tempo,
        };
        let arr = generate(&piece).unwrap();
        assert_eq!(arr.meter, Meter::new(8, 16).unwrap());
        assert_eq!(arr.sections.len(), 9);
        assert_eq!(arr.sections[1].notes[1][0].at_ticks, TICKS_PER_QUARTER / 4);
        assert_eq!(arr.sections[0].notes[0][0].velocity, 127);
    }

    #[test]
    fn bad_patterns_say_why() {
        let mut piece = PhasePiece {
            name: "p",
            title: "P",
            composer: None,
            pattern: ". . .",
            step_ticks: 480,
            repeats: 4,
            tempo: clapping_music(1).tempo,
        };
        assert!(
            generate(&piece)
                .unwrap_err()
                .to_string()
                .contains("no claps")
        );
        piece.pattern = "x";
        assert!(
            generate(&piece)
                .unwrap_err()
                .to_string()
                .contains("at least 2")
        );
        piece.pattern = "x - x";
        assert!(generate(&piece).unwrap_err().to_string().contains("held"));
    }
}
