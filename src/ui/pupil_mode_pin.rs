//! The teacher PIN asked for before pupil mode starts on a PC that has none: without
//! it, "Leave pupil mode" would open every teacher screen to any pupil.
//!
//! Owns the small form (the PIN twice) and what it says; must not check or store the
//! PIN itself (the library does).

use super::context::AppContext;
use eframe::egui;

#[derive(Default)]
pub struct PinFirst {
    /// The class pupil mode is to start for, once a PIN is set.
    class: Option<i64>,
    pin: String,
    again: String,
    said: Option<String>,
}

impl PinFirst {
    /// Starts asking, for pupil mode in `class`.
    pub fn ask(&mut self, class: i64) {
        *self = PinFirst {
            class: Some(class),
            ..PinFirst::default()
        };
    }
}

/// The form, while asked; returns the class to start pupil mode for once the PIN is set.
pub fn pin_first_ui(state: &mut PinFirst, cx: &mut AppContext, ctx: &egui::Context) -> Option<i64> {
    let class = state.class?;
    let mut start = None;
    egui::Modal::new(egui::Id::new("pin before pupil mode")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading("Set a teacher PIN first");
        ui.label(
            "Pupil mode ends only with the teacher PIN, so pupils cannot reach teacher \
             screens. This PC has none yet: choose one (4 to 12 digits).",
        );
        egui::Grid::new("pin first").show(ui, |ui| {
            ui.label("New PIN");
            let a = ui.add(egui::TextEdit::singleline(&mut state.pin).password(true));
            a.widget_info(|| {
                egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "New teacher PIN")
            });
            ui.end_row();
            ui.label("Again");
            let b = ui.add(egui::TextEdit::singleline(&mut state.again).password(true));
            b.widget_info(|| {
                egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "New teacher PIN again")
            });
            ui.end_row();
        });
        if let Some(said) = &state.said {
            ui.label(said);
        }
        ui.horizontal(|ui| {
            if ui.button("Set the PIN and start pupil mode").clicked() {
                let (pin, again) = (
                    std::mem::take(&mut state.pin),
                    std::mem::take(&mut state.again),
                );
                if pin != again {
                    state.said = Some("The two PINs differ; type it twice the same.".into());
                } else {
                    match cx.lib.set_pin(None, &pin) {
                        Ok(()) => start = Some(class),
                        Err(e) => state.said = Some(e.to_string()),
                    }
                }
            }
            if ui.button("Cancel").clicked() {
                *state = PinFirst::default();
            }
        });
    });
    if start.is_some() {
        *state = PinFirst::default();
    }
    start
}
