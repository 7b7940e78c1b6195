//! The growing waveform of an input while it records: the meter's peaks, binned by
//! time, drawn left to right as the take gets longer.
//!
//! Memory stays bounded however long the take: when the bins fill, neighbours are
//! merged and each bin covers twice the time. Must not read audio or files: it is fed
//! the peaks the meters already read for the UI.

use eframe::egui;

/// Bins kept before neighbours merge; more than a wide lane has pixels.
const MAX_BINS: usize = 2048;
/// The first bins' length: about one UI frame.
const FIRST_BIN_SECS: f64 = 0.025;
/// The lane's width covers at least this much time, so the wave grows visibly.
const SHORTEST_VIEW_SECS: f64 = 30.0;

#[derive(Clone, Debug)]
pub struct LiveWave {
    bins: Vec<f32>,
    bin_secs: f64,
}

impl Default for LiveWave {
    fn default() -> Self {
        Self {
            bins: Vec::new(),
            bin_secs: FIRST_BIN_SECS,
        }
    }
}

impl LiveWave {
    /// Adds a peak read `at` seconds into the take.
    pub fn push(&mut self, at: f64, peak: f32) {
        let mut index = (at.max(0.0) / self.bin_secs) as usize;
        while index >= MAX_BINS {
            self.halve();
            index = (at.max(0.0) / self.bin_secs) as usize;
        }
        if self.bins.len() <= index {
            self.bins.resize(index + 1, 0.0);
        }
        self.bins[index] = self.bins[index].max(peak);
    }

    fn halve(&mut self) {
        self.bins = self
            .bins
            .chunks(2)
            .map(|pair| pair.iter().copied().fold(0.0, f32::max))
            .collect();
        self.bin_secs *= 2.0;
    }

    /// Seconds the wave covers so far.
    pub fn seconds(&self) -> f64 {
        self.bins.len() as f64 * self.bin_secs
    }

    /// The loudest peak between two moments (seconds).
    fn peak_between(&self, from: f64, to: f64) -> f32 {
        let first = (from / self.bin_secs) as usize;
        let last = ((to / self.bin_secs).ceil() as usize).max(first + 1);
        self.bins
            .get(first..last.min(self.bins.len()))
            .map_or(0.0, |bins| bins.iter().copied().fold(0.0, f32::max))
    }

    /// Draws the wave in a lane `height` high across the available width.
    pub fn show(&self, ui: &mut egui::Ui, height: f32, label: &str) -> egui::Response {
        let width = ui.available_width().max(50.0);
        let (response, painter) =
            ui.allocate_painter(egui::vec2(width, height), egui::Sense::hover());
        let rect = response.rect;
        painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        let view = self.seconds().max(SHORTEST_VIEW_SECS);
        let columns = rect.width().floor() as usize;
        let per_column = view / columns.max(1) as f64;
        let colour = egui::Color32::from_rgb(200, 60, 50);
        let middle = rect.center().y;
        // One mesh of one-pixel rectangles: a lane costs a few hundred quads however
        // long the take.
        let mut mesh = egui::Mesh::default();
        for column in 0..columns {
            let from = column as f64 * per_column;
            if from >= self.seconds() {
                break;
            }
            let peak = self.peak_between(from, from + per_column).min(1.0);
            let half = (peak * rect.height() * 0.5).max(0.5);
            let x = rect.left() + column as f32;
            mesh.add_colored_rect(
                egui::Rect::from_min_max(
                    egui::pos2(x, middle - half),
                    egui::pos2(x + 1.0, middle + half),
                ),
                colour,
            );
        }
        painter.add(mesh);
        let seconds = self.seconds();
        response.widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::WidgetType::Other,
                true,
                format!("{label}: waveform of {seconds:.1} s recorded"),
            )
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_take_keeps_its_loud_moments_in_bounded_memory() {
        let mut wave = LiveWave::default();
        // An hour of frames at 40 a second, silent but for one clap at 30 minutes.
        for frame in 0..(3600 * 40) {
            let at = f64::from(frame) / 40.0;
            let peak = if frame == 1800 * 40 { 0.9 } else { 0.01 };
            wave.push(at, peak);
        }
        assert!(wave.bins.len() <= MAX_BINS);
        assert!((wave.seconds() - 3600.0).abs() < 2.0 * wave.bin_secs + 1.0);
        assert_eq!(wave.peak_between(1799.0, 1801.0), 0.9);
        assert!(wave.peak_between(0.0, 1700.0) < 0.02);
    }
}
