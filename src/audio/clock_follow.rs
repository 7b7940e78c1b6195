//! Following a device's clock: a delay-locked loop over (frame count, time) stamps.
//!
//! Owns the estimate of where a stream's frame `n` falls in time and how long one of its
//! frames lasts, from block stamps that jitter (a callback's capture time is read by a
//! driver, a little late or early each time). The loop is the second-order one JACK's
//! `alsa_in` and zita-ajbridge use: each stamp's error against the prediction moves the
//! phase by `b·e` and the period by `c·e`, with `b = √2·ω`, `c = ω²`, `ω = 2π·B·Δt`. It
//! starts wide (it locks in about a second) and narrows, so jitter averages out over a
//! long take while a real drift is still followed.
//!
//! A stamp far from the prediction is held, not filtered: a lone late callback is
//! jitter and is dropped once the next stamps are back on the line; stamps that stay
//! off by the same amount are a step (a missed cycle, a stall, a server that reset its
//! clock after an xrun), and the phase moves to them at once with the period kept and
//! the step counted. Smoothing a step into the loop instead would read as hundreds of
//! ppm of false drift for the tens of seconds the narrow loop takes to absorb it.
//! Must not run in an audio callback: it is fed by the thread that resamples.

/// Hertz the loop starts at, and where it settles after `NARROW_AFTER_SECS`.
const WIDE_BANDWIDTH_HZ: f64 = 1.0;
const NARROW_BANDWIDTH_HZ: f64 = 0.05;
const NARROW_AFTER_SECS: f64 = 10.0;
/// The first period estimate waits for this much of the stream, so it starts close.
const FIRST_ESTIMATE_SECS: f64 = 0.25;
/// A stamp at least this far from its prediction is suspect (a step or an outlier)...
const STEP_MIN_SECS: f64 = 0.001;
/// ...and so is one beyond this many times the stamps' typical error.
const STEP_JITTERS: f64 = 6.0;
/// Stamps after a suspect one that must agree with it before the phase steps.
const STEP_CONFIRM: usize = 2;
/// The error a stamp may move the loop by: this many times the typical error, and at
/// least `CLIP_MIN_SECS`.
const CLIP_JITTERS: f64 = 3.0;
const CLIP_MIN_SECS: f64 = 0.000_05;
/// Suspect stamps that agree neither with the line nor with each other, before the
/// estimate starts again from scratch.
const STEP_GIVE_UP: usize = 8;
/// How quickly the typical error follows the stamps (per stamp), and what it is taken
/// to be before there are any (so an early, rough period is not read as steps).
const JITTER_WEIGHT: f64 = 0.02;
const FIRST_TYPICAL_ERROR_SECS: f64 = 0.0005;
/// Periods further than this from nominal are not a crystal's error but a wrong rate.
pub const MAX_DRIFT_PPM: f64 = 2_000.0;

/// A running least-squares fit through (frame, time) stamps, for the rate over a whole
/// take: the loop's period answers "now" and wanders with jitter, the slope fitted over
/// thousands of stamps is what a take's drift was. Each stretch between steps has a line
/// of its own with one slope shared by all, so no step's size (itself measured from
/// jittery stamps) bends it. Welford's updates keep it exact over hours of frames, where
/// plain sums of squares would cancel.
#[derive(Clone, Debug, Default)]
struct RateFit {
    /// The stretch since the last step.
    count: f64,
    first_frame: u64,
    mean_frames: f64,
    mean_secs: f64,
    /// Sums of squared frame deviations and of frame-time co-deviations.
    frames_m2: f64,
    co_m2: f64,
    /// The same sums and stamp count over the stretches before it.
    earlier_frames_m2: f64,
    earlier_co_m2: f64,
    earlier_count: f64,
}

impl RateFit {
    fn add(&mut self, frame: u64, time_secs: f64) {
        if self.count == 0.0 {
            self.first_frame = frame;
        }
        let x = frame.saturating_sub(self.first_frame) as f64;
        self.count += 1.0;
        let dx = x - self.mean_frames;
        self.mean_frames += dx / self.count;
        self.mean_secs += (time_secs - self.mean_secs) / self.count;
        self.frames_m2 += dx * (x - self.mean_frames);
        self.co_m2 += dx * (time_secs - self.mean_secs);
    }

    /// A step: the stamps after it start a line of their own (same slope, new offset).
    fn step(&mut self) {
        *self = Self {
            earlier_frames_m2: self.earlier_frames_m2 + self.frames_m2,
            earlier_co_m2: self.earlier_co_m2 + self.co_m2,
            earlier_count: self.earlier_count + self.count,
            ..Self::default()
        };
    }

    /// Seconds per frame, once the stamps are as spread as one stretch of `min_frames`.
    fn period(&self, min_frames: f64) -> Option<f64> {
        let count = self.count + self.earlier_count;
        let frames_m2 = self.frames_m2 + self.earlier_frames_m2;
        let co_m2 = self.co_m2 + self.earlier_co_m2;
        // Evenly spread stamps over S frames have a mean squared deviation of S²/12.
        let spread_enough = frames_m2 * 12.0 >= count * min_frames * min_frames;
        (count >= 3.0 && spread_enough && co_m2 > 0.0).then(|| co_m2 / frames_m2)
    }
}

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
    /// Mean size of a stamp's error against the prediction, seconds.
    typical_error_secs: f64,
    /// Suspect stamps since the last one on the line: frame and error against the line.
    suspect: Vec<(u64, f64)>,
    /// Suspect stamps in a row, agreeing or not.
    suspect_run: usize,
    /// The fit through every stamp on the line since the last restart.
    fit: RateFit,
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
            typical_error_secs: FIRST_TYPICAL_ERROR_SECS,
            suspect: Vec::with_capacity(STEP_GIVE_UP + 1),
            suspect_run: 0,
            fit: RateFit::default(),
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
        let suspect_beyond = STEP_MIN_SECS.max(STEP_JITTERS * self.typical_error_secs);
        if error.abs() > suspect_beyond {
            self.hold_suspect(frame, error, suspect_beyond);
            return;
        }
        // Back on the line: whatever was held was a lone outlier.
        self.suspect.clear();
        self.suspect_run = 0;
        self.largest_error_secs = self.largest_error_secs.max(error.abs());
        self.typical_error_secs += JITTER_WEIGHT * (error.abs() - self.typical_error_secs);
        let dt = frames as f64 * self.period;
        let bandwidth = if self.followed_secs < NARROW_AFTER_SECS {
            WIDE_BANDWIDTH_HZ
        } else {
            NARROW_BANDWIDTH_HZ
        };
        let omega = (2.0 * std::f64::consts::PI * bandwidth * dt).min(0.5);
        let b = std::f64::consts::SQRT_2 * omega;
        let c = omega * omega;
        // A stamp well beyond the usual error (but not far enough to be suspect) moves the
        // loop no more than a usual one would: one bad stamp in the wide loop's time can
        // set the period off by hundreds of ppm, which the narrow loop then keeps.
        let clip = CLIP_MIN_SECS.max(CLIP_JITTERS * self.typical_error_secs);
        let fed = error.clamp(-clip, clip);
        self.anchor = Some((frame, predicted + b * fed));
        self.period += c * fed / frames as f64;
        if error.abs() <= clip {
            // The fit takes only stamps as good as usual: a few far ones at a take's
            // ends would tilt its line.
            self.fit.add(frame, time_secs);
        }
        self.followed_secs += dt;
    }

    /// Holds a stamp that is far from the line. Once `STEP_CONFIRM` more agree with it
    /// (their errors within `agree` of its own), the phase steps to them, period kept;
    /// stamps that agree with nothing for long restart the estimate.
    fn hold_suspect(&mut self, frame: u64, error: f64, agree: f64) {
        self.suspect_run += 1;
        if self.suspect_run >= STEP_GIVE_UP {
            let time = self.time_of(frame as f64).unwrap_or(0.0) + error;
            self.restart(frame, time);
            return;
        }
        if let Some(&(_, first)) = self.suspect.first()
            && (error - first).abs() > agree
        {
            // Off the line and off the held step too: keep only what agrees with this one.
            self.suspect.retain(|&(_, e)| (e - error).abs() <= agree);
        }
        self.suspect.push((frame, error));
        if self.suspect.len() > STEP_CONFIRM {
            let step =
                self.suspect.iter().map(|&(_, e)| e).sum::<f64>() / self.suspect.len() as f64;
            if let (Some((n0, t0)), Some(&(last, _))) = (self.anchor, self.suspect.last()) {
                let on_old_line = t0 + (last - n0) as f64 * self.period;
                self.anchor = Some((last, on_old_line + step));
            }
            self.jumps += 1;
            self.suspect.clear();
            self.suspect_run = 0;
            self.fit.step();
        }
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
                // Not the first stamp: a stream's first blocks are often off its line.
                self.fit = RateFit::default();
                self.fit.add(frame, time_secs);
            }
            Some(_) => self.first = Some((frame, time_secs)),
        }
    }

    fn restart(&mut self, frame: u64, time_secs: f64) {
        self.jumps += 1;
        self.suspect.clear();
        self.suspect_run = 0;
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

    /// How far the rate over everything followed since the last (re)start is from
    /// nominal, in ppm (a line fitted through every stamp, a step's offset left out);
    /// the loop's estimate until a second is followed.
    pub fn mean_drift_ppm(&self) -> f64 {
        let second = 1.0 / self.nominal_period;
        self.fit.period(second).map_or_else(
            || self.drift_ppm(),
            |period| (self.nominal_period / period - 1.0) * 1e6,
        )
    }

    /// Whether the latest stamps are held as a possible step: what the follower says now
    /// may move by that step once they are confirmed.
    pub fn is_settling(&self) -> bool {
        !self.suspect.is_empty()
    }

    /// Times the phase stepped or the estimate started again (a stall, a missed cycle).
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

    /// Stamps of a 48 kHz stream `ppm` fast for `secs`, with the blocks in `lost` never
    /// delivered (their frames not counted, their time passing) and the stamp of block
    /// `late` (if any) read `late_by` seconds late.
    fn follow_with(
        ppm: f64,
        secs: f64,
        lost: std::ops::Range<u64>,
        late: Option<u64>,
        late_by: f64,
    ) -> ClockFollower {
        let mut follower = ClockFollower::new(48_000);
        let rate = 48_000.0 * (1.0 + ppm * 1e-6);
        let blocks = (secs * 48_000.0 / 256.0) as u64;
        let mut counted = 0u64;
        for block in 0..blocks {
            if lost.contains(&block) {
                continue;
            }
            let time = 3.0 + (block * 256) as f64 / rate;
            let read = if late == Some(block) {
                time + late_by
            } else {
                time
            };
            follower.stamp(counted, read);
            counted += 256;
        }
        follower
    }

    #[test]
    fn a_missed_block_steps_the_phase_and_leaves_the_drift_alone() {
        // One block of a 60-second take never arrives, in the narrow loop's time: smoothed
        // into the loop it read as hundreds of ppm for tens of seconds.
        let follower = follow_with(120.0, 60.0, 4000..4001, None, 0.0);
        assert!(
            (follower.drift_ppm() - 120.0).abs() < 0.5,
            "{}",
            follower.drift_ppm()
        );
        assert_eq!(follower.jumps(), 1, "the step is counted");
        assert!(follower.is_locked());
        // And the phase is on the new line at once.
        let follower = follow_with(120.0, 30.0, 4000..4001, None, 0.0);
        let last_block = (30.0 * 48_000.0 / 256.0) as u64 - 1;
        let frame = (last_block - 1) * 256;
        let exact = 3.0 + (last_block * 256) as f64 / (48_000.0 * 1.00012);
        let said = follower.time_of(frame as f64).unwrap_or(0.0);
        assert!((said - exact).abs() < 2e-6, "{said} vs {exact}");
    }

    #[test]
    fn the_mean_drift_over_a_take_is_closer_than_the_loops_of_the_moment() {
        // Twelve seconds of a busy PC's jitter: the loop is still wide and wanders; the
        // line through every stamp is within a couple of ppm.
        let follower = follow(250.0, 0.0005, 12.0);
        assert!(
            (follower.mean_drift_ppm() - 250.0).abs() < 2.0,
            "{}",
            follower.mean_drift_ppm()
        );
        // Steps and a lone late stamp do not bend it.
        let follower = follow_with(-150.0, 12.0, 500..510, Some(1500), 0.004);
        assert!(
            (follower.mean_drift_ppm() + 150.0).abs() < 0.1,
            "{}",
            follower.mean_drift_ppm()
        );
    }

    #[test]
    fn a_stamp_off_by_less_than_a_step_barely_moves_the_loop() {
        // Exact stamps, then one 0.8 ms off (a server's clock that stalled and came back)
        // just before the loop narrows: unclipped, it left the period 7.7 ppm off five
        // seconds later (the narrow loop is slow to undo it); clipped, 0.5 ppm.
        let follower = follow_with(0.0, 15.0, 0..0, Some(1850), 0.0008);
        assert!(
            follower.drift_ppm().abs() < 2.0,
            "{} ppm after one bad stamp",
            follower.drift_ppm()
        );
        assert_eq!(follower.jumps(), 0);
    }

    #[test]
    fn a_lone_late_stamp_is_jitter_not_a_step() {
        let follower = follow_with(-80.0, 30.0, 0..0, Some(3000), 0.008);
        assert_eq!(follower.jumps(), 0);
        assert!(
            (follower.drift_ppm() + 80.0).abs() < 0.5,
            "{}",
            follower.drift_ppm()
        );
        assert!(!follower.is_settling());
    }

    #[test]
    fn a_stall_steps_the_phase_and_is_counted() {
        // A second passes with no input, then the stream goes on.
        let follower = follow_with(100.0, 20.0, 1000..1188, None, 0.0);
        assert_eq!(follower.jumps(), 1);
        assert!(follower.is_locked());
        assert!(
            (follower.drift_ppm() - 100.0).abs() < 0.5,
            "{}",
            follower.drift_ppm()
        );
    }

    #[test]
    fn stamps_that_agree_with_nothing_start_the_estimate_again() {
        let mut follower = follow(0.0, 0.0, 2.0);
        for k in 0..super::STEP_GIVE_UP as u64 {
            let frame = 96_000 + k * 256;
            let wild = if k % 2 == 0 { 0.05 } else { -0.03 } * (k + 1) as f64;
            follower.stamp(frame, 3.0 + frame as f64 / 48_000.0 + wild);
        }
        assert!(!follower.is_locked(), "restarted");
        assert_eq!(follower.jumps(), 1);
    }
}
