//! Playing a take back: its tracks, read into memory beforehand, mixed into the output,
//! each with its own gain so a pupil can hear just their own track.
//!
//! Owns the playback callback and the atomics a screen reads and sets (position, gains,
//! playing). The callback only reads the preloaded tracks and touches atomics: no
//! allocation, lock or I/O. Must not read files or open devices (callers do).

use super::device::{InputCallback, OutputCallback};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// What the screen shares with the playback callback.
#[derive(Debug)]
pub struct PlayerState {
    position: AtomicU64,
    playing: AtomicBool,
    /// One gain per track, as f32 bits.
    gains: Vec<AtomicU32>,
    frames: u64,
}

impl PlayerState {
    /// The frame being played.
    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    /// Frames in the longest track.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// How many tracks are being played.
    pub fn tracks(&self) -> usize {
        self.gains.len()
    }

    /// False once the end is reached or `stop` was called.
    pub fn is_playing(&self) -> bool {
        self.playing.load(Ordering::Relaxed)
    }

    pub fn stop(&self) {
        self.playing.store(false, Ordering::Relaxed);
    }

    /// Sets one track's gain (0 silences it).
    pub fn set_gain(&self, track: usize, gain: f32) {
        if let Some(slot) = self.gains.get(track) {
            let gain = if gain.is_finite() {
                gain.clamp(0.0, 4.0)
            } else {
                0.0
            };
            slot.store(gain.to_bits(), Ordering::Relaxed);
        }
    }

    /// Only `track` is heard ("hear just me").
    pub fn solo(&self, track: usize) {
        for i in 0..self.gains.len() {
            self.set_gain(i, if i == track { 1.0 } else { 0.0 });
        }
    }

    /// Every track is heard, scaled so the sum seldom clips.
    pub fn all(&self) {
        let gain = 1.0 / (self.gains.len().max(1) as f32).sqrt();
        for i in 0..self.gains.len() {
            self.set_gain(i, gain);
        }
    }
}

/// The callbacks that play `tracks` (mono, at the device's rate) on an output of
/// `channels` channels, and the state to control them. Playing starts at once.
pub fn take_player(
    tracks: Vec<Arc<[f32]>>,
    channels: usize,
) -> (Arc<PlayerState>, OutputCallback, InputCallback) {
    let frames = tracks.iter().map(|t| t.len() as u64).max().unwrap_or(0);
    let state = Arc::new(PlayerState {
        position: AtomicU64::new(0),
        playing: AtomicBool::new(true),
        gains: (0..tracks.len()).map(|_| AtomicU32::new(0)).collect(),
        frames,
    });
    state.all();
    let shared = Arc::clone(&state);
    let channels = channels.max(1);
    let output: OutputCallback = Box::new(move |buffer, _| {
        fill(&shared, &tracks, channels, buffer);
    });
    // Playback records nothing; the input side of the device is ignored.
    let input: InputCallback = Box::new(|_, _| {});
    (state, output, input)
}

/// Real-time: reads preloaded samples and atomics only.
fn fill(state: &PlayerState, tracks: &[Arc<[f32]>], channels: usize, buffer: &mut [f32]) {
    buffer.fill(0.0);
    if !state.playing.load(Ordering::Relaxed) {
        return;
    }
    let start = state.position.load(Ordering::Relaxed);
    let frames = buffer.len() / channels;
    for (track, gain) in tracks.iter().zip(&state.gains) {
        let gain = f32::from_bits(gain.load(Ordering::Relaxed));
        if gain == 0.0 {
            continue;
        }
        let from = usize::try_from(start)
            .unwrap_or(usize::MAX)
            .min(track.len());
        let to = from.saturating_add(frames).min(track.len());
        for (frame, sample) in buffer.chunks_exact_mut(channels).zip(&track[from..to]) {
            let value = sample * gain;
            for out in frame {
                *out += value;
            }
        }
    }
    let next = start + frames as u64;
    state
        .position
        .store(next.min(state.frames), Ordering::Relaxed);
    if next >= state.frames {
        state.playing.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::clock::OutputStamp;

    #[test]
    fn tracks_are_mixed_soloed_and_stop_at_the_end() {
        let a: Arc<[f32]> = Arc::from(vec![0.5f32; 100]);
        let b: Arc<[f32]> = Arc::from(vec![0.25f32; 60]);
        let (state, mut output, _) = take_player(vec![a, b], 2);
        let stamp = OutputStamp {
            playback_frame: 0,
            reported_latency_frames: 0,
            time_secs: 0.0,
        };
        let mut block = vec![0.0f32; 2 * 40];
        output(&mut block, stamp);
        let both = (0.5 + 0.25) / 2f32.sqrt();
        assert!(
            block.iter().all(|s| (s - both).abs() < 1e-6),
            "{}",
            block[0]
        );
        state.solo(1);
        output(&mut block, stamp);
        // Frames 40..80: track b ends at 60.
        assert_eq!(block[0], 0.25);
        assert_eq!(block[2 * 19], 0.25);
        assert_eq!(block[2 * 20], 0.0, "past the end of the soloed track");
        assert!(state.is_playing());
        output(&mut block, stamp);
        assert_eq!(state.position(), 100);
        assert!(!state.is_playing(), "the end of the longest track stops it");
        output(&mut block, stamp);
        assert!(block.iter().all(|s| *s == 0.0), "silence once stopped");
    }
}
