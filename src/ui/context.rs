//! What every screen is handed each frame: the library, the class and arrangement in
//! hand, the notices under the top bar, a waker for background work, the waveform
//! cache, and the queue of actions the app applies once the screens have drawn.
//!
//! Library results a screen shows are read through `AppContext::read`, which keeps them
//! until the library's revision moves (a write by this app, the command line or a
//! background job), so nothing is queried every frame. Must not own a device: what
//! plays or records is `devices`', and screens change it only by pushing an `Action`.

use super::transport::Keep;
use super::widgets::PeakCache;
use crate::library::{Library, LibraryError, NoteAudience, TakeSummary};
use eframe::egui;
use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Which screen is showing.
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

/// What is to be heard of a take.
#[derive(Clone, Debug, PartialEq)]
pub enum Listen {
    Whole,
    /// One track alone ("hear just me").
    JustMe(i64),
    /// One track with the reference part it played.
    WithPart(i64, String),
    /// A voice note kept with the take (its file, relative to the take's folder).
    VoiceNote(String),
}

/// A change a screen asks for that reaches beyond itself: applied by the app, in order,
/// after the frame's screens have drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Open(Screen),
    ChooseClass(Option<i64>),
    ChooseArrangement(Option<String>),
    /// A take opened on the lesson screen (evidence followed from Progress).
    OpenTake(i64),
    /// In pupil mode: the pupil at the keyboard, or none ("Not me": back to the names).
    ChoosePupil(Option<i64>),
    StartTake(Keep),
    StopTake,
    /// Mute or solo a part of the take being recorded.
    SetLane {
        lane: usize,
        muted: bool,
        soloed: bool,
    },
    /// Silence every MIDI instrument the take is playing parts on.
    AllNotesOff,
    Play(Box<TakeSummary>, Listen),
    StopPlayback,
    /// A voice note on a take, pinned to a frame of it.
    StartVoiceNote(Box<TakeSummary>, Option<u64>, NoteAudience),
    StopVoiceNote,
    /// Analyse a take's tracks that have a part, in the background.
    Analyse(i64),
    /// The pedal was learnt or forgotten: open its ports again.
    ListenForPedalAgain,
    /// The input the teacher's voice notes are recorded from.
    SetVoiceInput(usize),
    /// "Which mic is this?": listen to every input (true) or stop (false).
    IdentifyMics(bool),
}

/// How the app looks: theme and size, set in Settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Look {
    pub dark: bool,
    pub zoom: f32,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            dark: false,
            zoom: 1.0,
        }
    }
}

/// The lasting banners and the latest error, shown under the top bar.
#[derive(Debug, Default)]
pub struct Notices {
    pub banners: Vec<String>,
    pub error: Option<String>,
}

impl Notices {
    /// A lasting note, said once however often it is raised.
    pub fn banner(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !self.banners.contains(&text) {
            self.banners.push(text);
        }
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.error = Some(text.into());
    }
}

/// A banner as one line a teacher reads at a glance, and the rest (device names, paths,
/// the error's own words) as detail: the line ends at the first explanation in
/// parentheses or after the first sentence, and never holds a path.
pub fn banner_line(text: &str) -> (String, Option<String>) {
    const LONGEST: usize = 110;
    // The explanation in parentheses is detail; failing that, the first sentence is
    // the line, then the words before a colon.
    let cut = [" (", ". ", ": "]
        .iter()
        .find_map(|mark| text.find(mark).map(|at| (at, *mark)));
    let looks_technical = text.contains('/') || text.contains('\\') || text.contains("--");
    if text.chars().count() <= LONGEST && !looks_technical {
        return (text.to_string(), None);
    }
    let head = match cut {
        Some((at, ". ")) => &text[..=at],
        Some((at, _)) => &text[..at],
        None => text,
    };
    let head: String = head.chars().take(LONGEST).collect();
    // A path or flag in the first words still goes behind "details".
    let head = if head.contains('/') || head.contains("--") {
        "Something needs your attention.".to_string()
    } else {
        head
    };
    (head, Some(text.to_string()))
}

/// Library reads kept until the library changes.
#[derive(Default)]
pub struct LibraryCache {
    revision: Option<u64>,
    entries: HashMap<String, Box<dyn Any>>,
    /// Reads that went to the database (for tests and the benchmark).
    pub reads: u64,
}

impl LibraryCache {
    /// Forgets everything when `revision` differs from the one the entries were read at.
    pub fn follow(&mut self, revision: u64) {
        if self.revision != Some(revision) {
            self.entries.clear();
            self.revision = Some(revision);
        }
    }
}

pub struct AppContext {
    pub lib: Library,
    pub root: PathBuf,
    pub class: Option<i64>,
    pub arrangement: Option<String>,
    pub look: Look,
    pub notices: Notices,
    pub actions: Vec<Action>,
    pub cache: LibraryCache,
    pub peaks: PeakCache,
    /// Takes whose timing is being analysed in the background.
    pub analysing: Vec<i64>,
    /// Arrangements' titles by name, read once (a file in the school's folder is read
    /// from disk, so not every frame).
    titles: HashMap<String, Option<String>>,
    egui: Option<egui::Context>,
}

impl AppContext {
    pub fn new(lib: Library, root: &Path) -> AppContext {
        AppContext {
            lib,
            root: root.to_path_buf(),
            class: None,
            arrangement: None,
            look: Look::default(),
            notices: Notices::default(),
            actions: Vec::new(),
            cache: LibraryCache::default(),
            peaks: PeakCache::default(),
            analysing: Vec::new(),
            titles: HashMap::new(),
            egui: None,
        }
    }

    /// Called at the start of every frame: remembers the window (for wakers) and drops
    /// cached reads if the library changed since they were made.
    pub fn begin_frame(&mut self, ctx: &egui::Context) {
        if self.egui.is_none() {
            self.egui = Some(ctx.clone());
        }
        self.cache.follow(self.lib.revision());
    }

    /// The title of the arrangement in hand ("Clapping Music", not its file name).
    pub fn arrangement_title(&mut self) -> Option<String> {
        let name = self.arrangement.clone()?;
        Some(self.title_of(&name))
    }

    /// The title of the arrangement called `name` (read once, then kept), or the name
    /// when it cannot be read.
    pub fn title_of(&mut self, name: &str) -> String {
        let name = name.to_string();
        let folder = crate::library::arrangements_folder(&self.root);
        let title = self.titles.entry(name.clone()).or_insert_with(|| {
            crate::music::resolve_in(&name, Some(&folder))
                .ok()
                .map(|a| a.title)
        });
        title.clone().unwrap_or(name)
    }

    /// The name of class `class`, or "this class" when the library cannot say.
    pub fn class_name(&self, class: i64) -> String {
        self.lib
            .classes()
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.id == class)
            .map_or_else(|| "this class".to_string(), |c| c.name)
    }

    /// Asks the app to do something beyond the screen.
    pub fn act(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// A library read, kept until the library changes. `key` names the read and its
    /// arguments; the error is in words, for the screen.
    pub fn read<T: Clone + 'static>(
        &mut self,
        key: impl Into<String>,
        query: impl FnOnce(&Library) -> Result<T, LibraryError>,
    ) -> Result<T, String> {
        let key = key.into();
        if let Some(found) = self
            .cache
            .entries
            .get(&key)
            .and_then(|v| v.downcast_ref::<Result<T, String>>())
        {
            return found.clone();
        }
        self.cache.reads += 1;
        let value = query(&self.lib).map_err(|e| e.to_string());
        self.cache.entries.insert(key, Box::new(value.clone()));
        value
    }

    /// As `read`, with a failure shown as the error and an empty value in its place.
    pub fn read_or_default<T: Clone + Default + 'static>(
        &mut self,
        key: impl Into<String>,
        query: impl FnOnce(&Library) -> Result<T, LibraryError>,
    ) -> T {
        let read = self.read(key, query);
        self.report(read).unwrap_or_default()
    }

    /// Shows an error from anything the user did, in words, without stopping the app.
    pub fn report<T>(&mut self, result: Result<T, impl std::fmt::Display>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.notices.error(e.to_string());
                None
            }
        }
    }

    /// What background work calls when it ends: a redraw, so its result shows without
    /// the window polling for it.
    pub fn waker(&self) -> Box<dyn FnOnce() + Send> {
        let ctx = self.egui.clone();
        Box::new(move || {
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_banner_is_one_line_with_its_detail_behind_it() {
        let short = "The pedal cannot be heard: no MIDI ports.";
        assert_eq!(banner_line(short), (short.to_string(), None));
        let device = "No audio interface could be opened, so bandroom uses its test device: \
                      choose yours in Settings › Sound (cannot open device hw:2 at \
                      /dev/snd/pcmC2D0c: busy)";
        let (line, detail) = banner_line(device);
        assert_eq!(
            line,
            "No audio interface could be opened, so bandroom uses its test device: \
             choose yours in Settings › Sound"
        );
        assert_eq!(detail.as_deref(), Some(device));
        let (line, _) = banner_line("/home/x/lib/takes/1 could not be read: 3 files");
        assert!(!line.contains('/'), "{line}");
    }

    #[test]
    fn a_read_is_kept_until_the_library_changes() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(dir.path()).unwrap();
        let mut cx = AppContext::new(lib, dir.path());
        let frame = |cx: &mut AppContext| {
            cx.cache.follow(cx.lib.revision());
            cx.read_or_default("classes", Library::classes).len()
        };
        let before = frame(&mut cx);
        assert_eq!(frame(&mut cx), before);
        assert_eq!(cx.cache.reads, 1, "the second frame reads nothing");
        cx.lib.add_class("9C", None, None).unwrap();
        assert_eq!(frame(&mut cx), before + 1, "a write is seen at once");
        assert_eq!(cx.cache.reads, 2);
        // Another handle (the command line, a background job) writing is seen too.
        let mut other = Library::open(dir.path()).unwrap();
        other.add_class("9D", None, None).unwrap();
        assert_eq!(frame(&mut cx), before + 2);
        assert_eq!(cx.cache.reads, 3);
    }
}
