//! Changing the class in hand after it is set up, on the start screen: renaming or
//! archiving it, and correcting a pupil (name, number, groups, "do not share") or
//! moving them to another class. One pupil is edited at a time, in a form that writes
//! nothing until "Save".
//!
//! Must not write SQL or check names itself: the library does, and its refusal is
//! shown as it says it.

use super::context::{Action, AppContext};
use crate::library::{ClassSummary, PupilEdit, PupilSummary};
use eframe::egui;

/// A pupil being corrected: the form's fields, as typed.
#[derive(Clone, Debug, Default)]
struct PupilForm {
    pupil: i64,
    name: String,
    number: String,
    groups: String,
    do_not_share: bool,
    move_to: Option<i64>,
}

impl PupilForm {
    fn of(p: &PupilSummary) -> PupilForm {
        PupilForm {
            pupil: p.id,
            name: p.name.clone(),
            number: p.number.clone().unwrap_or_default(),
            groups: p.groups.join(", "),
            do_not_share: p.do_not_share,
            move_to: None,
        }
    }

    fn edit(&self) -> PupilEdit {
        PupilEdit {
            name: self.name.clone(),
            number: Some(self.number.clone()),
            groups: self.groups.split([',', ';']).map(str::to_string).collect(),
            do_not_share: self.do_not_share,
        }
    }
}

#[derive(Default)]
pub struct ClassEditState {
    /// The class the fields below belong to (reset when another is chosen).
    class: Option<i64>,
    rename: String,
    find: String,
    form: Option<PupilForm>,
    said: Option<Result<String, String>>,
}

fn labelled_field(ui: &mut egui::Ui, label: &str, text: &mut String, width: f32) {
    ui.label(format!("{label}:"));
    let field = ui.add(egui::TextEdit::singleline(text).desired_width(width));
    field.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, label));
}

/// "Rename", "Archive" and the pupils of `class`, each with "Edit".
pub fn class_edit_ui(
    state: &mut ClassEditState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    class: &ClassSummary,
    classes: &[ClassSummary],
) {
    if state.class != Some(class.id) {
        *state = ClassEditState {
            class: Some(class.id),
            rename: class.name.clone(),
            ..ClassEditState::default()
        };
    }
    ui.horizontal_wrapped(|ui| {
        labelled_field(ui, "Class name", &mut state.rename, 160.0);
        if ui.button("Rename").clicked() {
            let renamed = cx.lib.rename_class(class.id, &state.rename);
            state.said = Some(
                renamed
                    .map(|()| format!("The class is now called {}.", state.rename.trim()))
                    .map_err(|e| e.to_string()),
            );
        }
        let archive = if class.archived {
            "Bring the class back"
        } else {
            "Archive the class"
        };
        if ui
            .button(archive)
            .on_hover_text("its pupils, takes and judgements are all kept")
            .clicked()
        {
            let done = cx.lib.set_class_archived(class.id, !class.archived);
            if cx.report(done).is_some() && !class.archived {
                cx.act(Action::ChooseClass(None));
            }
        }
    });
    let id = class.id;
    let pupils = cx.read_or_default(format!("pupils/{id}"), |lib| lib.pupils(Some(id)));
    ui.horizontal(|ui| {
        ui.label(format!("{} pupils.", pupils.len()));
        labelled_field(ui, "Find a pupil to change", &mut state.find, 180.0);
    });
    let find = state.find.trim().to_lowercase();
    egui::ScrollArea::vertical()
        .id_salt("class pupils")
        .max_height(200.0)
        .show(ui, |ui| {
            for p in pupils
                .iter()
                .filter(|p| find.is_empty() || p.name.to_lowercase().contains(&find))
            {
                ui.horizontal(|ui| {
                    let number = p
                        .number
                        .as_deref()
                        .map_or_else(String::new, |n| format!(" ({n})"));
                    ui.label(format!("{}{number}", p.name));
                    let edit = ui.small_button("Edit");
                    edit.widget_info(|| {
                        egui::WidgetInfo::labeled(
                            egui::WidgetType::Button,
                            true,
                            format!("Edit {}{number}", p.name),
                        )
                    });
                    if edit.clicked() {
                        state.form = Some(PupilForm::of(p));
                        state.said = None;
                    }
                });
            }
        });
    if let Some(form) = &mut state.form {
        let outcome = pupil_form_ui(cx, ui, form, class, classes);
        if let Some(result) = outcome {
            if result.is_ok() {
                state.form = None;
            }
            state.said = Some(result);
        }
    }
    super::widgets::outcome(ui, &state.said, "");
}

/// The form for one pupil; `Some` once saved (or refused) or cancelled.
fn pupil_form_ui(
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    form: &mut PupilForm,
    class: &ClassSummary,
    classes: &[ClassSummary],
) -> Option<Result<String, String>> {
    let mut outcome = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            labelled_field(ui, "Name", &mut form.name, 240.0);
            labelled_field(ui, "Number", &mut form.number, 100.0);
        });
        ui.horizontal_wrapped(|ui| {
            labelled_field(ui, "Groups", &mut form.groups, 160.0);
            ui.weak("e.g. PP, SEN, EAL: only ever shown as counts");
        });
        ui.checkbox(
            &mut form.do_not_share,
            "Do not share (left out of every export that is not assessment evidence)",
        );
        let others: Vec<&ClassSummary> = classes
            .iter()
            .filter(|c| c.id != class.id && !c.archived)
            .collect();
        if !others.is_empty() {
            let target = form
                .move_to
                .and_then(|t| others.iter().find(|c| c.id == t))
                .map_or_else(
                    || format!("stays in {}", class.name),
                    |c| format!("moves to {}", c.name),
                );
            super::widgets::labelled_combo(ui, "Class", target, |ui| {
                ui.selectable_value(&mut form.move_to, None, format!("stays in {}", class.name));
                for c in &others {
                    ui.selectable_value(
                        &mut form.move_to,
                        Some(c.id),
                        format!("moves to {}", c.name),
                    );
                }
            });
        }
        ui.horizontal(|ui| {
            if ui.button("Save").clicked() {
                let saved = cx.lib.edit_pupil(form.pupil, &form.edit());
                let moved = saved.and_then(|()| match form.move_to {
                    Some(to) => cx.lib.move_pupil(form.pupil, class.id, to),
                    None => Ok(()),
                });
                outcome = Some(
                    moved
                        .map(|()| format!("{} is saved.", form.name.trim()))
                        .map_err(|e| e.to_string()),
                );
            }
            if ui.button("Cancel").clicked() {
                outcome = Some(Ok(String::new()));
            }
        });
    });
    outcome
}
