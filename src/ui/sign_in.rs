//! Pupil sign-in in the app: the teacher's switch and card sheet for the open class (on
//! the Settings screen), and the pupil's "type the two words on your card" after they
//! choose their name in pupil mode.
//!
//! Owns the prompt's state: who is signing in and what they typed. Wrong tries and the
//! wait they earn are counted by the library, per pupil, so a restart, "Not me" or a
//! classmate signing in never clears them and one pupil's mistypes never lock out
//! another. Must not decide what a signed-in pupil sees (`review` does) or keep codes
//! (the library does).

use super::context::{Action, AppContext};
use crate::library::SignInOutcome;
use eframe::egui;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct SignInState {
    /// The pupil whose name was chosen, waiting for their code.
    pupil: Option<i64>,
    typed: String,
    /// When the chosen pupil's next try may be made (as the library last said).
    wait_until: Option<Instant>,
    said: Option<String>,
    /// The words field has been given the keyboard (once, so a click elsewhere holds).
    focused: bool,
}

/// Chooses `pupil` as the one to sign in: straight in when the class asks for no code.
pub fn choose(state: &mut SignInState, cx: &mut AppContext, class: i64, pupil: i64) {
    let required = cx.read(format!("sign-in/{class}"), |lib| {
        lib.sign_in_required(class)
    });
    // A library that cannot say asks for the code: never in without one by mistake.
    if required.unwrap_or(true) {
        state.pupil = Some(pupil);
        state.typed.clear();
        state.said = None;
        state.focused = false;
        // Each pupil's wait is their own, kept in the library: choosing them again (or
        // after a restart) shows it.
        state.wait_until = cx
            .lib
            .sign_in_wait(pupil)
            .ok()
            .flatten()
            .map(|secs| Instant::now() + Duration::from_secs(secs));
    } else {
        cx.act(Action::ChoosePupil(Some(pupil)));
    }
}

/// The code prompt when a name has been chosen; false when there is none to show.
pub fn prompt_ui(state: &mut SignInState, cx: &mut AppContext, ui: &mut egui::Ui) -> bool {
    let Some(pupil) = state.pupil else {
        return false;
    };
    let name = cx
        .read(format!("pupil name/{pupil}"), |lib| lib.pupil_name(pupil))
        .unwrap_or_default();
    ui.heading(format!("Hello {name}"));
    ui.label("Type the two words on your sign-in card.");
    let waiting = state
        .wait_until
        .filter(|until| *until > Instant::now())
        .map(|until| until - Instant::now());
    let mut submit = false;
    ui.add_enabled_ui(waiting.is_none(), |ui| {
        ui.horizontal(|ui| {
            let field = ui.add(
                egui::TextEdit::singleline(&mut state.typed)
                    .hint_text("two words")
                    .desired_width(280.0),
            );
            field.widget_info(|| {
                egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Your sign-in words")
            });
            // Ready to type as soon as the name is chosen, and again after a wrong try.
            if !state.focused {
                field.request_focus();
                state.focused = true;
            }
            submit = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            submit |= ui.button("Sign in").clicked();
        });
    });
    if let Some(left) = waiting {
        ui.label(format!(
            "Too many tries. Wait {} seconds, or ask your teacher.",
            left.as_secs() + 1
        ));
        ui.ctx().request_repaint_after(Duration::from_millis(500));
    } else if let Some(said) = &state.said {
        ui.label(said);
    }
    if submit && waiting.is_none() {
        match cx.lib.attempt_sign_in(pupil, &state.typed) {
            Ok(SignInOutcome::Welcome) => {
                *state = SignInState::default();
                cx.act(Action::ChoosePupil(Some(pupil)));
                return true;
            }
            Ok(SignInOutcome::Wrong { .. }) => {
                state.typed.clear();
                state.focused = false;
                state.said = Some(
                    "Those are not the words on your card. Try again, or ask your teacher.".into(),
                );
            }
            Ok(SignInOutcome::Wait { secs }) => {
                state.typed.clear();
                state.focused = false;
                state.wait_until = Some(Instant::now() + Duration::from_secs(secs));
            }
            Err(e) => cx.notices.error(format!("Signing in did not work: {e}")),
        }
    }
    if ui
        .button("Not me: back to the names")
        .on_hover_text("choose your own name")
        .clicked()
    {
        // The tries and any wait stay in the library: going back starts nothing again.
        state.pupil = None;
        state.typed.clear();
        state.said = None;
    }
    true
}

/// The teacher's switch for the open class, and the card sheet.
pub fn settings_ui(state: &mut SignInState, cx: &mut AppContext, ui: &mut egui::Ui) {
    ui.heading("Pupil sign-in");
    let Some(class) = cx.class else {
        ui.label("Choose a class first: sign-in is set for each class.");
        return;
    };
    let name = cx.class_name(class);
    let on = cx
        .read(format!("sign-in/{class}"), |lib| {
            lib.sign_in_required(class)
        })
        .unwrap_or(false);
    ui.label(
        "With sign-in on, a pupil chooses their name and types the two words on their card, \
         so they open only their own takes and write only as themselves.",
    );
    let mut wanted = on;
    ui.checkbox(&mut wanted, format!("Pupils of {name} sign in with a code"));
    if wanted != on {
        let set = cx.lib.set_sign_in(class, wanted);
        cx.report(set);
        state.said = None;
    }
    if on
        && ui
            .button(format!("Print the sign-in cards for {name}"))
            .on_hover_text("opens a page of cards to print and cut out")
            .clicked()
    {
        state.said = Some(write_and_open_cards(cx, class, &name));
    }
    guessed_codes_ui(cx, class, ui);
    if let Some(said) = &state.said {
        ui.label(said);
    }
}

/// Pupils whose code someone kept typing wrongly: said to the teacher, with a new code a
/// click away (a classmate may have seen the card).
fn guessed_codes_ui(cx: &mut AppContext, class: i64, ui: &mut egui::Ui) {
    let guessed = cx
        .read(format!("guessed codes/{class}"), |lib| {
            lib.guessed_codes(class)
        })
        .unwrap_or_default();
    for guess in guessed {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "⚠ {} wrong codes were typed for {} since their card was made: someone may \
                 be guessing it.",
                guess.wrong_tries, guess.name
            ));
            if ui
                .button(format!("Give {} a new code", guess.name))
                .on_hover_text("their old card stops working; print the cards again")
                .clicked()
            {
                let renewed = cx.lib.renew_sign_in_code(guess.pupil).map(|_| ());
                cx.report(renewed);
            }
        });
    }
}

fn write_and_open_cards(cx: &mut AppContext, class: i64, name: &str) -> String {
    let cards: Vec<(String, String)> = match cx.lib.sign_in_codes(class) {
        Ok(codes) => codes.into_iter().map(|(_, n, c)| (n, c)).collect(),
        Err(e) => return format!("The cards could not be made: {e}"),
    };
    let folder = cx.root.join(crate::library::SIGN_IN_CARDS_DIR);
    if let Err(e) = crate::own_files::create_private_dir_all(&folder) {
        return format!(
            "The cards could not be written in {}: {e}",
            folder.display()
        );
    }
    let path = folder.join(crate::library::sign_in_cards_file(class));
    if let Err(e) = crate::export::sign_in_cards::write_cards(&path, name, &cards, true) {
        return format!("The cards could not be written to {}: {e}", path.display());
    }
    match open::that_detached(&path) {
        Ok(()) => format!(
            "{} card(s) opened to print: {}",
            cards.len(),
            path.display()
        ),
        Err(_) => format!(
            "{} card(s) written: open {} to print them",
            cards.len(),
            path.display()
        ),
    }
}
