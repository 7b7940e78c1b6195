//! Filing a finished take in the library, the same way for `bandroom record` and the
//! lesson screen: registered in its lesson, its tracks attributed to who played them
//! with their part's tier and instrument, the markers dropped while it ran stored, and
//! the tracks given a part handed back for timing analysis.
//!
//! Must not analyse (the caller runs `jobs` now or in the background) or print; a take
//! the library could not take stays where it was recorded, and the error says where.

use super::take::FinishedTake;
use crate::library::{Library, LibraryError, NewTake, NewTrack, Purpose, TakeSummary};
use crate::record::take_file::TakeRecord;
use std::path::PathBuf;

/// The library's view of a take as its `take.json` records it.
pub fn new_take_from_record(take: &TakeRecord, purpose: Purpose) -> NewTake {
    NewTake {
        recorded_at: take.started_at.clone(),
        arrangement: take.arrangement.as_ref().map(|a| a.name.clone()),
        tempo_bpm: take.arrangement.as_ref().map(|a| a.tempo_bpm),
        repeats: take.arrangement.as_ref().and_then(|a| a.repeats),
        count_in_bars: take.arrangement.as_ref().map_or(0, |a| a.count_in_bars),
        section: take.arrangement.as_ref().and_then(|a| a.section.clone()),
        host: take.host.clone(),
        input_device: take.input_device.clone(),
        output_device: take.output_device.clone(),
        sample_rate_hz: take.sample_rate_hz,
        latency_applied_frames: take.latency.applied_frames,
        frames: take.frames,
        duration_secs: take.duration_secs,
        xruns: take.xruns,
        gaps: take.gaps.len() as u64,
        complete: take.complete,
        purpose,
        music_frames: take.music_frames,
        pass: None,
        tracks: take
            .tracks
            .iter()
            .enumerate()
            .map(|(index, t)| NewTrack {
                number: index as i64 + 1,
                file: t.file.clone(),
                input_channel: Some(t.input as i64),
                input_device: t.device.clone(),
                midi_port: None,
                frames: t.frames,
            })
            .chain(
                take.midi_tracks
                    .iter()
                    .enumerate()
                    .map(|(index, t)| NewTrack {
                        number: (take.tracks.len() + index) as i64 + 1,
                        file: t.file.clone(),
                        input_channel: None,
                        input_device: None,
                        midi_port: Some(t.port.clone()),
                        frames: take.frames,
                    }),
            )
            .collect(),
    }
}

/// Where someone played: an audio input (1-based) or a MIDI keyboard's port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seat {
    Input(usize),
    /// Input N (1-based) of a further device, by its name as the take recorded it.
    DeviceInput {
        device: String,
        input: usize,
    },
    Keyboard(String),
}

/// Who played at one seat, and their part.
#[derive(Clone, Debug, PartialEq)]
pub struct Players {
    pub seat: Seat,
    pub pupils: Vec<i64>,
    pub part: Option<String>,
}

/// A moment marked while the take ran: frame of the take, text, who marked it.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub frame: u64,
    pub text: String,
    pub author: String,
}

/// Where a take goes in the library: its lesson and why it was made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Filing {
    pub lesson: i64,
    pub purpose: Purpose,
    /// Which pass of an "again" run this take is (1, 2, …), if it is one.
    pub pass: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum FilingError {
    /// The files are incomplete: they stay where they were recorded.
    #[error("{reason}; what was recorded is kept in {} for `bandroom check --repair`", folder.display())]
    NotWritten { folder: PathBuf, reason: String },
    #[error(
        "the take was recorded in {} but could not be added to the library ({source}); \
         `bandroom check --repair` will add it",
        folder.display()
    )]
    NotRegistered {
        folder: PathBuf,
        source: LibraryError,
    },
}

impl Filing {
    /// A take recorded once (not a pass of an "again" run).
    pub fn once(lesson: i64, purpose: Purpose) -> Filing {
        Filing {
            lesson,
            purpose,
            pass: None,
        }
    }
}

/// A take in the library.
#[derive(Debug)]
pub struct FiledTake {
    pub id: i64,
    /// Its folder in `takes/`.
    pub folder: PathBuf,
    /// The device fault that cut it short: the take keeps what was recorded.
    pub fault: Option<String>,
    /// Attributions or markers that could not be saved (the take itself is kept).
    pub problems: Vec<String>,
    /// What the further input devices' clocks did that the teacher should know (a clock
    /// that jumped or could not be followed, a microphone unplugged): the take keeps
    /// their audio; take.json has the details.
    pub device_warnings: Vec<String>,
    /// Tracks with a part, to analyse against it: (track number, part).
    pub to_analyse: Vec<(i64, String)>,
}

impl FinishedTake {
    /// Registers the take, attributes its tracks and stores its markers. A take cut
    /// short by the device is still filed; one whose files could not be written is not.
    pub fn file(
        self,
        lib: &mut Library,
        filing: Filing,
        players: &[Players],
        markers: &[Marker],
    ) -> Result<FiledTake, FilingError> {
        let FinishedTake {
            take,
            report,
            fault,
            folder,
            written,
            played,
        } = self;
        if let Some(error) = report.error {
            return Err(FilingError::NotWritten {
                folder,
                reason: error,
            });
        }
        if let Err(e) = written {
            return Err(FilingError::NotWritten {
                folder,
                reason: e.to_string(),
            });
        }
        let (id, filed_folder) = lib
            .register_take(
                filing.lesson,
                &folder,
                &NewTake {
                    pass: filing.pass,
                    ..new_take_from_record(&take, filing.purpose)
                },
            )
            .map_err(|source| FilingError::NotRegistered {
                folder: folder.clone(),
                source,
            })?;
        let mut problems = Vec::new();
        let mut to_analyse = Vec::new();
        match lib.take(id) {
            Ok(summary) => {
                for (track, who) in seat_tracks(&summary, players) {
                    let about = who.part.as_deref().and_then(|name| {
                        played
                            .as_ref()
                            .and_then(|a| a.parts.iter().find(|p| p.name == name))
                    });
                    let done = lib.attribute(
                        id,
                        track,
                        &who.pupils,
                        who.part.as_deref(),
                        about.map(|p| p.tier.as_str()),
                        about.map(|p| p.instrument.as_str()),
                    );
                    match done {
                        Ok(()) => to_analyse.extend(who.part.clone().map(|part| (track, part))),
                        Err(e) => problems.push(format!(
                            "take {id} is recorded, but who played track {track} was not saved: {e}"
                        )),
                    }
                }
            }
            Err(e) => problems.push(format!(
                "take {id} is recorded, but who played was not saved: {e}"
            )),
        }
        for m in markers {
            if let Err(e) = lib.add_marker(id, m.frame, &m.text, &m.author) {
                problems.push(format!("a marker of take {id} was not saved: {e}"));
            }
        }
        let device_warnings = take
            .devices
            .iter()
            .flat_map(|d| d.warnings.iter())
            .map(|w| format!("take {id}: {w}"))
            .collect();
        Ok(FiledTake {
            id,
            folder: filed_folder,
            fault,
            problems,
            device_warnings,
            to_analyse,
        })
    }
}

/// Each seat's track in the registered take: an input's WAV or a keyboard's MIDI file.
fn seat_tracks<'a>(take: &TakeSummary, players: &'a [Players]) -> Vec<(i64, &'a Players)> {
    players
        .iter()
        .filter(|p| !p.pupils.is_empty())
        .filter_map(|p| {
            let track =
                take.tracks
                    .iter()
                    .find(|t| match (&p.seat, t.input_channel, &t.midi_port) {
                        (Seat::Input(input), Some(channel), None) => {
                            t.input_device.is_none() && *input as i64 == channel
                        }
                        (Seat::DeviceInput { device, input }, Some(channel), None) => {
                            t.input_device.as_deref() == Some(device.as_str())
                                && *input as i64 == channel
                        }
                        (Seat::Keyboard(port), _, Some(track_port)) => port == track_port,
                        _ => false,
                    })?;
            Some((track.number, p))
        })
        .collect()
}
