//! The MIDI half of a take: every message from the chosen ports placed on the take's
//! timeline and kept as one Standard MIDI File per track.
//!
//! Owns its thread. An arrival's moment becomes the output frame at the speaker then
//! (through `SpeakerClock`), less the keyboard's own latency, less the take's first
//! frame: the same frame numbering as the audio tracks, so a keyboard take lines up
//! with the part as an audio take does. Files are rewritten whole every second (a crash
//! loses at most that second); at the end every note still held is released at the
//! last frame, so a keyboard that never sent its note-off leaves no endless note.
//! Pedal presses are taken out of the music and reported as actions. A port that
//! disappears is reported and the take goes on. Must not touch audio, print or decide
//! what an action does.

use super::SpeakerClock;
use super::control::{Action, ControlMap};
use super::input::{Arrival, MidiInputs};
use super::message::{Kind, ShortMessage};
use super::smf::{TimedMessage, write_take_track};
use crossbeam_channel::{Receiver, Sender, select};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// One MIDI track of the take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MidiTrackSpec {
    /// Index into the opened ports.
    pub port: usize,
    /// Only this 0-based channel; `None` takes every channel.
    pub channel: Option<u8>,
    pub file: PathBuf,
    /// The track name written into the file.
    pub name: String,
}

pub struct RecorderSetup {
    pub tracks: Vec<MidiTrackSpec>,
    pub rate_hz: u32,
    /// Frames between a key going down and its message arriving.
    pub latency_frames: i64,
    pub controls: ControlMap,
}

/// Something the session should know at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MidiNotice {
    /// A pedal press, at a frame of the take (`None` before the take started).
    Action {
        action: Action,
        take_frame: Option<u64>,
    },
    /// A port disappeared; what came before is kept.
    Unplugged { port: String, take_frame: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MidiTrackReport {
    pub file: PathBuf,
    pub port: String,
    pub channel: Option<u8>,
    pub events: u64,
    pub notes: u64,
    /// Notes still held at the end, released there.
    pub released_at_end: u64,
    /// Where in the take the port disappeared.
    pub unplugged_at: Option<u64>,
    /// Why the file could not be written (the last good version stays).
    pub error: Option<String>,
}

pub struct MidiRecorder {
    stop: Sender<u64>,
    notices: Receiver<MidiNotice>,
    thread: Option<JoinHandle<Vec<MidiTrackReport>>>,
}

struct Track {
    spec: MidiTrackSpec,
    port_name: String,
    events: Vec<TimedMessage>,
    held: Vec<u16>,
    notes: u64,
    dirty: bool,
    released: u64,
    unplugged_at: Option<u64>,
    error: Option<String>,
}

impl Track {
    fn take(&mut self, frame: u64, message: ShortMessage) {
        let slot = |note: u8| usize::from(message.channel()) * 128 + usize::from(note);
        match message.kind() {
            Kind::NoteOn { note, .. } => {
                self.held[slot(note)] = self.held[slot(note)].saturating_add(1);
                self.notes += 1;
            }
            Kind::NoteOff { note } => {
                self.held[slot(note)] = self.held[slot(note)].saturating_sub(1);
            }
            _ => {}
        }
        self.events.push(TimedMessage { frame, message });
        self.dirty = true;
    }

    fn release_held(&mut self, at: u64) {
        for (slot, count) in self.held.iter_mut().enumerate() {
            for _ in 0..*count {
                let (channel, note) = ((slot / 128) as u8, (slot % 128) as u8);
                self.events.push(TimedMessage {
                    frame: at,
                    message: ShortMessage::note_off(channel, note),
                });
                self.released += 1;
                self.dirty = true;
            }
            *count = 0;
        }
    }

    fn flush(&mut self, rate_hz: u32) {
        if !self.dirty {
            return;
        }
        // Arrivals from several ports can interleave slightly out of order.
        self.events.sort_by_key(|e| e.frame);
        match write_take_track(&self.spec.file, &self.spec.name, rate_hz, &self.events) {
            Ok(()) => {
                self.dirty = false;
                self.error = None;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }
}

impl MidiRecorder {
    /// Starts recording from `inputs`; the first file is written at once.
    pub fn start(
        inputs: MidiInputs,
        setup: RecorderSetup,
        clock: Arc<dyn SpeakerClock>,
    ) -> MidiRecorder {
        let (stop, stop_rx) = crossbeam_channel::bounded(1);
        // Pedal presses and unplug notices: a handful per take, read every 20 ms.
        let (notice_tx, notices) = crossbeam_channel::bounded(256);
        let thread = std::thread::Builder::new()
            .name("bandroom-midi-in".into())
            .spawn(move || run(inputs, setup, clock, stop_rx, notice_tx))
            .ok();
        MidiRecorder {
            stop,
            notices,
            thread,
        }
    }

    /// Pedal presses and unplugged ports since the last call.
    pub fn notices(&self) -> Vec<MidiNotice> {
        self.notices.try_iter().collect()
    }

    /// Ends the tracks at `take_frames` (the audio's length), releases held notes and
    /// writes the files a last time.
    pub fn finish(mut self, take_frames: u64) -> Vec<MidiTrackReport> {
        let _ = self.stop.send(take_frames);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

fn run(
    inputs: MidiInputs,
    setup: RecorderSetup,
    clock: Arc<dyn SpeakerClock>,
    stop: Receiver<u64>,
    notices: Sender<MidiNotice>,
) -> Vec<MidiTrackReport> {
    let mut controls = setup.controls;
    let mut tracks: Vec<Track> = setup
        .tracks
        .into_iter()
        .map(|spec| Track {
            port_name: inputs.names.get(spec.port).cloned().unwrap_or_default(),
            spec,
            events: Vec::new(),
            held: vec![0; 16 * 128],
            notes: 0,
            dirty: true,
            released: 0,
            unplugged_at: None,
            error: None,
        })
        .collect();
    for track in &mut tracks {
        track.flush(setup.rate_hz);
    }
    let arrivals = inputs.receiver().clone();
    let mut next_flush = Instant::now() + FLUSH_EVERY;
    let take_frame_at = |at: Instant| -> Option<u64> {
        let frame = clock.frame_at(at)? - setup.latency_frames;
        let (start, end) = clock.take_window()?;
        let frame = u64::try_from(frame).ok()?.checked_sub(start)?;
        (end == u64::MAX || frame < end - start).then_some(frame)
    };
    let mut place = |arrival: Arrival, tracks: &mut Vec<Track>| {
        let port = inputs.names.get(arrival.port).map_or("", String::as_str);
        let (is_control, action) = controls.handle(port, &arrival.message);
        if let Some(action) = action {
            let _ = notices.try_send(MidiNotice::Action {
                action,
                take_frame: take_frame_at(arrival.at),
            });
        }
        if is_control {
            return;
        }
        let Some(frame) = take_frame_at(arrival.at) else {
            return;
        };
        for track in tracks.iter_mut().filter(|t| {
            t.spec.port == arrival.port
                && t.spec
                    .channel
                    .is_none_or(|c| c == arrival.message.channel())
        }) {
            track.take(frame, arrival.message);
        }
    };
    let end = loop {
        let wait = next_flush.saturating_duration_since(Instant::now());
        select! {
            recv(arrivals) -> arrival => match arrival {
                Ok(arrival) => place(arrival, &mut tracks),
                Err(_) => break None,
            },
            recv(stop) -> end => break end.ok(),
            default(wait) => {}
        }
        if Instant::now() >= next_flush {
            next_flush += FLUSH_EVERY;
            for track in &mut tracks {
                track.flush(setup.rate_hz);
            }
            for port in inputs.missing() {
                let now = take_frame_at(Instant::now()).unwrap_or(0);
                for track in tracks.iter_mut().filter(|t| t.spec.port == port) {
                    if track.unplugged_at.is_none() {
                        track.unplugged_at = Some(now);
                        let _ = notices.try_send(MidiNotice::Unplugged {
                            port: track.port_name.clone(),
                            take_frame: now,
                        });
                    }
                }
            }
        }
    };
    // What arrived before the stop still belongs to the take.
    let late: Vec<Arrival> = arrivals.try_iter().collect();
    for arrival in late {
        place(arrival, &mut tracks);
    }
    inputs.close();
    let end = end.unwrap_or(u64::MAX);
    tracks
        .into_iter()
        .map(|mut track| {
            let last = track.events.iter().map(|e| e.frame).max().unwrap_or(0);
            track.release_held(if end == u64::MAX {
                last
            } else {
                end.saturating_sub(1).max(last)
            });
            track.flush(setup.rate_hz);
            MidiTrackReport {
                file: track.spec.file,
                port: track.port_name,
                channel: track.spec.channel,
                events: track.events.len() as u64,
                notes: track.notes,
                released_at_end: track.released,
                unplugged_at: track.unplugged_at,
                error: track.error,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track() -> Track {
        Track {
            spec: MidiTrackSpec {
                port: 0,
                channel: None,
                file: PathBuf::from("keys-1.mid"),
                name: "keys".into(),
            },
            port_name: "keys".into(),
            events: Vec::new(),
            held: vec![0; 16 * 128],
            notes: 0,
            dirty: false,
            released: 0,
            unplugged_at: None,
            error: None,
        }
    }

    #[test]
    fn notes_a_keyboard_never_ended_are_released_at_the_end() {
        let mut t = track();
        t.take(10, ShortMessage::note_on(0, 60, 90));
        t.take(20, ShortMessage::note_on(0, 60, 90));
        t.take(30, ShortMessage::note_off(0, 60));
        t.take(40, ShortMessage::note_on(3, 64, 90));
        // A note-on with velocity 0 is a note-off.
        t.take(50, ShortMessage::note_on(3, 67, 90));
        t.take(60, ShortMessage::note_on(3, 67, 0));
        t.release_held(1_000);
        assert_eq!(t.notes, 4);
        assert_eq!(t.released, 2, "one C4 of two, and the E4");
        let released: Vec<(u64, u8, Kind)> = t
            .events
            .iter()
            .filter(|e| e.frame == 1_000)
            .map(|e| (e.frame, e.message.channel(), e.message.kind()))
            .collect();
        assert_eq!(
            released,
            vec![
                (1_000, 0, Kind::NoteOff { note: 60 }),
                (1_000, 3, Kind::NoteOff { note: 64 })
            ]
        );
        t.release_held(2_000);
        assert_eq!(t.released, 2, "nothing is released twice");
    }
}
