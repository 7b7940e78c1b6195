//! bandroom's one look, applied to every screen: a type scale that reads from a desk
//! and on a whiteboard, spacing, touch-sized controls, and a palette (light and dark)
//! whose text and record colour keep WCAG AA contrast on their backgrounds.
//!
//! Must not lay anything out: screens use egui's widgets, and this only styles them.

use eframe::egui;

/// The record colour: red that keeps 4.5:1 on the light panel and on the dark one.
pub fn record_colour(dark: bool) -> egui::Color32 {
    if dark {
        egui::Color32::from_rgb(255, 110, 100)
    } else {
        egui::Color32::from_rgb(190, 30, 30)
    }
}

/// The smallest height of a control a finger or a whiteboard pen must hit, at scale 1.
pub const TOUCH_HEIGHT: f32 = 40.0;

/// The gap between groups of controls (one pupil's judging rows and the next).
pub const SPACE: f32 = 8.0;

/// Applies the look to both themes of `ctx` (egui switches between them).
pub fn apply(ctx: &egui::Context) {
    for theme in [egui::Theme::Light, egui::Theme::Dark] {
        ctx.style_mut_of(theme, |style| {
            use egui::{FontFamily, FontId, TextStyle};
            style.text_styles = [
                (
                    TextStyle::Small,
                    FontId::new(13.0, FontFamily::Proportional),
                ),
                (TextStyle::Body, FontId::new(16.0, FontFamily::Proportional)),
                (
                    TextStyle::Button,
                    FontId::new(16.0, FontFamily::Proportional),
                ),
                (
                    TextStyle::Heading,
                    FontId::new(22.0, FontFamily::Proportional),
                ),
                (
                    TextStyle::Monospace,
                    FontId::new(14.0, FontFamily::Monospace),
                ),
            ]
            .into();
            style.spacing.item_spacing = egui::vec2(10.0, 8.0);
            style.spacing.button_padding = egui::vec2(12.0, 6.0);
            style.spacing.interact_size.y = 30.0;
            let dark = theme == egui::Theme::Dark;
            let visuals = &mut style.visuals;
            // egui's greys are close to 4.5:1 on their panels; these clear it.
            let (text, weak) = if dark {
                (egui::Color32::from_gray(235), egui::Color32::from_gray(185))
            } else {
                (egui::Color32::from_gray(20), egui::Color32::from_gray(80))
            };
            visuals.override_text_color = None;
            visuals.widgets.noninteractive.fg_stroke.color = text;
            visuals.widgets.inactive.fg_stroke.color = text;
            visuals.weak_text_color = Some(weak);
            visuals.warn_fg_color = if dark {
                egui::Color32::from_rgb(255, 200, 90)
            } else {
                egui::Color32::from_rgb(140, 80, 0)
            };
            visuals.error_fg_color = record_colour(dark);
        });
    }
}

/// Contrast ratio of two colours (WCAG 2: relative luminance, 1:1 to 21:1).
pub fn contrast(a: egui::Color32, b: egui::Color32) -> f64 {
    let luminance = |c: egui::Color32| {
        let channel = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.039_28 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(c.r()) + 0.7152 * channel(c.g()) + 0.0722 * channel(c.b())
    };
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_warnings_and_the_record_colour_keep_aa_contrast_in_both_themes() {
        let ctx = egui::Context::default();
        apply(&ctx);
        for theme in [egui::Theme::Light, egui::Theme::Dark] {
            let style = ctx.style_of(theme);
            let v = &style.visuals;
            let panel = v.panel_fill;
            for (what, colour) in [
                ("text", v.widgets.noninteractive.fg_stroke.color),
                ("weak text", v.weak_text_color()),
                ("warning", v.warn_fg_color),
                ("error", v.error_fg_color),
                ("record", record_colour(theme == egui::Theme::Dark)),
            ] {
                let ratio = contrast(colour, panel);
                assert!(ratio >= 4.5, "{what} in {theme:?}: {ratio:.2}:1");
            }
        }
        assert!((contrast(egui::Color32::BLACK, egui::Color32::WHITE) - 21.0).abs() < 0.01);
    }
}
