//! The drum kit: kick (a sine that falls in pitch), snare (a short drum tone under
//! filtered noise) and closed hi-hat (a short burst of high noise).
//!
//! Owns how each drum is set up and rendered. Drums ignore pitch and note length.
//! Real-time: everything here runs in the audio callback; no allocation or I/O.

// Real-time code: no index may panic on the audio thread.
#![warn(clippy::indexing_slicing)]

use super::{Constants, Kind, Voice};
use crate::music::Sound;
use std::f32::consts::TAU;

/// The drum a kit part's note plays, from General MIDI's percussion map: kicks and
/// low toms thump, snares and rim shots crack, hand claps clap, and hi-hats, cymbals
/// and shakers hiss.
///
/// Real-time: arithmetic only.
pub(super) fn kit_piece(pitch: u8) -> Sound {
    match pitch {
        35 | 36 | 41 | 43 | 45 => Sound::Kick,
        37 | 38 | 40 | 47 | 48 | 50 => Sound::Snare,
        39 => Sound::Clap,
        _ => Sound::HiHat,
    }
}

/// Sets a voice up for a drum.
///
/// Real-time: arithmetic only.
pub(super) fn start(voice: &mut Voice, sound: Sound, sample_rate: f32) {
    let fade = |secs: f32| (-1.0 / (secs * sample_rate)).exp();
    let frames = |secs: f32| (secs * sample_rate) as u32;
    voice.envelope = 1.0;
    match sound {
        Sound::Kick => {
            voice.kind = Kind::Kick;
            voice.amplitude *= 0.5;
            voice.sweep = 1.0;
            voice.sweep_decay = fade(0.03);
            voice.decay = fade(0.22);
            voice.len_frames = frames(0.6);
        }
        Sound::Snare => {
            voice.kind = Kind::Snare;
            voice.amplitude *= 0.26;
            // The drum head's tone, under the wires' noise.
            voice.partial_levels[0] = 0.7;
            voice.partial_decays[0] = fade(0.05);
            voice.phase_step = 185.0 / sample_rate;
            voice.decay = fade(0.12);
            voice.len_frames = frames(0.45);
        }
        _ => {
            voice.kind = Kind::HiHat;
            voice.amplitude *= 0.17;
            voice.decay = fade(0.04);
            voice.len_frames = frames(0.25);
        }
    }
}

impl Voice {
    fn finished(&mut self) -> bool {
        if self.age_frames >= self.len_frames {
            self.active = false;
        }
        !self.active
    }

    /// Real-time: no alloc, lock or I/O.
    pub(super) fn render_kick(&mut self, c: &Constants, out: &mut [f32]) {
        for sample in out.iter_mut() {
            if self.finished() {
                return;
            }
            let hz = 48.0 + 120.0 * self.sweep;
            *sample += self.amplitude * self.envelope * (TAU * self.phase).sin();
            self.phase += hz / c.sample_rate;
            if self.phase >= 1.0 {
                self.phase -= 1.0;
            }
            self.sweep *= self.sweep_decay;
            self.envelope *= self.decay;
            self.age_frames += 1;
        }
    }

    /// Real-time: no alloc, lock or I/O.
    pub(super) fn render_snare(&mut self, c: &Constants, out: &mut [f32]) {
        for sample in out.iter_mut() {
            if self.finished() {
                return;
            }
            let noise = self.next_noise();
            let wires = self.filter.run(&c.snare_filter, noise);
            let head = self.partial_levels[0] * (TAU * self.phase).sin();
            *sample += self.amplitude * (self.envelope * 2.5 * wires + head);
            self.phase += self.phase_step;
            if self.phase >= 1.0 {
                self.phase -= 1.0;
            }
            self.partial_levels[0] *= self.partial_decays[0];
            self.envelope *= self.decay;
            self.age_frames += 1;
        }
    }

    /// Real-time: no alloc, lock or I/O.
    pub(super) fn render_hihat(&mut self, c: &Constants, out: &mut [f32]) {
        for sample in out.iter_mut() {
            if self.finished() {
                return;
            }
            let noise = self.next_noise();
            let hiss = self.filter.run(&c.hat_filter, noise);
            *sample += self.amplitude * self.envelope * 2.0 * hiss;
            self.envelope *= self.decay;
            self.age_frames += 1;
        }
    }
}
