//! The typed messages between control threads and the audio callback, and the handle
//! a control thread holds.
//!
//! Owns `Command` (in, bounded, read with `try_recv` only), `Event` (out, sent with
//! `try_send`, counted when the queue is full) and `EngineHandle` with the shared
//! transport position and meters. Must not hold anything the callback would lock.

use super::meters::Meters;
use super::score::NoteRole;
use crate::music::Bpm;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// What a control thread asks of the engine. Small and `Copy` so sending never allocates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Command {
    Play,
    Stop,
    /// Moves the transport to a timeline frame.
    Locate {
        frame: u64,
    },
    /// Moves the transport to the start of a section.
    LocateSection {
        section: usize,
    },
    /// Loops one section (all its repeats) until cleared with `None`.
    SetLoop {
        section: Option<usize>,
    },
    /// A practice tempo for the first section, others in proportion. Applied at once
    /// when stopped; while playing it waits for the next stop so nothing jumps mid-bar.
    SetTempo {
        tempo: Bpm,
    },
    SetLaneGain {
        lane: usize,
        gain: f32,
    },
    SetLanePan {
        lane: usize,
        pan: f32,
    },
    SetLaneMute {
        lane: usize,
        muted: bool,
    },
    SetLaneSolo {
        lane: usize,
        soloed: bool,
    },
    SetMasterGain {
        gain: f32,
    },
    /// Turns the metronome on or off (count-in included).
    SetClickEnabled {
        enabled: bool,
    },
    /// Clicks between beats (eighths in 12/8 and 4/4).
    SetSubBeats {
        enabled: bool,
    },
    /// Starts a take at the first frame of the next block, lasting `frames` frames
    /// (`u64::MAX`: until `StopRecording`). Sent together with `Play`, the take's frame
    /// 0 is the first frame of the performance.
    Record {
        frames: u64,
    },
    /// Ends the take at the first frame of the next block.
    StopRecording,
}

/// What the engine reports. `output_frame` counts frames the engine has produced since it
/// was built; `timeline_frame` is the transport position (jumps on locate and loop).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Note {
        output_frame: u64,
        timeline_frame: u64,
        lane: usize,
        role: NoteRole,
        pitch: u8,
        velocity: u8,
    },
    SectionStarted {
        output_frame: u64,
        timeline_frame: u64,
        section: usize,
    },
    Started {
        output_frame: u64,
        timeline_frame: u64,
    },
    Stopped {
        output_frame: u64,
        timeline_frame: u64,
    },
    LoopWrapped {
        output_frame: u64,
        to_frame: u64,
    },
    /// The transport reached the end of the piece and stopped.
    Finished {
        output_frame: u64,
    },
    /// A take covers output frames `start_frame..end_frame` (`end_frame` is `u64::MAX`
    /// while it is open-ended).
    Recording {
        start_frame: u64,
        end_frame: u64,
    },
}

/// What an outside instrument needs to play the parts: sent only once a control thread
/// has asked for the feed (`EngineHandle::part_cues`), so an engine without MIDI out
/// does no extra work. Frames are output frames, like `Event`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartCue {
    /// A part's note (never the metronome), with how long it lasts.
    Note {
        output_frame: u64,
        lane: usize,
        pitch: u8,
        velocity: u8,
        len_frames: u64,
    },
    /// Everything sounding ends here: stop, locate, loop wrap or the end of the piece.
    Silence { output_frame: u64 },
    /// The transport started at this output frame, from this timeline frame.
    Started {
        output_frame: u64,
        timeline_frame: u64,
    },
}

/// State the callback publishes and any thread may read, without locks.
#[derive(Debug)]
pub struct EngineShared {
    pub meters: Meters,
    pub(crate) position_frames: AtomicU64,
    pub(crate) output_frames: AtomicU64,
    pub(crate) playing: AtomicBool,
    pub(crate) section: AtomicU32,
    pub(crate) events_dropped: AtomicU64,
    /// Set once a control thread takes the part-cue feed.
    pub(crate) part_cues_wanted: AtomicBool,
    /// Part cues lost because the MIDI thread fell behind.
    pub(crate) part_cues_dropped: AtomicU64,
    /// First output frame of the current take (`u64::MAX`: no take yet).
    pub(crate) take_start_frame: AtomicU64,
    /// Output frame where the take ends (`u64::MAX`: still open).
    pub(crate) take_end_frame: AtomicU64,
}

impl EngineShared {
    pub(crate) fn new(meters: Meters) -> Self {
        Self {
            meters,
            position_frames: AtomicU64::new(0),
            output_frames: AtomicU64::new(0),
            playing: AtomicBool::new(false),
            section: AtomicU32::new(0),
            events_dropped: AtomicU64::new(0),
            part_cues_wanted: AtomicBool::new(false),
            part_cues_dropped: AtomicU64::new(0),
            take_start_frame: AtomicU64::new(u64::MAX),
            take_end_frame: AtomicU64::new(u64::MAX),
        }
    }
}

/// The engine's queue of commands is full: the callback has not run for a while.
#[derive(Debug, thiserror::Error)]
#[error(
    "the audio engine is not taking commands (its queue is full): is the audio device running?"
)]
pub struct EngineBusy;

/// What another thread may read of the engine: the take's output frames.
#[derive(Clone, Debug)]
pub struct EngineWatch {
    shared: Arc<EngineShared>,
}

impl EngineWatch {
    /// The output frames of the current take, once one has started.
    pub fn take_frames(&self) -> Option<(u64, u64)> {
        let start = self.shared.take_start_frame.load(Ordering::Acquire);
        (start != u64::MAX).then(|| (start, self.shared.take_end_frame.load(Ordering::Acquire)))
    }
}

/// A control thread's side of the engine (UI, CLI, offline renderer).
pub struct EngineHandle {
    pub(crate) commands: Sender<Command>,
    pub(crate) events: Receiver<Event>,
    pub(crate) part_cues: Receiver<PartCue>,
    pub(crate) shared: Arc<EngineShared>,
}

impl EngineHandle {
    pub fn send(&self, command: Command) -> Result<(), EngineBusy> {
        self.commands.try_send(command).map_err(|e| match e {
            TrySendError::Full(_) | TrySendError::Disconnected(_) => EngineBusy,
        })
    }

    /// The next event, if one is waiting.
    pub fn try_event(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    pub fn meters(&self) -> &Meters {
        &self.shared.meters
    }

    pub fn position_frames(&self) -> u64 {
        self.shared.position_frames.load(Ordering::Relaxed)
    }

    pub fn output_frames(&self) -> u64 {
        self.shared.output_frames.load(Ordering::Relaxed)
    }

    pub fn is_playing(&self) -> bool {
        self.shared.playing.load(Ordering::Relaxed)
    }

    /// Index of the section playing now (of the performance's section list).
    pub fn section(&self) -> usize {
        self.shared.section.load(Ordering::Relaxed) as usize
    }

    /// The output frames of the current take, once one has started.
    pub fn take_frames(&self) -> Option<(u64, u64)> {
        let start = self.shared.take_start_frame.load(Ordering::Acquire);
        (start != u64::MAX).then(|| (start, self.shared.take_end_frame.load(Ordering::Acquire)))
    }

    /// A cheap, shareable view of the take's frames, for other threads (MIDI).
    pub fn watch(&self) -> EngineWatch {
        EngineWatch {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The feed of part notes for MIDI out; from now on the engine fills it.
    pub fn part_cues(&self) -> Receiver<PartCue> {
        self.shared.part_cues_wanted.store(true, Ordering::Release);
        self.part_cues.clone()
    }

    /// Part cues lost because the MIDI thread did not keep up.
    pub fn part_cues_dropped(&self) -> u64 {
        self.shared.part_cues_dropped.load(Ordering::Relaxed)
    }

    /// Events lost because nobody drained the event queue in time.
    pub fn events_dropped(&self) -> u64 {
        self.shared.events_dropped.load(Ordering::Relaxed)
    }
}
