//! The audio files of a bundle: a recorded track copied as WAV or encoded as FLAC
//! (pure-Rust `flacenc`, 24-bit), and a take's mix of all its tracks. Every file is
//! read block by block, so a long take never sits in memory as samples; a FLAC file's
//! compressed frames are held until it is written.
//!
//! Must not know about pupils, the library or the bundle's layout.

use flacenc::component::BitRepr;
use flacenc::error::SourceError;
use flacenc::error::Verify;
use flacenc::source::{Fill, Source};
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// How recordings are written into a bundle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AudioFormat {
    #[default]
    Wav,
    Flac,
}

impl AudioFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Wav => "wav",
            Self::Flac => "flac",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{}: {reason}", path.display())]
    File { path: PathBuf, reason: String },
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> AudioError {
    AudioError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

type WavReader = hound::WavReader<BufReader<std::fs::File>>;

fn open(path: &Path) -> Result<WavReader, AudioError> {
    hound::WavReader::open(path).map_err(|e| file_error(path, e))
}

/// Reads up to `frames` interleaved samples of any WAV sample format as floats.
fn read_block(reader: &mut WavReader, samples: usize, out: &mut Vec<f32>) -> hound::Result<()> {
    out.clear();
    let spec = reader.spec();
    match spec.sample_format {
        hound::SampleFormat::Float => {
            for s in reader.samples::<f32>().take(samples) {
                out.push(s?);
            }
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            for s in reader.samples::<i32>().take(samples) {
                out.push(s? as f32 * scale);
            }
        }
    }
    Ok(())
}

/// Several WAV files of one take read side by side and summed to one channel per
/// file channel count of the first (a take's tracks share rate and length).
struct Mixdown {
    readers: Vec<WavReader>,
    channels: usize,
    sample_rate: u32,
    gain: f32,
    scratch: Vec<f32>,
}

impl Mixdown {
    fn open(paths: &[PathBuf], gain: f32) -> Result<Self, AudioError> {
        let readers = paths
            .iter()
            .map(|p| open(p))
            .collect::<Result<Vec<_>, _>>()?;
        let first = readers
            .first()
            .map(|r| r.spec())
            .ok_or_else(|| AudioError::File {
                path: PathBuf::from("(no tracks)"),
                reason: "a mix needs at least one track".into(),
            })?;
        Ok(Self {
            channels: usize::from(first.channels),
            sample_rate: first.sample_rate,
            readers,
            gain,
            scratch: Vec::new(),
        })
    }

    /// The next `frames` frames of the mix; an empty block at the end.
    fn next_block(&mut self, frames: usize, out: &mut Vec<f32>) -> hound::Result<()> {
        out.clear();
        for reader in &mut self.readers {
            let wanted = frames * usize::from(reader.spec().channels);
            read_block(reader, wanted, &mut self.scratch)?;
            let channels = usize::from(reader.spec().channels);
            let got = self.scratch.len() / channels.max(1);
            if out.len() < got * self.channels {
                out.resize(got * self.channels, 0.0);
            }
            for frame in 0..got {
                for ch in 0..self.channels {
                    out[frame * self.channels + ch] +=
                        self.scratch[frame * channels + ch.min(channels - 1)] * self.gain;
                }
            }
        }
        Ok(())
    }
}

const BLOCK_FRAMES: usize = 4096;

/// The largest absolute sample across the files, read block by block.
fn mix_peak(paths: &[PathBuf]) -> Result<f32, AudioError> {
    let mut mix = Mixdown::open(paths, 1.0)?;
    let mut block = Vec::new();
    let mut peak = 0.0f32;
    loop {
        mix.next_block(BLOCK_FRAMES, &mut block)
            .map_err(|e| file_error(&paths[0], e))?;
        if block.is_empty() {
            return Ok(peak);
        }
        peak = block.iter().fold(peak, |p, s| p.max(s.abs()));
    }
}

/// Feeds flacenc 24-bit integers from a mixdown (one file is a mix of one).
struct FlacFeed {
    mix: Mixdown,
    block: Vec<f32>,
    ints: Vec<i32>,
    error: Option<hound::Error>,
}

const FLAC_BITS: usize = 24;

impl Source for FlacFeed {
    fn channels(&self) -> usize {
        self.mix.channels
    }
    fn bits_per_sample(&self) -> usize {
        FLAC_BITS
    }
    fn sample_rate(&self) -> usize {
        self.mix.sample_rate as usize
    }
    fn read_samples<F: Fill>(
        &mut self,
        block_size: usize,
        dest: &mut F,
    ) -> Result<usize, SourceError> {
        if let Err(e) = self.mix.next_block(block_size, &mut self.block) {
            self.error = Some(e);
            self.block.clear();
        }
        let full = ((1i32 << (FLAC_BITS - 1)) - 1) as f32;
        self.ints.clear();
        self.ints.extend(
            self.block
                .iter()
                .map(|s| (s.clamp(-1.0, 1.0) * full).round() as i32),
        );
        dest.fill_interleaved(&self.ints)?;
        Ok(self.ints.len() / self.mix.channels.max(1))
    }
}

fn write_flac(mix: Mixdown, to: &Path, what: &Path) -> Result<(), AudioError> {
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|(_, e)| file_error(to, format!("FLAC settings: {e:?}")))?;
    let mut feed = FlacFeed {
        mix,
        block: Vec::new(),
        ints: Vec::new(),
        error: None,
    };
    let stream = flacenc::encode_with_fixed_block_size(&config, &mut feed, config.block_size)
        .map_err(|e| file_error(to, format!("FLAC encoding failed: {e}")))?;
    if let Some(e) = feed.error {
        return Err(file_error(what, e));
    }
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream
        .write(&mut sink)
        .map_err(|e| file_error(to, format!("FLAC encoding failed: {e:?}")))?;
    let mut bytes = sink.as_slice().to_vec();
    // STREAMINFO's minimum block size must exclude the shorter last block: decoders
    // (symphonia among them) read min == max as "fixed block size" and refuse the stream
    // otherwise. Bytes 8..10 and 10..12 are the minimum and maximum, after "fLaC" and the
    // 4-byte block header.
    if bytes.len() >= 12 && bytes.starts_with(b"fLaC") {
        let (max_hi, max_lo) = (bytes[10], bytes[11]);
        bytes[8] = max_hi;
        bytes[9] = max_lo;
    }
    std::fs::write(to, bytes).map_err(|e| file_error(to, e))
}

fn write_wav(mut mix: Mixdown, to: &Path, what: &Path) -> Result<(), AudioError> {
    let spec = hound::WavSpec {
        channels: mix.channels as u16,
        sample_rate: mix.sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(to, spec).map_err(|e| file_error(to, e))?;
    let mut block = Vec::new();
    loop {
        mix.next_block(BLOCK_FRAMES, &mut block)
            .map_err(|e| file_error(what, e))?;
        if block.is_empty() {
            break;
        }
        for s in &block {
            writer.write_sample(*s).map_err(|e| file_error(to, e))?;
        }
    }
    writer.finalize().map_err(|e| file_error(to, e))
}

/// One recorded track into the bundle: copied as it is (WAV) or encoded (FLAC).
pub fn write_track(from: &Path, to: &Path, format: AudioFormat) -> Result<(), AudioError> {
    match format {
        AudioFormat::Wav => copy_blaming_the_right_file(from, to),
        AudioFormat::Flac => write_flac(Mixdown::open(&[from.to_path_buf()], 1.0)?, to, from),
    }
}

/// Copies `from` to `to`; a failure to read names the recording, a failure to write
/// (a full disk) names the bundle's file.
fn copy_blaming_the_right_file(from: &Path, to: &Path) -> Result<(), AudioError> {
    use std::io::{Read, Write};
    let mut input = std::fs::File::open(from).map_err(|e| file_error(from, e))?;
    let mut output = std::fs::File::create(to).map_err(|e| file_error(to, e))?;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = input.read(&mut buffer).map_err(|e| file_error(from, e))?;
        if n == 0 {
            break;
        }
        output
            .write_all(&buffer[..n])
            .map_err(|e| written_error(to, e))?;
    }
    output.sync_all().map_err(|e| written_error(to, e))
}

fn written_error(to: &Path, e: std::io::Error) -> AudioError {
    if e.kind() == std::io::ErrorKind::StorageFull {
        file_error(
            to,
            "the disk is full: free some space or export to another disk",
        )
    } else {
        file_error(to, e)
    }
}

/// A take's tracks summed into one file, scaled so its loudest moment peaks at
/// −1 dBFS (or left as it is when already quieter than that).
pub fn write_mix(tracks: &[PathBuf], to: &Path, format: AudioFormat) -> Result<(), AudioError> {
    let peak = mix_peak(tracks)?;
    let ceiling = 10f32.powf(-1.0 / 20.0);
    let gain = if peak > ceiling { ceiling / peak } else { 1.0 };
    let mix = Mixdown::open(tracks, gain)?;
    let what = tracks.first().map_or_else(PathBuf::new, PathBuf::clone);
    match format {
        AudioFormat::Wav => write_wav(mix, to, &what),
        AudioFormat::Flac => write_flac(mix, to, &what),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sine_wav(path: &Path, frames: usize, amplitude: f32) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..frames {
            let phase = i as f32 * 440.0 / 48_000.0 * std::f32::consts::TAU;
            w.write_sample(amplitude * phase.sin()).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn flac_round_trips_within_24_bit_precision() {
        let dir = tempfile::tempdir().unwrap();
        let (wav, flac) = (dir.path().join("a.wav"), dir.path().join("a.flac"));
        sine_wav(&wav, 30_000, 0.5);
        write_track(&wav, &flac, AudioFormat::Flac).unwrap();
        let decoded = crate::audio::stems::load_stem(&flac, 48_000, 3600.0).unwrap();
        assert_eq!(decoded.samples.len(), 30_000);
        let original: Vec<f32> = hound::WavReader::open(&wav)
            .unwrap()
            .samples::<f32>()
            .map(Result::unwrap)
            .collect();
        let worst = original
            .iter()
            .zip(decoded.samples.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "{worst}");
    }

    #[test]
    fn a_mix_sums_the_tracks_and_never_clips() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, mix) = (
            dir.path().join("a.wav"),
            dir.path().join("b.wav"),
            dir.path().join("mix.wav"),
        );
        sine_wav(&a, 4_800, 0.8);
        sine_wav(&b, 4_800, 0.8);
        write_mix(&[a, b], &mix, AudioFormat::Wav).unwrap();
        let samples: Vec<f32> = hound::WavReader::open(&mix)
            .unwrap()
            .samples::<f32>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(samples.len(), 4_800);
        let peak = samples.iter().fold(0.0f32, |p, s| p.max(s.abs()));
        assert!((peak - 10f32.powf(-1.0 / 20.0)).abs() < 1e-3, "{peak}");
    }
}
