//! "Which mic is this?": every input of the room listened to at once, and the one whose
//! level jumps named, so a teacher can label a box of identical USB microphones by
//! clapping in front of each in turn.
//!
//! Owns the listening (the main device's inputs and each further input device, opened
//! as a take opens them; their callbacks only keep each input's loudest sample in an
//! atomic) and the jump detector (each input against its own noise floor; a clap in the
//! middle of the room, heard alike by every microphone, names none). Must not record,
//! write files or decide what the screens do with the answer.

use super::clock::{InputStamp, OutputStamp};
use super::device::{
    self, DeviceError, DeviceRequest, ExtraInputRequest, Host, InputCallback, RunningDevice,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// How far above its own floor an input must rise to count as the one clapped at.
const JUMP_DB: f32 = 15.0;
/// How far the loudest rise must stand above the next input's, so a clap heard alike
/// everywhere names nobody.
const CLEAR_OF_OTHERS_DB: f32 = 6.0;
/// Below this a rise is noise, whatever the floor (about −45 dBFS).
const QUIETEST_CLAP: f32 = 0.005;
/// Readings an input needs before its floor is trusted.
const WARM_UP_READINGS: u32 = 5;
/// How fast a floor follows a louder room (per reading; quieter readings set it at once).
const FLOOR_RISE: f32 = 0.05;
/// The floor of digital silence, in dB.
const SILENCE_DB: f32 = -120.0;

/// The loudest sample each input had since it was last read: `f32` bits in atomics,
/// which order like the values they hold for the non-negative values stored here.
#[derive(Debug)]
pub struct PeakLevels {
    slots: Box<[AtomicU32]>,
}

impl PeakLevels {
    pub fn new(inputs: usize) -> Arc<PeakLevels> {
        Arc::new(PeakLevels {
            slots: (0..inputs).map(|_| AtomicU32::new(0)).collect(),
        })
    }

    /// Real-time: no alloc, lock or I/O. Raises input `index`'s peak to `level`.
    fn raise(&self, index: usize, level: f32) {
        if let Some(slot) = self.slots.get(index) {
            slot.fetch_max(level.abs().to_bits(), Ordering::Relaxed);
        }
    }

    /// Each input's peak since the last call, and starts them again.
    pub fn take(&self) -> Vec<f32> {
        self.slots
            .iter()
            .map(|slot| f32::from_bits(slot.swap(0, Ordering::Relaxed)))
            .collect()
    }
}

/// An input callback that keeps the loudest sample of a device's `channels`-wide
/// interleaved blocks: per channel into `first + channel` (`per_channel`), or all of
/// them into `first` (a further device is one card, whichever channel is loud).
pub fn peak_callback(
    levels: Arc<PeakLevels>,
    first: usize,
    channels: usize,
    per_channel: bool,
) -> InputCallback {
    let channels = channels.max(1);
    Box::new(move |block: &[f32], _stamp: InputStamp| {
        // Real-time: no alloc, lock or I/O.
        for frame in block.chunks_exact(channels) {
            for (channel, sample) in frame.iter().enumerate() {
                let index = if per_channel { first + channel } else { first };
                levels.raise(index, *sample);
            }
        }
    })
}

fn db(level: f32) -> f32 {
    if level <= 0.0 {
        SILENCE_DB
    } else {
        (20.0 * level.log10()).max(SILENCE_DB)
    }
}

/// Finds the input whose level jumped, each against its own noise floor.
#[derive(Debug, Default)]
pub struct JumpDetector {
    floors_db: Vec<f32>,
    readings: Vec<u32>,
}

impl JumpDetector {
    pub fn new(inputs: usize) -> JumpDetector {
        JumpDetector {
            floors_db: vec![SILENCE_DB; inputs],
            readings: vec![0; inputs],
        }
    }

    /// One reading of every input's peak (linear, one per input, in the same order
    /// each time). Returns the input that stands out, with its rise in dB.
    pub fn feed(&mut self, peaks: &[f32]) -> Option<(usize, f32)> {
        let mut rises: Vec<(usize, f32)> = Vec::with_capacity(peaks.len());
        for (index, &peak) in peaks.iter().enumerate() {
            let (Some(floor), Some(count)) =
                (self.floors_db.get_mut(index), self.readings.get_mut(index))
            else {
                continue;
            };
            let level_db = db(peak);
            if *count == 0 {
                *floor = level_db;
            }
            let rise = level_db - *floor;
            let warm = *count >= WARM_UP_READINGS;
            *count = count.saturating_add(1);
            if warm {
                rises.push((index, if peak >= QUIETEST_CLAP { rise } else { 0.0 }));
            }
            // The floor drops at once to a quieter reading and creeps up to a louder one,
            // so a clap barely moves it and a fan switched on is learnt in seconds.
            if level_db < *floor {
                *floor = level_db;
            } else {
                *floor += (level_db - *floor) * FLOOR_RISE;
            }
        }
        rises.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (loudest, rise) = *rises.first()?;
        let next = rises.get(1).map_or(0.0, |r| r.1.max(0.0));
        (rise >= JUMP_DB && rise - next >= CLEAR_OF_OTHERS_DB).then_some((loudest, rise))
    }
}

/// One input listened to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenedInput {
    /// The further device's name and identity; `None` for the main device's inputs.
    pub device: Option<(String, String)>,
    /// 1-based channel of the main device; 1 for a further device (heard as one).
    pub channel: usize,
}

impl ListenedInput {
    /// "Input 3" or "Blue Yeti #2 (id alsa:hw:…)".
    pub fn describe(&self) -> String {
        match &self.device {
            Some((name, id)) => format!("{name} (id {id})"),
            None => format!("Input {}", self.channel),
        }
    }
}

/// Every input of a device and its further devices, listened to until dropped.
pub struct Listening {
    running: Option<RunningDevice>,
    levels: Arc<PeakLevels>,
    detector: JumpDetector,
    pub inputs: Vec<ListenedInput>,
    /// The last peaks read, in the order of `inputs` (for meters).
    pub last_peaks: Vec<f32>,
}

/// Opens `request` (its main input channels and every further input device it names)
/// and listens, playing silence.
pub fn listen(request: &DeviceRequest) -> Result<Listening, DeviceError> {
    let opened = device::open(request)?;
    let info = opened.info.clone();
    let main = info.input_channels.max(1);
    let mut inputs: Vec<ListenedInput> = (1..=main)
        .map(|channel| ListenedInput {
            device: None,
            channel,
        })
        .collect();
    inputs.extend(info.extra_inputs.iter().map(|d| ListenedInput {
        device: Some((d.name.clone(), d.id.clone())),
        channel: 1,
    }));
    let levels = PeakLevels::new(inputs.len());
    let input = peak_callback(Arc::clone(&levels), 0, main, true);
    let extra: Vec<InputCallback> = info
        .extra_inputs
        .iter()
        .enumerate()
        .map(|(k, d)| peak_callback(Arc::clone(&levels), main + k, d.channels, false))
        .collect();
    let output = Box::new(|block: &mut [f32], _stamp: OutputStamp| block.fill(0.0));
    let running = opened.start_with_extra(output, input, extra)?;
    Ok(Listening {
        running: Some(running),
        levels,
        detector: JumpDetector::new(inputs.len()),
        last_peaks: vec![0.0; inputs.len()],
        inputs,
    })
}

/// Where the room is listened from: the host, the main input device (its name or id;
/// the host's default when `None`), the output device and the rate.
#[derive(Clone, Debug, PartialEq)]
pub struct RoomListen {
    pub host: Host,
    pub main_input: Option<String>,
    pub output: Option<String>,
    pub sample_rate_hz: u32,
}

/// The main input device among `devices`: the one named (by name or id), else the
/// host's default, else the first. Every other is a further device.
pub fn main_input_of<'a>(
    devices: &'a [device::InputDevice],
    named: Option<&str>,
) -> Option<&'a device::InputDevice> {
    devices
        .iter()
        .find(|d| named.is_some_and(|w| d.name == w || d.id == w))
        .or_else(|| devices.iter().find(|d| d.default))
        .or_else(|| devices.first())
}

/// The request that listens to every input device on the host at once: the main one
/// with all its channels, every other as a further device (found again by its id).
pub fn room_request(room: &RoomListen) -> Result<DeviceRequest, DeviceError> {
    let devices = device::input_devices(&room.host)?;
    let main = main_input_of(&devices, room.main_input.as_deref()).ok_or_else(|| {
        DeviceError::Unavailable(format!(
            "{} has no input device to listen to: plug a microphone in, then try again",
            room.host.name()
        ))
    })?;
    let real = !matches!(room.host, Host::Virtual(_));
    Ok(DeviceRequest {
        host: room.host.clone(),
        input: real.then(|| main.name.clone()),
        output: room.output.clone().filter(|_| real),
        sample_rate_hz: room.sample_rate_hz,
        buffer_frames: None,
        input_channels: main.channels.max(1),
        output_channels: 2,
        extra_inputs: devices
            .iter()
            .filter(|d| d.id != main.id)
            .map(|d| ExtraInputRequest {
                name: d.id.clone(),
                channels: d.channels.max(1),
            })
            .collect(),
    })
}

impl Listening {
    /// Reads every input's peak since the last call (call it every 50–100 ms); the input
    /// that jumped, if one did.
    pub fn poll(&mut self) -> Option<&ListenedInput> {
        self.last_peaks = self.levels.take();
        let (index, _) = self.detector.feed(&self.last_peaks)?;
        self.inputs.get(index)
    }

    /// Stops listening (the devices are let go).
    pub fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop();
        }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A room at about −40 dB on every input, each a little different.
    fn room(inputs: usize) -> Vec<f32> {
        (0..inputs).map(|i| 0.01 + 0.001 * i as f32).collect()
    }

    fn warmed(inputs: usize) -> JumpDetector {
        let mut detector = JumpDetector::new(inputs);
        for _ in 0..20 {
            assert_eq!(
                detector.feed(&room(inputs)),
                None,
                "a steady room names nobody"
            );
        }
        detector
    }

    #[test]
    fn a_clap_in_front_of_one_microphone_names_it() {
        let mut detector = warmed(4);
        let mut clap = room(4);
        clap[2] = 0.6;
        // The others hear it across the room too, but far less.
        clap[0] = 0.03;
        clap[3] = 0.04;
        let (input, rise) = detector.feed(&clap).unwrap();
        assert_eq!(input, 2);
        assert!(rise > 30.0, "rise {rise}");
        // Back to the room: nothing more.
        assert_eq!(detector.feed(&room(4)), None);
    }

    #[test]
    fn a_clap_heard_alike_everywhere_names_nobody() {
        let mut detector = warmed(3);
        assert_eq!(detector.feed(&[0.5, 0.45, 0.55]), None);
    }

    #[test]
    fn a_louder_room_is_learnt_and_a_quiet_rise_is_not_a_clap() {
        let mut detector = warmed(2);
        // A fan comes on near input 1: its floor rises to it within a few seconds.
        for _ in 0..200 {
            detector.feed(&[0.1, 0.01]);
        }
        assert_eq!(detector.feed(&[0.1, 0.01]), None);
        // Silence everywhere, then a rise that is large in dB but below any clap.
        let mut quiet = JumpDetector::new(2);
        for _ in 0..10 {
            quiet.feed(&[0.0, 0.0]);
        }
        assert_eq!(quiet.feed(&[0.002, 0.0]), None);
    }

    #[test]
    fn nothing_is_named_before_the_floors_are_known() {
        let mut detector = JumpDetector::new(2);
        assert_eq!(detector.feed(&[0.9, 0.0]), None);
    }

    #[test]
    fn peaks_are_kept_per_channel_or_per_device_and_read_once() {
        let levels = PeakLevels::new(3);
        let mut main = peak_callback(Arc::clone(&levels), 0, 2, true);
        let mut usb = peak_callback(Arc::clone(&levels), 2, 2, false);
        let stamp = InputStamp {
            capture_frame: 0,
            reported_latency_frames: 0,
            time_secs: 0.0,
        };
        main(&[0.1, -0.5, 0.2, 0.3], stamp);
        usb(&[0.0, -0.25, 0.125, 0.0], stamp);
        assert_eq!(levels.take(), vec![0.2, 0.5, 0.25]);
        assert_eq!(levels.take(), vec![0.0, 0.0, 0.0]);
    }
}
