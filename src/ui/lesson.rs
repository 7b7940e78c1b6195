//! The teacher's lesson screen: the transport (**R** records, **Space** stops, with a
//! meter per input), the room plan (who sits at each input, remembered per class), the
//! takes newest first, and the one-tap assessment panel for the take in hand. **M**
//! drops a marker on it.
//!
//! Must not process audio: recording is asked of `recording`, which drives the session.

use super::app::BandroomApp;
use super::assess_panel;
use super::recording::{self, Playing};
use super::widgets::{level_meter, take_caption, waveform};
use crate::library::{Seat, TakeFilter, TakeSummary};
use crate::midi::Action;
use crate::music::clock;
use eframe::egui;

/// Inputs shown on the room plan when nothing was saved yet.
const DEFAULT_INPUTS: usize = 8;

#[derive(Default)]
pub struct LessonState {
    /// The room plan as loaded for `plan_class`.
    plan: Vec<Seat>,
    plan_class: Option<i64>,
    pub(super) selected_take: Option<i64>,
    marker_text: String,
    /// The parts of the arrangement named here, for the room plan's part choice.
    parts: (Option<String>, Vec<String>),
    pub(super) cursor: assess_panel::Cursor,
    /// Markers dropped while recording (frame, text): stored once the take is filed.
    pending_marks: Vec<(u64, String)>,
}

fn load_plan(app: &mut BandroomApp, class: i64) {
    if app.lesson.plan_class == Some(class) {
        return;
    }
    let plan = app.lib.room_plan(class);
    let mut plan = app.report(plan).unwrap_or_default();
    for input in 1..=DEFAULT_INPUTS {
        if !plan.iter().any(|s| s.input == input) {
            plan.push(Seat {
                input,
                ..Seat::default()
            });
        }
    }
    plan.sort_by_key(|s| s.input);
    app.lesson.plan = plan;
    app.lesson.plan_class = Some(class);
}

fn room_plan_ui(app: &mut BandroomApp, ui: &mut egui::Ui, class: i64) {
    load_plan(app, class);
    let pupils = app.lib.pupils(Some(class));
    let Some(pupils) = app.report(pupils) else {
        return;
    };
    // The arrangement's parts, so each seat can say what it plays (named on the take,
    // and kept with every judgement).
    // Loaded when the arrangement changes, not every frame.
    if app.lesson.parts.0 != app.arrangement {
        let parts = app
            .arrangement
            .as_deref()
            .and_then(|name| {
                crate::music::resolve_in(name, Some(&app.root.join("arrangements"))).ok()
            })
            .map(|arr| arr.parts.iter().map(|p| p.name.clone()).collect())
            .unwrap_or_default();
        app.lesson.parts = (app.arrangement.clone(), parts);
    }
    let parts = app.lesson.parts.1.clone();
    ui.heading("Room plan");
    let mut changed = false;
    // Four inputs to a row, as the interface's channels sit on most classroom desks.
    egui::Grid::new("room plan").show(ui, |ui| {
        for (index, seat) in app.lesson.plan.iter_mut().enumerate() {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(150.0);
                ui.strong(format!("Input {}", seat.input));
                let mut remove = None;
                for pupil in &seat.pupils {
                    let name = pupils
                        .iter()
                        .find(|p| p.id == *pupil)
                        .map_or("?", |p| p.name.as_str());
                    ui.horizontal(|ui| {
                        ui.label(name);
                        if ui
                            .small_button("×")
                            .on_hover_text(format!("take {name} off input {}", seat.input))
                            .clicked()
                        {
                            remove = Some(*pupil);
                        }
                    });
                }
                if let Some(pupil) = remove {
                    seat.pupils.retain(|p| *p != pupil);
                    changed = true;
                }
                egui::ComboBox::from_id_salt(("seat", seat.input))
                    .selected_text(format!("Add to input {}", seat.input))
                    .show_ui(ui, |ui| {
                        let free: Vec<_> = pupils
                            .iter()
                            .filter(|p| !seat.pupils.contains(&p.id))
                            .collect();
                        for pupil in free {
                            if ui.selectable_label(false, &pupil.name).clicked() {
                                seat.pupils.push(pupil.id);
                                changed = true;
                            }
                        }
                    });
                if !parts.is_empty() {
                    let shown = seat.part.clone().unwrap_or_else(|| "no part".into());
                    egui::ComboBox::from_id_salt(("part", seat.input))
                        .selected_text(shown)
                        .show_ui(ui, |ui| {
                            for part in &parts {
                                let chosen = seat.part.as_deref() == Some(part.as_str());
                                if ui.selectable_label(chosen, part).clicked() {
                                    seat.part = Some(part.clone());
                                    changed = true;
                                }
                            }
                        });
                }
            });
            if index % 4 == 3 {
                ui.end_row();
            }
        }
    });
    if changed {
        let plan = app.lesson.plan.clone();
        let saved = app.lib.set_room_plan(class, &plan);
        app.report(saved);
    }
}

/// Attributes each track of a take to the pupils seated at its input.
fn attribute_from_plan(app: &mut BandroomApp, take: &TakeSummary) {
    for track in &take.tracks {
        let Some(input) = track.input_channel else {
            continue;
        };
        if let Some(seat) = app
            .lesson
            .plan
            .iter()
            .find(|s| s.input as i64 == input && !s.pupils.is_empty())
        {
            let pupils = seat.pupils.clone();
            let part = seat.part.clone();
            let done =
                app.lib
                    .attribute(take.id, track.number, &pupils, part.as_deref(), None, None);
            app.report(done);
        }
    }
}

fn takes_ui(app: &mut BandroomApp, ui: &mut egui::Ui, class: Option<i64>) -> Option<TakeSummary> {
    let takes = app.lib.takes(&TakeFilter {
        class,
        ..TakeFilter::default()
    });
    let mut takes = app.report(takes).unwrap_or_default();
    takes.sort_by(|a, b| b.recorded_at.cmp(&a.recorded_at).then(b.id.cmp(&a.id)));
    ui.heading("Takes");
    if takes.is_empty() {
        ui.label("No takes yet. Record one with `bandroom record --class …` and it appears here.");
    }
    if app.lesson.selected_take.is_none() {
        app.lesson.selected_take = takes.first().map(|t| t.id);
    }
    for take in takes.iter().take(30) {
        let chosen = app.lesson.selected_take == Some(take.id);
        if ui
            .add(egui::Button::selectable(chosen, take_caption(take)))
            .clicked()
        {
            app.lesson.selected_take = Some(take.id);
            app.lesson.cursor = Default::default();
        }
    }
    takes
        .into_iter()
        .find(|t| Some(t.id) == app.lesson.selected_take)
}

fn marker_ui(app: &mut BandroomApp, ui: &mut egui::Ui, take: &TakeSummary) {
    let markers = app.lib.markers(take.id);
    let markers = app.report(markers).unwrap_or_default();
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut app.lesson.marker_text)
                .hint_text("what happened here")
                .desired_width(220.0),
        );
        field.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Marker text")
        });
        let typing = ui.ctx().wants_keyboard_input();
        // While recording, M marks the take being made (see `transport_ui`).
        let key = !typing && app.recording.is_none() && ui.input(|i| i.key_pressed(egui::Key::M));
        if ui.button("Add marker (M)").clicked() || key {
            let text = if app.lesson.marker_text.trim().is_empty() {
                "marker".to_string()
            } else {
                std::mem::take(&mut app.lesson.marker_text)
            };
            let added = app.lib.add_marker(take.id, 0, &text, "teacher");
            app.report(added);
        }
    });
    for (frame, text, author) in markers {
        let at = clock(frame as f64 / f64::from(take.sample_rate_hz.max(1)));
        ui.label(format!("{at}  {text}  ({author})"));
    }
}

/// The inputs a take records: every seat with someone on it, or inputs 1 and 2.
fn inputs_to_record(app: &BandroomApp) -> Vec<usize> {
    let seated: Vec<usize> = app
        .lesson
        .plan
        .iter()
        .filter(|s| !s.pupils.is_empty())
        .map(|s| s.input)
        .collect();
    if seated.is_empty() {
        vec![1, 2]
    } else {
        seated
    }
}

/// A take the app just recorded: name its players from the room plan and put it up
/// for judging.
pub fn take_recorded(app: &mut BandroomApp, id: i64) {
    let take = app.lib.take(id);
    if let Some(take) = app.report(take) {
        if app.class.is_some() {
            attribute_from_plan(app, &take);
            app.analyse_in_background(id);
        }
        for (frame, text) in std::mem::take(&mut app.lesson.pending_marks) {
            let added = app.lib.add_marker(id, frame, &text, "teacher");
            app.report(added);
        }
        app.lesson.selected_take = Some(id);
        app.lesson.cursor = Default::default();
    }
}

fn start_recording(app: &mut BandroomApp) {
    // One device at a time: playback stops when a take starts.
    app.playback = None;
    app.loading = None;
    let inputs = inputs_to_record(app);
    let arrangement = app.arrangement.clone();
    let started = recording::start(
        &mut app.lib,
        &app.root.clone(),
        &app.device.clone(),
        app.class,
        &inputs,
        &Playing {
            arrangement: arrangement.as_deref(),
            tempo_bpm: app.tempo_bpm,
            repeats: app.repeats,
        },
    );
    match started {
        Ok((rec, banner)) => {
            if let Some(banner) = banner
                && !app.banners.contains(&banner)
            {
                app.banners.push(banner);
            }
            app.recording = Some(rec);
        }
        Err(e) => app.error = Some(format!("Recording could not start: {e}")),
    }
}

fn meter_ui(ui: &mut egui::Ui, level: &recording::InputLevel, names: &str) {
    level_meter(ui, level.input, level.level, level.clipping(), names);
    if let Some(quiet) = level.silent_for() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "Input {} has been silent for {} s — is the mic on?",
                level.input,
                quiet.as_secs()
            ),
        );
    }
}

/// Listens for the learnt pedal and does what each press asks.
fn pedal_presses(app: &mut BandroomApp, ui: &egui::Ui) {
    if !app.pedal_tried {
        app.pedal_tried = true;
        match super::pedal::PedalListener::start(&app.lib) {
            Ok(listener) => app.pedal = listener,
            Err(e) => {
                if !app.banners.contains(&e) {
                    app.banners.push(e);
                }
            }
        }
    }
    let Some(pedal) = &mut app.pedal else {
        return;
    };
    ui.ctx()
        .request_repaint_after(std::time::Duration::from_millis(50));
    for action in pedal.presses() {
        match (action, app.recording.is_some()) {
            (Action::Record, true) => app.stop_recording(),
            (Action::Record, false) | (Action::Next, false) => start_recording(app),
            (Action::Next, true) => {
                app.stop_recording();
                start_recording(app);
            }
            (Action::Mark, true) => mark_now(app, "pedal"),
            (Action::Mark, false) => {}
        }
    }
}

/// A marker at this moment of the take being recorded, kept until the take is filed.
fn mark_now(app: &mut BandroomApp, text: &str) {
    if let Some(rec) = &app.recording {
        app.lesson
            .pending_marks
            .push((rec.take_frame(), text.to_string()));
    }
}

/// Mute and solo for each part while it plays: what the room hears, not what is recorded.
fn parts_ui(app: &mut BandroomApp, ui: &mut egui::Ui) {
    let Some(rec) = &mut app.recording else {
        return;
    };
    let Some(music) = &rec.music else {
        return;
    };
    let click = music.score.click_lane();
    let parts: Vec<(usize, String)> = music
        .score
        .lanes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != click)
        .map(|(i, lane)| (i, lane.name.clone()))
        .collect();
    let mut failed = None;
    ui.horizontal_wrapped(|ui| {
        for (lane, name) in parts {
            let (mut muted, mut soloed) = rec.lane_states.get(lane).copied().unwrap_or_default();
            ui.label(&name);
            let toggle = |ui: &mut egui::Ui, on: &mut bool, what: &str| {
                let response = ui.toggle_value(on, what);
                let (on, label) = (*on, format!("{what} {name}"));
                response.widget_info(|| {
                    egui::WidgetInfo::selected(egui::WidgetType::Checkbox, true, on, &label)
                });
                response
            };
            let m = toggle(ui, &mut muted, "Mute");
            let s = toggle(ui, &mut soloed, "Solo");
            if (m.changed() || s.changed())
                && let Err(e) = rec.set_lane(lane, muted, soloed)
            {
                failed = Some(e);
            }
            ui.separator();
        }
    });
    if let Some(e) = failed {
        app.error = Some(format!("The part could not be changed: {e}"));
    }
}

fn transport_ui(app: &mut BandroomApp, ui: &mut egui::Ui) {
    let typing = ui.ctx().wants_keyboard_input();
    pedal_presses(app, ui);
    let (r, space, m) = ui.input(|i| {
        (
            i.key_pressed(egui::Key::R),
            i.key_pressed(egui::Key::Space),
            i.key_pressed(egui::Key::M),
        )
    });
    if app.recording.is_some() && m && !typing {
        mark_now(app, "marker");
    }
    if let Some(rec) = &app.recording {
        let secs = rec.elapsed().as_secs_f64();
        let pupils = app.lib.pupils(app.class).unwrap_or_default();
        ui.horizontal(|ui| {
            ui.colored_label(
                egui::Color32::from_rgb(210, 50, 40),
                egui::RichText::new(format!("Recording {}", clock(secs))).heading(),
            );
            let marks = app.lesson.pending_marks.len();
            if marks > 0 {
                ui.label(format!(
                    "{marks} marker{} dropped (M)",
                    if marks == 1 { "" } else { "s" }
                ));
            }
            let xruns = rec.xruns();
            if xruns > 0 {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("{xruns} dropout(s): the take keeps its timing"),
                );
            }
        });
        for level in &rec.levels {
            let names: Vec<String> = app
                .lesson
                .plan
                .iter()
                .filter(|s| s.input == level.input)
                .flat_map(|s| s.pupils.iter())
                .filter_map(|id| pupils.iter().find(|p| p.id == *id).map(|p| p.name.clone()))
                .collect();
            meter_ui(ui, level, &names.join(", "));
            level.wave.show(ui, 28.0, &format!("Input {}", level.input));
        }
        parts_ui(app, ui);
        if ui
            .button(egui::RichText::new("Stop (Space)").heading())
            .clicked()
            || (space && !typing)
        {
            app.stop_recording();
        }
        return;
    }
    ui.horizontal(|ui| {
        if ui
            .button(
                egui::RichText::new("Record (R)")
                    .heading()
                    .color(egui::Color32::from_rgb(200, 40, 40)),
            )
            .clicked()
            || (r && !typing)
        {
            start_recording(app);
        }
        let inputs = inputs_to_record(app);
        ui.label(format!(
            "records input{} {}",
            if inputs.len() == 1 { "" } else { "s" },
            inputs
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if let Some(name) = app.arrangement.clone()
            && let Ok(arr) = crate::music::resolve_in(&name, Some(&app.root.join("arrangements")))
        {
            let mut tempo = app.tempo_bpm.unwrap_or(arr.tempo.default.as_f64());
            ui.label("Tempo");
            let slider = ui.add(egui::Slider::new(
                &mut tempo,
                arr.tempo.practice_min.as_f64()..=arr.tempo.practice_max.as_f64(),
            ));
            slider
                .widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Slider, true, "Tempo"));
            if slider.changed() {
                app.tempo_bpm = Some(tempo);
            }
        }
    });
}

pub fn lesson_ui(app: &mut BandroomApp, ui: &mut egui::Ui) {
    let class = app.class;
    let class_name = class.and_then(|c| {
        app.lib
            .classes()
            .ok()
            .and_then(|all| all.into_iter().find(|x| x.id == c).map(|x| x.name))
    });
    ui.heading(match (&class_name, &app.arrangement) {
        (Some(c), Some(a)) => format!("{c} · {a}"),
        (Some(c), None) => c.clone(),
        (None, Some(a)) => format!("Quick take · {a}"),
        (None, None) => "Quick take".into(),
    });
    if let Some(class) = class {
        load_plan(app, class);
    }
    transport_ui(app, ui);
    if let Some(class) = class {
        room_plan_ui(app, ui, class);
    }
    ui.separator();
    ui.columns(2, |columns| {
        let take = takes_ui(app, &mut columns[0], class);
        if let Some(take) = take {
            let ui = &mut columns[1];
            ui.heading(take_caption(&take));
            let attributed = take.tracks.iter().any(|t| !t.performers.is_empty());
            if !attributed && class.is_some() {
                ui.label("Nobody is named on this take yet.");
                if ui.button("Name players from the room plan").clicked() {
                    attribute_from_plan(app, &take);
                    app.analyse_in_background(take.id);
                }
            }
            let folder = app.lib.take_folder(&take);
            let timing = super::timing::for_take(&app.lib, &take);
            if app.analysing.iter().any(|job| job.take == take.id) {
                ui.label("Analysing the timing of this take…");
            }
            super::playback::controls(app, ui, &take, None);
            for track in &take.tracks {
                let names: Vec<&str> = track.performers.iter().map(|p| p.name.as_str()).collect();
                ui.label(format!("Track {} {}", track.number, names.join(", ")));
                let rect = waveform(ui, &mut app.peaks, &folder.join(&track.file), 40.0);
                super::playback::cursor(app, ui, rect, take.id);
                super::timing::show(ui, rect, timing.get(&track.number), track.frames);
            }
            marker_ui(app, ui, &take);
            ui.separator();
            assess_panel::assess_ui(app, ui, &take);
        }
    });
}
