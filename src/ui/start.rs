//! The start screen: pick a class (or go on without one), pick an arrangement (built in,
//! or the school's own from the library's `arrangements` folder), go. A school file that
//! cannot be read is listed with the reason, and the others stay usable.
//!
//! Must not start audio: the lesson screen does.

use super::app::{BandroomApp, Screen};
use crate::music;
use eframe::egui;

/// The school's own arrangements, read when the screen is first shown or on request
/// rather than every frame: (name, title, or why the file cannot be used).
#[derive(Default)]
pub struct StartState {
    own: Option<Vec<(String, Result<String, String>)>>,
}

fn own_arrangements(app: &mut BandroomApp) -> Vec<(String, Result<String, String>)> {
    if app.start.own.is_none() {
        let folder = crate::library::arrangements_folder(&app.root);
        let found = music::user_arrangements(&folder)
            .into_iter()
            .map(|(name, loaded)| (name, loaded.map(|a| a.title).map_err(|e| e.to_string())))
            .collect();
        app.start.own = Some(found);
    }
    app.start.own.clone().unwrap_or_default()
}

pub fn start_ui(app: &mut BandroomApp, ui: &mut egui::Ui) {
    ui.heading("Which class is this?");
    let classes = app.lib.classes();
    let Some(classes) = app.report(classes) else {
        return;
    };
    egui::Grid::new("classes").striped(true).show(ui, |ui| {
        for class in &classes {
            let chosen = app.class == Some(class.id);
            if ui
                .add(egui::Button::selectable(chosen, &class.name))
                .on_hover_text(format!("framework: {}", class.framework))
                .clicked()
            {
                app.class = Some(class.id);
                app.lesson = Default::default();
            }
            let plural =
                |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
            ui.label(format!(
                "{} · {} · {}",
                plural(class.pupils, "pupil", "pupils"),
                plural(class.lessons, "lesson", "lessons"),
                plural(class.takes, "take", "takes")
            ));
            ui.end_row();
        }
    });
    if ui
        .add(egui::Button::selectable(
            app.class.is_none(),
            "Quick take (no class)",
        ))
        .clicked()
    {
        app.class = None;
    }
    ui.add_space(12.0);
    ui.heading("What are we playing?");
    ui.horizontal_wrapped(|ui| {
        if ui
            .add(egui::Button::selectable(
                app.arrangement.is_none(),
                "Nothing (just record)",
            ))
            .clicked()
        {
            app.arrangement = None;
        }
        for builtin in music::BUILT_INS {
            let chosen = app.arrangement.as_deref() == Some(builtin.name);
            if ui
                .add(egui::Button::selectable(chosen, builtin.name))
                .on_hover_text(builtin.summary)
                .clicked()
            {
                app.arrangement = Some(builtin.name.to_string());
            }
        }
    });
    let own = own_arrangements(app);
    if !own.is_empty() {
        ui.label("The school's own:");
    }
    ui.horizontal_wrapped(|ui| {
        for (name, loaded) in &own {
            if let Ok(title) = loaded {
                let chosen = app.arrangement.as_deref() == Some(name.as_str());
                if ui
                    .add(egui::Button::selectable(chosen, name))
                    .on_hover_text(title)
                    .clicked()
                {
                    app.arrangement = Some(name.clone());
                }
            }
        }
        if ui.small_button("Look again").clicked() {
            app.start.own = None;
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
        app.screen = Screen::Lesson;
    }
}
