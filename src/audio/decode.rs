//! Reading audio files bandroom did not write (backing stems, tracks to analyse, files
//! from other programs): symphonia decodes every form it knows (WAV in its PCM widths,
//! float 32/64, µ-law and A-law, WAVE_FORMAT_EXTENSIBLE; FLAC, Ogg Vorbis, MP3); the
//! WAV forms it refuses that hound reads (12- and 20-bit PCM, say) are read by hound,
//! so one reader takes every file either could; big-endian RIFX and RF64 (which
//! neither reads) are turned into plain RIFF first.
//!
//! Owns decoding to mono at the file's own rate, at most `max_secs` of it. Must not
//! resample (the stem loader does) or decide what a file is for.

use std::path::{Path, PathBuf};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

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
    #[error(
        "{} is a WAV file in a form bandroom cannot read ({reason}): save it again as 16- or \
         24-bit PCM or 32-bit float WAV",
        path.display()
    )]
    WavForm { path: PathBuf, reason: String },
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

/// The audio file at `path` as mono samples at its own rate: at most `max_secs` of it,
/// so a small file claiming hours of audio never fills the memory.
pub fn decode_mono(path: &Path, max_secs: f64) -> Result<(Vec<f32>, u32), StemError> {
    match decode_with_symphonia(path, max_secs) {
        // hound's reason is the specific one ("no WAVE tag", "unsupported bits per
        // sample"); symphonia only says it found no reader.
        Err(StemError::Unsupported { .. }) if looks_like_wav(path) => {
            decode_with_hound(path, max_secs).map_err(|reason| StemError::WavForm {
                path: path.to_path_buf(),
                reason,
            })
        }
        other => other,
    }
}

fn looks_like_wav(path: &Path) -> bool {
    let mut head = [0u8; 4];
    crate::own_files::open_regular(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| matches!(&head, b"RIFF" | b"RIFX" | b"RF64"))
}

/// The most bytes of a big-endian (RIFX) WAV read into memory to turn it round.
const RIFX_LIMIT: u64 = 512 << 20;

/// A WAV form symphonia refuses, through hound (PCM of any width up to 32 bits); a
/// big-endian RIFX file is turned into its little-endian twin first (neither reader
/// takes RIFX, and the change is only byte order).
fn decode_with_hound(path: &Path, max_secs: f64) -> Result<(Vec<f32>, u32), String> {
    let file = crate::own_files::open_regular(path).map_err(|e| e.to_string())?;
    let mut head = [0u8; 4];
    std::io::Read::read_exact(&mut &file, &mut head).map_err(|e| e.to_string())?;
    let source: Box<dyn std::io::Read> = if &head == b"RIFX" || &head == b"RF64" {
        let bytes =
            crate::own_files::read_regular_limited(path, RIFX_LIMIT).map_err(|e| e.to_string())?;
        let riff = if &head == b"RIFX" {
            rifx_to_riff(&bytes)?
        } else {
            rf64_to_riff(&bytes)?
        };
        Box::new(std::io::Cursor::new(riff))
    } else {
        let file = crate::own_files::open_regular(path).map_err(|e| e.to_string())?;
        Box::new(std::io::BufReader::new(file))
    };
    let mut reader = hound::WavReader::new(source).map_err(|e| e.to_string())?;
    let spec = reader.spec();
    if spec.sample_rate == 0 {
        return Err("its header gives a sample rate of 0 Hz".into());
    }
    let channels = usize::from(spec.channels.max(1));
    let wanted = ((max_secs.max(0.0) * f64::from(spec.sample_rate)).ceil() as usize)
        .saturating_mul(channels);
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .take(wanted)
            .collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .take(wanted)
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(|e| e.to_string())?;
    let mono: Vec<f32> = samples
        .chunks_exact(channels)
        .map(|f| f.iter().sum::<f32>() / channels as f32)
        .collect();
    if mono.is_empty() {
        return Err("it holds no audio".into());
    }
    Ok((mono, spec.sample_rate))
}

/// A big-endian RIFX WAV as the same file in RIFF (little-endian) byte order: chunk
/// sizes, the format chunk's fields and every sample turned round.
fn rifx_to_riff(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let bad = || "its RIFX chunks are cut short".to_string();
    let body = bytes.get(12..).ok_or_else(bad)?;
    if bytes.get(8..12) != Some(b"WAVE") {
        return Err("no WAVE tag found".into());
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(b"RIFF\0\0\0\0WAVE");
    let mut at = 0usize;
    let mut sample_bytes = 2usize;
    while let Some(header) = body.get(at..at + 8) {
        let (id, size) = header.split_at(4);
        let size = u32::from_be_bytes(size.try_into().map_err(|_| bad())?) as usize;
        let data = body.get(at + 8..at + 8 + size).ok_or_else(bad)?;
        out.extend_from_slice(id);
        out.extend_from_slice(&(size as u32).to_le_bytes());
        match id {
            b"fmt " => {
                // format, channels (u16); rate, byte rate (u32); block align, bits (u16);
                // then anything else as it is.
                let widths = [2usize, 2, 4, 4, 2, 2];
                let mut field = 0usize;
                for width in widths {
                    let value = data.get(field..field + width).ok_or_else(bad)?;
                    out.extend(value.iter().rev());
                    field += width;
                }
                let bits = u16::from_be_bytes([data[14], data[15]]);
                sample_bytes = usize::from(bits.div_ceil(8)).max(1);
                out.extend_from_slice(data.get(16..).unwrap_or_default());
            }
            b"data" => {
                for sample in data.chunks(sample_bytes) {
                    out.extend(sample.iter().rev());
                }
            }
            _ => out.extend_from_slice(data),
        }
        if size % 2 == 1 {
            out.push(0);
        }
        at += 8 + size + size % 2;
    }
    let riff_size = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Ok(out)
}

/// An RF64 WAV (the form for files past 4 GB, which broadcast and some recorders write
/// for every file) as the same file in plain RIFF: its `ds64` chunk gives the true
/// size of the data chunk, whose own size field says only "see ds64". Files up to
/// [`RIFX_LIMIT`] are read into memory for this.
fn rf64_to_riff(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let bad = || "its RF64 chunks are cut short".to_string();
    if bytes.get(8..12) != Some(b"WAVE") {
        return Err("no WAVE tag found".into());
    }
    let body = bytes.get(12..).ok_or_else(bad)?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(b"RIFF\0\0\0\0WAVE");
    let mut data_size: Option<u64> = None;
    let mut at = 0usize;
    while let Some(header) = body.get(at..at.saturating_add(8)) {
        let (id, size) = header.split_at(4);
        let mut size = u64::from(u32::from_le_bytes(size.try_into().map_err(|_| bad())?));
        if id == b"data" && size == u64::from(u32::MAX) {
            size = data_size.ok_or("its data chunk's size is in a ds64 chunk it does not have")?;
        }
        // A data chunk longer than the file is read as far as the file goes.
        let start = at + 8;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let end = start.saturating_add(size).min(body.len());
        let data = body.get(start..end).ok_or_else(bad)?;
        if id == b"ds64" {
            // riff size (u64), then data size (u64).
            let field = data.get(8..16).ok_or_else(bad)?;
            data_size = Some(u64::from_le_bytes(field.try_into().map_err(|_| bad())?));
        } else {
            let length = u32::try_from(data.len())
                .map_err(|_| "its data is over 4 GB: convert it to FLAC".to_string())?;
            out.extend_from_slice(id);
            out.extend_from_slice(&length.to_le_bytes());
            out.extend_from_slice(data);
            if data.len() % 2 == 1 {
                out.push(0);
            }
        }
        at = start.saturating_add(size).saturating_add(size % 2);
    }
    let riff_size = u32::try_from(out.len() - 8).map_err(|_| "it is over 4 GB".to_string())?;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Ok(out)
}

fn decode_with_symphonia(path: &Path, max_secs: f64) -> Result<(Vec<f32>, u32), StemError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_short_or_garbled_rifx_file_is_an_error_never_a_panic() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/other-programs/rifx.wav");
        let whole = std::fs::read(path).unwrap();
        assert!(rifx_to_riff(&whole).is_ok());
        for cut in 0..60 {
            let _ = rifx_to_riff(whole.get(..cut).unwrap_or_default());
        }
        let mut garbled = whole.clone();
        garbled[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(rifx_to_riff(&garbled).is_err());
    }

    #[test]
    fn an_rf64_file_cut_short_or_lying_about_its_size_is_an_error_or_as_much_as_is_there() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/other-programs/rf64.wav");
        let whole = std::fs::read(path).unwrap();
        let riff = rf64_to_riff(&whole).unwrap();
        assert_eq!(&riff[..4], b"RIFF");
        assert!(hound::WavReader::new(std::io::Cursor::new(&riff)).is_ok());
        for cut in 0..whole.len().min(200) {
            let _ = rf64_to_riff(whole.get(..cut).unwrap_or_default());
        }
        // A ds64 claiming far more data than the file has: only what is there is read.
        let mut lying = whole.clone();
        lying[28..36].copy_from_slice(&u64::MAX.to_le_bytes());
        if let Ok(riff) = rf64_to_riff(&lying) {
            assert!(riff.len() <= whole.len());
        }
    }
}
