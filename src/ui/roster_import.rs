//! Setting a class up inside the app: adding a class, and bringing its pupils in from
//! the school system's export (a file path typed or pasted, or the file dropped on the
//! window). The file is read and shown first — every pupil found, every line refused
//! with its reason — and only "Add these pupils" writes to the library.
//!
//! Must not parse rosters itself (`library::roster` does) or tell the teacher to use
//! the command line.

use super::context::{Action, AppContext};
use crate::library::roster::{RosterProblem, RosterRow, parse_roster};
use eframe::egui;
use std::path::PathBuf;

/// What was read from a roster file, before anything is written.
struct Preview {
    file: PathBuf,
    rows: Vec<RosterRow>,
    problems: Vec<RosterProblem>,
}

#[derive(Default)]
pub struct RosterImportState {
    new_class: String,
    path: String,
    preview: Option<Result<Preview, String>>,
    said: Option<Result<String, String>>,
}

impl RosterImportState {
    /// Reads the roster at the typed path into a preview.
    fn read(&mut self) {
        let file = PathBuf::from(self.path.trim());
        let read =
            crate::own_files::read_regular_limited(&file, crate::own_files::SMALL_FILE_LIMIT)
                .map_err(|e| format!("{} cannot be read: {e}", file.display()))
                .and_then(|bytes| {
                    parse_roster(&bytes, &file.display().to_string()).map_err(|e| e.to_string())
                });
        self.said = None;
        self.preview = Some(read.map(|(rows, problems)| Preview {
            file,
            rows,
            problems,
        }));
    }
}

/// "New class" and "Add pupils from a file", on the start screen.
pub fn roster_ui(state: &mut RosterImportState, cx: &mut AppContext, ui: &mut egui::Ui) {
    // A roster file dropped on the window is read straight away.
    let dropped = ui
        .ctx()
        .input(|i| i.raw.dropped_files.iter().find_map(|f| f.path.clone()));
    if let Some(path) = dropped {
        state.path = path.display().to_string();
        state.read();
    }
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
        if (ui.button("Add a class").clicked() || enter) && !state.new_class.trim().is_empty() {
            let name = std::mem::take(&mut state.new_class);
            let added = cx.lib.add_class(name.trim(), None, None);
            if let Some(id) = cx.report(added) {
                cx.act(Action::ChooseClass(Some(id)));
            }
        }
    });
    let Some(class) = cx.class else {
        ui.weak("Choose a class (or add one) to bring its pupils in from a file.");
        return;
    };
    let classes = cx.read_or_default("classes", crate::library::Library::classes);
    let class_name = classes
        .iter()
        .find(|c| c.id == class)
        .map_or_else(String::new, |c| c.name.clone());
    ui.label(format!(
        "Add pupils to {class_name} from the school system's export (CSV): type or paste \
         where the file is, or drop it on this window."
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
            state.read();
        }
    });
    let mut import = false;
    match &state.preview {
        Some(Ok(preview)) => {
            ui.label(format!(
                "{}: {} pupil(s) found{}",
                preview.file.display(),
                preview.rows.len(),
                if preview.problems.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {} line(s) that will not be imported",
                        preview.problems.len()
                    )
                }
            ));
            egui::ScrollArea::vertical()
                .id_salt("roster preview")
                .max_height(180.0)
                .show(ui, |ui| {
                    for row in &preview.rows {
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
                    for problem in &preview.problems {
                        ui.colored_label(
                            ui.visuals().warn_fg_color,
                            format!("line {}: {}", problem.line, problem.message),
                        );
                    }
                });
            if !preview.rows.is_empty() {
                import = ui
                    .button(format!(
                        "Add these {} pupil(s) to {class_name}",
                        preview.rows.len()
                    ))
                    .clicked();
            }
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        None => {}
    }
    if import && let Some(Ok(preview)) = state.preview.take() {
        let outcome = cx
            .lib
            .import_roster(class, &preview.rows, preview.problems, false);
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
