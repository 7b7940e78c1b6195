//! Opening an audio device and running two callbacks on it, whatever the backend.
//!
//! Owns the backend-neutral shape every device has in bandroom: an output callback and
//! an input callback, each handed interleaved `f32` frames and a stamp in device-clock
//! frames; the device's names, rate and granted buffer size; and a queue of faults
//! (unplugged, stream errors). A take may also record from further input devices, each
//! on a clock of its own (USB microphones): each gets an input callback of its own,
//! stamped on the same host clock as the output, and its faults are its own. cpal (ALSA,
//! JACK) and the virtual loopback device with its virtual microphones sit behind it,
//! interchangeably. Must not know what the callbacks do.

use super::clock::{InputStamp, OutputStamp};
use super::{cpal_backend, virtual_device};
use crossbeam_channel::Receiver;

pub type OutputCallback = Box<dyn FnMut(&mut [f32], OutputStamp) + Send + 'static>;
pub type InputCallback = Box<dyn FnMut(&[f32], InputStamp) + Send + 'static>;

/// Which backend to use.
#[derive(Clone, Debug, PartialEq)]
pub enum Host {
    Alsa,
    Jack,
    Virtual(virtual_device::VirtualSettings),
}

impl Host {
    pub const NAMES: [&'static str; 3] = ["alsa", "jack", "virtual"];

    pub fn name(&self) -> &'static str {
        match self {
            Host::Alsa => "alsa",
            Host::Jack => "jack",
            Host::Virtual(_) => "virtual",
        }
    }
}

/// What to open.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceRequest {
    pub host: Host,
    /// Device names as `bandroom devices` lists them; `None` takes the host's default.
    pub input: Option<String>,
    pub output: Option<String>,
    pub sample_rate_hz: u32,
    /// Frames per callback to ask for; `None` lets the device choose.
    pub buffer_frames: Option<u32>,
    /// Input channels needed (the highest channel recorded).
    pub input_channels: usize,
    pub output_channels: usize,
    /// Further input devices, each running on its own clock.
    pub extra_inputs: Vec<ExtraInputRequest>,
}

/// A further input device: a USB microphone, a second interface.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtraInputRequest {
    /// The device's name as `bandroom devices` lists it.
    pub name: String,
    /// Input channels needed (the highest channel recorded from it).
    pub channels: usize,
}

/// A further input device as opened.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtraInputInfo {
    pub name: String,
    /// The host's stable identity for it (see `device_identity`).
    pub id: String,
    /// The rate it runs at (its own when it cannot run at the session's).
    pub sample_rate_hz: u32,
    /// Channels per frame of its interleaved input.
    pub channels: usize,
    pub buffer_frames: Option<u32>,
}

/// What was opened.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceInfo {
    pub host: String,
    pub input_name: String,
    pub output_name: String,
    pub sample_rate_hz: u32,
    /// Frames per callback the device granted, when it says.
    pub buffer_frames: Option<u32>,
    pub input_channels: usize,
    pub output_channels: usize,
    /// The further input devices, in the order they were asked for.
    pub extra_inputs: Vec<ExtraInputInfo>,
}

/// Why a device could not be opened or kept running. Every message names the device
/// and what to try.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown audio host '{0}': use alsa, jack or virtual")]
    UnknownHost(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(
        "no {direction} device called '{name}' on {host}; available: {available} (see `bandroom devices --host {host}`)"
    )]
    NoSuchDevice {
        host: String,
        direction: &'static str,
        name: String,
        available: String,
    },
    #[error(
        "'{name}' fits more than one {direction} device on {host}: {matches}; give the full name (with its #N) or the id"
    )]
    AmbiguousDevice {
        host: String,
        direction: &'static str,
        name: String,
        matches: String,
    },
    #[error("{device} has {has} input channels but input {asked} was asked for")]
    TooFewChannels {
        device: String,
        has: usize,
        asked: usize,
    },
    #[error("{device} cannot run at {rate} Hz with {channels} channels of 32-bit float{detail}")]
    Unsupported {
        device: String,
        rate: u32,
        channels: usize,
        detail: String,
    },
    #[error("cannot start {device}: {reason}")]
    Start { device: String, reason: String },
}

/// Something a running device reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceFault {
    /// One line naming the device.
    pub message: String,
    /// The stream cannot go on (unplugged, server gone); otherwise it was a glitch
    /// (an xrun) that the capture already filled with silence.
    pub fatal: bool,
    /// Which further input device (index into `extra_inputs`) it concerns; `None` for
    /// the main device. A further device's fatal fault ends only its own tracks.
    pub extra: Option<usize>,
}

/// A device with both callbacks running. Dropping it (or `stop`) stops them.
pub struct RunningDevice {
    pub info: DeviceInfo,
    /// Faults reported while running.
    pub faults: Receiver<DeviceFault>,
    running: Running,
}

enum Running {
    Virtual(virtual_device::VirtualRunning),
    Cpal(cpal_backend::CpalRunning),
}

impl RunningDevice {
    pub(crate) fn virtual_device(
        info: DeviceInfo,
        faults: Receiver<DeviceFault>,
        running: virtual_device::VirtualRunning,
    ) -> Self {
        Self {
            info,
            faults,
            running: Running::Virtual(running),
        }
    }

    pub(crate) fn cpal(
        info: DeviceInfo,
        faults: Receiver<DeviceFault>,
        running: cpal_backend::CpalRunning,
    ) -> Self {
        Self {
            info,
            faults,
            running: Running::Cpal(running),
        }
    }

    /// Stops both callbacks; when this returns neither runs again.
    pub fn stop(self) {
        match self.running {
            Running::Virtual(v) => v.stop(),
            Running::Cpal(c) => c.stop(),
        }
    }
}

/// A device found and checked, not yet running.
pub struct OpenedDevice {
    pub info: DeviceInfo,
    opened: Opened,
}

enum Opened {
    Virtual(virtual_device::VirtualSettings),
    Cpal(cpal_backend::CpalOpened),
}

/// Finds the devices and checks they can do what is asked, without starting them.
pub fn open(request: &DeviceRequest) -> Result<OpenedDevice, DeviceError> {
    match &request.host {
        Host::Virtual(settings) => Ok(OpenedDevice {
            info: virtual_device::info(settings, request)?,
            opened: Opened::Virtual(settings.clone()),
        }),
        Host::Alsa | Host::Jack => {
            let (info, opened) = cpal_backend::open(request)?;
            Ok(OpenedDevice {
                info,
                opened: Opened::Cpal(opened),
            })
        }
    }
}

impl OpenedDevice {
    /// Starts both callbacks. Input buffers are `info.input_channels` wide, output
    /// buffers `info.output_channels`.
    pub fn start(
        self,
        output: OutputCallback,
        input: InputCallback,
    ) -> Result<RunningDevice, DeviceError> {
        self.start_with_extra(output, input, Vec::new())
    }

    /// Starts both callbacks and one input callback per further input device (in the
    /// order of `info.extra_inputs`; missing ones are not started).
    pub fn start_with_extra(
        self,
        output: OutputCallback,
        input: InputCallback,
        extra: Vec<InputCallback>,
    ) -> Result<RunningDevice, DeviceError> {
        match self.opened {
            Opened::Virtual(settings) => {
                virtual_device::start(&settings, self.info, output, input, extra)
            }
            Opened::Cpal(opened) => opened.start(self.info, output, input, extra),
        }
    }
}

/// A device that can record, as the room plan and `devices --identify` offer it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputDevice {
    /// As shown and typed (`#2` for the second of two identical devices).
    pub name: String,
    /// The host's stable identity for it: what the room plan keeps.
    pub id: String,
    pub channels: usize,
    /// The host's default input.
    pub default: bool,
}

/// Every device on `host` that can record: for the virtual host, its loopback and its
/// microphones.
pub fn input_devices(host: &Host) -> Result<Vec<InputDevice>, DeviceError> {
    match host {
        Host::Virtual(settings) => Ok(std::iter::once(InputDevice {
            name: settings.device_name(),
            id: "virtual:loopback".into(),
            channels: virtual_device::VIRTUAL_INPUT_CHANNELS,
            default: true,
        })
        .chain(
            virtual_device::virtual_mic_devices(settings)
                .into_iter()
                .map(|d| InputDevice {
                    name: d.name,
                    id: d.id,
                    channels: 1,
                    default: false,
                }),
        )
        .collect()),
        Host::Alsa | Host::Jack => Ok(cpal_backend::list(host)?
            .into_iter()
            .filter(|d| d.inputs > 0)
            .map(|d| InputDevice {
                name: d.name,
                id: d.id,
                channels: d.inputs,
                default: d.default_input,
            })
            .collect()),
    }
}

/// Parses `--host`.
pub fn parse_host(
    name: &str,
    virtual_settings: virtual_device::VirtualSettings,
) -> Result<Host, DeviceError> {
    match name {
        "alsa" => Ok(Host::Alsa),
        // PipeWire serves JACK clients through its JACK shim.
        "jack" | "pipewire" => Ok(Host::Jack),
        "virtual" => Ok(Host::Virtual(virtual_settings)),
        other => Err(DeviceError::UnknownHost(other.to_string())),
    }
}
