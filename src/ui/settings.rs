//! Settings a teacher changes rarely: the teacher PIN, theme and scale (for high-DPI
//! screens and projectors), and where the library lives.
//!
//! Must not store anything itself: the PIN goes to the library as a hash.

use super::app::BandroomApp;
use eframe::egui;

#[derive(Default)]
pub struct SettingsState {
    pin: String,
    again: String,
    said: Option<String>,
}

pub fn settings_ui(app: &mut BandroomApp, ui: &mut egui::Ui) {
    ui.heading("Look");
    ui.horizontal(|ui| {
        ui.checkbox(&mut app.dark, "Dark theme");
        ui.label("Scale");
        ui.add(egui::Slider::new(&mut app.zoom, 0.75..=2.5).step_by(0.25));
    });
    ui.separator();
    ui.heading("Teacher PIN");
    let has = app.lib.has_pin().unwrap_or(false);
    ui.label(if has {
        "A PIN is set: leaving pupil mode asks for it."
    } else {
        "No PIN yet: anyone can leave pupil mode. Set one before pupils use this PC."
    });
    ui.label("It keeps pupils out of teacher screens; it does not protect the files from the PC's administrator.");
    egui::Grid::new("pin").show(ui, |ui| {
        ui.label("New PIN");
        let a = ui.add(egui::TextEdit::singleline(&mut app.settings.pin).password(true));
        a.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "New teacher PIN")
        });
        ui.end_row();
        ui.label("Again");
        let b = ui.add(egui::TextEdit::singleline(&mut app.settings.again).password(true));
        b.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "New teacher PIN again")
        });
        ui.end_row();
    });
    if ui.button("Set PIN").clicked() {
        let (pin, again) = (
            std::mem::take(&mut app.settings.pin),
            std::mem::take(&mut app.settings.again),
        );
        app.settings.said = Some(if pin != again {
            "The two PINs differ; type it twice the same.".into()
        } else {
            match app.lib.set_pin(&pin) {
                Ok(()) => "PIN set.".into(),
                Err(e) => e.to_string(),
            }
        });
    }
    if let Some(said) = &app.settings.said {
        ui.label(said);
    }
    ui.separator();
    ui.heading("Library");
    ui.label(format!(
        "Takes and judgements are kept in {}",
        app.root.display()
    ));
    ui.label("Back it up with `bandroom backup DIR`; check it with `bandroom check`.");
}
