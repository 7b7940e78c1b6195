//! Musical time as integers: ticks, meters, step lengths and tempi.
//!
//! Owns the units every other module counts in. Everything here is exact: a tick is
//! 1/960 of a quarter note and a tempo is a whole number of milli-BPM, so converting
//! musical time to frames (done in `engine::tempo_map`) never accumulates floats.
//! Must not know about sample rates or frames.

use super::error::MusicError;
use std::fmt;

/// Ticks per quarter note. 960 divides evenly by 2, 3, 4, 5, 6, 8, 10, 12, 15, 16,
/// so triplets, quintuplets and sixteenths all land on whole ticks.
pub const TICKS_PER_QUARTER: u64 = 960;

/// Tempo limits any arrangement, render or practice setting must respect. Slower than
/// 20 BPM is no longer a pulse a class can feel; faster than 400 is a typing error.
pub const MIN_BPM: f64 = 20.0;
pub const MAX_BPM: f64 = 400.0;

/// A time signature such as 4/4 or 12/8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meter {
    pub beats_per_bar: u32,
    pub beat_unit: u32,
}

impl Meter {
    /// Parses "12/8". The unit must be a power of two from 1 to 32 so its tick length is whole.
    pub fn parse(text: &str) -> Result<Self, MusicError> {
        let (top, bottom) =
            parse_fraction(text, "meter", "4/4 or 12/8").map_err(MusicError::Meter)?;
        let too_big =
            || MusicError::Meter(format!("meter '{text}' has numbers that are far too large"));
        Self::new(
            u32::try_from(top).map_err(|_| too_big())?,
            u32::try_from(bottom).map_err(|_| too_big())?,
        )
    }

    pub fn new(beats_per_bar: u32, beat_unit: u32) -> Result<Self, MusicError> {
        if !(1..=32).contains(&beats_per_bar) {
            return Err(MusicError::Meter(format!(
                "meter {beats_per_bar}/{beat_unit}: beats per bar must be 1 to 32"
            )));
        }
        if ![1, 2, 4, 8, 16, 32].contains(&beat_unit) {
            return Err(MusicError::Meter(format!(
                "meter {beats_per_bar}/{beat_unit}: the lower number must be 1, 2, 4, 8, 16 or 32"
            )));
        }
        Ok(Self {
            beats_per_bar,
            beat_unit,
        })
    }

    /// Ticks in one unit of the lower number (an eighth in 12/8).
    pub fn unit_ticks(self) -> u64 {
        TICKS_PER_QUARTER * 4 / u64::from(self.beat_unit)
    }

    pub fn bar_ticks(self) -> u64 {
        self.unit_ticks() * u64::from(self.beats_per_bar)
    }

    /// Compound meters (6/8, 9/8, 12/8) are felt in dotted beats of three units.
    pub fn is_compound(self) -> bool {
        self.beat_unit >= 8 && self.beats_per_bar > 3 && self.beats_per_bar.is_multiple_of(3)
    }

    /// The felt beat the metronome clicks on: a dotted quarter in 12/8, a quarter in 4/4.
    pub fn beat_ticks(self) -> u64 {
        if self.is_compound() {
            self.unit_ticks() * 3
        } else {
            self.unit_ticks()
        }
    }

    /// The subdivision the metronome clicks on when sub-beats are on: the eighth in
    /// 12/8, the half-beat in simple meters.
    pub fn sub_beat_ticks(self) -> u64 {
        if self.is_compound() {
            self.unit_ticks()
        } else {
            self.unit_ticks() / 2
        }
    }
}

impl fmt::Display for Meter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.beats_per_bar, self.beat_unit)
    }
}

/// A tempo in quarter notes per minute, held as whole milli-BPM so it is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bpm {
    milli: u32,
}

impl Bpm {
    /// Accepts tempi from [`MIN_BPM`] to [`MAX_BPM`], rounded to a thousandth of a beat.
    pub fn new(bpm: f64) -> Result<Self, MusicError> {
        if !bpm.is_finite() || !(MIN_BPM..=MAX_BPM).contains(&bpm) {
            return Err(MusicError::Tempo(format!(
                "tempo {bpm} BPM is outside {MIN_BPM}–{MAX_BPM} BPM (quarter notes per minute)"
            )));
        }
        Ok(Self {
            milli: (bpm * 1000.0).round() as u32,
        })
    }

    pub fn from_milli(milli: u32) -> Result<Self, MusicError> {
        Self::new(f64::from(milli) / 1000.0)
    }

    pub fn milli(self) -> u32 {
        self.milli
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.milli) / 1000.0
    }

    /// This tempo scaled by `to / from`, used to move every section's tempo when a
    /// teacher chooses a practice tempo. Exact integer arithmetic, rounded to a milli-BPM.
    pub fn scaled(self, from: Bpm, to: Bpm) -> Bpm {
        let num = u64::from(self.milli) * u64::from(to.milli);
        let den = u64::from(from.milli);
        let milli = (2 * num + den) / (2 * den);
        Bpm {
            milli: u32::try_from(milli).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Bpm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.milli.is_multiple_of(1000) {
            write!(f, "{}", self.milli / 1000)
        } else {
            write!(f, "{}", self.as_f64())
        }
    }
}

/// Splits "a/b" into two whole numbers; `what` and `example` make the error readable.
fn parse_fraction(text: &str, what: &str, example: &str) -> Result<(u64, u64), String> {
    let parts = text
        .split_once('/')
        .map(|(top, bottom)| (top.trim().parse::<u64>(), bottom.trim().parse::<u64>()));
    match parts {
        Some((Ok(top), Ok(bottom))) => Ok((top, bottom)),
        _ => Err(format!(
            "{what} '{text}' should be two whole numbers such as {example}"
        )),
    }
}

/// Parses a note value such as "1/8", "1/16", "3/8" or "1/12" (a triplet eighth) into ticks.
pub fn parse_note_value(text: &str) -> Result<u64, MusicError> {
    let (top, bottom) =
        parse_fraction(text, "note value", "1/8 or 1/16").map_err(MusicError::NoteValue)?;
    let whole = TICKS_PER_QUARTER * 4;
    if top == 0 || bottom == 0 || !(whole * top).is_multiple_of(bottom) {
        return Err(MusicError::NoteValue(format!(
            "note value '{text}' is not a whole number of ticks ({TICKS_PER_QUARTER} per quarter)"
        )));
    }
    Ok(whole * top / bottom)
}

/// Parses a pitch: a MIDI number ("60") or a name with octave ("C4" = 60, "F#3", "Bb2").
/// A MIDI pitch as a name with an octave (`C4` is 60), sharps for black keys.
pub fn pitch_name(pitch: u8) -> String {
    const NAMES: [&str; 12] = [
        "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
    ];
    format!(
        "{}{}",
        NAMES[usize::from(pitch % 12)],
        i32::from(pitch / 12) - 1
    )
}

pub fn parse_pitch(text: &str) -> Result<u8, MusicError> {
    let text = text.trim();
    if let Ok(number) = text.parse::<u8>() {
        return if number <= 127 {
            Ok(number)
        } else {
            Err(MusicError::Pitch(format!("pitch {number} is above 127")))
        };
    }
    let bad = || {
        MusicError::Pitch(format!(
            "pitch '{text}' should be a MIDI number or a name such as C4, F#3, Bb2"
        ))
    };
    let mut chars = text.chars();
    let letter = chars.next().ok_or_else(bad)?;
    let base: i32 = match letter.to_ascii_uppercase() {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return Err(bad()),
    };
    let rest: &str = chars.as_str();
    let (accidental, octave_text) = match rest.chars().next() {
        Some('#') => (1, &rest[1..]),
        Some('b') => (-1, &rest[1..]),
        _ => (0, rest),
    };
    let octave: i32 = octave_text.parse().map_err(|_| bad())?;
    let midi = (octave + 1) * 12 + base + accidental;
    u8::try_from(midi)
        .ok()
        .filter(|m| *m <= 127)
        .ok_or_else(|| {
            MusicError::Pitch(format!("pitch '{text}' is outside the MIDI range C-1..G9"))
        })
}

/// One cell of a rhythm grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Hit,
    Accent,
    Rest,
    /// Holds the previous note for one more step.
    Hold,
}

/// A grid as pupils read it: one character per step, separated by spaces.
pub fn grid_text(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Step::Hit => 'x',
            Step::Accent => 'X',
            Step::Rest => '.',
            Step::Hold => '-',
        })
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses a rhythm grid such as `"x x x . x x . x . x x ."` or `"X . x - | x . . ."`.
/// `x` plays, `X` plays accented, `.` rests, `-` holds the previous note; spaces and
/// bar lines `|` are only for the reader.
pub fn parse_rhythm(text: &str) -> Result<Vec<Step>, MusicError> {
    let mut steps = Vec::with_capacity(text.len());
    for (index, c) in text.chars().enumerate() {
        let step = match c {
            'x' => Step::Hit,
            'X' => Step::Accent,
            '.' => Step::Rest,
            '-' => {
                if !matches!(steps.last(), Some(Step::Hit | Step::Accent | Step::Hold)) {
                    return Err(MusicError::Rhythm(format!(
                        "rhythm '{text}': '-' at character {} holds nothing (it must follow x, X or -)",
                        index + 1
                    )));
                }
                Step::Hold
            }
            ' ' | '|' | '\t' => continue,
            other => {
                return Err(MusicError::Rhythm(format!(
                    "rhythm '{text}': '{other}' at character {} is not one of x X . - |",
                    index + 1
                )));
            }
        };
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(MusicError::Rhythm(
            "rhythm is empty: write one x or . per step".to_string(),
        ));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_meter_beats_are_dotted() {
        let m = Meter::parse("12/8").unwrap();
        assert_eq!(m.unit_ticks(), 480);
        assert_eq!(m.bar_ticks(), 5760);
        assert_eq!(m.beat_ticks(), 1440);
        assert_eq!(m.sub_beat_ticks(), 480);
        let simple = Meter::parse("3/4").unwrap();
        assert!(!simple.is_compound());
        assert_eq!(simple.beat_ticks(), 960);
        assert_eq!(simple.sub_beat_ticks(), 480);
    }

    #[test]
    fn bad_meters_are_refused() {
        assert!(Meter::parse("4").is_err());
        assert!(Meter::parse("4/3").is_err());
        assert!(Meter::parse("0/4").is_err());
        assert!(Meter::parse("x/4").is_err());
    }

    #[test]
    fn pitches_parse_by_name_and_number() {
        assert_eq!(parse_pitch("C4").unwrap(), 60);
        assert_eq!(parse_pitch("A4").unwrap(), 69);
        assert_eq!(parse_pitch("F#3").unwrap(), 54);
        assert_eq!(parse_pitch("Bb2").unwrap(), 46);
        assert_eq!(parse_pitch("C-1").unwrap(), 0);
        assert_eq!(parse_pitch("64").unwrap(), 64);
        assert!(parse_pitch("H2").is_err());
        assert!(parse_pitch("C10").is_err());
        assert!(parse_pitch("200").is_err());
    }

    #[test]
    fn tempo_limits_and_scaling() {
        assert!(Bpm::new(0.0).is_err());
        assert!(Bpm::new(5000.0).is_err());
        assert!(Bpm::new(f64::NAN).is_err());
        let a = Bpm::new(160.0).unwrap();
        let b = Bpm::new(120.0).unwrap();
        assert_eq!(a.scaled(a, b), b);
        assert_eq!(Bpm::new(80.0).unwrap().scaled(a, b).milli(), 60_000);
        assert_eq!(Bpm::new(173.5).unwrap().to_string(), "173.5");
    }

    #[test]
    fn rhythm_grid_parses_and_rejects() {
        use Step::*;
        assert_eq!(
            parse_rhythm("X x - . | x").unwrap(),
            vec![Accent, Hit, Hold, Rest, Hit]
        );
        assert!(parse_rhythm("- x").is_err());
        assert!(parse_rhythm("x o x").is_err());
        assert!(parse_rhythm(" | ").is_err());
    }

    #[test]
    fn note_values() {
        assert_eq!(parse_note_value("1/8").unwrap(), 480);
        assert_eq!(parse_note_value("1/12").unwrap(), 320);
        assert_eq!(parse_note_value("3/8").unwrap(), 1440);
        assert!(parse_note_value("1/7").is_err());
        assert!(parse_note_value("0/8").is_err());
    }
}
