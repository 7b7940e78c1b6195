//! The desktop app (eframe/egui): what teachers, pupils and heads of department see.
//! `bandroom` with no arguments opens it on the library.
//!
//! Owns screens, their state and keyboard habits. Must not contain SQL or audio logic
//! of its own: it reads and changes the library through `library::Library`, and writes
//! bundles through `export`. Slow work (exports) runs on its own thread and reports
//! progress back; the UI thread never waits on it.

mod app;
mod assess_panel;
mod class_view;
mod export_screen;
mod finishing;
mod lesson;
pub mod live_wave;
mod midi_ports;
mod pedal;
mod playback;
mod progress;
mod radar;
mod recording;
mod review;
mod room_plan;
mod settings;
mod sound_settings;
mod start;
mod timing;
mod transport;
mod voice_note;
pub mod widgets;

pub use app::{BandroomApp, Mode, Screen};
pub use recording::{DeviceChoice, SILENCE_WARNING};

use std::path::Path;

/// Where the app opens (a desktop shortcut per class, or a screenshot of one screen).
#[derive(Clone, Debug, Default)]
pub struct Opening {
    pub class: Option<String>,
    pub screen: Option<String>,
}

/// Opens the app window on the library at `library` and runs until it is closed.
pub fn run(library: &Path, opening: &Opening) -> anyhow::Result<()> {
    let mut app = BandroomApp::open(library)?;
    app.open_at(opening)?;
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("bandroom")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([640.0, 400.0]),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native("bandroom", options, Box::new(|_| Ok(Box::new(app)))).map_err(|e| {
        anyhow::anyhow!("the app window could not be opened: {e} (is a display available?)")
    })
}
