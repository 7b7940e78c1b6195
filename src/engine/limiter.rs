//! The live mix's guard against clipping: a peak limiter on the master, after the
//! mixer. Below its ceiling it multiplies by exactly 1.0, so a mix that does not clip
//! is left bit for bit as it was; a peak that would pass the ceiling is held at it
//! (instant attack), and the gain recovers over about a tenth of a second.
//!
//! Real-time: no allocation, lock or I/O; a fixed amount of state. Must not change
//! what is recorded (inputs never pass through it) or decide levels elsewhere.
#![warn(clippy::indexing_slicing)]

/// The highest sample the live mix may reach: −0.2 dBFS, so a converter never clips.
pub const CEILING: f32 = 0.977;

/// How long the gain takes to recover most of the way after a peak.
const RELEASE_SECS: f32 = 0.1;

#[derive(Clone, Copy, Debug)]
pub struct Limiter {
    /// How far below 1.0 the gain is (kept as the distance, not the gain, so the
    /// release never stalls a hair under 1.0 in single precision).
    reduction: f32,
    /// What is left of the reduction after each frame (a one-pole release).
    release: f32,
    /// Frames the limiter has held below 1.0 since the engine started.
    limited_frames: u64,
}

impl Limiter {
    pub fn new(sample_rate_hz: u32) -> Limiter {
        let frames = (RELEASE_SECS * sample_rate_hz.max(1) as f32).max(1.0);
        Limiter {
            reduction: 0.0,
            release: (-1.0 / frames).exp(),
            limited_frames: 0,
        }
    }

    /// Frames limited so far (how often the mix was too loud).
    pub fn limited_frames(&self) -> u64 {
        self.limited_frames
    }

    /// Real-time: limits interleaved `out` (`channels` wide) in place.
    pub fn process(&mut self, out: &mut [f32], channels: usize) {
        for frame in out.chunks_exact_mut(channels.max(1)) {
            let peak = frame.iter().fold(0.0f32, |p, x| p.max(x.abs()));
            // Recover towards 1.0, but never above what keeps this frame under the
            // ceiling. A NaN peak (never expected) counts as silence, not as a cut.
            let mut reduction = self.reduction * self.release;
            if reduction < 1e-5 {
                reduction = 0.0;
            }
            if peak * (1.0 - reduction) > CEILING {
                reduction = 1.0 - CEILING / peak;
            }
            self.reduction = reduction;
            if reduction > 0.0 {
                let gain = 1.0 - reduction;
                self.limited_frames += 1;
                for x in frame.iter_mut() {
                    *x *= gain;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // a test that indexes out of range fails, as it should
mod tests {
    use super::*;

    #[test]
    fn a_mix_under_the_ceiling_is_left_exactly_as_it_was() {
        let mut limiter = Limiter::new(48_000);
        let mix: Vec<f32> = (0..4800).map(|i| (i as f32 * 0.01).sin() * 0.9).collect();
        let mut out = mix.clone();
        limiter.process(&mut out, 2);
        assert_eq!(out, mix);
        assert_eq!(limiter.limited_frames(), 0);
    }

    #[test]
    fn a_mix_over_the_ceiling_never_passes_it_and_recovers() {
        let mut limiter = Limiter::new(48_000);
        // A second of a sine at twice full scale, then a quiet one.
        let mut loud: Vec<f32> = (0..96_000).map(|i| (i as f32 * 0.03).sin() * 2.0).collect();
        limiter.process(&mut loud, 2);
        assert!(loud.iter().all(|x| x.abs() <= CEILING + 1e-6));
        assert!(limiter.limited_frames() > 0);
        // Four seconds of a quiet one (stereo): from 1.5 s on the gain is exactly 1 again.
        let quiet: Vec<f32> = (0..384_000)
            .map(|i| (i as f32 * 0.03).sin() * 0.5)
            .collect();
        let mut after = quiet.clone();
        limiter.process(&mut after, 2);
        assert_eq!(&after[144_000..], &quiet[144_000..]);
        assert!(after[0].abs() < quiet[0].abs() || quiet[0] == 0.0);
    }
}
