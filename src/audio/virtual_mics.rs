//! Virtual microphones: one-channel input devices of bandroom's own, each on a clock of
//! its own, for tests and demos of a room of USB microphones without the microphones.
//!
//! Owns what the loopback's output sounds like to a microphone in the room
//! (`OutputHistory`, written by the loopback's thread, read lock-free) and one thread
//! per microphone that delivers blocks of its own size at its own rate: `ppm` parts per
//! million away from the loopback's (positive: fast), hearing output channel 1
//! `latency_frames` later, interpolated between the loopback's frames as a converter
//! running on another crystal would sample it. Each block is stamped with the moment
//! its first frame was captured on the loopback's clock, exactly, as a driver's
//! timestamp would be (less its jitter); the latency is not in the stamp, so
//! calibration has something to measure. Must not allocate per block.

use super::clock::InputStamp;
use super::device::{DeviceError, DeviceFault, InputCallback};
use crossbeam_channel::Sender;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// The names the virtual microphones are listed and chosen by: `virtual mic 1`, ….
pub const VIRTUAL_MIC_PREFIX: &str = "virtual mic";
/// The most virtual microphones one loopback has.
pub const MAX_VIRTUAL_MICS: usize = 32;
/// Loopback frames the microphones can reach back for: about 44 s at 48 kHz, so a
/// microphone's thread held up by a busy machine still finds what it should hear when
/// the loopback runs many times faster than real time (8 MB per loopback with mics).
const HISTORY_FRAMES: usize = 1 << 21;

/// One virtual microphone.
#[derive(Clone, Debug, PartialEq)]
pub struct VirtualMic {
    /// Frames (of the loopback) between the output and this microphone.
    pub latency_frames: u64,
    /// How far its clock is from the loopback's, in parts per million (positive: fast).
    pub ppm: f64,
    /// Frames per callback.
    pub block_frames: usize,
    /// Stops delivering after this many of its own frames, as an unplugged one would.
    pub unplug_after_frames: Option<u64>,
    /// Somebody claps right in front of it, once a second, half a second in: only this
    /// microphone hears it, so "Which mic is this?" has a microphone to find.
    pub hears_a_clap: bool,
}

impl Default for VirtualMic {
    fn default() -> Self {
        Self {
            latency_frames: 0,
            ppm: 0.0,
            block_frames: 256,
            unplug_after_frames: None,
            hears_a_clap: false,
        }
    }
}

impl VirtualMic {
    pub fn validate(&self, number: usize) -> Result<(), DeviceError> {
        let bad = |m: String| Err(DeviceError::Unavailable(m));
        if !(self.ppm.is_finite() && self.ppm.abs() <= 1_000.0) {
            return bad(format!(
                "--virtual-mic-ppm {} for virtual mic {number} is not allowed: use -1000 to 1000",
                self.ppm
            ));
        }
        if self.block_frames == 0 || self.block_frames > 16_384 {
            return bad(format!(
                "--virtual-mic-block {} for virtual mic {number} is not allowed: use 1 to 16384 frames",
                self.block_frames
            ));
        }
        if self.latency_frames > (HISTORY_FRAMES / 2) as u64 {
            return bad(format!(
                "--virtual-mic-latency {} for virtual mic {number} is not allowed: use 0 to {} frames",
                self.latency_frames,
                HISTORY_FRAMES / 2
            ));
        }
        Ok(())
    }
}

/// The name of virtual microphone `number` (1-based).
pub fn mic_name(number: usize) -> String {
    format!("{VIRTUAL_MIC_PREFIX} {number}")
}

/// Which virtual microphone a device name means: `virtual mic 2` → 2.
pub fn mic_number(name: &str) -> Option<usize> {
    name.strip_prefix(VIRTUAL_MIC_PREFIX)?.trim().parse().ok()
}

/// The loopback's output channel 1, as the room hears it: written by the loopback's
/// thread, read by every microphone's. Lock-free: samples are `f32` bits in atomics.
#[derive(Debug)]
pub struct OutputHistory {
    samples: Box<[AtomicU32]>,
    /// Loopback frames written so far.
    written: AtomicU64,
}

impl OutputHistory {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            samples: (0..HISTORY_FRAMES).map(|_| AtomicU32::new(0)).collect(),
            written: AtomicU64::new(0),
        })
    }

    /// Appends one block of interleaved output (channel 1 is kept). Allocation-free.
    pub fn push(&self, block: &[f32], channels: usize) {
        let start = self.written.load(Ordering::Relaxed);
        let channels = channels.max(1);
        let mut frames = 0u64;
        for (i, frame) in block.chunks_exact(channels).enumerate() {
            let slot = (start as usize + i) % HISTORY_FRAMES;
            if let (Some(cell), Some(sample)) = (self.samples.get(slot), frame.first()) {
                cell.store(sample.to_bits(), Ordering::Relaxed);
            }
            frames += 1;
        }
        self.written.store(start + frames, Ordering::Release);
    }

    fn at(&self, frame: i64) -> f32 {
        if frame < 0 {
            return 0.0;
        }
        let written = self.written.load(Ordering::Acquire) as i64;
        if frame >= written || written - frame > HISTORY_FRAMES as i64 {
            return 0.0;
        }
        self.samples
            .get(frame as usize % HISTORY_FRAMES)
            .map_or(0.0, |cell| f32::from_bits(cell.load(Ordering::Relaxed)))
    }

    /// The output at fractional loopback frame `position`, linearly interpolated.
    fn sample(&self, position: f64) -> f32 {
        let below = position.floor();
        let fraction = (position - below) as f32;
        let i = below as i64;
        let (a, b) = (self.at(i), self.at(i + 1));
        a + (b - a) * fraction
    }

    fn written(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }
}

/// The microphones' threads; stopping joins them.
pub struct MicsRunning {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl MicsRunning {
    pub fn halt(&mut self) {
        self.stop.store(true, Ordering::Release);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for MicsRunning {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Everything a microphone thread needs from its loopback.
pub struct MicRoom {
    pub history: Arc<OutputHistory>,
    pub rate_hz: u32,
    /// Faults, numbered by the microphone's place among the take's extra inputs.
    pub faults: Sender<DeviceFault>,
}

/// Starts one thread per `(microphone number, its settings, extra-input index, callback)`.
pub fn start(
    room: &MicRoom,
    mics: Vec<(usize, VirtualMic, usize, InputCallback)>,
) -> Result<MicsRunning, DeviceError> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut running = MicsRunning {
        stop: Arc::clone(&stop),
        threads: Vec::with_capacity(mics.len()),
    };
    for (number, mic, extra, callback) in mics {
        let history = Arc::clone(&room.history);
        let stop = Arc::clone(&stop);
        let faults = room.faults.clone();
        let rate = room.rate_hz;
        let thread = std::thread::Builder::new()
            .name(mic_name(number))
            .spawn(move || {
                let clock = MicClock {
                    mic,
                    number,
                    extra,
                    rate,
                };
                clock.run(&history, &stop, &faults, callback);
            })
            .map_err(|e| DeviceError::Start {
                device: mic_name(number),
                reason: e.to_string(),
            })?;
        running.threads.push(thread);
    }
    Ok(running)
}

struct MicClock {
    mic: VirtualMic,
    number: usize,
    extra: usize,
    rate: u32,
}

impl MicClock {
    fn run(
        &self,
        history: &OutputHistory,
        stop: &AtomicBool,
        faults: &Sender<DeviceFault>,
        mut callback: InputCallback,
    ) {
        let block = self.mic.block_frames;
        let mut buffer = vec![0.0f32; block];
        // Frames per second of this microphone, measured on the loopback's clock.
        let own_rate = f64::from(self.rate) * (1.0 + self.mic.ppm * 1e-6);
        let loopback_per_own = f64::from(self.rate) / own_rate;
        let mut frame: u64 = 0;
        while !stop.load(Ordering::Acquire) {
            if self
                .mic
                .unplug_after_frames
                .is_some_and(|limit| frame >= limit)
            {
                let _ = faults.try_send(DeviceFault {
                    message: format!("{}: the device was unplugged", mic_name(self.number)),
                    fatal: true,
                    extra: Some(self.extra),
                });
                return;
            }
            // A block is delivered once its last frame has been played and heard: the
            // microphone's clock is measured against the loopback's, so it is paced by
            // the loopback's progress (never ahead of it, whatever the machine's load).
            let first = frame as f64 * loopback_per_own - self.mic.latency_frames as f64;
            let last = first + block as f64 * loopback_per_own;
            while (history.written() as f64) < last + 2.0 {
                if stop.load(Ordering::Acquire) {
                    return;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            for (i, sample) in buffer.iter_mut().enumerate() {
                *sample = history.sample(first + i as f64 * loopback_per_own);
                if self.mic.hears_a_clap {
                    *sample += clap_in_front(frame + i as u64, self.rate);
                }
            }
            callback(
                &buffer,
                InputStamp {
                    capture_frame: frame as i64,
                    reported_latency_frames: 0,
                    time_secs: frame as f64 / own_rate,
                },
            );
            frame += block as u64;
        }
    }
}

/// A clap close to a microphone at its own frame `frame`: a 20 ms decaying burst half a
/// second into every second (deterministic, so a test knows where it is).
fn clap_in_front(frame: u64, rate_hz: u32) -> f32 {
    let rate = u64::from(rate_hz.max(1));
    let into = frame % rate;
    let start = rate / 2;
    let length = rate / 50;
    if into < start || into >= start + length {
        return 0.0;
    }
    let t = (into - start) as f32 / rate as f32;
    // Alternating signs at 1.5 kHz under a fast decay: broadband enough to read as a clap.
    0.8 * (std::f32::consts::TAU * 1_500.0 * t).sin() * (-t * 200.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clap_in_front_is_loud_for_twenty_milliseconds_each_second() {
        let rate = 48_000;
        let loudest = |from: u64, to: u64| {
            (from..to)
                .map(|f| clap_in_front(f, rate).abs())
                .fold(0.0f32, f32::max)
        };
        assert_eq!(loudest(0, 24_000), 0.0);
        assert!(loudest(24_000, 24_960) > 0.3);
        assert_eq!(loudest(24_960, 48_000 + 24_000), 0.0);
        assert!(loudest(48_000 + 24_000, 48_000 + 24_960) > 0.3);
    }

    #[test]
    fn names_and_numbers_go_both_ways() {
        assert_eq!(mic_name(3), "virtual mic 3");
        assert_eq!(mic_number("virtual mic 3"), Some(3));
        assert_eq!(mic_number("virtual loopback"), None);
    }

    #[test]
    fn the_history_is_read_between_frames_and_silent_outside_what_was_played() {
        let history = OutputHistory::new();
        history.push(&[0.0, 9.0, 1.0, 9.0, 2.0, 9.0], 2);
        assert_eq!(history.sample(1.0), 1.0);
        assert!((history.sample(1.25) - 1.25).abs() < 1e-6);
        assert_eq!(history.sample(-3.0), 0.0);
        assert_eq!(history.sample(7.0), 0.0, "not yet played");
    }
}
