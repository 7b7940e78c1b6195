//! A voice note another program recorded (a phone's 44.1 kHz stereo memo, a WAV from
//! Audacity) made fit to be played beside its take: mono, at the take's rate, no longer
//! than a spoken comment, or refused with the reason.
//!
//! Owns the rules for what a voice note may be and the conversion (decoded with the
//! stems' reader and resampled with rubato). Must not store the note (the library does).

use super::wav_info::WavLength;
use std::path::{Path, PathBuf};

/// The longest voice note kept: a spoken comment, not a recording.
pub const MAX_VOICE_NOTE_SECS: f64 = 300.0;
/// Rates a microphone really records at.
const RATES_HZ: std::ops::RangeInclusive<u32> = 8_000..=384_000;

/// What is wrong with a voice note file, in words for the teacher.
#[derive(Debug, thiserror::Error)]
pub enum VoiceNoteError {
    #[error("{}: its header gives {rate} Hz, which no microphone records at: record the note again", path.display())]
    Rate { path: PathBuf, rate: u32 },
    #[error("{}: {secs:.0} s is longer than a voice note may be ({MAX_VOICE_NOTE_SECS:.0} s): trim it, or add it as a take", path.display())]
    TooLong { path: PathBuf, secs: f64 },
    #[error("{}: cannot be converted to the take's {rate} Hz mono: {reason}", path.display())]
    Convert {
        path: PathBuf,
        rate: u32,
        reason: String,
    },
}

/// Checks a note's header against the rules.
pub fn check(path: &Path, length: &WavLength) -> Result<(), VoiceNoteError> {
    if !RATES_HZ.contains(&length.sample_rate_hz) {
        return Err(VoiceNoteError::Rate {
            path: path.to_path_buf(),
            rate: length.sample_rate_hz,
        });
    }
    let secs = length.duration_secs();
    if secs > MAX_VOICE_NOTE_SECS {
        return Err(VoiceNoteError::TooLong {
            path: path.to_path_buf(),
            secs,
        });
    }
    Ok(())
}

/// True when the note plays as it is beside a take at `rate`.
pub fn fits(length: &WavLength, rate: u32) -> bool {
    length.channels == 1 && length.sample_rate_hz == rate
}

/// Writes `path` as a mono 32-bit float WAV at `rate` to `out` (a file of the caller's,
/// written whole or not at all).
pub fn convert(path: &Path, rate: u32, out: &Path) -> Result<(), VoiceNoteError> {
    let failed = |reason: String| VoiceNoteError::Convert {
        path: path.to_path_buf(),
        rate,
        reason,
    };
    let stem = super::stems::load_stem(path, rate, MAX_VOICE_NOTE_SECS)
        .map_err(|e| failed(e.to_string()))?;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let (pending, file) =
        crate::atomic_file::PendingFile::create(out).map_err(|e| failed(e.to_string()))?;
    let mut writer = hound::WavWriter::new(std::io::BufWriter::new(file), spec)
        .map_err(|e| failed(e.to_string()))?;
    for sample in stem.samples.iter() {
        writer
            .write_sample(*sample)
            .map_err(|e| failed(e.to_string()))?;
    }
    writer.finalize().map_err(|e| failed(e.to_string()))?;
    pending.commit().map_err(|e| failed(e.to_string()))?;
    Ok(())
}
