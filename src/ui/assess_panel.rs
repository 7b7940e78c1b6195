//! One-tap assessment: right after a take, its performers against the class's
//! criteria. One click, or one key (1–5) for the highlighted pupil and criterion,
//! records a judgement; the context (class, part, tier, instrument, groups, date) is
//! attached by the library. Nothing is required and nothing nags.
//!
//! Where timing analysis has measured a track, the level the framework's rule gives is
//! shown beside the criterion as a suggestion; **Enter** accepts it for the highlighted
//! row. A suggestion is never recorded without the teacher.
//!
//! The teacher chooses today's focus (one to three criteria, remembered per class) and
//! judges only those; performers come in seat order, so the cursor walks the room as
//! the teacher sees it. Each level button carries the level's name, its descriptor on
//! hover.
//!
//! Must not decide levels: suggestions come from the library and are only shown.

use super::context::AppContext;
use super::lesson::LessonState;
use super::widgets::level_buttons;
use crate::library::{CriterionLevels, MAX_FOCUS, NewAssessment, TakeSummary};
use eframe::egui;

/// The pupil and criterion the number keys judge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub performer: usize,
    pub criterion: usize,
}

const NUMBER_KEYS: [egui::Key; 9] = [
    egui::Key::Num1,
    egui::Key::Num2,
    egui::Key::Num3,
    egui::Key::Num4,
    egui::Key::Num5,
    egui::Key::Num6,
    egui::Key::Num7,
    egui::Key::Num8,
    egui::Key::Num9,
];

/// The take's performers in seat order: the order of the tracks (inputs), each pupil
/// once, where they first play.
fn performers_in_seat_order(take: &TakeSummary) -> Vec<(i64, String)> {
    let mut performers: Vec<(i64, String)> = Vec::new();
    for p in take.tracks.iter().flat_map(|t| t.performers.iter()) {
        if !performers.iter().any(|(id, _)| *id == p.pupil_id) {
            performers.push((p.pupil_id, p.name.clone()));
        }
    }
    performers
}

pub fn assess_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    take: &TakeSummary,
) {
    let performers = performers_in_seat_order(take);
    if performers.is_empty() {
        return;
    }
    let Some(class) = cx.class else {
        ui.label("Pick the class on the Start screen to judge this take.");
        return;
    };
    let criteria = cx.read(format!("criterion levels/{class}"), |lib| {
        lib.criterion_levels(class)
    });
    let Some(criteria) = cx.report(criteria) else {
        return;
    };
    ui.heading("Judge this take");
    let focus = focus_ui(cx, ui, class, &criteria);
    let judged: Vec<&CriterionLevels> = criteria
        .iter()
        .filter(|c| focus.is_empty() || focus.contains(&c.key))
        .collect();
    if judged.is_empty() {
        return;
    }
    ui.label(
        "Click a level, or press its number for the row marked ▶; the down arrow skips a row.",
    );
    let typing = ui.ctx().wants_keyboard_input();
    let pressed = if typing {
        None
    } else {
        ui.input(|i| NUMBER_KEYS.iter().position(|k| i.key_pressed(*k)))
    };
    let mut cursor = lesson.cursor;
    cursor.performer = cursor.performer.min(performers.len() - 1);
    cursor.criterion = cursor.criterion.min(judged.len() - 1);
    let id = take.id;
    let suggestions = cx
        .read(format!("suggested levels/{id}"), |lib| {
            lib.suggest_levels(id)
        })
        .unwrap_or_default();
    let accept = !typing && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let mut record: Option<(i64, String, i64)> = None;
    for (p_index, (pupil, name)) in performers.iter().enumerate() {
        ui.add_space(super::theme::SPACE);
        ui.strong(name);
        let pupil_id = *pupil;
        let latest = cx
            .read(format!("assessments/{pupil_id}"), |lib| {
                lib.assessments(pupil_id)
            })
            .unwrap_or_default();
        for (c_index, criterion) in judged.iter().enumerate() {
            let here = cursor
                == Cursor {
                    performer: p_index,
                    criterion: c_index,
                };
            let title = &criterion.title;
            ui.label(if here {
                egui::RichText::new(format!("▶ {title}")).strong()
            } else {
                egui::RichText::new(format!("   {title}"))
            });
            let current = latest
                .iter()
                .rev()
                .find(|a| a.take == Some(take.id) && a.criterion == criterion.key)
                .map(|a| a.level);
            if let Some(level) =
                level_buttons(ui, &format!("{name} {title}"), &criterion.levels, current)
            {
                record = Some((*pupil, criterion.key.clone(), level));
                cursor = Cursor {
                    performer: p_index,
                    criterion: c_index,
                };
            }
            if here
                && let Some(k) = pressed
                && k < criterion.levels.len()
            {
                record = Some((*pupil, criterion.key.clone(), k as i64 + 1));
            }
            let suggested = suggestions
                .iter()
                .find(|s| s.pupil_id == *pupil && s.criterion.eq_ignore_ascii_case(&criterion.key));
            if let Some(s) = suggested {
                // Wrapped, so the suggestion is never cut off at the panel's edge.
                ui.add(
                    egui::Label::new(format!(
                        "suggested {} ({} {:.0} ms, {:.0} % of notes){}",
                        s.level,
                        s.measure,
                        s.value_ms,
                        s.hit_rate * 100.0,
                        if here { " — Enter accepts" } else { "" }
                    ))
                    .wrap(),
                );
                if here && accept {
                    record = Some((*pupil, criterion.key.clone(), s.level));
                }
            }
        }
    }
    if ui.input(|i| !typing && i.key_pressed(egui::Key::ArrowDown)) || record.is_some() {
        cursor.criterion += 1;
        if cursor.criterion >= judged.len() {
            cursor.criterion = 0;
            cursor.performer = (cursor.performer + 1) % performers.len();
        }
    }
    lesson.cursor = cursor;
    undo_ui(cx, ui, take, &performers, typing);
    if let Some((pupil, criterion, level)) = record {
        let saved = cx.lib.assess(&NewAssessment {
            pupil,
            take: Some(take.id),
            criterion,
            level: level.to_string(),
            comment: String::new(),
            assessor: crate::library::current_actor(),
        });
        cx.report(saved);
    }
}

/// "Today's focus": one to three of the class's criteria, chosen with a click each and
/// remembered for the class; none chosen judges every criterion. Returns the chosen keys.
fn focus_ui(
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    class: i64,
    criteria: &[CriterionLevels],
) -> Vec<String> {
    let focus = cx.read_or_default(format!("focus/{class}"), |lib| lib.focus_criteria(class));
    let mut toggled = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("Today's focus (up to {MAX_FOCUS}):"));
        for c in criteria {
            let on = focus.contains(&c.key);
            let full = !on && focus.len() >= MAX_FOCUS;
            let button = egui::Button::new(&c.title)
                .selected(on)
                .min_size(egui::vec2(0.0, super::theme::TOUCH_HEIGHT));
            let response = ui
                .add_enabled(!full, button)
                .on_disabled_hover_text(format!("{MAX_FOCUS} are chosen: take one off first"));
            response.widget_info(|| {
                egui::WidgetInfo::selected(
                    egui::WidgetType::Checkbox,
                    !full,
                    on,
                    format!("Focus on {}", c.title),
                )
            });
            if response.clicked() {
                toggled = Some(c.key.clone());
            }
        }
    });
    let Some(key) = toggled else {
        return focus;
    };
    let mut next = focus.clone();
    if let Some(at) = next.iter().position(|k| *k == key) {
        next.remove(at);
    } else {
        next.push(key);
    }
    let saved = cx.lib.set_focus_criteria(class, &next);
    if cx.report(saved).is_some() {
        next
    } else {
        focus
    }
}

/// "Undo the last judgement" (Ctrl+Z) once this take has one: a wrong click is taken
/// back at once; the judgement is withdrawn, not lost.
fn undo_ui(
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    take: &TakeSummary,
    performers: &[(i64, String)],
    typing: bool,
) {
    let judged_here = performers.iter().any(|(pupil, _)| {
        let id = *pupil;
        cx.read(format!("assessments/{id}"), |lib| lib.assessments(id))
            .is_ok_and(|all| all.iter().any(|a| a.take == Some(take.id)))
    });
    let undo_key = !typing && ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::Z));
    if judged_here
        && (ui
            .button("Undo the last judgement (Ctrl+Z)")
            .on_hover_text("withdraws it: it no longer counts anywhere")
            .clicked()
            || undo_key)
    {
        let undone = cx.lib.undo_last_assessment(take.id);
        cx.report(undone);
    }
}
