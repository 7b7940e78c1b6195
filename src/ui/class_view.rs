//! The class view for the projector: what the whole class reads from the back of the
//! room while playing — big count-in numbers, bar and beat, the section, this bar's
//! chord symbol and the next, each part's rhythm grid with a moving cursor (both Clapping Music patterns and the current
//! shift), and a recording light. Type scales with the window; **F11** toggles full
//! screen. It shows no pupil's name or score.
//!
//! Between takes it shows how each section (all the players of a part, pooled) did in
//! the last analysed take, never a pupil's name or score.
//!
//! Must not compute where the music is: the recording reports the engine's position.

use super::context::AppContext;
use super::devices::Devices;
use eframe::egui;

fn big(ui: &mut egui::Ui, text: impl Into<String>, size: f32, colour: egui::Color32) {
    let text = text.into();
    let response = ui.label(egui::RichText::new(&text).size(size).strong().color(colour));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Label, true, &text));
}

/// A red light and "REC", drawn rather than typed so every font has it.
fn recording_light(ui: &mut egui::Ui, unit: f32) {
    let red = egui::Color32::from_rgb(210, 40, 40);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(unit, unit), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), unit * 0.4, red);
    big(ui, "REC", unit, red);
}

/// One part's rhythm grid: a cell per step, the step being played outlined.
fn grid_ui(ui: &mut egui::Ui, name: &str, grid: &str, playing_step: Option<usize>, size: f32) {
    let steps: Vec<char> = grid
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '|')
        .collect();
    let pattern: String = steps.iter().collect();
    let row = ui.horizontal(|ui| {
        ui.label(egui::RichText::new(name).size(size * 0.5));
        let cell = egui::vec2(size, size);
        for (i, step) in steps.iter().enumerate() {
            let (rect, _) = ui.allocate_exact_size(cell, egui::Sense::hover());
            let sounding = *step == 'x' || *step == 'X';
            let fill = if sounding {
                ui.visuals().strong_text_color()
            } else {
                ui.visuals().extreme_bg_color
            };
            ui.painter().rect_filled(rect.shrink(3.0), 4.0, fill);
            if playing_step == Some(i) {
                ui.painter().rect_stroke(
                    rect,
                    4.0,
                    egui::Stroke::new(4.0, egui::Color32::from_rgb(230, 120, 20)),
                    egui::StrokeKind::Inside,
                );
            }
        }
    });
    row.response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::WidgetType::Label,
            true,
            format!("{name} pattern {pattern}"),
        )
    });
}

pub fn class_view_ui(cx: &mut AppContext, devices: &Devices, ui: &mut egui::Ui) {
    if ui.input(|i| i.key_pressed(egui::Key::F11)) {
        let full = ui.ctx().input(|i| i.viewport().fullscreen.unwrap_or(false));
        ui.ctx()
            .send_viewport_cmd(egui::ViewportCommand::Fullscreen(!full));
    }
    // Everything scales with the window, so it reads from the back of the room.
    let unit = (ui.available_width().min(ui.available_height() * 1.6) / 16.0).max(14.0);
    let text = ui.visuals().strong_text_color();
    let Some(recording) = devices.recording() else {
        big(
            ui,
            cx.arrangement_title().unwrap_or_else(|| "Ready".into()),
            unit * 1.5,
            text,
        );
        ui.label(
            egui::RichText::new(
                "Waiting for the teacher to start (R on the lesson screen). F11: full screen.",
            )
            .size(unit * 0.5),
        );
        // How each section did last time, pooled: no pupil is named or scored here.
        let sections = super::timing::latest_sections(cx, cx.class);
        if !sections.is_empty() {
            big(ui, "Last take", unit * 0.8, text);
            for s in sections.iter() {
                big(
                    ui,
                    format!(
                        "{}: {:.0} % of notes tight, {:.0} % played",
                        s.part,
                        s.tight_share * 100.0,
                        s.played_share * 100.0
                    ),
                    unit * 0.6,
                    text,
                );
            }
        }
        return;
    };
    ui.horizontal(|ui| {
        if recording.keep {
            recording_light(ui, unit);
        }
        if let Some(music) = &recording.music {
            big(ui, &music.arrangement.title, unit * 0.8, text);
        }
    });
    let Some(cue) = recording.cue() else {
        big(ui, "Recording", unit * 2.0, text);
        return;
    };
    if cue.count_in {
        big(
            ui,
            format!("{}", cue.beat),
            unit * 5.0,
            egui::Color32::from_rgb(230, 120, 20),
        );
        big(ui, "count-in", unit * 0.8, text);
        return;
    }
    big(
        ui,
        format!("Bar {} · beat {}", cue.bar, cue.beat),
        unit * 1.6,
        text,
    );
    let Some(music) = &recording.music else {
        return;
    };
    // One reading of the section the engine reports, for its name and its patterns
    // alike: read twice, a frame drawn on a section's boundary could name one section
    // and show the other's rhythm.
    let Some(index) = recording.engine_section_index() else {
        return;
    };
    if let Some(name) = music.section_name(index) {
        big(ui, format!("Section {name}"), unit * 1.2, text);
    }
    let Some(section) = music.arrangement.sections.get(index) else {
        return;
    };
    // Where the class is in a section played several times ("repeat 3 of 8").
    if section.repeats > 1 {
        let repeats = u64::from(section.repeats);
        big(
            ui,
            format!("repeat {} of {repeats}", cue.pass.clamp(1, repeats)),
            unit * 0.9,
            text,
        );
    }
    // Chord symbols for those reading a harmony part: this bar's, big, and the next.
    if !section.chords.is_empty()
        && let Some(bar) = recording.bar_in_section()
    {
        let count = section.chords.len();
        ui.horizontal(|ui| {
            big(ui, &section.chords[bar % count], unit * 2.4, text);
            big(
                ui,
                format!("then {}", section.chords[(bar + 1) % count]),
                unit * 0.9,
                ui.visuals().weak_text_color(),
            );
        });
    }
    let step = recording.bar_position().and_then(|(into, bar)| {
        section
            .grids
            .iter()
            .flatten()
            .next()
            .map(|g| {
                g.chars()
                    .filter(|c| !c.is_whitespace() && *c != '|')
                    .count()
            })
            .filter(|n| *n > 0)
            .map(|n| (into * n as u64 / bar.max(1)) as usize)
    });
    for (part, grid) in music.arrangement.parts.iter().zip(&section.grids) {
        if let Some(grid) = grid {
            grid_ui(ui, &part.name, grid, step, unit * 0.9);
        }
    }
}
