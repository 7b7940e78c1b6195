//! The virtual loopback device: a sound card of bandroom's own, for demos without
//! hardware and for exact tests.
//!
//! Owns a thread that behaves like a duplex interface: every `block_frames` it asks
//! the output callback for a block, and hands the input callback what came out
//! `latency_frames` earlier (input channel `n` hears output channel `n mod outputs`).
//! The latency is not reported in the stamps, just as a cable and converters are not,
//! so calibration has something real to measure. It can drop every Nth input block to
//! imitate xruns, and run faster than real time for tests. Must not allocate per block
//! (buffers are made before the thread starts).

use super::clock::{InputStamp, OutputStamp};
use super::device::{
    DeviceError, DeviceFault, DeviceInfo, DeviceRequest, ExtraInputInfo, InputCallback,
    OutputCallback, RunningDevice,
};
use super::device_identity::{KnownDevice, find_device};
use super::virtual_mics::{
    MAX_VIRTUAL_MICS, MicRoom, MicsRunning, OutputHistory, VirtualMic, mic_name, mic_number,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const VIRTUAL_DEVICE_NAME: &str = "virtual loopback";
/// Input channels of the virtual device: enough for a whole class.
pub const VIRTUAL_INPUT_CHANNELS: usize = 32;

#[derive(Clone, Debug, PartialEq)]
pub struct VirtualSettings {
    /// Frames between a sample leaving the output and arriving at the input.
    pub latency_frames: u64,
    /// Frames per callback.
    pub block_frames: usize,
    /// Drop every Nth input block (an imitation xrun); `None` drops nothing.
    pub dropout_every: Option<u32>,
    /// 1.0 is real time; tests run faster.
    pub speed: f64,
    /// Microphones of their own, each on its own clock (`virtual mic 1`, …).
    pub mics: Vec<VirtualMic>,
}

impl Default for VirtualSettings {
    fn default() -> Self {
        Self {
            latency_frames: 256,
            block_frames: 256,
            dropout_every: None,
            speed: 1.0,
            mics: Vec::new(),
        }
    }
}

impl VirtualSettings {
    /// The name calibrations are stored under: the latency is part of the device.
    pub fn device_name(&self) -> String {
        format!("{VIRTUAL_DEVICE_NAME} ({} frames)", self.latency_frames)
    }

    pub fn validate(&self) -> Result<(), DeviceError> {
        let bad = |m: String| Err(DeviceError::Unavailable(m));
        if self.block_frames == 0 || self.block_frames > 65_536 {
            return bad(format!(
                "--virtual-block {} is not allowed: use 1 to 65536 frames",
                self.block_frames
            ));
        }
        if self.latency_frames > 10 * 48_000 {
            return bad(format!(
                "--virtual-latency {} is not allowed: use 0 to 480000 frames",
                self.latency_frames
            ));
        }
        if !(self.speed.is_finite() && (0.01..=1000.0).contains(&self.speed)) {
            return bad(format!(
                "--virtual-speed {} is not allowed: use 0.01 to 1000 (1 is real time)",
                self.speed
            ));
        }
        if self.dropout_every == Some(0) {
            return bad("--virtual-dropout-every 0 is not allowed: use 1 or more".into());
        }
        if self.mics.len() > MAX_VIRTUAL_MICS {
            return bad(format!(
                "--virtual-mics {} is not allowed: use 0 to {MAX_VIRTUAL_MICS}",
                self.mics.len()
            ));
        }
        for (i, mic) in self.mics.iter().enumerate() {
            mic.validate(i + 1)?;
        }
        Ok(())
    }
}

pub struct VirtualRunning {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    mics: Option<MicsRunning>,
}

impl VirtualRunning {
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Some(mut mics) = self.mics.take() {
            mics.halt();
        }
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for VirtualRunning {
    fn drop(&mut self) {
        self.halt();
    }
}

/// What the virtual device will be, checked against the request.
pub fn info(
    settings: &VirtualSettings,
    request: &DeviceRequest,
) -> Result<DeviceInfo, DeviceError> {
    settings.validate()?;
    if request.input_channels > VIRTUAL_INPUT_CHANNELS {
        return Err(DeviceError::TooFewChannels {
            device: settings.device_name(),
            has: VIRTUAL_INPUT_CHANNELS,
            asked: request.input_channels,
        });
    }
    let name = settings.device_name();
    let extra_inputs = request
        .extra_inputs
        .iter()
        .map(|extra| {
            let mics = virtual_mic_devices(settings);
            let found = find_device(&extra.name, &mics, "virtual", "input")?;
            let number = mic_number(&found.name).ok_or_else(|| DeviceError::NoSuchDevice {
                host: "virtual".into(),
                direction: "input",
                name: extra.name.clone(),
                available: virtual_inputs(settings).join(", "),
            })?;
            if extra.channels > 1 {
                return Err(DeviceError::TooFewChannels {
                    device: extra.name.clone(),
                    has: 1,
                    asked: extra.channels,
                });
            }
            Ok(ExtraInputInfo {
                name: mic_name(number),
                id: found.id.clone(),
                sample_rate_hz: request.sample_rate_hz,
                channels: 1,
                buffer_frames: settings.mics.get(number - 1).map(|m| m.block_frames as u32),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(DeviceInfo {
        host: "virtual".into(),
        input_name: name.clone(),
        output_name: name,
        sample_rate_hz: request.sample_rate_hz,
        buffer_frames: Some(settings.block_frames as u32),
        input_channels: VIRTUAL_INPUT_CHANNELS,
        output_channels: request.output_channels.max(1),
        extra_inputs,
    })
}

/// Every input device the virtual host offers: the loopback and its microphones.
/// The virtual microphones as devices to find by name (`virtual mic 2`, `mic 2`) or id.
pub fn virtual_mic_devices(settings: &VirtualSettings) -> Vec<KnownDevice> {
    (1..=settings.mics.len())
        .map(|n| KnownDevice {
            name: mic_name(n),
            id: format!("virtual:mic-{n}"),
            description: "hears the loopback's output 1 on a clock of its own".to_string(),
        })
        .collect()
}

pub fn virtual_inputs(settings: &VirtualSettings) -> Vec<String> {
    std::iter::once(settings.device_name())
        .chain((1..=settings.mics.len()).map(mic_name))
        .collect()
}

pub fn start(
    settings: &VirtualSettings,
    info: DeviceInfo,
    mut output: OutputCallback,
    mut input: InputCallback,
    extra: Vec<InputCallback>,
) -> Result<RunningDevice, DeviceError> {
    let out_channels = info.output_channels;
    let in_channels = info.input_channels;
    let block = settings.block_frames;
    let latency = settings.latency_frames as usize;
    let rate = info.sample_rate_hz;
    let history_frames = latency + block;
    let mut history = vec![0.0f32; history_frames * out_channels];
    let mut out_block = vec![0.0f32; block * out_channels];
    let mut in_block = vec![0.0f32; block * in_channels];
    let dropout_every = settings.dropout_every;
    let speed = settings.speed;
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = Arc::clone(&stop);
    // Room for every dropout of a long take; past that, repeats are dropped as a real
    // device's would be.
    let (fault_tx, faults) = crossbeam_channel::bounded(4096);
    let room_sound = OutputHistory::new();
    let heard = Arc::clone(&room_sound);
    let started = Instant::now();
    let mics: Vec<(usize, VirtualMic, usize, InputCallback)> = info
        .extra_inputs
        .iter()
        .zip(extra)
        .enumerate()
        .filter_map(|(index, (extra, callback))| {
            let number = mic_number(&extra.name)?;
            let mic = settings.mics.get(number.checked_sub(1)?)?.clone();
            Some((number, mic, index, callback))
        })
        .collect();
    let mic_faults = fault_tx.clone();
    let thread = std::thread::Builder::new()
        .name("virtual audio device".into())
        .spawn(move || {
            let mut clock: u64 = 0;
            let mut cycle: u64 = 0;
            while !stop_flag.load(Ordering::Acquire) {
                out_block.fill(0.0);
                let stamp = OutputStamp {
                    playback_frame: clock as i64,
                    reported_latency_frames: 0,
                    time_secs: clock as f64 / f64::from(rate),
                };
                output(&mut out_block, stamp);
                heard.push(&out_block, out_channels);
                for i in 0..block {
                    let slot = ((clock as usize + i) % history_frames) * out_channels;
                    history[slot..slot + out_channels]
                        .copy_from_slice(&out_block[i * out_channels..(i + 1) * out_channels]);
                }
                for i in 0..block {
                    let source = (clock + i as u64).checked_sub(latency as u64);
                    let frame = &mut in_block[i * in_channels..(i + 1) * in_channels];
                    match source {
                        Some(s) => {
                            let slot = (s as usize % history_frames) * out_channels;
                            for (c, sample) in frame.iter_mut().enumerate() {
                                *sample = history[slot + c % out_channels];
                            }
                        }
                        None => frame.fill(0.0),
                    }
                }
                cycle += 1;
                let dropped = dropout_every.is_some_and(|n| cycle.is_multiple_of(u64::from(n)));
                if dropped {
                    // Reported like a real interface's xrun, so takes count it.
                    let _ = fault_tx.try_send(DeviceFault {
                        message: format!("{VIRTUAL_DEVICE_NAME}: input block {cycle} dropped"),
                        fatal: false,
                        extra: None,
                    });
                } else {
                    input(
                        &in_block,
                        InputStamp {
                            capture_frame: clock as i64,
                            reported_latency_frames: 0,
                            time_secs: clock as f64 / f64::from(rate),
                        },
                    );
                }
                clock += block as u64;
                let due = Duration::from_secs_f64(clock as f64 / (f64::from(rate) * speed));
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        })
        .map_err(|e| DeviceError::Start {
            device: settings.device_name(),
            reason: e.to_string(),
        })?;
    let mut running = VirtualRunning {
        stop,
        thread: Some(thread),
        mics: None,
    };
    if !mics.is_empty() {
        let room = MicRoom {
            history: room_sound,
            rate_hz: rate,
            faults: mic_faults,
        };
        running.mics = Some(super::virtual_mics::start(&room, mics)?);
    }
    Ok(RunningDevice::virtual_device(info, faults, running))
}
