//! Timing analysis of one track against its part: reading the track (a WAV's sound or
//! a keyboard's note-ons), building the expected timeline (score + tempo map, count-in
//! excluded but entries in its last half-beat kept), matching, summaries and warnings.
//!
//! Shared by `bandroom analyze`, the library's analysis after attribution, and the
//! app's background analysis. Must not print, or detect and match onsets itself
//! (`analysis` does).

use super::JobError;
use crate::analysis::matching::{
    Analysis, Bands, Expected, NoteResult, SectionSummary, UNCLEAR, Window, leave_unclear,
    match_onsets, settled_after, summarise,
};
use crate::analysis::onsets::{OnsetSettings, detect, detect_bursts};
use crate::analysis::spill::{OwnClaps, own_claps};
use crate::engine::{Score, ScoreOptions, TempoMap};
use crate::music::Arrangement;
use std::path::Path;

/// What a track holds for analysis: sound to find onsets in, or a keyboard's note-ons.
pub enum Track {
    Audio(Vec<f32>),
    Keys(Vec<u64>),
}

fn is_midi(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
}

/// The track and its rate: a WAV at its own rate, a `.mid` at `rate` (48 kHz when not
/// given: MIDI files keep time in seconds, so any rate places notes the same).
/// As [`read_track`] for a track of a take in the library: a link there is never
/// followed (the one rule for links in take folders, which `check` reports).
pub fn read_take_track(path: &Path, rate: Option<u32>) -> Result<(Track, u32), JobError> {
    refuse_link(path)?;
    read_track(path, rate)
}

fn refuse_link(path: &Path) -> Result<(), JobError> {
    if crate::own_files::is_link(path) {
        return Err(JobError::Track(format!(
            "{} is a link, not the recording bandroom made: run `bandroom check`",
            path.display()
        )));
    }
    Ok(())
}

pub fn read_track(path: &Path, rate: Option<u32>) -> Result<(Track, u32), JobError> {
    if is_midi(path) {
        let rate = rate.unwrap_or(48_000);
        let onsets = crate::midi::read_note_onsets(path, rate)
            .map_err(|e| JobError::Track(e.to_string()))?;
        return Ok((Track::Keys(onsets), rate));
    }
    let (samples, track_rate) = read_wav_track(path)?;
    if let Some(rate) = rate
        && rate != track_rate
    {
        return Err(JobError::Track(format!(
            "{} is at {track_rate} Hz but the timeline is at {rate} Hz: analyse at the track's own rate",
            path.display()
        )));
    }
    Ok((Track::Audio(samples), track_rate))
}

/// The track as mono samples, and its rate: any audio file the one reader takes (a
/// take's own WAV, or a recording from another program: FLAC, Ogg, MP3, WAV of any
/// width), at most four hours of it.
fn read_wav_track(path: &Path) -> Result<(Vec<f32>, u32), JobError> {
    const LONGEST_TRACK_SECS: f64 = 4.0 * 3600.0;
    crate::audio::decode::decode_mono(path, LONGEST_TRACK_SECS)
        .map_err(|e| JobError::Track(e.to_string()))
}

/// The bursts (with their power) of another microphone of the take, for `analyse`'s
/// `room`: read and detected once per file and kept, so analysing every track of a
/// take of 32 reads each track's onsets once, not 31 times.
pub fn room_onsets(path: &Path, rate: u32) -> Result<std::sync::Arc<Vec<(u64, f32)>>, JobError> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Memo = Mutex<HashMap<(std::path::PathBuf, u64), Arc<Vec<(u64, f32)>>>>;
    static MEMO: OnceLock<Memo> = OnceLock::new();
    // A file recorded again under the same name (a repaired take) is read again.
    let stamp = std::fs::metadata(path)
        .ok()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    let key = (path.to_path_buf(), stamp);
    let memo = MEMO.get_or_init(Default::default);
    if let Some(found) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(found);
    }
    refuse_link(path)?;
    let (samples, track_rate) = read_wav_track(path)?;
    if track_rate != rate {
        return Err(JobError::Track(format!(
            "{} is at {track_rate} Hz, not the take's {rate} Hz: it cannot be heard as the same room",
            path.display()
        )));
    }
    let onsets = Arc::new(detect_bursts(&samples, rate, OnsetSettings::default()));
    if let Ok(mut m) = memo.lock() {
        // A few takes' worth; a long session does not grow it for ever.
        if m.len() > 256 {
            m.clear();
        }
        m.insert(key, Arc::clone(&onsets));
    }
    Ok(onsets)
}

/// How a track is judged: where it sits on the timeline, and the window and bands.
#[derive(Clone, Copy, Debug)]
pub struct Judging {
    /// Frame of the track where the timeline's frame 0 is.
    pub offset: i64,
    pub window: Window,
    pub bands: Bands,
    /// The frame the take stopped at (`None`: the end of an audio track; a keyboard's
    /// file has no length of its own). Notes from there on were never played: they are
    /// counted apart, never as misses.
    pub played_until: Option<u64>,
}

/// Each section's own summary, with the share of notes hit in each of its passes and
/// the pass from which the class had settled.
fn section_summaries(
    score: &Score,
    tempo_map: &TempoMap,
    shift: &dyn Fn(u64) -> Option<u64>,
    notes: &[crate::analysis::matching::NoteResult],
    extras: &[crate::analysis::matching::Extra],
    rate: u32,
    bands: Bands,
) -> Vec<SectionSummary> {
    score
        .sections
        .iter()
        .enumerate()
        .filter_map(|(i, span)| {
            let mine: Vec<_> = notes.iter().filter(|n| n.section == i).cloned().collect();
            if mine.is_empty() {
                return None;
            }
            let extras_here = extras
                .iter()
                .filter(|e| {
                    let start = shift(tempo_map.frame_at_tick(span.start_tick)).unwrap_or(0);
                    let end = shift(tempo_map.frame_at_tick(span.end_tick)).unwrap_or(0);
                    (start..end).contains(&e.detected_frame)
                })
                .count();
            let passes = (span.end_tick - span.start_tick) / span.pass_ticks.max(1);
            let pass_hit_rates: Vec<f64> = (0..passes)
                .map(|p| {
                    let tick = span.start_tick + p * span.pass_ticks;
                    let from = shift(tempo_map.frame_at_tick(tick)).unwrap_or(0);
                    let to = shift(tempo_map.frame_at_tick(tick + span.pass_ticks)).unwrap_or(0);
                    let in_pass: Vec<_> = mine
                        .iter()
                        .filter(|n| (from..to).contains(&n.expected_frame))
                        .collect();
                    let hits = in_pass
                        .iter()
                        .filter(|n| n.detected_frame.is_some())
                        .count();
                    // Unclear notes are left out of the pass's share, as of the take's.
                    let judged = in_pass.iter().filter(|n| n.status != UNCLEAR).count();
                    hits as f64 / judged.max(1) as f64
                })
                .collect();
            Some(SectionSummary {
                section: i,
                name: span.name.clone(),
                summary: summarise(&mine, extras_here, rate, bands),
                settled_after_passes: settled_after(&pass_hit_rates),
                pass_hit_rates,
            })
        })
        .collect()
}

/// The onsets of an audio track that are its own player's, told from the `room`'s other
/// microphones (heard alone when there are none, or when every one of them hears the
/// same sound as this one).
fn own_onsets(samples: &[f32], rate: u32, room: &[RoomTrack]) -> OwnClaps {
    let settings = OnsetSettings::default();
    let alone = |same_sound: Vec<usize>| OwnClaps {
        claps: detect(samples, rate, settings),
        same_sound,
        ..OwnClaps::default()
    };
    if room.is_empty() {
        return alone(Vec::new());
    }
    let heard = own_claps(
        &detect_bursts(samples, rate, settings),
        room,
        rate,
        settings,
    );
    if heard.same_sound.len() == room.len() {
        alone(heard.same_sound)
    } else {
        heard
    }
}

/// The notes left unclear, in words: whose claps these could not be told from (the
/// room's tracks by name), and at which bars.
fn unclear_warning(
    score: &Score,
    notes: &[NoteResult],
    ticks: &[u64],
    unsure_of: &[usize],
    room: &[RoomTrack],
) -> Option<String> {
    let bars = unclear_bars(score, notes, ticks)?;
    let names: Vec<&str> = unsure_of
        .iter()
        .filter_map(|i| room.get(*i).map(|r| r.name.as_str()))
        .collect();
    let whose = if names.is_empty() {
        "the room's other players'".to_string()
    } else {
        format!("those of {}", names.join(" and "))
    };
    Some(format!(
        "could not tell this player's claps from {whose} at {bars}: those notes are \
         neither hit nor missed (listen to them)"
    ))
}

/// The bars of the notes left unclear, in words ("bars 12–14 and 20"), or nothing.
fn unclear_bars(score: &Score, notes: &[NoteResult], ticks: &[u64]) -> Option<String> {
    let mut bars: Vec<u64> = notes
        .iter()
        .zip(ticks)
        .filter(|(n, _)| n.status == UNCLEAR)
        .map(|(_, tick)| score.bar_at_tick(*tick).bar)
        .collect();
    bars.dedup();
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for bar in bars {
        match runs.last_mut() {
            Some((_, last)) if bar <= *last + 1 => *last = bar,
            _ => runs.push((bar, bar)),
        }
    }
    let words: Vec<String> = runs
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    let first = runs.first()?;
    let noun = if runs.len() == 1 && first.0 == first.1 {
        "bar"
    } else {
        "bars"
    };
    Some(match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{noun} {} and {last}", rest.join(", ")),
        _ => format!("{noun} {}", words.join("")),
    })
}

/// Another microphone of the take: how the teacher knows it ("input 2", a file's name)
/// and the bursts it heard (see [`room_onsets`]).
#[derive(Clone, Debug)]
pub struct RoomTrack {
    pub name: String,
    pub bursts: std::sync::Arc<Vec<(u64, f32)>>,
}

impl AsRef<[(u64, f32)]> for RoomTrack {
    fn as_ref(&self) -> &[(u64, f32)] {
        &self.bursts
    }
}

/// Analyses a mono track at `rate` against `part_name` of `arrangement` played with
/// `options`. `room` holds the onsets (with their power) of the take's other
/// microphones, on the same timeline at the same rate (see [`room_onsets`]): a clap one
/// of them heard first and louder is that player's, never an extra of this one.
pub fn analyse(
    track: &Track,
    rate: u32,
    arrangement: &Arrangement,
    options: ScoreOptions,
    part_name: &str,
    judging: Judging,
    room: &[RoomTrack],
) -> Result<Analysis, JobError> {
    let Judging {
        offset,
        window,
        bands,
        played_until,
    } = judging;
    let part = arrangement.part_index(part_name).ok_or_else(|| {
        let names: Vec<&str> = arrangement.parts.iter().map(|p| p.name.as_str()).collect();
        JobError::NothingToCompare(format!(
            "'{}' has no part '{}'; parts are: {}",
            arrangement.title,
            part_name,
            names.join(", ")
        ))
    })?;
    let score = Score::new(arrangement, options);
    let tempo_map = TempoMap::new(
        rate,
        &score.played_tempo_changes(score.tempo).collect::<Vec<_>>(),
    );
    let shift = |frame: u64| u64::try_from(frame as i64 + offset).ok();
    // Each note with its tick, for naming the bars of notes left unclear.
    let (expected, ticks): (Vec<Expected>, Vec<u64>) = score.lanes[part]
        .notes
        .iter()
        .filter_map(|n| {
            let frame = shift(tempo_map.frame_at_tick(n.tick))?;
            let section = score
                .sections
                .iter()
                .position(|s| (s.start_tick..s.end_tick).contains(&n.tick))
                .unwrap_or(0);
            Some((Expected { frame, section }, n.tick))
        })
        .unzip();
    if expected.is_empty() {
        return Err(JobError::NothingToCompare(format!(
            "part '{}' of '{}' has no notes to compare with: choose a part that plays",
            part_name, arrangement.title
        )));
    }
    // Onsets before the piece are ignored, except an early entry in the count-in's last
    // half-beat, which is the pupil's first note played early.
    let half_beat = score.meter.beat_ticks() / 2;
    let listen_from =
        shift(tempo_map.frame_at_tick(score.count_in_ticks.saturating_sub(half_beat))).unwrap_or(0);
    let (samples, heard): (&[f32], OwnClaps) = match track {
        Track::Audio(samples) => (samples, own_onsets(samples, rate, room)),
        Track::Keys(onsets) => (
            &[],
            OwnClaps {
                claps: onsets.clone(),
                ..OwnClaps::default()
            },
        ),
    };
    let OwnClaps {
        claps: found,
        spill,
        nobodys,
        same_sound,
        doubtful,
        unsure_of,
    } = heard;
    let spill = spill + nobodys;
    // A take stopped early: the part's notes after the stop were never played. Half a
    // window before the stop is still judged (a note played then was heard).
    let keys = matches!(track, Track::Keys(_));
    let end = played_until
        .or((!keys).then_some(samples.len() as u64))
        .unwrap_or(u64::MAX);
    let (expected, after): (Vec<Expected>, Vec<Expected>) =
        expected.into_iter().partition(|e| e.frame < end);
    let not_played = after.len();
    let onsets: Vec<u64> = found.into_iter().filter(|f| *f >= listen_from).collect();
    let window = window.frames(score.tempo.as_f64(), rate);
    let (mut notes, extras) = match_onsets(&expected, &onsets, window, rate);
    leave_unclear(&mut notes, &doubtful, window);
    let summary = summarise(&notes, extras.len(), rate, bands);
    let sections = section_summaries(&score, &tempo_map, &shift, &notes, &extras, rate, bands);
    let mut warnings = Vec::new();
    if !same_sound.is_empty() {
        warnings.push(format!(
            "{} of the room's other inputs hear the same sound as this one (one microphone \
             on two inputs, or a mix): they cannot tell whose a clap is, so they were not used",
            same_sound.len()
        ));
    }
    warnings.extend(unclear_warning(&score, &notes, &ticks, &unsure_of, room));
    if onsets.is_empty() {
        warnings.push(if keys {
            "no notes found: was the keyboard connected and played?".to_string()
        } else {
            "no onsets found: is the track silent, or the microphone off?".to_string()
        });
    }
    let clipped = samples.iter().filter(|x| x.abs() >= 0.999).count();
    if clipped * 1000 > samples.len() {
        warnings.push(format!(
            "the track clips ({:.1} % of samples at full scale): onsets may be placed late; record with less gain",
            clipped as f64 * 100.0 / samples.len() as f64
        ));
    }
    if not_played > 0 {
        warnings.push(format!(
            "the track ends before the part: its last {not_played} note(s) were not played \
             (they are not counted as missed)"
        ));
    }
    if !onsets.is_empty() && summary.hit_rate < 0.5 && summary.extras * 2 > notes.len() {
        warnings.push(
            "tempo mismatch suspected: most notes were missed and most onsets match nothing; check --tempo, --repeats and --count-in against the take".to_string(),
        );
    }
    Ok(Analysis {
        notes,
        extras,
        summary,
        sections,
        bands,
        warnings,
        not_played,
        spill,
    })
}
