//! Hearing a take in the app: the whole take, or just one pupil's track, with a moving
//! line on the waveforms.
//!
//! Owns starting playback on a device and the play/stop controls. The tracks are read
//! before the device starts (a few tens of milliseconds for a lesson's take). Must not
//! mix audio itself (`audio::playback` does).

use super::app::BandroomApp;
use super::recording::open_device;
use crate::audio::device::RunningDevice;
use crate::audio::playback::{PlayerState, take_player};
use crate::jobs::{Track, read_track};
use crate::library::TakeSummary;
use eframe::egui;
use std::sync::Arc;

pub struct Playback {
    pub take: i64,
    pub state: Arc<PlayerState>,
    rate_hz: u32,
    _device: RunningDevice,
}

impl Playback {
    /// Where playback is, as "0:03.2 of 0:30.0".
    pub fn caption(&self) -> String {
        let rate = f64::from(self.rate_hz.max(1));
        format!(
            "Playing {} of {}",
            crate::music::clock(self.state.position() as f64 / rate),
            crate::music::clock(self.state.frames() as f64 / rate)
        )
    }
}

/// Starts playing `take`; with `solo`, only that track is heard.
pub fn start(app: &mut BandroomApp, take: &TakeSummary, solo: Option<i64>) {
    app.playback = None;
    let folder = app.lib.take_folder(take);
    let mut tracks = Vec::new();
    let mut numbers = Vec::new();
    for track in &take.tracks {
        match read_track(&folder.join(&track.file), Some(take.sample_rate_hz)) {
            Ok((Track::Audio(samples), _)) => {
                tracks.push(Arc::from(samples));
                numbers.push(track.number);
            }
            // A keyboard's track has no sound of its own to play.
            Ok((Track::Keys(_), _)) => {}
            Err(e) => {
                app.error = Some(format!("Take {} cannot be played: {e}", take.id));
                return;
            }
        }
    }
    if tracks.is_empty() {
        app.error = Some(format!("Take {} has no recording to play.", take.id));
        return;
    }
    let (opened, banner) = match open_device(&app.root, &app.device, 1, Some(take.sample_rate_hz)) {
        Ok(opened) => opened,
        Err(e) => {
            app.error = Some(format!("Nothing can be played: {e}"));
            return;
        }
    };
    if let Some(banner) = banner
        && !app.banners.contains(&banner)
    {
        app.banners.push(banner);
    }
    let channels = opened.info.output_channels;
    let (state, output, input) = take_player(tracks, channels);
    if let Some(track) = solo.and_then(|n| numbers.iter().position(|x| *x == n)) {
        state.solo(track);
    }
    match opened.start(output, input) {
        Ok(device) => {
            app.playback = Some(Playback {
                take: take.id,
                state,
                rate_hz: take.sample_rate_hz,
                _device: device,
            });
        }
        Err(e) => app.error = Some(format!("Nothing can be played: {e}")),
    }
}

/// Play and stop buttons for `take`; `mine` is the pupil's own track, for "hear just me".
pub fn controls(app: &mut BandroomApp, ui: &mut egui::Ui, take: &TakeSummary, mine: Option<i64>) {
    let playing_this = app
        .playback
        .as_ref()
        .is_some_and(|p| p.take == take.id && p.state.is_playing());
    ui.horizontal(|ui| {
        if playing_this {
            if ui.button("Stop playing").clicked() {
                app.playback = None;
            }
            if let Some(p) = &app.playback {
                ui.label(p.caption());
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(30));
            }
            return;
        }
        let recording = app.recording.is_some();
        if ui
            .add_enabled(!recording, egui::Button::new("Play the take"))
            .clicked()
        {
            start(app, take, None);
        }
        if let Some(track) = mine
            && ui
                .add_enabled(!recording, egui::Button::new("Hear just me"))
                .clicked()
        {
            start(app, take, Some(track));
        }
    });
}

/// A line on a track's waveform where playback is.
pub fn cursor(app: &BandroomApp, ui: &egui::Ui, rect: egui::Rect, take: i64) {
    let Some(p) = app.playback.as_ref().filter(|p| p.take == take) else {
        return;
    };
    let frames = p.state.frames().max(1);
    let x = rect.left() + rect.width() * (p.state.position() as f32 / frames as f32);
    ui.painter_at(rect).line_segment(
        [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
        egui::Stroke::new(2.0, ui.visuals().strong_text_color()),
    );
}
