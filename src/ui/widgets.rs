//! Small pieces more than one screen draws: a take's one-line caption, a row of level
//! buttons, and a track's waveform from its peak file.
//!
//! Must not change the library.

use crate::library::TakeSummary;
use crate::record::peaks::read_peaks;
use eframe::egui;
use std::path::Path;

pub fn take_caption(take: &TakeSummary) -> String {
    let when = take.recorded_at.replace('T', " ");
    format!(
        "Take {} · {} · {}{}{}",
        take.id,
        when.get(..16).unwrap_or(&when),
        take.arrangement.as_deref().unwrap_or("recording"),
        if take.starred { " ★" } else { "" },
        if take.complete { "" } else { " (incomplete)" }
    )
}

/// Buttons `1..=levels`; returns the level clicked. `current` is highlighted.
pub fn level_buttons(
    ui: &mut egui::Ui,
    id: &str,
    levels: usize,
    current: Option<i64>,
) -> Option<i64> {
    let mut chosen = None;
    ui.horizontal(|ui| {
        for level in 1..=levels as i64 {
            let button = egui::Button::selectable(current == Some(level), level.to_string());
            let response = ui.add(button);
            response.widget_info(|| {
                egui::WidgetInfo::selected(
                    egui::WidgetType::Button,
                    true,
                    current == Some(level),
                    format!("{id} level {level}"),
                )
            });
            if response.clicked() {
                chosen = Some(level);
            }
        }
    });
    chosen
}

/// A track's waveform drawn from its `.peaks` file (written while recording), or a note
/// saying the recording is missing.
pub fn waveform(ui: &mut egui::Ui, wav: &Path, height: f32) {
    let peaks = read_peaks(&wav.with_extension("peaks"));
    let width = ui.available_width().max(100.0);
    let (response, painter) = ui.allocate_painter(egui::vec2(width, height), egui::Sense::hover());
    let rect = response.rect;
    painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    match peaks {
        Ok(peaks) if !peaks.buckets.is_empty() => {
            let columns = rect.width().max(1.0) as usize;
            let per_column = peaks.buckets.len().div_ceil(columns).max(1);
            let colour = ui.visuals().selection.bg_fill;
            for (x, chunk) in peaks.buckets.chunks(per_column).enumerate() {
                let (lo, hi) = chunk.iter().fold((0.0f32, 0.0f32), |(lo, hi), (a, b)| {
                    (lo.min(*a), hi.max(*b))
                });
                let px = rect.left() + x as f32;
                let mid = rect.center().y;
                let half = rect.height() / 2.0;
                painter.line_segment(
                    [
                        egui::pos2(px, mid - hi.clamp(0.0, 1.0) * half),
                        egui::pos2(px, mid - lo.clamp(-1.0, 0.0) * half),
                    ],
                    egui::Stroke::new(1.0, colour),
                );
            }
            response.widget_info(|| {
                egui::WidgetInfo::labeled(egui::WidgetType::Other, true, "waveform")
            });
        }
        _ => {
            let text = if wav.is_file() {
                "no waveform yet"
            } else {
                "recording missing: run bandroom check"
            };
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                text,
                egui::FontId::proportional(14.0),
                ui.visuals().weak_text_color(),
            );
            response.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Other, true, text));
        }
    }
}
