//! What a WAV file a person hands bandroom really holds: its rate, channels and the
//! frames its data really has, whatever its header claims (a header left unfinished by
//! a crash, or a hostile one, says more), refusing 0 Hz.
//!
//! Must not decode samples beyond the header.

use std::path::Path;

/// What a WAV file really holds, read from its header and checked against its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WavLength {
    pub sample_rate_hz: u32,
    pub channels: u16,
    /// Frames the file really holds: a header that claims more (a recording cut off
    /// before its header was finished, or a hostile file) is not believed.
    pub frames: u64,
}

impl WavLength {
    pub fn duration_secs(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate_hz)
    }
}

/// Reads a WAV file's header and measures its data, refusing 0 Hz or no channels and
/// anything that is not a regular file.
pub fn wav_length(path: &Path) -> Result<WavLength, String> {
    use std::io::Seek;
    let file = crate::own_files::open_regular(path).map_err(|e| e.to_string())?;
    let file_len = file.metadata().map_err(|e| e.to_string())?.len();
    let reader = hound::WavReader::new(std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
    let spec = reader.spec();
    if spec.sample_rate == 0 {
        return Err("its header gives a sample rate of 0 Hz".into());
    }
    if spec.channels == 0 {
        return Err("its header gives no channels".into());
    }
    let claimed = u64::from(reader.duration());
    let block = u64::from(spec.channels) * u64::from(spec.bits_per_sample.div_ceil(8)).max(1);
    let mut inner = reader.into_inner();
    let data_start = inner.stream_position().map_err(|e| e.to_string())?;
    let present = file_len.saturating_sub(data_start) / block;
    Ok(WavLength {
        sample_rate_hz: spec.sample_rate,
        channels: spec.channels,
        frames: claimed.min(present),
    })
}
