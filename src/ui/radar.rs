//! A radar diagram drawn with egui's painter: one axis per criterion, one coloured
//! outline per date (as teachers do with coloured pens), labels around the edge.
//!
//! Must not read the library: it draws the levels it is given.

use eframe::egui;

/// One outline: its caption and a level (or none) per axis.
pub struct Outline {
    pub caption: String,
    pub levels: Vec<Option<i64>>,
}

/// Oldest first; distinguishable for the commonest colour blindness and on both themes.
const PENS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(140, 140, 140),
    egui::Color32::from_rgb(30, 90, 200),
    egui::Color32::from_rgb(200, 90, 30),
    egui::Color32::from_rgb(30, 150, 70),
    egui::Color32::from_rgb(160, 60, 170),
    egui::Color32::from_rgb(190, 150, 0),
];

/// `axes` are (title, number of levels).
pub fn radar_ui(ui: &mut egui::Ui, axes: &[(String, usize)], outlines: &[Outline], size: f32) {
    let (response, painter) =
        ui.allocate_painter(egui::vec2(size * 1.6, size), egui::Sense::hover());
    let centre = response.rect.center();
    let radius = size * 0.36;
    let n = axes.len().max(3);
    let point = |i: usize, share: f32| {
        let angle = -std::f32::consts::FRAC_PI_2 + i as f32 * std::f32::consts::TAU / n as f32;
        centre + radius * share * egui::vec2(angle.cos(), angle.sin())
    };
    let grid = egui::Stroke::new(1.0, ui.visuals().weak_text_color());
    for ring in 1..=4 {
        let pts: Vec<egui::Pos2> = (0..n).map(|i| point(i, ring as f32 / 4.0)).collect();
        painter.add(egui::Shape::closed_line(pts, grid));
    }
    for (i, (title, _)) in axes.iter().enumerate() {
        painter.line_segment([centre, point(i, 1.0)], grid);
        painter.text(
            point(i, 1.2),
            egui::Align2::CENTER_CENTER,
            title,
            egui::FontId::proportional(11.0),
            ui.visuals().text_color(),
        );
    }
    for (index, outline) in outlines.iter().enumerate() {
        let pen = PENS[index.min(PENS.len() - 1)];
        let pts: Vec<egui::Pos2> = axes
            .iter()
            .enumerate()
            .map(|(i, (_, levels))| {
                let level = outline.levels.get(i).copied().flatten().unwrap_or(0);
                point(i, level as f32 / (*levels).max(1) as f32)
            })
            .collect();
        painter.add(egui::Shape::closed_line(pts, egui::Stroke::new(2.5, pen)));
    }
    let description = outlines
        .iter()
        .map(|o| {
            let levels: Vec<String> = axes
                .iter()
                .zip(&o.levels)
                .map(|((t, n), l)| {
                    format!(
                        "{t} {}",
                        l.map_or("not judged".into(), |l| format!("{l}/{n}"))
                    )
                })
                .collect();
            format!("{}: {}", o.caption, levels.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::WidgetType::Other,
            true,
            format!("Radar diagram. {description}"),
        )
    });
    ui.horizontal(|ui| {
        for (index, outline) in outlines.iter().enumerate() {
            ui.colored_label(
                PENS[index.min(PENS.len() - 1)],
                format!("— {}", outline.caption),
            );
        }
    });
}
