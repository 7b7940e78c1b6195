//! Per-lane gain, pan, mute and solo, the master gain, and routing of the click.
//!
//! Owns the mixer strips and the sum of lane buffers into interleaved output (and,
//! when asked, one interleaved stem per lane, so the mix is exactly the sum of its
//! stems). Gains are recomputed only when a control changes, never per sample.
//! Must not allocate after construction: it runs in the audio callback.

// Real-time code: no index may panic on the audio thread.
#![warn(clippy::indexing_slicing)]

/// Where the metronome is heard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClickRoute {
    /// In the main mix, centred.
    Mix,
    /// Only on this output channel (for example the teacher's headphones), not in the mix.
    Channel(usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Strip {
    pub gain: f32,
    pub pan: f32,
    pub muted: bool,
    pub soloed: bool,
}

pub struct Mixer {
    channels: usize,
    strips: Vec<Strip>,
    click_lane: usize,
    click_route: ClickRoute,
    master_gain: f32,
    /// lanes × channels effective gains, kept current by `recompute`.
    gains: Vec<f32>,
}

impl Mixer {
    pub fn new(
        strips: Vec<Strip>,
        click_lane: usize,
        channels: usize,
        click_route: ClickRoute,
    ) -> Self {
        let mut mixer = Self {
            channels,
            gains: vec![0.0; strips.len() * channels],
            strips,
            click_lane,
            click_route,
            master_gain: 1.0,
        };
        mixer.recompute();
        mixer
    }

    /// Changes one strip with `change` and refreshes the gains.
    ///
    /// Real-time: no alloc, lock or I/O.
    pub fn update(&mut self, lane: usize, change: impl FnOnce(&mut Strip)) {
        if let Some(strip) = self.strips.get_mut(lane) {
            change(strip);
            self.recompute();
        }
    }

    /// Real-time: no alloc, lock or I/O.
    pub fn set_master_gain(&mut self, gain: f32) {
        self.master_gain = sanitize_gain(gain);
        self.recompute();
    }

    /// The gain a lane's signal is metered at: its fader, mute and solo, before pan.
    pub fn post_fader_gain(&self, lane: usize) -> f32 {
        let any_solo = self
            .strips
            .iter()
            .enumerate()
            .any(|(i, s)| s.soloed && i != self.click_lane);
        match self.strips.get(lane) {
            Some(s) if s.muted => 0.0,
            // Solo silences the other parts; the metronome keeps the class together.
            Some(s) if any_solo && !s.soloed && lane != self.click_lane => 0.0,
            Some(s) => s.gain,
            None => 0.0,
        }
    }

    /// Real-time: the per-lane, per-channel gains after a fader or pan moved; in place.
    fn recompute(&mut self) {
        let ch = self.channels;
        for lane in 0..self.strips.len() {
            let gain = self.post_fader_gain(lane);
            let pan = self
                .strips
                .get(lane)
                .map_or(0.0, |s| s.pan.clamp(-1.0, 1.0));
            let Some(row) = self.gains.get_mut(lane * ch..(lane + 1) * ch) else {
                continue;
            };
            row.fill(0.0);
            if lane == self.click_lane
                && let ClickRoute::Channel(c) = self.click_route
            {
                // The click's own channel bypasses the master so the teacher's
                // cue level does not move with the room's volume.
                if let Some(g) = row.get_mut(c) {
                    *g = gain;
                }
                continue;
            }
            let gain = gain * self.master_gain;
            match row {
                [mono] => *mono = gain,
                [left, right, ..] => {
                    // Constant-power pan: centre is -3 dB on each side.
                    let angle = (pan + 1.0) * std::f32::consts::FRAC_PI_4;
                    *left = gain * angle.cos();
                    *right = gain * angle.sin();
                }
                [] => {}
            }
        }
    }

    /// Adds `frames` of each lane (mono, `stride` apart in `lanes`) into interleaved
    /// `out`. With `stems`, also writes each lane's contribution to its own
    /// interleaved buffer (`stem_stride` samples apart).
    ///
    /// Real-time: no alloc, lock or I/O.
    pub fn mix(
        &self,
        lanes: &[f32],
        stride: usize,
        frames: usize,
        out: &mut [f32],
        mut stems: Option<(&mut [f32], usize)>,
    ) {
        let ch = self.channels;
        for lane in 0..self.strips.len() {
            let (Some(input), Some(gains)) = (
                lanes.get(lane * stride..lane * stride + frames),
                self.gains.get(lane * ch..(lane + 1) * ch),
            ) else {
                continue;
            };
            let mut stem = stems
                .as_mut()
                .and_then(|(buf, s)| buf.get_mut(lane * *s..lane * *s + frames * ch));
            for (i, x) in input.iter().enumerate() {
                let Some(frame) = out.get_mut(i * ch..(i + 1) * ch) else {
                    break;
                };
                let mut stem_frame = stem.as_mut().and_then(|s| s.get_mut(i * ch..(i + 1) * ch));
                for (c, (o, g)) in frame.iter_mut().zip(gains).enumerate() {
                    let v = x * g;
                    *o += v;
                    if let Some(s) = stem_frame.as_mut().and_then(|f| f.get_mut(c)) {
                        *s = v;
                    }
                }
            }
        }
    }
}

/// Gains arrive from the UI; a NaN or a negative number must not reach the speakers.
pub fn sanitize_gain(gain: f32) -> f32 {
    if gain.is_finite() {
        gain.clamp(0.0, 4.0)
    } else {
        0.0
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // a test that indexes out of range fails, as it should
mod tests {
    use super::*;

    fn strip() -> Strip {
        Strip {
            gain: 1.0,
            pan: 0.0,
            muted: false,
            soloed: false,
        }
    }

    #[test]
    fn pan_mute_solo_and_click_routing() {
        let mut mixer = Mixer::new(
            vec![strip(), strip(), strip()],
            2,
            3,
            ClickRoute::Channel(2),
        );
        mixer.update(0, |s| s.pan = -1.0);
        let lanes = [1.0, 1.0, 1.0];
        let mut out = [0.0; 3];
        mixer.mix(&lanes, 1, 1, &mut out, None);
        let c = std::f32::consts::FRAC_1_SQRT_2;
        assert!((out[0] - (1.0 + c)).abs() < 1e-6);
        assert!((out[1] - c).abs() < 1e-6);
        assert_eq!(out[2], 1.0, "click only on its own channel");

        mixer.update(1, |s| s.soloed = true);
        let mut out = [0.0; 3];
        let mut stems = [0.0; 9];
        mixer.mix(&lanes, 1, 1, &mut out, Some((&mut stems, 3)));
        assert_eq!(&stems[0..3], &[0.0, 0.0, 0.0], "lane 0 silenced by solo");
        assert_eq!(out[2], 1.0, "solo leaves the click alone");

        mixer.update(1, |s| s.muted = true);
        assert_eq!(mixer.post_fader_gain(1), 0.0);
        mixer.set_master_gain(f32::NAN);
        let mut out = [0.0; 3];
        mixer.mix(&lanes, 1, 1, &mut out, None);
        assert_eq!(&out[..2], &[0.0, 0.0]);
    }
}
