//! `take.json`: what a take is — devices, rate, latency applied, gaps, tracks.
//!
//! Owns the take record written beside the track WAVs: once when recording starts
//! (`complete: false`, so a crash leaves a record of what was being made) and again
//! when it ends. Written through `PendingFile`, so it is never half a file.
//! Must not know about devices or the engine beyond the plain values it stores.

use crate::atomic_file::{FileError, PendingFile};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

pub const TAKE_FILE: &str = "take.json";
pub const FORMAT: &str = "bandroom-take/1";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyApplied {
    /// What the devices report for output plus input.
    pub reported_frames: i64,
    /// The calibrated (or `--latency`) correction on top of that.
    pub correction_frames: i64,
    /// The total shift applied to captured audio.
    pub applied_frames: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GapRecord {
    /// Take frame where the silence starts.
    pub at_frame: u64,
    pub frames: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackRecord {
    pub file: String,
    pub peaks: String,
    /// 1-based input channel of the device.
    pub input: usize,
    pub frames: u64,
    /// The further input device the channel is on (see `devices`); absent for the main
    /// input device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// A further input device of the take, on a clock of its own, and what following that
/// clock did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// The device as `bandroom devices` lists it.
    pub name: String,
    /// Its stable identity on the host (`bandroom devices`' id column).
    #[serde(default)]
    pub id: String,
    /// The rate it ran at (resampled onto the take's rate when it differs).
    pub sample_rate_hz: u32,
    /// Frames per callback, when the device says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_frames: Option<u32>,
    /// Its calibrated latency, removed from its tracks, in frames of the take.
    pub correction_frames: i64,
    /// Whether its clock was followed and corrected (always, unless switched off).
    pub clock_followed: bool,
    /// Its clock against the output's over the take, in parts per million (positive:
    /// fast); absent when it never ran long enough to measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_ppm: Option<f64>,
    /// The last resampling ratio against nominal (1 + the correction applied).
    pub correction_ratio: f64,
    /// Times the clock estimate had to start again or the placement jump.
    pub clock_jumps: u32,
    /// Frames the device delivered that could not be kept (silence in their place).
    pub lost_frames: u64,
    /// Take frames of silence on this device's tracks, where its input was missing.
    pub gaps: Vec<GapRecord>,
    /// Said when its clock was unstable, it stopped delivering, or it was unplugged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One MIDI input of a take: a `.mid` whose ticks are the take's frames.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MidiTrackRecord {
    pub file: String,
    pub port: String,
    /// 1-based channel, when only one channel of the port was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<u8>,
    pub events: u64,
    pub notes: u64,
    /// Notes still held when the take ended, released there.
    #[serde(default)]
    pub released_at_end: u64,
    /// The frame where the port disappeared (unplugged), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unplugged_at_frame: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArrangementRecord {
    pub name: String,
    pub title: String,
    pub tempo_bpm: f64,
    pub count_in_bars: u32,
    pub repeats: Option<u32>,
    /// The one section played, when the take rehearsed a section rather than the piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TakeRecord {
    pub format: String,
    pub complete: bool,
    #[serde(default)]
    pub recovered: bool,
    pub started_at: String,
    pub host: String,
    pub input_device: String,
    pub output_device: String,
    pub sample_rate_hz: u32,
    /// The buffer size the device granted (frames per callback), when it says.
    pub buffer_frames: Option<u32>,
    pub latency: LatencyApplied,
    pub frames: u64,
    pub duration_secs: f64,
    /// Glitches (xruns) the device reported during the take.
    pub xruns: u64,
    /// Frames lost because input did not arrive, filled with silence.
    pub dropped_frames: u64,
    /// Frames lost because the disk fell behind, filled with silence.
    pub overflow_frames: u64,
    pub gaps: Vec<GapRecord>,
    pub arrangement: Option<ArrangementRecord>,
    pub tracks: Vec<TrackRecord>,
    pub error: Option<String>,
    /// The library lesson the take belongs to, when recorded into the library, so a
    /// take whose registration was cut off can be put back where it belongs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson_id: Option<i64>,
    /// Why it was recorded (assessment, rehearsal, performance), when recorded into the library.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The frame the music ends on, when a piece played: a take with fewer frames was
    /// stopped before the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub music_frames: Option<u64>,
    /// Keyboards recorded as Standard MIDI Files, on the same frames as the audio.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub midi_tracks: Vec<MidiTrackRecord>,
    /// Further input devices (USB microphones, a second interface), each on its own clock.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum TakeFileError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("cannot write {path}: {reason}")]
    Write {
        path: String,
        reason: std::io::Error,
    },
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
}

impl TakeRecord {
    pub fn write(&self, dir: &Path) -> Result<(), TakeFileError> {
        let path = dir.join(TAKE_FILE);
        let (pending, mut file) = PendingFile::create(&path)?;
        let text = serde_json::to_string_pretty(self).map_err(|e| TakeFileError::Write {
            path: path.display().to_string(),
            reason: std::io::Error::other(e),
        })?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .map_err(|reason| TakeFileError::Write {
                path: path.display().to_string(),
                reason,
            })?;
        pending.commit()?;
        Ok(())
    }

    pub fn read(dir: &Path) -> Result<Self, TakeFileError> {
        let path = dir.join(TAKE_FILE);
        let read_error = |reason: String| TakeFileError::Read {
            path: path.display().to_string(),
            reason,
        };
        let text = crate::own_files::read_regular_text(&path, crate::own_files::SMALL_FILE_LIMIT)
            .map_err(|e| read_error(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| read_error(e.to_string()))
    }
}

pub use crate::time_text::now_rfc3339;
