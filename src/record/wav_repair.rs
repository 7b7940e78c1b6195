//! Repairs the header of a WAV file whose writer never finished (a killed process,
//! pulled power, a full disk).
//!
//! Owns the rule that makes a recording survive a crash: the data chunk runs to the
//! end of the file, so its length is recomputed from the file's size, cut to whole
//! frames, and written back into the RIFF and data headers. Must not touch the samples.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error("cannot repair {path}: {reason}")]
    Io {
        path: String,
        reason: std::io::Error,
    },
    #[error("cannot repair {path}: {what} (it may not be a WAV file bandroom wrote)")]
    Format { path: String, what: &'static str },
}

/// What a repair found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repaired {
    /// Whole frames in the file after repair.
    pub frames: u64,
    /// Whether the header had to change.
    pub changed: bool,
}

pub fn repair_wav(path: &Path) -> Result<Repaired, RepairError> {
    let shown = path.display().to_string();
    let io = |reason| RepairError::Io {
        path: shown.clone(),
        reason,
    };
    let format = |what| RepairError::Format {
        path: shown.clone(),
        what,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let mut header = vec![0u8; file_len.min(4096) as usize];
    file.read_exact(&mut header).map_err(io)?;
    if header.len() < 12 || &header[0..4] != b"RIFF" || &header[8..12] != b"WAVE" {
        return Err(format("no RIFF/WAVE header"));
    }
    let mut offset = 12usize;
    let mut block_align: Option<u64> = None;
    let data_start = loop {
        let Some(chunk) = header.get(offset..offset + 8) else {
            return Err(format("no data chunk in the header"));
        };
        let id = &chunk[0..4];
        let len = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]) as usize;
        if id == b"fmt " {
            let align = header
                .get(offset + 8 + 12..offset + 8 + 14)
                .ok_or_else(|| format("the fmt chunk is cut short"))?;
            block_align = Some(u64::from(u16::from_le_bytes([align[0], align[1]])));
        }
        if id == b"data" {
            break offset + 8;
        }
        offset += 8 + len + (len & 1);
    };
    let block_align = block_align
        .filter(|a| *a > 0)
        .ok_or_else(|| format("no fmt chunk before the data"))?;
    let data_bytes = (file_len - data_start as u64) / block_align * block_align;
    let data_len =
        u32::try_from(data_bytes).map_err(|_| format("the data is larger than WAV allows"))?;
    let riff_len = u32::try_from(data_start as u64 - 8 + data_bytes)
        .map_err(|_| format("the file is larger than WAV allows"))?;
    let old_riff = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let old_data = u32::from_le_bytes([
        header[data_start - 4],
        header[data_start - 3],
        header[data_start - 2],
        header[data_start - 1],
    ]);
    let changed =
        old_riff != riff_len || old_data != data_len || file_len != data_start as u64 + data_bytes;
    if changed {
        file.seek(SeekFrom::Start(4)).map_err(io)?;
        file.write_all(&riff_len.to_le_bytes()).map_err(io)?;
        file.seek(SeekFrom::Start(data_start as u64 - 4))
            .map_err(io)?;
        file.write_all(&data_len.to_le_bytes()).map_err(io)?;
        file.set_len(data_start as u64 + data_bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    Ok(Repaired {
        frames: data_bytes / block_align,
        changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_left_at_zero_is_rebuilt_from_the_file_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..1500 {
            w.write_sample(i as f32).unwrap();
        }
        w.finalize().unwrap();
        // A crash: the sizes in the header were never updated (hound starts them at
        // 0), and a write was cut off half-way through a sample.
        let mut f = OpenOptions::new().write(true).open(&path).unwrap();
        let len = f.metadata().unwrap().len();
        f.seek(SeekFrom::Start(4)).unwrap();
        f.write_all(&0u32.to_le_bytes()).unwrap();
        f.seek(SeekFrom::Start(len - 1500 * 4 - 4)).unwrap();
        f.write_all(&0u32.to_le_bytes()).unwrap();
        f.seek(SeekFrom::End(0)).unwrap();
        f.write_all(&[1, 2]).unwrap();
        drop(f);
        assert!(hound::WavReader::open(&path).map(|r| r.len()).unwrap_or(0) != 1500);
        let repaired = repair_wav(&path).unwrap();
        assert_eq!(repaired.frames, 1500);
        assert!(repaired.changed);
        let reader = hound::WavReader::open(&path).unwrap();
        let samples: Vec<f32> = reader.into_samples::<f32>().map(Result::unwrap).collect();
        assert_eq!(samples.len(), 1500);
        assert_eq!(samples[1499], 1499.0);
        assert!(
            !repair_wav(&path).unwrap().changed,
            "a sound file is left alone"
        );
        std::fs::write(&path, b"not a wav").unwrap();
        assert!(matches!(repair_wav(&path), Err(RepairError::Format { .. })));
    }
}
