//! Small pieces more than one screen draws: a take's one-line caption, a row of level
//! buttons, an input's level meter, and a track's waveform from its peak file (read
//! once into a cache). Public so the UI benchmark draws exactly what the app draws.
//!
//! Must not change the library.

use crate::jobs::{Peaks, read_peaks};
use crate::library::TakeSummary;
use eframe::egui;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn take_caption(take: &TakeSummary) -> String {
    let when = take.recorded_at.replace('T', " ");
    format!(
        "Take {} · {} · {}{}{}{}{}{}",
        take.id,
        when.get(..16).unwrap_or(&when),
        take.arrangement.as_deref().unwrap_or("recording"),
        take.section
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default(),
        take.pass
            .map(|p| format!(" · pass {p}"))
            .unwrap_or_default(),
        if take.stopped_early {
            format!(
                " · stopped at {}",
                crate::time_text::minutes_seconds(take.duration_secs)
            )
        } else {
            String::new()
        },
        if take.starred { " ★" } else { "" },
        if take.complete { "" } else { " (incomplete)" }
    )
}

/// A drop-down with its label in front ("Term: [all ▾]"), which assistive technology
/// announces as `label`. Returns what `contents` returned, when the list was open.
pub fn labelled_combo<R>(
    ui: &mut egui::Ui,
    label: &str,
    selected: impl Into<egui::WidgetText>,
    contents: impl FnOnce(&mut egui::Ui) -> R,
) -> Option<R> {
    let selected: egui::WidgetText = selected.into();
    // In a wrapping row a drop-down does not move to the next line by itself (it lays
    // out as a group of its own and runs off the edge): measure it and break first.
    if ui.layout().main_wrap {
        let width = |text: egui::WidgetText| {
            text.into_galley(
                ui,
                Some(egui::TextWrapMode::Extend),
                f32::INFINITY,
                egui::TextStyle::Button,
            )
            .size()
            .x
        };
        let spacing = ui.spacing();
        let chrome =
            spacing.icon_width + 2.0 * spacing.button_padding.x + 3.0 * spacing.item_spacing.x;
        let needed = width(format!("{label}:").into())
            + width(selected.clone()).max(spacing.combo_width)
            + chrome;
        // The room left on this row (`available_width` is the whole row's, after a wrap).
        if ui.available_rect_before_wrap().width() < needed {
            ui.end_row();
        }
    }
    ui.label(format!("{label}:"));
    let shown = egui::ComboBox::from_id_salt(label)
        .selected_text(selected)
        .show_ui(ui, contents);
    shown
        .response
        .widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::ComboBox, true, label));
    shown.inner
}

/// What background work ended with: its message, or its error in the error colour
/// followed by `then` (what to do next). Nothing while there is no outcome.
pub fn outcome(ui: &mut egui::Ui, said: &Option<Result<String, String>>, then: &str) {
    match said {
        Some(Ok(text)) => {
            ui.label(text);
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("{e}{then}"));
        }
        None => {}
    }
}

/// Buttons `1..=levels`; returns the level clicked. `current` is highlighted.
pub fn level_buttons(
    ui: &mut egui::Ui,
    id: &str,
    levels: &[crate::library::LevelWords],
    current: Option<i64>,
) -> Option<i64> {
    let mut chosen = None;
    ui.horizontal_wrapped(|ui| {
        for (level, words) in (1..).zip(levels) {
            // Touch-sized: judging happens at the whiteboard as often as at the desk. The
            // number is the key that judges it; the name says what it means.
            let button = egui::Button::new(format!("{level} {}", words.label))
                .selected(current == Some(level))
                .min_size(egui::vec2(
                    super::theme::TOUCH_HEIGHT,
                    super::theme::TOUCH_HEIGHT,
                ));
            let response = ui.add(button).on_hover_text(&words.description);
            response.widget_info(|| {
                egui::WidgetInfo::selected(
                    egui::WidgetType::Button,
                    true,
                    current == Some(level),
                    format!("{id} level {level}: {}", words.label),
                )
            });
            if response.clicked() {
                chosen = Some(level);
            }
        }
    });
    chosen
}

/// (min, max) of a waveform per pixel column.
pub type Columns = Arc<Vec<(f32, f32)>>;

/// Peak files read once, on a thread of their own, and kept, so drawing a waveform never
/// touches the disk.
#[derive(Default)]
pub struct PeakCache {
    peaks: HashMap<PathBuf, Option<Arc<Peaks>>>,
    /// Peak files being read.
    reading: HashMap<PathBuf, crate::jobs::Background<Option<Peaks>>>,
    /// The window to wake when a peak file has been read.
    window: Option<egui::Context>,
    /// (min, max) per pixel column, for the width each waveform was last drawn at.
    columns: HashMap<PathBuf, (usize, Columns)>,
}

impl PeakCache {
    /// The peaks of a track: `None` while its peak file is being read, and when it is
    /// missing or unreadable.
    pub fn get(&mut self, wav: &Path) -> Option<Arc<Peaks>> {
        if let Some(known) = self.peaks.get(wav) {
            return known.clone();
        }
        let key = wav.to_path_buf();
        match self.reading.get_mut(wav) {
            Some(job) => {
                let read = job.poll()?;
                self.reading.remove(wav);
                let peaks = read.ok().flatten().map(Arc::new);
                self.peaks.insert(key, peaks.clone());
                peaks
            }
            None => {
                let file = wav.with_extension("peaks");
                let window = self.window.clone();
                let job = crate::jobs::Background::start(
                    "reading a waveform",
                    move || read_peaks(&file).ok(),
                    Box::new(move || {
                        if let Some(window) = window {
                            window.request_repaint();
                        }
                    }),
                );
                self.reading.insert(key, job);
                None
            }
        }
    }

    /// Whether a track's peak file is still being read.
    pub fn is_reading(&self, wav: &Path) -> bool {
        self.reading.contains_key(wav)
    }

    /// The peaks of a track reduced to `width` columns, computed once per width.
    pub fn columns(&mut self, wav: &Path, width: usize) -> Option<Columns> {
        if let Some((w, cols)) = self.columns.get(wav)
            && *w == width
        {
            return Some(Arc::clone(cols));
        }
        let peaks = self.get(wav)?;
        if peaks.buckets.is_empty() {
            return None;
        }
        let cols = Arc::new(columns_of(&peaks.buckets, width));
        self.columns
            .insert(wav.to_path_buf(), (width, Arc::clone(&cols)));
        Some(cols)
    }

    /// Adds peaks already in memory (a bench, or peaks computed elsewhere).
    pub fn insert(&mut self, wav: &Path, peaks: Peaks) {
        self.peaks.insert(wav.to_path_buf(), Some(Arc::new(peaks)));
    }
}

/// `buckets` (spanning the track from its first frame to its last) as exactly `width`
/// pixel columns: column x holds buckets x·n/width up to (x+1)·n/width, so a sound at
/// frame f is drawn at f/frames·width, where the timing marks and the play cursor put
/// it (rounding the share up, as before, squeezed the waveform into the left part of
/// its lane).
pub fn columns_of(buckets: &[(f32, f32)], width: usize) -> Vec<(f32, f32)> {
    let (n, width) = (buckets.len(), width.max(1));
    (0..width)
        .map(|x| {
            let from = x * n / width;
            let to = ((x + 1) * n / width).max(from + 1).min(n);
            buckets
                .get(from..to)
                .unwrap_or_default()
                .iter()
                .fold((0.0f32, 0.0f32), |(lo, hi), (a, b)| {
                    (lo.min(*a), hi.max(*b))
                })
        })
        .collect()
}

/// A track's waveform from its peaks, or a note saying the recording is missing.
/// Returns where the lane was drawn, so marks can go over it.
pub fn waveform(ui: &mut egui::Ui, cache: &mut PeakCache, wav: &Path, height: f32) -> egui::Rect {
    if cache.window.is_none() {
        cache.window = Some(ui.ctx().clone());
    }
    let width = ui.available_width().max(100.0);
    let (response, painter) = ui.allocate_painter(egui::vec2(width, height), egui::Sense::hover());
    let rect = response.rect;
    painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    let columns = cache.columns(wav, rect.width().max(1.0) as usize);
    match columns {
        Some(columns) => {
            let colour = ui.visuals().selection.bg_fill;
            let (mid, half) = (rect.center().y, rect.height() / 2.0);
            // One rectangle per pixel column in one mesh: a 5-minute lane costs a few
            // hundred quads however many peaks it has.
            let mut mesh = egui::Mesh::default();
            for (x, (lo, hi)) in columns.iter().enumerate() {
                let px = rect.left() + x as f32;
                let top = mid - hi.clamp(0.0, 1.0) * half;
                let bottom = (mid - lo.clamp(-1.0, 0.0) * half).max(top + 1.0);
                mesh.add_colored_rect(
                    egui::Rect::from_min_max(egui::pos2(px, top), egui::pos2(px + 1.0, bottom)),
                    colour,
                );
            }
            painter.add(mesh);
            response.widget_info(|| {
                egui::WidgetInfo::labeled(egui::WidgetType::Other, true, "waveform")
            });
        }
        _ => {
            let keys = wav
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("mid"));
            let text = if cache.is_reading(wav) {
                "reading the waveform…"
            } else if keys && wav.is_file() {
                "keyboard (MIDI) track"
            } else if wav.is_file() {
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
    rect
}

/// One input's level meter: −60 dBFS at the left, 0 at the right, green, amber, red.
pub fn level_meter(ui: &mut egui::Ui, title: &str, level: f32, clipping: bool, names: &str) {
    ui.horizontal(|ui| {
        ui.label(format!("{title} {names}"));
        let (response, painter) =
            ui.allocate_painter(egui::vec2(220.0, 14.0), egui::Sense::hover());
        let rect = response.rect;
        painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        let db = 20.0 * level.max(1e-6).log10();
        let share = ((db + 60.0) / 60.0).clamp(0.0, 1.0);
        let colour = if db > -3.0 {
            egui::Color32::from_rgb(210, 50, 40)
        } else if db > -12.0 {
            egui::Color32::from_rgb(230, 170, 30)
        } else {
            egui::Color32::from_rgb(40, 170, 80)
        };
        let mut bar = rect;
        bar.set_width(rect.width() * share);
        painter.rect_filled(bar, 2.0, colour);
        response.widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::WidgetType::ProgressIndicator,
                true,
                format!("{title} level {db:.0} dB"),
            )
        });
        if clipping {
            ui.colored_label(
                egui::Color32::from_rgb(210, 50, 40),
                "CLIP: turn the gain down",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clap at a known frame is drawn within one pixel of where the timing marks and
    /// the play cursor place that frame, at any lane width.
    #[test]
    fn a_clap_is_drawn_where_its_frame_falls_on_the_lane() {
        let (frames, per_peak) = (48_000u64 * 45, 256u64);
        let n = frames.div_ceil(per_peak) as usize;
        for clap in [48_000u64, 20 * 48_000, 44 * 48_000] {
            let mut buckets = vec![(0.0f32, 0.0f32); n];
            buckets[(clap / per_peak) as usize] = (-0.9, 0.9);
            for width in [317usize, 800, 1603] {
                let cols = columns_of(&buckets, width);
                assert_eq!(cols.len(), width, "one column per pixel");
                let drawn = cols.iter().position(|(_, hi)| *hi > 0.5).unwrap() as f64;
                let marked = clap as f64 / frames as f64 * width as f64;
                assert!(
                    (drawn - marked).abs() <= 1.0,
                    "clap at {clap} drawn at {drawn}, marked at {marked:.1} (width {width})"
                );
            }
        }
        // Fewer peaks than pixels: each is stretched, none lost.
        let cols = columns_of(&[(-0.1, 0.1), (-0.5, 0.5)], 4);
        assert_eq!(
            cols,
            vec![(-0.1, 0.1), (-0.1, 0.1), (-0.5, 0.5), (-0.5, 0.5)]
        );
    }
}
