//! The Export screen: a head of department sees which class it exports, picks the
//! bundle (progress, lesson or moderation pack), the dates (a term, the school year or
//! everything), pseudonymisation, audio format and a folder (a full path, chosen or
//! typed), and the bundle is written on its own thread (with its own library
//! connection) while a progress bar fills. The screen is woken when the bundle is done,
//! with no input needed, and offers "Open folder". Cancelling leaves nothing behind;
//! another class starts the screen afresh.
//!
//! Must not build bundles (`export::bundle` does) or block the UI thread.

use super::context::AppContext;
use crate::export::audio::AudioFormat;
use crate::export::bundle::{BundleKind, ExportRequest, ExportSummary, export};
use crate::jobs::Background;
use crate::library::Library;
use crate::library::terms::Term;
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

/// Which evidence, by date, a bundle holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dates {
    ThisTerm,
    LastTerm,
    SchoolYear,
    Everything,
}

impl Dates {
    /// The first and last day (inclusive, `YYYY-MM-DD`) on `today`, and the words.
    fn range(self, today: &str) -> (String, String, String) {
        let term = Term::of(today);
        let last_day = |t: &Term| {
            let to = t.to();
            match &to[5..] {
                "04-01" => format!("{}-03-31", &to[..4]),
                "09-01" => format!("{}-08-31", &to[..4]),
                _ => format!("{}-12-31", to[..4].parse::<i32>().map_or(0, |y| y - 1)),
            }
        };
        let whole = || ("2000-01-01".to_string(), "2999-12-31".to_string());
        match (self, term) {
            (Dates::ThisTerm, Some(t)) => (t.from(), last_day(&t), t.name()),
            (Dates::LastTerm, Some(t)) => {
                let day_before = previous_day(&t.from());
                match Term::of(&day_before) {
                    Some(last) => (last.from(), last_day(&last), last.name()),
                    None => (whole().0, whole().1, "all dates".into()),
                }
            }
            (Dates::SchoolYear, Some(_)) => {
                let year: i32 = today.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2000);
                let month: u32 = today.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(9);
                let start = if month >= 9 { year } else { year - 1 };
                (
                    format!("{start:04}-09-01"),
                    format!("{:04}-08-31", start + 1),
                    format!("the school year {start}–{}", (start + 1) % 100),
                )
            }
            _ => (whole().0, whole().1, "all dates".into()),
        }
    }
}

/// The day before a term's first day (always the 1st of a month).
fn previous_day(first: &str) -> String {
    let year: i32 = first.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2000);
    match first.get(5..7) {
        Some("01") => format!("{:04}-12-31", year - 1),
        Some("04") => format!("{year:04}-03-31"),
        _ => format!("{year:04}-08-31"),
    }
}

pub struct ExportState {
    /// The class this screen is for, and its name; another class starts it afresh.
    class: Option<(i64, String)>,
    kind: BundleKind,
    dates: Dates,
    flac: bool,
    pseudonymise: bool,
    out: String,
    job: Option<(Arc<Job>, ExportThread, PathBuf)>,
    chooser: super::file_dialog::Chooser,
    pub(super) outcome: Option<Result<String, String>>,
    /// The bundle last written, for "Open folder".
    written: Option<PathBuf>,
}

impl Default for ExportState {
    fn default() -> Self {
        Self {
            class: None,
            kind: BundleKind::Progress,
            dates: Dates::Everything,
            flac: false,
            pseudonymise: false,
            out: String::new(),
            job: None,
            chooser: Default::default(),
            outcome: None,
            written: None,
        }
    }
}

impl ExportState {
    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    /// Collects a finished job's result; keeps frames coming while one runs (the
    /// progress bar), and the job wakes the window when it ends.
    pub fn poll(&mut self, ctx: &egui::Context) {
        let finished = self.job.as_mut().and_then(|(_, work, _)| work.poll());
        if let Some(result) = finished {
            let out = self.job.take().map(|(_, _, out)| out);
            self.written = out.filter(|_| matches!(result, Ok(Ok(_))));
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
    let (from, to, _) = state.dates.range(&crate::time_text::now_rfc3339());
    let request = ExportRequest {
        kind: state.kind,
        classes: vec![class],
        from,
        to,
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
    let written = request.out.clone();
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
        // Done is shown at once, not at the next mouse move.
        cx.waker(),
    );
    state.outcome = None;
    state.written = None;
    state.job = Some((job, work, written));
}

/// What the screen will write, in words: "a progress bundle of 8B, Autumn 2026".
fn described(state: &ExportState, class: &str) -> String {
    let (_, _, dates) = state.dates.range(&crate::time_text::now_rfc3339());
    let kind = match state.kind {
        BundleKind::Progress => "a progress bundle",
        BundleKind::Lesson => "the lesson recordings",
        BundleKind::Moderation => "a moderation pack",
    };
    let names = if state.pseudonymise || state.kind == BundleKind::Moderation {
        "pupils as codes"
    } else {
        "pupils by name"
    };
    format!("Writes {kind} of {class}, {dates}, with {names}.")
}

/// The folder to show for a written bundle: the bundle's own, or the one a zip is in.
fn folder_of(bundle: &std::path::Path) -> PathBuf {
    if bundle.is_dir() {
        bundle.to_path_buf()
    } else {
        bundle
            .parent()
            .map_or_else(|| bundle.to_path_buf(), std::path::Path::to_path_buf)
    }
}

pub fn export_ui(state: &mut ExportState, cx: &mut AppContext, ui: &mut egui::Ui) {
    let Some(class) = cx.class else {
        ui.label("Pick a class on the Start screen to export its evidence.");
        return;
    };
    if state.class.as_ref().map(|(id, _)| *id) != Some(class) && !state.running() {
        let name = cx.class_name(class);
        *state = ExportState {
            class: Some((class, name)),
            ..ExportState::default()
        };
    }
    let class_name = state
        .class
        .as_ref()
        .map_or_else(String::new, |(_, name)| name.clone());
    ui.heading(format!("Export evidence for {class_name}"));
    let running = state.running();
    ui.add_enabled_ui(!running, |ui| {
        for (kind, label, about) in [
            (BundleKind::Progress, "Progress", "each pupil's first and latest evidence per criterion, with judgements, radar diagrams and reflections"),
            (BundleKind::Lesson, "Lesson recordings", "every take, without pupils who are not to be shared"),
            (BundleKind::Moderation, "Moderation pack", "pseudonymised evidence without judgements, and a blank judgement sheet"),
        ] {
            ui.radio_value(&mut state.kind, kind, label).on_hover_text(about);
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("Dates:");
            for dates in [Dates::ThisTerm, Dates::LastTerm, Dates::SchoolYear, Dates::Everything] {
                let (from, to, words) = dates.range(&crate::time_text::now_rfc3339());
                let label = match dates {
                    Dates::ThisTerm => format!("{words} (this term)"),
                    Dates::LastTerm => format!("{words} (last term)"),
                    Dates::SchoolYear => words.replacen("the school year", "School year", 1),
                    Dates::Everything => "Everything".to_string(),
                };
                ui.radio_value(&mut state.dates, dates, label)
                    .on_hover_text(format!("{from} to {to}"));
            }
        });
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
        ui.label(described(state, &class_name));
        if ui.button("Write the bundle").clicked() {
            let out = state.out.trim();
            if out.is_empty() {
                state.outcome = Some(Err("Say where to save the bundle: Choose a folder…".into()));
            } else if !std::path::Path::new(out).is_absolute() {
                // A bare name would land wherever the app was started from.
                state.outcome = Some(Err(format!(
                    "\"{out}\" is not a full path: Choose a folder…, or type one such as /home/you/Desktop/{out}"
                )));
            } else {
                start(state, cx, class);
            }
        }
    });
    if let Some((job, _, _)) = &state.job {
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
            if let Some(bundle) = &state.written {
                ui.label(format!("Saved in {}", bundle.display()));
                if ui.button("Open folder").clicked() {
                    let folder = folder_of(bundle);
                    if let Err(e) = open::that_detached(&folder) {
                        cx.notices.error(format!(
                            "cannot open {} ({e}): open it from your file manager",
                            folder.display()
                        ));
                    }
                }
            }
        }
        Some(Err(text)) => {
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
        None => {}
    }
}
