//! Musical time as integers: ticks, meters, step lengths and tempi.
//!
//! Owns the units every other module counts in. Everything here is exact: a tick is
//! 1/8 064 000 of a quarter note (so a MIDI file's own ticks at 96, 120, 384, 480, 960,
//! 1000 or 1024 a quarter land on whole ticks) and a tempo is an exact fraction, so
//! converting musical time to frames (done in `engine::tempo_map`) never accumulates.
//! Must not know about sample rates or frames.

use super::error::MusicError;
use std::fmt;

/// Ticks per quarter note: 2^10 · 3^2 · 5^3 · 7. Every resolution notation software and
/// sequencers write (24 to 1024 pulses a quarter, 1000, 960) divides it, and so do
/// triplets, quintuplets, septuplets and 128th notes, so nothing read is ever rounded.
pub const TICKS_PER_QUARTER: u64 = 8_064_000;

/// The ticks a quarter note has in arrangement files' note lists unless the file says
/// otherwise (`ticks_per_quarter = …`): what bandroom has always written.
pub const FILE_TICKS_PER_QUARTER: u64 = 960;

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

/// A tempo in quarter notes per minute, held as an exact fraction: a typed tempo is
/// whole milli-BPM (`120`, `92.5`), a MIDI file's is 60 000 000 over its microseconds
/// per quarter (461 538 µs is 130.000 13… BPM, kept as it is), so the tempo map converts
/// either to frames with no rounding until the last step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bpm {
    /// Always in lowest terms, `den > 0`, so equal tempi compare and hash equal.
    num: u64,
    den: u64,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Bpm {
    /// Accepts tempi from [`MIN_BPM`] to [`MAX_BPM`], rounded to a thousandth of a beat.
    pub fn new(bpm: f64) -> Result<Self, MusicError> {
        if !bpm.is_finite() || !(MIN_BPM..=MAX_BPM).contains(&bpm) {
            return Err(MusicError::Tempo(format!(
                "tempo {bpm} BPM is outside {MIN_BPM}–{MAX_BPM} BPM (quarter notes per minute)"
            )));
        }
        Ok(Self::ratio(u128::from((bpm * 1000.0).round() as u32), 1000))
    }

    pub fn from_milli(milli: u32) -> Result<Self, MusicError> {
        Self::new(f64::from(milli) / 1000.0)
    }

    /// A MIDI file's tempo, exactly: `micros` microseconds per quarter note.
    pub fn from_micros_per_quarter(micros: u32) -> Result<Self, MusicError> {
        let tempo = Self::ratio(60_000_000, u128::from(micros.max(1)));
        if !(MIN_BPM..=MAX_BPM).contains(&tempo.as_f64()) {
            return Err(MusicError::Tempo(format!(
                "tempo {:.3} BPM ({micros} µs a quarter note) is outside {MIN_BPM}–{MAX_BPM} BPM",
                tempo.as_f64()
            )));
        }
        Ok(tempo)
    }

    /// `num / den` in lowest terms; one too large for 64 bits is rounded to milli-BPM.
    fn ratio(num: u128, den: u128) -> Self {
        let divisor = gcd(num, den).max(1);
        let (num, den) = (num / divisor, (den / divisor).max(1));
        match (u64::try_from(num), u64::try_from(den)) {
            (Ok(num), Ok(den)) => Self { num, den },
            _ => Self::nearest_milli(num as f64 / den as f64),
        }
    }

    /// The nearest whole milli-BPM to `bpm` (never more than 64 bits wide).
    fn nearest_milli(bpm: f64) -> Self {
        let milli = (bpm * 1000.0).round().clamp(1.0, f64::from(u32::MAX));
        Self::ratio(milli as u128, 1000)
    }

    /// The tempo as a fraction of quarter notes per minute, in lowest terms.
    pub fn fraction(self) -> (u64, u64) {
        (self.num, self.den)
    }

    /// The microseconds per quarter note when that is a whole number (every MIDI
    /// file's tempo, and typed tempi such as 120 or 96).
    pub fn micros_per_quarter(self) -> Option<u32> {
        let micros = u128::from(self.den) * 60_000_000;
        (micros % u128::from(self.num) == 0)
            .then(|| u32::try_from(micros / u128::from(self.num)).ok())
            .flatten()
    }

    /// Whole milli-BPM, rounded.
    pub fn milli(self) -> u32 {
        let milli = (u128::from(self.num) * 1000 + u128::from(self.den) / 2) / u128::from(self.den);
        u32::try_from(milli).unwrap_or(u32::MAX)
    }

    /// Whether the tempo is a whole number of milli-BPM (as typed tempi are).
    pub fn is_whole_milli(self) -> bool {
        (u128::from(self.num) * 1000).is_multiple_of(u128::from(self.den))
    }

    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// This tempo scaled by `to / from`, used to move every section's tempo when a
    /// teacher chooses a practice tempo. Exact while the fraction fits.
    pub fn scaled(self, from: Bpm, to: Bpm) -> Bpm {
        if from == to {
            return self;
        }
        let product = |a: u64, b: u64, c: u64| {
            u128::from(a)
                .checked_mul(u128::from(b))
                .and_then(|ab| ab.checked_mul(u128::from(c)))
        };
        match (
            product(self.num, to.num, from.den),
            product(self.den, to.den, from.num),
        ) {
            (Some(num), Some(den)) => Self::ratio(num, den),
            _ => Self::nearest_milli(self.as_f64() * to.as_f64() / from.as_f64()),
        }
    }

    /// This tempo at `percent` of itself (a practice ramp's step).
    pub fn percent(self, percent: u32) -> Result<Bpm, MusicError> {
        let scaled = Self::ratio(
            u128::from(self.num) * u128::from(percent),
            u128::from(self.den) * 100,
        );
        if (MIN_BPM..=MAX_BPM).contains(&scaled.as_f64()) {
            Ok(scaled)
        } else {
            Err(MusicError::Tempo(format!(
                "{percent} % of {self} BPM is outside {MIN_BPM}–{MAX_BPM} BPM"
            )))
        }
    }
}

impl PartialOrd for Bpm {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Bpm {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (u128::from(self.num) * u128::from(other.den))
            .cmp(&(u128::from(other.num) * u128::from(self.den)))
    }
}

impl fmt::Display for Bpm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            // Three decimals at most: what a teacher can read and type.
            let text = format!("{:.3}", self.as_f64());
            f.write_str(text.trim_end_matches('0').trim_end_matches('.'))
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
        const Q: u64 = TICKS_PER_QUARTER;
        let m = Meter::parse("12/8").unwrap();
        assert_eq!(m.unit_ticks(), Q / 2);
        assert_eq!(m.bar_ticks(), 6 * Q);
        assert_eq!(m.beat_ticks(), 3 * Q / 2);
        assert_eq!(m.sub_beat_ticks(), Q / 2);
        let simple = Meter::parse("3/4").unwrap();
        assert!(!simple.is_compound());
        assert_eq!(simple.beat_ticks(), Q);
        assert_eq!(simple.sub_beat_ticks(), Q / 2);
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
    fn a_midi_tempo_is_kept_exactly() {
        // 461 538 µs a quarter is 130.000 130… BPM: no whole number of milli-BPM.
        let midi = Bpm::from_micros_per_quarter(461_538).unwrap();
        assert!(!midi.is_whole_milli());
        assert_eq!(midi.micros_per_quarter(), Some(461_538));
        assert_eq!(midi.to_string(), "130");
        assert!(midi > Bpm::new(130.0).unwrap() && midi < Bpm::new(130.001).unwrap());
        assert_eq!(
            Bpm::from_micros_per_quarter(500_000).unwrap(),
            Bpm::new(120.0).unwrap()
        );
        assert!(Bpm::from_micros_per_quarter(10_000_000).is_err(), "6 BPM");
        // Scaling there and back is exact.
        let slow = Bpm::new(97.0).unwrap();
        let there = midi.scaled(midi, slow);
        assert_eq!(there, slow);
        assert_eq!(there.scaled(slow, midi), midi);
        assert_eq!(
            Bpm::new(120.0).unwrap().percent(75).unwrap().milli(),
            90_000
        );
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
        const Q: u64 = TICKS_PER_QUARTER;
        assert_eq!(parse_note_value("1/8").unwrap(), Q / 2);
        assert_eq!(parse_note_value("1/12").unwrap(), Q / 3);
        assert_eq!(parse_note_value("3/8").unwrap(), 3 * Q / 2);
        // Septuplets and 1/11 (no resolution divides by 11).
        assert_eq!(parse_note_value("1/28").unwrap(), Q / 7);
        assert!(parse_note_value("1/11").is_err());
        assert!(parse_note_value("0/8").is_err());
    }
}
