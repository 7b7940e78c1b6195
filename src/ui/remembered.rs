//! What the app keeps between starts: theme and scale, and the class and piece the
//! teacher last had in hand, saved in the library whenever one of them changes.
//!
//! Must not keep anything about a pupil, and must not stop the app when the saved state
//! is damaged or cannot be written (the defaults are used, and the error is shown once).

use super::context::{AppContext, Look};

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Remembered {
    pub dark: bool,
    pub zoom: Option<f32>,
    pub class: Option<i64>,
    pub arrangement: Option<String>,
}

impl Remembered {
    /// What the context shows now.
    pub fn of(cx: &AppContext) -> Remembered {
        Remembered {
            dark: cx.look.dark,
            zoom: Some(cx.look.zoom),
            class: cx.class,
            arrangement: cx.arrangement.clone(),
        }
    }

    /// Reads what was saved; a class that no longer exists is forgotten.
    pub fn load(cx: &mut AppContext) -> Remembered {
        let saved = match cx.lib.app_state() {
            Ok(Some(json)) => serde_json::from_str::<Remembered>(&json).unwrap_or_default(),
            Ok(None) => Remembered::default(),
            Err(e) => {
                cx.notices
                    .banner(format!("The app's saved look could not be read: {e}"));
                Remembered::default()
            }
        };
        let classes = cx.lib.classes().unwrap_or_default();
        Remembered {
            class: saved.class.filter(|id| classes.iter().any(|c| c.id == *id)),
            ..saved
        }
    }

    /// Puts the saved state into the context.
    pub fn apply(&self, cx: &mut AppContext) {
        cx.look = Look {
            dark: self.dark,
            zoom: self.zoom.filter(|z| (0.5..=3.0).contains(z)).unwrap_or(1.0),
        };
        cx.class = self.class;
        cx.arrangement.clone_from(&self.arrangement);
    }

    /// Saves the context's state if it differs from `self` (what was saved last).
    pub fn save_if_changed(&mut self, cx: &mut AppContext) {
        let now = Remembered::of(cx);
        if now == *self {
            return;
        }
        let json = serde_json::to_string(&now).unwrap_or_default();
        if let Err(e) = cx.lib.set_app_state(&json) {
            cx.notices.banner(format!(
                "The app's look could not be saved for next time: {e}"
            ));
        }
        *self = now;
    }
}
