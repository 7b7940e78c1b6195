//! Keys, bass and plucked strings: a handful of harmonic partials, each fading at its
//! own rate, so a struck or plucked note brightens at once and mellows as it rings.
//!
//! Owns how each instrument sets up its partials and how they are rendered.
//! Real-time: everything here runs in the audio callback; no allocation or I/O.

// Real-time code: no index may panic on the audio thread.
#![warn(clippy::indexing_slicing)]

use super::{Kind, PARTIALS, Trigger, Voice};
use crate::music::Sound;
use std::f32::consts::TAU;

/// (level, seconds to fade to 1/e) per partial, lowest first.
fn recipe(sound: Sound) -> ([f32; PARTIALS], [f32; PARTIALS], f32, f32) {
    // Levels, fade times, attack and release (seconds).
    match sound {
        Sound::Keys => (
            [1.0, 0.45, 0.22, 0.12, 0.05, 0.0],
            [1.6, 0.9, 0.5, 0.3, 0.2, 1.0],
            0.003,
            0.15,
        ),
        Sound::Bass => (
            [1.0, 0.4, 0.12, 0.0, 0.0, 0.0],
            [1.4, 0.5, 0.25, 1.0, 1.0, 1.0],
            0.006,
            0.07,
        ),
        // Plucked strings: every partial present at the pluck, the high ones gone soonest.
        _ => (
            [1.0, 0.5, 0.33, 0.25, 0.2, 0.16],
            [0.9, 0.5, 0.3, 0.2, 0.14, 0.1],
            0.001,
            0.08,
        ),
    }
}

/// Sets a voice up for `sound` at the trigger's pitch.
///
/// Real-time: arithmetic only.
pub(super) fn start(voice: &mut Voice, sound: Sound, trigger: Trigger, sample_rate: f32) {
    let (levels, fades, attack, release) = recipe(sound);
    let hz = 440.0 * ((f32::from(trigger.pitch) - 69.0) / 12.0).exp2();
    // Higher notes ring for less time, as on a real piano or string.
    let pitch_scale = (261.6 / hz).powf(0.3).clamp(0.4, 2.0);
    voice.kind = Kind::Partials;
    voice.amplitude *= match sound {
        Sound::Bass => 0.3,
        Sound::Keys => 0.2,
        _ => 0.18,
    };
    voice.phase_step = hz / sample_rate;
    voice.held_frames = trigger.len_frames;
    voice.attack_frames = ((attack * sample_rate) as u32).max(1);
    voice.release = (-1.0 / (release * sample_rate)).exp();
    voice.envelope = 1.0;
    let nyquist = 0.5 * sample_rate;
    let partials = voice
        .partial_levels
        .iter_mut()
        .zip(voice.partial_decays.iter_mut())
        .zip(levels.iter().zip(fades.iter()));
    for (k, ((level, decay), (written, fade))) in partials.enumerate() {
        let audible = hz * (k as f32 + 1.0) < nyquist;
        *level = if audible { *written } else { 0.0 };
        *decay = (-1.0 / (fade * pitch_scale * sample_rate)).exp();
    }
}

impl Voice {
    /// Real-time: no alloc, lock or I/O.
    pub(super) fn render_partials(&mut self, out: &mut [f32]) {
        for sample in out.iter_mut() {
            let age = u64::from(self.age_frames);
            if age >= self.held_frames {
                self.envelope *= self.release;
            }
            let loudest = self.partial_levels.iter().fold(0.0f32, |m, l| m.max(*l));
            if self.envelope * loudest < 1e-4 {
                self.active = false;
                return;
            }
            let attack = ((self.age_frames + 1) as f32 / self.attack_frames as f32).min(1.0);
            let p = TAU * self.phase;
            let mut wave = 0.0;
            let partials = self.partial_levels.iter_mut().zip(&self.partial_decays);
            for (k, (level, decay)) in partials.enumerate() {
                if *level > 0.0 {
                    wave += *level * ((k as f32 + 1.0) * p).sin();
                    *level *= decay;
                }
            }
            *sample += self.amplitude * attack * self.envelope * wave;
            self.phase += self.phase_step;
            if self.phase >= 1.0 {
                self.phase -= 1.0;
            }
            self.age_frames = self.age_frames.saturating_add(1);
        }
    }
}
