//! Setting a class up inside the app: adding a class, and bringing its pupils in from
//! the school system's export or a OneRoster / School Data Sync bundle (chosen with the
//! system's file chooser, typed or pasted, or dropped on the window). A bundle holding
//! several classes asks which one. The file is read and shown first — every pupil found, every line refused
//! with its reason — and only "Add these pupils" writes to the library.
//!
//! The file is read on a thread of its own (a bundle from a slow share, or a hostile
//! one, never holds up a frame). Must not parse rosters itself (`library::roster` does)
//! or tell the teacher to use the command line.

use super::context::{Action, AppContext};
use super::file_dialog::{Choose, Chooser};
use crate::library::roster_bundle::{ClassRoster, RosterFile, open_roster};
use eframe::egui;
use std::path::PathBuf;

/// What was read from a roster file, before anything is written: the file, and the
/// rows for the class in hand (or why they cannot be told yet: a bundle of classes).
struct Preview {
    file: PathBuf,
    roster: RosterFile,
    rows: Result<ClassRoster, String>,
}

#[derive(Default)]
pub struct RosterImportState {
    new_class: String,
    /// Why "Add a class" did nothing (no name typed).
    class_said: Option<String>,
    path: String,
    preview: Option<Result<Preview, String>>,
    /// The file being read, off the UI thread.
    reading: Option<crate::jobs::Background<Result<Preview, String>>>,
    said: Option<Result<String, String>>,
    chooser: Chooser,
}

impl RosterImportState {
    /// Starts reading the roster at the typed path into a preview for `class_name`.
    fn read(&mut self, class_name: &str, cx: &AppContext) {
        let file = PathBuf::from(self.path.trim());
        let class_name = class_name.to_string();
        self.said = None;
        self.preview = None;
        self.reading = Some(crate::jobs::Background::start(
            "bandroom-roster-reading",
            move || {
                open_roster(&file).map_err(|e| e.to_string()).map(|roster| {
                    let rows = roster
                        .rows_for(&class_name, None)
                        .map_err(|e| e.to_string());
                    Preview { file, roster, rows }
                })
            },
            cx.waker(),
        ));
    }

    /// The preview, once the reading has finished.
    fn poll_reading(&mut self) {
        if let Some(job) = &mut self.reading
            && let Some(result) = job.poll()
        {
            self.reading = None;
            self.preview = Some(result.and_then(|r| r));
        }
    }
}

/// "New class" and "Add pupils from a file", on the start screen.
pub fn roster_ui(state: &mut RosterImportState, cx: &mut AppContext, ui: &mut egui::Ui) {
    // A roster file dropped on the window is read straight away.
    let dropped = ui
        .ctx()
        .input(|i| i.raw.dropped_files.iter().find_map(|f| f.path.clone()));
    let chosen = state.chooser.chosen();
    let arrived = dropped.or(chosen);
    ui.horizontal_wrapped(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut state.new_class)
                .hint_text("e.g. 8B")
                .desired_width(120.0),
        );
        field.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "New class name")
        });
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Add a class").clicked() || enter {
            if state.new_class.trim().is_empty() {
                state.class_said = Some("Type the class's name first, e.g. 8B.".into());
            } else {
                state.class_said = None;
                let name = std::mem::take(&mut state.new_class);
                let added = cx.lib.add_class(name.trim(), None, None);
                if let Some(id) = cx.report(added) {
                    cx.act(Action::ChooseClass(Some(id)));
                }
            }
        }
        if let Some(said) = &state.class_said {
            ui.label(said);
        }
    });
    state.poll_reading();
    let Some(class) = cx.class else {
        ui.weak("Choose a class (or add one) to bring its pupils in from a file.");
        return;
    };
    let classes = cx.read_or_default("classes", crate::library::Library::classes);
    let class_name = classes
        .iter()
        .find(|c| c.id == class)
        .map_or_else(String::new, |c| c.name.clone());
    if let Some(path) = arrived {
        state.path = path.display().to_string();
        state.read(&class_name, cx);
    }
    ui.label(format!(
        "Add pupils to {class_name} from the school system's export (a CSV), or from a \
         OneRoster or School Data Sync export (a zip or its folder): choose the file, type \
         where it is, or drop it on this window."
    ));
    ui.horizontal_wrapped(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut state.path)
                .hint_text("the roster file, e.g. /home/teacher/8B.csv")
                .desired_width(360.0),
        );
        field.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Roster file")
        });
        if ui.button("Read the file").clicked() && !state.path.trim().is_empty() {
            state.read(&class_name, cx);
        }
        if ui
            .add_enabled(
                !state.chooser.is_open(),
                egui::Button::new("Choose a file…"),
            )
            .clicked()
        {
            state.chooser.open(
                ui.ctx(),
                Choose::File {
                    title: "The class's roster",
                    filter: ("Rosters (CSV or zip)", &["csv", "txt", "zip"]),
                },
            );
        }
    });
    if state.reading.is_some() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!("Reading {}…", state.path.trim()));
        });
    }
    let mut import = false;
    match &mut state.preview {
        Some(Ok(preview)) => {
            bundle_choice_ui(ui, preview, &class_name);
            match &preview.rows {
                Ok(roster) => import = preview_ui(ui, &preview.file, roster, &class_name),
                Err(e) => {
                    ui.colored_label(ui.visuals().warn_fg_color, e);
                }
            }
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e.as_str());
        }
        None => {}
    }
    if import
        && let Some(Ok(preview)) = state.preview.take()
        && let Ok(roster) = preview.rows
    {
        let outcome = cx
            .lib
            .import_roster(class, &roster.rows, roster.problems, false);
        state.said = Some(
            outcome
                .map(|o| {
                    format!(
                        "{class_name}: {} pupil(s) added, {} already in the library joined, {} \
                         already in the class.",
                        o.added, o.joined, o.already_in_class
                    )
                })
                .map_err(|e| e.to_string()),
        );
    }
    super::widgets::outcome(ui, &state.said, "");
}

/// A bundle of several classes: which of them is this class (a button each).
fn bundle_choice_ui(ui: &mut egui::Ui, preview: &mut Preview, class_name: &str) {
    let classes = preview.roster.classes();
    if classes.len() < 2 {
        return;
    }
    let mut picked = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "{} holds {} classes. Which is {class_name}?",
            preview.roster.kind.describe(),
            classes.len()
        ));
        let current = preview.rows.as_ref().ok().and_then(|r| r.from.clone());
        for c in classes {
            let label = format!("{} ({} pupils)", c.title, c.pupils);
            let on = current
                .as_deref()
                .is_some_and(|f| f == c.title || f.starts_with(&format!("{} (", c.title)));
            if ui.add(egui::Button::selectable(on, label)).clicked() {
                picked = Some(c.id.clone());
            }
        }
    });
    if let Some(id) = picked {
        preview.rows = preview
            .roster
            .rows_for(class_name, Some(&id))
            .map_err(|e| e.to_string());
    }
}

/// Every pupil found and every line refused; true when "Add these pupils" is clicked.
fn preview_ui(
    ui: &mut egui::Ui,
    file: &std::path::Path,
    roster: &ClassRoster,
    class_name: &str,
) -> bool {
    ui.label(format!(
        "{}{}: {} pupil(s) found{}",
        file.display(),
        roster
            .from
            .as_deref()
            .map_or_else(String::new, |f| format!(", class {f}")),
        roster.rows.len(),
        if roster.problems.is_empty() {
            String::new()
        } else {
            format!(
                ", {} line(s) that will not be imported",
                roster.problems.len()
            )
        }
    ));
    egui::ScrollArea::vertical()
        .id_salt("roster preview")
        .max_height(180.0)
        .show(ui, |ui| {
            for row in &roster.rows {
                let groups = if row.groups.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", row.groups.join(", "))
                };
                ui.label(format!(
                    "{}{}{groups}",
                    row.name,
                    row.number
                        .as_deref()
                        .map_or_else(String::new, |n| format!(" ({n})"))
                ));
            }
            for problem in &roster.problems {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("line {} {}", problem.line, problem.message),
                );
            }
        });
    !roster.rows.is_empty()
        && ui
            .button(format!(
                "Add these {} pupil(s) to {class_name}",
                roster.rows.len()
            ))
            .clicked()
}
