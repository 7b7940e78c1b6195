//! The app's state and frame: which screen is showing, teacher or pupil mode, the class
//! in hand, banners, theme and scale, and the top bar that moves between screens.
//!
//! Must not draw a screen's contents (each screen module does) or query SQL.

use super::recording::{DeviceChoice, Recording};
use super::{class_view, export_screen, lesson, progress, review, settings, start};
use crate::library::Library;
use eframe::egui;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Start,
    Lesson,
    /// The projector view.
    ClassView,
    Progress,
    Export,
    Settings,
}

/// Who is at the keyboard. In pupil mode only the pupil's own takes show, and leaving
/// needs the teacher PIN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Teacher,
    Pupil { class: i64, pupil: Option<i64> },
}

pub struct BandroomApp {
    pub(super) lib: Library,
    pub(super) root: PathBuf,
    pub screen: Screen,
    pub mode: Mode,
    pub class: Option<i64>,
    pub arrangement: Option<String>,
    /// Lasting notes (e.g. "no audio interface found") shown under the top bar.
    pub banners: Vec<String>,
    /// The latest error, shown until dismissed.
    pub error: Option<String>,
    pub(super) lesson: lesson::LessonState,
    pub(super) review: review::ReviewState,
    pub(super) progress: progress::ProgressState,
    pub(super) export: export_screen::ExportState,
    pub(super) settings: settings::SettingsState,
    pub(super) start: start::StartState,
    pub(super) pin_entry: String,
    pub dark: bool,
    pub zoom: f32,
    pub(super) peaks: super::widgets::PeakCache,
    /// The take being recorded, if any.
    pub(super) recording: Option<Recording>,
    /// Takes, rehearsals and voice notes that were stopped and are being closed and
    /// filed off the UI thread.
    pub(super) finishing: Vec<super::finishing::Finishing>,
    /// Bars of metronome before a take.
    pub count_in_bars: u32,
    /// The learnt pedal, listened to during lessons (`None` until the lesson opens it).
    pub(super) pedal: Option<super::pedal::PedalListener>,
    /// Whether opening the pedal was tried (so a missing MIDI system is said once).
    pub(super) pedal_tried: bool,
    /// The window's context, so background work can ask for a redraw when it ends.
    ctx: Option<egui::Context>,
    /// The take being played back, if any.
    pub(super) playback: Option<super::playback::Playback>,
    /// A take being made ready to play.
    pub(super) loading: Option<super::playback::Loading>,
    /// A voice note being recorded.
    pub(super) voice_note: Option<super::voice_note::VoiceNoteRecording>,
    /// The input the teacher's voice notes are recorded from.
    pub voice_input: usize,
    /// Parts played on MIDI instruments rather than by bandroom: part → output port.
    pub part_ports: std::collections::BTreeMap<String, String>,
    /// Takes whose timing is being analysed in the background.
    pub(super) analysing: Vec<crate::jobs::AnalysisJob>,
    pub device: DeviceChoice,
    /// Practice tempo for the arrangement; `None` plays it at its own tempo.
    pub tempo_bpm: Option<f64>,
    /// Times through each section (`None`: as the arrangement says).
    pub repeats: Option<u32>,
    /// The one section rehearsed (`None`: the whole piece).
    pub section: Option<String>,
    /// "Again": when a take ends by itself, the next starts, each pass its own take.
    pub again: bool,
    /// The class view is open in a window of its own (for the projector).
    pub projector: bool,
    /// The window was asked to close while recording: ask first.
    closing: bool,
    /// Close as soon as every stopped take is filed.
    close_when_filed: bool,
    frames: u64,
    quit_after_frames: Option<u64>,
}

impl BandroomApp {
    /// Opens the library (creating it with the demo class on first start).
    pub fn open(root: &Path) -> anyhow::Result<Self> {
        let lib = Library::open(root)
            .map_err(|e| anyhow::anyhow!("cannot open the library in {}: {e}", root.display()))?;
        let mut banners = Vec::new();
        if lib.was_created() {
            banners.push(format!(
                "Welcome: this is a new library in {}, with the demo class \"{}\" to try things out.",
                root.display(),
                crate::library::DEMO_CLASS
            ));
        }
        Ok(Self {
            lib,
            root: root.to_path_buf(),
            screen: Screen::Start,
            mode: Mode::Teacher,
            class: None,
            arrangement: None,
            banners,
            error: None,
            lesson: lesson::LessonState::default(),
            review: review::ReviewState::default(),
            progress: progress::ProgressState::default(),
            export: export_screen::ExportState::default(),
            settings: settings::SettingsState::default(),
            start: start::StartState::default(),
            pin_entry: String::new(),
            dark: false,
            zoom: 1.0,
            peaks: Default::default(),
            recording: None,
            finishing: Vec::new(),
            count_in_bars: 1,
            analysing: Vec::new(),
            ctx: None,
            playback: None,
            loading: None,
            voice_note: None,
            voice_input: 1,
            part_ports: Default::default(),
            pedal: None,
            pedal_tried: false,
            device: DeviceChoice::Saved,
            tempo_bpm: None,
            repeats: None,
            section: None,
            again: false,
            projector: false,
            closing: false,
            close_when_filed: false,
            frames: 0,
            // For smoke tests of the real window: draw this many frames, then close.
            quit_after_frames: std::env::var("BANDROOM_QUIT_AFTER_FRAMES")
                .ok()
                .and_then(|v| v.parse().ok()),
        })
    }

    /// Moves to the class and screen asked for on the command line.
    pub fn open_at(&mut self, opening: &super::Opening) -> anyhow::Result<()> {
        if let Some(name) = &opening.class {
            self.class = Some(self.lib.class_id(name)?);
        }
        if let Some(screen) = &opening.screen {
            self.screen = match screen.to_ascii_lowercase().as_str() {
                "start" => Screen::Start,
                "lesson" => Screen::Lesson,
                "class" | "class-view" => Screen::ClassView,
                "progress" => Screen::Progress,
                "export" => Screen::Export,
                "settings" => Screen::Settings,
                other => anyhow::bail!(
                    "--open-screen {other:?}: use start, lesson, progress, export or settings"
                ),
            };
        }
        Ok(())
    }

    pub fn library(&self) -> &Library {
        &self.lib
    }

    pub fn library_mut(&mut self) -> &mut Library {
        &mut self.lib
    }

    /// Shows an error from anything the user did, in words, without stopping the app.
    pub(super) fn report<T>(&mut self, result: Result<T, impl std::fmt::Display>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.error = Some(e.to_string());
                None
            }
        }
    }

    /// Draws one frame. Tests drive this through egui_kittest; the window calls it via
    /// `eframe::App::update`.
    pub fn ui(&mut self, ctx: &egui::Context) {
        ctx.set_theme(if self.dark {
            egui::Theme::Dark
        } else {
            egui::Theme::Light
        });
        ctx.set_zoom_factor(self.zoom);
        self.keep_recording(ctx);
        if self.ctx.is_none() {
            self.ctx = Some(ctx.clone());
        }
        self.poll_analysis();
        self.poll_finishing(ctx);
        super::playback::poll(self);
        if let Some(note) = &mut self.voice_note {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
            if note.ended() {
                self.finish_voice_note();
            }
        }
        // Playback that reached its end lets go of the device.
        if self
            .playback
            .as_ref()
            .is_some_and(|p| !p.state.is_playing())
        {
            self.playback = None;
        }
        self.top_bar(ctx);
        self.close_question(ctx);
        egui::CentralPanel::default().show(ctx, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| match self.mode.clone() {
                    Mode::Pupil { class, pupil } => review::review_ui(self, ui, class, pupil),
                    Mode::Teacher => match self.screen {
                        Screen::Start => start::start_ui(self, ui),
                        Screen::Lesson => lesson::lesson_ui(self, ui),
                        Screen::ClassView => class_view::class_view_ui(self, ui),
                        Screen::Progress => progress::progress_ui(self, ui),
                        Screen::Export => export_screen::export_ui(self, ui),
                        Screen::Settings => settings::settings_ui(self, ui),
                    },
                });
        });
        self.export.poll(ctx);
        self.projector_window(ctx);
    }

    /// The class view in a second window, to drag onto the projector's screen and make
    /// full screen there (F11) while the teacher keeps the lesson screen. Where the
    /// platform has one window only (and in tests), it floats inside the main one.
    fn projector_window(&mut self, ctx: &egui::Context) {
        if !self.projector || !matches!(self.mode, Mode::Teacher) {
            return;
        }
        let id = egui::ViewportId::from_hash_of("projector");
        let builder = egui::ViewportBuilder::default()
            .with_title("bandroom: class view")
            .with_inner_size([1024.0, 768.0]);
        ctx.show_viewport_immediate(id, builder, |ctx, class| {
            if class == egui::ViewportClass::Embedded {
                let mut open = true;
                egui::Window::new("Class view (projector)")
                    .open(&mut open)
                    .default_size([640.0, 420.0])
                    .show(ctx, |ui| class_view::class_view_ui(self, ui));
                self.projector &= open;
                return;
            }
            egui::CentralPanel::default().show(ctx, |ui| class_view::class_view_ui(self, ui));
            if ctx.input(|i| i.viewport().close_requested()) {
                self.projector = false;
            }
            if self.recording.is_some() {
                ctx.request_repaint_after(std::time::Duration::from_millis(25));
            }
        });
    }

    fn top_bar(&mut self, ctx: &egui::Context) {
        egui::TopBottomPanel::top("top bar").show(ctx, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.heading("bandroom");
                ui.separator();
                match self.mode.clone() {
                    Mode::Teacher => {
                        for (screen, label) in [
                            (Screen::Start, "Start"),
                            (Screen::Lesson, "Lesson"),
                            (Screen::ClassView, "Class view"),
                            (Screen::Progress, "Progress"),
                            (Screen::Export, "Export"),
                            (Screen::Settings, "Settings"),
                        ] {
                            if ui
                                .add(egui::Button::selectable(self.screen == screen, label))
                                .clicked()
                            {
                                self.screen = screen;
                            }
                        }
                        ui.separator();
                        ui.toggle_value(&mut self.projector, "Projector window")
                            .on_hover_text("the class view in a window of its own");
                        if let Some(class) = self.class
                            && ui.button("Pupil mode").clicked()
                        {
                            self.mode = Mode::Pupil { class, pupil: None };
                            self.review = review::ReviewState::default();
                        }
                    }
                    Mode::Pupil { .. } => {
                        ui.label("Pupil mode");
                        ui.separator();
                        ui.label("Teacher PIN:");
                        let pin = ui.add(
                            egui::TextEdit::singleline(&mut self.pin_entry)
                                .password(true)
                                .desired_width(80.0),
                        );
                        pin.widget_info(|| {
                            egui::WidgetInfo::labeled(
                                egui::WidgetType::TextEdit,
                                true,
                                "Teacher PIN",
                            )
                        });
                        let enter =
                            pin.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                        if ui.button("Leave pupil mode").clicked() || enter {
                            self.leave_pupil_mode();
                        }
                    }
                }
            });
            for banner in &self.banners {
                ui.colored_label(ui.visuals().warn_fg_color, banner);
            }
            let mut dismiss = false;
            if let Some(error) = &self.error {
                ui.horizontal(|ui| {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                    dismiss = ui.button("OK").clicked();
                });
            }
            if dismiss {
                self.error = None;
            }
        });
    }

    /// Whether a take is being recorded.
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// The level each recorded input's meter shows now.
    pub fn input_levels(&self) -> Vec<f32> {
        self.recording
            .as_ref()
            .map(|r| r.levels.iter().map(|l| l.level).collect())
            .unwrap_or_default()
    }

    /// The section the engine reports playing, while a part plays.
    pub fn engine_section(&self) -> Option<String> {
        self.recording.as_ref().and_then(|r| r.engine_section())
    }

    /// Meter reads of the take being recorded (one per frame drawn).
    pub fn meter_reads(&self) -> u64 {
        self.recording.as_ref().map_or(0, |r| r.meter_reads)
    }

    /// Reads meters and files the take once it has ended.
    fn keep_recording(&mut self, ctx: &egui::Context) {
        let Some(recording) = &mut self.recording else {
            return;
        };
        // At least 30 meter updates a second while recording.
        ctx.request_repaint_after(std::time::Duration::from_millis(25));
        if recording.update() {
            let next_pass = self.again && recording.keep && recording.fault.is_none();
            self.stop_recording();
            if next_pass {
                self.lesson.passes += 1;
                super::transport::start_take(self, super::transport::Keep::Take);
            } else {
                self.lesson.passes = 0;
            }
        }
    }

    /// Collects finished analyses; their problems become banners.
    fn poll_analysis(&mut self) {
        if self.analysing.is_empty() {
            return;
        }
        let mut still = Vec::new();
        for mut job in std::mem::take(&mut self.analysing) {
            match job.poll() {
                Some(problems) => self.banners.extend(problems),
                None => still.push(job),
            }
        }
        self.analysing = still;
    }

    /// Starts recording a voice note on `take`, pinned to `frame`. Playback stops: the
    /// device is needed for the microphone.
    pub(super) fn start_voice_note(
        &mut self,
        take: &crate::library::TakeSummary,
        frame: Option<u64>,
    ) {
        self.free_the_device();
        let input = self.voice_input;
        match super::voice_note::VoiceNoteRecording::start(self, take, frame, input) {
            Ok((note, banner)) => {
                if let Some(banner) = banner
                    && !self.banners.contains(&banner)
                {
                    self.banners.push(banner);
                }
                self.voice_note = Some(note);
            }
            Err(e) => self.error = Some(format!("The voice note could not start: {e:#}")),
        }
    }

    /// Stops the voice note being recorded; it is kept with its take in the background.
    pub(super) fn finish_voice_note(&mut self) {
        if let Some(note) = self.voice_note.take() {
            let wake = self.wake_when_done();
            self.finishing.push(note.stop(&self.root, wake));
        }
    }

    /// Whether a voice note is being recorded.
    pub fn is_recording_voice_note(&self) -> bool {
        self.voice_note.is_some()
    }

    /// What background work calls when it ends: a redraw, so its result shows without
    /// the window polling for it.
    pub(super) fn wake_when_done(&self) -> Box<dyn FnOnce() + Send> {
        let ctx = self.ctx.clone();
        Box::new(move || {
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        })
    }

    /// Starts analysing a take in the background; the screen is redrawn when it ends.
    pub(super) fn analyse_in_background(&mut self, take: i64) {
        let done = self.wake_when_done();
        self.analysing.push(crate::jobs::AnalysisJob::start(
            self.root.clone(),
            take,
            done,
        ));
    }

    /// A played part's loudest moment since the last call, while recording.
    pub fn lane_peak(&self, lane: usize) -> Option<f32> {
        self.recording.as_ref().map(|r| r.lane_peak(lane))
    }

    /// How many tracks are being heard, while a take is playing.
    pub fn playback_tracks(&self) -> Option<usize> {
        self.playback.as_ref().map(|p| p.state.tracks())
    }

    /// Where playback is (frame), while a take is playing.
    pub fn playback_position(&self) -> Option<u64> {
        self.playback.as_ref().map(|p| p.state.position())
    }

    /// Stops the take (if still running); it is closed and filed in the background and
    /// put up for judging when it is in the library.
    pub(super) fn stop_recording(&mut self) {
        let Some(recording) = self.recording.take() else {
            return;
        };
        let markers = std::mem::take(&mut self.lesson.pending_marks)
            .into_iter()
            .map(|(frame, text)| crate::session::Marker {
                frame,
                text,
                author: "teacher".into(),
            })
            .collect();
        let players = if recording.keep && self.class.is_some() {
            super::room_plan::players_from_plan(&self.lesson.plan)
        } else {
            Vec::new()
        };
        let wake = self.wake_when_done();
        let finishing = recording.stop(&self.root, players, markers, wake);
        self.finishing.push(finishing);
    }

    /// Whether a take, rehearsal or voice note is still being closed and filed.
    pub fn is_finishing(&self) -> bool {
        !self.finishing.is_empty()
    }

    /// Lets go of the device for a new take or note: anything still draining stops now.
    pub(super) fn free_the_device(&mut self) {
        self.playback = None;
        self.loading = None;
        for f in &mut self.finishing {
            f.free_device_now();
        }
    }

    /// Collects what finished in the background: a filed take goes up for judging and
    /// for analysis; problems become banners.
    fn poll_finishing(&mut self, ctx: &egui::Context) {
        if self.finishing.is_empty() {
            return;
        }
        // Draining waits on the engine, which does not wake the window; the worker that
        // closes the files wakes it itself.
        if self
            .finishing
            .iter()
            .any(super::finishing::Finishing::draining)
        {
            ctx.request_repaint_after(std::time::Duration::from_millis(25));
        }
        let mut still = Vec::new();
        for mut f in std::mem::take(&mut self.finishing) {
            match f.poll() {
                None => still.push(f),
                Some(Ok(super::finishing::Done::Take(filed))) => {
                    self.banners.extend(filed.problems.iter().cloned());
                    if let Some(fault) = &filed.fault {
                        self.banners.push(format!(
                            "{fault}; take {} keeps what was recorded",
                            filed.id
                        ));
                    }
                    lesson::take_recorded(self, &filed);
                }
                Some(Ok(super::finishing::Done::VoiceNote | super::finishing::Done::Discarded)) => {
                }
                Some(Err(e)) => self.banners.push(e),
            }
        }
        self.finishing = still;
    }

    fn close_question(&mut self, ctx: &egui::Context) {
        let asked = ctx.input(|i| i.viewport().close_requested());
        if asked && self.recording.is_some() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.closing = true;
        } else if asked && self.is_finishing() {
            // A take still being filed would be cut off by closing: close once it is in.
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.close_when_filed = true;
        }
        if self.close_when_filed {
            if self.is_finishing() {
                egui::Modal::new(egui::Id::new("closing after filing")).show(ctx, |ui| {
                    ui.heading("Finishing the take…");
                    ui.label("bandroom closes as soon as it is safely in the library.");
                });
            } else {
                self.close_when_filed = false;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
        if !self.closing {
            return;
        }
        egui::Modal::new(egui::Id::new("close while recording")).show(ctx, |ui| {
            ui.heading("A take is being recorded");
            ui.label("Stop it and keep what was recorded, then close bandroom?");
            ui.horizontal(|ui| {
                if ui.button("Stop, keep the take and close").clicked() {
                    self.stop_recording();
                    self.closing = false;
                    self.close_when_filed = true;
                }
                if ui.button("Keep recording").clicked() {
                    self.closing = false;
                }
            });
        });
    }

    /// Whether the window will close once the take being filed is in the library.
    pub fn closes_when_filed(&self) -> bool {
        self.close_when_filed
    }

    fn leave_pupil_mode(&mut self) {
        let pin = std::mem::take(&mut self.pin_entry);
        let allowed = match self.lib.has_pin() {
            // Without a PIN set, any teacher may leave; Settings says so.
            Ok(false) => true,
            Ok(true) => match self.lib.check_pin(&pin) {
                Ok(right) => right,
                // Too many wrong guesses: the wait is the message.
                Err(e) => {
                    self.error = Some(e.to_string());
                    return;
                }
            },
            Err(e) => {
                self.error = Some(e.to_string());
                false
            }
        };
        if allowed {
            self.mode = Mode::Teacher;
            self.error = None;
        } else {
            self.error = Some("That is not the teacher PIN.".into());
        }
    }
}

impl eframe::App for BandroomApp {
    fn update(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.ui(ctx);
        self.frames += 1;
        if self.quit_after_frames.is_some_and(|n| self.frames >= n) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if self.quit_after_frames.is_some() {
            ctx.request_repaint();
        }
    }
}
