//! Real sound cards through cpal: ALSA (Linux's default) and JACK (also PipeWire's
//! JACK shim).
//!
//! Owns finding devices by name, checking they can run 32-bit float at the asked rate
//! and channel count, building the separate input and output streams, turning cpal's
//! timestamps into device-clock frames, and forwarding stream errors as faults.
//! Must not do anything in the callbacks beyond calling the ones it was given.

use super::clock::{InputStamp, OutputStamp};
use super::device::{
    DeviceError, DeviceFault, DeviceInfo, DeviceRequest, ExtraInputInfo, Host, InputCallback,
    OutputCallback, RunningDevice,
};
use super::device_identity::{KnownDevice, find_device, tell_apart};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{BufferSize, SampleFormat, StreamConfig, StreamInstant};

pub struct CpalRunning {
    input: cpal::Stream,
    output: cpal::Stream,
    extra: Vec<cpal::Stream>,
}

impl CpalRunning {
    pub fn stop(self) {
        // Pausing first stops callbacks promptly on hosts where dropping is deferred.
        let _ = self.output.pause();
        let _ = self.input.pause();
        for stream in &self.extra {
            let _ = stream.pause();
        }
        drop(self.extra);
        drop(self.input);
        drop(self.output);
    }
}

fn host_id(host: &Host) -> Result<cpal::HostId, DeviceError> {
    match host {
        #[cfg(target_os = "linux")]
        Host::Alsa => Ok(cpal::HostId::Alsa),
        #[cfg(target_os = "linux")]
        Host::Jack => Ok(cpal::HostId::Jack),
        #[cfg(target_os = "windows")]
        Host::Wasapi => Ok(cpal::HostId::Wasapi),
        #[cfg(all(target_os = "windows", feature = "asio"))]
        Host::Asio => Ok(cpal::HostId::Asio),
        #[cfg(target_os = "macos")]
        Host::CoreAudio => Ok(cpal::HostId::CoreAudio),
        Host::Virtual(_) => Err(DeviceError::UnknownHost("virtual".into())),
    }
}

pub fn open_host(host: &Host) -> Result<cpal::Host, DeviceError> {
    let id = host_id(host)?;
    quiet_alsa_lib();
    cpal::host_from_id(id).map_err(|e| {
        DeviceError::Unavailable(format!(
            "the {} audio host is not available: {e}{}",
            host.name(),
            hint(host)
        ))
    })
}

/// Keeps alsa-lib's own messages ("cannot find card '0'", ...) off this thread's stderr:
/// bandroom reports what went wrong itself, in one line. The handler captures them into
/// a buffer that lives as long as the thread.
fn quiet_alsa_lib() {
    #[cfg(target_os = "linux")]
    {
        thread_local! {
            static QUIET: bool = alsa::Output::local_error_handler().is_ok();
        }
        QUIET.with(|_| {});
    }
}

fn hint(host: &Host) -> &'static str {
    match host {
        #[cfg(target_os = "linux")]
        Host::Jack => {
            " (is a JACK server running? start one with `jackd -d alsa` or qjackctl, or use --host alsa)"
        }
        _ => " (is a sound card connected? try --host virtual for a demo without hardware)",
    }
}

/// A device's name as bandroom shows and matches it: the short name a teacher types.
/// ALSA's is the PCM name (`default`, `hw:CARD=USB,DEV=0`); JACK's is its description
/// (`JACK Input`), since its id is only "input" or "output".
pub fn device_name(device: &cpal::Device) -> String {
    match device.id() {
        Ok(id) if id.host() == cpal::HostId::Alsa => id.id().to_string(),
        _ => device.to_string(),
    }
}

/// The longer description a device gives of itself, for listings.
pub fn device_description(device: &cpal::Device) -> String {
    device
        .description()
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// A device's stable identity: cpal's device id where the host has one, else its name.
fn device_id(device: &cpal::Device) -> String {
    device
        .id()
        .map_or_else(|_| device_name(device), |id| id.to_string())
}

/// The host's devices for one direction, named so identical ones are told apart (the
/// numbering runs over all the host's devices, as `bandroom devices` lists them).
fn known_devices(
    host: &Host,
    cpal_host: &cpal::Host,
    input: bool,
) -> Result<Vec<(cpal::Device, KnownDevice)>, DeviceError> {
    let all: Vec<cpal::Device> = cpal_host
        .devices()
        .map_err(|e| {
            DeviceError::Unavailable(format!(
                "cannot list {} devices: {e}{}",
                host.name(),
                hint(host)
            ))
        })?
        .collect();
    let known = tell_apart(
        all.iter()
            .map(|d| (device_name(d), device_id(d), device_description(d)))
            .collect(),
    );
    Ok(all
        .into_iter()
        .zip(known)
        .filter(|(d, _)| {
            if input {
                d.supports_input()
            } else {
                d.supports_output()
            }
        })
        .collect())
}

fn find(
    host: &Host,
    cpal_host: &cpal::Host,
    wanted: Option<&str>,
    input: bool,
) -> Result<(cpal::Device, KnownDevice), DeviceError> {
    let direction = if input { "input" } else { "output" };
    let devices = known_devices(host, cpal_host, input)?;
    let Some(name) = wanted else {
        let default = if input {
            cpal_host.default_input_device()
        } else {
            cpal_host.default_output_device()
        };
        let default = default.ok_or_else(|| {
            DeviceError::Unavailable(format!(
                "{} has no {direction} device{}",
                host.name(),
                hint(host)
            ))
        })?;
        let id = device_id(&default);
        let known = devices.iter().find(|(_, k)| k.id == id).map_or_else(
            || KnownDevice {
                name: device_name(&default),
                id,
                description: device_description(&default),
            },
            |(_, k)| k.clone(),
        );
        return Ok((default, known));
    };
    let known: Vec<KnownDevice> = devices.iter().map(|(_, k)| k.clone()).collect();
    let found = find_device(name, &known, host.name(), direction)?;
    devices
        .into_iter()
        .find(|(_, k)| k.id == found.id)
        .ok_or_else(|| {
            DeviceError::Unavailable(format!("{name} is no longer listed by {}", host.name()))
        })
}

/// Checks the device offers f32 at `rate` with at least `channels`; returns its channel count.
fn check_config(
    device: &cpal::Device,
    input: bool,
    rate: u32,
    channels: usize,
) -> Result<usize, DeviceError> {
    let name = device_name(device);
    let ranges: Vec<cpal::SupportedStreamConfigRange> = if input {
        device.supported_input_configs().map(Iterator::collect)
    } else {
        device.supported_output_configs().map(Iterator::collect)
    }
    .map_err(|e| {
        DeviceError::Unavailable(format!(
            "cannot read what {name} supports: {e} (is it connected? `bandroom devices` lists what is there; --host virtual works without hardware)"
        ))
    })?;
    let fits = |r: &&cpal::SupportedStreamConfigRange| {
        r.sample_format() == SampleFormat::F32
            && usize::from(r.channels()) >= channels
            && r.min_sample_rate() <= rate
            && rate <= r.max_sample_rate()
    };
    match ranges
        .iter()
        .filter(fits)
        .map(|r| usize::from(r.channels()))
        .min()
    {
        Some(available) => Ok(available),
        None => {
            let max_channels = ranges
                .iter()
                .map(|r| usize::from(r.channels()))
                .max()
                .unwrap_or(0);
            if input && max_channels < channels {
                return Err(DeviceError::TooFewChannels {
                    device: name,
                    has: max_channels,
                    asked: channels,
                });
            }
            let rates: Vec<String> = ranges
                .iter()
                .filter(|r| r.sample_format() == SampleFormat::F32)
                .map(|r| format!("{}–{} Hz", r.min_sample_rate(), r.max_sample_rate()))
                .collect();
            Err(DeviceError::Unsupported {
                device: name,
                rate,
                channels,
                detail: if rates.is_empty() {
                    " (it offers no 32-bit float format; on ALSA choose its 'plughw' or 'default' device)".into()
                } else {
                    format!(" (it offers {})", rates.join(", "))
                },
            })
        }
    }
}

fn frames(instant: StreamInstant, rate: u32) -> i64 {
    ((instant.as_nanos() * u128::from(rate) + 500_000_000) / 1_000_000_000) as i64
}

fn seconds(instant: StreamInstant) -> f64 {
    instant.as_nanos() as f64 * 1e-9
}

fn frames_between(later: StreamInstant, earlier: StreamInstant, rate: u32) -> i64 {
    let nanos = later.saturating_duration_since(earlier).as_nanos();
    ((nanos * u128::from(rate) + 500_000_000) / 1_000_000_000) as i64
}

/// Devices found and configs checked, ready to build streams.
pub struct CpalOpened {
    in_device: cpal::Device,
    out_device: cpal::Device,
    in_config: StreamConfig,
    out_config: StreamConfig,
    host: Host,
    /// Further input devices, each with the config it will run at.
    extra: Vec<(cpal::Device, StreamConfig)>,
}

/// A further input device at the session's rate, or at a rate of its own when it
/// offers no other (the aligner resamples it from there).
fn open_extra(
    host: &Host,
    cpal_host: &cpal::Host,
    request: &super::device::ExtraInputRequest,
    rate: u32,
) -> Result<(ExtraInputInfo, cpal::Device, StreamConfig), DeviceError> {
    let (device, known) = find(host, cpal_host, Some(&request.name), true)?;
    let wanted = request.channels.max(1);
    let (channels, own_rate) = match check_config(&device, true, rate, wanted) {
        Ok(channels) => (channels, rate),
        Err(DeviceError::Unsupported { .. }) => {
            let default = device.default_input_config().map_err(|e| {
                DeviceError::Unavailable(format!(
                    "{} cannot run at {rate} Hz and gives no rate of its own: {e}",
                    request.name
                ))
            })?;
            let own = default.sample_rate();
            (check_config(&device, true, own, wanted)?, own)
        }
        Err(other) => return Err(other),
    };
    let info = ExtraInputInfo {
        name: known.name,
        id: known.id,
        sample_rate_hz: own_rate,
        channels,
        buffer_frames: None,
    };
    let config = StreamConfig {
        channels: channels as u16,
        sample_rate: own_rate,
        buffer_size: BufferSize::Default,
    };
    Ok((info, device, config))
}

pub fn open(request: &DeviceRequest) -> Result<(DeviceInfo, CpalOpened), DeviceError> {
    let host = &request.host;
    let cpal_host = open_host(host)?;
    let (in_device, in_known) = find(host, &cpal_host, request.input.as_deref(), true)?;
    let (out_device, out_known) = find(host, &cpal_host, request.output.as_deref(), false)?;
    let rate = request.sample_rate_hz;
    let in_channels = check_config(&in_device, true, rate, request.input_channels.max(1))?;
    let out_channels = check_config(&out_device, false, rate, request.output_channels)?;
    let buffer_size = request
        .buffer_frames
        .map_or(BufferSize::Default, BufferSize::Fixed);
    let mut extra_inputs = Vec::with_capacity(request.extra_inputs.len());
    let mut extra = Vec::with_capacity(request.extra_inputs.len());
    for wanted in &request.extra_inputs {
        let (info, device, config) = open_extra(host, &cpal_host, wanted, rate)?;
        extra_inputs.push(info);
        extra.push((device, config));
    }
    let info = DeviceInfo {
        host: host.name().into(),
        input_name: in_known.name,
        output_name: out_known.name,
        sample_rate_hz: rate,
        buffer_frames: request.buffer_frames,
        input_channels: in_channels,
        output_channels: out_channels,
        extra_inputs,
    };
    let opened = CpalOpened {
        in_config: StreamConfig {
            channels: in_channels as u16,
            sample_rate: rate,
            buffer_size,
        },
        out_config: StreamConfig {
            channels: out_channels as u16,
            sample_rate: rate,
            buffer_size,
        },
        in_device,
        out_device,
        host: host.clone(),
        extra,
    };
    Ok((info, opened))
}

impl CpalOpened {
    pub fn start(
        self,
        mut info: DeviceInfo,
        mut output: OutputCallback,
        mut input: InputCallback,
        extra_callbacks: Vec<InputCallback>,
    ) -> Result<RunningDevice, DeviceError> {
        let rate = info.sample_rate_hz;
        let host = &self.host;
        let (fault_tx, faults) = crossbeam_channel::bounded(64);
        let fault = |device: String, extra: Option<usize>| {
            let tx = fault_tx.clone();
            move |e: cpal::Error| {
                let fatal = !matches!(
                    e.kind(),
                    cpal::ErrorKind::Xrun
                        | cpal::ErrorKind::DeviceChanged
                        | cpal::ErrorKind::RealtimeDenied
                );
                // A full queue drops repeats of a fault already reported.
                let _ = tx.try_send(DeviceFault {
                    message: format!("{device}: {e}"),
                    fatal,
                    extra,
                });
            }
        };
        let start_error = |device: &str, e: &dyn std::fmt::Display| DeviceError::Start {
            device: device.into(),
            reason: format!("{e}{}", hint(host)),
        };
        let output_stream = self
            .out_device
            .build_output_stream::<f32, _, _>(
                self.out_config,
                move |data: &mut [f32], cb: &cpal::OutputCallbackInfo| {
                    let t = cb.timestamp();
                    output(
                        data,
                        OutputStamp {
                            playback_frame: frames(t.playback, rate),
                            reported_latency_frames: frames_between(t.playback, t.callback, rate),
                            time_secs: seconds(t.callback),
                        },
                    );
                },
                fault(info.output_name.clone(), None),
                None,
            )
            .map_err(|e| start_error(&info.output_name, &e))?;
        let input_stream = self
            .in_device
            .build_input_stream::<f32, _, _>(
                self.in_config,
                move |data: &[f32], cb: &cpal::InputCallbackInfo| {
                    let t = cb.timestamp();
                    input(
                        data,
                        InputStamp {
                            capture_frame: frames(t.capture, rate),
                            reported_latency_frames: frames_between(t.callback, t.capture, rate),
                            time_secs: seconds(t.callback),
                        },
                    );
                },
                fault(info.input_name.clone(), None),
                None,
            )
            .map_err(|e| start_error(&info.input_name, &e))?;
        output_stream
            .play()
            .map_err(|e| start_error(&info.output_name, &e))?;
        input_stream
            .play()
            .map_err(|e| start_error(&info.input_name, &e))?;
        let mut extra_streams = Vec::with_capacity(self.extra.len());
        for (index, ((device, config), mut callback)) in
            self.extra.into_iter().zip(extra_callbacks).enumerate()
        {
            let name = device_name(&device);
            let own_rate = config.sample_rate;
            let stream = device
                .build_input_stream::<f32, _, _>(
                    config,
                    move |data: &[f32], cb: &cpal::InputCallbackInfo| {
                        let t = cb.timestamp();
                        callback(
                            data,
                            InputStamp {
                                capture_frame: frames(t.capture, own_rate),
                                reported_latency_frames: frames_between(
                                    t.callback, t.capture, own_rate,
                                ),
                                time_secs: seconds(t.callback),
                            },
                        );
                    },
                    fault(name.clone(), Some(index)),
                    None,
                )
                .map_err(|e| start_error(&name, &e))?;
            stream.play().map_err(|e| start_error(&name, &e))?;
            if let Some(extra) = info.extra_inputs.get_mut(index) {
                extra.buffer_frames = stream.buffer_size().ok();
            }
            extra_streams.push(stream);
        }
        info.buffer_frames = output_stream.buffer_size().ok().or(info.buffer_frames);
        Ok(RunningDevice::cpal(
            info,
            faults,
            CpalRunning {
                input: input_stream,
                output: output_stream,
                extra: extra_streams,
            },
        ))
    }
}

/// One line per device for `bandroom devices`.
#[derive(Clone, Debug)]
pub struct DeviceListing {
    /// As shown and typed (`#2` for the second of two identical devices).
    pub name: String,
    /// The host's stable identity for it.
    pub id: String,
    pub description: String,
    pub inputs: usize,
    pub outputs: usize,
    pub rates: String,
    pub buffers: String,
    pub default_input: bool,
    pub default_output: bool,
}

pub fn list(host: &Host) -> Result<Vec<DeviceListing>, DeviceError> {
    let cpal_host = open_host(host)?;
    let default_in = cpal_host.default_input_device().map(|d| device_id(&d));
    let default_out = cpal_host.default_output_device().map(|d| device_id(&d));
    let devices = cpal_host.devices().map_err(|e| {
        DeviceError::Unavailable(format!(
            "cannot list {} devices: {e}{}",
            host.name(),
            hint(host)
        ))
    })?;
    let mut listings: Vec<DeviceListing> = Vec::new();
    for device in devices {
        let name = device_name(&device);
        let id = device_id(&device);
        let inputs: Vec<_> = device
            .supported_input_configs()
            .map(Iterator::collect)
            .unwrap_or_default();
        let outputs: Vec<_> = device
            .supported_output_configs()
            .map(Iterator::collect)
            .unwrap_or_default();
        let all: Vec<&cpal::SupportedStreamConfigRange> =
            inputs.iter().chain(outputs.iter()).collect();
        let min_rate = all.iter().map(|r| r.min_sample_rate()).min();
        let max_rate = all.iter().map(|r| r.max_sample_rate()).max();
        let rates = match (min_rate, max_rate) {
            (Some(lo), Some(hi)) if lo == hi => format!("{lo} Hz"),
            (Some(lo), Some(hi)) => format!("{lo}–{hi} Hz"),
            _ => "?".into(),
        };
        let buffers = all
            .iter()
            .find_map(|r| match r.buffer_size() {
                cpal::SupportedBufferSize::Range { min, max } => Some(format!("{min}–{max}")),
                cpal::SupportedBufferSize::Unknown => None,
            })
            .unwrap_or_else(|| "device default".into());
        let channels = |ranges: &[cpal::SupportedStreamConfigRange]| {
            ranges
                .iter()
                .map(|r| usize::from(r.channels()))
                .max()
                .unwrap_or(0)
        };
        if let Some(existing) = listings.iter_mut().find(|l| l.id == id) {
            existing.inputs = existing.inputs.max(channels(&inputs));
            existing.outputs = existing.outputs.max(channels(&outputs));
            continue;
        }
        listings.push(DeviceListing {
            description: device_description(&device),
            default_input: default_in.as_deref() == Some(id.as_str()),
            default_output: default_out.as_deref() == Some(id.as_str()),
            inputs: channels(&inputs),
            outputs: channels(&outputs),
            name,
            id,
            rates,
            buffers,
        });
    }
    let known = tell_apart(
        listings
            .iter()
            .map(|l| (l.name.clone(), l.id.clone(), l.description.clone()))
            .collect(),
    );
    for (listing, known) in listings.iter_mut().zip(known) {
        listing.name = known.name;
    }
    Ok(listings)
}
