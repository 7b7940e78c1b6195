//! The synthesized sounds: hand clap, metronome click, pitched tone, keys, bass,
//! plucked strings, kick, snare and hi-hat.
//!
//! Owns a fixed pool of voices allocated once, and the per-sample synthesis of each
//! sound. Every voice is a per-sample state machine seeded only by its trigger, so the
//! audio does not depend on where block boundaries fall. Must not allocate, lock or
//! log once built: everything here runs in the audio callback.

// Real-time code: no index may panic on the audio thread.
#![warn(clippy::indexing_slicing)]

mod drums;
mod instruments;

use super::score::{LaneSound, NoteRole};
use crate::music::Sound;
use std::f32::consts::TAU;

/// What to start, decided by the engine at the note's exact frame.
#[derive(Clone, Copy, Debug)]
pub struct Trigger {
    pub lane: usize,
    pub sound: LaneSound,
    pub role: NoteRole,
    pub pitch: u8,
    pub velocity: u8,
    /// How long the note is held, for pitched voices.
    pub len_frames: u64,
}

/// Sample-rate dependent constants, computed once when the pool is built.
#[derive(Clone, Copy, Debug)]
struct Constants {
    sample_rate: f32,
    clap_burst_frames: u32,
    clap_bursts: u32,
    clap_burst_decay: f32,
    clap_tail_decay: f32,
    clap_len_frames: u32,
    clap_filter: Biquad,
    click_decay: f32,
    click_len_frames: u32,
    tone_attack_frames: u32,
    tone_decay: f32,
    tone_release: f32,
    tone_release_frames: u32,
    snare_filter: Biquad,
    hat_filter: Biquad,
}

impl Constants {
    fn new(sample_rate_hz: u32) -> Self {
        let sr = sample_rate_hz as f32;
        let frames = |secs: f32| ((secs * sr).round() as u32).max(1);
        // A decay factor per sample that falls to 1/e after `secs`.
        let decay = |secs: f32| (-1.0 / (secs * sr)).exp();
        Self {
            sample_rate: sr,
            clap_burst_frames: frames(0.0095),
            clap_bursts: 3,
            clap_burst_decay: decay(0.0032),
            clap_tail_decay: decay(0.045),
            clap_len_frames: frames(0.32),
            clap_filter: Biquad::band_pass(1150.0, 1.1, sr),
            click_decay: decay(0.011),
            click_len_frames: frames(0.06),
            tone_attack_frames: frames(0.005),
            tone_decay: decay(0.35),
            tone_release: decay(0.05),
            tone_release_frames: frames(0.3),
            snare_filter: Biquad::band_pass(1800.0, 0.8, sr),
            hat_filter: Biquad::band_pass((8000.0f32).min(0.4 * sr), 0.7, sr),
        }
    }
}

/// Direct-form-I biquad coefficients (RBJ cookbook band-pass, 0 dB peak).
#[derive(Clone, Copy, Debug, Default)]
struct Biquad {
    b0: f32,
    b2: f32,
    a1: f32,
    a2: f32,
}

impl Biquad {
    fn band_pass(centre_hz: f32, q: f32, sample_rate: f32) -> Self {
        let w0 = TAU * centre_hz / sample_rate;
        let alpha = w0.sin() / (2.0 * q);
        let a0 = 1.0 + alpha;
        Self {
            b0: alpha / a0,
            b2: -alpha / a0,
            a1: -2.0 * w0.cos() / a0,
            a2: (1.0 - alpha) / a0,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct FilterState {
    x1: f32,
    x2: f32,
    y1: f32,
    y2: f32,
}

impl FilterState {
    #[inline]
    fn run(&mut self, c: &Biquad, x: f32) -> f32 {
        let y = c.b0 * x + c.b2 * self.x2 - c.a1 * self.y1 - c.a2 * self.y2;
        self.x2 = self.x1;
        self.x1 = x;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Clap,
    Click,
    Tone,
    /// Keys, bass and plucked strings: decaying partials (see `instruments`).
    Partials,
    Kick,
    Snare,
    HiHat,
}

/// Partials a pitched instrument voice can have.
const PARTIALS: usize = 6;

#[derive(Clone, Copy, Debug)]
struct Voice {
    active: bool,
    kind: Kind,
    lane: usize,
    /// Order of triggering, for stealing the oldest voice when all are busy.
    started: u64,
    age_frames: u32,
    amplitude: f32,
    envelope: f32,
    held_frames: u64,
    phase: f32,
    phase_step: f32,
    noise: u32,
    filter: FilterState,
    /// Per-partial level and per-sample decay (instruments); the tone layer of a snare.
    partial_levels: [f32; PARTIALS],
    partial_decays: [f32; PARTIALS],
    attack_frames: u32,
    release: f32,
    /// The kick's falling pitch, 1 → 0.
    sweep: f32,
    sweep_decay: f32,
    decay: f32,
    len_frames: u32,
}

impl Voice {
    const IDLE: Voice = Voice {
        active: false,
        kind: Kind::Click,
        lane: 0,
        started: 0,
        age_frames: 0,
        amplitude: 0.0,
        envelope: 0.0,
        held_frames: 0,
        phase: 0.0,
        phase_step: 0.0,
        noise: 1,
        filter: FilterState {
            x1: 0.0,
            x2: 0.0,
            y1: 0.0,
            y2: 0.0,
        },
        partial_levels: [0.0; PARTIALS],
        partial_decays: [0.0; PARTIALS],
        attack_frames: 1,
        release: 1.0,
        sweep: 0.0,
        sweep_decay: 0.0,
        decay: 0.0,
        len_frames: 0,
    };

    /// xorshift32: cheap, deterministic white noise in -1..1.
    #[inline]
    fn next_noise(&mut self) -> f32 {
        let mut x = self.noise;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.noise = x;
        (x as f32 / u32::MAX as f32) * 2.0 - 1.0
    }

    /// Adds this voice into `out` until it ends or `out` is full.
    ///
    /// Real-time: no alloc, lock or I/O.
    fn render(&mut self, c: &Constants, out: &mut [f32]) {
        match self.kind {
            Kind::Clap => self.render_clap(c, out),
            Kind::Click => self.render_click(c, out),
            Kind::Tone => self.render_tone(c, out),
            Kind::Partials => self.render_partials(out),
            Kind::Kick => self.render_kick(c, out),
            Kind::Snare => self.render_snare(c, out),
            Kind::HiHat => self.render_hihat(c, out),
        }
    }

    /// Real-time: adds a clap into `out`; no alloc, lock or I/O.
    fn render_clap(&mut self, c: &Constants, out: &mut [f32]) {
        let bursts_end = c.clap_burst_frames * c.clap_bursts;
        for sample in out.iter_mut() {
            if self.age_frames >= c.clap_len_frames {
                self.active = false;
                return;
            }
            // A clap is a few hands-meeting bursts then the room's short tail.
            if self.age_frames < bursts_end && self.age_frames.is_multiple_of(c.clap_burst_frames) {
                self.envelope = 1.0;
            } else if self.age_frames == bursts_end {
                self.envelope = 0.6;
            }
            let noise = self.next_noise();
            let body = self.filter.run(&c.clap_filter, noise);
            *sample += self.amplitude * self.envelope * (4.0 * body + 0.35 * noise);
            self.envelope *= if self.age_frames < bursts_end {
                c.clap_burst_decay
            } else {
                c.clap_tail_decay
            };
            self.age_frames += 1;
        }
    }

    /// Real-time: adds a metronome click into `out`; no alloc, lock or I/O.
    fn render_click(&mut self, c: &Constants, out: &mut [f32]) {
        for sample in out.iter_mut() {
            if self.age_frames >= c.click_len_frames {
                self.active = false;
                return;
            }
            *sample += self.amplitude * self.envelope * (TAU * self.phase).sin();
            self.phase += self.phase_step;
            if self.phase >= 1.0 {
                self.phase -= 1.0;
            }
            self.envelope *= c.click_decay;
            self.age_frames += 1;
        }
    }

    /// Real-time: adds a tone into `out`; no alloc, lock or I/O.
    fn render_tone(&mut self, c: &Constants, out: &mut [f32]) {
        for sample in out.iter_mut() {
            let released = u64::from(self.age_frames) >= self.held_frames;
            if released
                && u64::from(self.age_frames) >= self.held_frames + u64::from(c.tone_release_frames)
            {
                self.active = false;
                return;
            }
            if self.age_frames < c.tone_attack_frames {
                self.envelope = (self.age_frames + 1) as f32 / c.tone_attack_frames as f32;
            } else if released {
                self.envelope *= c.tone_release;
            } else {
                // Decays towards a sustain of 0.45 like a struck or plucked string.
                self.envelope = 0.45 + (self.envelope - 0.45) * c.tone_decay;
            }
            let p = TAU * self.phase;
            let wave = p.sin() + 0.4 * (2.0 * p).sin() + 0.18 * (3.0 * p).sin();
            *sample += self.amplitude * self.envelope * wave;
            self.phase += self.phase_step;
            if self.phase >= 1.0 {
                self.phase -= 1.0;
            }
            self.age_frames = self.age_frames.saturating_add(1);
        }
    }
}

/// Every voice the engine can sound at once, allocated up front.
pub struct VoicePool {
    voices: Vec<Voice>,
    constants: Constants,
    triggered: u64,
}

impl VoicePool {
    pub fn new(sample_rate_hz: u32, voice_count: usize) -> Self {
        Self {
            voices: vec![Voice::IDLE; voice_count.max(1)],
            constants: Constants::new(sample_rate_hz),
            triggered: 0,
        }
    }

    #[cfg(test)]
    fn active_count(&self) -> usize {
        self.voices.iter().filter(|v| v.active).count()
    }

    /// Starts a voice, taking the oldest one if all are sounding.
    ///
    /// Real-time: no alloc, lock or I/O.
    pub fn start(&mut self, trigger: Trigger) {
        self.triggered += 1;
        let seq = self.triggered;
        let slot = match self.voices.iter().position(|v| !v.active) {
            Some(free) => free,
            None => {
                let mut oldest = 0;
                let mut oldest_started = self.voices.first().map_or(0, |v| v.started);
                for (i, v) in self.voices.iter().enumerate() {
                    if v.started < oldest_started {
                        oldest = i;
                        oldest_started = v.started;
                    }
                }
                oldest
            }
        };
        let c = &self.constants;
        let loudness = f32::from(trigger.velocity) / 127.0;
        let loudness = loudness * loudness.sqrt();
        let mut voice = Voice {
            active: true,
            lane: trigger.lane,
            started: seq,
            amplitude: loudness,
            envelope: 1.0,
            // Scramble the trigger count into a non-zero seed so every clap differs.
            noise: (seq as u32).wrapping_mul(0x9E37_79B9) | 1,
            ..Voice::IDLE
        };
        match trigger.sound {
            LaneSound::Part(Sound::Clap) => {
                voice.kind = Kind::Clap;
                // Claps are spiky (about 25 dB between peak and RMS): keep their
                // peaks well under full scale when a whole class claps together.
                voice.amplitude *= 0.25;
            }
            LaneSound::Part(Sound::Tone) => {
                voice.kind = Kind::Tone;
                voice.amplitude *= 0.22;
                voice.envelope = 0.0;
                voice.held_frames = trigger.len_frames;
                let hz = 440.0 * ((f32::from(trigger.pitch) - 69.0) / 12.0).exp2();
                voice.phase_step = hz / c.sample_rate;
            }
            LaneSound::Part(sound @ (Sound::Keys | Sound::Bass | Sound::Pluck)) => {
                instruments::start(&mut voice, sound, trigger, c.sample_rate);
            }
            LaneSound::Part(sound @ (Sound::Kick | Sound::Snare | Sound::HiHat)) => {
                drums::start(&mut voice, sound, c.sample_rate);
            }
            LaneSound::Part(Sound::Kit) => match drums::kit_piece(trigger.pitch) {
                Sound::Clap => {
                    voice.kind = Kind::Clap;
                    voice.amplitude *= 0.25;
                }
                piece => drums::start(&mut voice, piece, c.sample_rate),
            },
            LaneSound::Click => {
                voice.kind = Kind::Click;
                let (hz, level) = match trigger.role {
                    NoteRole::Accent => (1760.0, 0.5),
                    NoteRole::SubBeat => (880.0, 0.3),
                    _ => (1320.0, 0.4),
                };
                voice.amplitude *= level;
                voice.phase_step = hz / c.sample_rate;
            }
        }
        if let Some(place) = self.voices.get_mut(slot) {
            *place = voice;
        }
    }

    /// Renders frames `from..to` of every sounding voice into its lane's buffer.
    /// `lanes` holds one buffer of `stride` frames per lane.
    ///
    /// Real-time: no alloc, lock or I/O.
    pub fn render(&mut self, lanes: &mut [f32], stride: usize, from: usize, to: usize) {
        let c = self.constants;
        for voice in self.voices.iter_mut().filter(|v| v.active) {
            let start = voice.lane * stride;
            if let Some(out) = lanes.get_mut(start + from..start + to) {
                voice.render(&c, out);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // a test that indexes out of range fails, as it should
mod tests {
    use super::*;

    fn trigger(sound: LaneSound, role: NoteRole) -> Trigger {
        Trigger {
            lane: 0,
            sound,
            role,
            pitch: 60,
            velocity: 100,
            len_frames: 4800,
        }
    }

    fn render_one(t: Trigger, frames: usize) -> Vec<f32> {
        let mut pool = VoicePool::new(48_000, 4);
        pool.start(t);
        let mut out = vec![0.0; frames];
        pool.render(&mut out, frames, 0, frames);
        out
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn clap_attacks_at_once_and_ends() {
        let out = render_one(
            trigger(LaneSound::Part(Sound::Clap), NoteRole::Part),
            48_000,
        );
        assert!(rms(&out[..64]) > 0.02, "sharp attack: {}", rms(&out[..64]));
        assert!(out.iter().all(|v| v.abs() < 1.0));
        assert!(out[20_000..].iter().all(|v| *v == 0.0), "clap must end");
    }

    #[test]
    fn tone_is_pitched_and_releases() {
        let out = render_one(
            trigger(LaneSound::Part(Sound::Tone), NoteRole::Part),
            48_000,
        );
        // Middle C: count upward zero crossings over the held part (0.1 s).
        let crossings = out[0..4800]
            .windows(2)
            .filter(|w| w[0] <= 0.0 && w[1] > 0.0)
            .count();
        assert!((25..=28).contains(&crossings), "{crossings}");
        assert!(rms(&out[40_000..]) == 0.0);
    }

    /// The period (in samples) that best repeats within `x`, searched in `lags`.
    fn period(x: &[f32], lags: std::ops::Range<usize>) -> usize {
        let n = x.len() - lags.end;
        lags.max_by(|&a, &b| {
            let corr = |lag: usize| (0..n).map(|i| x[i] * x[i + lag]).sum::<f32>();
            corr(a).total_cmp(&corr(b))
        })
        .unwrap()
    }

    #[test]
    fn instruments_sound_at_the_notes_pitch_and_fade() {
        for (sound, pitch) in [
            (Sound::Keys, 60u8),
            (Sound::Bass, 36),
            (Sound::Pluck, 64),
            (Sound::Keys, 81),
        ] {
            let mut t = trigger(LaneSound::Part(sound), NoteRole::Part);
            t.pitch = pitch;
            t.len_frames = 24_000;
            let out = render_one(t, 4 * 48_000);
            let hz = 440.0 * ((f32::from(pitch) - 69.0) / 12.0).exp2();
            let expected = 48_000.0 / hz;
            let found = period(&out[480..480 + 6000], 20..1500) as f32;
            // The fundamental's period, or a whole multiple of it for the lowest notes.
            let ratio = found / expected;
            assert!(
                (ratio - ratio.round()).abs() < 0.02 && ratio.round() >= 1.0,
                "{sound:?} {pitch}: period {found} for expected {expected:.1}"
            );
            assert!(
                out.iter().all(|v| v.abs() < 1.0),
                "{sound:?} stays below full scale"
            );
            assert!(rms(&out[..4800]) > 0.01, "{sound:?} is audible");
            assert!(
                rms(&out[24_000..28_800]) < rms(&out[..4800]),
                "{sound:?} fades"
            );
            assert_eq!(
                rms(&out[3 * 48_000..]),
                0.0,
                "{sound:?} ends after its release"
            );
        }
    }

    #[test]
    fn drums_have_their_character() {
        let kick = render_one(
            trigger(LaneSound::Part(Sound::Kick), NoteRole::Part),
            48_000,
        );
        let crossings = |x: &[f32]| x.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count();
        assert!(
            crossings(&kick[..2400]) > crossings(&kick[4800..7200]),
            "the kick falls in pitch"
        );
        let hat = render_one(
            trigger(LaneSound::Part(Sound::HiHat), NoteRole::Part),
            48_000,
        );
        let snare = render_one(
            trigger(LaneSound::Part(Sound::Snare), NoteRole::Part),
            48_000,
        );
        // Brightness: energy of the sample-to-sample difference against the signal's own.
        let brightness = |x: &[f32]| {
            let diff: f32 = x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum();
            diff / x.iter().map(|v| v * v).sum::<f32>()
        };
        assert!(brightness(&hat[..2400]) > brightness(&snare[..2400]));
        assert!(brightness(&snare[..2400]) > brightness(&kick[..2400]));
        for (name, drum) in [("kick", &kick), ("snare", &snare), ("hi-hat", &hat)] {
            assert!(rms(&drum[..480]) > 0.01, "{name} hits at once");
            assert!(
                drum.iter().all(|v| v.abs() < 1.0),
                "{name} below full scale"
            );
            assert_eq!(rms(&drum[40_000..]), 0.0, "{name} ends");
        }
    }

    #[test]
    fn oldest_voice_is_stolen_when_all_are_busy() {
        let mut pool = VoicePool::new(48_000, 2);
        for _ in 0..3 {
            pool.start(trigger(LaneSound::Click, NoteRole::Beat));
        }
        assert_eq!(pool.active_count(), 2);
        assert!(pool.voices.iter().all(|v| v.started >= 2));
    }
}
