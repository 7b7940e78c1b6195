//! The lesson screen's transport: **R** records, **P** plays without keeping a
//! recording, **Space** stops, **M** marks the moment; a section can be chosen to
//! rehearse (played round and round, or recorded "again": every pass a new take); a
//! meter and a growing waveform per input; each part's mute and solo; and the learnt
//! foot pedal.
//!
//! Must not process audio or own a device: Record, Play and Stop are actions the app
//! applies to `devices`; this reads the running take from there.

use super::context::{Action, AppContext};
use super::devices::{Devices, TakeRequest};
use super::lesson::LessonState;
use super::recording::{self, Playing};
use super::widgets::labelled_combo;
use super::widgets::level_meter;
use crate::midi::Action as PedalAction;
use crate::session::{DeviceInputs, InputList};
use crate::time_text::clock;
use eframe::egui;

/// The inputs a take records: every seat with someone on it (the interface's inputs,
/// and each USB microphone by its identity), or inputs 1 and 2. The interface's input 1
/// is recorded when only microphones are seated: the take runs on the interface's clock
/// and needs an input of it.
pub(super) fn inputs_to_record(plan: &[crate::library::Seat]) -> InputList {
    let seated = || plan.iter().filter(|s| !s.pupils.is_empty());
    let mut list = InputList {
        main: seated()
            .filter(|s| s.is_main_input())
            .map(|s| s.input)
            .collect(),
        extra: Vec::new(),
    };
    for seat in seated().filter(|s| s.keyboard.is_none()) {
        let Some(id) = &seat.device else {
            continue;
        };
        match list.extra.iter_mut().find(|d| d.device == *id) {
            Some(device) if !device.channels.contains(&seat.input) => {
                device.channels.push(seat.input);
            }
            Some(_) => {}
            None => list.extra.push(DeviceInputs {
                device: id.clone(),
                channels: vec![seat.input],
            }),
        }
    }
    if list.main.is_empty() {
        list.main = if list.extra.is_empty() {
            vec![1, 2]
        } else {
            vec![1]
        };
    }
    list
}

/// "records inputs 1, 2 and 2 microphones": what Record will record, in a few words.
fn records_what(plan: &[crate::library::Seat]) -> String {
    let inputs = inputs_to_record(plan);
    let main = inputs
        .main
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let mut said = format!(
        "records input{} {main}",
        if inputs.main.len() == 1 { "" } else { "s" }
    );
    match inputs.extra.len() {
        0 => {}
        1 => said.push_str(" and 1 microphone"),
        n => said.push_str(&format!(" and {n} microphones")),
    }
    said
}

/// The keyboards seated on the room plan and the parts sent to instruments.
fn midi_setup(lesson: &LessonState) -> crate::session::MidiTakeSetup {
    use crate::session::MidiInputSpec;
    let inputs = lesson
        .plan
        .iter()
        .filter(|s| !s.pupils.is_empty())
        .filter_map(|s| s.keyboard.clone())
        .map(|port| MidiInputSpec {
            port,
            channel: None,
        })
        .collect();
    let parts = lesson
        .arrangement_parts()
        .iter()
        .enumerate()
        .filter_map(|(lane, part)| {
            let port = lesson.part_ports.get(part)?;
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

/// What the lesson screen asks of a take: its inputs (from the room plan), the piece
/// as set here (tempo, count-in, repeats, section), the keyboards and instruments.
pub fn take_request<'a>(
    lesson: &'a LessonState,
    arrangement: Option<&'a str>,
    keep: Keep,
) -> TakeRequest<'a> {
    TakeRequest {
        inputs: inputs_to_record(&lesson.plan),
        playing: Playing {
            arrangement,
            tempo_bpm: lesson.tempo_bpm,
            repeats: lesson.repeats,
            count_in_bars: lesson.count_in_bars,
            section: lesson.section.as_deref(),
            round_and_round: keep == Keep::Rehearsal,
            purpose: lesson.purpose,
            pass: (lesson.again && keep == Keep::Take).then_some(lesson.passes + 1),
        },
        midi: midi_setup(lesson),
        keep: keep == Keep::Take,
    }
}

/// What a press of the learnt pedal asks for, given whether a take is running.
pub fn pedal_actions(press: PedalAction, recording: bool) -> Vec<Action> {
    match (press, recording) {
        (PedalAction::Record, true) => vec![Action::StopTake],
        (PedalAction::Record, false) | (PedalAction::Next, false) => {
            vec![Action::StartTake(Keep::Take)]
        }
        (PedalAction::Next, true) => vec![Action::StopTake, Action::StartTake(Keep::Take)],
        (PedalAction::Mark, _) => Vec::new(),
    }
}

/// The section to rehearse, and "again": every pass recorded as a new take.
fn section_ui(lesson: &mut LessonState, ui: &mut egui::Ui, sections: &[String]) {
    let shown = lesson
        .section
        .clone()
        .unwrap_or_else(|| "the whole piece".into());
    labelled_combo(ui, "Section", shown, |ui| {
        if ui
            .selectable_label(lesson.section.is_none(), "the whole piece")
            .clicked()
        {
            lesson.section = None;
        }
        for name in sections {
            let on = lesson.section.as_deref() == Some(name.as_str());
            if ui.selectable_label(on, name).clicked() {
                lesson.section = Some(name.clone());
            }
        }
    });
    ui.toggle_value(&mut lesson.again, "Again (A)")
        .on_hover_text("every pass is recorded as a new take until you stop; all are kept");
}

fn meter_ui(ui: &mut egui::Ui, level: &recording::InputLevel, names: &str) {
    let title = level.title();
    level_meter(ui, &title, level.level, level.clipping(), names);
    if let Some(quiet) = level.silent_for() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "{title} has been silent for {} s — is the mic on?",
                quiet.as_secs()
            ),
        );
    }
}

/// A marker at this moment of the take being recorded, kept until the take is filed.
pub fn mark_now(lesson: &mut LessonState, devices: &Devices, text: &str) {
    if let Some(rec) = devices.recording() {
        lesson
            .pending_marks
            .push((rec.take_frame(), text.to_string()));
    }
}

/// Mute and solo for each part while it plays: what the room hears, not what is recorded.
fn parts_ui(cx: &mut AppContext, devices: &Devices, ui: &mut egui::Ui) {
    let Some(rec) = devices.recording() else {
        return;
    };
    let Some(music) = &rec.music else {
        return;
    };
    let parts = music.part_lanes();
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
            if m.changed() || s.changed() {
                cx.act(Action::SetLane {
                    lane,
                    muted,
                    soloed,
                });
            }
            ui.separator();
        }
    });
}

pub fn transport_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
) {
    let typing = ui.ctx().wants_keyboard_input();
    if devices.has_pedal() {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(50));
    }
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
        lesson.again = !lesson.again;
    }
    if devices.is_recording() && m && !typing {
        mark_now(lesson, devices, "marker");
    }
    if devices.is_recording() {
        running_ui(lesson, cx, devices, ui);
        if !typing && space {
            cx.act(Action::StopTake);
        }
        return;
    }
    let arrangement = lesson.arrangement(&cx.root, cx.arrangement.as_deref());
    ui.horizontal_wrapped(|ui| {
        let touch = egui::vec2(0.0, super::theme::TOUCH_HEIGHT);
        let record = ui
            .add(
                egui::Button::new(
                    egui::RichText::new("Record (R)")
                        .heading()
                        .color(super::theme::record_colour(ui.visuals().dark_mode)),
                )
                .min_size(touch),
            )
            .clicked();
        if record || (r && !typing) {
            cx.act(Action::StartTake(Keep::Take));
        }
        let play = arrangement.is_some()
            && ui
                .add(egui::Button::new(egui::RichText::new("Play (P)").heading()).min_size(touch))
                .on_hover_text("play along without keeping a recording")
                .clicked();
        if play || (arrangement.is_some() && p && !typing) {
            cx.act(Action::StartTake(Keep::Rehearsal));
        }
        purpose_ui(ui, &mut lesson.purpose, "Kept as");
        for what in devices.finishing() {
            ui.spinner();
            ui.label(format!("Finishing {what}…"));
        }
        ui.label(records_what(&lesson.plan));
    });
    let Some(arr) = arrangement else {
        return;
    };
    ui.horizontal_wrapped(|ui| {
        let mut tempo = lesson.tempo_bpm.unwrap_or(arr.tempo.default.as_f64());
        ui.label("Tempo");
        let slider = ui.add(egui::Slider::new(
            &mut tempo,
            arr.tempo.practice_min.as_f64()..=arr.tempo.practice_max.as_f64(),
        ));
        slider.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Slider, true, "Tempo"));
        if slider.changed() {
            lesson.tempo_bpm = Some(tempo);
        }
        ui.separator();
        let sections: Vec<String> = arr.sections.iter().map(|s| s.name.clone()).collect();
        section_ui(lesson, ui, &sections);
        ui.separator();
        count_in_and_repeats_ui(lesson, ui);
    });
    instruments_ui(lesson, cx, ui, &arr);
}

/// Why a take is kept (evidence for a judgement, rehearsal or performance): how long the
/// library keeps it follows from it. True when it changed.
pub fn purpose_ui(ui: &mut egui::Ui, purpose: &mut crate::library::Purpose, label: &str) -> bool {
    let mut changed = false;
    labelled_combo(ui, label, purpose.as_str(), |ui| {
        for p in crate::library::Purpose::ALL {
            if ui.selectable_label(*purpose == p, p.as_str()).clicked() {
                changed |= *purpose != p;
                *purpose = p;
            }
        }
    });
    changed
}

/// How many bars of metronome come first, and how many times each section is played.
fn count_in_and_repeats_ui(lesson: &mut LessonState, ui: &mut egui::Ui) {
    let bars = |n: u32| match n {
        0 => "no count-in".to_string(),
        1 => "1 bar".to_string(),
        n => format!("{n} bars"),
    };
    labelled_combo(ui, "Count-in", bars(lesson.count_in_bars), |ui| {
        for n in 0..=4 {
            if ui
                .selectable_label(lesson.count_in_bars == n, bars(n))
                .clicked()
            {
                lesson.count_in_bars = n;
            }
        }
    });
    let times = |r: Option<u32>| match r {
        None => "as written".to_string(),
        Some(1) => "once".to_string(),
        Some(n) => format!("{n} times"),
    };
    labelled_combo(ui, "Each section", times(lesson.repeats), |ui| {
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
            if ui.selectable_label(lesson.repeats == r, times(r)).clicked() {
                lesson.repeats = r;
            }
        }
    });
}

/// Sending parts to MIDI instruments (a keyboard's sounds, a sound module) instead of
/// bandroom's own sound.
fn instruments_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    arr: &crate::music::Arrangement,
) {
    let done = cx.waker();
    let before = lesson.part_ports.clone();
    egui::CollapsingHeader::new("Parts on MIDI instruments")
        .default_open(!lesson.part_ports.is_empty())
        .show(ui, |ui| {
            if lesson.ports.looking() {
                ui.spinner();
            } else if ui.button("Find instruments").clicked() {
                lesson.ports.ask(done);
            }
            let outputs = match lesson.ports.found() {
                Some(Ok(ports)) => ports.outputs.clone(),
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().warn_fg_color, e.clone());
                    Vec::new()
                }
                None => Vec::new(),
            };
            for part in &arr.parts {
                let name = &part.name;
                let chosen = lesson.part_ports.get(name).cloned();
                let shown = chosen.clone().unwrap_or_else(|| "bandroom plays it".into());
                labelled_combo(ui, &format!("{name} is played by"), shown, |ui| {
                    if ui
                        .selectable_label(chosen.is_none(), "bandroom plays it")
                        .clicked()
                    {
                        lesson.part_ports.remove(name);
                    }
                    for port in &outputs {
                        let on = chosen.as_deref() == Some(port.as_str());
                        if ui.selectable_label(on, port).clicked() {
                            lesson.part_ports.insert(name.clone(), port.clone());
                        }
                    }
                });
            }
        });
    // Remembered for the class, like the room plan.
    if lesson.part_ports != before
        && let Some(class) = cx.class
    {
        let saved = cx.lib.set_part_instruments(class, &lesson.part_ports);
        cx.report(saved);
    }
}

/// The transport while a take (or a rehearsal) runs: time, markers, dropouts, a meter
/// and waveform per input, the parts' mute and solo, and Stop.
fn running_ui(lesson: &mut LessonState, cx: &mut AppContext, devices: &Devices, ui: &mut egui::Ui) {
    let Some(rec) = devices.recording() else {
        return;
    };
    let secs = rec.elapsed().as_secs_f64();
    let class = cx.class;
    let pupils = cx.read_or_default(format!("pupils/{class:?}"), |lib| lib.pupils(class));
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
        if let Some(section) = &lesson.section {
            ui.label(format!("section {section}"));
        }
        if lesson.again && rec.keep {
            ui.label(format!(
                "Again: pass {}, every pass kept (A stops after this one)",
                lesson.passes + 1
            ));
        }
        let marks = lesson.pending_marks.len();
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
        let names: Vec<String> = lesson
            .plan
            .iter()
            .filter(|s| level.is_seat(s))
            .flat_map(|s| s.pupils.iter())
            .filter_map(|id| pupils.iter().find(|p| p.id == *id).map(|p| p.name.clone()))
            .collect();
        meter_ui(ui, level, &names.join(", "));
        level.wave.show(ui, 28.0, &level.title());
    }
    // A USB microphone whose clock is unsteady or that was unplugged says so here and
    // on its card in the room plan.
    for clock in rec.device_clocks() {
        if let Some(trouble) = clock.trouble() {
            ui.colored_label(ui.visuals().warn_fg_color, trouble);
        }
    }
    parts_ui(cx, devices, ui);
    ui.horizontal(|ui| {
        if ui
            .add(
                egui::Button::new(egui::RichText::new("Stop (Space)").heading())
                    .min_size(egui::vec2(0.0, super::theme::TOUCH_HEIGHT)),
            )
            .clicked()
        {
            cx.act(Action::StopTake);
        }
        if !lesson.part_ports.is_empty()
            && ui
                .button("All notes off")
                .on_hover_text("silence every MIDI instrument bandroom is playing")
                .clicked()
        {
            cx.act(Action::AllNotesOff);
        }
    });
}
