//! Backing stems: an audio file (WAV, FLAC, MP3, Ogg Vorbis) decoded with symphonia,
//! mixed to mono and resampled with rubato to the session rate, before the engine
//! starts (never on the audio thread).
//!
//! Owns turning a file into the samples a stem lane plays. Must not decide when a stem
//! plays: the engine starts it on bar 1, and refuses to play it at a practice tempo.

pub use super::decode::{StemError, decode_mono};
use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};
use std::path::Path;
use std::sync::Arc;

/// A decoded stem at the session rate.
#[derive(Clone, Debug)]
pub struct Stem {
    pub samples: Arc<[f32]>,
    pub source_rate: u32,
    pub source_frames: u64,
}

/// Decodes the audio file at `path`, mixes it to mono and resamples it to `rate`,
/// keeping at most `max_secs` of it (the piece's length): decoding stops there, so a
/// small file of hours of silence never fills the memory.
pub fn load_stem(path: &Path, rate: u32, max_secs: f64) -> Result<Stem, StemError> {
    let (mono, source_rate) = decode_mono(path, max_secs)?;
    let source_frames = mono.len() as u64;
    let samples = if source_rate == rate {
        mono
    } else {
        resample(path, mono, source_rate, rate)?
    };
    Ok(Stem {
        samples: samples.into(),
        source_rate,
        source_frames,
    })
}

fn resample(path: &Path, mono: Vec<f32>, from: u32, to: u32) -> Result<Vec<f32>, StemError> {
    let failed = |reason: String| StemError::Resample {
        path: path.to_path_buf(),
        from,
        to,
        reason,
    };
    let frames = mono.len();
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input)
        .map_err(|e| failed(e.to_string()))?;
    let channels = [mono];
    let input =
        SequentialSliceOfVecs::new(&channels, 1, frames).map_err(|e| failed(e.to_string()))?;
    let output = resampler
        .process_all(&input, frames, None)
        .map_err(|e| failed(e.to_string()))?;
    Ok(output.take_data())
}
