//! Following a device's clock: a delay-locked loop over (frame count, time) stamps.
//!
//! Owns the estimate of where a stream's frame `n` falls in time and how long one of its
//! frames lasts, from block stamps that jitter (a callback's capture time is read by a
//! driver, a little late or early each time). The loop is the second-order one JACK's
//! `alsa_in` and zita-ajbridge use: each stamp's error against the prediction moves the
//! phase by `b·e` and the period by `c·e`, with `b = √2·ω`, `c = ω²`, `ω = 2π·B·Δt`. It
//! starts wide (it locks in about a second) and narrows, so jitter averages out over a
//! long take while a real drift is still followed. A stamp far from the prediction (a
//! stalled device, a lost stretch of input) restarts it and is counted, never smoothed
//! over. Must not run in an audio callback: it is fed by the thread that resamples.

/// Hertz the loop starts at, and where it settles after `NARROW_AFTER_SECS`.
const WIDE_BANDWIDTH_HZ: f64 = 1.0;
const NARROW_BANDWIDTH_HZ: f64 = 0.05;
const NARROW_AFTER_SECS: f64 = 10.0;
/// The first period estimate waits for this much of the stream, so it starts close.
const FIRST_ESTIMATE_SECS: f64 = 0.25;
/// A stamp this far from its prediction is a jump, not jitter.
const JUMP_SECS: f64 = 0.02;
/// Periods further than this from nominal are not a crystal's error but a wrong rate.
pub const MAX_DRIFT_PPM: f64 = 2_000.0;

/// Where a stream is in time.
#[derive(Clone, Debug)]
pub struct ClockFollower {
    nominal_period: f64,
    /// The first stamp, held until the second one is far enough away to measure.
    first: Option<(u64, f64)>,
    /// Frame count and filtered time of the last stamp.
    anchor: Option<(u64, f64)>,
    /// Seconds per frame.
    period: f64,
    /// Seconds followed since the last (re)start.
    followed_secs: f64,
    jumps: u32,
    largest_error_secs: f64,
}

impl ClockFollower {
    /// A follower for a stream that should run at `nominal_rate_hz`.
    pub fn new(nominal_rate_hz: u32) -> Self {
        let nominal_period = 1.0 / f64::from(nominal_rate_hz.max(1));
        Self {
            nominal_period,
            first: None,
            anchor: None,
            period: nominal_period,
            followed_secs: 0.0,
            jumps: 0,
            largest_error_secs: 0.0,
        }
    }

    /// Takes one block's stamp: its first frame's count and the time it was captured
    /// (or played), in seconds on the clock every stream of the take is stamped with.
    pub fn stamp(&mut self, frame: u64, time_secs: f64) {
        let Some((n0, t0)) = self.anchor else {
            self.start(frame, time_secs);
            return;
        };
        let Some(frames) = frame.checked_sub(n0).filter(|&f| f > 0) else {
            if frame < n0 {
                self.restart(frame, time_secs);
            }
            return;
        };
        let predicted = t0 + frames as f64 * self.period;
        let error = time_secs - predicted;
        if error.abs() > JUMP_SECS {
            self.restart(frame, time_secs);
            return;
        }
        self.largest_error_secs = self.largest_error_secs.max(error.abs());
        let dt = frames as f64 * self.period;
        let bandwidth = if self.followed_secs < NARROW_AFTER_SECS {
            WIDE_BANDWIDTH_HZ
        } else {
            NARROW_BANDWIDTH_HZ
        };
        let omega = (2.0 * std::f64::consts::PI * bandwidth * dt).min(0.5);
        let b = std::f64::consts::SQRT_2 * omega;
        let c = omega * omega;
        self.anchor = Some((frame, predicted + b * error));
        self.period += c * error / frames as f64;
        self.followed_secs += dt;
    }

    fn start(&mut self, frame: u64, time_secs: f64) {
        match self.first {
            None => self.first = Some((frame, time_secs)),
            Some((n0, t0)) if frame > n0 => {
                let span = time_secs - t0;
                let frames = (frame - n0) as f64;
                if span < FIRST_ESTIMATE_SECS {
                    return;
                }
                let period = span / frames;
                let ppm = (period / self.nominal_period - 1.0) * 1e6;
                self.period = if ppm.abs() <= MAX_DRIFT_PPM {
                    period
                } else {
                    self.nominal_period
                };
                self.anchor = Some((frame, time_secs));
                self.followed_secs = span;
            }
            Some(_) => self.first = Some((frame, time_secs)),
        }
    }

    fn restart(&mut self, frame: u64, time_secs: f64) {
        self.jumps += 1;
        self.first = Some((frame, time_secs));
        self.anchor = None;
        // The period is kept: a stall does not change the crystal.
        self.followed_secs = 0.0;
    }

    /// Whether the follower has an estimate (after about a quarter of a second).
    pub fn is_locked(&self) -> bool {
        self.anchor.is_some()
    }

    /// The time of frame `frame` (extrapolated from the last stamp).
    pub fn time_of(&self, frame: f64) -> Option<f64> {
        let (n0, t0) = self.anchor?;
        Some(t0 + (frame - n0 as f64) * self.period)
    }

    /// The (fractional) frame at time `time_secs`.
    pub fn frame_at(&self, time_secs: f64) -> Option<f64> {
        let (n0, t0) = self.anchor?;
        Some(n0 as f64 + (time_secs - t0) / self.period)
    }

    /// Frames per second as measured.
    pub fn rate_hz(&self) -> f64 {
        1.0 / self.period
    }

    /// How far the measured rate is from nominal, in parts per million (positive: fast).
    pub fn drift_ppm(&self) -> f64 {
        (self.nominal_period / self.period - 1.0) * 1e6
    }

    /// Times the estimate had to start again (a stall, a jump in the stamps).
    pub fn jumps(&self) -> u32 {
        self.jumps
    }

    /// The largest error of a stamp against its prediction since the start, in seconds.
    pub fn largest_error_secs(&self) -> f64 {
        self.largest_error_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stamps of a 48 kHz stream `ppm` fast, in blocks of 256, with `jitter` seconds of
    /// deterministic wobble on each stamp.
    fn follow(ppm: f64, jitter: f64, secs: f64) -> ClockFollower {
        let mut follower = ClockFollower::new(48_000);
        let rate = 48_000.0 * (1.0 + ppm * 1e-6);
        let blocks = (secs * 48_000.0 / 256.0) as u64;
        let mut noise: u32 = 12_345;
        for block in 0..blocks {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let wobble = (f64::from(noise >> 8) / f64::from(1u32 << 24) - 0.5) * 2.0 * jitter;
            let frame = block * 256;
            follower.stamp(frame, 3.0 + frame as f64 / rate + wobble);
        }
        follower
    }

    #[test]
    fn exact_stamps_give_the_drift_at_once() {
        let follower = follow(300.0, 0.0, 2.0);
        assert!(follower.is_locked());
        assert!(
            (follower.drift_ppm() - 300.0).abs() < 0.01,
            "{}",
            follower.drift_ppm()
        );
        let t = follower.time_of(96_000.0).unwrap_or(0.0);
        let exact = 3.0 + 96_000.0 / (48_000.0 * 1.0003);
        assert!((t - exact).abs() < 1e-7, "{t} vs {exact}");
        let back = follower.frame_at(exact).unwrap_or(0.0);
        assert!((back - 96_000.0).abs() < 0.01);
    }

    #[test]
    fn jittery_stamps_average_out_to_a_few_ppm() {
        // Half a millisecond of wobble either way is a driver on a busy PC.
        let follower = follow(-250.0, 0.0005, 120.0);
        assert!(
            (follower.drift_ppm() + 250.0).abs() < 5.0,
            "{}",
            follower.drift_ppm()
        );
        assert_eq!(follower.jumps(), 0);
    }

    #[test]
    fn a_stall_restarts_the_estimate_and_is_counted() {
        let mut follower = follow(100.0, 0.0, 2.0);
        // A second passes with no input: the next stamp is a second late for its count.
        follower.stamp(96_256, 3.0 + 3.0);
        assert_eq!(follower.jumps(), 1);
        assert!(!follower.is_locked());
    }
}
