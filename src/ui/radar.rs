//! A radar diagram drawn with egui's painter: one axis per criterion, one numbered ring
//! per level, one coloured outline per date (as teachers do with coloured pens), labels
//! around the edge. A criterion not judged is a gap in its outline, never a zero.
//!
//! Must not read the library: it draws the levels it is given.

use eframe::egui;

/// One outline: its caption and a level (or none) per axis.
pub struct Outline {
    pub caption: String,
    pub levels: Vec<Option<i64>>,
}

/// Oldest first: the Okabe–Ito colours, told apart with the commonest colour blindness
/// (and by lightness), each dark enough to read on the light theme and light enough on
/// the dark one; no two terms share a hue (blue and teal, once, looked alike).
const PENS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(0, 114, 178),
    egui::Color32::from_rgb(213, 94, 0),
    egui::Color32::from_rgb(0, 158, 115),
    egui::Color32::from_rgb(204, 121, 167),
    egui::Color32::from_rgb(230, 159, 0),
    egui::Color32::from_rgb(86, 180, 233),
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
    let grid = egui::Stroke::new(0.5, ui.visuals().weak_text_color().gamma_multiply(0.6));
    // One ring per level, numbered up the first axis, so a point reads as a level.
    let rings = axes
        .iter()
        .map(|(_, levels)| *levels)
        .max()
        .unwrap_or(4)
        .clamp(1, 10);
    for ring in 1..=rings {
        let share = ring as f32 / rings as f32;
        let pts: Vec<egui::Pos2> = (0..n).map(|i| point(i, share)).collect();
        painter.add(egui::Shape::closed_line(pts, grid));
        painter.text(
            point(0, share) + egui::vec2(4.0, 0.0),
            egui::Align2::LEFT_CENTER,
            ring.to_string(),
            egui::FontId::proportional(10.0),
            ui.visuals().weak_text_color(),
        );
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
        let stroke = egui::Stroke::new(2.5, pen);
        let at = |i: usize| {
            let (_, levels) = axes.get(i)?;
            let level = outline.levels.get(i).copied().flatten()?;
            Some(point(i, level as f32 / (*levels).max(1) as f32))
        };
        // Neighbouring judged criteria are joined; an unjudged one leaves a gap on both
        // sides of its axis instead of a line into the centre (which reads as a drop).
        for i in 0..axes.len() {
            let next = (i + 1) % axes.len();
            if next != i
                && let (Some(from), Some(to)) = (at(i), at(next))
            {
                painter.line_segment([from, to], stroke);
            }
        }
        for p in (0..axes.len()).filter_map(at) {
            painter.circle_filled(p, 4.0, pen);
        }
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
                        l.map_or("not judged yet".into(), |l| format!("{l}/{n}"))
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
