//! Hearing a take in the app: the whole take, just one pupil's track, or that track
//! against the reference part it played, with a moving line on the waveforms.
//!
//! Owns loading what is to be heard (tracks read, a reference part rendered) on a thread
//! of its own while the window keeps drawing, then starting it on the device (for
//! `devices`, which owns it), and the play/stop controls, which ask through actions.
//! Must not mix audio itself (`audio::playback` does).

use super::context::{Action, AppContext, Listen, Notices};
use super::devices::Devices;
use crate::audio::device::RunningDevice;
use crate::audio::playback::{PlayerState, take_player};
use crate::jobs::{Background, Track, read_take_track, render_part};
use crate::library::TakeSummary;
use crate::session::open_device;
use eframe::egui;
use std::path::PathBuf;
use std::sync::Arc;

pub struct Playback {
    pub take: i64,
    pub state: Arc<PlayerState>,
    rate_hz: u32,
    _device: RunningDevice,
}

/// A take being made ready to play.
pub struct Loading {
    pub take: i64,
    rate_hz: u32,
    work: Background<Result<Vec<Arc<[f32]>>, String>>,
}

impl Playback {
    /// Where playback is, as "0:03.2 of 0:30.0".
    pub fn caption(&self) -> String {
        let rate = f64::from(self.rate_hz.max(1));
        format!(
            "Playing {} of {}",
            crate::time_text::clock(self.state.position() as f64 / rate),
            crate::time_text::clock(self.state.frames() as f64 / rate)
        )
    }
}

/// Reads the tracks to be heard (and renders the reference part) off the UI thread.
fn load(
    root: PathBuf,
    folder: PathBuf,
    take: TakeSummary,
    listen: Listen,
) -> Result<Vec<Arc<[f32]>>, String> {
    let wanted = |number: i64| match &listen {
        Listen::Whole => true,
        Listen::JustMe(mine) | Listen::WithPart(mine, _) => number == *mine,
        Listen::VoiceNote(_) => false,
    };
    let mut files: Vec<&str> = take
        .tracks
        .iter()
        .filter(|t| wanted(t.number))
        .map(|t| t.file.as_str())
        .collect();
    if let Listen::VoiceNote(file) = &listen {
        files.push(file);
    }
    let mut tracks: Vec<Arc<[f32]>> = Vec::new();
    for file in files {
        match read_take_track(&folder.join(file), Some(take.sample_rate_hz)) {
            Ok((Track::Audio(samples), _)) => tracks.push(Arc::from(samples)),
            // A keyboard's track has no sound of its own to play.
            Ok((Track::Keys(_), _)) => {}
            Err(e) => return Err(format!("take {} cannot be played: {e}", take.id)),
        }
    }
    if tracks.is_empty() {
        return Err(format!("take {} has no recording to play", take.id));
    }
    if let Listen::WithPart(_, part) = &listen {
        let frames = tracks[0].len();
        let reference = render_part(&root, &take, part, frames)
            .map_err(|e| format!("the {part} part cannot be played alongside: {e}"))?;
        tracks.push(Arc::from(reference));
    }
    Ok(tracks)
}

impl Loading {
    /// Starts making `take` ready to play, off the UI thread.
    pub fn start(
        root: &std::path::Path,
        folder: PathBuf,
        take: &TakeSummary,
        listen: Listen,
        done: Box<dyn FnOnce() + Send>,
    ) -> Loading {
        let (root, summary) = (root.to_path_buf(), take.clone());
        Loading {
            take: take.id,
            rate_hz: take.sample_rate_hz,
            work: Background::start(
                "loading a take",
                move || load(root, folder, summary, listen),
                done,
            ),
        }
    }

    /// Once loaded, opens the device and plays; `None` while still loading.
    pub fn poll(
        &mut self,
        root: &std::path::Path,
        choice: &crate::session::DeviceChoice,
        notices: &mut Notices,
    ) -> Option<Option<Playback>> {
        let loaded = self.work.poll()?;
        let (take, rate_hz) = (self.take, self.rate_hz);
        let tracks = match loaded.and_then(|r| r) {
            Ok(tracks) => tracks,
            Err(e) => {
                notices.error(format!("Nothing can be played: {e}."));
                return Some(None);
            }
        };
        let opened = crate::audio::settings::Settings::load(root)
            .map_err(anyhow::Error::from)
            .and_then(|settings| Ok(open_device(&settings, choice, 1, Some(rate_hz))?));
        let (opened, banner) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                notices.error(format!("Nothing can be played: {e:#}"));
                return Some(None);
            }
        };
        if let Some(banner) = banner {
            notices.banner(banner);
        }
        let channels = opened.info.output_channels;
        let (state, output, input) = take_player(tracks, channels);
        match opened.start(output, input) {
            Ok(device) => Some(Some(Playback {
                take,
                state,
                rate_hz,
                _device: device,
            })),
            Err(e) => {
                notices.error(format!("Nothing can be played: {e}"));
                Some(None)
            }
        }
    }
}

/// Play and stop buttons for `take`; `mine` is the pupil's own track and the part it
/// played, for "hear just me" and "hear me with the part".
pub fn controls(
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
    take: &TakeSummary,
    mine: Option<(i64, Option<String>)>,
) {
    let playing_this = devices
        .playback()
        .is_some_and(|p| p.take == take.id && p.state.is_playing());
    ui.horizontal(|ui| {
        if devices.loading_take() == Some(take.id) {
            ui.spinner();
            ui.label("Getting the take ready to play…");
            return;
        }
        if playing_this {
            if ui.button("Stop playing").clicked() {
                cx.act(Action::StopPlayback);
            }
            if let Some(p) = devices.playback() {
                ui.label(p.caption());
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(30));
            }
            return;
        }
        let free = !devices.is_recording();
        let mut asked = None;
        if ui
            .add_enabled(free, egui::Button::new("Play the take"))
            .clicked()
        {
            asked = Some(Listen::Whole);
        }
        if let Some((track, part)) = &mine {
            if ui
                .add_enabled(free, egui::Button::new("Hear just me"))
                .clicked()
            {
                asked = Some(Listen::JustMe(*track));
            }
            if let Some(part) = part
                && take.arrangement.is_some()
                && ui
                    .add_enabled(free, egui::Button::new("Hear me with the part"))
                    .on_hover_text(format!("your track with the {part} part as written"))
                    .clicked()
            {
                asked = Some(Listen::WithPart(*track, part.clone()));
            }
        }
        if let Some(listen) = asked {
            cx.act(Action::Play(Box::new(take.clone()), listen));
        }
    });
}

/// A line on a track's waveform where playback is.
pub fn cursor(devices: &Devices, ui: &egui::Ui, rect: egui::Rect, take: i64) {
    let Some(p) = devices.playback().filter(|p| p.take == take) else {
        return;
    };
    let frames = p.state.frames().max(1);
    let x = rect.left() + rect.width() * (p.state.position() as f32 / frames as f32);
    ui.painter_at(rect).line_segment(
        [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
        egui::Stroke::new(2.0, ui.visuals().strong_text_color()),
    );
}
