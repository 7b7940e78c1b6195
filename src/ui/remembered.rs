//! What the app keeps between starts: theme and scale, the class and piece the teacher
//! last had in hand (saved in the library whenever one of them changes), and the
//! window's size (saved when the window closes, not on every frame of a resize).
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
    /// The window's inner size in points when it last closed.
    #[serde(default)]
    pub window: Option<[f32; 2]>,
}

/// The size the window opens at when none is remembered, and the smallest it may be.
pub const DEFAULT_WINDOW: [f32; 2] = [1280.0, 800.0];
pub const SMALLEST_WINDOW: [f32; 2] = [640.0, 400.0];

impl Remembered {
    /// What the context shows now.
    pub fn of(cx: &AppContext) -> Remembered {
        Remembered {
            dark: cx.look.dark,
            zoom: Some(cx.look.zoom),
            class: cx.class,
            arrangement: cx.arrangement.clone(),
            window: None,
        }
    }

    /// The size to open the window at: the remembered one, kept within sensible
    /// bounds (a size saved on a bigger screen still opens on this one).
    pub fn window_to_open(&self) -> [f32; 2] {
        match self.window {
            Some([w, h]) if w.is_finite() && h.is_finite() => [
                w.clamp(SMALLEST_WINDOW[0], 7680.0),
                h.clamp(SMALLEST_WINDOW[1], 4320.0),
            ],
            _ => DEFAULT_WINDOW,
        }
    }

    /// Saves the window's size (as the window closes).
    pub fn save_window(&mut self, cx: &mut AppContext, size: [f32; 2]) {
        if self.window == Some(size) {
            return;
        }
        self.window = Some(size);
        self.write(cx);
    }

    fn write(&self, cx: &mut AppContext) {
        let json = serde_json::to_string(self).unwrap_or_default();
        if let Err(e) = cx.lib.set_app_state(&json) {
            cx.notices.banner(format!(
                "The app's look could not be saved for next time: {e}"
            ));
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
        let now = Remembered {
            window: self.window,
            ..Remembered::of(cx)
        };
        if now == *self {
            return;
        }
        *self = now;
        self.write(cx);
    }
}

/// This PC's name as the library keys what is kept per PC (its pupil mode).
pub fn this_pc() -> String {
    let name = gethostname::gethostname()
        .to_string_lossy()
        .trim()
        .to_string();
    if name.is_empty() {
        "this-pc".to_string()
    } else {
        name
    }
}
