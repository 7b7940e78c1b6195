//! The start screen: pick a class (or go on without one), pick an arrangement, go.
//!
//! Must not start audio: the lesson screen does.

use super::app::{BandroomApp, Screen};
use crate::music;
use eframe::egui;

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
