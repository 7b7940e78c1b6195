//! The lesson screen's transport: **R** records, **P** plays without keeping a
//! recording, **Space** stops, **M** marks the moment; a section can be chosen to
//! rehearse (played round and round, or recorded "again": every pass a new take); a
//! meter and a growing waveform per input; each part's mute and solo; and the learnt
//! foot pedal.
//!
//! Must not process audio: recording is asked of `recording`, which drives the session.

use super::app::BandroomApp;
use super::recording::{self, Playing};
use super::widgets::labelled_combo;
use super::widgets::level_meter;
use crate::midi::Action;
use crate::time_text::clock;
use eframe::egui;

/// The inputs a take records: every seat with someone on it, or inputs 1 and 2.
fn inputs_to_record(app: &BandroomApp) -> Vec<usize> {
    let seated: Vec<usize> = app
        .lesson
        .plan
        .iter()
        .filter(|s| !s.pupils.is_empty() && s.keyboard.is_none())
        .map(|s| s.input)
        .collect();
    if seated.is_empty() {
        vec![1, 2]
    } else {
        seated
    }
}

/// The keyboards seated on the room plan and the parts sent to instruments.
fn midi_setup(app: &BandroomApp) -> crate::session::MidiTakeSetup {
    use crate::session::MidiInputSpec;
    let inputs = app
        .lesson
        .plan
        .iter()
        .filter(|s| !s.pupils.is_empty())
        .filter_map(|s| s.keyboard.clone())
        .map(|port| MidiInputSpec {
            port,
            channel: None,
        })
        .collect();
    let parts = app
        .lesson
        .arrangement_parts()
        .iter()
        .enumerate()
        .filter_map(|(lane, part)| {
            let port = app.part_ports.get(part)?;
            Some(crate::midi::PartRoute {
                lane,
                port: port.clone(),
                channel: 0,
                program: None,
            })
        })
        .collect();
    crate::session::MidiTakeSetup {
        inputs,
        parts,
        ..Default::default()
    }
}

/// Whether a take is kept in the library or only played along with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Recorded and filed ("Record").
    Take,
    /// Played for the class to rehearse with; what the inputs heard is thrown away
    /// ("Play"). A chosen section goes round until stopped.
    Rehearsal,
}

/// Starts a take, or a rehearsal without one.
pub fn start_take(app: &mut BandroomApp, keep: Keep) {
    // One device at a time: playback stops, and a take still finishing lets go of it.
    app.free_the_device();
    let inputs = inputs_to_record(app);
    let arrangement = app.arrangement.clone();
    let section = app.section.clone();
    let midi = midi_setup(app);
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
            count_in_bars: app.count_in_bars,
            section: section.as_deref(),
            round_and_round: keep == Keep::Rehearsal,
        },
        midi,
    );
    match started {
        Ok((mut rec, notices)) => {
            for notice in notices {
                if !app.banners.contains(&notice) {
                    app.banners.push(notice);
                }
            }
            rec.keep = keep == Keep::Take;
            app.recording = Some(rec);
        }
        Err(e) => app.error = Some(format!("Recording could not start: {e:#}")),
    }
}

/// The section to rehearse, and "again": every pass recorded as a new take.
fn section_ui(app: &mut BandroomApp, ui: &mut egui::Ui, sections: &[String]) {
    let shown = app
        .section
        .clone()
        .unwrap_or_else(|| "the whole piece".into());
    labelled_combo(ui, "Section", shown, |ui| {
        if ui
            .selectable_label(app.section.is_none(), "the whole piece")
            .clicked()
        {
            app.section = None;
        }
        for name in sections {
            let on = app.section.as_deref() == Some(name.as_str());
            if ui.selectable_label(on, name).clicked() {
                app.section = Some(name.clone());
            }
        }
    });
    ui.toggle_value(&mut app.again, "Again (A)")
        .on_hover_text("every pass is recorded as a new take until you stop; all are kept");
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
            (Action::Record, false) | (Action::Next, false) => start_take(app, Keep::Take),
            (Action::Next, true) => {
                app.stop_recording();
                start_take(app, Keep::Take);
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
    let parts = music.part_lanes();
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

pub fn transport_ui(app: &mut BandroomApp, ui: &mut egui::Ui) {
    let typing = ui.ctx().wants_keyboard_input();
    pedal_presses(app, ui);
    let (r, p, a, space, m) = ui.input(|i| {
        (
            i.key_pressed(egui::Key::R),
            i.key_pressed(egui::Key::P),
            i.key_pressed(egui::Key::A),
            i.key_pressed(egui::Key::Space),
            i.key_pressed(egui::Key::M),
        )
    });
    if !typing && a {
        app.again = !app.again;
    }
    if app.recording.is_some() && m && !typing {
        mark_now(app, "marker");
    }
    if app.recording.is_some() {
        running_ui(app, ui);
        if !typing && space {
            app.stop_recording();
        }
        return;
    }
    let arrangement = app
        .lesson
        .arrangement(&app.root, app.arrangement.as_deref());
    ui.horizontal_wrapped(|ui| {
        let record = ui
            .button(
                egui::RichText::new("Record (R)")
                    .heading()
                    .color(egui::Color32::from_rgb(200, 40, 40)),
            )
            .clicked();
        if record || (r && !typing) {
            start_take(app, Keep::Take);
        }
        let play = arrangement.is_some()
            && ui
                .button(egui::RichText::new("Play (P)").heading())
                .on_hover_text("play along without keeping a recording")
                .clicked();
        if play || (arrangement.is_some() && p && !typing) {
            start_take(app, Keep::Rehearsal);
        }
        for f in &app.finishing {
            ui.spinner();
            ui.label(format!("Finishing {}…", f.what));
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
    });
    let Some(arr) = arrangement else {
        return;
    };
    ui.horizontal_wrapped(|ui| {
        let mut tempo = app.tempo_bpm.unwrap_or(arr.tempo.default.as_f64());
        ui.label("Tempo");
        let slider = ui.add(egui::Slider::new(
            &mut tempo,
            arr.tempo.practice_min.as_f64()..=arr.tempo.practice_max.as_f64(),
        ));
        slider.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Slider, true, "Tempo"));
        if slider.changed() {
            app.tempo_bpm = Some(tempo);
        }
        ui.separator();
        let sections: Vec<String> = arr.sections.iter().map(|s| s.name.clone()).collect();
        section_ui(app, ui, &sections);
        ui.separator();
        count_in_and_repeats_ui(app, ui);
    });
    instruments_ui(app, ui, &arr);
}

/// How many bars of metronome come first, and how many times each section is played.
fn count_in_and_repeats_ui(app: &mut BandroomApp, ui: &mut egui::Ui) {
    let bars = |n: u32| match n {
        0 => "no count-in".to_string(),
        1 => "1 bar".to_string(),
        n => format!("{n} bars"),
    };
    labelled_combo(ui, "Count-in", bars(app.count_in_bars), |ui| {
        for n in 0..=4 {
            if ui
                .selectable_label(app.count_in_bars == n, bars(n))
                .clicked()
            {
                app.count_in_bars = n;
            }
        }
    });
    let times = |r: Option<u32>| match r {
        None => "as written".to_string(),
        Some(1) => "once".to_string(),
        Some(n) => format!("{n} times"),
    };
    labelled_combo(ui, "Each section", times(app.repeats), |ui| {
        for r in [
            None,
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(6),
            Some(8),
            Some(12),
        ] {
            if ui.selectable_label(app.repeats == r, times(r)).clicked() {
                app.repeats = r;
            }
        }
    });
}

/// Sending parts to MIDI instruments (a keyboard's sounds, a sound module) instead of
/// bandroom's own sound.
fn instruments_ui(app: &mut BandroomApp, ui: &mut egui::Ui, arr: &crate::music::Arrangement) {
    let done = app.wake_when_done();
    let before = app.part_ports.clone();
    egui::CollapsingHeader::new("Parts on MIDI instruments")
        .default_open(!app.part_ports.is_empty())
        .show(ui, |ui| {
            if app.lesson.ports.looking() {
                ui.spinner();
            } else if ui.button("Find instruments").clicked() {
                app.lesson.ports.ask(done);
            }
            let outputs = match app.lesson.ports.found() {
                Some(Ok(ports)) => ports.outputs.clone(),
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().warn_fg_color, e.clone());
                    Vec::new()
                }
                None => Vec::new(),
            };
            for part in &arr.parts {
                let name = &part.name;
                let chosen = app.part_ports.get(name).cloned();
                let shown = chosen.clone().unwrap_or_else(|| "bandroom plays it".into());
                labelled_combo(ui, &format!("{name} is played by"), shown, |ui| {
                    if ui
                        .selectable_label(chosen.is_none(), "bandroom plays it")
                        .clicked()
                    {
                        app.part_ports.remove(name);
                    }
                    for port in &outputs {
                        let on = chosen.as_deref() == Some(port.as_str());
                        if ui.selectable_label(on, port).clicked() {
                            app.part_ports.insert(name.clone(), port.clone());
                        }
                    }
                });
            }
        });
    // Remembered for the class, like the room plan.
    if app.part_ports != before
        && let Some(class) = app.class
    {
        let saved = app.lib.set_part_instruments(class, &app.part_ports);
        app.report(saved);
    }
}

/// The transport while a take (or a rehearsal) runs: time, markers, dropouts, a meter
/// and waveform per input, the parts' mute and solo, and Stop.
fn running_ui(app: &mut BandroomApp, ui: &mut egui::Ui) {
    let Some(rec) = &app.recording else {
        return;
    };
    let secs = rec.elapsed().as_secs_f64();
    let pupils = app.lib.pupils(app.class).unwrap_or_default();
    ui.horizontal(|ui| {
        let (what, colour) = if rec.keep {
            ("Recording", egui::Color32::from_rgb(210, 50, 40))
        } else {
            ("Playing", ui.visuals().strong_text_color())
        };
        ui.colored_label(
            colour,
            egui::RichText::new(format!("{what} {}", clock(secs))).heading(),
        );
        if let Some(section) = &app.section {
            ui.label(format!("section {section}"));
        }
        if app.again && rec.keep {
            ui.label(format!(
                "Again: pass {}, every pass kept (A stops after this one)",
                app.lesson.passes + 1
            ));
        }
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
    ui.horizontal(|ui| {
        if ui
            .button(egui::RichText::new("Stop (Space)").heading())
            .clicked()
        {
            app.stop_recording();
        }
        if !app.part_ports.is_empty()
            && let Some(rec) = &app.recording
            && ui
                .button("All notes off")
                .on_hover_text("silence every MIDI instrument bandroom is playing")
                .clicked()
        {
            rec.midi_panic();
        }
    });
}
