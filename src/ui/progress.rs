//! Progress: the class grid (pupils × criteria, latest level, gaps visible) and, for the
//! pupil in hand, a radar diagram with an outline for the first and the latest
//! judgements and the history behind each point.
//!
//! Must not compute levels: they come from the library.

use super::app::BandroomApp;
use super::radar::{Outline, radar_ui};
use eframe::egui;

#[derive(Default)]
pub struct ProgressState {
    pupil: Option<i64>,
}

pub fn progress_ui(app: &mut BandroomApp, ui: &mut egui::Ui) {
    let Some(class) = app.class else {
        ui.label("Pick a class on the Start screen to see its progress.");
        return;
    };
    let grid = app.lib.class_grid(class);
    let Some(grid) = app.report(grid) else {
        return;
    };
    ui.heading("Class grid: latest level per criterion");
    egui::Grid::new("class grid").striped(true).show(ui, |ui| {
        ui.strong("Pupil");
        for (_, title, _) in &grid.criteria {
            ui.strong(title);
        }
        ui.end_row();
        for row in &grid.rows {
            if ui
                .add(egui::Button::selectable(
                    app.progress.pupil == Some(row.pupil_id),
                    &row.name,
                ))
                .clicked()
            {
                app.progress.pupil = Some(row.pupil_id);
            }
            for (level, (_, _, levels)) in row.levels.iter().zip(&grid.criteria) {
                ui.label(level.map_or("—".to_string(), |l| format!("{l}/{levels}")));
            }
            ui.end_row();
        }
    });
    let Some(pupil) = app.progress.pupil else {
        return;
    };
    let progress = app.lib.progress(pupil);
    let Some(progress) = app.report(progress) else {
        return;
    };
    ui.separator();
    ui.heading(&progress.name);
    let strands: Vec<_> = progress
        .strands
        .iter()
        .filter(|s| grid.criteria.iter().any(|c| c.0 == s.criterion))
        .collect();
    let axes: Vec<(String, usize)> = strands
        .iter()
        .map(|s| (s.title.clone(), s.levels))
        .collect();
    let first = Outline {
        caption: "first judgement".into(),
        levels: strands
            .iter()
            .map(|s| s.history.first().map(|a| a.level))
            .collect(),
    };
    let latest = Outline {
        caption: "latest".into(),
        levels: strands
            .iter()
            .map(|s| s.latest.as_ref().map(|a| a.level))
            .collect(),
    };
    radar_ui(ui, &axes, &[first, latest], 320.0);
    for strand in &strands {
        if strand.history.is_empty() {
            continue;
        }
        ui.label(egui::RichText::new(&strand.title).strong());
        for a in &strand.history {
            ui.label(format!(
                "{}  level {} ({}){}{}",
                &a.assessed_at[..10],
                a.level,
                a.label,
                a.take.map(|t| format!(" · take {t}")).unwrap_or_default(),
                if a.comment.is_empty() {
                    String::new()
                } else {
                    format!(" · “{}”", a.comment)
                }
            ));
        }
    }
}
