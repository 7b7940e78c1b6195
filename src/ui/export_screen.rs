//! The Export screen: a head of department picks the bundle (progress, lesson or
//! moderation pack), pseudonymisation and audio format, and the bundle is written on its
//! own thread (with its own library connection) while a progress bar fills. Cancelling
//! leaves nothing behind.
//!
//! Must not build bundles (`export::bundle` does) or block the UI thread.

use super::context::AppContext;
use crate::export::audio::AudioFormat;
use crate::export::bundle::{BundleKind, ExportRequest, ExportSummary, export};
use crate::jobs::Background;
use crate::library::Library;
use eframe::egui;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[derive(Default)]
struct Job {
    done: AtomicUsize,
    total: AtomicUsize,
    cancel: AtomicBool,
}

/// The thread writing a bundle: its summary, or the error in words.
type ExportThread = Background<Result<ExportSummary, String>>;

pub struct ExportState {
    kind: BundleKind,
    flac: bool,
    pseudonymise: bool,
    out: String,
    job: Option<(Arc<Job>, ExportThread)>,
    chooser: super::file_dialog::Chooser,
    pub(super) outcome: Option<Result<String, String>>,
}

impl Default for ExportState {
    fn default() -> Self {
        Self {
            kind: BundleKind::Progress,
            flac: false,
            pseudonymise: false,
            out: String::new(),
            job: None,
            chooser: Default::default(),
            outcome: None,
        }
    }
}

impl ExportState {
    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    /// Collects a finished job's result; keeps frames coming while one runs.
    pub fn poll(&mut self, ctx: &egui::Context) {
        let finished = self.job.as_mut().and_then(|(_, work)| work.poll());
        if let Some(result) = finished {
            self.job = None;
            self.outcome = Some(match result {
                Ok(Ok(summary)) => Ok(format!(
                    "Done: {} recordings, {} judgements, {:.1} MB{}",
                    summary.recordings,
                    summary.judgements,
                    summary.bytes as f64 / 1e6,
                    if summary.missing.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; {} recordings are missing from the library (listed in the report)",
                            summary.missing.len()
                        )
                    }
                )),
                Ok(Err(e)) => Err(e),
                Err(e) => Err(format!("{e}; nothing was written")),
            });
        } else if self.job.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
    }
}

fn start(state: &mut ExportState, cx: &mut AppContext, class: i64) {
    let out = PathBuf::from(state.out.trim());
    let request = ExportRequest {
        kind: state.kind,
        classes: vec![class],
        from: "2000-01-01".into(),
        to: "2999-12-31".into(),
        audio: if state.flac {
            AudioFormat::Flac
        } else {
            AudioFormat::Wav
        },
        pseudonymise: state.pseudonymise,
        out,
        ..ExportRequest::default()
    };
    let job = Arc::new(Job::default());
    let root = cx.root.clone();
    let shared = Arc::clone(&job);
    let work = Background::start(
        "the export",
        move || {
            let mut lib = Library::reopen(&root).map_err(|e| e.to_string())?;
            let summary = export(&mut lib, &request, &mut |done, total| {
                shared.done.store(done, Ordering::Relaxed);
                shared.total.store(total, Ordering::Relaxed);
                !shared.cancel.load(Ordering::Relaxed)
            })
            .map_err(|e| e.to_string())?;
            Ok(summary)
        },
        Box::new(|| {}),
    );
    state.outcome = None;
    state.job = Some((job, work));
}

pub fn export_ui(state: &mut ExportState, cx: &mut AppContext, ui: &mut egui::Ui) {
    let Some(class) = cx.class else {
        ui.label("Pick a class on the Start screen to export its evidence.");
        return;
    };
    ui.heading("Export evidence");
    let running = state.running();
    ui.add_enabled_ui(!running, |ui| {
        for (kind, label, about) in [
            (BundleKind::Progress, "Progress", "each pupil's first and latest evidence per criterion, with judgements, radar diagrams and reflections"),
            (BundleKind::Lesson, "Lesson recordings", "every take, without pupils who are not to be shared"),
            (BundleKind::Moderation, "Moderation pack", "pseudonymised evidence without judgements, and a blank judgement sheet"),
        ] {
            ui.radio_value(&mut state.kind, kind, label).on_hover_text(about);
        }
        ui.checkbox(&mut state.pseudonymise, "Pseudonymise pupils (codes instead of names)");
        ui.checkbox(&mut state.flac, "FLAC audio (lossless, about half the size)");
        ui.horizontal(|ui| {
            ui.label("Save to");
            let field = ui.add(
                egui::TextEdit::singleline(&mut state.out)
                    .hint_text("a new folder, or a name ending .zip")
                    .desired_width(360.0),
            );
            field.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Bundle location"));
            if ui
                .add_enabled(!state.chooser.is_open(), egui::Button::new("Choose a folder…"))
                .clicked()
            {
                state.chooser.open(
                    ui.ctx(),
                    super::file_dialog::Choose::Folder {
                        title: "Where the bundle is saved",
                    },
                );
            }
        });
        // The bundle is a new folder inside the one chosen, named for what it holds.
        if let Some(parent) = state.chooser.chosen() {
            let day = crate::time_text::now_rfc3339();
            let name = format!(
                "bandroom-{}-{}",
                state.kind.as_str(),
                day.get(..10).unwrap_or("export")
            );
            state.out = parent.join(name).display().to_string();
        }
        if ui.button("Write the bundle").clicked() {
            if state.out.trim().is_empty() {
                state.outcome = Some(Err("Say where to save the bundle.".into()));
            } else {
                start(state, cx, class);
            }
        }
    });
    if let Some((job, _)) = &state.job {
        let (done, total) = (
            job.done.load(Ordering::Relaxed),
            job.total.load(Ordering::Relaxed),
        );
        let share = if total == 0 {
            0.0
        } else {
            done as f32 / total as f32
        };
        ui.add(
            egui::ProgressBar::new(share)
                .text(format!("recording {done} of {total}"))
                .animate(true),
        );
        if ui.button("Cancel export").clicked() {
            job.cancel.store(true, Ordering::Relaxed);
        }
    }
    match &state.outcome {
        Some(Ok(text)) => {
            ui.label(text);
        }
        Some(Err(text)) => {
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
        None => {}
    }
}
