//! Backing stems: an audio file (WAV, FLAC, MP3, Ogg Vorbis) decoded with symphonia,
//! mixed to mono and resampled with rubato to the session rate, before the engine
//! starts (never on the audio thread).
//!
//! Owns turning a file into the samples a stem lane plays. Must not decide when a stem
//! plays: the engine starts it on bar 1, and refuses to play it at a practice tempo.

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// A decoded stem at the session rate.
#[derive(Clone, Debug)]
pub struct Stem {
    pub samples: Arc<[f32]>,
    pub source_rate: u32,
    pub source_frames: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StemError {
    #[error("cannot open the stem {}: {reason} (put the file beside the arrangement, or fix its path)", path.display())]
    Open { path: PathBuf, reason: String },
    #[error(
        "{} is not audio bandroom can read ({reason}): use WAV, FLAC, MP3 or Ogg Vorbis",
        path.display()
    )]
    Unsupported { path: PathBuf, reason: String },
    #[error("{} is damaged: {reason} (export the stem again)", path.display())]
    Damaged { path: PathBuf, reason: String },
    #[error("{} holds no audio", path.display())]
    Empty { path: PathBuf },
    #[error("cannot resample {} from {from} Hz to {to} Hz: {reason}", path.display())]
    Resample {
        path: PathBuf,
        from: u32,
        to: u32,
        reason: String,
    },
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

fn decode_mono(path: &Path, max_secs: f64) -> Result<(Vec<f32>, u32), StemError> {
    let file = crate::own_files::open_regular(path).map_err(|e| StemError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let unsupported = |reason: String| StemError::Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    let damaged = |reason: String| StemError::Damaged {
        path: path.to_path_buf(),
        reason,
    };
    let mut hint = Hint::new();
    if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(extension);
    }
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| unsupported(e.to_string()))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| unsupported("no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| unsupported("no audio codec parameters".into()))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| unsupported(e.to_string()))?;
    let mut mono: Vec<f32> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut rate = 0u32;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(e) => return Err(damaged(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            // One bad packet in a long MP3 is a click, not a reason to refuse the stem.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(damaged(e.to_string())),
        };
        rate = buffer.spec().rate();
        if rate == 0 {
            return Err(damaged("its header gives a sample rate of 0 Hz".into()));
        }
        let max_frames = (max_secs.max(0.0) * f64::from(rate)).ceil() as usize;
        if mono.len() >= max_frames {
            break;
        }
        let channels = buffer.spec().channels().count().max(1);
        interleaved.resize(buffer.samples_interleaved(), 0.0);
        buffer.copy_to_slice_interleaved(&mut interleaved);
        let scale = 1.0 / channels as f32;
        mono.extend(
            interleaved
                .chunks_exact(channels)
                .map(|frame| frame.iter().sum::<f32>() * scale),
        );
    }
    let max_frames = (max_secs.max(0.0) * f64::from(rate)).ceil() as usize;
    mono.truncate(max_frames);
    if mono.is_empty() || rate == 0 {
        return Err(StemError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok((mono, rate))
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
