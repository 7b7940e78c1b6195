//! Reads arrangements written in TOML, reporting every problem with its line number.
//!
//! Owns the file format teachers write by hand (documented in
//! `assets/arrangements/README.md`): either a phase piece (`[phase]`) or parts and
//! sections with rhythm grids. Must not touch the engine; the only I/O is reading the
//! one file it is given.

use super::arrangement::{
    Arrangement, DEFAULT_TIERS, DEFAULT_VELOCITY, Part, Section, Sound, TempoRange, notes_from_grid,
};
use super::phase::{self, PhasePiece};
use super::time::{
    Bpm, FILE_TICKS_PER_QUARTER, MIN_BPM, Meter, TICKS_PER_QUARTER, parse_note_value, parse_pitch,
    parse_rhythm,
};
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Why an arrangement could not be loaded. Every variant names where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ArrangementError {
    #[error("cannot read arrangement {}: {reason} (check the path and that the file is readable)", path.display())]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("{origin}: line {line}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        message: String,
    },
    #[error(
        "unknown arrangement '{name}': use a built-in name ({known}), one of your own from `bandroom arrangements`, or a path to a .toml file"
    )]
    Unknown { name: String, known: String },
    #[error("{origin}: {message}")]
    Midi { origin: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArrangement {
    title: Spanned<String>,
    composer: Option<String>,
    meter: Option<Spanned<String>>,
    tempo: Spanned<RawTempo>,
    /// The ticks a quarter note has in this file's note lists and tempo changes (960
    /// when absent); `bandroom import` writes a MIDI file's own resolution here.
    ticks_per_quarter: Option<Spanned<u64>>,
    phase: Option<Spanned<RawPhase>>,
    /// The tier names parts may use, easiest first.
    tiers: Option<Spanned<Vec<String>>>,
    #[serde(default, rename = "part")]
    parts: Vec<Spanned<RawPart>>,
    #[serde(default, rename = "section")]
    sections: Vec<Spanned<RawSection>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTempo {
    bpm: Spanned<f64>,
    practice: Option<Spanned<Vec<f64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    pattern: Spanned<String>,
    step: Option<Spanned<String>>,
    repeats: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    name: Spanned<String>,
    sound: Option<Spanned<String>>,
    instrument: Option<Spanned<String>>,
    tier: Option<Spanned<String>>,
    /// An audio file (WAV, FLAC, MP3, Ogg) the part plays instead of notes.
    stem: Option<Spanned<String>>,
    gain: Option<Spanned<f32>>,
    pan: Option<Spanned<f32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    name: Spanned<String>,
    bars: Spanned<u32>,
    repeats: Option<Spanned<u32>>,
    tempo: Option<Spanned<SectionTempo>>,
    /// Chord symbols, one per bar: "Dm | Dm | C | C".
    chords: Option<Spanned<String>>,
    /// Tempo changes within a pass: "TICK BPM", ticks from the section's start.
    tempo_changes: Option<Vec<Spanned<String>>>,
    /// A time signature for this section ("3/4"); the arrangement's when absent.
    meter: Option<Spanned<String>>,
    /// The piece's opening incomplete bar (first section only, `bars = 1`).
    pickup: Option<Spanned<bool>>,
    #[serde(default)]
    play: Vec<Spanned<RawPlay>>,
}

/// A section's tempo: BPM (`tempo = 96`), or microseconds per quarter note as a MIDI
/// file gives it (`tempo = "461538 us"`), which is exact where BPM would be rounded.
#[derive(Deserialize)]
#[serde(untagged)]
enum SectionTempo {
    Bpm(f64),
    Written(String),
}

/// Reads a tempo written as BPM ("96", "92.5") or microseconds a quarter ("461538 us").
fn tempo_text(text: &str) -> Result<Bpm, String> {
    let text = text.trim();
    let micros = text
        .strip_suffix("us")
        .or_else(|| text.strip_suffix("µs"))
        .map(str::trim);
    match micros {
        Some(micros) => micros
            .parse::<u32>()
            .map_err(|_| format!("tempo '{text}': write whole microseconds, e.g. \"500000 us\""))
            .and_then(|m| Bpm::from_micros_per_quarter(m).map_err(|e| e.to_string())),
        None => text
            .parse::<f64>()
            .map_err(|_| {
                format!("tempo '{text}': write BPM (96) or microseconds a quarter (\"625000 us\")")
            })
            .and_then(|b| Bpm::new(b).map_err(|e| e.to_string())),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlay {
    part: Spanned<String>,
    rhythm: Option<Spanned<String>>,
    /// Notes as "AT LENGTH PITCH [VELOCITY]", times in ticks (960 to a quarter note
    /// unless the file sets `ticks_per_quarter`):
    /// what `bandroom import` writes for music that is not a grid.
    notes: Option<Vec<Spanned<String>>>,
    step: Option<Spanned<String>>,
    pitches: Option<Vec<Spanned<String>>>,
    velocity: Option<Spanned<u8>>,
}

/// Maps byte spans to line numbers and builds errors that name the origin.
struct Source<'a> {
    text: &'a str,
    origin: &'a str,
    /// bandroom's ticks per tick of the file's note lists.
    tick_scale: u64,
}

impl Source<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text[..end].matches('\n').count() + 1
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ArrangementError {
        ArrangementError::Invalid {
            origin: self.origin.to_string(),
            line: self.line(span),
            message: message.into(),
        }
    }

    fn at<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> ArrangementError {
        self.error(value.span(), message)
    }
}

/// Reads an arrangement from a `.toml` file; its name is the file stem.
pub fn load_arrangement_file(path: &Path) -> Result<Arrangement, ArrangementError> {
    let text = crate::own_files::read_regular_text(path, crate::own_files::SMALL_FILE_LIMIT)
        .map_err(|reason| ArrangementError::Read {
            path: path.to_path_buf(),
            reason,
        })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "arrangement".to_string());
    let mut arrangement = parse_arrangement(&text, &path.display().to_string(), &name)?;
    // A stem's path is written relative to the arrangement's own folder.
    let folder = path.parent().unwrap_or(Path::new(""));
    for part in &mut arrangement.parts {
        if let Some(stem) = part.stem.as_mut()
            && stem.is_relative()
        {
            *stem = folder.join(&*stem);
        }
    }
    Ok(arrangement)
}

/// Parses arrangement TOML. `origin` names the file in errors; `name` is what a
/// teacher types to choose it.
pub fn parse_arrangement(
    text: &str,
    origin: &str,
    name: &str,
) -> Result<Arrangement, ArrangementError> {
    let mut src = Source {
        text,
        origin,
        tick_scale: TICKS_PER_QUARTER / FILE_TICKS_PER_QUARTER,
    };
    let raw: RawArrangement = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().replace('\n', " ");
        src.error(e.span().unwrap_or(0..0), message)
    })?;
    if let Some(per_quarter) = &raw.ticks_per_quarter {
        let n = *per_quarter.get_ref();
        if n == 0 || !TICKS_PER_QUARTER.is_multiple_of(n) {
            return Err(src.at(
                per_quarter,
                format!("ticks_per_quarter = {n} is not a resolution bandroom can keep exactly: use 960, 480, 384, 1024 or another that divides {TICKS_PER_QUARTER}"),
            ));
        }
        src.tick_scale = TICKS_PER_QUARTER / n;
    }
    let tempo = tempo_range(&src, &raw.tempo)?;
    let arrangement = match &raw.phase {
        Some(phase) => phase_arrangement(&src, &raw, phase, name, tempo)?,
        None => written_arrangement(&src, &raw, name, tempo)?,
    };
    arrangement
        .validate()
        .map_err(|message| src.at(&raw.title, message))?;
    Ok(arrangement)
}

fn tempo_range(src: &Source<'_>, raw: &Spanned<RawTempo>) -> Result<TempoRange, ArrangementError> {
    let tempo = raw.get_ref();
    let default = Bpm::new(*tempo.bpm.get_ref()).map_err(|m| src.at(&tempo.bpm, m))?;
    let (practice_min, practice_max) = match &tempo.practice {
        Some(range) => match range.get_ref().as_slice() {
            [low, high] => (
                Bpm::new(*low).map_err(|m| src.at(range, m))?,
                Bpm::new(*high).map_err(|m| src.at(range, m))?,
            ),
            _ => return Err(src.at(range, "practice must be [slowest, fastest], e.g. [80, 120]")),
        },
        // A class can always practise down to half speed and play at the written tempo.
        None => (
            Bpm::new((default.as_f64() / 2.0).max(MIN_BPM)).map_err(|m| src.at(&tempo.bpm, m))?,
            default,
        ),
    };
    let range = TempoRange {
        default,
        practice_min,
        practice_max,
    };
    if practice_min > practice_max {
        return Err(src.at(
            raw,
            "practice range runs backwards: write [slowest, fastest]",
        ));
    }
    if !range.contains(default) {
        return Err(src.at(
            raw,
            format!("bpm {default} is outside the practice range {practice_min}–{practice_max}"),
        ));
    }
    Ok(range)
}

fn phase_arrangement(
    src: &Source<'_>,
    raw: &RawArrangement,
    phase: &Spanned<RawPhase>,
    name: &str,
    tempo: TempoRange,
) -> Result<Arrangement, ArrangementError> {
    if let Some(meter) = &raw.meter {
        return Err(src.at(
            meter,
            "a phase piece takes its meter from the pattern: remove 'meter'",
        ));
    }
    if let Some(part) = raw.parts.first() {
        return Err(src.at(
            part,
            "a phase piece makes its own two parts: remove [[part]]",
        ));
    }
    if let Some(section) = raw.sections.first() {
        return Err(src.at(
            section,
            "a phase piece makes its own sections: remove [[section]]",
        ));
    }
    let p = phase.get_ref();
    let step_ticks = match &p.step {
        Some(step) => parse_note_value(step.get_ref()).map_err(|m| src.at(step, m))?,
        None => super::time::TICKS_PER_QUARTER / 2,
    };
    let repeats = match &p.repeats {
        Some(r) if *r.get_ref() == 0 => return Err(src.at(r, "repeats must be at least 1")),
        Some(r) => *r.get_ref(),
        None => phase::CLAPPING_MUSIC_REPEATS,
    };
    phase::generate(&PhasePiece {
        name,
        title: raw.title.get_ref(),
        composer: raw.composer.as_deref(),
        pattern: p.pattern.get_ref(),
        step_ticks,
        repeats,
        tempo,
    })
    .map_err(|m| src.at(&p.pattern, m))
}

fn written_arrangement(
    src: &Source<'_>,
    raw: &RawArrangement,
    name: &str,
    tempo: TempoRange,
) -> Result<Arrangement, ArrangementError> {
    let meter_field = raw
        .meter
        .as_ref()
        .ok_or_else(|| src.at(&raw.title, "missing 'meter', e.g. meter = \"4/4\""))?;
    let meter = Meter::parse(meter_field.get_ref()).map_err(|m| src.at(meter_field, m))?;
    if raw.parts.is_empty() {
        return Err(src.at(&raw.title, "no parts: add at least one [[part]]"));
    }
    if raw.sections.is_empty() {
        return Err(src.at(&raw.title, "no sections: add at least one [[section]]"));
    }
    // Without a `tiers` list any tier name is accepted; with one, parts must use it.
    let declared: Option<Vec<String>> = match &raw.tiers {
        Some(t) if t.get_ref().is_empty() || t.get_ref().iter().any(|n| n.trim().is_empty()) => {
            return Err(src.at(
                t,
                "tiers must be a list of names, e.g. [\"starter\", \"core\", \"stretch\"]",
            ));
        }
        Some(t) => Some(t.get_ref().iter().map(|n| n.trim().to_string()).collect()),
        None => None,
    };
    let mut parts: Vec<Part> = Vec::with_capacity(raw.parts.len());
    for spanned in &raw.parts {
        let p = spanned.get_ref();
        if parts.iter().any(|q| q.name == *p.name.get_ref()) {
            return Err(src.at(
                &p.name,
                format!("two parts are called '{}'", p.name.get_ref()),
            ));
        }
        let gain = p.gain.as_ref().map_or(Ok(1.0), |g| {
            let v = *g.get_ref();
            if (0.0..=4.0).contains(&v) {
                Ok(v)
            } else {
                Err(src.at(g, "gain must be between 0 and 4 (1 = as written)"))
            }
        })?;
        let pan = p.pan.as_ref().map_or(Ok(0.0), |g| {
            let v = *g.get_ref();
            if (-1.0..=1.0).contains(&v) {
                Ok(v)
            } else {
                Err(src.at(g, "pan must be between -1 (left) and 1 (right)"))
            }
        })?;
        let sound = match (&p.sound, &p.instrument) {
            _ if p.stem.is_some() => Sound::Tone,
            (Some(sound), _) => Sound::parse(sound.get_ref()).map_err(|m| src.at(sound, m))?,
            (None, Some(instrument)) => Sound::parse(instrument.get_ref()).map_err(|_| {
                src.at(
                    instrument,
                    format!(
                        "part '{}': bandroom has no sound for instrument '{}'; add sound = \"…\" \
                         (clap, tone, keys, bass, pluck, kick, snare, hihat, kit)",
                        p.name.get_ref(),
                        instrument.get_ref()
                    ),
                )
            })?,
            (None, None) => {
                return Err(src.at(
                    &p.name,
                    format!(
                        "part '{}' needs a sound or an instrument, e.g. sound = \"keys\"",
                        p.name.get_ref()
                    ),
                ));
            }
        };
        let tier = match (&p.tier, &declared) {
            (Some(t), Some(tiers)) if !tiers.iter().any(|known| known == t.get_ref()) => {
                return Err(src.at(
                    t,
                    format!(
                        "part '{}' has tier '{}', which is not one of this arrangement's tiers: {}",
                        p.name.get_ref(),
                        t.get_ref(),
                        tiers.join(", ")
                    ),
                ));
            }
            (Some(t), _) => t.get_ref().trim().to_string(),
            (None, Some(tiers)) => tiers[tiers.len() / 2].clone(),
            (None, None) => DEFAULT_TIERS[1].to_string(),
        };
        parts.push(Part {
            name: p.name.get_ref().trim().to_string(),
            sound,
            instrument: p.instrument.as_ref().map_or_else(
                || {
                    if p.stem.is_some() {
                        "backing track"
                    } else {
                        sound.name()
                    }
                    .to_string()
                },
                |i| i.get_ref().trim().to_string(),
            ),
            tier,
            gain,
            pan,
            stem: p.stem.as_ref().map(|s| PathBuf::from(s.get_ref().trim())),
        });
    }
    let sections = raw
        .sections
        .iter()
        .map(|s| section(src, s, meter, &parts))
        .collect::<Result<Vec<_>, _>>()?;
    let tiers = declared.unwrap_or_else(|| tiers_in_use(&parts));
    Ok(Arrangement {
        name: name.to_string(),
        title: raw.title.get_ref().clone(),
        composer: raw.composer.clone(),
        meter,
        tempo,
        parts,
        sections,
        tiers,
    })
}

/// One "AT LENGTH PITCH [VELOCITY]" entry of a part's note list.
fn listed_note(
    src: &Source<'_>,
    entry: &Spanned<String>,
    pass_ticks: u64,
) -> Result<super::arrangement::Note, ArrangementError> {
    let fields: Vec<&str> = entry.get_ref().split_whitespace().collect();
    let bad = |why: &str| {
        src.at(
            entry,
            format!(
                "note {:?}: {why}; write \"AT LENGTH PITCH VELOCITY\" with times in ticks ({} to a quarter note)",
                entry.get_ref(),
                TICKS_PER_QUARTER / src.tick_scale
            ),
        )
    };
    let [at, len, pitch, rest @ ..] = fields.as_slice() else {
        return Err(bad("too few fields"));
    };
    let scaled = |n: u64| n.checked_mul(src.tick_scale);
    let at: u64 = at
        .parse()
        .ok()
        .and_then(scaled)
        .ok_or_else(|| bad("the time is not a whole number"))?;
    let len: u64 = len
        .parse()
        .ok()
        .and_then(scaled)
        .ok_or_else(|| bad("the length is not a whole number"))?;
    if at >= pass_ticks {
        return Err(bad("it starts after the section ends"));
    }
    let pitch = parse_pitch(pitch).map_err(|m| src.at(entry, m))?;
    let velocity = match rest {
        [] => DEFAULT_VELOCITY,
        [v] => v
            .parse::<u8>()
            .ok()
            .filter(|v| (1..=127).contains(v))
            .ok_or_else(|| bad("the velocity must be 1 to 127"))?,
        _ => return Err(bad("too many fields")),
    };
    Ok(super::arrangement::Note {
        at_ticks: at,
        len_ticks: len.max(1),
        pitch,
        velocity,
    })
}

/// The tiers parts use, the usual ones first in their usual order.
fn tiers_in_use(parts: &[Part]) -> Vec<String> {
    let mut tiers: Vec<String> = DEFAULT_TIERS
        .iter()
        .filter(|t| parts.iter().any(|p| p.tier == **t))
        .map(|t| t.to_string())
        .collect();
    for part in parts {
        if !tiers.contains(&part.tier) {
            tiers.push(part.tier.clone());
        }
    }
    tiers
}

/// A section's chord symbols, one per bar, or none.
fn section_chords(
    src: &Source<'_>,
    s: &RawSection,
    bars: u32,
) -> Result<Vec<String>, ArrangementError> {
    let Some(text) = &s.chords else {
        return Ok(Vec::new());
    };
    let section_name = s.name.get_ref();
    let symbols: Vec<String> = text
        .get_ref()
        .split('|')
        .map(|c| c.trim().to_string())
        .collect();
    if symbols.len() != bars as usize || symbols.iter().any(String::is_empty) {
        return Err(src.at(
            text,
            format!(
                "section '{section_name}' has {bars} bar(s), so chords needs {bars} symbol(s) \
                 separated by |, e.g. \"Dm | C\" (found {})",
                symbols.iter().filter(|c| !c.is_empty()).count()
            ),
        ));
    }
    Ok(symbols)
}

/// Where a part plays in a section: its grid and one pass of notes.
struct Played {
    grid: Option<String>,
    notes: Vec<super::arrangement::Note>,
}

/// What one `[[section.play]]` gives its part: a list of notes, or a rhythm grid (with
/// pitches or chords, a step and a velocity) repeated to fill the pass.
fn played(
    src: &Source<'_>,
    p: &RawPlay,
    section_name: &str,
    meter: Meter,
    bars: u32,
) -> Result<Played, ArrangementError> {
    let part_name = p.part.get_ref().trim();
    let pass_ticks = meter.bar_ticks() * u64::from(bars);
    let rhythm = match (&p.rhythm, &p.notes) {
        (Some(_), Some(notes)) => {
            let message = format!(
                "part '{part_name}' in section '{section_name}' has both a rhythm and notes: keep one"
            );
            return Err(match notes.first() {
                Some(first) => src.at(first, message),
                None => src.at(&p.part, message),
            });
        }
        (None, Some(list)) => {
            return Ok(Played {
                grid: None,
                notes: list
                    .iter()
                    .map(|n| listed_note(src, n, pass_ticks))
                    .collect::<Result<_, _>>()?,
            });
        }
        (Some(rhythm), None) => rhythm,
        (None, None) => {
            return Err(src.at(
                &p.part,
                format!("part '{part_name}' in section '{section_name}' needs a rhythm (or notes)"),
            ));
        }
    };
    let steps = parse_rhythm(rhythm.get_ref()).map_err(|m| src.at(rhythm, m))?;
    let step_ticks = match &p.step {
        Some(step) => parse_note_value(step.get_ref()).map_err(|m| src.at(step, m))?,
        // An eighth-note grid in 4/4 and in 12/8: what classroom rhythm grids use.
        None => meter.sub_beat_ticks(),
    };
    let grid_ticks = step_ticks * steps.len() as u64;
    if grid_ticks > pass_ticks || !pass_ticks.is_multiple_of(grid_ticks) {
        return Err(src.at(
            rhythm,
            format!(
                "rhythm for '{part_name}' in section '{section_name}' has {} steps of {step_ticks} ticks; \
                 {bars} bar(s) of {meter} need {} steps (or a number of steps that repeats evenly into them)",
                steps.len(),
                pass_ticks / step_ticks
            ),
        ));
    }
    // "C4+E4+G4" is a chord: its notes sound together.
    let pitches = p
        .pitches
        .iter()
        .flatten()
        .map(|chord| {
            chord
                .get_ref()
                .split('+')
                .map(|pitch| parse_pitch(pitch.trim()).map_err(|m| src.at(chord, m)))
                .collect::<Result<Vec<u8>, _>>()
        })
        .collect::<Result<Vec<Vec<u8>>, _>>()?;
    let velocity = match &p.velocity {
        Some(v) if !(1..=127).contains(v.get_ref()) => {
            return Err(src.at(v, "velocity must be 1 to 127"));
        }
        Some(v) => *v.get_ref(),
        None => DEFAULT_VELOCITY,
    };
    let one_grid: Vec<super::arrangement::Note> =
        notes_from_grid(&steps, step_ticks, &[], velocity)
            .into_iter()
            .enumerate()
            .flat_map(|(i, n)| {
                let chord: &[u8] = match pitches.get(i % pitches.len().max(1)) {
                    Some(chord) => chord,
                    None => std::slice::from_ref(&n.pitch),
                };
                chord
                    .iter()
                    .map(move |&pitch| super::arrangement::Note { pitch, ..n })
                    .collect::<Vec<_>>()
            })
            .collect();
    let copies = pass_ticks / grid_ticks;
    Ok(Played {
        grid: Some(rhythm.get_ref().trim().to_string()),
        notes: (0..copies)
            .flat_map(|copy| {
                one_grid.iter().map(move |n| super::arrangement::Note {
                    at_ticks: n.at_ticks + copy * grid_ticks,
                    ..*n
                })
            })
            .collect(),
    })
}

/// A section's tempo changes, `"TICK BPM"` inside the pass, in time order.
fn section_tempo_changes(
    src: &Source<'_>,
    s: &RawSection,
    pass_ticks: u64,
) -> Result<Vec<(u64, Bpm)>, ArrangementError> {
    let tempo_changes = s
        .tempo_changes
        .iter()
        .flatten()
        .map(|change| {
            let bad = || {
                src.at(
                    change,
                    format!(
                        "tempo change {:?}: write \"TICK BPM\" (or \"TICK MICROSECONDS us\") with the tick inside the section (1 to {})",
                        change.get_ref(),
                        pass_ticks / src.tick_scale - 1
                    ),
                )
            };
            let (tick, bpm) = change.get_ref().trim().split_once(' ').ok_or_else(bad)?;
            let tick: u64 = tick
                .parse::<u64>()
                .ok()
                .and_then(|t| t.checked_mul(src.tick_scale))
                .ok_or_else(bad)?;
            if tick == 0 || tick >= pass_ticks {
                return Err(bad());
            }
            Ok((tick, tempo_text(bpm).map_err(|m| src.at(change, m))?))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if tempo_changes.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(src.at(
            &s.name,
            format!(
                "section '{}': tempo changes must be in time order",
                s.name.get_ref()
            ),
        ));
    }
    Ok(tempo_changes)
}

fn section(
    src: &Source<'_>,
    spanned: &Spanned<RawSection>,
    piece_meter: Meter,
    parts: &[Part],
) -> Result<Section, ArrangementError> {
    let s = spanned.get_ref();
    let section_name = s.name.get_ref();
    let own_meter = s
        .meter
        .as_ref()
        .map(|m| Meter::parse(m.get_ref()).map_err(|e| src.at(m, e)))
        .transpose()?;
    let meter = own_meter.unwrap_or(piece_meter);
    let bars = *s.bars.get_ref();
    if bars == 0 {
        return Err(src.at(&s.bars, "bars must be at least 1"));
    }
    let repeats = match &s.repeats {
        Some(r) if *r.get_ref() == 0 => return Err(src.at(r, "repeats must be at least 1")),
        Some(r) => *r.get_ref(),
        None => 1,
    };
    let tempo = s
        .tempo
        .as_ref()
        .map(|t| {
            match t.get_ref() {
                SectionTempo::Bpm(bpm) => Bpm::new(*bpm).map_err(|e| e.to_string()),
                SectionTempo::Written(text) => tempo_text(text),
            }
            .map_err(|m| src.at(t, m))
        })
        .transpose()?;
    let pass_ticks = meter.bar_ticks() * u64::from(bars);
    let chords = section_chords(src, s, bars)?;
    let mut grids: Vec<Option<String>> = vec![None; parts.len()];
    let mut notes = vec![Vec::new(); parts.len()];
    let mut seen = vec![false; parts.len()];
    for play in &s.play {
        let p = play.get_ref();
        let part_name = p.part.get_ref().trim();
        let Some((index, part)) = parts.iter().enumerate().find(|(_, q)| q.name == part_name)
        else {
            let names: Vec<&str> = parts.iter().map(|q| q.name.as_str()).collect();
            return Err(src.at(
                &p.part,
                format!(
                    "section '{section_name}' plays part '{part_name}', which is not declared; parts are: {}",
                    names.join(", ")
                ),
            ));
        };
        if part.stem.is_some() {
            return Err(src.at(
                &p.part,
                format!("part '{part_name}' plays a stem (an audio file), so it cannot also have notes in section '{section_name}'"),
            ));
        }
        let (Some(grid), Some(part_notes), Some(seen)) = (
            grids.get_mut(index),
            notes.get_mut(index),
            seen.get_mut(index),
        ) else {
            continue;
        };
        if std::mem::replace(seen, true) {
            return Err(src.at(
                &p.part,
                format!("section '{section_name}' gives part '{part_name}' two rhythms"),
            ));
        }
        let played = played(src, p, section_name, meter, bars)?;
        *grid = played.grid;
        *part_notes = played.notes;
    }
    let tempo_changes = section_tempo_changes(src, s, pass_ticks)?;
    Ok(Section {
        name: section_name.clone(),
        bars,
        repeats,
        tempo,
        tempo_changes,
        notes,
        chords,
        grids,
        meter: own_meter.filter(|m| *m != piece_meter),
        pickup: s.pickup.as_ref().is_some_and(|p| *p.get_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
title = "Test piece"
meter = "4/4"

[tempo]
bpm = 100
practice = [60, 110]

[[part]]
name = "claps"
sound = "clap"
tier = "starter"

[[part]]
name = "bass"
sound = "tone"
tier = "core"

[[section]]
name = "A"
bars = 2
repeats = 2

[[section.play]]
part = "claps"
rhythm = "x . x . x . x ."

[[section.play]]
part = "bass"
rhythm = "x - - - x - - - | x - x - x - - -"
pitches = ["C3", "G2"]

[[section]]
name = "B"
bars = 1
tempo = 120
"#;

    fn err_line(text: &str) -> (usize, String) {
        match parse_arrangement(text, "t.toml", "t") {
            Err(ArrangementError::Invalid { line, message, .. }) => (line, message),
            other => panic!("expected a line-numbered error, got {other:?}"),
        }
    }

    #[test]
    fn a_written_arrangement_loads() {
        let arr = parse_arrangement(GOOD, "t.toml", "t").unwrap();
        assert_eq!(arr.parts.len(), 2);
        assert_eq!(arr.sections.len(), 2);
        let a = &arr.sections[0];
        assert_eq!(a.repeats, 2);
        // The one-bar clap grid repeats to fill both bars.
        assert_eq!(a.notes[0].len(), 8);
        assert_eq!(a.notes[0][4].at_ticks, 4 * TICKS_PER_QUARTER);
        // Held notes last for their '-' steps; pitches cycle.
        assert_eq!(a.notes[1][0].len_ticks, 2 * TICKS_PER_QUARTER);
        assert_eq!(a.notes[1][0].pitch, 48);
        assert_eq!(a.notes[1][1].pitch, 43);
        assert_eq!(a.notes[1][2].pitch, 48);
        assert_eq!(arr.sections[1].tempo, Some(Bpm::new(120.0).unwrap()));
        assert!(arr.sections[1].notes.iter().all(Vec::is_empty));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let broken = GOOD.replace("bars = 2", "bars = = 2");
        let (line, _) = err_line(&broken);
        assert_eq!(line, 21);
    }

    #[test]
    fn semantic_errors_name_the_line() {
        let (line, message) = err_line(&GOOD.replace("part = \"bass\"", "part = \"tuba\""));
        assert_eq!(line, 29);
        assert!(message.contains("tuba"), "{message}");
        let (line, message) = err_line(&GOOD.replace("sound = \"tone\"", "sound = \"kazoo\""));
        assert_eq!(line, 16);
        assert!(message.contains("kazoo"), "{message}");
        let (line, message) = err_line(&GOOD.replace("bpm = 100", "bpm = 5000"));
        assert_eq!(line, 6);
        assert!(message.contains("5000"), "{message}");
        let (line, message) = err_line(&GOOD.replace("x . x . x . x .", "x . x . x . x"));
        assert_eq!(line, 26);
        assert!(message.contains("7 steps"), "{message}");
        let (line, _) = err_line(&GOOD.replace("meter = \"4/4\"", "meter = \"4/5\""));
        assert_eq!(line, 3);
        let (line, message) =
            err_line(&GOOD.replace("tier = \"core\"", "tier = \"core\"\ncolour = 3"));
        assert_eq!(line, 18);
        assert!(message.contains("colour"), "{message}");
    }

    #[test]
    fn phase_pieces_load_from_a_pattern() {
        let text = "title = \"Mine\"\n[tempo]\nbpm = 120\n[phase]\npattern = \"x x . x . x\"\nrepeats = 4\n";
        let arr = parse_arrangement(text, "m.toml", "mine").unwrap();
        assert_eq!(arr.sections.len(), 7);
        assert_eq!(arr.meter.to_string(), "6/8");
        let (line, _) = err_line(&text.replace("x x . x . x", "x x o x"));
        assert_eq!(line, 5);
    }

    #[test]
    fn chords_grids_instruments_and_tier_lists_are_read() {
        let text = GOOD
            .replace(
                "meter = \"4/4\"",
                "meter = \"4/4\"\ntiers = [\"starter\", \"core\"]",
            )
            .replace(
                "name = \"bass\"\nsound = \"tone\"",
                "name = \"bass\"\ninstrument = \"keyboard\"",
            )
            .replace("repeats = 2\n", "repeats = 2\nchords = \"C | G7\"\n")
            .replace(
                "pitches = [\"C3\", \"G2\"]",
                "pitches = [\"C3+E3+G3\", \"G2\"]",
            );
        let arr = parse_arrangement(&text, "t.toml", "t").unwrap();
        assert_eq!(arr.tiers, ["starter", "core"]);
        assert_eq!(arr.parts[1].sound, Sound::Keys);
        assert_eq!(arr.parts[1].instrument, "keyboard");
        let a = &arr.sections[0];
        assert_eq!(a.chords, ["C", "G7"]);
        assert_eq!(a.grids[0].as_deref(), Some("x . x . x . x ."));
        let first: Vec<u8> = a.notes[1]
            .iter()
            .filter(|n| n.at_ticks == 0)
            .map(|n| n.pitch)
            .collect();
        assert_eq!(first, [48, 52, 55], "a chord's notes sound together");
        assert_eq!(
            a.notes[1].len(),
            3 + 1 + 3 + 1 + 3,
            "chord, single, chord, single, chord"
        );
    }

    #[test]
    fn a_tier_outside_the_list_and_a_short_chord_line_name_their_lines() {
        let text = GOOD.replace(
            "meter = \"4/4\"",
            "meter = \"4/4\"\ntiers = [\"bronze\", \"silver\"]",
        );
        let (line, message) = err_line(&text);
        assert_eq!(line, 13);
        assert!(
            message.contains("not one of this arrangement's tiers: bronze, silver"),
            "{message}"
        );
        let (line, message) =
            err_line(&GOOD.replace("repeats = 2\n", "repeats = 2\nchords = \"C\"\n"));
        assert_eq!(line, 23);
        assert!(message.contains("needs 2 symbol(s)"), "{message}");
        let (_, message) = err_line(&GOOD.replace("sound = \"tone\"", "instrument = \"theremin\""));
        assert!(
            message.contains("no sound for instrument 'theremin'"),
            "{message}"
        );
    }
}
