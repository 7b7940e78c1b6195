//! The arrangement model: what a class plays, in musical time.
//!
//! Owns `Arrangement`, `Part`, `Section` and `Note` and the rules that keep them
//! consistent. Built by the TOML loader, the phase-piece generator and (later) MIDI
//! import; read by the engine, which turns it into frames. Must not know about files,
//! sample rates or devices.

use super::error::MusicError;
use super::time::{Bpm, Meter};
use std::fmt;

/// The sound a part is played with by the built-in synthesizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sound {
    /// A hand clap: a burst of filtered noise with a sharp attack.
    Clap,
    /// A plain pitched voice (a few sine partials), for any melodic part.
    Tone,
    /// Piano or keyboard: a struck tone whose upper partials fade first.
    Keys,
    /// Bass guitar or bass line: a round low tone.
    Bass,
    /// Ukulele or guitar: a bright pluck that dies away quickly.
    Pluck,
    /// Kick (bass) drum: a falling thump.
    Kick,
    /// Snare drum: a short drum tone under a burst of noise.
    Snare,
    /// Closed hi-hat: a short hiss.
    HiHat,
    /// A drum kit on one part: each note's pitch picks the drum, as General MIDI's
    /// percussion map does (36 kick, 38 snare, 39 clap, 42 hi-hat; toms and
    /// cymbals fall back to the nearest of those).
    Kit,
}

impl Sound {
    pub const ALL: [Sound; 9] = [
        Sound::Clap,
        Sound::Tone,
        Sound::Keys,
        Sound::Bass,
        Sound::Pluck,
        Sound::Kick,
        Sound::Snare,
        Sound::HiHat,
        Sound::Kit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Sound::Clap => "clap",
            Sound::Tone => "tone",
            Sound::Keys => "keys",
            Sound::Bass => "bass",
            Sound::Pluck => "pluck",
            Sound::Kick => "kick",
            Sound::Snare => "snare",
            Sound::HiHat => "hihat",
            Sound::Kit => "kit",
        }
    }

    /// Whether the sound follows a note's pitch (drums and claps do not).
    pub fn is_pitched(self) -> bool {
        matches!(self, Sound::Tone | Sound::Keys | Sound::Bass | Sound::Pluck)
    }

    /// Reads a sound's name; the instrument names teachers use are accepted too.
    pub fn parse(text: &str) -> Result<Self, MusicError> {
        let alias = match text.to_ascii_lowercase().as_str() {
            "piano" | "keyboard" | "keyboards" => Some(Sound::Keys),
            "guitar" | "ukulele" | "uke" | "ukuleles" | "guitars" => Some(Sound::Pluck),
            "hi-hat" | "hat" | "shaker" | "shakers" => Some(Sound::HiHat),
            "bass drum" => Some(Sound::Kick),
            "drums" | "drum kit" | "drum-kit" => Some(Sound::Kit),
            "voice" | "voices" | "singing" | "glockenspiel" | "xylophone" | "chime bars" => {
                Some(Sound::Tone)
            }
            "claps" | "body percussion" | "clapping" => Some(Sound::Clap),
            "bass guitar" => Some(Sound::Bass),
            _ => None,
        };
        if let Some(sound) = alias {
            return Ok(sound);
        }
        Self::ALL
            .into_iter()
            .find(|s| s.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|s| s.name()).collect();
                MusicError::Sound(format!(
                    "unknown sound '{text}': use one of {}",
                    names.join(", ")
                ))
            })
    }
}

impl fmt::Display for Sound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The instrument families of a classroom, so a whole-class arrangement can show
/// that every family has something to play at every tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Voices,
    Keyboards,
    Guitars,
    Bass,
    TunedPercussion,
    UntunedPercussion,
    DrumKit,
}

impl Family {
    pub const ALL: [Family; 7] = [
        Family::Voices,
        Family::Keyboards,
        Family::Guitars,
        Family::Bass,
        Family::TunedPercussion,
        Family::UntunedPercussion,
        Family::DrumKit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Voices => "voices",
            Family::Keyboards => "keyboards",
            Family::Guitars => "ukuleles and guitars",
            Family::Bass => "bass",
            Family::TunedPercussion => "tuned percussion",
            Family::UntunedPercussion => "untuned percussion",
            Family::DrumKit => "drum kit",
        }
    }

    /// The family of an instrument named as teachers name it; the part's sound decides
    /// when the name is not one bandroom knows.
    pub fn of(instrument: &str, sound: Sound) -> Family {
        let name = instrument.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
        if has(&["drum kit", "drums", "kit"]) {
            Family::DrumKit
        } else if has(&["bass"]) {
            Family::Bass
        } else if has(&["voice", "sing", "choir", "vocal"]) {
            Family::Voices
        } else if has(&[
            "glock",
            "xylo",
            "chime",
            "metallo",
            "marimba",
            "vibra",
            "boomwhacker",
        ]) {
            Family::TunedPercussion
        } else if has(&[
            "clap",
            "shaker",
            "tambourine",
            "body",
            "cajon",
            "djembe",
            "cowbell",
            "woodblock",
            "triangle",
        ]) {
            Family::UntunedPercussion
        } else if has(&["ukulele", "uke", "guitar"]) {
            Family::Guitars
        } else if has(&["keyboard", "piano", "keys", "synth", "organ"]) {
            Family::Keyboards
        } else {
            match sound {
                Sound::Kit | Sound::Kick | Sound::Snare => Family::DrumKit,
                Sound::Clap | Sound::HiHat => Family::UntunedPercussion,
                Sound::Bass => Family::Bass,
                Sound::Pluck => Family::Guitars,
                Sound::Keys => Family::Keyboards,
                Sound::Tone => Family::Voices,
            }
        }
    }
}

/// How demanding a part is. Schools name their own tiers; these are the defaults.
pub const DEFAULT_TIERS: [&str; 3] = ["starter", "core", "stretch"];

/// One line of music a pupil or group plays.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub name: String,
    pub sound: Sound,
    /// What pupils play it on, in the teacher's words ("ukulele", "glockenspiel").
    pub instrument: String,
    /// Difficulty tier, e.g. "starter", "core", "stretch".
    pub tier: String,
    /// Linear gain, 1.0 = as written.
    pub gain: f32,
    /// -1.0 = left, 0.0 = centre, 1.0 = right.
    pub pan: f32,
    /// An audio file this part plays instead of notes (a backing track), as written
    /// in the arrangement, resolved against the arrangement's folder.
    pub stem: Option<std::path::PathBuf>,
}

/// A note within one pass of a section, in ticks from the start of that pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Note {
    pub at_ticks: u64,
    pub len_ticks: u64,
    pub pitch: u8,
    pub velocity: u8,
}

/// A stretch of the piece, played `repeats` times.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub name: String,
    pub bars: u32,
    pub repeats: u32,
    /// A tempo for this section; `None` keeps the arrangement's tempo.
    pub tempo: Option<Bpm>,
    /// Tempo changes within one pass, in ticks from the pass's start (after 0, in
    /// order), as a MIDI file's tempo map may have them; each pass starts again at
    /// the section's tempo.
    pub tempo_changes: Vec<(u64, Bpm)>,
    /// Notes of one pass, one list per part (same order as `Arrangement::parts`).
    pub notes: Vec<Vec<Note>>,
    /// Chord symbols, one per bar (empty when the section has none), for pupils
    /// reading a harmony part on screen.
    pub chords: Vec<String>,
    /// Each part's rhythm grid as written, for pupils reading a rhythm part on screen.
    pub grids: Vec<Option<String>>,
    /// A time signature for this section; `None` keeps the arrangement's. A change of
    /// meter between bars starts a new section.
    pub meter: Option<Meter>,
    /// The incomplete bar a piece starts with (an anacrusis): only the first section,
    /// one bar, played once. Teachers count it as bar 0, and its beats as the last
    /// beats of a full bar.
    pub pickup: bool,
}

impl Section {
    /// A section of `bars` bars with no notes yet, in the arrangement's meter and tempo.
    pub fn empty(name: impl Into<String>, bars: u32, parts: usize) -> Section {
        Section {
            name: name.into(),
            bars,
            repeats: 1,
            tempo: None,
            tempo_changes: Vec::new(),
            notes: vec![Vec::new(); parts],
            chords: Vec::new(),
            grids: vec![None; parts],
            meter: None,
            pickup: false,
        }
    }
}

/// The tempo an arrangement is written at, and the range a teacher may practise in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TempoRange {
    pub default: Bpm,
    pub practice_min: Bpm,
    pub practice_max: Bpm,
}

impl TempoRange {
    pub fn contains(&self, bpm: Bpm) -> bool {
        (self.practice_min..=self.practice_max).contains(&bpm)
    }
}

/// A piece ready to play: meter, tempo, parts and sections.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrangement {
    /// The name a teacher types to choose it (`clapping-music`).
    pub name: String,
    pub title: String,
    pub composer: Option<String>,
    pub meter: Meter,
    pub tempo: TempoRange,
    pub parts: Vec<Part>,
    pub sections: Vec<Section>,
    /// The tier names this arrangement uses, easiest first (schools may rename them).
    pub tiers: Vec<String>,
}

impl Part {
    pub fn family(&self) -> Family {
        Family::of(&self.instrument, self.sound)
    }
}

impl Arrangement {
    /// Plays every section `repeats` times instead of as written.
    pub fn set_repeats(&mut self, repeats: u32) {
        for section in &mut self.sections {
            section.repeats = repeats;
        }
    }

    /// Keeps only the section called `name` (its first appearance in the form), to
    /// rehearse it on its own. The error lists the sections there are.
    pub fn keep_section(&mut self, name: &str) -> Result<(), MusicError> {
        let Some(index) = self.sections.iter().position(|s| s.name == name) else {
            let names: Vec<&str> = self.sections.iter().map(|s| s.name.as_str()).collect();
            return Err(MusicError::Section(format!(
                "'{}' has no section '{name}'; its sections are: {}",
                self.title,
                names.join(", ")
            )));
        };
        let kept = self.sections.swap_remove(index);
        self.sections = vec![kept];
        Ok(())
    }

    /// The time signature `section` is played in.
    pub fn meter_of(&self, section: &Section) -> Meter {
        section.meter.unwrap_or(self.meter)
    }

    /// Ticks in one pass of `section`.
    pub fn pass_ticks(&self, section: &Section) -> u64 {
        self.meter_of(section).bar_ticks() * u64::from(section.bars)
    }

    /// Ticks of the whole piece as written (every section, every repeat).
    pub fn total_ticks(&self) -> u64 {
        self.sections
            .iter()
            .map(|s| self.pass_ticks(s) * u64::from(s.repeats))
            .sum()
    }

    pub fn part_index(&self, name: &str) -> Option<usize> {
        self.parts.iter().position(|p| p.name == name)
    }

    /// Total bars including repeats.
    pub fn total_bars(&self) -> u64 {
        self.sections
            .iter()
            .map(|s| u64::from(s.bars) * u64::from(s.repeats))
            .sum()
    }

    /// Checks the invariants the engine relies on; every builder calls this last.
    pub fn validate(&self) -> Result<(), MusicError> {
        if self.parts.is_empty() {
            return Err(MusicError::Invalid(format!(
                "'{}' has no parts",
                self.title
            )));
        }
        if self.sections.is_empty() {
            return Err(MusicError::Invalid(format!(
                "'{}' has no sections",
                self.title
            )));
        }
        if self.tempo.practice_min > self.tempo.practice_max {
            return Err(MusicError::Invalid(format!(
                "practice range {}–{} BPM runs backwards",
                self.tempo.practice_min, self.tempo.practice_max
            )));
        }
        for (i, part) in self.parts.iter().enumerate() {
            if part.name.trim().is_empty() {
                return Err(MusicError::Invalid(format!(
                    "part {} has an empty name",
                    i + 1
                )));
            }
            if self.parts[..i].iter().any(|p| p.name == part.name) {
                return Err(MusicError::Invalid(format!(
                    "two parts are called '{}'",
                    part.name
                )));
            }
            if !(0.0..=4.0).contains(&part.gain) {
                return Err(MusicError::Invalid(format!(
                    "part '{}': gain must be 0 to 4",
                    part.name
                )));
            }
            if !(-1.0..=1.0).contains(&part.pan) {
                return Err(MusicError::Invalid(format!(
                    "part '{}': pan must be -1 (left) to 1 (right)",
                    part.name
                )));
            }
        }
        for (index, section) in self.sections.iter().enumerate() {
            if section.pickup && (index > 0 || section.bars != 1 || section.repeats != 1) {
                return Err(MusicError::Invalid(format!(
                    "section '{}': only the first section can be a pickup, and it is one bar played once",
                    section.name
                )));
            }
            if section.bars == 0 {
                return Err(MusicError::Invalid(format!(
                    "section '{}' has no bars",
                    section.name
                )));
            }
            if section.repeats == 0 {
                return Err(MusicError::Invalid(format!(
                    "section '{}' is played 0 times",
                    section.name
                )));
            }
            if section.notes.len() != self.parts.len() {
                return Err(MusicError::Invalid(format!(
                    "section '{}' has notes for {} parts but the arrangement has {}",
                    section.name,
                    section.notes.len(),
                    self.parts.len()
                )));
            }
            let pass_ticks = self.pass_ticks(section);
            for (part, notes) in self.parts.iter().zip(&section.notes) {
                if let Some(late) = notes.iter().find(|n| n.at_ticks >= pass_ticks) {
                    return Err(MusicError::Invalid(format!(
                        "section '{}': a note of '{}' starts at tick {} after the section ends ({} ticks)",
                        section.name, part.name, late.at_ticks, pass_ticks
                    )));
                }
                if notes.windows(2).any(|w| w[0].at_ticks > w[1].at_ticks) {
                    return Err(MusicError::Invalid(format!(
                        "section '{}': notes of '{}' are out of order",
                        section.name, part.name
                    )));
                }
            }
        }
        self.check_length(None)
    }

    /// Refuses a piece that would play longer than [`MAX_PIECE_SECS`] at `played` (or
    /// as written), before anything is allocated or written for it: a hostile file with
    /// a note 2^28 ticks away, or `bars = 1000000`, would otherwise fill the memory or
    /// the disk.
    pub fn check_length(&self, played: Option<super::time::Bpm>) -> Result<(), MusicError> {
        let written = self.tempo.default.as_f64();
        let mut slowest = written;
        for section in &self.sections {
            for bpm in section
                .tempo
                .iter()
                .chain(section.tempo_changes.iter().map(|(_, b)| b))
            {
                slowest = slowest.min(bpm.as_f64());
            }
        }
        // A played tempo scales every written tempo by the same ratio.
        if let Some(played) = played {
            slowest *= played.as_f64() / written;
        }
        let quarters = self.total_ticks() as f64 / super::time::TICKS_PER_QUARTER as f64;
        let secs = quarters * 60.0 / slowest.max(1.0);
        if secs > MAX_PIECE_SECS {
            return Err(MusicError::TooLong(format!(
                "'{}' would play for {:.1} hours at {:.0} BPM; bandroom plays pieces of up to {} \
                 hours (check the number of bars and repeats, or the file's last note)",
                self.title,
                secs / 3600.0,
                slowest,
                MAX_PIECE_SECS / 3600.0
            )));
        }
        Ok(())
    }
}

/// The longest piece bandroom plays, renders or records against: two hours.
pub const MAX_PIECE_SECS: f64 = 2.0 * 3600.0;

/// Velocity of an `x` in a rhythm grid; `X` (accent) plays at [`ACCENT_VELOCITY`].
pub const DEFAULT_VELOCITY: u8 = 96;
pub const ACCENT_VELOCITY: u8 = 127;

/// Turns a rhythm grid into notes. Each hit lasts one step plus one per following
/// `-`; pitches are used in turn, one per hit, cycling when there are more hits.
pub fn notes_from_grid(
    steps: &[super::time::Step],
    step_ticks: u64,
    pitches: &[u8],
    velocity: u8,
) -> Vec<Note> {
    use super::time::Step;
    let mut notes: Vec<Note> = Vec::new();
    let mut hits = 0usize;
    for (i, step) in steps.iter().enumerate() {
        let at_ticks = i as u64 * step_ticks;
        match step {
            Step::Hit | Step::Accent => {
                let pitch = if pitches.is_empty() {
                    60
                } else {
                    pitches[hits % pitches.len()]
                };
                hits += 1;
                notes.push(Note {
                    at_ticks,
                    len_ticks: step_ticks,
                    pitch,
                    velocity: if *step == Step::Accent {
                        ACCENT_VELOCITY
                    } else {
                        velocity
                    },
                });
            }
            Step::Hold => {
                if let Some(last) = notes.last_mut() {
                    last.len_ticks += step_ticks;
                }
            }
            Step::Rest => {}
        }
    }
    notes
}
