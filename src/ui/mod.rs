//! The desktop app (eframe/egui): what teachers, pupils and heads of department see.
//! `bandroom` with no arguments opens it on the library.
//!
//! Owns screens, their state and keyboard habits. Each screen keeps its own state and
//! draws from an `AppContext` (library, class, notices, a waker, the action queue) and
//! the `Devices`' state; what reaches beyond a screen is an `Action` that `app` applies.
//! No screen imports `app`. Must not contain SQL or audio logic of its own: it reads
//! and changes the library through `library::Library` (reads cached per library
//! revision), records through `session`, and writes bundles through `export`. Slow work
//! runs on threads of its own and reports back; the UI thread never waits on it.

mod app;
mod assess_panel;
mod class_edit;
mod class_view;
pub mod context;
pub mod devices;
mod export_screen;
mod file_dialog;
mod finishing;
mod groups_view;
mod identify_mics;
mod lesson;
pub mod live_wave;
mod midi_ports;
mod pedal;
mod playback;
mod progress;
mod pupil_mode_pin;
mod radar;
mod recording;
mod remembered;
mod review;
mod room_plan;
mod roster_import;
mod settings;
mod sign_in;
mod sound_settings;
mod start;
pub mod theme;
mod timing;
mod transport;
mod voice_note;
pub mod widgets;

pub use app::{BandroomApp, Mode};
pub use context::{Action, AppContext, Screen};
pub use devices::Devices;
pub use lesson::LessonState;
pub use recording::{DeviceChoice, SILENCE_WARNING};
pub use start::StartState;
pub use transport::Keep;

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
            .with_inner_size(app.window_to_open())
            .with_min_inner_size(remembered::SMALLEST_WINDOW),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native("bandroom", options, Box::new(|_| Ok(Box::new(app)))).map_err(|e| {
        anyhow::anyhow!("the app window could not be opened: {e} (is a display available?)")
    })
}
