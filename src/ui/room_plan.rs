//! The room plan of the lesson screen: a card per input of the interface, per USB
//! microphone (kept by the device's identity, found by "Which mic is this?") and per MIDI
//! keyboard, labelled with the pupils sat there (dragged from the class list, or added
//! from a list), their part and its tier; remembered per class. Also naming a take's
//! players from it.
//!
//! Must not record: the transport reads the plan to know which inputs and keyboards to
//! record.

use super::context::{Action, AppContext};
use super::devices::Devices;
use super::lesson::LessonState;
use crate::audio::identify::ListenedInput;
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
    // The interface's inputs in order, then the microphones, then the keyboards.
    plan.sort_by(|a, b| {
        let order = |s: &Seat| {
            (
                s.keyboard.is_some(),
                s.device.is_some(),
                s.device_name.clone(),
                s.input,
                s.keyboard.clone(),
            )
        };
        order(a).cmp(&order(b))
    });
    lesson.plan = plan;
    lesson.plan_class = Some(class);
    let instruments = cx.lib.part_instruments(class);
    lesson.part_ports = cx.report(instruments).unwrap_or_default();
}

/// The arrangement's parts (name, tier, instrument), so each seat can say what it plays
/// (named on the take, and kept with every judgement); read when the piece changes.
fn parts_in_hand(lesson: &mut LessonState, cx: &AppContext) -> Vec<(String, String, String)> {
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
    lesson.parts.1.clone()
}

/// A card's width: room for a long double-barrelled name at the app's text size.
const CARD_WIDTH: f32 = 190.0;

pub(super) fn room_plan_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
    class: i64,
) {
    load_plan(lesson, cx, class);
    let pupils = cx.read(format!("pupils/{class}"), |lib| lib.pupils(Some(class)));
    let Some(pupils) = cx.report(pupils) else {
        return;
    };
    let parts = parts_in_hand(lesson, cx);
    ui.heading("Room plan");
    ui.label(
        "Choose an input, then click names in the class list to seat them there \
         (or drag a name onto an input).",
    );
    let mut changed = false;
    let mut dropped: Option<(usize, i64)> = None;
    let mut chosen = lesson.chosen_seat;
    let lit = devices.identifying().and_then(|l| l.lit()).cloned();
    // What the take's further devices' clocks are doing, by device identity.
    let troubles: Vec<(String, String)> = devices
        .recording()
        .map(|rec| rec.device_clocks())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|clock| Some((clock.id.clone(), clock.trouble()?)))
        .collect();
    // As many cards to a row as the window holds, so the plan wraps instead of running
    // off the right edge at 1024 pixels.
    let spacing = ui.spacing().item_spacing.x + 16.0;
    let per_row = ((ui.available_width() + spacing) / (CARD_WIDTH + spacing)).floor();
    let per_row = (per_row as usize).max(1);
    egui::Grid::new("room plan").show(ui, |ui| {
        for (index, seat) in lesson.plan.iter_mut().enumerate() {
            // A vertical cell, so the card stacks its title, pupils and choices.
            let (_, payload) = ui
                .vertical(|ui| {
                    let heard = lit.as_ref().is_some_and(|input| is_heard(seat, input));
                    let mut frame = egui::Frame::group(ui.style());
                    if heard {
                        frame = frame
                            .stroke(egui::Stroke::new(3.0, ui.visuals().selection.bg_fill))
                            .fill(ui.visuals().selection.bg_fill.gamma_multiply(0.3));
                    }
                    let trouble = seat
                        .device
                        .as_ref()
                        .and_then(|id| troubles.iter().find(|(i, _)| i == id))
                        .map(|(_, t)| t.as_str());
                    ui.dnd_drop_zone::<PupilDrag, _>(frame, |ui| {
                        if heard {
                            ui.strong("◀ heard now");
                        }
                        if let Some(trouble) = trouble {
                            ui.colored_label(ui.visuals().warn_fg_color, trouble);
                        }
                        let card = seat_card_ui(ui, seat, &pupils, &parts, chosen == Some(index));
                        changed |= card.changed;
                        if card.chosen {
                            chosen = (chosen != Some(index)).then_some(index);
                        }
                    })
                })
                .inner;
            if let Some(pupil) = payload {
                dropped = Some((index, pupil.0));
            }
            if index % per_row == per_row - 1 {
                ui.end_row();
            }
        }
    });
    lesson.chosen_seat = chosen;
    // A pupil dragged onto an input (or clicked in the list) sits there, and nowhere else.
    if let Some((index, pupil)) = dropped.or(lesson.seat_clicked.take()) {
        seat_at(&mut lesson.plan, index, pupil);
        changed = true;
    }
    changed |= keyboards_ui(lesson, cx, ui);
    changed |= microphones_ui(lesson, cx, devices, ui, lit.as_ref());
    if changed {
        let plan = lesson.plan.clone();
        let saved = cx.lib.set_room_plan(class, &plan);
        cx.report(saved);
    }
}

/// Seats `pupil` at the seat `index`, taking them off any other.
fn seat_at(plan: &mut [Seat], index: usize, pupil: i64) {
    for seat in plan.iter_mut() {
        seat.pupils.retain(|p| *p != pupil);
    }
    if let Some(seat) = plan.get_mut(index) {
        seat.pupils.push(pupil);
    }
}

/// How a pupil is named in the lesson: by name, and with their number when another
/// pupil of the class has the same name.
pub(super) fn shown_name(
    pupil: &crate::library::PupilSummary,
    all: &[crate::library::PupilSummary],
) -> String {
    let twins = all.iter().filter(|p| p.name == pupil.name).count();
    match (&pupil.number, twins > 1) {
        (Some(number), true) => format!("{} ({number})", pupil.name),
        (None, true) => format!("{} (#{})", pupil.name, pupil.id),
        _ => pupil.name.clone(),
    }
}

/// The class list, in a panel of its own beside the plan: a search box, every pupil once
/// with where they sit, in the roster's order. Clicking a name seats the pupil at the
/// chosen input; the handle beside it drags them onto any input.
pub(super) fn class_list_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    class: i64,
) {
    let pupils = cx.read_or_default(format!("pupils/{class}"), |lib| lib.pupils(Some(class)));
    ui.heading(format!("Class ({})", pupils.len()));
    let search = ui.add(
        egui::TextEdit::singleline(&mut lesson.search)
            .hint_text("find a pupil")
            .desired_width(f32::INFINITY),
    );
    search.widget_info(|| {
        egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Find a pupil")
    });
    let seat_of = |id: i64| {
        lesson
            .plan
            .iter()
            .find(|s| s.pupils.contains(&id))
            .map(Seat::title)
    };
    let wanted = lesson.search.trim().to_lowercase();
    // The list keeps its order as pupils are seated (they are marked, not moved), so a
    // name never slides away from under the pointer between two clicks.
    let order: Vec<_> = pupils
        .iter()
        .filter(|p| wanted.is_empty() || p.name.to_lowercase().contains(&wanted))
        .collect();
    let chosen_title = lesson
        .chosen_seat
        .and_then(|i| lesson.plan.get(i))
        .map(Seat::title);
    match &chosen_title {
        Some(title) => ui.label(format!("Click a name to seat them at {title}.")),
        None => ui.weak("Choose an input on the plan, then click names."),
    };
    let mut clicked = None;
    egui::ScrollArea::vertical()
        .id_salt("class list")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for pupil in order {
                let name = shown_name(pupil, &pupils);
                let seat = seat_of(pupil.id);
                ui.horizontal(|ui| {
                    let id = egui::Id::new(("drag pupil", pupil.id));
                    let handle = ui
                        .dnd_drag_source(id, PupilDrag(pupil.id), |ui| {
                            ui.add(egui::Label::new("☰").selectable(false))
                        })
                        .response;
                    let drag = format!("Drag {}", pupil.name);
                    handle.widget_info(|| {
                        egui::WidgetInfo::labeled(egui::WidgetType::Label, true, &drag)
                    });
                    let text = egui::RichText::new(&name);
                    let text = if seat.is_some() {
                        text.weak()
                    } else {
                        text.strong()
                    };
                    let button =
                        ui.add_enabled(chosen_title.is_some(), egui::Button::new(text).truncate());
                    if button.clicked() {
                        clicked = Some(pupil.id);
                    }
                    if let Some(seat) = &seat {
                        ui.weak(seat);
                    }
                });
            }
        });
    if let (Some(pupil), Some(index)) = (clicked, lesson.chosen_seat) {
        lesson.seat_clicked = Some((index, pupil));
    }
}

/// What a card did this frame.
struct Card {
    changed: bool,
    /// Its title was clicked: it becomes (or stops being) the chosen input.
    chosen: bool,
}

/// One input's or keyboard's card: its title (click to choose it), the pupils sat there
/// (each removable), and the part played with its tier.
fn seat_card_ui(
    ui: &mut egui::Ui,
    seat: &mut Seat,
    pupils: &[crate::library::PupilSummary],
    parts: &[(String, String, String)],
    chosen: bool,
) -> Card {
    let mut changed = false;
    ui.set_width(CARD_WIDTH);
    let title = seat.title();
    let picked = ui
        .add(egui::Button::selectable(
            chosen,
            egui::RichText::new(&title).strong(),
        ))
        .on_hover_text(format!(
            "choose {title}, then click names in the class list"
        ))
        .clicked();
    let mut remove = None;
    for pupil in &seat.pupils {
        let name = pupils
            .iter()
            .find(|p| p.id == *pupil)
            .map_or_else(|| "?".to_string(), |p| shown_name(p, pupils));
        // "×" first: the name then shortens to what is left of the card, instead of
        // pushing the button past its edge.
        ui.horizontal(|ui| {
            if ui
                .small_button("×")
                .on_hover_text(format!("take {name} off {title}"))
                .clicked()
            {
                remove = Some(*pupil);
            }
            ui.add(egui::Label::new(&name).truncate());
        });
    }
    if let Some(pupil) = remove {
        seat.pupils.retain(|p| *p != pupil);
        changed = true;
    }
    if !parts.is_empty() {
        let shown = seat.part.clone().unwrap_or_else(|| "no part".into());
        egui::ComboBox::from_id_salt(("part", &title))
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for (part, _, _) in parts {
                    let on = seat.part.as_deref() == Some(part.as_str());
                    if ui.selectable_label(on, part).clicked() {
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
    Card {
        changed,
        chosen: picked,
    }
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

/// Whether `seat` is the input "Which mic is this?" heard.
fn is_heard(seat: &Seat, input: &ListenedInput) -> bool {
    if seat.keyboard.is_some() {
        return false;
    }
    match (&input.device, &seat.device) {
        (Some((_, heard)), Some(id)) => heard == id,
        (None, None) => seat.input == input.channel,
        _ => false,
    }
}

/// USB microphones on the room plan: "Which mic is this?" (clap into one and its card
/// lights), adding a microphone from those plugged in (kept by its identity, so it
/// keeps its pupil next lesson whatever order the system lists it in), taking one off.
/// True when the plan changed.
fn microphones_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
    lit: Option<&ListenedInput>,
) -> bool {
    let mut changed = false;
    ui.horizontal_wrapped(|ui| {
        match devices.identifying() {
            Some(listening) => {
                ui.spinner();
                ui.label(format!(
                    "Listening: clap close to one microphone ({} s left)",
                    listening.seconds_left()
                ));
                if ui.button("Stop listening").clicked() {
                    cx.act(Action::IdentifyMics(false));
                }
            }
            None => {
                let recording = devices.busy();
                if ui
                    .add_enabled(!recording, egui::Button::new("Which mic is this?"))
                    .on_hover_text(
                        "listens to every input: clap or speak into one microphone and its card lights",
                    )
                    .on_disabled_hover_text("stop recording first")
                    .clicked()
                {
                    cx.act(Action::IdentifyMics(true));
                }
            }
        }
        if lesson.mics.looking() {
            ui.spinner();
            ui.label("Looking for microphones…");
        } else if ui.button("Add a microphone").clicked() {
            let done = cx.waker();
            lesson.mics.ask(&cx.root, &devices.choice, done);
        }
        let on_plan: Vec<(String, String)> = lesson
            .plan
            .iter()
            .filter_map(|s| Some((s.device.clone()?, s.title())))
            .collect();
        for (id, title) in &on_plan {
            if ui
                .small_button(format!("Take {title} off the plan"))
                .clicked()
            {
                lesson.plan.retain(|s| s.device.as_ref() != Some(id));
                changed = true;
            }
        }
        // A microphone heard that is not on the plan yet can be put there at once.
        if let Some(ListenedInput {
            device: Some((name, id)),
            ..
        }) = lit
            && !on_plan.iter().any(|(i, _)| i == id)
            && ui.button(format!("Heard {name}: put it on the plan")).clicked()
        {
            lesson.plan.push(Seat::on_device(id, name, 1));
            changed = true;
        }
        match lesson.mics.found() {
            Some(Ok(found)) => {
                let free: Vec<_> = found
                    .iter()
                    .filter(|d| !on_plan.iter().any(|(id, _)| *id == d.id))
                    .cloned()
                    .collect();
                if free.is_empty() {
                    ui.label("No other microphone is plugged in.");
                }
                for device in free {
                    if ui.button(format!("Put {} on the plan", device.name)).clicked() {
                        lesson.plan.push(Seat::on_device(&device.id, &device.name, 1));
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

/// What is dragged from the class list: a pupil's id.
struct PupilDrag(i64);

/// Who sits where on the room plan, as the session files a take's players: part,
/// tier and instrument go with each track.
/// `opened` is each further device the take opened, as (name, identity): the take names
/// a microphone's tracks by the name it had then, the plan keeps its identity.
pub(super) fn players_from_plan(
    plan: &[Seat],
    opened: &[(String, String)],
) -> Vec<crate::session::Players> {
    plan.iter()
        .filter(|s| !s.pupils.is_empty())
        .filter_map(|s| {
            let seat = match (&s.keyboard, &s.device) {
                (Some(port), _) => crate::session::Seat::Keyboard(port.clone()),
                (None, Some(id)) => crate::session::Seat::DeviceInput {
                    // A microphone left out of the take (unplugged) has no tracks to name.
                    device: opened.iter().find(|(_, i)| i == id)?.0.clone(),
                    input: s.input,
                },
                (None, None) => crate::session::Seat::Input(s.input),
            };
            Some(crate::session::Players {
                seat,
                pupils: s.pupils.clone(),
                part: s.part.clone(),
            })
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
            // Input 1 of a USB microphone is not the interface's input 1: a track on a
            // further device is the seat on that device (by the name the take recorded).
            (None, Some(input), None) => {
                s.input as i64 == input && track.input_device == s.device_name
            }
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
