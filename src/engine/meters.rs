//! Peak and RMS meters the UI reads from another thread without locks.
//!
//! Owns the shared meter slots (atomics) and the callback-side accumulator that fills
//! them. Peaks are "highest since the reader last looked" (an atomic max on the float's
//! bits, valid because meter values are never negative); RMS is published once per
//! 20 ms window, so a UI polling at 30–60 Hz always sees fresh values.
//! Must not allocate or lock on the callback side.

// Real-time code: no index may panic on the audio thread.
#![warn(clippy::indexing_slicing)]

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// One meter: a lane after its fader, or an output channel.
#[derive(Debug, Default)]
pub struct MeterSlot {
    peak_bits: AtomicU32,
    rms_bits: AtomicU32,
    clipped: AtomicBool,
}

impl MeterSlot {
    /// The highest absolute sample since the last call, then resets it.
    pub fn take_peak(&self) -> f32 {
        f32::from_bits(self.peak_bits.swap(0, Ordering::Relaxed))
    }

    /// RMS over the last complete 20 ms window.
    pub fn rms(&self) -> f32 {
        f32::from_bits(self.rms_bits.load(Ordering::Relaxed))
    }

    /// Whether any sample reached full scale since the last call.
    pub fn take_clipped(&self) -> bool {
        self.clipped.swap(false, Ordering::Relaxed)
    }

    /// Real-time: one atomic operation.
    pub(crate) fn offer_peak(&self, peak: f32) {
        if peak > 0.0 {
            self.peak_bits.fetch_max(peak.to_bits(), Ordering::Relaxed);
        }
        if peak >= 1.0 {
            self.clipped.store(true, Ordering::Relaxed);
        }
    }
}

/// All meters of one engine: one per lane, then one per output channel.
#[derive(Debug)]
pub struct Meters {
    slots: Box<[MeterSlot]>,
    lanes: usize,
}

impl Meters {
    pub fn new(lanes: usize, channels: usize) -> Self {
        Self {
            slots: (0..lanes + channels)
                .map(|_| MeterSlot::default())
                .collect(),
            lanes,
        }
    }

    pub fn lane(&self, lane: usize) -> Option<&MeterSlot> {
        self.slots.get(..self.lanes)?.get(lane)
    }

    pub fn output(&self, channel: usize) -> Option<&MeterSlot> {
        self.slots.get(self.lanes..)?.get(channel)
    }

    fn slot(&self, index: usize) -> Option<&MeterSlot> {
        self.slots.get(index)
    }
}

/// The callback's running sums for each meter slot.
pub struct MeterAccumulator {
    sum_squares: Vec<f64>,
    counted: Vec<u32>,
    window_frames: u32,
}

impl MeterAccumulator {
    pub fn new(slots: usize, sample_rate_hz: u32) -> Self {
        Self {
            sum_squares: vec![0.0; slots],
            counted: vec![0; slots],
            window_frames: (sample_rate_hz / 50).max(1),
        }
    }

    /// Feeds samples `stride` apart from `samples` into slot `index`.
    ///
    /// Real-time: no alloc, lock or I/O.
    pub fn feed(&mut self, meters: &Meters, index: usize, samples: &[f32], gain: f32, step: usize) {
        let (Some(sum), Some(count), Some(slot)) = (
            self.sum_squares.get_mut(index),
            self.counted.get_mut(index),
            meters.slot(index),
        ) else {
            return;
        };
        let mut peak = 0.0f32;
        for x in samples.iter().step_by(step.max(1)) {
            let v = x * gain;
            peak = peak.max(v.abs());
            *sum += f64::from(v * v);
            *count += 1;
            if *count == self.window_frames {
                let rms = (*sum / f64::from(*count)).sqrt() as f32;
                slot.rms_bits.store(rms.to_bits(), Ordering::Relaxed);
                *sum = 0.0;
                *count = 0;
            }
        }
        slot.offer_peak(peak);
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // a test that indexes out of range fails, as it should
mod tests {
    use super::*;

    #[test]
    fn peaks_are_held_until_read_and_rms_is_windowed() {
        let meters = Meters::new(1, 2);
        let mut acc = MeterAccumulator::new(3, 48_000);
        let block = [0.5f32, -0.5, 0.5, -0.5];
        for _ in 0..240 {
            acc.feed(&meters, 0, &block, 1.0, 1);
        }
        let lane = meters.lane(0).unwrap();
        assert!((lane.rms() - 0.5).abs() < 1e-6);
        assert_eq!(lane.take_peak(), 0.5);
        assert_eq!(lane.take_peak(), 0.0, "peak resets once read");
        // Interleaved stereo: channel 1 sees every other sample.
        acc.feed(&meters, 2, &[0.1, 1.5, 0.1, 1.5][1..], 1.0, 2);
        let right = meters.output(1).unwrap();
        assert_eq!(right.take_peak(), 1.5);
        assert!(right.take_clipped());
        assert!(!meters.output(0).unwrap().take_clipped());
    }
}
