//! Exact conversion between musical time (ticks) and timeline frames.
//!
//! Owns the tempo segments of a performance. Within a segment,
//! `frame(t) = start_frame + round((t - start_tick) · frames_per_tick)` computed in
//! integers from the segment start, so positions never drift however long a class
//! plays. A tempo change starts a new segment at the whole frame where the old tempo
//! placed it. Must not allocate after construction: the callback rebuilds it in place.

// Real-time code: no index may panic on the audio thread.
#![warn(clippy::indexing_slicing)]

use crate::music::Bpm;
use crate::music::TICKS_PER_QUARTER;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    start_tick: u64,
    start_frame: u64,
    milli_bpm: u32,
}

/// Tempo segments and the sample rate they are counted in.
#[derive(Clone, Debug)]
pub struct TempoMap {
    sample_rate_hz: u32,
    segments: Vec<Segment>,
}

impl TempoMap {
    /// Builds a map from `(tick, tempo)` changes; the first change must be at tick 0.
    /// Room is kept for `changes.len()` segments so later rebuilds never allocate.
    pub fn new(sample_rate_hz: u32, changes: &[(u64, Bpm)]) -> Self {
        let mut map = Self {
            sample_rate_hz,
            segments: Vec::with_capacity(changes.len().max(1)),
        };
        map.rebuild(changes.iter().copied());
        map
    }

    /// Replaces the segments in place.
    ///
    /// Real-time: no allocation as long as there are no more changes than at
    /// construction (the engine always passes the same number).
    pub fn rebuild(&mut self, changes: impl Iterator<Item = (u64, Bpm)>) {
        self.segments.clear();
        for (tick, bpm) in changes {
            if self.segments.len() == self.segments.capacity() {
                break;
            }
            let start_frame = if self.segments.is_empty() {
                0
            } else {
                self.frame_at_tick(tick)
            };
            match self.segments.last() {
                Some(last) if last.milli_bpm == bpm.milli() => continue,
                Some(last) if last.start_tick == tick => {
                    self.segments.pop();
                }
                _ => {}
            }
            let start_tick = if self.segments.is_empty() { 0 } else { tick };
            self.segments.push(Segment {
                start_tick,
                start_frame: if start_tick == 0 { 0 } else { start_frame },
                milli_bpm: bpm.milli(),
            });
        }
    }

    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// Real-time: integer arithmetic only.
    fn segment_for_tick(&self, tick: u64) -> Segment {
        let index = self
            .segments
            .partition_point(|s| s.start_tick <= tick)
            .saturating_sub(1);
        self.segments.get(index).copied().unwrap_or(Segment {
            start_tick: 0,
            start_frame: 0,
            milli_bpm: 120_000,
        })
    }

    /// The timeline frame at which `tick` sounds.
    ///
    /// Real-time: no alloc, lock or I/O.
    pub fn frame_at_tick(&self, tick: u64) -> u64 {
        let seg = self.segment_for_tick(tick);
        let offset = u128::from(tick - seg.start_tick);
        // frames = offset · sample_rate · 60 000 / (milli_bpm · ticks_per_quarter), rounded half up
        let num = offset * u128::from(self.sample_rate_hz) * 60_000;
        let den = u128::from(seg.milli_bpm) * u128::from(TICKS_PER_QUARTER);
        let frames = (2 * num + den) / (2 * den);
        seg.start_frame + u64::try_from(frames).unwrap_or(u64::MAX - seg.start_frame)
    }

    /// The last tick that starts at or before `frame` (for display and relocating).
    ///
    /// Real-time: no alloc, lock or I/O.
    pub fn tick_at_frame(&self, frame: u64) -> u64 {
        let index = self
            .segments
            .partition_point(|s| s.start_frame <= frame)
            .saturating_sub(1);
        let Some(seg) = self.segments.get(index).copied() else {
            return 0;
        };
        let offset = u128::from(frame - seg.start_frame);
        let num = offset * u128::from(seg.milli_bpm) * u128::from(TICKS_PER_QUARTER);
        let den = u128::from(self.sample_rate_hz) * 60_000;
        seg.start_tick + u64::try_from(num / den).unwrap_or(u64::MAX - seg.start_tick)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // a test that indexes out of range fails, as it should
mod tests {
    use super::*;

    fn bpm(v: f64) -> Bpm {
        Bpm::new(v).unwrap()
    }

    #[test]
    fn frames_are_rounded_exact_positions() {
        // 173 BPM at 48 kHz: 16 647.398… frames per quarter, never a whole number.
        let map = TempoMap::new(48_000, &[(0, bpm(173.0))]);
        for beat in [0u64, 1, 2, 3, 7, 999, 10_000] {
            let exact = beat as f64 * 48_000.0 * 60.0 / 173.0;
            assert_eq!(
                map.frame_at_tick(beat * 960),
                exact.round() as u64,
                "beat {beat}"
            );
        }
    }

    #[test]
    fn tempo_changes_start_at_whole_frames() {
        let map = TempoMap::new(48_000, &[(0, bpm(120.0)), (3840, bpm(60.0))]);
        // 4 quarters at 120 = 96 000 frames, then each quarter at 60 is 48 000.
        assert_eq!(map.frame_at_tick(3840), 96_000);
        assert_eq!(map.frame_at_tick(3840 + 960), 144_000);
        assert_eq!(map.tick_at_frame(144_000), 4800);
        assert_eq!(map.tick_at_frame(95_999), 3839);
    }

    #[test]
    fn repeated_tempi_do_not_start_segments_and_rebuild_keeps_capacity() {
        let mut map = TempoMap::new(44_100, &[(0, bpm(100.0)), (960, bpm(100.0))]);
        assert_eq!(map.segments.len(), 1);
        let capacity = map.segments.capacity();
        map.rebuild([(0, bpm(90.0)), (960, bpm(180.0))].into_iter());
        assert_eq!(map.segments.len(), 2);
        assert_eq!(map.segments.capacity(), capacity);
    }
}
