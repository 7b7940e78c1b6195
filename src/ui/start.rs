//! The start screen: pick a class (or go on without one), pick an arrangement (built in,
//! or the school's own from the library's `arrangements` folder), go. A school file that
//! cannot be read is listed with the reason, and the others stay usable.
//!
//! Must not start audio: the lesson screen does.

use super::context::{Action, AppContext, Screen};
use crate::music;
use eframe::egui;

/// The school's own arrangements, read when the screen is first shown or on request
/// rather than every frame: (name, title, or why the file cannot be used).
#[derive(Default)]
pub struct StartState {
    own: Option<Vec<(String, Result<String, String>)>>,
    roster: super::roster_import::RosterImportState,
    edit: super::class_edit::ClassEditState,
    /// Archived classes are listed too.
    show_archived: bool,
}

impl StartState {
    /// Draws the start screen; choices become actions.
    pub fn ui(&mut self, cx: &mut AppContext, ui: &mut egui::Ui) {
        start_ui(self, cx, ui);
    }
}

fn own_arrangements(
    state: &mut StartState,
    cx: &AppContext,
) -> Vec<(String, Result<String, String>)> {
    if state.own.is_none() {
        let folder = crate::library::arrangements_folder(&cx.root);
        let found = music::user_arrangements(&folder)
            .into_iter()
            .map(|(name, loaded)| (name, loaded.map(|a| a.title).map_err(|e| e.to_string())))
            .collect();
        state.own = Some(found);
    }
    state.own.clone().unwrap_or_default()
}

pub fn start_ui(state: &mut StartState, cx: &mut AppContext, ui: &mut egui::Ui) {
    ui.heading("Which class is this?");
    let classes = cx.read("classes", crate::library::Library::classes);
    let Some(classes) = cx.report(classes) else {
        return;
    };
    let archived = classes.iter().filter(|c| c.archived).count();
    egui::Grid::new("classes").striped(true).show(ui, |ui| {
        for class in classes
            .iter()
            .filter(|c| state.show_archived || !c.archived)
        {
            let chosen = cx.class == Some(class.id);
            if ui
                .add(egui::Button::selectable(chosen, &class.name))
                .on_hover_text(format!("framework: {}", class.framework))
                .clicked()
            {
                cx.act(Action::ChooseClass(Some(class.id)));
            }
            let plural =
                |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
            ui.label(format!(
                "{} · {} · {}{}",
                plural(class.pupils, "pupil", "pupils"),
                plural(class.lessons, "lesson", "lessons"),
                plural(class.takes, "take", "takes"),
                if class.archived { " · archived" } else { "" }
            ));
            ui.end_row();
        }
    });
    if ui
        .add(egui::Button::selectable(
            cx.class.is_none(),
            "Quick take (no class)",
        ))
        .clicked()
    {
        cx.act(Action::ChooseClass(None));
    }
    if archived > 0 {
        ui.checkbox(
            &mut state.show_archived,
            format!("Show archived classes ({archived})"),
        );
    }
    ui.add_space(6.0);
    egui::CollapsingHeader::new("Set up a class")
        .default_open(classes.len() <= 1)
        .show(ui, |ui| {
            super::roster_import::roster_ui(&mut state.roster, cx, ui)
        });
    if let Some(class) = cx.class.and_then(|id| classes.iter().find(|c| c.id == id)) {
        egui::CollapsingHeader::new(format!("Change {} and its pupils", class.name))
            .id_salt("change class")
            .show(ui, |ui| {
                super::class_edit::class_edit_ui(&mut state.edit, cx, ui, class, &classes)
            });
    }
    ui.add_space(12.0);
    ui.heading("What are we playing?");
    ui.horizontal_wrapped(|ui| {
        if ui
            .add(egui::Button::selectable(
                cx.arrangement.is_none(),
                "Nothing (just record)",
            ))
            .clicked()
        {
            cx.act(Action::ChooseArrangement(None));
        }
        for builtin in music::BUILT_INS {
            let chosen = cx.arrangement.as_deref() == Some(builtin.name);
            let title = cx.title_of(builtin.name);
            if ui
                .add(egui::Button::selectable(chosen, title))
                .on_hover_text(builtin.summary)
                .clicked()
            {
                cx.act(Action::ChooseArrangement(Some(builtin.name.to_string())));
            }
        }
    });
    let own = own_arrangements(state, cx);
    if !own.is_empty() {
        ui.label("The school's own:");
    }
    let built_in_titles: Vec<String> = music::BUILT_INS
        .iter()
        .map(|b| cx.title_of(b.name))
        .collect();
    ui.horizontal_wrapped(|ui| {
        for (name, loaded) in &own {
            if let Ok(title) = loaded {
                // A school's edit of a built-in piece keeps its title: tell them apart.
                let title = if built_in_titles.contains(title) {
                    format!("{title} (the school's)")
                } else {
                    title.clone()
                };
                let chosen = cx.arrangement.as_deref() == Some(name.as_str());
                if ui
                    .add(egui::Button::selectable(chosen, title))
                    .on_hover_text(format!("{name}.toml in the school's arrangements folder"))
                    .clicked()
                {
                    cx.act(Action::ChooseArrangement(Some(name.clone())));
                }
            }
        }
        if ui.small_button("Look again").clicked() {
            state.own = None;
        }
    });
    for (name, loaded) in &own {
        if let Err(why) = loaded {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{name}.toml cannot be used: {why}. Mend the file, then Look again."),
            );
        }
    }
    ui.add_space(12.0);
    if ui
        .add(egui::Button::new(
            egui::RichText::new("Go to the lesson").heading(),
        ))
        .clicked()
    {
        cx.act(Action::Open(Screen::Lesson));
    }
}
