//! Waveform peak files: the minimum and maximum of every 256 frames of a track.
//!
//! Owns the `.peaks` format the UI draws waveforms from without reading whole WAVs:
//! a 16-byte header (`BRPK`, version 1, frames per peak, sample rate, little-endian
//! u32s) then one `min, max` pair of little-endian f32 per bucket. Written
//! incrementally beside a track while it records. Must not run on the audio thread.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

pub const FRAMES_PER_PEAK: u32 = 256;
const MAGIC: &[u8; 4] = b"BRPK";
const VERSION: u32 = 1;

/// Builds a peak file as samples arrive.
pub struct PeakWriter {
    out: BufWriter<File>,
    min: f32,
    max: f32,
    counted: u32,
}

impl PeakWriter {
    pub fn create(path: &Path, sample_rate_hz: u32) -> std::io::Result<Self> {
        let mut out = BufWriter::new(crate::own_files::create_private_file(path)?);
        out.write_all(MAGIC)?;
        for value in [VERSION, FRAMES_PER_PEAK, sample_rate_hz] {
            out.write_all(&value.to_le_bytes())?;
        }
        Ok(Self {
            out,
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            counted: 0,
        })
    }

    pub fn push(&mut self, samples: &[f32]) -> std::io::Result<()> {
        for &s in samples {
            self.min = self.min.min(s);
            self.max = self.max.max(s);
            self.counted += 1;
            if self.counted == FRAMES_PER_PEAK {
                self.emit()?;
            }
        }
        Ok(())
    }

    fn emit(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.min.to_le_bytes())?;
        self.out.write_all(&self.max.to_le_bytes())?;
        self.min = f32::INFINITY;
        self.max = f32::NEG_INFINITY;
        self.counted = 0;
        Ok(())
    }

    /// Writes buffered peaks to the file (the last partial bucket waits for `finish`).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Writes the last partial bucket and flushes.
    pub fn finish(mut self) -> std::io::Result<()> {
        if self.counted > 0 {
            self.emit()?;
        }
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }
}

/// A peak file read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Peaks {
    pub frames_per_peak: u32,
    pub sample_rate_hz: u32,
    /// (min, max) per bucket.
    pub buckets: Vec<(f32, f32)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeaksError {
    #[error("cannot read peak file {path}: {reason}")]
    Read {
        path: String,
        reason: std::io::Error,
    },
    #[error(
        "{path} is not a bandroom peak file (it will be rebuilt from the WAV by `bandroom recover`)"
    )]
    Format { path: String },
}

pub fn read_peaks(path: &Path) -> Result<Peaks, PeaksError> {
    let shown = path.display().to_string();
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|reason| PeaksError::Read {
            path: shown.clone(),
            reason,
        })?;
    let word = |i: usize| -> Option<u32> {
        bytes
            .get(i..i + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    };
    if bytes.get(0..4) != Some(MAGIC.as_slice()) || word(4) != Some(VERSION) {
        return Err(PeaksError::Format { path: shown });
    }
    let (Some(frames_per_peak), Some(sample_rate_hz)) = (word(8), word(12)) else {
        return Err(PeaksError::Format { path: shown });
    };
    let buckets = bytes[16..]
        .chunks_exact(8)
        .map(|pair| {
            let value = |b: &[u8]| f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            (value(&pair[0..4]), value(&pair[4..8]))
        })
        .collect();
    Ok(Peaks {
        frames_per_peak,
        sample_rate_hz,
        buckets,
    })
}

/// Rebuilds a peak file from a finished or repaired WAV (first channel).
pub fn rebuild_peaks(wav: &Path, peaks: &Path) -> Result<(), String> {
    let mut reader = hound::WavReader::open(wav).map_err(|e| format!("{}: {e}", wav.display()))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let mut writer = PeakWriter::create(peaks, spec.sample_rate)
        .map_err(|e| format!("{}: {e}", peaks.display()))?;
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .step_by(channels)
            .collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .step_by(channels)
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(|e| format!("{}: {e}", wav.display()))?;
    writer
        .push(&samples)
        .and_then(|()| writer.finish())
        .map_err(|e| format!("{}: {e}", peaks.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.peaks");
        let mut w = PeakWriter::create(&path, 48_000).unwrap();
        let ramp: Vec<f32> = (0..600).map(|i| i as f32 / 600.0 - 0.5).collect();
        w.push(&ramp[..100]).unwrap();
        w.push(&ramp[100..]).unwrap();
        w.finish().unwrap();
        let peaks = read_peaks(&path).unwrap();
        assert_eq!(peaks.frames_per_peak, 256);
        assert_eq!(peaks.buckets.len(), 3);
        assert_eq!(peaks.buckets[0], (ramp[0], ramp[255]));
        assert_eq!(peaks.buckets[2], (ramp[512], ramp[599]));
        std::fs::write(&path, b"nonsense").unwrap();
        assert!(matches!(read_peaks(&path), Err(PeaksError::Format { .. })));
    }
}
