//! WAV files written with hound: renders, stems and (later) recorded tracks.
//!
//! Owns the sample formats bandroom writes (32-bit float by default, 24- or 16-bit
//! PCM on request) and the conversion to them. Every file goes through
//! `PendingFile`, so a failed write never leaves a half file under the real name.
//! Must not run on the audio thread.

use crate::atomic_file::{FileError, PendingFile};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// How samples are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WavFormat {
    #[default]
    Float32,
    Pcm24,
    Pcm16,
}

impl WavFormat {
    pub const NAMES: [&'static str; 3] = ["float32", "pcm24", "pcm16"];

    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "float32" => Ok(Self::Float32),
            "pcm24" => Ok(Self::Pcm24),
            "pcm16" => Ok(Self::Pcm16),
            other => Err(format!(
                "unknown WAV format '{other}': use {}",
                Self::NAMES.join(", ")
            )),
        }
    }

    fn spec(self, channels: u16, sample_rate_hz: u32) -> hound::WavSpec {
        let (bits_per_sample, sample_format) = match self {
            Self::Float32 => (32, hound::SampleFormat::Float),
            Self::Pcm24 => (24, hound::SampleFormat::Int),
            Self::Pcm16 => (16, hound::SampleFormat::Int),
        };
        hound::WavSpec {
            channels,
            sample_rate: sample_rate_hz,
            bits_per_sample,
            sample_format,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Float32 => "32-bit float",
            Self::Pcm24 => "24-bit PCM",
            Self::Pcm16 => "16-bit PCM",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("cannot write {}: {reason} (is the disk full?)", path.display())]
    Write { path: PathBuf, reason: hound::Error },
}

/// A WAV file being written; it appears under its real name only after `finish`.
pub struct WavOutput {
    pending: PendingFile,
    writer: hound::WavWriter<BufWriter<std::fs::File>>,
    format: WavFormat,
    /// PCM samples beyond full scale, written as full scale.
    clipped: u64,
}

impl WavOutput {
    pub fn create(
        dest: &Path,
        channels: u16,
        sample_rate_hz: u32,
        format: WavFormat,
    ) -> Result<Self, WavError> {
        let (pending, file) = PendingFile::create(dest)?;
        let writer =
            hound::WavWriter::new(BufWriter::new(file), format.spec(channels, sample_rate_hz))
                .map_err(|reason| WavError::Write {
                    path: dest.to_path_buf(),
                    reason,
                })?;
        Ok(Self {
            pending,
            writer,
            format,
            clipped: 0,
        })
    }

    /// How many samples so far were beyond full scale and written as full scale (PCM
    /// only; float keeps every value).
    pub fn clipped_samples(&self) -> u64 {
        self.clipped
    }

    /// Appends interleaved samples (full scale = ±1.0; PCM is clipped to that).
    pub fn write(&mut self, samples: &[f32]) -> Result<(), WavError> {
        if self.format != WavFormat::Float32 {
            self.clipped += samples.iter().filter(|s| s.abs() > 1.0).count() as u64;
        }
        let result = match self.format {
            WavFormat::Float32 => samples
                .iter()
                .try_for_each(|s| self.writer.write_sample(*s)),
            WavFormat::Pcm24 => samples
                .iter()
                .try_for_each(|s| self.writer.write_sample(to_int(*s, 8_388_607.0))),
            WavFormat::Pcm16 => samples
                .iter()
                .try_for_each(|s| self.writer.write_sample(to_int(*s, 32_767.0) as i16)),
        };
        result.map_err(|reason| WavError::Write {
            path: self.pending.dest().to_path_buf(),
            reason,
        })
    }

    /// Completes the header, syncs and moves the file to its real name.
    pub fn finish(self) -> Result<PathBuf, WavError> {
        let dest = self.pending.dest().to_path_buf();
        self.writer
            .finalize()
            .map_err(|reason| WavError::Write { path: dest, reason })?;
        Ok(self.pending.commit()?)
    }
}

fn to_int(sample: f32, full_scale: f32) -> i32 {
    (sample.clamp(-1.0, 1.0) * full_scale).round() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_through_hound() {
        let dir = tempfile::tempdir().unwrap();
        for format in [WavFormat::Float32, WavFormat::Pcm24, WavFormat::Pcm16] {
            let dest = dir.path().join(format!("{format:?}.wav"));
            let mut wav = WavOutput::create(&dest, 2, 44_100, format).unwrap();
            wav.write(&[0.5, -0.5, 2.0, -2.0]).unwrap();
            let clipped = if format == WavFormat::Float32 { 0 } else { 2 };
            assert_eq!(wav.clipped_samples(), clipped, "{format:?}");
            assert!(!dest.exists());
            wav.finish().unwrap();
            let mut reader = hound::WavReader::open(&dest).unwrap();
            assert_eq!(reader.spec().channels, 2);
            assert_eq!(reader.spec().sample_rate, 44_100);
            assert_eq!(reader.len(), 4);
            // The values read back exactly; PCM clips ±2.0 at full scale.
            match format {
                WavFormat::Float32 => {
                    let read: Vec<f32> = reader.samples::<f32>().map(Result::unwrap).collect();
                    assert_eq!(read, [0.5, -0.5, 2.0, -2.0]);
                }
                WavFormat::Pcm24 => {
                    let read: Vec<i32> = reader.samples::<i32>().map(Result::unwrap).collect();
                    assert_eq!(read, [4_194_304, -4_194_304, 8_388_607, -8_388_607]);
                }
                WavFormat::Pcm16 => {
                    let read: Vec<i32> = reader.samples::<i32>().map(Result::unwrap).collect();
                    assert_eq!(read, [16_384, -16_384, 32_767, -32_767]);
                }
            }
        }
        assert_eq!(WavFormat::parse("pcm24").unwrap(), WavFormat::Pcm24);
        assert!(WavFormat::parse("mp3").is_err());
    }
}
