//! Standard MIDI files (type 0 and 1, from notation software) as arrangements.
//!
//! Owns reading a `.mid` with `midly`: tracks (split by channel) become parts, with a
//! sound chosen from the track name or the General MIDI program (channel 10 is the drum
//! kit); the tempo map and the time signatures are kept (`midi_bars` lays the bars out,
//! a pickup included); markers on bar lines and changes of meter start sections. Ticks are rescaled to 960 per quarter. Must not write files or know
//! about frames: the engine places the notes.
//!
//! Tempi are held to a thousandth of a BPM, so a tempo whose microseconds per quarter
//! is not a whole number of milli-BPM (e.g. 461 538 µs, 130.0003 BPM) is rounded: the
//! timing then drifts by under 4 parts per million.

use super::arrangement::{Arrangement, Note, Part, Section, Sound, TempoRange};
use super::midi_bars::BarLayout;
use super::time::{Bpm, MIN_BPM, Meter, TICKS_PER_QUARTER};
use super::toml_format::ArrangementError;
use midly::{MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The General MIDI channel (0-based) that plays drums.
const DRUM_CHANNEL: u8 = 9;
/// MIDI's tempo when a file gives none: 500 000 µs per quarter.
const DEFAULT_MICROS_PER_QUARTER: u32 = 500_000;

/// The most tracks (and parts) a file may have: a symphony's score has about 40; a file
/// of 65,535 near-empty tracks would take minutes to render.
const MAX_TRACKS: usize = 256;

/// A (track, channel) with notes: one part.
#[derive(Default)]
struct Voice {
    name: Option<String>,
    program: Option<u8>,
    notes: Vec<Note>,
}

pub fn load_midi_file(path: &Path) -> Result<Arrangement, ArrangementError> {
    let bytes = crate::own_files::read_regular_limited(path, crate::own_files::SMALL_FILE_LIMIT)
        .map_err(|reason| ArrangementError::Read {
            path: path.to_path_buf(),
            reason,
        })?;
    let name = path.file_stem().map_or_else(
        || "imported".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    parse_midi(&bytes, &path.display().to_string(), &name)
}

fn failed(origin: &str, message: impl Into<String>) -> ArrangementError {
    ArrangementError::Midi {
        origin: origin.to_string(),
        message: message.into(),
    }
}

/// A name or marker in a file: UTF-8 when it is, else Latin-1 (as older notation
/// software and many European files write it), never replacement characters.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(utf8) => utf8.trim().to_string(),
        Err(_) => bytes
            .iter()
            .map(|&b| char::from(b))
            .collect::<String>()
            .trim()
            .to_string(),
    }
}

/// A sound for a General MIDI program (0-based), by its family.
fn gm_sound(program: u8) -> (Sound, &'static str) {
    match program {
        0..=7 => (Sound::Keys, "piano"),
        8..=15 => (Sound::Tone, "glockenspiel"),
        16..=23 => (Sound::Keys, "organ"),
        24..=31 => (Sound::Pluck, "guitar"),
        32..=39 => (Sound::Bass, "bass guitar"),
        52..=54 => (Sound::Tone, "voices"),
        _ => (Sound::Tone, "melody"),
    }
}

/// Whether every chunk the file announces is wholly there (the parser forgives a file
/// that stops half-way through a track, and would report it as having fewer notes).
/// Whether the header's division is SMPTE time code with a frame-rate byte of -128:
/// midly 0.5 negates that byte and overflows (a panic in a checked build) before it can
/// say the rate is invalid, so a hostile file is turned away here first.
fn smpte_rate_cannot_be_read(bytes: &[u8]) -> bool {
    let Some(header) = bytes.windows(4).position(|w| w == b"MThd") else {
        return false;
    };
    bytes.get(header + 12) == Some(&0x80)
}

fn cut_short(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let length =
            u32::from_be_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
        at = at.saturating_add(8).saturating_add(length as usize);
    }
    at > bytes.len()
}

/// The file's ticks per quarter note, once the file is known to be whole and metrical.
fn ticks_per_quarter<'a>(
    bytes: &'a [u8],
    origin: &str,
) -> Result<(Smf<'a>, u64), ArrangementError> {
    if bytes.starts_with(b"MThd") && cut_short(bytes) {
        return Err(failed(
            origin,
            "is not a readable MIDI file (it stops in the middle of a track): copy it again, or export it again from your notation software",
        ));
    }
    if smpte_rate_cannot_be_read(bytes) {
        return Err(failed(
            origin,
            "is not a readable MIDI file (its header gives a time code of -128 frames a second); export it again from your notation software",
        ));
    }
    let smf = Smf::parse(bytes).map_err(|e| {
        failed(
            origin,
            format!(
                "is not a readable MIDI file ({e}); export it again from your notation software"
            ),
        )
    })?;
    let per_quarter = match smf.header.timing {
        Timing::Metrical(t) if t.as_int() > 0 => u64::from(t.as_int()),
        Timing::Metrical(_) => return Err(failed(origin, "says it has 0 ticks per quarter note")),
        Timing::Timecode(fps, _) => {
            return Err(failed(
                origin,
                format!(
                    "uses SMPTE time code ({} frames a second) instead of beats, so its notes \
                     cannot be placed in bars; export it with metrical (ticks per quarter) timing",
                    fps.as_f32()
                ),
            ));
        }
    };
    Ok((smf, per_quarter))
}

/// In the notes sounding on a key: a note already ended by a re-strike, whose note-off
/// is still to come.
const ENDED: u64 = u64::MAX;

/// What the tracks of a file say, on bandroom's ticks.
#[derive(Default)]
struct Heard {
    /// Microseconds per quarter from each tick a tempo is set.
    tempi: BTreeMap<u64, u32>,
    /// Time signatures from the tick each is set, as the file has them.
    meters: Vec<(u64, Meter)>,
    markers: Vec<(u64, String)>,
    /// Notes by (track, channel).
    voices: BTreeMap<(usize, u8), Voice>,
    /// The first track's name, which notation software uses for the title.
    title: Option<String>,
}

impl Heard {
    /// Reads every track's events: tempi, the meter, markers, names and notes.
    fn read(smf: &Smf<'_>, per_quarter: u64, origin: &str) -> Result<Heard, ArrangementError> {
        let rescale = |t: u64| (t * TICKS_PER_QUARTER + per_quarter / 2) / per_quarter;
        let mut heard = Heard::default();
        for (track_index, track) in smf.tracks.iter().enumerate() {
            let mut tick = 0u64;
            let mut track_name: Option<String> = None;
            let mut sounding: HashMap<(u8, u8), Vec<(u64, u8)>> = HashMap::new();
            for event in track {
                tick += u64::from(event.delta.as_int());
                let at = rescale(tick);
                match event.kind {
                    TrackEventKind::Meta(meta) => {
                        heard.meta(meta, at, track_index, &mut track_name, origin)?;
                    }
                    TrackEventKind::Midi { channel, message } => {
                        heard.note_event(track_index, channel.as_int(), message, at, &mut sounding);
                    }
                    _ => {}
                }
            }
            let track_end = rescale(tick);
            // A note never released ends with its track.
            for ((channel, pitch), open) in sounding {
                for (start, velocity) in open.into_iter().filter(|(s, _)| *s != ENDED) {
                    heard
                        .voices
                        .entry((track_index, channel))
                        .or_default()
                        .notes
                        .push(Note {
                            at_ticks: start,
                            len_ticks: (track_end - start).max(1),
                            pitch,
                            velocity,
                        });
                }
            }
            for ((track, _), voice) in heard.voices.iter_mut() {
                if *track == track_index && voice.name.is_none() {
                    voice.name.clone_from(&track_name);
                }
            }
        }
        heard.voices.retain(|_, v| !v.notes.is_empty());
        // Notes are added as they end, so a note held under others (a bass under a
        // melody, a chord released unevenly: most piano music) comes after notes that
        // started later. A part plays its notes in the order they start.
        for voice in heard.voices.values_mut() {
            voice.notes.sort_by_key(|n| (n.at_ticks, n.pitch));
        }
        Ok(heard)
    }

    /// A meta event: tempo, time signature, names, markers.
    fn meta(
        &mut self,
        meta: MetaMessage<'_>,
        at: u64,
        track_index: usize,
        track_name: &mut Option<String>,
        origin: &str,
    ) -> Result<(), ArrangementError> {
        match meta {
            MetaMessage::Tempo(micros) => {
                self.tempi.insert(at, micros.as_int().max(1));
            }
            MetaMessage::TimeSignature(top, power, _, _) => {
                let found = Meter::new(u32::from(top), 1u32 << power.min(5))
                    .map_err(|m| failed(origin, m))?;
                self.meters.push((at, found));
            }
            MetaMessage::TrackName(n) if !text(n).is_empty() => {
                if track_index == 0 && self.title.is_none() {
                    self.title = Some(text(n));
                }
                *track_name = Some(text(n));
            }
            // Some notation software (LilyPond) names a staff only by its instrument.
            MetaMessage::InstrumentName(n) if !text(n).is_empty() && track_name.is_none() => {
                *track_name = Some(text(n));
            }
            MetaMessage::Marker(m) if !text(m).is_empty() => {
                self.markers.push((at, text(m)));
            }
            _ => {}
        }
        Ok(())
    }

    /// A channel message: programs, and notes paired on and off.
    fn note_event(
        &mut self,
        track_index: usize,
        channel: u8,
        message: MidiMessage,
        at: u64,
        sounding: &mut HashMap<(u8, u8), Vec<(u64, u8)>>,
    ) {
        let voice = (track_index, channel);
        match message {
            MidiMessage::ProgramChange { program } => {
                self.voices
                    .entry(voice)
                    .or_default()
                    .program
                    .get_or_insert(program.as_int());
            }
            MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                let open = sounding.entry((channel, key.as_int())).or_default();
                // A key struck again while it sounds ends the earlier note there, as a
                // player's does (a piano's damper, a wind player's re-tongue); that note's
                // own note-off, still to come, is then only owed. Struck twice on one
                // tick (two drum parts on one channel, a doubled voice), both are played:
                // every note-on the file has sounds, each paired with its own note-off.
                if let Some(slot) = open
                    .iter_mut()
                    .find(|(start, _)| *start != ENDED && *start != at)
                {
                    let (start, velocity) = *slot;
                    self.voices.entry(voice).or_default().notes.push(Note {
                        at_ticks: start,
                        len_ticks: at - start,
                        pitch: key.as_int(),
                        velocity,
                    });
                    *slot = (ENDED, 0);
                }
                open.push((at, vel.as_int()));
            }
            MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                let open = sounding.entry((channel, key.as_int())).or_default();
                // Note-offs pair with note-ons in order; one owed to a note already
                // ended by a re-strike ends nothing.
                if !open.is_empty() && open[0].0 == ENDED {
                    open.remove(0);
                } else if !open.is_empty() {
                    let (start, velocity) = open.remove(0);
                    self.voices.entry(voice).or_default().notes.push(Note {
                        at_ticks: start,
                        len_ticks: (at - start).max(1),
                        pitch: key.as_int(),
                        velocity,
                    });
                }
            }
            _ => {}
        }
    }
}

/// Parts, named after their track (and channel when a track holds several).
fn parts_of(voices: &BTreeMap<(usize, u8), Voice>) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    let mut channels_per_track: HashMap<usize, usize> = HashMap::new();
    for (track, _) in voices.keys() {
        *channels_per_track.entry(*track).or_default() += 1;
    }
    for ((track, channel), voice) in voices {
        let (gm, gm_name) = gm_sound(voice.program.unwrap_or(0));
        let named = voice.name.as_deref().and_then(|n| Sound::parse(n).ok());
        let sound = if *channel == DRUM_CHANNEL {
            Sound::Kit
        } else {
            named.unwrap_or(gm)
        };
        let mut name = voice
            .name
            .clone()
            .unwrap_or_else(|| format!("track {}", track + 1));
        if channels_per_track.get(track).copied().unwrap_or(0) > 1 {
            name = format!("{name} (channel {})", channel + 1);
        }
        while parts.iter().any(|p| p.name == name) {
            name.push_str(" 2");
        }
        parts.push(Part {
            instrument: if *channel == DRUM_CHANNEL {
                "drum kit".to_string()
            } else {
                voice.name.clone().unwrap_or_else(|| gm_name.to_string())
            },
            name,
            sound,
            tier: super::arrangement::DEFAULT_TIERS[1].to_string(),
            gain: 1.0,
            pan: 0.0,
            stem: None,
        });
    }
    parts
}

/// The tempo in force at each tick, as the file's tempo map sets it.
struct TempoMapOf<'a> {
    tempi: &'a BTreeMap<u64, u32>,
    origin: &'a str,
}

impl TempoMapOf<'_> {
    fn bpm(&self, micros: u32) -> Result<Bpm, ArrangementError> {
        Bpm::from_micros_per_quarter(micros).map_err(|m| failed(self.origin, format!("tempo: {m}")))
    }

    fn at(&self, tick: u64) -> Result<Bpm, ArrangementError> {
        let micros = self
            .tempi
            .range(..=tick)
            .next_back()
            .map_or(DEFAULT_MICROS_PER_QUARTER, |(_, m)| *m);
        self.bpm(micros)
    }
}

/// Sections start where the time signature changes and at markers that fall on bar
/// lines; each holds its notes and tempo changes, measured from its own start.
fn sections_of(
    heard: &Heard,
    tempo: &TempoMapOf<'_>,
    layout: &BarLayout,
    end: u64,
    parts: usize,
) -> Result<Vec<Section>, ArrangementError> {
    let main = layout.main_meter();
    let mut starts: Vec<(u64, Option<String>)> = heard
        .markers
        .iter()
        .filter(|(at, _)| layout.is_bar_line(*at) && *at < end)
        .map(|(at, name)| (*at, Some(name.clone())))
        .collect();
    starts.extend(
        layout
            .stretches
            .iter()
            .filter(|s| s.start < end)
            .map(|s| (s.start, None)),
    );
    // A marker names the section a meter change starts.
    starts.sort_by_key(|(at, name)| (*at, name.is_none()));
    starts.dedup_by_key(|(at, _)| *at);
    let mut sections = Vec::with_capacity(starts.len());
    for (index, (start, marker)) in starts.iter().enumerate() {
        let stop = starts.get(index + 1).map_or(end, |(at, _)| *at);
        let stretch = layout
            .stretches
            .iter()
            .rev()
            .find(|s| s.start <= *start)
            .copied()
            .ok_or_else(|| failed(tempo.origin, "has no bar lines"))?;
        let pickup = stretch.pickup && *start == 0;
        let name = match marker {
            Some(name) => name.clone(),
            None if pickup => "pickup".to_string(),
            None if index == 0 || (index == 1 && layout.has_pickup()) => "start".to_string(),
            None => format!("bar {}", layout.bar_and_beat(*start).0),
        };
        sections.push(Section {
            name,
            bars: u32::try_from((stop - start) / stretch.meter.bar_ticks())
                .map_err(|_| failed(tempo.origin, "is far too long"))?,
            repeats: 1,
            tempo: Some(tempo.at(*start)?),
            tempo_changes: heard
                .tempi
                .range(start + 1..stop)
                .map(|(at, micros)| Ok((at - start, tempo.bpm(*micros)?)))
                .collect::<Result<_, ArrangementError>>()?,
            notes: heard
                .voices
                .values()
                .map(|v| {
                    v.notes
                        .iter()
                        .filter(|n| (*start..stop).contains(&n.at_ticks))
                        .map(|n| Note {
                            at_ticks: n.at_ticks - start,
                            ..*n
                        })
                        .collect()
                })
                .collect(),
            chords: Vec::new(),
            grids: vec![None; parts],
            meter: Some(stretch.meter).filter(|m| Some(*m) != main),
            pickup,
        });
    }
    Ok(sections)
}

pub fn parse_midi(bytes: &[u8], origin: &str, name: &str) -> Result<Arrangement, ArrangementError> {
    let (smf, per_quarter) = ticks_per_quarter(bytes, origin)?;
    if smf.tracks.len() > MAX_TRACKS {
        return Err(failed(
            origin,
            format!(
                "holds {} tracks; bandroom plays files of up to {MAX_TRACKS} (a whole \
                 orchestra's score has fewer): export the parts the class plays",
                smf.tracks.len()
            ),
        ));
    }
    let heard = Heard::read(&smf, per_quarter, origin)?;
    if heard.voices.len() > MAX_TRACKS {
        return Err(failed(
            origin,
            format!(
                "has {} parts (tracks and channels with notes); bandroom plays up to \
                 {MAX_TRACKS}: export the parts the class plays",
                heard.voices.len()
            ),
        ));
    }
    if heard.voices.is_empty() {
        return Err(failed(
            origin,
            "has no notes: check the file plays in your notation software, and export the parts with notes",
        ));
    }
    let layout = BarLayout::from_meters(&heard.meters).map_err(|m| failed(origin, m))?;
    let meter = layout
        .main_meter()
        .map_or_else(|| Meter::new(4, 4).map_err(|m| failed(origin, m)), Ok)?;
    let last_note_end = heard
        .voices
        .values()
        .flat_map(|v| v.notes.iter().map(|n| n.at_ticks + n.len_ticks))
        .max()
        .unwrap_or(0);
    let end = layout.bar_line_from(last_note_end.max(1));
    let tempo = TempoMapOf {
        tempi: &heard.tempi,
        origin,
    };
    let written = tempo.bpm(
        heard
            .tempi
            .get(&0)
            .copied()
            .unwrap_or(DEFAULT_MICROS_PER_QUARTER),
    )?;
    let parts = parts_of(&heard.voices);
    let sections = sections_of(&heard, &tempo, &layout, end, parts.len())?;
    let slowest = Bpm::new((written.as_f64() / 2.0).max(MIN_BPM)).map_err(|m| failed(origin, m))?;
    let arrangement = Arrangement {
        name: name.to_string(),
        title: heard
            .title
            .clone()
            .filter(|_| !heard.voices.keys().any(|(track, _)| *track == 0))
            .unwrap_or_else(|| name.replace(['-', '_'], " ")),
        composer: None,
        meter,
        tempo: TempoRange {
            default: written,
            practice_min: slowest,
            practice_max: written,
        },
        parts,
        sections,
        tiers: vec![super::arrangement::DEFAULT_TIERS[1].to_string()],
    };
    arrangement.validate().map_err(|m| failed(origin, m))?;
    Ok(arrangement)
}
