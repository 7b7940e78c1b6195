//! Voice notes from the app: the teacher records a short spoken comment on a take,
//! pinned to the moment being played (or to the take as a whole), and anyone reviewing
//! the take can play it.
//!
//! Owns the short recording (one input, through the same session code as a take, into
//! the library's staging folder) and handing the file to the library. Must not keep
//! anything in staging once the note is filed or abandoned.

use super::context::{Action, AppContext, Listen};
use super::devices::Devices;
use super::finishing::{Done, Finishing};
use crate::audio::settings::Settings;
use crate::library::{Library, NoteAudience, TakeSummary};
use crate::session::{RunningTake, TakePoll, TakeSetup, open_device};
use crate::time_text::clock;
use eframe::egui;
use std::time::Instant;

/// A voice note stops by itself after this long: it is a comment, not a take.
const LONGEST_SECS: f64 = 120.0;

pub struct VoiceNoteRecording {
    pub take: i64,
    /// The moment of the take it is pinned to.
    pub frame: Option<u64>,
    /// Who may hear it in pupil review.
    pub audience: NoteAudience,
    running: RunningTake,
    pub started: Instant,
}

impl VoiceNoteRecording {
    /// Starts recording `input` for a note on `take`. Returns the recording and, when
    /// the chosen device could not be opened, the virtual device's banner.
    pub fn start(
        lib: &mut Library,
        root: &std::path::Path,
        choice: &crate::session::DeviceChoice,
        take: &TakeSummary,
        (frame, audience): (Option<u64>, NoteAudience),
        input: usize,
    ) -> anyhow::Result<(VoiceNoteRecording, Option<String>)> {
        let settings = Settings::load(root)?;
        let (opened, banner) = open_device(&settings, choice, input, None)?;
        let folder = lib.staging_folder()?;
        let running = RunningTake::start(
            opened,
            TakeSetup::just_record(folder, vec![input], LONGEST_SECS),
        )?;
        Ok((
            VoiceNoteRecording {
                take: take.id,
                frame,
                audience,
                running,
                started: Instant::now(),
            },
            banner,
        ))
    }

    /// True once the note has reached its longest or the device stopped.
    pub fn ended(&mut self) -> bool {
        !matches!(self.running.poll(), TakePoll::Recording { .. })
    }

    /// Stops; the note is filed with its take and the staging folder cleared off the
    /// UI thread.
    pub fn stop(self, root: &std::path::Path, wake: Box<dyn FnOnce() + Send>) -> Finishing {
        let root = root.to_path_buf();
        let (take, frame, audience) = (self.take, self.frame, self.audience);
        let then = Box::new(move |finished: crate::session::FinishedTake| {
            let folder = finished.folder.clone();
            let filed = match finished.take.tracks.first() {
                Some(track) if finished.take.frames > 0 => Library::reopen(&root)
                    .and_then(|mut lib| {
                        lib.add_voice_note(
                            take,
                            frame,
                            &folder.join(&track.file),
                            "teacher",
                            audience,
                        )
                    })
                    .map(|_| Done::VoiceNote)
                    .map_err(|e| format!("the voice note could not be kept: {e}")),
                _ => Err("the voice note was empty: nothing was heard on the input".into()),
            };
            // The note is copied into the take's folder; what is left here is scratch.
            let _ = std::fs::remove_dir_all(&folder);
            filed
        });
        Finishing::start("the voice note", self.running, then, wake)
    }
}

/// Who is reading: the teacher (records notes, hears them all) or one pupil (hears only
/// the notes for the players and for them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    Teacher,
    Pupil(i64),
}

/// The voice-note button for `take`, and its notes with a play button each.
pub fn voice_notes_ui(
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
    take: &TakeSummary,
    listener: Listener,
) {
    let id = take.id;
    let notes = match listener {
        Listener::Teacher => {
            record_ui(cx, devices, ui, take);
            cx.read_or_default(format!("voice notes/{id}"), |lib| lib.voice_notes(id))
        }
        Listener::Pupil(pupil) => cx.read_or_default(format!("voice notes/{id}/{pupil}"), |lib| {
            lib.voice_notes_for_pupil(id, pupil)
        }),
    };
    let rate = f64::from(take.sample_rate_hz.max(1));
    for note in notes {
        ui.horizontal(|ui| {
            let at = note
                .frame
                .map_or("the whole take".to_string(), |f| clock(f as f64 / rate));
            match listener {
                Listener::Teacher => ui.label(format!(
                    "Voice note on {at} ({}), for {}",
                    note.author,
                    audience_words(take, note.audience)
                )),
                Listener::Pupil(_) => ui.label(match note.audience {
                    NoteAudience::Pupil(_) => format!("Your teacher's voice note to you on {at}"),
                    _ => format!("Your teacher's voice note to everyone who played, on {at}"),
                }),
            };
            if ui
                .add_enabled(!devices.busy(), egui::Button::new("Play"))
                .on_hover_text(format!("play the voice note on {at}"))
                .clicked()
            {
                cx.act(Action::Play(
                    Box::new(take.clone()),
                    Listen::VoiceNote(note.file.clone()),
                ));
            }
        });
    }
}

/// "the teacher only", "everyone who played", or the pupil's name.
fn audience_words(take: &TakeSummary, audience: NoteAudience) -> String {
    match audience {
        NoteAudience::Pupil(id) => take
            .tracks
            .iter()
            .flat_map(|t| &t.performers)
            .find(|p| p.pupil_id == id)
            .map_or_else(|| audience.describe().to_string(), |p| p.name.clone()),
        _ => audience.describe().to_string(),
    }
}

/// The teacher's "Voice note (V)" button and who the next note is for.
fn record_ui(cx: &mut AppContext, devices: &Devices, ui: &mut egui::Ui, take: &TakeSummary) {
    let rate = f64::from(take.sample_rate_hz.max(1));
    let typing = ui.ctx().wants_keyboard_input();
    let key = !typing && ui.input(|i| i.key_pressed(egui::Key::V));
    ui.horizontal(|ui| {
        if let Some(note) = devices.voice_note().filter(|v| v.take == take.id) {
            ui.colored_label(
                egui::Color32::from_rgb(210, 50, 40),
                format!(
                    "Recording a voice note {} for {}",
                    clock(note.started.elapsed().as_secs_f64()),
                    audience_words(take, note.audience)
                ),
            );
            if ui.button("Stop and keep the voice note (V)").clicked() || key {
                cx.act(Action::StopVoiceNote);
            }
            return;
        }
        let free = !devices.busy();
        let pinned = devices
            .playback()
            .filter(|p| p.take == take.id)
            .map(|p| p.state.position());
        let label = match pinned {
            Some(frame) => format!("Voice note at {} (V)", clock(frame as f64 / rate)),
            None => "Voice note (V)".to_string(),
        };
        let audience = audience_choice(ui, take);
        if (free && key)
            || ui
                .add_enabled(free, egui::Button::new(label))
                .on_hover_text(format!(
                    "speak a comment into input {}; it is kept with this take",
                    devices.voice_input
                ))
                .clicked()
        {
            cx.act(Action::StartVoiceNote(
                Box::new(take.clone()),
                pinned,
                audience,
            ));
        }
    });
}

/// A drop-down of who the next voice note is for: the teacher unless changed, kept per
/// take while the window is open.
fn audience_choice(ui: &mut egui::Ui, take: &TakeSummary) -> NoteAudience {
    let id = egui::Id::new(("voice note for", take.id));
    let mut audience: NoteAudience = ui.data(|d| d.get_temp(id)).unwrap_or_default();
    // Each player once, in seat order.
    let mut seen = std::collections::HashSet::new();
    let players: Vec<(i64, &str)> = take
        .tracks
        .iter()
        .flat_map(|t| &t.performers)
        .filter(|p| seen.insert(p.pupil_id))
        .map(|p| (p.pupil_id, p.name.as_str()))
        .collect();
    egui::ComboBox::from_id_salt(id)
        .selected_text(format!("for {}", audience_words(take, audience)))
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut audience, NoteAudience::Teacher, "for the teacher only");
            ui.selectable_value(
                &mut audience,
                NoteAudience::Players,
                "for everyone who played",
            );
            for (pupil, name) in players {
                ui.selectable_value(
                    &mut audience,
                    NoteAudience::Pupil(pupil),
                    format!("for {name}"),
                );
            }
        })
        .response
        .on_hover_text("who may hear the note when pupils review the take");
    ui.data_mut(|d| d.insert_temp(id, audience));
    audience
}
