//! Exact conversion between musical time (ticks) and timeline frames.
//!
//! Owns the tempo segments of a performance. Each segment keeps where it starts as an
//! exact fraction of a frame, so a note's frame is the exact time of its tick (every
//! earlier tempo counted in full) rounded once: a MIDI file's ticks and microseconds
//! per quarter give every note on its exact frame however many tempo changes come
//! before it. Only a map whose exact starts no longer fit 128 bits (many unrelated
//! typed tempi) rounds a start, to 1/65 536 of a frame. Must not allocate after
//! construction: the callback rebuilds it in place.

// Real-time code: no index may panic on the audio thread.
#![warn(clippy::indexing_slicing)]

use crate::music::Bpm;
use crate::music::TICKS_PER_QUARTER;

/// A segment start as an exact fraction of frames, `num / den`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ExactFrame {
    num: u128,
    den: u128,
}

/// The finest step a start is rounded to when its exact fraction would not fit.
const FALLBACK_DEN: u128 = 1 << 16;

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl ExactFrame {
    const ZERO: ExactFrame = ExactFrame { num: 0, den: 1 };

    fn reduced(num: u128, den: u128) -> ExactFrame {
        let divisor = gcd(num, den).max(1);
        ExactFrame {
            num: num / divisor,
            den: (den / divisor).max(1),
        }
    }

    /// The nearest whole frame, half up.
    fn rounded(self) -> u64 {
        let frames = self.num / self.den + u128::from(self.num % self.den * 2 >= self.den);
        u64::try_from(frames).unwrap_or(u64::MAX)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    start_tick: u64,
    /// Exact start, and the whole frame nearest it (for finding segments by frame).
    start: ExactFrame,
    start_frame: u64,
    bpm: Bpm,
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
            match self.segments.last() {
                Some(last) if last.bpm == bpm => continue,
                Some(last) if last.start_tick == tick => {
                    self.segments.pop();
                }
                _ => {}
            }
            let start = match self.segments.last() {
                Some(last) if tick > last.start_tick => self.exact_frame_in(last, tick),
                _ => ExactFrame::ZERO,
            };
            let start_tick = if self.segments.is_empty() { 0 } else { tick };
            self.segments.push(Segment {
                start_tick,
                start,
                start_frame: start.rounded(),
                bpm,
            });
        }
    }

    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// Frames per tick in `seg` as a fraction: rate · 60 · den / (num · ticks per quarter).
    fn frames_per_tick(&self, seg: &Segment) -> (u128, u128) {
        let (num, den) = seg.bpm.fraction();
        (
            u128::from(self.sample_rate_hz) * 60 * u128::from(den),
            u128::from(num) * u128::from(TICKS_PER_QUARTER),
        )
    }

    /// The exact frame of `tick` within `seg` (tick at or after its start).
    ///
    /// Real-time: integer arithmetic only.
    fn exact_frame_in(&self, seg: &Segment, tick: u64) -> ExactFrame {
        let offset = u128::from(tick.saturating_sub(seg.start_tick));
        let (per_num, per_den) = self.frames_per_tick(seg);
        // start + offset · per = (start.num · per_den + offset · per_num · start.den) / (start.den · per_den)
        let exact = seg.start.den.checked_mul(per_den).and_then(|den| {
            let num = seg
                .start
                .num
                .checked_mul(per_den)?
                .checked_add(offset.checked_mul(per_num)?.checked_mul(seg.start.den)?)?;
            Some(ExactFrame::reduced(num, den))
        });
        exact.unwrap_or_else(|| {
            // Too wide to keep exactly: to 1/65 536 of a frame (a double holds that
            // exactly for over 1 000 hours at 192 kHz).
            let frames = seg.start.num as f64 / seg.start.den as f64
                + offset as f64 * per_num as f64 / per_den as f64;
            let steps = (frames * FALLBACK_DEN as f64).round().max(0.0);
            ExactFrame::reduced(steps as u128, FALLBACK_DEN)
        })
    }

    /// Real-time: integer arithmetic only.
    fn segment_for_tick(&self, tick: u64) -> Option<&Segment> {
        let index = self
            .segments
            .partition_point(|s| s.start_tick <= tick)
            .saturating_sub(1);
        self.segments.get(index)
    }

    /// The timeline frame at which `tick` sounds: its exact time, rounded half up once.
    ///
    /// Real-time: no alloc, lock or I/O.
    pub fn frame_at_tick(&self, tick: u64) -> u64 {
        match self.segment_for_tick(tick) {
            Some(seg) => self.exact_frame_in(seg, tick).rounded(),
            // No tempo at all: 120 BPM, as MIDI assumes.
            None => {
                let frames = u128::from(tick) * u128::from(self.sample_rate_hz)
                    / 2
                    / u128::from(TICKS_PER_QUARTER);
                u64::try_from(frames).unwrap_or(u64::MAX)
            }
        }
    }

    /// The last tick that starts at or before `frame` (for display and relocating).
    ///
    /// Real-time: no alloc, lock or I/O.
    pub fn tick_at_frame(&self, frame: u64) -> u64 {
        let index = self
            .segments
            .partition_point(|s| s.start_frame <= frame)
            .saturating_sub(1);
        let Some(seg) = self.segments.get(index) else {
            return 0;
        };
        let (per_num, per_den) = self.frames_per_tick(seg);
        // ticks = (frame − start) / per, with start = num / den.
        let frame = u128::from(frame);
        let into = (frame * seg.start.den).saturating_sub(seg.start.num);
        let ticks = into
            .checked_mul(per_den)
            .and_then(|n| Some(n / per_num.checked_mul(seg.start.den)?))
            .unwrap_or_else(|| into / seg.start.den * per_den / per_num.max(1));
        seg.start_tick + u64::try_from(ticks).unwrap_or(u64::MAX - seg.start_tick)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // a test that indexes out of range fails, as it should
mod tests {
    use super::*;

    fn bpm(v: f64) -> Bpm {
        Bpm::new(v).unwrap()
    }

    const Q: u64 = TICKS_PER_QUARTER;

    #[test]
    fn frames_are_rounded_exact_positions() {
        // 173 BPM at 48 kHz: 16 647.398… frames per quarter, never a whole number.
        let map = TempoMap::new(48_000, &[(0, bpm(173.0))]);
        for beat in [0u64, 1, 2, 3, 7, 999, 10_000] {
            let exact = beat as f64 * 48_000.0 * 60.0 / 173.0;
            assert_eq!(
                map.frame_at_tick(beat * Q),
                exact.round() as u64,
                "beat {beat}"
            );
        }
    }

    #[test]
    fn tempo_changes_count_from_the_exact_time_of_the_change() {
        let map = TempoMap::new(48_000, &[(0, bpm(120.0)), (4 * Q, bpm(60.0))]);
        // 4 quarters at 120 = 96 000 frames, then each quarter at 60 is 48 000.
        assert_eq!(map.frame_at_tick(4 * Q), 96_000);
        assert_eq!(map.frame_at_tick(5 * Q), 144_000);
        assert_eq!(map.tick_at_frame(144_000), 5 * Q);
        assert_eq!(map.tick_at_frame(95_999), 4 * Q - 336);
        // A change part-way through a frame is not moved to a whole frame: a quarter
        // at 151 BPM is 19 072.848 frames, one at 105 is 27 428.571; together
        // 46 501.419, so 46 501, where a start rounded to 19 073 would give 46 502.
        let parts = TempoMap::new(48_000, &[(0, bpm(151.0)), (Q, bpm(105.0))]);
        assert_eq!(parts.frame_at_tick(2 * Q), 46_501);
        let half_up = TempoMap::new(48_000, &[(0, bpm(64.0)), (Q, bpm(120.0))]);
        // 45 000 frames, then 24 000: exact, and ties round up.
        assert_eq!(half_up.frame_at_tick(2 * Q), 69_000);
    }

    #[test]
    fn midi_tempo_changes_every_bar_stay_exact_for_ten_minutes() {
        // A tempo change on every bar for ten minutes, in microseconds a quarter that
        // are no whole number of milli-BPM, checked against the sum of each bar's
        // exact length (µs · rate / 1e6) rounded once.
        let rate = 44_100u32;
        let micros: Vec<u32> = (0..400).map(|i| 461_538 + 977 * (i % 13)).collect();
        let changes: Vec<(u64, Bpm)> = micros
            .iter()
            .enumerate()
            .map(|(bar, us)| {
                (
                    bar as u64 * 4 * Q,
                    Bpm::from_micros_per_quarter(*us).unwrap(),
                )
            })
            .collect();
        let map = TempoMap::new(rate, &changes);
        let mut exact_num: u128 = 0; // frames · 1 000 000
        for (bar, us) in micros.iter().enumerate() {
            for beat in 0..4u64 {
                let tick = bar as u64 * 4 * Q + beat * Q;
                let expected = (2 * exact_num + 1_000_000) / 2_000_000;
                assert_eq!(
                    map.frame_at_tick(tick),
                    expected as u64,
                    "bar {bar} beat {beat}"
                );
                exact_num += u128::from(*us) * u128::from(rate);
            }
        }
        assert!(
            exact_num / 1_000_000 > 10 * 60 * u128::from(rate),
            "ten minutes"
        );
    }

    #[test]
    fn repeated_tempi_do_not_start_segments_and_rebuild_keeps_capacity() {
        let mut map = TempoMap::new(44_100, &[(0, bpm(100.0)), (Q, bpm(100.0))]);
        assert_eq!(map.segments.len(), 1);
        let capacity = map.segments.capacity();
        map.rebuild([(0, bpm(90.0)), (Q, bpm(180.0))].into_iter());
        assert_eq!(map.segments.len(), 2);
        assert_eq!(map.segments.capacity(), capacity);
    }
}
