//! Pupil review mode: a pupil picks their name from their class and sees only the takes
//! they played in: the waveform of their own track, the teacher's markers, and a place
//! to write a reflection with a self-assessment on the class's criteria. Leaving the
//! mode needs the teacher PIN (the top bar asks for it).
//!
//! Must not show other pupils' judgements or takes.

use super::context::{Action, AppContext};
use super::devices::Devices;
use super::widgets::{level_buttons, take_caption, waveform};
use crate::library::TakeFilter;
use eframe::egui;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct ReviewState {
    take: Option<i64>,
    reflection: String,
    self_levels: BTreeMap<String, i64>,
    saved: bool,
}

pub fn review_ui(
    review: &mut ReviewState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
    class: i64,
    pupil: Option<i64>,
) {
    let Some(pupil) = pupil else {
        ui.heading("Who are you?");
        let pupils = cx.read_or_default(format!("pupils/{class}"), |lib| lib.pupils(Some(class)));
        ui.horizontal_wrapped(|ui| {
            for p in &pupils {
                if ui.button(egui::RichText::new(&p.name).size(20.0)).clicked() {
                    cx.act(Action::ChoosePupil(Some(p.id)));
                }
            }
        });
        return;
    };
    let name = cx
        .read(format!("pupil name/{pupil}"), |lib| lib.pupil_name(pupil))
        .unwrap_or_default();
    ui.horizontal(|ui| {
        ui.heading(format!("{name}: your takes"));
        if ui
            .button(egui::RichText::new("Not me").size(18.0))
            .on_hover_text("back to the names, to choose yours")
            .clicked()
        {
            cx.act(Action::ChoosePupil(None));
        }
    });
    let takes = cx.read_or_default(format!("takes of pupil {pupil}"), |lib| {
        lib.takes(&TakeFilter {
            pupil: Some(pupil),
            ..TakeFilter::default()
        })
    });
    if takes.is_empty() {
        ui.label("You have not played in a recorded take yet.");
        return;
    }
    for take in &takes {
        if ui
            .add(egui::Button::selectable(
                review.take == Some(take.id),
                take_caption(take),
            ))
            .clicked()
        {
            *review = ReviewState {
                take: Some(take.id),
                ..ReviewState::default()
            };
        }
    }
    let Some(take) = takes.iter().find(|t| Some(t.id) == review.take) else {
        return;
    };
    ui.separator();
    let folder = cx.lib.take_folder(take);
    let timing = super::timing::for_take(cx, take);
    let mine = take
        .tracks
        .iter()
        .find(|t| t.performers.iter().any(|p| p.pupil_id == pupil))
        .map(|t| {
            let part = t.performers.iter().find_map(|p| p.part.clone());
            (t.number, part)
        });
    let take = take.clone();
    super::playback::controls(cx, devices, ui, &take, mine);
    for track in take
        .tracks
        .iter()
        .filter(|t| t.performers.iter().any(|p| p.pupil_id == pupil))
    {
        ui.label(format!("Your track ({})", track.file));
        let rect = waveform(ui, &mut cx.peaks, &folder.join(&track.file), 80.0);
        super::playback::cursor(devices, ui, rect, take.id);
        super::timing::show(ui, rect, timing.get(&track.number), track.frames);
    }
    let take = &take;
    let id = take.id;
    let markers = cx
        .read(format!("markers/{id}"), |lib| lib.markers(id))
        .unwrap_or_default();
    if !markers.is_empty() {
        ui.strong("Your teacher marked:");
        for (frame, text, _) in markers {
            let at = crate::time_text::clock(frame as f64 / f64::from(take.sample_rate_hz.max(1)));
            ui.label(format!("{at}  {text}"));
        }
    }
    super::voice_note::voice_notes_ui(cx, devices, ui, take, false);
    ui.separator();
    ui.heading("How did it go?");
    let field = ui.add(
        egui::TextEdit::multiline(&mut review.reflection)
            .hint_text("What went well? What will you try next time?")
            .desired_rows(3),
    );
    field.widget_info(|| {
        egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Your reflection")
    });
    let criteria = cx.read(format!("criterion levels/{class}"), |lib| {
        lib.criterion_levels(class)
    });
    let criteria = cx.report(criteria).unwrap_or_default();
    for criterion in &criteria {
        let title = &criterion.title;
        ui.label(title);
        let current = review.self_levels.get(&criterion.key).copied();
        if let Some(level) = level_buttons(ui, &format!("my {title}"), &criterion.levels, current) {
            review.self_levels.insert(criterion.key.clone(), level);
        }
    }
    if review.saved {
        ui.label("Saved. Well done for thinking about it.");
    } else if ui.button("Save my reflection").clicked() {
        let levels: Vec<(String, String)> = review
            .self_levels
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        let text = review.reflection.clone();
        let saved = cx.lib.add_reflection(take.id, pupil, &text, &levels);
        review.saved = cx.report(saved).is_some();
    }
}
