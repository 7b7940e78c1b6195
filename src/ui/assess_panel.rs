//! One-tap assessment: right after a take, its performers against the class's
//! criteria. One click, or one key (1–5) for the highlighted pupil and criterion,
//! records a judgement; the context (class, part, tier, instrument, groups, date) is
//! attached by the library. Nothing is required and nothing nags.
//!
//! Where timing analysis has measured a track, the level the framework's rule gives is
//! shown beside the criterion as a suggestion; **Enter** accepts it for the highlighted
//! row. A suggestion is never recorded without the teacher.
//!
//! Must not decide levels: suggestions come from the library and are only shown.

use super::context::AppContext;
use super::lesson::LessonState;
use super::widgets::level_buttons;
use crate::library::{NewAssessment, TakeSummary};
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

pub fn assess_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    take: &TakeSummary,
) {
    let mut performers: Vec<(i64, String)> = take
        .tracks
        .iter()
        .flat_map(|t| t.performers.iter().map(|p| (p.pupil_id, p.name.clone())))
        .collect();
    performers.sort();
    performers.dedup();
    if performers.is_empty() {
        return;
    }
    let Some(class) = cx.class else {
        ui.label("Pick the class on the Start screen to judge this take.");
        return;
    };
    let grid = cx.read(format!("class grid/{class}"), |lib| lib.class_grid(class));
    let Some(grid) = cx.report(grid) else {
        return;
    };
    ui.heading("Judge this take");
    ui.label("Click a level, or press 1–5 for the highlighted row; the down arrow skips a row.");
    let typing = ui.ctx().wants_keyboard_input();
    let pressed = if typing {
        None
    } else {
        ui.input(|i| NUMBER_KEYS.iter().position(|k| i.key_pressed(*k)))
    };
    let mut cursor = lesson.cursor;
    cursor.performer = cursor.performer.min(performers.len() - 1);
    cursor.criterion = cursor.criterion.min(grid.criteria.len().saturating_sub(1));
    let id = take.id;
    let suggestions = cx
        .read(format!("suggested levels/{id}"), |lib| {
            lib.suggest_levels(id)
        })
        .unwrap_or_default();
    let accept = !typing && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let mut record: Option<(i64, String, i64)> = None;
    for (p_index, (pupil, name)) in performers.iter().enumerate() {
        ui.strong(name);
        let pupil_id = *pupil;
        let latest = cx
            .read(format!("assessments/{pupil_id}"), |lib| {
                lib.assessments(pupil_id)
            })
            .unwrap_or_default();
        egui::Grid::new(("assess", pupil)).show(ui, |ui| {
            for (c_index, (key, title, levels)) in grid.criteria.iter().enumerate() {
                let here = cursor
                    == Cursor {
                        performer: p_index,
                        criterion: c_index,
                    };
                let label = if here {
                    egui::RichText::new(format!("▶ {title}")).strong()
                } else {
                    egui::RichText::new(title)
                };
                ui.label(label);
                let current = latest
                    .iter()
                    .rev()
                    .find(|a| a.take == Some(take.id) && &a.criterion == key)
                    .map(|a| a.level);
                if let Some(level) = level_buttons(ui, &format!("{name} {title}"), *levels, current)
                {
                    record = Some((*pupil, key.clone(), level));
                    cursor = Cursor {
                        performer: p_index,
                        criterion: c_index,
                    };
                }
                if here
                    && let Some(k) = pressed
                    && k < *levels
                {
                    record = Some((*pupil, key.clone(), k as i64 + 1));
                }
                let suggested = suggestions
                    .iter()
                    .find(|s| s.pupil_id == *pupil && s.criterion.eq_ignore_ascii_case(key));
                match suggested {
                    Some(s) => {
                        ui.label(format!(
                            "suggested {} ({} {:.0} ms, {:.0} % of notes){}",
                            s.level,
                            s.measure,
                            s.value_ms,
                            s.hit_rate * 100.0,
                            if here { " — Enter accepts" } else { "" }
                        ));
                        if here && accept {
                            record = Some((*pupil, key.clone(), s.level));
                        }
                    }
                    None => {
                        ui.label("");
                    }
                }
                ui.end_row();
            }
        });
    }
    if ui.input(|i| !typing && i.key_pressed(egui::Key::ArrowDown)) || record.is_some() {
        cursor.criterion += 1;
        if cursor.criterion >= grid.criteria.len() {
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
