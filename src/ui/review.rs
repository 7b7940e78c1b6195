//! Pupil review mode: a pupil picks their name from their class and sees only the takes
//! they played in, newest first, in type of at least 16 px: the waveform of their own
//! track (named by their name and part) with its timing marks explained in words, the
//! teacher's markers, and a place to write a reflection with a self-assessment on the
//! class's criteria; what they wrote before is there to read and change. Leaving the
//! mode needs the teacher PIN (the top bar asks for it).
//!
//! Must not show other pupils' judgements or takes.

use super::context::{Action, AppContext, Listen};
use super::devices::Devices;
use super::voice_note::Listener;
use super::widgets::{level_buttons, take_caption, waveform};
use crate::library::{LevelWords, TakeFilter};
use eframe::egui;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct ReviewState {
    take: Option<i64>,
    reflection: String,
    self_levels: BTreeMap<String, i64>,
    saved: bool,
    /// The day the pupil last saved a reflection on this take, if they did.
    written: Option<String>,
    sign_in: super::sign_in::SignInState,
}

/// Type a pupil reads at arm's length: at least 16 px at scale 1.
fn pupil_sized(ui: &mut egui::Ui) {
    for (style, font) in ui.style_mut().text_styles.iter_mut() {
        font.size = match style {
            egui::TextStyle::Heading => font.size.max(26.0),
            egui::TextStyle::Small => font.size.max(16.0),
            _ => font.size.max(18.0),
        };
    }
}

pub fn review_ui(
    review: &mut ReviewState,
    cx: &mut AppContext,
    devices: &Devices,
    ui: &mut egui::Ui,
    class: i64,
    pupil: Option<i64>,
) {
    pupil_sized(ui);
    let Some(pupil) = pupil else {
        if super::sign_in::prompt_ui(&mut review.sign_in, cx, ui) {
            return;
        }
        ui.heading("Who are you?");
        let signs_in = cx
            .read(format!("sign-in/{class}"), |lib| {
                lib.sign_in_required(class)
            })
            .unwrap_or(true);
        if !signs_in {
            ui.label(
                "This class has no sign-in: any name opens that pupil's takes. Your teacher \
                 can turn sign-in on in Settings.",
            );
        }
        let pupils = cx.read_or_default(format!("pupils/{class}"), |lib| lib.pupils(Some(class)));
        ui.horizontal_wrapped(|ui| {
            for p in &pupils {
                if ui.button(egui::RichText::new(&p.name).size(20.0)).clicked() {
                    super::sign_in::choose(&mut review.sign_in, cx, class, p.id);
                }
            }
        });
        return;
    };
    let name = cx
        .read(format!("pupil name/{pupil}"), |lib| lib.pupil_name(pupil))
        .unwrap_or_default();
    ui.horizontal(|ui| {
        ui.heading(format!("{name}: your takes"));
        if ui
            .button(egui::RichText::new("Not me").size(18.0))
            .on_hover_text("back to the names, to choose yours")
            .clicked()
        {
            cx.act(Action::ChoosePupil(None));
        }
    });
    let takes = cx.read_or_default(format!("takes of pupil {pupil}"), |lib| {
        lib.takes(&TakeFilter {
            pupil: Some(pupil),
            ..TakeFilter::default()
        })
    });
    if takes.is_empty() {
        ui.label("You have not played in a recorded take yet.");
        return;
    }
    // Newest first: the take a pupil comes to look at is usually today's.
    for take in takes.iter().rev() {
        if ui
            .add(egui::Button::selectable(
                review.take == Some(take.id),
                take_caption(take),
            ))
            .clicked()
        {
            // What they wrote about it before is there to read and change.
            let earlier = cx
                .lib
                .reflections(pupil)
                .unwrap_or_default()
                .into_iter()
                .rev()
                .find(|(t, _, _)| *t == take.id);
            *review = ReviewState {
                take: Some(take.id),
                sign_in: std::mem::take(&mut review.sign_in),
                reflection: earlier
                    .as_ref()
                    .map(|(_, _, text)| text.clone())
                    .unwrap_or_default(),
                written: earlier.map(|(_, at, _)| at.get(..10).unwrap_or_default().to_string()),
                ..ReviewState::default()
            };
        }
    }
    let Some(take) = takes.iter().find(|t| Some(t.id) == review.take) else {
        return;
    };
    ui.separator();
    let folder = cx.lib.take_folder(take);
    let timing = super::timing::for_take(cx, take);
    let mine = take
        .tracks
        .iter()
        .find(|t| t.performers.iter().any(|p| p.pupil_id == pupil))
        .map(|t| {
            let part = t.performers.iter().find_map(|p| p.part.clone());
            (t.number, part)
        });
    let take = take.clone();
    super::playback::controls(cx, devices, ui, &take, mine);
    for track in take
        .tracks
        .iter()
        .filter(|t| t.performers.iter().any(|p| p.pupil_id == pupil))
    {
        let part = track
            .performers
            .iter()
            .find(|p| p.pupil_id == pupil)
            .and_then(|p| p.part.clone());
        ui.label(match part {
            Some(part) => format!("Your track: {name}, {part}"),
            None => format!("Your track: {name}"),
        });
        let rect = waveform(ui, &mut cx.peaks, &folder.join(&track.file), 80.0);
        super::playback::cursor(devices, ui, rect, take.id);
        super::timing::show_for_pupil(ui, rect, timing.get(&track.number), track.frames);
    }
    let take = &take;
    let id = take.id;
    // Only markers written for the players or for this pupil, with classmates unnamed.
    let markers = cx
        .read(format!("markers/{id}/for/{pupil}"), |lib| {
            lib.markers_for_pupil(id, pupil)
        })
        .unwrap_or_default();
    if !markers.is_empty() {
        ui.strong("Your teacher marked:");
        for (frame, text) in markers {
            let at = crate::time_text::clock(frame as f64 / f64::from(take.sample_rate_hz.max(1)));
            ui.label(format!("{at}  {text}"));
        }
    }
    super::voice_note::voice_notes_ui(cx, devices, ui, take, Listener::Pupil(pupil));
    ui.separator();
    reflection_ui(review, cx, ui, class, pupil, take.id);
}

/// Whether pupil mode may play `listen` of `take` to `pupil` (`None`: nobody chosen
/// yet): the whole take or their own track when they played in it, and the voice notes
/// for the players or for them. Never a classmate's track alone or a note about them.
pub fn may_hear(
    lib: &crate::library::Library,
    pupil: Option<i64>,
    take: &crate::library::TakeSummary,
    listen: &Listen,
) -> bool {
    let Some(pupil) = pupil else {
        return false;
    };
    // Who played what is read from the library, not from the request.
    let Ok(take) = lib.take(take.id) else {
        return false;
    };
    let theirs =
        |t: &&crate::library::TrackSummary| t.performers.iter().any(|p| p.pupil_id == pupil);
    match listen {
        Listen::Whole => take.tracks.iter().any(|t| theirs(&t)),
        Listen::JustMe(track) | Listen::WithPart(track, _) => take
            .tracks
            .iter()
            .filter(theirs)
            .any(|t| t.number == *track),
        Listen::VoiceNote(file) => lib
            .voice_notes_for_pupil(take.id, pupil)
            .is_ok_and(|notes| notes.iter().any(|n| &n.file == file)),
    }
}

/// The pupil's reflection on `take` and their self-assessment on the class's criteria.
fn reflection_ui(
    review: &mut ReviewState,
    cx: &mut AppContext,
    ui: &mut egui::Ui,
    class: i64,
    pupil: i64,
    take: i64,
) {
    ui.heading("How did it go?");
    if let Some(day) = &review.written {
        ui.label(format!(
            "You wrote this on {day}. Change it and save again if you like."
        ));
    }
    let field = ui.add(
        egui::TextEdit::multiline(&mut review.reflection)
            .hint_text("What went well? What will you try next time?")
            .desired_rows(3)
            .desired_width(ui.available_width().min(720.0)),
    );
    field.widget_info(|| {
        egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Your reflection")
    });
    let criteria = cx.read(format!("criterion levels/{class}"), |lib| {
        lib.criterion_levels(class)
    });
    let criteria = cx.report(criteria).unwrap_or_default();
    for criterion in &criteria {
        let title = &criterion.title;
        ui.label(title);
        let current = review.self_levels.get(&criterion.key).copied();
        // A pupil reads each level as something they do, in words they would use.
        let levels: Vec<LevelWords> = criterion
            .levels
            .iter()
            .map(|l| LevelWords {
                label: if l.pupil_words.is_empty() {
                    l.label.clone()
                } else {
                    l.pupil_words.clone()
                },
                description: format!("{}: {}", l.label, l.description),
                pupil_words: l.pupil_words.clone(),
            })
            .collect();
        if let Some(level) = level_buttons(ui, &format!("my {title}"), &levels, current) {
            review.self_levels.insert(criterion.key.clone(), level);
        }
    }
    if review.saved {
        ui.label("Saved. Well done for thinking about it.");
    }
    if ui.button("Save my reflection").clicked() {
        let levels: Vec<(String, String)> = review
            .self_levels
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        let text = review.reflection.clone();
        let saved = cx.lib.add_reflection(take, pupil, &text, &levels);
        review.saved = cx.report(saved).is_some();
    }
}
