//! The room plan of the lesson screen: a card per input of the interface and per MIDI
//! keyboard, labelled with the pupils sat there (dragged from the class list, or added
//! from a list), their part and its tier; remembered per class. Also naming a take's
//! players from it.
//!
//! Must not record: the transport reads the plan to know which inputs and keyboards to
//! record.

use super::context::AppContext;
use super::lesson::LessonState;
use crate::library::{Seat, TakeSummary};
use eframe::egui;

/// Inputs shown on the room plan when nothing was saved yet.
const DEFAULT_INPUTS: usize = 8;

pub(super) fn load_plan(lesson: &mut LessonState, cx: &mut AppContext, class: i64) {
    if lesson.plan_class == Some(class) {
        return;
    }
    let plan = cx.lib.room_plan(class);
    let mut plan = cx.report(plan).unwrap_or_default();
    for input in 1..=DEFAULT_INPUTS {
        if !plan
            .iter()
            .any(|s| s.input == input && s.keyboard.is_none())
        {
            plan.push(Seat {
                input,
                ..Seat::default()
            });
        }
    }
    // The interface's inputs in order, then the keyboards.
    plan.sort_by(|a, b| {
        (a.keyboard.is_some(), a.input, &a.keyboard).cmp(&(
            b.keyboard.is_some(),
            b.input,
            &b.keyboard,
        ))
    });
    lesson.plan = plan;
    lesson.plan_class = Some(class);
    let instruments = cx.lib.part_instruments(class);
    lesson.part_ports = cx.report(instruments).unwrap_or_default();
}

pub(super) fn room_plan_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    class: i64,
) {
    load_plan(lesson, cx, class);
    let pupils = cx.read(format!("pupils/{class}"), |lib| lib.pupils(Some(class)));
    let Some(pupils) = cx.report(pupils) else {
        return;
    };
    // The arrangement's parts, so each seat can say what it plays (named on the take,
    // and kept with every judgement).
    // Loaded when the arrangement changes, not every frame.
    if lesson.parts.0 != cx.arrangement {
        let parts = lesson
            .arrangement(&cx.root, cx.arrangement.as_deref())
            .map(|arr| {
                arr.parts
                    .iter()
                    .map(|p| (p.name.clone(), p.tier.clone(), p.instrument.clone()))
                    .collect()
            })
            .unwrap_or_default();
        lesson.parts = (cx.arrangement.clone(), parts);
    }
    let parts = lesson.parts.1.clone();
    ui.heading("Room plan");
    ui.label("Drag a pupil from the class list onto an input (or use “Add to input”).");
    // The class list: pupils not seated yet come first and stand out.
    let seated: Vec<i64> = lesson
        .plan
        .iter()
        .flat_map(|s| s.pupils.iter().copied())
        .collect();
    class_list_ui(ui, &pupils, &seated);
    let mut changed = false;
    let mut dropped: Option<(usize, i64)> = None;
    // Four inputs to a row, as the interface's channels sit on most classroom desks.
    egui::Grid::new("room plan").show(ui, |ui| {
        for (index, seat) in lesson.plan.iter_mut().enumerate() {
            // A vertical cell, so the card stacks its title, pupils and choices.
            let (_, payload) = ui
                .vertical(|ui| {
                    ui.dnd_drop_zone::<PupilDrag, _>(egui::Frame::group(ui.style()), |ui| {
                        changed |= seat_card_ui(ui, seat, &pupils, &parts);
                    })
                })
                .inner;
            if let Some(pupil) = payload {
                dropped = Some((index, pupil.0));
            }
            if index % 4 == 3 {
                ui.end_row();
            }
        }
    });
    // A pupil dragged onto an input sits there (and nowhere else).
    if let Some((index, pupil)) = dropped {
        for seat in &mut lesson.plan {
            seat.pupils.retain(|p| *p != pupil);
        }
        if let Some(seat) = lesson.plan.get_mut(index) {
            seat.pupils.push(pupil);
        }
        changed = true;
    }
    changed |= keyboards_ui(lesson, cx, ui);
    if changed {
        let plan = lesson.plan.clone();
        let saved = cx.lib.set_room_plan(class, &plan);
        cx.report(saved);
    }
}

/// The class list: pupils not seated yet come first and stand out; each can be dragged.
fn class_list_ui(ui: &mut egui::Ui, pupils: &[crate::library::PupilSummary], seated: &[i64]) {
    let mut order: Vec<_> = pupils.iter().collect();
    order.sort_by_key(|p| seated.contains(&p.id));
    ui.horizontal_wrapped(|ui| {
        for pupil in order {
            let id = egui::Id::new(("drag pupil", pupil.id));
            let response = ui
                .dnd_drag_source(id, PupilDrag(pupil.id), |ui| {
                    let text = egui::RichText::new(&pupil.name);
                    let text = if seated.contains(&pupil.id) {
                        text.weak()
                    } else {
                        text.strong()
                    };
                    ui.add(egui::Label::new(text).selectable(false))
                })
                .response;
            let name = format!("Drag {}", pupil.name);
            response
                .widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Label, true, &name));
        }
    });
}

/// One input's or keyboard's card: its title, the pupils sat there (each removable),
/// "Add to …", and the part played with its tier. True when the seat changed.
fn seat_card_ui(
    ui: &mut egui::Ui,
    seat: &mut Seat,
    pupils: &[crate::library::PupilSummary],
    parts: &[(String, String, String)],
) -> bool {
    let mut changed = false;
    ui.set_width(150.0);
    let title = seat.title();
    ui.strong(&title);
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
                .on_hover_text(format!("take {name} off {title}"))
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
    egui::ComboBox::from_id_salt(("seat", &title))
        .selected_text(format!("Add to {}", lowercase_first(&title)))
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
        egui::ComboBox::from_id_salt(("part", &title))
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for (part, _, _) in parts {
                    let chosen = seat.part.as_deref() == Some(part.as_str());
                    if ui.selectable_label(chosen, part).clicked() {
                        seat.part = Some(part.clone());
                        changed = true;
                    }
                }
            });
        if let Some((_, tier, _)) = parts
            .iter()
            .find(|(name, _, _)| seat.part.as_deref() == Some(name.as_str()))
        {
            ui.label(format!("tier: {tier}"));
        }
    }
    changed
}

/// Adding a keyboard to the room plan (from the MIDI inputs there are) and taking one
/// away. True when the plan changed.
fn keyboards_ui(lesson: &mut LessonState, cx: &mut AppContext, ui: &mut egui::Ui) -> bool {
    let mut changed = false;
    let done = cx.waker();
    ui.horizontal_wrapped(|ui| {
        if lesson.ports.looking() {
            ui.spinner();
            ui.label("Looking for keyboards…");
        } else if ui.button("Add a keyboard").clicked() {
            lesson.ports.ask(done);
        }
        let on_plan: Vec<String> = lesson
            .plan
            .iter()
            .filter_map(|s| s.keyboard.clone())
            .collect();
        for port in &on_plan {
            if ui
                .small_button(format!("Take keyboard {port} off the plan"))
                .clicked()
            {
                lesson.plan.retain(|s| s.keyboard.as_deref() != Some(port));
                changed = true;
            }
        }
        match lesson.ports.found() {
            Some(Ok(ports)) => {
                let free: Vec<String> = ports
                    .inputs
                    .iter()
                    .filter(|p| !on_plan.contains(p))
                    .cloned()
                    .collect();
                if free.is_empty() {
                    ui.label("No other MIDI keyboard is connected.");
                }
                for port in free {
                    if ui.button(format!("Put {port} on the plan")).clicked() {
                        lesson.plan.push(Seat::keyboard(&port));
                        changed = true;
                    }
                }
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().warn_fg_color, e);
            }
            None => {}
        }
    });
    changed
}

/// "Input 3" → "input 3", for "Add to input 3".
fn lowercase_first(title: &str) -> String {
    let mut chars = title.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

/// What is dragged from the class list: a pupil's id.
struct PupilDrag(i64);

/// Who sits where on the room plan, as the session files a take's players: part,
/// tier and instrument go with each track.
pub(super) fn players_from_plan(plan: &[Seat]) -> Vec<crate::session::Players> {
    plan.iter()
        .filter(|s| !s.pupils.is_empty())
        .map(|s| crate::session::Players {
            seat: match &s.keyboard {
                Some(port) => crate::session::Seat::Keyboard(port.clone()),
                None => crate::session::Seat::Input(s.input),
            },
            pupils: s.pupils.clone(),
            part: s.part.clone(),
        })
        .collect()
}

/// Attributes each track of a take to the pupils seated at its input or keyboard.
pub(super) fn attribute_from_plan(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    take: &TakeSummary,
) {
    for track in &take.tracks {
        let sits_here = |s: &&Seat| match (&s.keyboard, track.input_channel, &track.midi_port) {
            (None, Some(input), None) => s.input as i64 == input,
            (Some(keyboard), _, Some(port)) => keyboard == port,
            _ => false,
        };
        if let Some(seat) = lesson
            .plan
            .iter()
            .filter(|s| !s.pupils.is_empty())
            .find(sits_here)
        {
            let pupils = seat.pupils.clone();
            let part = seat.part.clone();
            // The part's tier and instrument go with it, so judgements carry them.
            let about = lesson
                .parts
                .1
                .iter()
                .find(|(name, _, _)| part.as_deref() == Some(name.as_str()))
                .map(|(_, tier, instrument)| (tier.clone(), instrument.clone()));
            let (tier, instrument) = about.unzip();
            let done = cx.lib.attribute(
                take.id,
                track.number,
                &pupils,
                part.as_deref(),
                tier.as_deref(),
                instrument.as_deref(),
            );
            cx.report(done);
        }
    }
}
