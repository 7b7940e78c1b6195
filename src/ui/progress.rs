//! Progress: the class grid (pupils × criteria, latest level, gaps visible), filtered by
//! term, part and tier, and for the pupil in hand a radar diagram with one coloured
//! outline per term, and the history behind each point with links to its evidence take.
//!
//! Must not compute levels: they come from the library; this only groups them by term.

use super::context::{Action, AppContext};
use super::radar::{Outline, radar_ui};
use super::widgets::labelled_combo;
use crate::library::terms::Term;
use crate::library::{AssessmentRecord, GridFilter, StrandProgress};
use eframe::egui;

/// The most terms drawn on one radar: more outlines than pens stop being readable.
const TERMS_ON_RADAR: usize = 6;

#[derive(Default)]
pub struct ProgressState {
    /// The class these choices were made in: another class starts afresh, so a pupil
    /// of 8B is never shown over 9C's grid.
    class: Option<i64>,
    pupil: Option<i64>,
    term: Option<Term>,
    part: Option<String>,
    tier: Option<String>,
    /// Why a judgement is being withdrawn, as typed.
    withdraw_reason: String,
    /// The monitoring groups against the rest, instead of the pupils.
    groups: bool,
}

impl ProgressState {
    fn filter(&self) -> GridFilter {
        GridFilter {
            from: self.term.as_ref().map(Term::from),
            to: self.term.as_ref().map(Term::to),
            part: self.part.clone(),
            tier: self.tier.clone(),
        }
    }

    /// Whether a judgement is let through the part and tier filters.
    fn lets_through(&self, a: &AssessmentRecord) -> bool {
        (self.part.is_none() || a.part == self.part) && (self.tier.is_none() || a.tier == self.tier)
    }
}

/// A labelled choice of "all" or one of `values`.
fn choice<T: Clone + PartialEq>(
    ui: &mut egui::Ui,
    label: &str,
    chosen: &mut Option<T>,
    values: &[(T, String)],
) {
    let shown = chosen
        .as_ref()
        .and_then(|c| values.iter().find(|(v, _)| v == c))
        .map_or("all".to_string(), |(_, name)| name.clone());
    labelled_combo(ui, label, shown, |ui| {
        if ui.selectable_label(chosen.is_none(), "all").clicked() {
            *chosen = None;
        }
        for (value, name) in values {
            let on = chosen.as_ref() == Some(value);
            if ui.selectable_label(on, name).clicked() {
                *chosen = Some(value.clone());
            }
        }
    });
}

fn filters_ui(state: &mut ProgressState, cx: &mut AppContext, ui: &mut egui::Ui, class: i64) {
    let contexts = cx.read(format!("judged contexts/{class}"), |lib| {
        lib.judged_contexts(class)
    });
    let Some(contexts) = cx.report(contexts) else {
        return;
    };
    let mut terms: Vec<Term> = contexts.days.iter().filter_map(|d| Term::of(d)).collect();
    terms.dedup();
    let terms: Vec<(Term, String)> = terms.into_iter().map(|t| (t.clone(), t.name())).collect();
    let named = |values: &[String]| -> Vec<(String, String)> {
        values.iter().map(|v| (v.clone(), v.clone())).collect()
    };
    ui.horizontal_wrapped(|ui| {
        choice(ui, "Term", &mut state.term, &terms);
        choice(ui, "Part", &mut state.part, &named(&contexts.parts));
        choice(ui, "Tier", &mut state.tier, &named(&contexts.tiers));
    });
}

pub fn progress_ui(state: &mut ProgressState, cx: &mut AppContext, ui: &mut egui::Ui) {
    let Some(class) = cx.class else {
        ui.label("Pick a class on the Start screen to see its progress.");
        return;
    };
    if state.class != Some(class) {
        *state = ProgressState {
            class: Some(class),
            ..ProgressState::default()
        };
    }
    filters_ui(state, cx, ui, class);
    let filter = state.filter();
    let grid = cx.read(format!("class grid/{class}/{filter:?}"), |lib| {
        lib.class_grid_where(class, &filter)
    });
    let Some(grid) = cx.report(grid) else {
        return;
    };
    ui.horizontal(|ui| {
        ui.selectable_value(&mut state.groups, false, "Pupils");
        ui.selectable_value(&mut state.groups, true, "Groups (PP, SEN, EAL)")
            .on_hover_text("each monitoring group against the rest of the class");
    });
    if state.groups {
        ui.heading("Groups: mean latest level, the group against the rest");
        let pupils = cx.read_or_default(format!("pupils/{class}"), |lib| lib.pupils(Some(class)));
        let groups_of: Vec<(i64, Vec<String>)> =
            pupils.into_iter().map(|p| (p.id, p.groups)).collect();
        egui::ScrollArea::both()
            .id_salt("groups")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                super::groups_view::groups_ui(ui, &grid, &groups_of)
            });
        return;
    }
    let heading = match &state.term {
        Some(term) => format!("Class grid: latest level per criterion in {}", term.name()),
        None => "Class grid: latest level per criterion".to_string(),
    };
    ui.heading(heading);
    // The pupil in hand sits beside the grid (a class of 30 is taller than the screen),
    // each in its own scroll area; on a narrow window, above it.
    let chosen = state.pupil.is_some();
    let wide = ui.available_width() >= 900.0;
    if chosen && wide {
        let height = ui.available_height();
        ui.horizontal_top(|ui| {
            let grid_width = (ui.available_width() * 0.56).max(420.0);
            let down = egui::Layout::top_down(egui::Align::Min);
            ui.allocate_ui_with_layout(egui::vec2(grid_width, height), down, |ui| {
                egui::ScrollArea::both()
                    .id_salt("class grid")
                    .auto_shrink([false, false])
                    .show(ui, |ui| grid_ui(state, ui, &grid));
            });
            ui.separator();
            ui.allocate_ui_with_layout(egui::vec2(ui.available_width(), height), down, |ui| {
                egui::ScrollArea::both()
                    .id_salt("pupil in hand")
                    .auto_shrink([false, false])
                    .show(ui, |ui| pupil_ui(state, cx, ui, &grid));
            });
        });
    } else {
        egui::ScrollArea::both()
            .id_salt("class grid")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if chosen {
                    pupil_ui(state, cx, ui, &grid);
                    ui.separator();
                }
                grid_ui(state, ui, &grid);
            });
    }
}

/// The class grid: a row per pupil (a button choosing them), a level per criterion,
/// each cell shaded by its level with a mark for how it has moved since the first.
fn grid_ui(state: &mut ProgressState, ui: &mut egui::Ui, grid: &crate::library::ClassGrid) {
    grid_legend_ui(ui);
    egui::Grid::new("class grid").striped(true).show(ui, |ui| {
        ui.strong("Pupil");
        for (_, title, _) in &grid.criteria {
            ui.strong(title);
        }
        ui.end_row();
        for row in &grid.rows {
            if ui
                .add(egui::Button::selectable(
                    state.pupil == Some(row.pupil_id),
                    &row.name,
                ))
                .clicked()
            {
                state.pupil = Some(row.pupil_id);
            }
            for (col, (_, title, levels)) in grid.criteria.iter().enumerate() {
                let level = row.levels.get(col).copied().flatten();
                level_cell(ui, &row.name, title, level, *levels, row.trend(col));
            }
            ui.end_row();
        }
    });
}

/// What the shades and marks mean, above the grid.
fn grid_legend_ui(ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Darker: a higher level.");
        ui.label("⬆ up, = the same, ⬇ down since the first judgement in the term shown;");
        ui.label("— not judged yet.");
    });
}

/// One cell: "3 ⬆" on a shade of the level, its full meaning for assistive technology.
fn level_cell(
    ui: &mut egui::Ui,
    pupil: &str,
    criterion: &str,
    level: Option<i64>,
    levels: usize,
    trend: Option<crate::library::Trend>,
) {
    use crate::library::Trend;
    let Some(level) = level else {
        let cell = ui.label("—");
        cell.widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::WidgetType::Label,
                true,
                format!("{pupil}, {criterion}: not judged yet"),
            )
        });
        return;
    };
    let (mark, moved) = match trend {
        Some(Trend::Up) => (" ⬆", ", up since the first judgement"),
        Some(Trend::Same) => (" =", ", the same as the first judgement"),
        Some(Trend::Down) => (" ⬇", ", down since the first judgement"),
        None => ("", ""),
    };
    let (fill, ink) = level_shade(level, levels);
    let text = egui::RichText::new(format!("{level}{mark}"))
        .color(ink)
        .strong();
    let cell = egui::Frame::new()
        .fill(fill)
        .corner_radius(3.0)
        .inner_margin(egui::Margin::symmetric(8, 2))
        .show(ui, |ui| {
            ui.set_min_width(44.0);
            ui.label(text)
        })
        .response;
    cell.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::WidgetType::Label,
            true,
            format!("{pupil}, {criterion}: level {level} of {levels}{moved}"),
        )
    });
}

/// A shade of one blue for a level (light: the lowest, dark: the highest), read by
/// lightness alone so it holds for every kind of colour vision, and the ink that reads on
/// it.
fn level_shade(level: i64, levels: usize) -> (egui::Color32, egui::Color32) {
    let share = if levels > 1 {
        ((level - 1) as f32 / (levels - 1) as f32).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let mix = |light: u8, dark: u8| {
        (f32::from(light) + (f32::from(dark) - f32::from(light)) * share) as u8
    };
    let fill = egui::Color32::from_rgb(mix(222, 8), mix(235, 48), mix(247, 107));
    let ink = if share > 0.45 {
        egui::Color32::WHITE
    } else {
        egui::Color32::from_rgb(10, 20, 40)
    };
    (fill, ink)
}

/// The pupil in hand: their radar, one outline per term, and their history.
fn pupil_ui(
    state: &mut ProgressState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    grid: &crate::library::ClassGrid,
) {
    let Some(pupil) = state.pupil else {
        return;
    };
    let progress = cx.read(format!("progress/{pupil}"), |lib| lib.progress(pupil));
    let Some(progress) = cx.report(progress) else {
        return;
    };
    ui.heading(&progress.name);
    let strands: Vec<StrandProgress> = progress
        .strands
        .into_iter()
        .filter(|s| grid.criteria.iter().any(|c| c.0 == s.criterion))
        .map(|mut s| {
            s.history.retain(|a| state.lets_through(a));
            s
        })
        .collect();
    let axes: Vec<(String, usize)> = strands
        .iter()
        .map(|s| (s.title.clone(), s.levels))
        .collect();
    let outlines = term_outlines(&strands, state.term.as_ref());
    if outlines.is_empty() {
        ui.label("No judgements yet for these filters.");
    } else {
        let size = (ui.available_width() / 1.6).clamp(200.0, 320.0);
        radar_ui(ui, &axes, &outlines, size);
    }
    history_ui(state, cx, ui, &strands);
    reflections_ui(state, cx, ui, pupil);
}

/// What the pupil wrote about their takes (in the term shown, if one is chosen).
fn reflections_ui(state: &ProgressState, cx: &mut AppContext, ui: &mut egui::Ui, pupil: i64) {
    let written = cx.read_or_default(format!("reflections/{pupil}"), |lib| lib.reflections(pupil));
    let shown: Vec<&(i64, String, String)> = written
        .iter()
        .filter(|(_, at, _)| {
            state
                .term
                .as_ref()
                .is_none_or(|term| Term::of(at).as_ref() == Some(term))
        })
        .collect();
    ui.add_space(6.0);
    ui.label(egui::RichText::new("Their reflections").strong());
    if shown.is_empty() {
        ui.label("None written yet.");
        return;
    }
    let mut open = None;
    for (take, at, text) in shown.into_iter().rev() {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("{}  “{text}”", at.get(..10).unwrap_or(at)));
            if ui.link(format!("take {take}")).clicked() {
                open = Some(*take);
            }
        });
    }
    if let Some(take) = open {
        cx.act(Action::OpenTake(take));
    }
}

/// One outline per term up to `until`: each criterion at its latest level by the end of
/// that term, carried forward from earlier terms, as a teacher's coloured pen would.
pub(super) fn term_outlines(strands: &[StrandProgress], until: Option<&Term>) -> Vec<Outline> {
    let mut terms: Vec<Term> = strands
        .iter()
        .flat_map(|s| s.history.iter().filter_map(|a| Term::of(&a.assessed_at)))
        .filter(|t| until.is_none_or(|u| t <= u))
        .collect();
    terms.sort();
    terms.dedup();
    let skip = terms.len().saturating_sub(TERMS_ON_RADAR);
    terms
        .into_iter()
        .skip(skip)
        .map(|term| Outline {
            levels: strands
                .iter()
                .map(|s| {
                    s.history
                        .iter()
                        .rfind(|a| Term::of(&a.assessed_at).is_some_and(|t| t <= term))
                        .map(|a| a.level)
                })
                .collect(),
            caption: term.name(),
        })
        .collect()
}

fn history_ui(
    state: &mut ProgressState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    strands: &[StrandProgress],
) {
    let mut withdraw = None;
    let mut open = None;
    for strand in strands {
        if strand.history.is_empty() {
            continue;
        }
        ui.label(egui::RichText::new(&strand.title).strong());
        for a in &strand.history {
            ui.horizontal(|ui| {
                ui.label(format!(
                    "{}  level {} ({}){}",
                    a.assessed_at.get(..10).unwrap_or(&a.assessed_at),
                    a.level,
                    a.label,
                    if a.comment.is_empty() {
                        String::new()
                    } else {
                        format!(" · “{}”", a.comment)
                    }
                ));
                if let Some(take) = a.take
                    && ui.link(format!("take {take}")).clicked()
                {
                    open = Some(take);
                }
                // A judgement made in error is withdrawn with a reason, never deleted.
                ui.menu_button("Withdraw…", |ui| {
                    let field = ui.add(
                        egui::TextEdit::singleline(&mut state.withdraw_reason)
                            .hint_text("why, e.g. wrong pupil"),
                    );
                    field.widget_info(|| {
                        egui::WidgetInfo::labeled(
                            egui::WidgetType::TextEdit,
                            true,
                            "Reason for withdrawing",
                        )
                    });
                    if ui.button("Withdraw this judgement").clicked() {
                        withdraw = Some(a.id);
                        ui.close();
                    }
                });
            });
        }
    }
    // The evidence opens on the lesson screen, where it can be heard.
    if let Some(take) = open {
        cx.act(Action::OpenTake(take));
    }
    if let Some(id) = withdraw {
        let reason = std::mem::take(&mut state.withdraw_reason);
        let done = cx.lib.withdraw_assessment(id, &reason);
        cx.report(done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(at: &str, level: i64) -> AssessmentRecord {
        AssessmentRecord {
            id: 0,
            assessed_at: at.into(),
            framework: "f".into(),
            criterion: "c".into(),
            level,
            label: String::new(),
            take: None,
            class: None,
            part: None,
            tier: None,
            comment: String::new(),
            assessor: String::new(),
        }
    }

    fn strand(history: Vec<AssessmentRecord>) -> StrandProgress {
        StrandProgress {
            framework: "f".into(),
            criterion: "c".into(),
            title: "c".into(),
            levels: 5,
            latest: history.last().cloned(),
            history,
        }
    }

    #[test]
    fn each_term_gets_an_outline_with_levels_carried_forward() {
        let pulse = strand(vec![
            judged("2026-09-10T09:00:00Z", 2),
            judged("2026-11-10T09:00:00Z", 3),
            judged("2027-05-10T09:00:00Z", 4),
        ]);
        let ensemble = strand(vec![judged("2027-02-01T09:00:00Z", 2)]);
        let outlines = term_outlines(&[pulse.clone(), ensemble.clone()], None);
        let seen: Vec<(String, Vec<Option<i64>>)> = outlines
            .into_iter()
            .map(|o| (o.caption, o.levels))
            .collect();
        assert_eq!(
            seen,
            [
                ("Autumn 2026".to_string(), vec![Some(3), None]),
                ("Spring 2027".to_string(), vec![Some(3), Some(2)]),
                ("Summer 2027".to_string(), vec![Some(4), Some(2)]),
            ]
        );
        let spring = Term::of("2027-01-01");
        let until = term_outlines(&[pulse, ensemble], spring.as_ref());
        assert_eq!(until.len(), 2, "a chosen term draws no later outline");
    }
}
