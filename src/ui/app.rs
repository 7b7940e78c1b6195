//! The app's frame: which screen shows, teacher or pupil mode, the top bar that moves
//! between screens, the close question, and applying the actions the screens pushed.
//!
//! Owns the screens' states, the shared context and the devices, and is the one place
//! a cross-screen change happens (`apply`). Must not draw a screen's contents (each
//! screen module does) or query SQL of its own beyond the PIN check.

use super::context::{Action, AppContext, Screen};
use super::devices::{DeviceEvent, Devices};
use super::export_screen::ExportState;
use super::lesson::LessonState;
use super::progress::ProgressState;
use super::remembered::Remembered;
use super::review::ReviewState;
use super::settings::SettingsState;
use super::start::StartState;
use super::transport::{self, Keep};
use super::{class_view, export_screen, lesson, progress, review, settings, start};
use crate::jobs::AnalysisJob;
use crate::library::Library;
use crate::session::Marker;
use eframe::egui;
use std::path::Path;

/// Who is at the keyboard. In pupil mode only the pupil's own takes show, and leaving
/// needs the teacher PIN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Teacher,
    Pupil { class: i64, pupil: Option<i64> },
}

pub struct BandroomApp {
    /// What every screen is handed: library, class, arrangement, notices, actions.
    pub cx: AppContext,
    /// Everything that uses an audio or MIDI device.
    pub devices: Devices,
    pub screen: Screen,
    pub mode: Mode,
    pub lesson: LessonState,
    review: ReviewState,
    progress: ProgressState,
    export: ExportState,
    settings: SettingsState,
    start: StartState,
    pin_entry: String,
    /// Pupil mode was asked for on a PC with no teacher PIN: the PIN is asked first.
    pin_first: super::pupil_mode_pin::PinFirst,
    /// The class view is open in a window of its own (for the projector).
    pub projector: bool,
    /// Takes whose timing is being analysed in the background.
    analysing: Vec<AnalysisJob>,
    /// The window was asked to close while recording: ask first.
    closing: bool,
    /// Close as soon as every stopped take is filed.
    close_when_filed: bool,
    /// The look, class and piece as last saved, for the next start.
    remembered: Remembered,
    /// bandroom's look has been given to the window.
    styled: bool,
    /// The window's inner size last frame, in points (saved as the window closes).
    window_size: Option<[f32; 2]>,
    frames: u64,
    quit_after_frames: Option<u64>,
}

impl BandroomApp {
    /// The size the window should open at: the one it had when it last closed.
    pub fn window_to_open(&self) -> [f32; 2] {
        self.remembered.window_to_open()
    }

    /// Remembers the window's size for the next start (done as the window closes).
    pub fn remember_window(&mut self, size: [f32; 2]) {
        self.remembered.save_window(&mut self.cx, size);
    }

    /// Opens the library (creating it with the demo class on first start).
    pub fn open(root: &Path) -> anyhow::Result<Self> {
        let lib = Library::open(root)
            .map_err(|e| anyhow::anyhow!("cannot open the library in {}: {e}", root.display()))?;
        let created = lib.was_created();
        let mut cx = AppContext::new(lib, root);
        let remembered = Remembered::load(&mut cx);
        remembered.apply(&mut cx);
        if created {
            cx.notices.banner(format!(
                "Welcome: this is a new library, with the demo class \"{}\" to try things out \
                 (it is kept in {})",
                crate::library::DEMO_CLASS,
                root.display()
            ));
        }
        // A PC left in pupil mode opens in it: closing the app is no way out of it.
        let mode = match cx.lib.pupil_mode(&super::remembered::this_pc()) {
            Ok(Some(class))
                if cx
                    .lib
                    .classes()
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.id == class) =>
            {
                Mode::Pupil { class, pupil: None }
            }
            Ok(_) => Mode::Teacher,
            Err(e) => {
                cx.notices.banner(format!(
                    "Whether this PC was in pupil mode could not be read: {e}"
                ));
                Mode::Teacher
            }
        };
        Ok(Self {
            cx,
            devices: Devices::default(),
            screen: Screen::Start,
            mode,
            lesson: LessonState::default(),
            review: ReviewState::default(),
            progress: ProgressState::default(),
            export: ExportState::default(),
            settings: SettingsState::default(),
            start: StartState::default(),
            pin_entry: String::new(),
            pin_first: Default::default(),
            projector: false,
            analysing: Vec::new(),
            closing: false,
            close_when_filed: false,
            remembered,
            styled: false,
            window_size: None,
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
            self.cx.class = Some(self.cx.lib.class_id(name)?);
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
        &self.cx.lib
    }

    pub fn library_mut(&mut self) -> &mut Library {
        &mut self.cx.lib
    }

    /// The lasting notes under the top bar.
    pub fn banners(&self) -> &[String] {
        &self.cx.notices.banners
    }

    /// The latest error, shown until dismissed.
    pub fn error(&self) -> Option<&str> {
        self.cx.notices.error.as_deref()
    }

    /// Draws one frame. Tests drive this through egui_kittest; the window calls it via
    /// `eframe::App::update`.
    pub fn ui(&mut self, ctx: &egui::Context) {
        ctx.set_theme(if self.cx.look.dark {
            egui::Theme::Dark
        } else {
            egui::Theme::Light
        });
        ctx.set_zoom_factor(self.cx.look.zoom);
        if !self.styled {
            super::theme::apply(ctx);
            self.styled = true;
        }
        self.cx.begin_frame(ctx);
        self.poll_devices(ctx);
        self.poll_analysis();
        if self.screen == Screen::Lesson && matches!(self.mode, Mode::Teacher) {
            self.pedal_presses();
        }
        self.top_bar(ctx);
        self.close_question(ctx);
        if let Some(class) =
            super::pupil_mode_pin::pin_first_ui(&mut self.pin_first, &mut self.cx, ctx)
        {
            self.enter_pupil_mode(class);
        }
        egui::CentralPanel::default().show(ctx, |ui| {
            // The lesson and progress screens lay out their own panels, each scrolling
            // by itself.
            let own_panels = matches!(self.screen, Screen::Lesson | Screen::Progress);
            if own_panels && self.mode == Mode::Teacher {
                self.screen_ui(ui);
            } else {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| self.screen_ui(ui));
            }
        });
        self.export.poll(ctx);
        self.projector_window(ctx);
        self.apply_actions();
        self.remembered.save_if_changed(&mut self.cx);
    }

    /// The screen showing, drawn with the context and the devices' state.
    fn screen_ui(&mut self, ui: &mut egui::Ui) {
        let (cx, devices) = (&mut self.cx, &self.devices);
        match self.mode.clone() {
            Mode::Pupil { class, pupil } => {
                review::review_ui(&mut self.review, cx, devices, ui, class, pupil);
            }
            Mode::Teacher => match self.screen {
                Screen::Start => start::start_ui(&mut self.start, cx, ui),
                Screen::Lesson => lesson::lesson_ui(&mut self.lesson, cx, devices, ui),
                Screen::ClassView => class_view::class_view_ui(cx, devices, ui),
                Screen::Progress => progress::progress_ui(&mut self.progress, cx, ui),
                Screen::Export => export_screen::export_ui(&mut self.export, cx, ui),
                Screen::Settings => settings::settings_ui(&mut self.settings, cx, devices, ui),
            },
        }
    }

    /// Applies what the screens asked for this frame, in order.
    fn apply_actions(&mut self) {
        for action in std::mem::take(&mut self.cx.actions) {
            self.apply(action);
        }
    }

    fn apply(&mut self, action: Action) {
        let cx = &mut self.cx;
        match action {
            Action::Open(screen) => self.screen = screen,
            Action::ChooseClass(class) => {
                cx.class = class;
                self.lesson = LessonState::default();
            }
            Action::ChooseArrangement(arrangement) => cx.arrangement = arrangement,
            Action::OpenTake(take) => {
                self.lesson.selected_take = Some(take);
                self.lesson.cursor = Default::default();
                self.screen = Screen::Lesson;
            }
            Action::ChoosePupil(pupil) => {
                if let Mode::Pupil { class, .. } = self.mode {
                    self.mode = Mode::Pupil { class, pupil };
                    self.review = ReviewState::default();
                }
            }
            Action::StartTake(keep) => self.start_take(keep),
            Action::StopTake => self.stop_take(),
            Action::SetLane {
                lane,
                muted,
                soloed,
            } => self.devices.set_lane(lane, muted, soloed, &mut cx.notices),
            Action::AllNotesOff => self.devices.all_notes_off(),
            Action::Play(take, listen) => {
                // However the request came, pupil mode plays only what the pupil may hear.
                if let Mode::Pupil { pupil, .. } = self.mode
                    && !super::review::may_hear(&cx.lib, pupil, &take, &listen)
                {
                    cx.notices
                        .error("That recording is not yours to hear: ask your teacher.");
                    return;
                }
                let wake = cx.waker();
                self.devices.play(&cx.lib, &cx.root, &take, listen, wake);
            }
            Action::StopPlayback => self.devices.stop_playback(),
            Action::StartVoiceNote(take, frame, audience) => self.devices.start_voice_note(
                &mut cx.lib,
                &cx.root,
                &take,
                (frame, audience),
                &mut cx.notices,
            ),
            Action::StopVoiceNote => {
                let wake = cx.waker();
                self.devices.stop_voice_note(&cx.root, wake);
            }
            Action::Analyse(take) => self.analyse_in_background(take),
            Action::ListenForPedalAgain => self.devices.listen_for_pedal_again(),
            Action::SetVoiceInput(input) => self.devices.voice_input = input,
            Action::IdentifyMics(on) => {
                let cx = &mut self.cx;
                self.devices.identify_mics(on, &cx.root, &mut cx.notices);
            }
        }
    }

    fn start_take(&mut self, keep: Keep) {
        let cx = &mut self.cx;
        let request = transport::take_request(&self.lesson, cx.arrangement.as_deref(), keep);
        self.devices
            .start_take(&mut cx.lib, &cx.root, cx.class, request, &mut cx.notices);
    }

    /// Stops the take (if still running); it is closed and filed in the background
    /// with its players from the room plan and the markers dropped while it ran.
    fn stop_take(&mut self) {
        let Some(rec) = self.devices.recording() else {
            return;
        };
        let players = if rec.keep && self.cx.class.is_some() {
            let opened: Vec<(String, String)> =
                rec.levels.iter().filter_map(|l| l.device.clone()).collect();
            super::room_plan::players_from_plan(&self.lesson.plan, &opened)
        } else {
            Vec::new()
        };
        let markers = std::mem::take(&mut self.lesson.pending_marks)
            .into_iter()
            .map(|(frame, text)| Marker {
                frame,
                text,
                author: "teacher".into(),
            })
            .collect();
        let wake = self.cx.waker();
        self.devices
            .stop_take(&self.cx.root, players, markers, wake);
    }

    /// The learnt pedal, heard while the lesson screen shows.
    fn pedal_presses(&mut self) {
        let recording = self.devices.is_recording();
        for press in self
            .devices
            .pedal_presses(&self.cx.lib, &mut self.cx.notices)
        {
            if press == crate::midi::Action::Mark {
                transport::mark_now(&mut self.lesson, &self.devices, "pedal");
            }
            for action in transport::pedal_actions(press, recording) {
                self.cx.act(action);
            }
        }
    }

    /// What the devices did by themselves: a take that ended (the next pass of
    /// "again" starts), a take filed (put up for judging and analysed).
    fn poll_devices(&mut self, ctx: &egui::Context) {
        let window = ctx.clone();
        let waker = move || -> Box<dyn FnOnce() + Send> {
            let window = window.clone();
            Box::new(move || window.request_repaint())
        };
        let events = self
            .devices
            .poll(&self.cx.root, &mut self.cx.notices, waker);
        for event in events {
            match event {
                DeviceEvent::TakeEnded { kept, fault } => {
                    let next_pass = self.lesson.again && kept && !fault;
                    self.stop_take();
                    if next_pass {
                        self.lesson.passes += 1;
                        self.start_take(Keep::Take);
                    } else {
                        self.lesson.passes = 0;
                    }
                }
                DeviceEvent::Filed(filed) => {
                    lesson::take_recorded(&mut self.lesson, &filed);
                    if !filed.to_analyse.is_empty() {
                        self.analyse_in_background(filed.id);
                    }
                }
            }
        }
        if let Some(every) = self.devices.wants_frames() {
            ctx.request_repaint_after(every);
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
                Some(problems) => {
                    for p in problems {
                        self.cx.notices.banner(p);
                    }
                }
                None => still.push(job),
            }
        }
        self.analysing = still;
        self.cx.analysing = self.analysing.iter().map(|j| j.take).collect();
    }

    /// Starts analysing a take in the background; the screen is redrawn when it ends.
    fn analyse_in_background(&mut self, take: i64) {
        let done = self.cx.waker();
        self.analysing
            .push(AnalysisJob::start(self.cx.root.clone(), take, done));
        self.cx.analysing = self.analysing.iter().map(|j| j.take).collect();
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
        let (cx, devices) = (&mut self.cx, &self.devices);
        let mut open = self.projector;
        ctx.show_viewport_immediate(id, builder, |ctx, class| {
            if class == egui::ViewportClass::Embedded {
                egui::Window::new("Class view (projector)")
                    .open(&mut open)
                    .default_size([640.0, 420.0])
                    .show(ctx, |ui| class_view::class_view_ui(cx, devices, ui));
                return;
            }
            egui::CentralPanel::default()
                .show(ctx, |ui| class_view::class_view_ui(cx, devices, ui));
            if ctx.input(|i| i.viewport().close_requested()) {
                open = false;
            }
            if devices.is_recording() {
                ctx.request_repaint_after(std::time::Duration::from_millis(25));
            }
        });
        self.projector = open;
    }

    fn top_bar(&mut self, ctx: &egui::Context) {
        egui::TopBottomPanel::top("top bar").show(ctx, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.heading("bandroom");
                ui.separator();
                match self.mode.clone() {
                    Mode::Teacher => self.teacher_bar(ui),
                    Mode::Pupil { .. } => self.pupil_bar(ui),
                }
            });
            // Banners are for the teacher: a pupil at the keyboard never sees them.
            if self.mode == Mode::Teacher {
                self.banners_ui(ui);
            }
            let mut dismiss = false;
            if let Some(error) = &self.cx.notices.error {
                ui.horizontal(|ui| {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                    dismiss = ui.button("OK").clicked();
                });
            }
            if dismiss {
                self.cx.notices.error = None;
            }
        });
    }

    /// Each banner on one line, in words; the technical detail behind "details", and a
    /// button to dismiss it.
    fn banners_ui(&mut self, ui: &mut egui::Ui) {
        let mut dismissed = None;
        for (index, banner) in self.cx.notices.banners.iter().enumerate() {
            let (line, detail) = super::context::banner_line(banner);
            ui.horizontal(|ui| {
                ui.colored_label(ui.visuals().warn_fg_color, &line);
                if let Some(detail) = &detail {
                    ui.menu_button("details", |ui| {
                        ui.label(detail);
                    });
                }
                if ui
                    .small_button("Dismiss")
                    .on_hover_text("hide this note")
                    .clicked()
                {
                    dismissed = Some(index);
                }
            });
        }
        if let Some(index) = dismissed {
            self.cx.notices.banners.remove(index);
        }
    }

    fn teacher_bar(&mut self, ui: &mut egui::Ui) {
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
        if let Some(class) = self.cx.class
            && ui.button("Pupil mode").clicked()
        {
            // A library that cannot say whether a PIN is set asks for one.
            if self.cx.lib.has_pin().unwrap_or(false) {
                self.enter_pupil_mode(class);
            } else {
                self.pin_first.ask(class);
            }
        }
    }

    fn enter_pupil_mode(&mut self, class: i64) {
        self.set_mode(Mode::Pupil { class, pupil: None });
        self.review = ReviewState::default();
    }

    fn pupil_bar(&mut self, ui: &mut egui::Ui) {
        ui.label("Pupil mode");
        ui.separator();
        ui.label("Teacher PIN:");
        let pin = ui.add(
            egui::TextEdit::singleline(&mut self.pin_entry)
                .password(true)
                .desired_width(80.0),
        );
        pin.widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Teacher PIN")
        });
        let enter = pin.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Leave pupil mode").clicked() || enter {
            self.leave_pupil_mode();
        }
    }

    /// Whether a take is being recorded.
    pub fn is_recording(&self) -> bool {
        self.devices.is_recording()
    }

    /// Whether a take, rehearsal or voice note is still being closed and filed.
    pub fn is_finishing(&self) -> bool {
        self.devices.is_finishing()
    }

    /// Whether a voice note is being recorded.
    pub fn is_recording_voice_note(&self) -> bool {
        self.devices.voice_note().is_some()
    }

    /// The level each recorded input's meter shows now.
    pub fn input_levels(&self) -> Vec<f32> {
        self.devices
            .recording()
            .map(|r| r.levels.iter().map(|l| l.level).collect())
            .unwrap_or_default()
    }

    /// The section the engine reports playing, while a part plays.
    pub fn engine_section(&self) -> Option<String> {
        self.devices.recording().and_then(|r| r.engine_section())
    }

    /// Meter reads of the take being recorded (one per frame drawn).
    pub fn meter_reads(&self) -> u64 {
        self.devices.recording().map_or(0, |r| r.meter_reads)
    }

    /// A played part's loudest moment since the last call, while recording.
    pub fn lane_peak(&self, lane: usize) -> Option<f32> {
        self.devices.recording().map(|r| r.lane_peak(lane))
    }

    /// How many tracks are being heard, while a take is playing.
    pub fn playback_tracks(&self) -> Option<usize> {
        self.devices.playback().map(|p| p.state.tracks())
    }

    /// Where playback is (frame), while a take is playing.
    pub fn playback_position(&self) -> Option<u64> {
        self.devices.playback().map(|p| p.state.position())
    }

    /// Whether the window will close once the take being filed is in the library.
    pub fn closes_when_filed(&self) -> bool {
        self.close_when_filed
    }

    fn close_question(&mut self, ctx: &egui::Context) {
        let asked = ctx.input(|i| i.viewport().close_requested());
        if asked && self.devices.is_recording() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.closing = true;
        } else if asked && self.devices.is_finishing() {
            // A take still being filed would be cut off by closing: close once it is in.
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.close_when_filed = true;
        }
        if self.close_when_filed {
            if self.devices.is_finishing() {
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
                    self.stop_take();
                    self.closing = false;
                    self.close_when_filed = true;
                }
                if ui.button("Keep recording").clicked() {
                    self.closing = false;
                }
            });
        });
    }

    /// Changes who is at the keyboard, and keeps pupil mode for this PC in the library,
    /// so the app opens in it again until the teacher PIN ends it.
    fn set_mode(&mut self, mode: Mode) {
        let class = match mode {
            Mode::Pupil { class, .. } => Some(class),
            Mode::Teacher => None,
        };
        if let Err(e) = self
            .cx
            .lib
            .set_pupil_mode(&super::remembered::this_pc(), class)
        {
            self.cx.notices.banner(format!(
                "Pupil mode could not be kept for the next start ({e}): leave the app open"
            ));
        }
        self.mode = mode;
    }

    fn leave_pupil_mode(&mut self) {
        let pin = std::mem::take(&mut self.pin_entry);
        let lib = &mut self.cx.lib;
        let allowed = match lib.has_pin() {
            // Pupil mode starts only once a PIN is set; one removed since (a library
            // from elsewhere) still needs something typed, so a click alone never opens.
            Ok(false) => !pin.is_empty(),
            Ok(true) => match lib.check_pin(&pin) {
                Ok(right) => right,
                // Too many wrong guesses: the wait is the message.
                Err(e) => {
                    self.cx.notices.error(e.to_string());
                    return;
                }
            },
            Err(e) => {
                self.cx.notices.error(e.to_string());
                false
            }
        };
        if allowed {
            self.set_mode(Mode::Teacher);
            self.cx.notices.error = None;
        } else {
            self.cx.notices.error("That is not the teacher PIN.");
        }
    }
}

impl eframe::App for BandroomApp {
    fn update(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.ui(ctx);
        // Kept each frame (cheap), written once as the window closes.
        self.window_size = ctx
            .input(|i| i.viewport().inner_rect)
            .map(|r| [r.width().round(), r.height().round()]);
        self.frames += 1;
        if self.quit_after_frames.is_some_and(|n| self.frames >= n) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if self.quit_after_frames.is_some() {
            ctx.request_repaint();
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(size) = self.window_size {
            self.remember_window(size);
        }
    }
}
