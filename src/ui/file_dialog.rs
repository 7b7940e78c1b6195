//! The system's file chooser, opened without freezing the window: the dialog runs on a
//! thread of its own and the screen polls for the answer.
//!
//! Must not read the chosen file: the screen that asked does that, with its own checks.

use crate::jobs::Background;
use eframe::egui;
use std::path::PathBuf;

/// A file chooser that is open (or has answered and not been read yet).
#[derive(Default)]
pub struct Chooser {
    open: Option<Background<Option<PathBuf>>>,
}

/// What a chooser asks for.
pub enum Choose {
    /// A file, with a filter (its name and the extensions it allows).
    File {
        title: &'static str,
        filter: (&'static str, &'static [&'static str]),
    },
    /// A folder.
    Folder { title: &'static str },
}

impl Chooser {
    pub fn is_open(&self) -> bool {
        self.open.as_ref().is_some_and(Background::is_running)
    }

    /// Opens the chooser unless one is open already.
    pub fn open(&mut self, ctx: &egui::Context, what: Choose) {
        if self.is_open() {
            return;
        }
        let window = ctx.clone();
        self.open = Some(Background::start(
            "bandroom-file-dialog",
            move || {
                let dialog = rfd::AsyncFileDialog::new();
                let picked = match what {
                    Choose::File { title, filter } => pollster::block_on(
                        dialog
                            .set_title(title)
                            .add_filter(filter.0, filter.1)
                            .pick_file(),
                    ),
                    Choose::Folder { title } => {
                        pollster::block_on(dialog.set_title(title).pick_folder())
                    }
                };
                picked.map(|handle| handle.path().to_path_buf())
            },
            Box::new(move || window.request_repaint()),
        ));
    }

    /// The chosen path, once, when the chooser has closed with one.
    pub fn chosen(&mut self) -> Option<PathBuf> {
        let answer = self.open.as_mut()?.poll()?;
        self.open = None;
        answer.ok().flatten()
    }
}
