//! Settings › Sound: which host, interface, rate and buffer the room uses (with the
//! latency that buffer actually gives, found by opening the device), the calibration
//! wizard (a loopback cable, or a microphone in front of the speaker) with a stability
//! grade and advice, and the input voice notes are recorded from.
//!
//! Owns the form and its background work: listing devices, test-opening them and
//! measuring all run on threads of their own. Must not measure or open devices itself
//! (`audio::device` and `audio::calibrate` do) and saves only through `audio::settings`.

use super::context::{Action, AppContext};
use super::devices::Devices;
use super::settings::SettingsState;
use super::widgets::labelled_combo;
use crate::audio::calibrate::{Calibration, CalibrationRequest, calibrate};
use crate::audio::cpal_backend::{self, DeviceListing};
use crate::audio::device::{self, DeviceInfo, DeviceRequest, ExtraInputRequest, Host};
use crate::audio::settings::{DeviceSettings, Settings};
use crate::audio::virtual_device::VirtualSettings;
use crate::jobs::Background;
use eframe::egui;

const RATES: [u32; 3] = [44_100, 48_000, 96_000];
const BUFFERS: [u32; 6] = [64, 128, 256, 512, 1024, 2048];

/// How the calibration signal gets back in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    #[default]
    Cable,
    Microphone,
}

#[derive(Default)]
pub struct SoundState {
    /// The form, as being edited (loaded from settings.toml the first time).
    form: Option<DeviceSettings>,
    listing: Option<(String, Result<Vec<DeviceListing>, String>)>,
    listing_job: Option<Background<Result<Vec<DeviceListing>, String>>>,
    test_job: Option<Background<Result<DeviceInfo, String>>>,
    tested: Option<Result<String, String>>,
    method: Method,
    channel: usize,
    calibration_job: Option<Background<Result<Calibration, String>>>,
    calibrated: Option<Result<String, String>>,
}

/// The host the form names, or the platform's usual one.
fn saved_host(form: &DeviceSettings) -> String {
    form.host
        .clone()
        .unwrap_or_else(|| Host::default_name().into())
}

fn host_of(name: &str) -> Host {
    device::parse_host(name, VirtualSettings::default())
        .or_else(|_| device::parse_host(Host::default_name(), VirtualSettings::default()))
        .unwrap_or(Host::Virtual(VirtualSettings::default()))
}

fn request_of(form: &DeviceSettings, inputs: usize, outputs: usize) -> DeviceRequest {
    let host = host_of(form.host.as_deref().unwrap_or(Host::default_name()));
    let real = !matches!(host, Host::Virtual(_));
    DeviceRequest {
        input: form.input.clone().filter(|_| real),
        output: form.output.clone().filter(|_| real),
        host,
        sample_rate_hz: form.sample_rate_hz.unwrap_or(48_000),
        buffer_frames: form.buffer_frames.filter(|_| real),
        input_channels: inputs.max(1),
        output_channels: outputs.max(2),
        extra_inputs: Vec::new(),
    }
}

/// What a test opening found, in words: the latency the buffer gives each way.
fn describe(info: &DeviceInfo) -> String {
    let rate = f64::from(info.sample_rate_hz.max(1));
    let buffer = match info.buffer_frames {
        Some(frames) => format!(
            "buffer of {frames} frames = {:.1} ms each way",
            f64::from(frames) * 1000.0 / rate
        ),
        None => "the device chose its buffer and did not say its size".to_string(),
    };
    format!(
        "Opened {} (in) and {} (out) at {} Hz, {} inputs: {buffer}",
        info.input_name, info.output_name, info.sample_rate_hz, info.input_channels
    )
}

/// How steady a calibration was, and what to do about it.
pub fn grade(result: &Calibration, method: Method) -> String {
    let rate = f64::from(result.device.sample_rate_hz.max(1));
    let ms = result.correction_frames as f64 * 1000.0 / rate;
    let steadiness = match result.spread_frames {
        0 => "excellent: every measurement agreed to the sample",
        1 => "good: the measurements agreed within one sample",
        _ => {
            "fair: the measurements differed by two samples; close other audio programs and measure again for a steadier result"
        }
    };
    let advice = match method {
        Method::Cable => "Unplug the cable before the lesson.",
        Method::Microphone => {
            "This includes the sound's flight through the air (about 1 ms for every 34 cm): \
             measure with the microphone where pupils will stand, or use a cable for the \
             interface alone."
        }
    };
    format!(
        "Sound comes back {} frames ({ms:.2} ms) later than the devices report. \
         Stability {steadiness}. {advice} Saved: takes on these devices are corrected by it.",
        result.correction_frames
    )
}

/// The USB microphones on the room plan of the class in hand, once each: (identity,
/// name, channel that hears the speaker). They are measured with the interface, each
/// standing in front of the speaker, and remembered by identity.
fn microphones_on_plan(cx: &mut AppContext) -> Vec<(String, String, usize)> {
    let Some(class) = cx.class else {
        return Vec::new();
    };
    let plan = cx.read_or_default(format!("room plan/{class}"), |lib| lib.room_plan(class));
    let mut mics: Vec<(String, String, usize)> = Vec::new();
    for seat in plan.iter().filter(|s| s.keyboard.is_none()) {
        if let Some(id) = &seat.device
            && !mics.iter().any(|(i, _, _)| i == id)
        {
            let name = seat.device_name.clone().unwrap_or_else(|| id.clone());
            mics.push((id.clone(), name, seat.input.max(1)));
        }
    }
    mics
}

/// What the calibration said of each microphone measured with the interface.
fn microphones_graded(result: &Calibration) -> String {
    let rate = f64::from(result.device.sample_rate_hz.max(1));
    result
        .extra
        .iter()
        .map(|extra| match &extra.result {
            Ok((correction, _, _)) => format!(
                " {}: {correction} frames ({:.2} ms), saved.",
                extra.name,
                *correction as f64 * 1000.0 / rate
            ),
            Err(reason) => format!(" {}: not measured ({reason}).", extra.name),
        })
        .collect()
}

fn poll_jobs(settings: &mut SettingsState, cx: &mut AppContext) {
    let state = &mut settings.sound;
    if let Some(job) = &mut state.listing_job
        && let Some(found) = job.poll()
    {
        state.listing_job = None;
        let host = state
            .form
            .as_ref()
            .map_or_else(|| Host::default_name().into(), saved_host);
        state.listing = Some((host, found.and_then(|r| r)));
    }
    if let Some(job) = &mut state.test_job
        && let Some(opened) = job.poll()
    {
        state.test_job = None;
        state.tested = Some(opened.and_then(|r| r).map(|info| describe(&info)));
    }
    if let Some(job) = &mut state.calibration_job
        && let Some(measured) = job.poll()
    {
        state.calibration_job = None;
        let method = state.method;
        let buffer = state.form.as_ref().and_then(|f| f.buffer_frames);
        state.calibrated = Some(measured.and_then(|r| r).and_then(|result| {
            let mut settings = Settings::load(&cx.root).map_err(|e| e.to_string())?;
            settings.adopt(&result, buffer);
            settings.save(&cx.root).map_err(|e| e.to_string())?;
            Ok(format!(
                "{}{}",
                grade(&result, method),
                microphones_graded(&result)
            ))
        }));
    }
}

fn choice_of_names(ui: &mut egui::Ui, label: &str, value: &mut Option<String>, names: &[String]) {
    let shown = value.clone().unwrap_or_else(|| "the default".into());
    labelled_combo(ui, label, shown, |ui| {
        if ui
            .selectable_label(value.is_none(), "the default")
            .clicked()
        {
            *value = None;
        }
        for name in names {
            let on = value.as_deref() == Some(name.as_str());
            if ui.selectable_label(on, name).clicked() {
                *value = Some(name.clone());
            }
        }
    });
}
/// The sample rate and buffer size to ask the device for.
fn rate_and_buffer_ui(ui: &mut egui::Ui, form: &mut DeviceSettings) {
    ui.horizontal_wrapped(|ui| {
        let rate = form.sample_rate_hz.unwrap_or(48_000);
        labelled_combo(ui, "Sample rate", format!("{rate} Hz"), |ui| {
            for r in RATES {
                if ui.selectable_label(rate == r, format!("{r} Hz")).clicked() {
                    form.sample_rate_hz = Some(r);
                }
            }
        });
        let shown = form
            .buffer_frames
            .map_or("the device's choice".to_string(), |b| format!("{b} frames"));
        labelled_combo(ui, "Buffer", shown, |ui| {
            if ui
                .selectable_label(form.buffer_frames.is_none(), "the device's choice")
                .clicked()
            {
                form.buffer_frames = None;
            }
            for b in BUFFERS {
                let on = form.buffer_frames == Some(b);
                if ui.selectable_label(on, format!("{b} frames")).clicked() {
                    form.buffer_frames = Some(b);
                }
            }
        });
    });
}

pub fn sound_ui(
    settings: &mut SettingsState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
) {
    poll_jobs(settings, cx);
    ui.heading("Sound");
    if settings.sound.form.is_none() {
        let loaded = Settings::load(&cx.root).map(|s| s.device);
        match loaded {
            Ok(device) => settings.sound.form = Some(device),
            Err(e) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("{e}: mend or delete the file, then come back here"),
                );
                return;
            }
        }
    }
    let busy = devices.busy() || devices.playback().is_some();
    if busy {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "The sound device is in use (a take, playback or a voice note): stop it to test \
             or calibrate.",
        );
    }
    let (after, after_test) = (cx.waker(), cx.waker());
    let state = &mut settings.sound;
    let Some(form) = state.form.as_mut() else {
        return;
    };
    let mut host = saved_host(form);
    ui.horizontal_wrapped(|ui| {
        labelled_combo(ui, "Host", host.clone(), |ui| {
            for name in Host::names() {
                ui.selectable_value(&mut host, name.to_string(), name);
            }
        });
        if state.listing_job.is_some() {
            ui.spinner();
            ui.label("Looking for devices…");
        } else if ui.button("Find devices").clicked() {
            let wanted = host_of(&host);
            state.listing_job = Some(Background::start(
                "listing devices",
                move || cpal_backend::list(&wanted).map_err(|e| e.to_string()),
                after,
            ));
        }
    });
    if form.host.as_deref() != Some(host.as_str()) {
        form.host = Some(host.clone());
        form.input = None;
        form.output = None;
        state.listing = None;
    }
    let listed = match &state.listing {
        Some((for_host, Ok(list))) if *for_host == host => list.clone(),
        Some((_, Err(e))) => {
            ui.colored_label(ui.visuals().warn_fg_color, e);
            Vec::new()
        }
        _ => Vec::new(),
    };
    let inputs: Vec<String> = listed
        .iter()
        .filter(|d| d.inputs > 0)
        .map(|d| d.name.clone())
        .collect();
    let outputs: Vec<String> = listed
        .iter()
        .filter(|d| d.outputs > 0)
        .map(|d| d.name.clone())
        .collect();
    if host != "virtual" {
        ui.horizontal_wrapped(|ui| {
            choice_of_names(ui, "Input device", &mut form.input, &inputs);
            choice_of_names(ui, "Output device", &mut form.output, &outputs);
        });
    }
    rate_and_buffer_ui(ui, form);
    ui.horizontal(|ui| {
        if state.test_job.is_some() {
            ui.spinner();
            ui.label("Opening the device…");
        } else if ui
            .add_enabled(!busy, egui::Button::new("Save and test"))
            .on_hover_text("saves these choices and opens the device once to see what it gives")
            .clicked()
        {
            let saved = Settings::load(&cx.root).and_then(|mut settings| {
                settings.device = form.clone();
                settings.save(&cx.root).map(|()| settings)
            });
            match saved {
                Ok(_) => {
                    let request = request_of(form, 2, 2);
                    state.tested = None;
                    state.test_job = Some(Background::start(
                        "testing the device",
                        move || {
                            device::open(&request)
                                .map(|opened| opened.info.clone())
                                .map_err(|e| e.to_string())
                        },
                        after_test,
                    ));
                }
                Err(e) => state.tested = Some(Err(e.to_string())),
            }
        }
    });
    super::widgets::outcome(
        ui,
        &state.tested,
        ". The choices are saved; pick another rate, buffer or device and test again.",
    );
    ui.add_space(6.0);
    calibration_ui(settings, cx, &devices.choice, ui, busy);
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.label("Voice notes are recorded from input");
        let mut input = devices.voice_input;
        let field = ui.add(egui::DragValue::new(&mut input).range(1..=64));
        if input != devices.voice_input {
            cx.act(Action::SetVoiceInput(input));
        }
        field.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::DragValue, true, "Voice note input")
        });
    });
}

fn calibration_ui(
    settings: &mut SettingsState,
    cx: &mut AppContext,
    choice: &crate::session::DeviceChoice,
    ui: &mut egui::Ui,
    busy: bool,
) {
    let after = cx.waker();
    let state = &mut settings.sound;
    ui.strong("Calibration: how late sound comes back");
    ui.horizontal_wrapped(|ui| {
        ui.radio_value(
            &mut state.method,
            Method::Cable,
            "a cable from output to input",
        );
        ui.radio_value(
            &mut state.method,
            Method::Microphone,
            "a microphone in front of the speaker",
        );
    });
    if state.channel == 0 {
        state.channel = 1;
    }
    ui.horizontal(|ui| {
        ui.label("Channel");
        let field = ui.add(egui::DragValue::new(&mut state.channel).range(1..=64));
        field.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::DragValue, true, "Calibration channel")
        });
    });
    ui.label(match state.method {
        Method::Cable => format!(
            "Connect output {0} to input {0} with a cable, turn the input gain to the middle, \
             then measure. It takes about 4 seconds and sounds like noise.",
            state.channel
        ),
        Method::Microphone => format!(
            "Put the microphone on input {0} about 30 cm in front of the speaker on output \
             {0}, ask the room for quiet, then measure. It takes about 4 seconds.",
            state.channel
        ),
    });
    let mics = microphones_on_plan(cx);
    if !mics.is_empty() {
        let names: Vec<&str> = mics.iter().map(|(_, name, _)| name.as_str()).collect();
        ui.label(format!(
            "The microphones on the room plan are measured too, each on the speaker's sound: \
             stand {} in front of the speaker.",
            names.join(", ")
        ));
    }
    let state = &mut settings.sound;
    if state.calibration_job.is_some() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Measuring…");
        });
    } else if ui
        .add_enabled(!busy, egui::Button::new("Measure"))
        .clicked()
    {
        let Some(form) = state.form.as_ref() else {
            return;
        };
        let channel = state.channel;
        let mut device = request_of(form, channel, channel);
        // The virtual host measured with the microphones the app was started with (tests
        // and demos set them; the saved settings never hold virtual microphones).
        if let (Host::Virtual(_), crate::session::DeviceChoice::VirtualWith(virtual_settings)) =
            (&device.host, choice)
        {
            device.host = Host::Virtual(virtual_settings.clone());
        }
        let mics = microphones_on_plan(cx);
        device.extra_inputs = mics
            .iter()
            .map(|(id, _, input)| ExtraInputRequest {
                name: id.clone(),
                channels: *input,
            })
            .collect();
        let request = CalibrationRequest {
            device,
            output_channel: channel - 1,
            input_channel: channel - 1,
            extra_channels: mics.iter().map(|(_, _, input)| input - 1).collect(),
        };
        state.calibrated = None;
        state.calibration_job = Some(Background::start(
            "calibrating",
            move || calibrate(&request).map_err(|e| e.to_string()),
            after,
        ));
    }
    super::widgets::outcome(ui, &state.calibrated, "");
}
