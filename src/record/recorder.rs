//! The recorder thread (the butler): drains every track's ring into its WAV file.
//!
//! Owns the track files of a take while it records: one 32-bit float WAV per track at
//! the device rate, its peak file, the silence for every declared gap, and a header
//! update plus `sync_data` at least once a second so a crash loses at most the last
//! second. A write failure (a full disk) stops writing, keeps the files valid and is
//! reported; the rings are still drained so the callback never backs up.
//! Must never run on the audio thread.

use super::peaks::PeakWriter;
use super::wav_repair::repair_wav;
use crate::engine::{CaptureReader, Gap};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often headers are updated and data synced to disk.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);
/// How long the thread sleeps when the rings are empty.
const POLL: Duration = Duration::from_millis(10);
/// Frames moved per read, bounding how long one track holds up the others.
const CHUNK_FRAMES: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    #[error("cannot create {path}: {reason} (check the folder exists and you may write to it)")]
    Create { path: String, reason: String },
    #[error("cannot start the recorder thread: {0}")]
    Thread(std::io::Error),
}

/// One track's files as the take closes.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackFile {
    pub wav: PathBuf,
    pub peaks: PathBuf,
    pub frames: u64,
}

/// What the recorder did, when it has finished.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecorderReport {
    pub frames: u64,
    pub gaps: Vec<Gap>,
    pub tracks: Vec<TrackFile>,
    /// The first write failure, if any (the take stops growing there).
    pub error: Option<String>,
}

struct TrackWriter {
    wav: Option<hound::WavWriter<BufWriter<File>>>,
    sync: File,
    peaks: PeakWriter,
    wav_path: PathBuf,
    peaks_path: PathBuf,
}

/// A running recorder. `finish` waits for the take's last frame; `abort` stops now.
pub struct Recorder {
    thread: JoinHandle<RecorderReport>,
    stop_now: Arc<AtomicBool>,
}

impl Recorder {
    /// Creates `<name>.wav` and `<name>.peaks` in `dir` for each track, then starts
    /// the thread. Files exist before the first sample, so a bad folder fails here.
    pub fn start(
        dir: &Path,
        names: &[String],
        sample_rate_hz: u32,
        reader: CaptureReader,
    ) -> Result<Recorder, RecorderError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: sample_rate_hz,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut writers = Vec::with_capacity(names.len());
        for name in names {
            let wav_path = dir.join(format!("{name}.wav"));
            let peaks_path = dir.join(format!("{name}.peaks"));
            let create_error = |path: &Path, reason: String| RecorderError::Create {
                path: path.display().to_string(),
                reason,
            };
            let file = crate::own_files::create_private_file(&wav_path)
                .map_err(|e| create_error(&wav_path, e.to_string()))?;
            let sync = file
                .try_clone()
                .map_err(|e| create_error(&wav_path, e.to_string()))?;
            let wav = hound::WavWriter::new(BufWriter::new(file), spec)
                .map_err(|e| create_error(&wav_path, e.to_string()))?;
            let peaks = PeakWriter::create(&peaks_path, sample_rate_hz)
                .map_err(|e| create_error(&peaks_path, e.to_string()))?;
            writers.push(TrackWriter {
                wav: Some(wav),
                sync,
                peaks,
                wav_path,
                peaks_path,
            });
        }
        let stop_now = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stop_now);
        let thread = std::thread::Builder::new()
            .name("bandroom recorder".into())
            .spawn(move || Butler::new(writers, reader, stop).run())
            .map_err(RecorderError::Thread)?;
        Ok(Recorder { thread, stop_now })
    }

    /// Waits until every frame of the take is on disk and the files are closed.
    pub fn finish(self) -> RecorderReport {
        self.join()
    }

    /// Writes what has arrived so far, closes the files and returns (device lost, Ctrl-C
    /// before the take's end).
    pub fn abort(self) -> RecorderReport {
        self.stop_now.store(true, Ordering::Release);
        self.join()
    }

    pub fn is_done(&self) -> bool {
        self.thread.is_finished()
    }

    fn join(self) -> RecorderReport {
        self.thread.join().unwrap_or_else(|_| RecorderReport {
            error: Some(
                "the recorder thread stopped unexpectedly; run `bandroom recover` on the take"
                    .into(),
            ),
            ..RecorderReport::default()
        })
    }
}

struct Butler {
    writers: Vec<TrackWriter>,
    reader: CaptureReader,
    stop_now: Arc<AtomicBool>,
    consumed: u64,
    gaps: Vec<Gap>,
    error: Option<String>,
    silence: Vec<f32>,
}

impl Butler {
    fn new(writers: Vec<TrackWriter>, reader: CaptureReader, stop_now: Arc<AtomicBool>) -> Self {
        Self {
            writers,
            reader,
            stop_now,
            consumed: 0,
            gaps: Vec::new(),
            error: None,
            silence: vec![0.0; CHUNK_FRAMES],
        }
    }

    fn run(mut self) -> RecorderReport {
        let mut last_sync = Instant::now();
        loop {
            // Read the flag before draining: everything pushed before it was set is then visible.
            let finished = self.reader.status.finished.load(Ordering::Acquire);
            let stop = self.stop_now.load(Ordering::Acquire);
            self.drain();
            if (finished && self.is_empty()) || stop {
                break;
            }
            if last_sync.elapsed() >= SYNC_INTERVAL {
                self.sync();
                last_sync = Instant::now();
            }
            std::thread::sleep(POLL);
        }
        self.close()
    }

    fn is_empty(&self) -> bool {
        self.reader.gaps.is_empty() && self.reader.tracks.iter().all(rtrb::Consumer::is_empty)
    }

    /// Moves everything available from the rings (and due gaps) into the files.
    fn drain(&mut self) {
        loop {
            if let Ok(gap) = self.reader.gaps.peek().copied()
                && gap.at_frame <= self.consumed
            {
                let _ = self.reader.gaps.pop();
                self.write_silence(gap.frames);
                self.gaps.push(gap);
                continue;
            }
            let until_gap = self
                .reader
                .gaps
                .peek()
                .map_or(u64::MAX, |g| g.at_frame - self.consumed);
            let available = self
                .reader
                .tracks
                .iter()
                .map(rtrb::Consumer::slots)
                .min()
                .unwrap_or(0);
            let frames = (available as u64).min(until_gap).min(CHUNK_FRAMES as u64) as usize;
            if frames == 0 {
                return;
            }
            for (ring, writer) in self.reader.tracks.iter_mut().zip(&mut self.writers) {
                if let Ok(chunk) = ring.read_chunk(frames) {
                    let (a, b) = chunk.as_slices();
                    for part in [a, b] {
                        if let Err(e) = write_samples(writer, part) {
                            record_error(&mut self.error, writer, e);
                        }
                    }
                    chunk.commit_all();
                }
            }
            self.consumed += frames as u64;
        }
    }

    fn write_silence(&mut self, frames: u64) {
        let mut left = frames;
        while left > 0 {
            let n = left.min(self.silence.len() as u64) as usize;
            for writer in &mut self.writers {
                if let Err(e) = write_samples(writer, &self.silence[..n]) {
                    record_error(&mut self.error, writer, e);
                }
            }
            left -= n as u64;
        }
        self.consumed += frames;
    }

    fn sync(&mut self) {
        for writer in &mut self.writers {
            let result = match writer.wav.as_mut() {
                Some(wav) => wav.flush().map_err(|e| e.to_string()).and_then(|()| {
                    writer.peaks.flush().map_err(|e| e.to_string())?;
                    writer.sync.sync_data().map_err(|e| e.to_string())
                }),
                None => Ok(()),
            };
            if let Err(e) = result {
                record_error(&mut self.error, writer, e);
            }
        }
    }

    fn close(mut self) -> RecorderReport {
        let mut tracks = Vec::with_capacity(self.writers.len());
        for mut writer in std::mem::take(&mut self.writers) {
            if let Some(wav) = writer.wav.take()
                && let Err(e) = wav.finalize()
            {
                record_error(&mut self.error, &mut writer, e.to_string());
            }
            if let Err(e) = writer.peaks.finish() {
                let path = writer.peaks_path.display();
                self.error
                    .get_or_insert(format!("cannot write {path}: {e}"));
            }
            let _ = writer.sync.sync_all();
            // After a failed write the header may disagree with what reached the disk;
            // make the file describe exactly the samples it holds.
            let frames = match repair_wav(&writer.wav_path) {
                Ok(repaired) => repaired.frames,
                Err(e) => {
                    self.error.get_or_insert(e.to_string());
                    0
                }
            };
            tracks.push(TrackFile {
                wav: writer.wav_path,
                peaks: writer.peaks_path,
                frames,
            });
        }
        RecorderReport {
            frames: self.consumed,
            gaps: self.gaps,
            tracks,
            error: self.error,
        }
    }
}

fn write_samples(writer: &mut TrackWriter, samples: &[f32]) -> Result<(), String> {
    let Some(wav) = writer.wav.as_mut() else {
        return Ok(());
    };
    for &s in samples {
        wav.write_sample(s).map_err(|e| e.to_string())?;
    }
    writer.peaks.push(samples).map_err(|e| e.to_string())
}

/// Keeps the first failure and stops writing this track, leaving its file closable.
fn record_error(error: &mut Option<String>, writer: &mut TrackWriter, reason: String) {
    if let Some(wav) = writer.wav.take() {
        // The header update may fail too on a full disk; `close` repairs it from the file size.
        let _ = wav.finalize();
    }
    error.get_or_insert(format!(
        "stopped writing {}: {reason} (is the disk full? everything before this point is kept)",
        writer.wav_path.display()
    ));
}
