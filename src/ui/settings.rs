//! Settings a teacher changes rarely: the teacher PIN, pupil sign-in, theme and scale (for high-DPI
//! screens and projectors), sound (see `sound_settings`), the foot pedal, how long takes
//! are kept, and where the library lives.
//!
//! Must not store anything itself: the PIN goes to the library as a hash.

use super::context::{Action as AppAction, AppContext};
use super::devices::Devices;
use crate::library::Library;
use eframe::egui;

#[derive(Default)]
pub struct SettingsState {
    current_pin: String,
    pin: String,
    again: String,
    said: Option<String>,
    learning: Option<super::pedal::PedalLearning>,
    pedal_said: Option<String>,
    /// Months per purpose as being edited (assessment, rehearsal, performance).
    retention: Option<[i64; 3]>,
    retention_said: Option<String>,
    pub(super) sound: super::sound_settings::SoundState,
    backup_to: String,
    backup: Option<crate::jobs::Background<Result<String, String>>>,
    backup_said: Option<Result<String, String>>,
    sign_in: super::sign_in::SignInState,
}

pub fn settings_ui(
    settings: &mut SettingsState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
) {
    ui.heading("Look");
    ui.horizontal(|ui| {
        ui.checkbox(&mut cx.look.dark, "Dark theme");
        ui.label("Scale");
        ui.add(egui::Slider::new(&mut cx.look.zoom, 0.75..=2.5).step_by(0.25));
    });
    ui.separator();
    ui.heading("Teacher PIN");
    let has = cx.read("has pin", Library::has_pin).unwrap_or(false);
    ui.label(if has {
        "A PIN is set: leaving pupil mode asks for it."
    } else {
        "No PIN yet: pupil mode asks for one before it starts."
    });
    ui.label("It keeps pupils out of teacher screens; it does not protect the files from the PC's administrator.");
    if has {
        ui.label("To change it, type the current PIN first. Forgotten? The school's IT technician can reset it as this PC's administrator (the audit log records it).");
    }
    egui::Grid::new("pin").show(ui, |ui| {
        if has {
            ui.label("Current PIN");
            let c = ui.add(egui::TextEdit::singleline(&mut settings.current_pin).password(true));
            c.widget_info(|| {
                egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Current teacher PIN")
            });
            ui.end_row();
        }
        ui.label("New PIN");
        let a = ui.add(egui::TextEdit::singleline(&mut settings.pin).password(true));
        a.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "New teacher PIN")
        });
        ui.end_row();
        ui.label("Again");
        let b = ui.add(egui::TextEdit::singleline(&mut settings.again).password(true));
        b.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "New teacher PIN again")
        });
        ui.end_row();
    });
    if ui.button("Set PIN").clicked() {
        let (current, pin, again) = (
            std::mem::take(&mut settings.current_pin),
            std::mem::take(&mut settings.pin),
            std::mem::take(&mut settings.again),
        );
        settings.said = Some(if pin != again {
            "The two PINs differ; type it twice the same.".into()
        } else {
            match cx.lib.set_pin(has.then_some(current.as_str()), &pin) {
                Ok(()) => "PIN set.".into(),
                Err(e) => e.to_string(),
            }
        });
    }
    if let Some(said) = &settings.said {
        ui.label(said);
    }
    ui.separator();
    super::sign_in::settings_ui(&mut settings.sign_in, cx, ui);
    ui.separator();
    super::sound_settings::sound_ui(settings, cx, devices, ui);
    ui.separator();
    pedal_ui(settings, cx, ui);
    ui.separator();
    retention_ui(settings, cx, ui);
    ui.separator();
    ui.heading("Library");
    ui.label(format!(
        "Takes and judgements are kept in {}",
        cx.root.display()
    ));
    backup_ui(settings, cx, ui);
}

/// Backing the library up into an empty folder (a USB stick, the school's share), on a
/// thread of its own.
fn backup_ui(settings: &mut SettingsState, cx: &mut AppContext, ui: &mut egui::Ui) {
    let done = cx.waker();
    let state = &mut *settings;
    if let Some(job) = &mut state.backup
        && let Some(result) = job.poll()
    {
        state.backup = None;
        state.backup_said = Some(result.and_then(|r| r));
    }
    ui.horizontal(|ui| {
        ui.label("Back up into");
        let field = ui.add(
            egui::TextEdit::singleline(&mut state.backup_to)
                .hint_text("an empty folder, e.g. /media/usb/bandroom-backup")
                .desired_width(320.0),
        );
        field.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Backup folder")
        });
        if state.backup.is_some() {
            ui.spinner();
            ui.label("Backing up…");
        } else if ui
            .add_enabled(
                !state.backup_to.trim().is_empty(),
                egui::Button::new("Back up now"),
            )
            .clicked()
        {
            let root = cx.root.clone();
            let to = std::path::PathBuf::from(state.backup_to.trim());
            state.backup_said = None;
            state.backup = Some(crate::jobs::Background::start(
                "the backup",
                move || {
                    let mut lib =
                        crate::library::Library::reopen(&root).map_err(|e| e.to_string())?;
                    let report = lib.backup(&to).map_err(|e| e.to_string())?;
                    Ok(format!(
                        "Backed up {} takes ({} files, {:.1} MB) into {}",
                        report.takes,
                        report.files,
                        report.bytes as f64 / 1e6,
                        to.display()
                    ))
                },
                done,
            ));
        }
    });
    super::widgets::outcome(ui, &state.backup_said, "");
    ui.label("`bandroom check` looks for missing or changed recordings.");
}

/// The hands-free pedal: what is learnt, and learning one from a press.
fn pedal_ui(settings: &mut SettingsState, cx: &mut AppContext, ui: &mut egui::Ui) {
    use crate::midi::{Action, ControlMap};
    ui.heading("Foot pedal");
    ui.label(
        "A MIDI foot pedal (or any key of a keyboard) can start and stop takes, drop a \
         marker or start the next take, so your hands stay on your instrument.",
    );
    let stored = cx
        .read("pedal settings", Library::pedal_settings)
        .ok()
        .flatten();
    let mut map = ControlMap::from_stored(stored.as_deref()).unwrap_or_default();
    if map.mappings.is_empty() {
        ui.label("No pedal learnt yet.");
    }
    for m in &map.mappings {
        ui.label(format!(
            "{}: {}{}",
            match m.action {
                Action::Record => "Record / stop",
                Action::Mark => "Marker",
                Action::Next => "Next take",
            },
            m.trigger,
            m.port
                .as_deref()
                .map(|p| format!(" on {p}"))
                .unwrap_or_default()
        ));
    }
    if let Some(learning) = &mut settings.learning {
        ui.label("Press the pedal (or key) now…");
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
        if let Some(heard) = learning.poll() {
            let action = learning.action;
            settings.learning = None;
            settings.pedal_said = Some(match heard {
                Ok((trigger, port)) => {
                    map.learn(trigger, action, Some(port.clone()));
                    match cx.lib.set_pedal_settings(
                        &map.to_stored(),
                        &format!("{} on {trigger}", action.name()),
                    ) {
                        Ok(()) => {
                            // The lesson listens again with the new mapping.
                            cx.act(AppAction::ListenForPedalAgain);
                            format!("Learnt: {trigger} on {port}.")
                        }
                        Err(e) => e.to_string(),
                    }
                }
                Err(e) => format!("Not learnt: {e}."),
            });
        }
    } else {
        ui.horizontal(|ui| {
            for (label, action) in [
                ("Learn the record pedal", Action::Record),
                ("Learn the marker pedal", Action::Mark),
                ("Learn the next-take pedal", Action::Next),
            ] {
                if ui.button(label).clicked() {
                    settings.learning = Some(super::pedal::PedalLearning::start(action));
                    settings.pedal_said = None;
                }
            }
            if !map.mappings.is_empty() && ui.button("Forget the pedals").clicked() {
                let cleared = cx
                    .lib
                    .set_pedal_settings(&ControlMap::default().to_stored(), "all pedals forgotten");
                cx.report(cleared);
                cx.act(AppAction::ListenForPedalAgain);
            }
        });
    }
    if let Some(said) = &settings.pedal_said {
        ui.label(said);
    }
}

/// How long takes are kept, per purpose, before `bandroom takes review` lists them.
fn retention_ui(settings: &mut SettingsState, cx: &mut AppContext, ui: &mut egui::Ui) {
    use crate::library::Purpose;
    ui.heading("How long takes are kept");
    ui.label(
        "Takes past their time are listed for review (`bandroom takes review`); nothing is \
         deleted automatically. A change applies to takes made from now on.",
    );
    let months = match settings.retention {
        Some(m) => m,
        None => match cx.lib.retention_policy() {
            Ok(p) => [
                p.assessment_months,
                p.rehearsal_months,
                p.performance_months,
            ],
            Err(e) => {
                ui.label(e.to_string());
                return;
            }
        },
    };
    let mut edited = months;
    egui::Grid::new("retention").show(ui, |ui| {
        for (slot, name) in ["Assessment evidence", "Rehearsals", "Performances"]
            .iter()
            .enumerate()
        {
            ui.label(*name);
            let field = ui.add(
                egui::DragValue::new(&mut edited[slot])
                    .range(1..=240)
                    .suffix(" months"),
            );
            field.widget_info(|| {
                egui::WidgetInfo::labeled(
                    egui::WidgetType::DragValue,
                    true,
                    format!("{name} kept for"),
                )
            });
            ui.end_row();
        }
    });
    settings.retention = Some(edited);
    if ui.button("Save how long takes are kept").clicked() {
        let purposes = [
            Purpose::Assessment,
            Purpose::Rehearsal,
            Purpose::Performance,
        ];
        let result = purposes
            .iter()
            .zip(edited)
            .try_for_each(|(purpose, m)| cx.lib.set_retention(*purpose, m, false));
        settings.retention_said = Some(match result {
            Ok(()) => "Saved.".into(),
            Err(e) => e.to_string(),
        });
    }
    if let Some(said) = &settings.retention_said {
        ui.label(said);
    }
}
