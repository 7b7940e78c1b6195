//! The groups view of Progress: how pupils in each monitoring group (pupil premium, SEN,
//! EAL …) are doing against the rest of the class, as the export's monitoring summary
//! counts it and with its small-number rule, so the app never shows a figure the export
//! would hold back.
//!
//! Must not name or list pupils, or count anything itself (`export::monitoring` does).

use crate::export::monitoring::{GroupRow, MIN_GROUP, PupilLevels, summarise};
use crate::library::ClassGrid;
use eframe::egui;

/// The groups of `grid`'s class: one row per group, a column per criterion.
pub fn groups_ui(ui: &mut egui::Ui, grid: &ClassGrid, groups_of: &[(i64, Vec<String>)]) {
    let pupils: Vec<PupilLevels> = grid
        .rows
        .iter()
        .map(|row| PupilLevels {
            groups: groups_of
                .iter()
                .find(|(id, _)| *id == row.pupil_id)
                .map(|(_, g)| g.clone())
                .unwrap_or_default(),
            latest: row.levels.clone(),
        })
        .collect();
    let rows = summarise(&pupils, grid.criteria.len());
    ui.label(format!(
        "Each group's mean latest level against the rest of the class. A group is shown \
         only when it and the rest each have at least {MIN_GROUP} pupils, and a mean only \
         when at least {MIN_GROUP} on each side were judged on that criterion, so no figure \
         points at one child."
    ));
    if rows.is_empty() {
        ui.label("No pupil of this class is in a monitoring group (PP, SEN, EAL …).");
        return;
    }
    egui::Grid::new("groups").striped(true).show(ui, |ui| {
        ui.strong("Group");
        ui.strong("Pupils");
        ui.strong("Judged (group / rest)");
        for (_, title, _) in &grid.criteria {
            ui.strong(title);
        }
        ui.end_row();
        for row in &rows {
            group_row_ui(ui, row, grid);
            ui.end_row();
        }
    });
}

fn group_row_ui(ui: &mut egui::Ui, row: &GroupRow, grid: &ClassGrid) {
    ui.label(&row.group);
    let Some(pupils) = row.pupils else {
        let said = format!("fewer than {MIN_GROUP} pupils in the group or the rest: not shown");
        described_cell(ui, &said, format!("{}: {said}", row.group));
        return;
    };
    ui.label(pupils.to_string());
    let (group, rest) = row.participation.unwrap_or_default();
    ui.label(format!("{:.0}% / {:.0}%", group * 100.0, rest * 100.0));
    for (mean, (_, title, _)) in row.mean_levels.iter().zip(&grid.criteria) {
        let said = match mean {
            Some((group, rest)) => format!("{group:.1} / {rest:.1}"),
            None => format!("fewer than {MIN_GROUP} judged"),
        };
        described_cell(ui, &said, format!("{}, {title}: {said}", row.group));
    }
}

/// A cell showing `said`, which a screen reader hears as `described` (with its group and
/// criterion, as a sighted reader gets them from the row and column).
fn described_cell(ui: &mut egui::Ui, said: &str, described: String) {
    ui.label(said).widget_info(|| {
        egui::WidgetInfo::labeled(egui::WidgetType::Label, true, described.clone())
    });
}
