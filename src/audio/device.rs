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

/// Which backend to use. Each platform has its own native hosts (only they are built
/// there) and the virtual loopback everywhere.
#[derive(Clone, Debug, PartialEq)]
pub enum Host {
    /// ALSA: the sound card itself, or PipeWire and PulseAudio through their ALSA plug-ins.
    #[cfg(target_os = "linux")]
    Alsa,
    /// JACK, or PipeWire's JACK layer: every channel of a multi-input interface.
    #[cfg(target_os = "linux")]
    Jack,
    /// WASAPI, Windows' own audio in shared mode: every Windows PC has it.
    #[cfg(target_os = "windows")]
    Wasapi,
    /// ASIO: low latency from an interface's own driver (built with `--features asio`).
    #[cfg(all(target_os = "windows", feature = "asio"))]
    Asio,
    /// Core Audio, macOS's own.
    #[cfg(target_os = "macos")]
    CoreAudio,
    Virtual(virtual_device::VirtualSettings),
}

/// The native hosts of this platform, its usual one first.
#[cfg(target_os = "linux")]
const PLATFORM_HOSTS: &[&str] = &["alsa", "jack"];
#[cfg(all(target_os = "windows", not(feature = "asio")))]
const PLATFORM_HOSTS: &[&str] = &["wasapi"];
#[cfg(all(target_os = "windows", feature = "asio"))]
const PLATFORM_HOSTS: &[&str] = &["wasapi", "asio"];
#[cfg(target_os = "macos")]
const PLATFORM_HOSTS: &[&str] = &["coreaudio"];
#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
const PLATFORM_HOSTS: &[&str] = &[];

impl Host {
    /// Every name `--host` takes on this platform: its native hosts, then `virtual`.
    pub fn names() -> Vec<&'static str> {
        PLATFORM_HOSTS
            .iter()
            .copied()
            .chain(std::iter::once("virtual"))
            .collect()
    }

    /// The host used when none is chosen: the platform's usual one (ALSA, WASAPI,
    /// Core Audio).
    pub fn default_name() -> &'static str {
        PLATFORM_HOSTS.first().copied().unwrap_or("virtual")
    }

    /// Every host of this platform, for listings; the virtual one with `virtual_settings`.
    pub fn all(virtual_settings: &virtual_device::VirtualSettings) -> Vec<Host> {
        Host::names()
            .into_iter()
            .filter_map(|name| parse_host(name, virtual_settings.clone()).ok())
            .collect()
    }

    pub fn name(&self) -> &'static str {
        match self {
            #[cfg(target_os = "linux")]
            Host::Alsa => "alsa",
            #[cfg(target_os = "linux")]
            Host::Jack => "jack",
            #[cfg(target_os = "windows")]
            Host::Wasapi => "wasapi",
            #[cfg(all(target_os = "windows", feature = "asio"))]
            Host::Asio => "asio",
            #[cfg(target_os = "macos")]
            Host::CoreAudio => "coreaudio",
            Host::Virtual(_) => "virtual",
        }
    }

    /// Whether this is a host of real devices (through cpal), not the virtual one.
    pub fn is_real(&self) -> bool {
        !matches!(self, Host::Virtual(_))
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
    #[error("unknown audio host '{0}': use {hosts}", hosts = Host::names().join(", "))]
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
        #[allow(unreachable_patterns)] // a platform with no native host has only the virtual one
        _ => {
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
        #[allow(unreachable_patterns)]
        _ => Ok(cpal_backend::list(host)?
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
        #[cfg(target_os = "linux")]
        "alsa" => Ok(Host::Alsa),
        // PipeWire serves JACK clients through its JACK shim.
        #[cfg(target_os = "linux")]
        "jack" | "pipewire" => Ok(Host::Jack),
        #[cfg(target_os = "windows")]
        "wasapi" => Ok(Host::Wasapi),
        #[cfg(all(target_os = "windows", feature = "asio"))]
        "asio" => Ok(Host::Asio),
        #[cfg(target_os = "macos")]
        "coreaudio" => Ok(Host::CoreAudio),
        "virtual" => Ok(Host::Virtual(virtual_settings)),
        other => Err(DeviceError::UnknownHost(other.to_string())),
    }
}

#[cfg(test)]
mod host_tests {
    use super::*;
    use crate::audio::virtual_device::VirtualSettings;

    fn refused(name: &str) -> String {
        parse_host(name, VirtualSettings::default())
            .map(|h| h.name().to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_offers_alsa_first_then_jack_and_the_virtual_host() {
        assert_eq!(Host::names(), ["alsa", "jack", "virtual"]);
        assert_eq!(Host::default_name(), "alsa");
        assert_eq!(refused("pipewire"), "jack");
        // Another platform's host is refused with this platform's list.
        assert_eq!(
            refused("wasapi"),
            "unknown audio host 'wasapi': use alsa, jack, virtual"
        );
        assert_eq!(
            refused("coreaudio"),
            "unknown audio host 'coreaudio': use alsa, jack, virtual"
        );
    }

    #[cfg(target_os = "windows")]
    #[test]
    fn windows_offers_wasapi_first_and_asio_only_when_built_with_it() {
        assert_eq!(Host::default_name(), "wasapi");
        assert_eq!(Host::names().contains(&"asio"), cfg!(feature = "asio"));
        assert!(refused("alsa").starts_with("unknown audio host 'alsa'"));
        assert!(refused("jack").starts_with("unknown audio host 'jack'"));
    }

    #[cfg(target_os = "macos")]
    #[test]
    fn macos_offers_core_audio() {
        assert_eq!(Host::names(), ["coreaudio", "virtual"]);
        assert_eq!(Host::default_name(), "coreaudio");
        assert!(refused("jack").starts_with("unknown audio host 'jack'"));
    }

    #[test]
    fn every_host_offered_parses_back_to_itself() {
        for name in Host::names() {
            assert_eq!(refused(name), name);
        }
        assert_eq!(
            Host::all(&VirtualSettings::default()).len(),
            Host::names().len()
        );
    }
}
