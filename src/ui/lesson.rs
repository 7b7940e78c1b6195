//! The teacher's lesson screen: the transport (see `transport`), the room plan (see
//! `room_plan`), the takes newest first with a star for the
//! best, and the one-tap assessment panel for the take in hand. **M** drops a marker on
//! it.
//!
//! Must not process audio or own a device: what plays and records is `devices`', asked
//! through actions; this screen keeps only its own state.

use super::assess_panel;
use super::context::{Action, AppContext};
use super::devices::Devices;
use super::room_plan::{attribute_from_plan, class_list_ui, load_plan, room_plan_ui};
use super::voice_note::Listener;
use super::widgets::{take_caption, waveform};
use crate::library::{Seat, TakeFilter, TakeSummary};
use crate::music::Arrangement;
use crate::time_text::clock;
use eframe::egui;
use std::path::Path;

pub struct LessonState {
    /// The room plan as loaded for `plan_class`.
    pub(super) plan: Vec<Seat>,
    pub(super) plan_class: Option<i64>,
    pub(super) selected_take: Option<i64>,
    marker_text: String,
    /// The next marker may be read by the take's players in pupil review.
    marker_for_players: bool,
    /// The parts (name, tier, instrument) of the arrangement named here, for the room
    /// plan's part choice and the context kept with each judgement.
    pub(super) parts: (Option<String>, Vec<(String, String, String)>),
    pub(super) cursor: assess_panel::Cursor,
    /// Markers dropped while recording (frame, text): stored once the take is filed.
    pub(super) pending_marks: Vec<(u64, String)>,
    /// Passes recorded "again" since the teacher last pressed Record.
    pub(super) passes: u32,
    /// The library's check, run when a take's recordings are missing.
    check: Option<crate::jobs::Background<Result<Vec<String>, String>>>,
    checked: Option<Result<Vec<String>, String>>,
    /// The MIDI ports, looked up when the teacher adds a keyboard or sends a part out.
    pub(super) ports: super::midi_ports::PortFinder,
    /// The microphones that can be put on the room plan, looked up when asked.
    pub(super) mics: super::identify_mics::MicFinder,
    /// The arrangement in hand, read once when it is chosen rather than every frame.
    arrangement: Option<(String, Option<Arrangement>)>,
    /// Practice tempo for the arrangement; `None` plays it at its own tempo.
    pub tempo_bpm: Option<f64>,
    /// Times through each section (`None`: as the arrangement says).
    pub repeats: Option<u32>,
    /// Bars of metronome before a take.
    pub count_in_bars: u32,
    /// The one section rehearsed (`None`: the whole piece).
    pub section: Option<String>,
    /// "Again": when a take ends by itself, the next starts, each pass its own take.
    pub again: bool,
    /// Parts played on MIDI instruments rather than by bandroom: part → output port.
    pub part_ports: std::collections::BTreeMap<String, String>,
    /// The card on the room plan that clicked names are seated at.
    pub(super) chosen_seat: Option<usize>,
    /// A name clicked in the class list this frame: (seat, pupil).
    pub(super) seat_clicked: Option<(usize, i64)>,
    /// What the class list is filtered by.
    pub(super) search: String,
    /// A take just filed, to scroll into view once.
    reveal_take: Option<i64>,
    /// Why the next take is kept: the last choice stays for the lesson.
    pub purpose: crate::library::Purpose,
}

impl Default for LessonState {
    fn default() -> Self {
        LessonState {
            plan: Vec::new(),
            plan_class: None,
            selected_take: None,
            marker_text: String::new(),
            marker_for_players: false,
            parts: (None, Vec::new()),
            cursor: Default::default(),
            pending_marks: Vec::new(),
            passes: 0,
            check: None,
            checked: None,
            ports: Default::default(),
            mics: Default::default(),
            arrangement: None,
            tempo_bpm: None,
            repeats: None,
            count_in_bars: 1,
            section: None,
            again: false,
            part_ports: Default::default(),
            chosen_seat: None,
            seat_clicked: None,
            search: String::new(),
            reveal_take: None,
            purpose: crate::library::Purpose::Rehearsal,
        }
    }
}

impl LessonState {
    /// Draws the lesson screen from the context and the devices' state; Record, Stop
    /// and the rest become actions.
    pub fn ui(&mut self, cx: &mut AppContext, devices: &Devices, ui: &mut egui::Ui) {
        lesson_ui(self, cx, devices, ui);
    }

    /// The names of the parts of the arrangement last looked up, in lane order.
    pub(super) fn arrangement_parts(&self) -> Vec<String> {
        self.arrangement
            .as_ref()
            .and_then(|(_, a)| a.as_ref())
            .map(|a| a.parts.iter().map(|p| p.name.clone()).collect())
            .unwrap_or_default()
    }

    /// The arrangement called `name` (the school's own folder first), or `None`.
    pub(super) fn arrangement(&mut self, root: &Path, name: Option<&str>) -> Option<Arrangement> {
        let name = name?;
        if self.arrangement.as_ref().is_none_or(|(n, _)| n != name) {
            let found =
                crate::music::resolve_in(name, Some(&crate::library::arrangements_folder(root)))
                    .ok();
            self.arrangement = Some((name.to_string(), found));
        }
        self.arrangement.as_ref().and_then(|(_, a)| a.clone())
    }
}

/// When recordings of a take are missing: say so and offer the library's check (run
/// off the UI thread), whose findings are listed with what to do.
fn missing_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    take: &TakeSummary,
    folder: &Path,
) {
    let missing = take
        .tracks
        .iter()
        .filter(|t| !folder.join(&t.file).is_file())
        .count();
    if missing == 0 {
        return;
    }
    ui.colored_label(
        ui.visuals().warn_fg_color,
        format!(
            "{missing} recording{} of this take {} missing from {}.",
            if missing == 1 { "" } else { "s" },
            if missing == 1 { "is" } else { "are" },
            folder.display()
        ),
    );
    if let Some(job) = &mut lesson.check
        && let Some(result) = job.poll()
    {
        lesson.check = None;
        lesson.checked = Some(result.and_then(|r| r));
    }
    if lesson.check.is_some() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Checking the library…");
        });
    } else if ui.button("Check the library").clicked() {
        let root = cx.root.clone();
        let done = cx.waker();
        lesson.checked = None;
        lesson.check = Some(crate::jobs::Background::start(
            "checking the library",
            move || {
                let lib = crate::library::Library::reopen(&root).map_err(|e| e.to_string())?;
                let report = lib.check().map_err(|e| e.to_string())?;
                Ok(report.findings.iter().map(ToString::to_string).collect())
            },
            done,
        ));
    }
    match &lesson.checked {
        Some(Ok(findings)) => {
            for finding in findings {
                ui.label(finding);
            }
            ui.label(
                "Restore missing recordings from a backup (Settings › Library); \
                 `bandroom check --repair` mends what can be mended.",
            );
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        None => {}
    }
}

fn takes_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    class: Option<i64>,
) -> Option<TakeSummary> {
    let mut takes = cx.read_or_default(format!("takes of class {class:?}"), |lib| {
        lib.takes(&TakeFilter {
            class,
            ..TakeFilter::default()
        })
    });
    takes.sort_by(|a, b| b.recorded_at.cmp(&a.recorded_at).then(b.id.cmp(&a.id)));
    ui.heading("Takes");
    if takes.is_empty() {
        ui.label("No takes yet: seat the class, then press Record (R) above.");
    }
    if lesson.selected_take.is_none() {
        lesson.selected_take = takes.first().map(|t| t.id);
    }
    let mut star = None;
    // The list scrolls by itself, so the judging panel below it stays in reach.
    egui::ScrollArea::vertical()
        .id_salt("takes")
        .max_height(200.0)
        .show(ui, |ui| {
            for take in takes.iter().take(30) {
                let chosen = lesson.selected_take == Some(take.id);
                ui.horizontal(|ui| {
                    let mut starred = take.starred;
                    let glyph = if starred { "★" } else { "☆" };
                    let response = ui.toggle_value(&mut starred, glyph);
                    let label = format!("Star take {}", take.id);
                    response.widget_info(|| {
                        egui::WidgetInfo::selected(
                            egui::WidgetType::Checkbox,
                            true,
                            starred,
                            &label,
                        )
                    });
                    if response.changed() {
                        star = Some((take.id, starred));
                    }
                    // Wrapped, so a long caption at scale 2 stays in its column.
                    let caption =
                        ui.add(egui::Button::selectable(chosen, take_caption(take)).wrap());
                    if caption.clicked() {
                        lesson.selected_take = Some(take.id);
                        lesson.cursor = Default::default();
                    }
                    // A take just filed is brought into view once, with its judging panel.
                    if lesson.reveal_take == Some(take.id) {
                        caption.scroll_to_me(Some(egui::Align::Center));
                        lesson.reveal_take = None;
                    }
                });
            }
        });
    // The best of several passes is starred, so it is the one judged and exported.
    if let Some((take, starred)) = star {
        let done = cx.lib.star_take(take, starred);
        cx.report(done);
    }
    takes
        .into_iter()
        .find(|t| Some(t.id) == lesson.selected_take)
}

fn marker_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
    take: &TakeSummary,
) {
    let id = take.id;
    let markers = cx.read_or_default(format!("markers/{id}"), |lib| lib.markers(id));
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut lesson.marker_text)
                .hint_text("what happened here")
                .desired_width(220.0),
        );
        field.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Marker text")
        });
        let typing = ui.ctx().wants_keyboard_input();
        // While recording, M marks the take being made (see `transport_ui`).
        let key = !typing && !devices.is_recording() && ui.input(|i| i.key_pressed(egui::Key::M));
        if ui.button("Add marker (M)").clicked() || key {
            let text = if lesson.marker_text.trim().is_empty() {
                "marker".to_string()
            } else {
                std::mem::take(&mut lesson.marker_text)
            };
            let audience = if lesson.marker_for_players {
                crate::library::NoteAudience::Players
            } else {
                crate::library::NoteAudience::Teacher
            };
            let added = cx
                .lib
                .add_marker_for(take.id, 0, &text, "teacher", audience);
            cx.report(added);
        }
        ui.checkbox(&mut lesson.marker_for_players, "Players may read it")
            .on_hover_text("otherwise only you see it; pupils never see markers about others");
    });
    for (frame, text, author) in markers {
        let at = clock(frame as f64 / f64::from(take.sample_rate_hz.max(1)));
        ui.label(format!("{at}  {text}  ({author})"));
    }
}

/// A take the session has just filed (its players named from the room plan): it is
/// put up for judging.
pub fn take_recorded(lesson: &mut LessonState, filed: &crate::session::FiledTake) {
    lesson.selected_take = Some(filed.id);
    lesson.reveal_take = Some(filed.id);
    lesson.cursor = Default::default();
}

pub fn lesson_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
) {
    let class = cx.class;
    let classes = cx.read_or_default("classes", crate::library::Library::classes);
    let class_name = class.and_then(|c| classes.into_iter().find(|x| x.id == c).map(|x| x.name));
    let title = cx.arrangement_title();
    ui.heading(match (&class_name, &title) {
        (Some(c), Some(a)) => format!("{c} · {a}"),
        (Some(c), None) => c.clone(),
        (None, Some(a)) => format!("Quick take · {a}"),
        (None, None) => "Quick take".into(),
    });
    if let Some(class) = class {
        load_plan(lesson, cx, class);
        // The class in a panel of its own, scrolling by itself, so a class of 30 never
        // pushes the plan, the takes and the judging off the screen.
        egui::SidePanel::left("class list")
            .resizable(true)
            .default_width(240.0)
            .width_range(180.0..=380.0)
            .show_inside(ui, |ui| class_list_ui(lesson, cx, ui, class));
    }
    egui::CentralPanel::default().show_inside(ui, |ui| {
        egui::ScrollArea::vertical()
            .id_salt("lesson")
            .auto_shrink([false, false])
            .show(ui, |ui| lesson_main_ui(lesson, cx, devices, ui, class));
    });
}

/// Everything beside the class list: the transport, the room plan, the takes and the
/// panel that judges the take in hand.
fn lesson_main_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
    class: Option<i64>,
) {
    super::transport::transport_ui(lesson, cx, devices, ui);
    if let Some(class) = class {
        // A room of 32 inputs is long: it scrolls in a pane of its own, at most a third
        // of the screen, so the takes and the judging panel always start on the first
        // screen below it.
        let most = (ui.clip_rect().height() * 0.34).max(160.0);
        egui::ScrollArea::vertical()
            .id_salt("room plan")
            .auto_shrink([false, true])
            .max_height(most)
            .show(ui, |ui| room_plan_ui(lesson, cx, devices, ui, class));
    }
    ui.separator();
    ui.columns(2, |columns| {
        let take = takes_ui(lesson, cx, &mut columns[0], class);
        if let Some(take) = take {
            // Judging sits under the take list, beside the tracks, so it is in view as
            // soon as a take is filed, however many tracks the take has.
            columns[0].vertical(|ui| {
                ui.separator();
                assess_panel::assess_ui(lesson, cx, ui, &take);
            });
            // Not justified: a wrapped caption would be spread letter by letter.
            columns[1].vertical(|ui| take_in_hand_ui(lesson, cx, devices, ui, &take, class));
        }
    });
}

/// The take in hand, beside the take list: its caption and purpose, who played, its
/// tracks with their timing, markers and voice notes.
fn take_in_hand_ui(
    lesson: &mut LessonState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
    take: &crate::library::TakeSummary,
    class: Option<i64>,
) {
    ui.heading(take_caption(take));
    // What the take is for can be decided after it is heard.
    let mut purpose =
        crate::library::Purpose::parse(&take.purpose).unwrap_or(crate::library::Purpose::Rehearsal);
    if super::transport::purpose_ui(ui, &mut purpose, "This take is kept as") {
        let set = cx.lib.set_purpose(take.id, purpose);
        cx.report(set);
    }
    let attributed = take.tracks.iter().any(|t| !t.performers.is_empty());
    if !attributed && class.is_some() {
        ui.label("Nobody is named on this take yet.");
        if ui.button("Name players from the room plan").clicked() {
            attribute_from_plan(lesson, cx, take);
            cx.act(Action::Analyse(take.id));
        }
    }
    let folder = cx.lib.take_folder(take);
    missing_ui(lesson, cx, ui, take, &folder);
    let timing = super::timing::for_take(cx, take);
    if cx.analysing.contains(&take.id) {
        ui.label("Analysing the timing of this take…");
    }
    super::playback::controls(cx, devices, ui, take, None);
    for track in &take.tracks {
        let names: Vec<&str> = track.performers.iter().map(|p| p.name.as_str()).collect();
        ui.label(format!("Track {} {}", track.number, names.join(", ")));
        let rect = waveform(ui, &mut cx.peaks, &folder.join(&track.file), 40.0);
        super::playback::cursor(devices, ui, rect, take.id);
        super::timing::show(ui, rect, timing.get(&track.number), track.frames);
    }
    marker_ui(lesson, cx, devices, ui, take);
    super::voice_note::voice_notes_ui(cx, devices, ui, take, Listener::Teacher);
}
