//! The capture tap: copies each recorded input channel into its own ring buffer.
//!
//! Owns what the input callback does with a block of input: find where it falls in the
//! take (the caller says which timeline frame its first sample was played against),
//! copy each selected channel into that track's `rtrb` ring, and declare a gap of
//! silence wherever input was lost (an xrun, a dropped block, a full ring) so every
//! track keeps its length and alignment. Must not allocate, lock, block or do I/O:
//! it runs in the input callback. The recorder thread (`record/`) is the other end.

// Real-time code: no index may panic on the audio thread.
#![warn(clippy::indexing_slicing)]

use super::control::EngineShared;
use super::meters::MeterSlot;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Silence the recorder must insert: `frames` of it, starting at take frame `at_frame`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub at_frame: u64,
    pub frames: u64,
}

/// What the tap reports to any thread.
#[derive(Debug, Default)]
pub struct CaptureStatus {
    /// Take frames accounted for so far (captured or declared as gaps).
    pub frames: AtomicU64,
    /// Frames lost because a ring was full (the disk could not keep up).
    pub overflow_frames: AtomicU64,
    /// Frames lost because input did not arrive (xruns, dropped device blocks).
    pub dropped_frames: AtomicU64,
    /// Every frame up to the end of the take has been handed to the rings.
    pub finished: AtomicBool,
    /// One level meter per track, fed from every input block (recording or not).
    pub inputs: Box<[MeterSlot]>,
}

/// How many frames each ring holds, and which device channels become tracks.
#[derive(Clone, Debug)]
pub struct CaptureConfig {
    /// 0-based device channel of each track, in track order.
    pub channels: Vec<usize>,
    /// Channels per frame in the device's interleaved input.
    pub device_channels: usize,
    /// Capacity of each track's ring, in frames (5 s or more of headroom).
    pub ring_frames: usize,
}

/// The callback's end: one producer per track.
pub struct CaptureTap {
    channels: Vec<usize>,
    device_channels: usize,
    tracks: Vec<rtrb::Producer<f32>>,
    gaps: rtrb::Producer<Gap>,
    pending_gap: Gap,
    written: u64,
    status: Arc<CaptureStatus>,
    engine: Arc<EngineShared>,
}

/// The recorder's end: one consumer per track, the gap list and the status.
pub struct CaptureReader {
    pub tracks: Vec<rtrb::Consumer<f32>>,
    pub gaps: rtrb::Consumer<Gap>,
    pub status: Arc<CaptureStatus>,
}

/// Gap records the ring can hold before the tap merges new gaps into the last one.
const GAP_RING: usize = 4096;

impl CaptureTap {
    /// Builds the rings for a take. `engine` is the engine whose `Record` command
    /// decides which timeline frames belong to the take.
    pub fn new(
        config: &CaptureConfig,
        engine: &super::EngineHandle,
    ) -> (CaptureTap, CaptureReader) {
        let (producers, consumers): (Vec<_>, Vec<_>) = config
            .channels
            .iter()
            .map(|_| rtrb::RingBuffer::new(config.ring_frames.max(1)))
            .unzip();
        let (gap_tx, gap_rx) = rtrb::RingBuffer::new(GAP_RING);
        let status = Arc::new(CaptureStatus {
            inputs: config
                .channels
                .iter()
                .map(|_| MeterSlot::default())
                .collect(),
            ..CaptureStatus::default()
        });
        (
            CaptureTap {
                channels: config.channels.clone(),
                device_channels: config.device_channels.max(1),
                tracks: producers,
                gaps: gap_tx,
                pending_gap: Gap {
                    at_frame: 0,
                    frames: 0,
                },
                written: 0,
                status: Arc::clone(&status),
                engine: Arc::clone(&engine.shared),
            },
            CaptureReader {
                tracks: consumers,
                gaps: gap_rx,
                status,
            },
        )
    }

    pub fn status(&self) -> &Arc<CaptureStatus> {
        &self.status
    }

    /// Frames every ring can still take before the recorder must catch up.
    ///
    /// Real-time: reads atomics only.
    pub fn room_frames(&self) -> usize {
        self.tracks
            .iter()
            .map(rtrb::Producer::slots)
            .min()
            .unwrap_or(0)
    }

    /// Takes one interleaved input block whose first frame was played against
    /// `timeline_frame` (an engine output frame, latency already removed).
    ///
    /// Real-time: no alloc, lock, I/O or panic.
    pub fn capture(&mut self, input: &[f32], timeline_frame: i64) {
        for (meter, &channel) in self.status.inputs.iter().zip(&self.channels) {
            let peak = input
                .iter()
                .skip(channel)
                .step_by(self.device_channels)
                .fold(0.0f32, |p, s| p.max(s.abs()));
            meter.offer_peak(peak);
        }
        let start = self.engine.take_start_frame.load(Ordering::Acquire);
        if start == u64::MAX || self.status.finished.load(Ordering::Relaxed) {
            return;
        }
        let end = self.engine.take_end_frame.load(Ordering::Acquire);
        let frames_in = (input.len() / self.device_channels) as i64;
        // Signed: the first blocks after start-up were played before the engine's frame 0.
        let (start_i, end_i) = (start as i64, end.min(i64::MAX as u64) as i64);
        let lo = timeline_frame.max(start_i);
        let hi = (timeline_frame + frames_in).min(end_i);
        if hi > lo {
            let take_lo = (lo - start_i) as u64;
            if take_lo > self.written {
                // Input for these frames never arrived: keep the tracks in time with silence.
                let missing = take_lo - self.written;
                self.declare_gap(missing);
                self.status
                    .dropped_frames
                    .fetch_add(missing, Ordering::Relaxed);
            }
            // Frames already accounted for (a device repeating itself) are skipped.
            let skip = self.written.saturating_sub(take_lo) as i64;
            let from = lo + skip;
            if hi > from {
                self.store(
                    input,
                    (from - timeline_frame) as usize,
                    (hi - from) as usize,
                );
            }
        }
        self.status.frames.store(self.written, Ordering::Relaxed);
        if end != u64::MAX && timeline_frame + frames_in >= end_i {
            let take_frames = end - start;
            if self.written < take_frames {
                let missing = take_frames - self.written;
                self.declare_gap(missing);
                self.status
                    .dropped_frames
                    .fetch_add(missing, Ordering::Relaxed);
            }
            if self.flush_gap() {
                self.status.frames.store(self.written, Ordering::Relaxed);
                self.status.finished.store(true, Ordering::Release);
            }
        }
    }

    /// Ends the tracks now: a device that stopped delivering (unplugged, stopped before
    /// the take's end) leaves the rest of the take as a gap, so its tracks keep the
    /// take's length when the end is known. Not for the audio thread's hot path, but
    /// allocation-free all the same.
    pub fn give_up(&mut self) {
        if self.status.finished.load(Ordering::Relaxed) {
            return;
        }
        let start = self.engine.take_start_frame.load(Ordering::Acquire);
        let end = self.engine.take_end_frame.load(Ordering::Acquire);
        if start != u64::MAX && end != u64::MAX {
            let take_frames = end.saturating_sub(start);
            if self.written < take_frames {
                let missing = take_frames - self.written;
                self.declare_gap(missing);
                self.status
                    .dropped_frames
                    .fetch_add(missing, Ordering::Relaxed);
            }
        }
        // The gap ring may be full: merge and retry briefly, the recorder is draining it.
        for _ in 0..1000 {
            if self.flush_gap() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        self.status.frames.store(self.written, Ordering::Relaxed);
        self.status.finished.store(true, Ordering::Release);
    }

    /// Copies `frames` frames starting at frame `offset` of `input` into every ring.
    /// Real-time: ring pushes only; no alloc, lock or I/O.
    fn store(&mut self, input: &[f32], offset: usize, frames: usize) {
        let room = self
            .tracks
            .iter()
            .map(rtrb::Producer::slots)
            .min()
            .unwrap_or(0);
        if !self.flush_gap() || room < frames {
            self.declare_gap(frames as u64);
            self.status
                .overflow_frames
                .fetch_add(frames as u64, Ordering::Relaxed);
            return;
        }
        let stride = self.device_channels;
        for (ring, &channel) in self.tracks.iter_mut().zip(&self.channels) {
            if let Ok(chunk) = ring.write_chunk_uninit(frames) {
                let samples = input
                    .iter()
                    .skip(offset * stride + channel)
                    .step_by(stride)
                    .copied()
                    .chain(std::iter::repeat(0.0));
                chunk.fill_from_iter(samples);
            }
        }
        self.written += frames as u64;
    }

    /// Real-time: arithmetic only.
    fn declare_gap(&mut self, frames: u64) {
        if self.pending_gap.frames == 0 {
            self.pending_gap.at_frame = self.written;
        }
        self.pending_gap.frames += frames;
        self.written += frames;
    }

    /// Hands the pending gap to the recorder; false while its ring is full.
    fn flush_gap(&mut self) -> bool {
        if self.pending_gap.frames == 0 {
            return true;
        }
        if self.gaps.push(self.pending_gap).is_ok() {
            self.pending_gap.frames = 0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // a test that indexes out of range fails, as it should
mod tests {
    use super::*;
    use crate::engine::{Command, Engine, EngineConfig, Score};

    /// An engine whose take covers output frames 100..400, and a 2-track tap on a
    /// 3-channel device with rings of `ring` frames.
    fn take(ring: usize) -> (CaptureTap, CaptureReader) {
        let (mut engine, handle) = Engine::new(Score::silence(), EngineConfig::default()).unwrap();
        engine.process(&mut [0.0; 200]);
        handle.send(Command::Record { frames: 300 }).unwrap();
        engine.process(&mut [0.0; 2]);
        let config = CaptureConfig {
            channels: vec![2, 0],
            device_channels: 3,
            ring_frames: ring,
        };
        CaptureTap::new(&config, &handle)
    }

    /// A block of `frames` frames whose channel c of frame f holds `1000 * c + f`.
    fn block(first: i64, frames: usize) -> Vec<f32> {
        (0..frames)
            .flat_map(|f| (0..3).map(move |c| (1000 * c) as f32 + (first + f as i64) as f32))
            .collect()
    }

    fn drain(ring: &mut rtrb::Consumer<f32>) -> Vec<f32> {
        std::iter::from_fn(|| ring.pop().ok()).collect()
    }

    #[test]
    fn only_the_takes_frames_reach_the_rings_in_track_order() {
        let (mut tap, mut reader) = take(1000);
        tap.capture(&block(-50, 100), -50);
        tap.capture(&block(50, 100), 50);
        assert!(!reader.status.finished.load(Ordering::Acquire));
        tap.capture(&block(150, 300), 150);
        assert!(reader.status.finished.load(Ordering::Acquire));
        let first = drain(&mut reader.tracks[0]);
        let second = drain(&mut reader.tracks[1]);
        assert_eq!(first.len(), 300);
        assert_eq!(
            first[0], 2100.0,
            "track 1 is device channel 3, from frame 100"
        );
        assert_eq!(first[299], 2399.0);
        assert_eq!(second[0], 100.0, "track 2 is device channel 1");
        assert!(reader.gaps.is_empty());
    }

    #[test]
    fn input_meters_show_each_tracks_level_before_and_during_the_take() {
        let (mut tap, reader) = take(1000);
        // Before the take starts (timeline frames -50..50): levels still show.
        let mut quiet = vec![0.0f32; 3 * 100];
        quiet[3 * 10 + 2] = 0.25; // track 1 is device channel 3
        quiet[3 * 20] = -0.5; // track 2 is device channel 1
        quiet[3 * 30 + 1] = 0.9; // channel 2 is not recorded
        tap.capture(&quiet, -50);
        assert_eq!(reader.status.inputs[0].take_peak(), 0.25);
        assert_eq!(reader.status.inputs[1].take_peak(), 0.5);
        assert_eq!(reader.status.inputs[0].take_peak(), 0.0, "read peaks reset");
        let mut loud = vec![0.0f32; 3 * 100];
        loud[3 * 5] = 1.0;
        tap.capture(&loud, 150);
        assert!(reader.status.inputs[1].take_clipped());
        assert!(!reader.status.inputs[0].take_clipped());
    }

    #[test]
    fn lost_and_overflowing_input_become_gaps_of_the_right_length() {
        let (mut tap, mut reader) = take(200);
        tap.capture(&block(100, 100), 100);
        // Timeline frames 200..250 never arrive; the next 100 fill the ring.
        tap.capture(&block(250, 100), 250);
        assert_eq!(tap.room_frames(), 0);
        // The recorder has fallen behind: the take's last 50 frames do not fit.
        tap.capture(&block(350, 60), 350);
        assert_eq!(reader.status.overflow_frames.load(Ordering::Relaxed), 50);
        assert!(reader.status.finished.load(Ordering::Acquire));
        let gaps: Vec<Gap> = std::iter::from_fn(|| reader.gaps.pop().ok()).collect();
        assert_eq!(
            gaps,
            vec![
                Gap {
                    at_frame: 100,
                    frames: 50
                },
                Gap {
                    at_frame: 250,
                    frames: 50
                },
            ],
            "the overflow (timeline 350..400) is cut at the take's end"
        );
        assert_eq!(reader.status.frames.load(Ordering::Relaxed), 300);
        assert_eq!(reader.status.dropped_frames.load(Ordering::Relaxed), 50);
    }
}
