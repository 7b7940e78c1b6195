//! Maps captured frames onto the engine's timeline across two device streams.
//!
//! Owns the latency model. Input and output are separate streams (cpal has no
//! duplex), each stamped in device-clock frames. The output side publishes one number,
//! `engine output frame − device playback frame`; the input side adds it to a block's
//! capture frame and removes the calibrated round-trip correction, giving the engine
//! frame that was sounding when the block reached the microphone. Stamps jitter, so
//! each side trusts its own frame counting and re-anchors only on a real jump (an xrun).
//! The output side also publishes which frame is at the speaker at what wall-clock
//! moment, so MIDI (stamped on arrival by another thread, never by a callback) can be
//! put on the same timeline, and parts sent out over MIDI can be timed to the speaker.
//! Real-time: both halves run inside device callbacks and only touch atomics.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

/// When a block's first frame reaches the speakers, in device-clock frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutputStamp {
    pub playback_frame: i64,
    /// What the device reports between the callback and the speaker, in frames.
    pub reported_latency_frames: i64,
    /// When the callback ran, in seconds on the clock every stream of the host is
    /// stamped with (what other input devices are followed against). The callback's
    /// time, not the speaker's: a host whose clock wanders (JACK's, after an xrun) moves
    /// every stream's callback alike, while moments a latency apart do not move alike.
    pub time_secs: f64,
}

/// When a block's first frame left the microphone's converter, in device-clock frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputStamp {
    pub capture_frame: i64,
    /// What the device reports between the converter and the callback, in frames.
    pub reported_latency_frames: i64,
    /// When the callback ran, in seconds on the host's clock (see `OutputStamp`).
    pub time_secs: f64,
}

const UNSET: i64 = i64::MIN;

/// Output stamps the anchor keeps: 2.7 s of 256-frame blocks at 48 kHz, far more than
/// a follower polling every few milliseconds needs.
const OUTPUT_STAMP_SLOTS: usize = 512;

/// One output stamp, under a sequence number of its own (odd while written).
#[derive(Debug, Default)]
struct StampSlot {
    seq: AtomicU64,
    frame: AtomicU64,
    time: AtomicU64,
    latency: AtomicI64,
}

/// The one number both streams share, plus what the devices reported (for take.json).
#[derive(Debug)]
pub struct ClockAnchor {
    offset: AtomicI64,
    /// Frames in the last output block: the buffer size the device really granted.
    output_block_frames: AtomicI64,
    output_latency: AtomicI64,
    input_latency: AtomicI64,
    /// Where wall-clock nanoseconds are counted from.
    wall_base: Instant,
    /// Seqlock over the pair below: odd while the output callback writes it.
    wall_seq: AtomicU64,
    /// Nanoseconds after `wall_base` of the last output callback.
    wall_ns: AtomicU64,
    /// The engine frame at the speaker at that moment.
    wall_frame: AtomicI64,
    /// The output's latest block stamps, for the threads that follow other devices'
    /// clocks against it: every stamp, not only the newest, because a follower that
    /// sees one stamp in twenty cannot tell a host clock's bend from a device's drift.
    stamps: Box<[StampSlot]>,
    /// Stamps written so far.
    stamps_written: AtomicU64,
}

impl ClockAnchor {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            offset: AtomicI64::new(UNSET),
            output_block_frames: AtomicI64::new(0),
            output_latency: AtomicI64::new(0),
            input_latency: AtomicI64::new(0),
            wall_base: Instant::now(),
            wall_seq: AtomicU64::new(0),
            wall_ns: AtomicU64::new(0),
            wall_frame: AtomicI64::new(UNSET),
            stamps: (0..OUTPUT_STAMP_SLOTS)
                .map(|_| StampSlot::default())
                .collect(),
            stamps_written: AtomicU64::new(0),
        })
    }

    /// Output block stamps written since `next` (a count this returns; start at 0), in
    /// order, each as (engine frame written, host-clock seconds its callback ran,
    /// latency it reported to the speaker in frames). Stamps overwritten before they
    /// were read are skipped. Lock-free; not for callbacks.
    pub fn output_stamps_since(&self, next: u64, mut each: impl FnMut(u64, f64, i64)) -> u64 {
        let written = self.stamps_written.load(Ordering::Acquire);
        let slots = self.stamps.len() as u64;
        for n in next.max(written.saturating_sub(slots))..written {
            let Some(slot) = self.stamps.get((n % slots) as usize) else {
                continue;
            };
            let done = 2 * n + 2;
            if slot.seq.load(Ordering::Acquire) != done {
                continue;
            }
            let frame = slot.frame.load(Ordering::Relaxed);
            let time = f64::from_bits(slot.time.load(Ordering::Relaxed));
            let latency = slot.latency.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if slot.seq.load(Ordering::Relaxed) == done {
                each(frame, time, latency);
            }
        }
        written
    }

    /// The last published (moment, engine frame at the speaker), read consistently.
    fn speaker_anchor(&self) -> Option<(Instant, i64)> {
        loop {
            let before = self.wall_seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let ns = self.wall_ns.load(Ordering::Relaxed);
            let frame = self.wall_frame.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.wall_seq.load(Ordering::Relaxed) == before {
                if frame == UNSET {
                    return None;
                }
                return Some((self.wall_base + Duration::from_nanos(ns), frame));
            }
        }
    }

    /// The engine frame sounding at the speaker at `at` (extrapolated from the last
    /// output callback at `rate_hz`), once the output has started. Not for callbacks.
    pub fn speaker_frame_at(&self, at: Instant, rate_hz: u32) -> Option<i64> {
        let (anchor_at, frame) = self.speaker_anchor()?;
        let ns = if at >= anchor_at {
            at.duration_since(anchor_at).as_nanos() as i128
        } else {
            -(anchor_at.duration_since(at).as_nanos() as i128)
        };
        let frames = (ns * i128::from(rate_hz) + 500_000_000).div_euclid(1_000_000_000);
        Some(frame + frames as i64)
    }

    /// The moment engine frame `frame` reaches the speaker, once the output has started.
    /// Not for callbacks.
    pub fn speaker_instant_of(&self, frame: i64, rate_hz: u32) -> Option<Instant> {
        let (anchor_at, anchor_frame) = self.speaker_anchor()?;
        let rate = i128::from(rate_hz.max(1));
        let ns = i128::from(frame - anchor_frame) * 1_000_000_000 / rate;
        Some(if ns >= 0 {
            anchor_at + Duration::from_nanos(ns as u64)
        } else {
            anchor_at
                .checked_sub(Duration::from_nanos(ns.unsigned_abs() as u64))
                .unwrap_or(anchor_at)
        })
    }

    /// Frames per output callback as the device delivers them (0 before the first).
    pub fn block_frames(&self) -> u32 {
        u32::try_from(self.output_block_frames.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Output plus input latency as the devices reported them.
    pub fn reported_latency_frames(&self) -> i64 {
        self.output_latency.load(Ordering::Relaxed) + self.input_latency.load(Ordering::Relaxed)
    }
}

/// The output callback's half.
pub struct OutputClock {
    anchor: Arc<ClockAnchor>,
}

impl OutputClock {
    pub fn new(anchor: &Arc<ClockAnchor>) -> Self {
        Self {
            anchor: Arc::clone(anchor),
        }
    }

    /// Call once per output block with the engine frame the block starts at.
    ///
    /// The offset is published every block: the input side reads it only when it
    /// anchors (at its first block, and after a real jump), and the newest stamp is the
    /// one least drifted from the input's own clock reading.
    ///
    /// Real-time: atomics only.
    pub fn on_block(&mut self, engine_frame: u64, frames: usize, stamp: OutputStamp) {
        let offset = engine_frame as i64 - stamp.playback_frame;
        self.anchor.offset.store(offset, Ordering::Release);
        self.anchor
            .output_latency
            .store(stamp.reported_latency_frames, Ordering::Relaxed);
        self.anchor
            .output_block_frames
            .store(frames as i64, Ordering::Relaxed);
        // Instant::now reads the vDSO clock: no syscall, lock or allocation.
        let ns = Instant::now()
            .saturating_duration_since(self.anchor.wall_base)
            .as_nanos() as u64;
        let at_speaker = engine_frame as i64 - stamp.reported_latency_frames;
        let anchor = &self.anchor;
        anchor.wall_seq.fetch_add(1, Ordering::AcqRel);
        anchor.wall_ns.store(ns, Ordering::Relaxed);
        anchor.wall_frame.store(at_speaker, Ordering::Relaxed);
        anchor.wall_seq.fetch_add(1, Ordering::Release);
        let n = anchor.stamps_written.load(Ordering::Relaxed);
        if let Some(slot) = anchor.stamps.get((n % anchor.stamps.len() as u64) as usize) {
            // Odd while written: a reader that sees it, or sees it change, skips the slot.
            slot.seq.store(2 * n + 1, Ordering::Relaxed);
            fence(Ordering::Release);
            slot.frame.store(engine_frame, Ordering::Relaxed);
            slot.time
                .store(stamp.time_secs.to_bits(), Ordering::Relaxed);
            slot.latency
                .store(stamp.reported_latency_frames, Ordering::Relaxed);
            slot.seq.store(2 * n + 2, Ordering::Release);
        }
        anchor.stamps_written.store(n + 1, Ordering::Release);
    }
}

/// The input callback's half.
pub struct InputClock {
    anchor: Arc<ClockAnchor>,
    correction_frames: i64,
    expected: Option<i64>,
}

impl InputClock {
    /// `correction_frames` is the calibrated round trip beyond what the devices report.
    pub fn new(anchor: &Arc<ClockAnchor>, correction_frames: i64) -> Self {
        Self {
            anchor: Arc::clone(anchor),
            correction_frames,
            expected: None,
        }
    }

    /// The engine frame the block's first frame was played against, once the output
    /// has started.
    ///
    /// Real-time: atomics and arithmetic only.
    pub fn timeline_frame(&mut self, stamp: InputStamp, frames: usize) -> Option<i64> {
        let offset = self.anchor.offset.load(Ordering::Acquire);
        if offset == UNSET {
            return None;
        }
        self.anchor
            .input_latency
            .store(stamp.reported_latency_frames, Ordering::Relaxed);
        let stamped = stamp.capture_frame + offset - self.correction_frames;
        let frame = match self.expected {
            // Devices lose input in whole blocks (a missed cycle, a dropped period), while
            // stamps wobble by fractions of one: keep counting, moved by whole blocks only.
            Some(expected) if frames > 0 => {
                let block = frames as i64;
                let deviation = stamped - expected;
                expected + (deviation + block / 2).div_euclid(block) * block
            }
            _ => stamped,
        };
        self.expected = Some(frame + frames as i64);
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_ignored_and_jumps_are_followed() {
        let anchor = ClockAnchor::new();
        let mut output = OutputClock::new(&anchor);
        let mut input = InputClock::new(&anchor, 10);
        let out = |p| OutputStamp {
            playback_frame: p,
            reported_latency_frames: 64,
            time_secs: 0.0,
        };
        let inp = |c| InputStamp {
            capture_frame: c,
            reported_latency_frames: 64,
            time_secs: 0.0,
        };
        assert_eq!(input.timeline_frame(inp(0), 64), None, "no output yet");
        output.on_block(0, 64, out(1000));
        assert_eq!(input.timeline_frame(inp(1000), 64), Some(-10));
        // A stamp one frame off is jitter: counting wins.
        assert_eq!(input.timeline_frame(inp(1065), 64), Some(54));
        // So is a wobble of almost half a block.
        assert_eq!(input.timeline_frame(inp(1128 + 31), 64), Some(118));
        // Output jitter moves the published offset, but a counting input ignores it.
        output.on_block(64, 64, out(1063));
        assert_eq!(input.timeline_frame(inp(1192), 64), Some(182));
        output.on_block(128, 64, out(1128));
        // A whole lost block is a jump: the next block lands where it really was.
        assert_eq!(input.timeline_frame(inp(1320), 64), Some(310));
        assert_eq!(anchor.reported_latency_frames(), 128);
    }

    #[test]
    fn wall_clock_moments_map_to_the_frame_at_the_speaker_and_back() {
        let anchor = ClockAnchor::new();
        let rate = 48_000;
        assert_eq!(anchor.speaker_frame_at(Instant::now(), rate), None);
        let mut output = OutputClock::new(&anchor);
        let before = Instant::now();
        output.on_block(
            48_000,
            256,
            OutputStamp {
                playback_frame: 0,
                reported_latency_frames: 480,
                time_secs: 0.0,
            },
        );
        let after = Instant::now();
        // Somewhere between the two readings the speaker played frame 48000 - 480.
        let early = anchor.speaker_frame_at(before, rate).unwrap_or(i64::MIN);
        let late = anchor.speaker_frame_at(after, rate).unwrap_or(i64::MIN);
        assert!(early <= 47_520 && late >= 47_520, "{early}..{late}");
        let later = after + Duration::from_millis(100);
        let frame = anchor.speaker_frame_at(later, rate).unwrap_or(0);
        assert_eq!(frame - late, 4_800);
        let back = anchor.speaker_instant_of(frame, rate).unwrap_or(before);
        let error = back.max(later) - back.min(later);
        assert!(error < Duration::from_micros(30), "{error:?}");
    }
}
