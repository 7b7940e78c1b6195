//! "Which mic is this?" on the room plan: every input device listened to at once, the
//! one clapped at lit for a few seconds; and the list of microphones that can be put on
//! the plan, looked up on a thread of its own.
//!
//! Owns the listening while it runs (a minute at most, so a forgotten one lets the
//! device go) and the last answer of the lookup. Must not decide what a card shows: the
//! room plan reads `lit` and `found`.

use crate::audio::device::{InputDevice, input_devices};
use crate::audio::identify::{ListenedInput, Listening, listen, main_input_of, room_request};
use crate::audio::settings::Settings;
use crate::jobs::Background;
use crate::session::DeviceChoice;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the levels are read.
const READ_EVERY: Duration = Duration::from_millis(50);
/// How long a card stays lit after it was heard.
const LIT_FOR: Duration = Duration::from_secs(3);
/// Listening ends by itself after this long.
const LISTEN_AT_MOST: Duration = Duration::from_secs(60);

/// The room being listened to.
pub struct Identifying {
    listening: Listening,
    started: Instant,
    last_read: Instant,
    heard: Option<(ListenedInput, Instant)>,
}

impl Identifying {
    /// Opens every input device of the chosen host (the interface with all its inputs,
    /// every other as a microphone) and listens.
    pub fn start(root: &Path, choice: &DeviceChoice) -> anyhow::Result<Identifying> {
        use anyhow::Context;
        let settings = Settings::load(root)?;
        let room = choice.room_listen(&settings)?;
        let request = room_request(&room)?;
        let listening = listen(&request)
            .with_context(|| format!("listening to the inputs of {}", room.host.name()))?;
        let now = Instant::now();
        Ok(Identifying {
            listening,
            started: now,
            last_read: now,
            heard: None,
        })
    }

    /// Reads the levels when it is time; false once it has listened long enough.
    pub fn update(&mut self) -> bool {
        if self.last_read.elapsed() >= READ_EVERY {
            self.last_read = Instant::now();
            if let Some(input) = self.listening.poll() {
                self.heard = Some((input.clone(), Instant::now()));
            }
        }
        self.started.elapsed() < LISTEN_AT_MOST
    }

    /// The input heard in the last few seconds.
    pub fn lit(&self) -> Option<&ListenedInput> {
        self.heard
            .as_ref()
            .filter(|(_, at)| at.elapsed() < LIT_FOR)
            .map(|(input, _)| input)
    }

    /// Seconds left before it stops by itself.
    pub fn seconds_left(&self) -> u64 {
        LISTEN_AT_MOST
            .saturating_sub(self.started.elapsed())
            .as_secs()
    }

    pub fn stop(self) {
        self.listening.stop();
    }
}

/// The microphones that can sit on the room plan: every input device of the chosen
/// host except the interface the take runs on.
#[derive(Default)]
pub struct MicFinder {
    job: Option<Background<Result<Vec<InputDevice>, String>>>,
    found: Option<Result<Vec<InputDevice>, String>>,
}

impl MicFinder {
    /// Starts looking (again); `done` wakes the window when the answer is in.
    pub fn ask(&mut self, root: &Path, choice: &DeviceChoice, done: Box<dyn FnOnce() + Send>) {
        let root = root.to_path_buf();
        let choice = choice.clone();
        self.job = Some(Background::start(
            "listing microphones",
            move || {
                let settings = Settings::load(&root).map_err(|e| e.to_string())?;
                let room = choice.room_listen(&settings).map_err(|e| e.to_string())?;
                let devices = input_devices(&room.host).map_err(|e| e.to_string())?;
                let main =
                    main_input_of(&devices, room.main_input.as_deref()).map(|d| d.id.clone());
                Ok(devices
                    .into_iter()
                    .filter(|d| Some(&d.id) != main.as_ref())
                    .collect())
            },
            done,
        ));
    }

    pub fn looking(&self) -> bool {
        self.job.is_some()
    }

    /// The last answer: the microphones, or why there are none.
    pub fn found(&mut self) -> Option<&Result<Vec<InputDevice>, String>> {
        if let Some(job) = &mut self.job
            && let Some(answer) = job.poll()
        {
            self.job = None;
            self.found = Some(answer.and_then(|r| r));
        }
        self.found.as_ref()
    }
}
