//! `bandroom devices` and `bandroom calibrate`: what sound hardware there is, and how
//! late a sound comes back through it.
//!
//! Owns listing hosts and devices as a table, running a calibration and storing its
//! result in the library's settings. Must not contain device or measurement logic.

use super::{DeviceArgs, VirtualMicArgs, library_dir};
use anyhow::{Context, Result, bail};
use bandroom::audio::calibrate::{CalibrationRequest, calibrate as measure};
use bandroom::audio::cpal_backend;
use bandroom::audio::device::{Host, parse_host};
use bandroom::audio::settings::Settings;
use bandroom::audio::virtual_device::{
    VIRTUAL_DEVICE_NAME, VIRTUAL_INPUT_CHANNELS, VirtualSettings, virtual_mic_devices,
};
use std::path::Path;

#[derive(clap::Args, Debug)]
pub struct DevicesArgs {
    /// Only this host: alsa or jack (Linux), wasapi or asio (Windows), coreaudio (macOS),
    /// or virtual
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    #[command(flatten)]
    pub mics: VirtualMicArgs,
    /// Listen to every input device at once and name the one whose level jumps: clap
    /// or speak into one microphone at a time to tell a box of identical ones apart
    #[arg(long)]
    pub identify: bool,
    /// With --identify: how long to listen, in seconds
    #[arg(long, value_name = "S", default_value_t = 30.0, requires = "identify")]
    pub seconds: f64,
}

#[derive(clap::Args, Debug)]
pub struct CalibrateArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// The input channel the loopback cable comes back on (1-based)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub channel: usize,
    /// The output channel the test signal leaves on (1-based; default: the same as --channel)
    #[arg(long, value_name = "N")]
    pub output_channel: Option<usize>,
    /// Further input devices to measure in the same run, each by the channel that hears
    /// the speaker: DEVICE@N,... ("Blue Yeti@1", "virtual mic 1@1")
    #[arg(long, value_delimiter = ',', value_name = "DEVICE@N,...")]
    pub also: Vec<String>,
}

pub fn devices(args: &DevicesArgs, library: Option<&Path>) -> Result<()> {
    let virtual_settings = VirtualSettings {
        mics: args.mics.virtual_mics()?,
        ..VirtualSettings::default()
    };
    if args.identify {
        return identify(args, virtual_settings, library);
    }
    let hosts: Vec<Host> = match &args.host {
        Some(name) => vec![parse_host(name, virtual_settings)?],
        None => Host::all(&virtual_settings),
    };
    say!(
        "{:<8} {:<44} {:>4} {:>4}  {:<16} {:<14} {:<7} id",
        "host",
        "device",
        "in",
        "out",
        "rates",
        "buffer",
        "default"
    );
    for host in hosts {
        if let Host::Virtual(settings) = &host {
            say!(
                "{:<8} {:<44} {:>4} {:>4}  {:<16} {:<14} {:<7} virtual:loopback (for demos and tests; --virtual-latency sets its delay)",
                "virtual",
                VIRTUAL_DEVICE_NAME,
                VIRTUAL_INPUT_CHANNELS,
                2,
                "any",
                "--virtual-block",
                "in+out"
            );
            for mic in virtual_mic_devices(settings) {
                say!(
                    "{:<8} {:<44} {:>4} {:>4}  {:<16} {:<14} {:<7} {} ({})",
                    "virtual",
                    mic.name,
                    1,
                    0,
                    "session's",
                    "--virtual-mic-block",
                    "",
                    mic.id,
                    mic.description
                );
            }
            continue;
        }
        match cpal_backend::list(&host) {
            Ok(list) if list.is_empty() => say!(
                "{:<8} none found{}",
                host.name(),
                if host.name() == "jack" {
                    " (no JACK server is running)"
                } else {
                    ""
                }
            ),
            Ok(list) => {
                for d in list {
                    let default = match (d.default_input, d.default_output) {
                        (true, true) => "in+out",
                        (true, false) => "in",
                        (false, true) => "out",
                        (false, false) => "",
                    };
                    // Names and descriptions come from drivers: one line each, always.
                    let one_line =
                        |t: &str| bandroom::plain_text::escape_for_terminal(t).into_owned();
                    let about = if d.description == d.name || d.description.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", one_line(&d.description))
                    };
                    say!(
                        "{:<8} {:<44} {:>4} {:>4}  {:<16} {:<14} {default:<7} {}{about}",
                        host.name(),
                        one_line(&d.name),
                        d.inputs,
                        d.outputs,
                        d.rates,
                        d.buffers,
                        one_line(&d.id)
                    );
                }
            }
            Err(e) if args.host.is_some() => return Err(e.into()),
            Err(e) => say!("{:<8} unavailable: {e}", host.name()),
        }
    }
    Ok(())
}

/// How often the levels are read while identifying.
const IDENTIFY_READ: std::time::Duration = std::time::Duration::from_millis(50);
/// The same input is named again only after this long (one clap, one line).
const IDENTIFY_REPEAT: std::time::Duration = std::time::Duration::from_secs(1);

/// `devices --identify`: every input device on the host (the saved one unless --host
/// says otherwise) listened to at once; each time one jumps above its own floor, it is
/// named with its id.
fn identify(
    args: &DevicesArgs,
    virtual_settings: VirtualSettings,
    library: Option<&Path>,
) -> Result<()> {
    use bandroom::audio::identify::{RoomListen, listen, room_request};
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 600.0) {
        bail!(
            "--seconds {} is not allowed: listen for 1 to 600 seconds",
            args.seconds
        );
    }
    let settings = Settings::load(&library_dir(library)?)?;
    let saved = &settings.device;
    let host_name = args
        .host
        .clone()
        .or_else(|| saved.host.clone())
        .unwrap_or_else(|| Host::default_name().into());
    let host = parse_host(&host_name, virtual_settings)?;
    let same_host = saved.host.as_deref() == Some(host.name());
    let room = RoomListen {
        host,
        main_input: saved.input.clone().filter(|_| same_host),
        output: saved.output.clone().filter(|_| same_host),
        sample_rate_hz: saved.sample_rate_hz.unwrap_or(48_000),
    };
    let request = room_request(&room)?;
    let mut listening = listen(&request)
        .with_context(|| format!("listening to the input devices of {}", room.host.name()))?;
    say!(
        "listening to {} input(s) for {} s: clap or speak into one microphone at a time",
        listening.inputs.len(),
        args.seconds
    );
    let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(args.seconds);
    let mut last: Option<(String, std::time::Instant)> = None;
    while std::time::Instant::now() < until {
        std::thread::sleep(IDENTIFY_READ);
        let Some(heard) = listening.poll() else {
            continue;
        };
        let described = heard.describe();
        let repeat = last
            .as_ref()
            .is_some_and(|(said, at)| *said == described && at.elapsed() < IDENTIFY_REPEAT);
        if !repeat {
            say!("heard: {described}");
            last = Some((described, std::time::Instant::now()));
        }
    }
    listening.stop();
    if last.is_none() {
        say!("no input stood out: clap close to one microphone, louder than the room");
    }
    Ok(())
}

pub fn calibrate(args: &CalibrateArgs, library: Option<&Path>) -> Result<()> {
    if args.channel == 0 || args.output_channel == Some(0) {
        bail!("channels count from 1: use --channel 1 for the first input");
    }
    let library = library_dir(library)?;
    let mut settings = Settings::load(&library)?;
    let output_channel = args.output_channel.unwrap_or(args.channel);
    let mut request = args
        .device
        .request(&settings, args.channel, output_channel.max(2))?;
    let also = if args.also.is_empty() {
        Vec::new()
    } else {
        let list = bandroom::session::parse_inputs(&args.also)
            .map_err(|e| anyhow::anyhow!("--also: {e}"))?;
        if !list.main.is_empty() {
            bail!(
                "--also takes DEVICE@N for other devices; the main device's channel is --channel"
            );
        }
        list.extra
    };
    let mut extra_channels = Vec::new();
    for device in &also {
        if device.channels.len() != 1 {
            bail!(
                "--also: give one channel of {} (the one that hears the speaker)",
                device.device
            );
        }
        let channel = device.channels.first().copied().unwrap_or(1);
        request
            .extra_inputs
            .push(bandroom::audio::device::ExtraInputRequest {
                name: device.device.clone(),
                channels: channel,
            });
        extra_channels.push(channel - 1);
    }
    let result = measure(&CalibrationRequest {
        device: request,
        output_channel: output_channel - 1,
        input_channel: args.channel - 1,
        extra_channels,
    })?;
    let rate = f64::from(result.device.sample_rate_hz);
    let ms = |frames: f64| frames * 1000.0 / rate;
    let mean = result.estimates.iter().sum::<i64>() as f64 / result.estimates.len().max(1) as f64;
    say!(
        "{} → {}: sound comes back {} frames ({:.2} ms) later than the devices report ({} frames)",
        result.device.output_name,
        result.device.input_name,
        result.correction_frames,
        ms(result.correction_frames as f64),
        result.reported_latency_frames
    );
    say!(
        "{} measurements: mean {mean:.2} frames ({:.3} ms), spread {} frames ({:.3} ms)",
        result.estimates.len(),
        ms(mean),
        result.spread_frames,
        ms(result.spread_frames as f64)
    );
    settings.adopt(&result, args.device.buffer);
    let mut refused = Vec::new();
    for extra in &result.extra {
        match &extra.result {
            Ok((correction, estimates, spread)) => {
                say!(
                    "{} → {}: sound arrives {correction} frames ({:.2} ms) after it was played, its clock followed ({} measurements, spread {spread} frames)",
                    result.device.output_name,
                    extra.name,
                    ms(*correction as f64),
                    estimates.len()
                );
            }
            Err(reason) => refused.push(reason.clone()),
        }
    }
    settings.save(&library).with_context(|| {
        format!(
            "storing the calibration in {}",
            Settings::path(&library).display()
        )
    })?;
    say!(
        "stored in {}{}",
        Settings::path(&library).display(),
        if result.device.host == "virtual" {
            ""
        } else {
            " as the default device"
        }
    );
    if !refused.is_empty() {
        bail!("{}", refused.join("; "));
    }
    Ok(())
}
