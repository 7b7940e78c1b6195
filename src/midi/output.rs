//! Parts played on instruments in the room: the engine's part cues sent to MIDI ports,
//! timed to the speaker, and an optional MIDI clock.
//!
//! Owns its thread and the send schedule. A cue carries the output frame a note plays
//! at; the note is sent when that frame reaches the speaker (plus the instrument's own
//! latency, sent earlier by that much), so the instrument and bandroom's sound agree.
//! Every note sent is remembered until its note-off: a stop, locate or loop wrap
//! silences everything sounding at that moment, and closing sends note-off for every
//! held note and "all notes off" on every channel used, so nothing hangs. Must not run
//! in an audio callback or decide which parts go where.

use super::SpeakerClock;
use super::message::ShortMessage;
use super::ports::CLIENT;
use super::{MidiError, find_port};
use crate::engine::PartCue;
use crossbeam_channel::{Receiver, Sender, select};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One part to one port and channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartRoute {
    /// The engine lane of the part.
    pub lane: usize,
    pub port: String,
    /// 0-based channel.
    pub channel: u8,
    /// General MIDI program (0-based) sent before the first note.
    pub program: Option<u8>,
}

/// What the sender did, for take.json and the teacher.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputReport {
    pub notes_sent: u64,
    /// Notes sent later than 5 ms after their moment (the thread was held up).
    pub late_notes: u64,
    /// Notes silenced by a stop, locate or loop wrap, or at the end.
    pub cut_notes: u64,
    pub clock_pulses: u64,
    pub errors: Vec<String>,
}

/// A note-on's identity, so a note-off scheduled for an old note cannot silence a
/// newer note of the same pitch.
type NoteId = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    /// Offs sort before ons at the same moment, so repeated notes re-strike.
    Off {
        port: usize,
        channel: u8,
        pitch: u8,
        id: NoteId,
    },
    Silence,
    On {
        port: usize,
        channel: u8,
        pitch: u8,
        velocity: u8,
        id: NoteId,
    },
    ClockPulse,
}

pub struct MidiOut {
    stop: Sender<()>,
    panic: Sender<()>,
    thread: Option<JoinHandle<OutputReport>>,
    /// The full port names opened, in route order.
    pub ports: Vec<String>,
}

struct Outlet {
    connections: Vec<midir::MidiOutputConnection>,
    sounding: HashMap<(usize, u8, u8), NoteId>,
    channels_used: Vec<(usize, u8)>,
    clock_running: bool,
    report: OutputReport,
    /// Every message sent, when a test asks for it.
    log: Option<Vec<(usize, ShortMessage)>>,
}

impl Outlet {
    fn send(&mut self, port: usize, message: ShortMessage) {
        if let Some(log) = &mut self.log {
            log.push((port, message));
        }
        let (bytes, len) = message.bytes();
        if let Some(connection) = self.connections.get_mut(port)
            && let Err(e) = connection.send(&bytes[..len])
        {
            let error = format!("a MIDI message could not be sent: {e}");
            if !self.report.errors.contains(&error) {
                self.report.errors.push(error);
            }
        }
    }

    /// One-byte system real-time messages (clock, start, stop).
    fn send_raw(&mut self, port: usize, byte: u8) {
        if let Some(connection) = self.connections.get_mut(port) {
            let _ = connection.send(&[byte]);
        }
    }

    fn silence(&mut self) {
        let sounding: Vec<(usize, u8, u8)> = self.sounding.drain().map(|(k, _)| k).collect();
        for (port, channel, pitch) in sounding {
            self.send(port, ShortMessage::note_off(channel, pitch));
            self.report.cut_notes += 1;
        }
    }

    fn panic(&mut self) {
        self.silence();
        for (port, channel) in self.channels_used.clone() {
            // 64 = sustain off, 123 = all notes off: for the instrument's own held notes.
            self.send(port, ShortMessage::control(channel, 64, 0));
            self.send(port, ShortMessage::control(channel, 123, 0));
        }
    }
}

impl MidiOut {
    /// Opens every route's port, sends the programs and starts following `cues`.
    /// `latency_frames` is how much earlier than the speaker notes are sent (the
    /// instrument's own delay); `clock_port` also gets 24 clock pulses per beat at
    /// `tempo_bpm` while the transport plays.
    pub fn start(
        routes: &[PartRoute],
        cues: Receiver<PartCue>,
        clock: Arc<dyn SpeakerClock>,
        latency_frames: i64,
        clock_port: Option<(&str, f64)>,
    ) -> Result<MidiOut, MidiError> {
        super::ports::quiet_jack();
        let mut names: Vec<String> = Vec::new();
        let mut connections = Vec::new();
        let mut open = |wanted: &str| -> Result<usize, MidiError> {
            let output = midir::MidiOutput::new(&format!("{CLIENT}-out-{}", names.len() + 1))
                .map_err(|e| MidiError::NoServer(e.to_string()))?;
            let ports = output.ports();
            let listed: Vec<String> = ports
                .iter()
                .map(|p| output.port_name(p).unwrap_or_default())
                .collect();
            let name = find_port(&listed, wanted, "output")?.clone();
            if let Some(index) = names.iter().position(|n| *n == name) {
                return Ok(index);
            }
            let Some(port) = ports.iter().zip(&listed).find(|(_, n)| **n == name) else {
                return Err(MidiError::NoSuchPort {
                    direction: "output",
                    wanted: wanted.to_string(),
                    available: listed.clone(),
                });
            };
            let connection = output
                .connect(port.0, &format!("part-{}", names.len() + 1))
                .map_err(|e| MidiError::Connect {
                    port: name.clone(),
                    reason: e.to_string(),
                })?;
            connections.push(connection);
            names.push(name);
            Ok(names.len() - 1)
        };
        let mut lanes: HashMap<usize, (usize, u8)> = HashMap::new();
        let mut programs = Vec::new();
        for route in routes {
            let port = open(&route.port)?;
            lanes.insert(route.lane, (port, route.channel));
            if let Some(program) = route.program {
                programs.push((port, ShortMessage::program(route.channel, program)));
            }
        }
        let clock_out = match clock_port {
            Some((wanted, bpm)) if bpm.is_finite() && bpm > 0.0 => Some((open(wanted)?, bpm)),
            _ => None,
        };
        let mut channels_used: Vec<(usize, u8)> = lanes.values().copied().collect();
        channels_used.sort_unstable();
        channels_used.dedup();
        let mut sender = Outlet {
            connections,
            sounding: HashMap::new(),
            channels_used,
            clock_running: false,
            report: OutputReport::default(),
            log: None,
        };
        for (port, message) in programs {
            sender.send(port, message);
        }
        let (stop, stop_rx) = crossbeam_channel::bounded(1);
        let (panic, panic_rx) = crossbeam_channel::bounded(4);
        let schedule = Schedule {
            lanes,
            clock,
            latency_frames,
            clock_out,
        };
        let thread = std::thread::Builder::new()
            .name("bandroom-midi-out".into())
            .spawn(move || schedule.run(sender, cues, stop_rx, panic_rx))
            .map_err(|e| MidiError::Connect {
                port: "MIDI output".into(),
                reason: e.to_string(),
            })?;
        Ok(MidiOut {
            stop,
            panic,
            thread: Some(thread),
            ports: names,
        })
    }

    /// Silences every note now ("panic" button, or the take ended abruptly).
    pub fn panic(&self) {
        let _ = self.panic.try_send(());
    }

    /// Silences everything and closes the ports.
    pub fn finish(mut self) -> OutputReport {
        let _ = self.stop.send(());
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

struct Schedule {
    lanes: HashMap<usize, (usize, u8)>,
    clock: Arc<dyn SpeakerClock>,
    latency_frames: i64,
    clock_out: Option<(usize, f64)>,
}

impl Schedule {
    fn due_at(&self, output_frame: u64) -> Option<Instant> {
        self.clock
            .instant_of(output_frame as i64 - self.latency_frames)
    }

    fn run(
        self,
        mut sender: Outlet,
        cues: Receiver<PartCue>,
        stop: Receiver<()>,
        panic: Receiver<()>,
    ) -> OutputReport {
        // Ordered by moment, then by kind (offs first), then by arrival.
        let mut queue: BTreeMap<(Instant, Due, u64), ()> = BTreeMap::new();
        let mut seq = 0u64;
        let mut next_id: NoteId = 0;
        let mut pulse_every: Option<Duration> = None;
        // A cue whose moment is not known yet (audio not running) waits here.
        let mut unplaced: Vec<PartCue> = Vec::new();
        loop {
            let wait = queue
                .keys()
                .next()
                .map_or(Duration::from_millis(20), |(at, _, _)| {
                    at.saturating_duration_since(Instant::now())
                })
                .min(Duration::from_millis(20));
            select! {
                recv(stop) -> _ => break,
                recv(panic) -> _ => {
                    queue.retain(|(_, due, _), _| !matches!(due, Due::On { .. }));
                    sender.panic();
                }
                recv(cues) -> cue => match cue {
                    Ok(cue) => unplaced.push(cue),
                    Err(_) => break,
                },
                default(wait) => {}
            }
            let mut waiting = Vec::new();
            for cue in unplaced.drain(..) {
                if !self.place(cue, &mut queue, &mut seq, &mut next_id, &mut pulse_every) {
                    waiting.push(cue);
                }
            }
            unplaced = waiting;
            let now = Instant::now();
            while let Some(entry) = queue.first_entry() {
                let (at, due, _) = *entry.key();
                if at > now {
                    break;
                }
                entry.remove();
                self.fire(due, at, now, &mut sender, &mut queue, &mut seq, pulse_every);
            }
        }
        sender.panic();
        if let Some((port, _)) = self.clock_out {
            sender.send_raw(port, 0xFC);
        }
        // The MIDI system delivers what was sent at its next cycle; closing the ports
        // at once could drop these last note-offs, so wait a few cycles first.
        std::thread::sleep(Duration::from_millis(100));
        sender.report
    }

    /// Puts a cue on the queue; false when the audio clock cannot place it yet.
    fn place(
        &self,
        cue: PartCue,
        queue: &mut BTreeMap<(Instant, Due, u64), ()>,
        seq: &mut u64,
        next_id: &mut NoteId,
        pulse_every: &mut Option<Duration>,
    ) -> bool {
        let mut push = |at: Instant, due: Due| {
            *seq += 1;
            queue.insert((at, due, *seq), ());
        };
        match cue {
            PartCue::Note {
                output_frame,
                lane,
                pitch,
                velocity,
                len_frames,
            } => {
                let Some(&(port, channel)) = self.lanes.get(&lane) else {
                    return true;
                };
                let (Some(on), Some(off)) = (
                    self.due_at(output_frame),
                    self.due_at(output_frame + len_frames.max(1)),
                ) else {
                    return false;
                };
                *next_id += 1;
                let id = *next_id;
                push(
                    on,
                    Due::On {
                        port,
                        channel,
                        pitch,
                        velocity,
                        id,
                    },
                );
                push(
                    off,
                    Due::Off {
                        port,
                        channel,
                        pitch,
                        id,
                    },
                );
            }
            PartCue::Silence { output_frame } => {
                let Some(at) = self.due_at(output_frame) else {
                    return false;
                };
                push(at, Due::Silence);
            }
            PartCue::Started { output_frame, .. } => {
                let Some((_, bpm)) = self.clock_out else {
                    return true;
                };
                let Some(at) = self.due_at(output_frame) else {
                    return false;
                };
                let every = Duration::from_secs_f64(60.0 / bpm / 24.0);
                *pulse_every = Some(every);
                push(at, Due::ClockPulse);
            }
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn fire(
        &self,
        due: Due,
        at: Instant,
        now: Instant,
        sender: &mut Outlet,
        queue: &mut BTreeMap<(Instant, Due, u64), ()>,
        seq: &mut u64,
        pulse_every: Option<Duration>,
    ) {
        match due {
            Due::On {
                port,
                channel,
                pitch,
                velocity,
                id,
            } => {
                if now.saturating_duration_since(at) > Duration::from_millis(5) {
                    sender.report.late_notes += 1;
                }
                if sender.sounding.insert((port, channel, pitch), id).is_some() {
                    // Re-striking a held pitch: end the old one first.
                    sender.send(port, ShortMessage::note_off(channel, pitch));
                }
                sender.send(port, ShortMessage::note_on(channel, pitch, velocity));
                sender.report.notes_sent += 1;
            }
            Due::Off {
                port,
                channel,
                pitch,
                id,
            } => {
                if sender.sounding.get(&(port, channel, pitch)) == Some(&id) {
                    sender.sounding.remove(&(port, channel, pitch));
                    sender.send(port, ShortMessage::note_off(channel, pitch));
                }
            }
            Due::Silence => {
                sender.silence();
                // The clock stops with the music; a following Started restarts it.
                queue.retain(|(_, due, _), _| *due != Due::ClockPulse);
                if let Some((port, _)) = self.clock_out
                    && sender.clock_running
                {
                    sender.send_raw(port, 0xFC);
                    sender.clock_running = false;
                }
            }
            Due::ClockPulse => {
                let (Some((port, _)), Some(every)) = (self.clock_out, pulse_every) else {
                    return;
                };
                if !sender.clock_running {
                    sender.send_raw(port, 0xFA);
                    sender.clock_running = true;
                }
                sender.send_raw(port, 0xF8);
                sender.report.clock_pulses += 1;
                *seq += 1;
                queue.insert((at + every, Due::ClockPulse, *seq), ());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TestClock(Instant);

    impl SpeakerClock for TestClock {
        fn frame_at(&self, at: Instant) -> Option<i64> {
            Some((at.saturating_duration_since(self.0).as_secs_f64() * 48_000.0) as i64)
        }
        fn instant_of(&self, frame: i64) -> Option<Instant> {
            Some(self.0 + Duration::from_secs_f64(frame.max(0) as f64 / 48_000.0))
        }
        fn take_window(&self) -> Option<(u64, u64)> {
            Some((0, u64::MAX))
        }
    }

    #[test]
    fn a_stop_silences_what_sounds_and_old_note_offs_cannot_cut_new_notes() {
        let schedule = Schedule {
            lanes: HashMap::from([(0, (0, 9))]),
            clock: Arc::new(TestClock(Instant::now())),
            latency_frames: 0,
            clock_out: None,
        };
        let mut outlet = Outlet {
            connections: Vec::new(),
            sounding: HashMap::new(),
            channels_used: vec![(0, 9)],
            clock_running: false,
            report: OutputReport::default(),
            log: Some(Vec::new()),
        };
        let mut queue = BTreeMap::new();
        let (mut seq, mut id, mut pulse) = (0, 0, None);
        let note = |output_frame, pitch, len_frames| PartCue::Note {
            output_frame,
            lane: 0,
            pitch,
            velocity: 100,
            len_frames,
        };
        for cue in [
            note(0, 60, 48_000),
            note(100, 62, 96_000),
            PartCue::Silence {
                output_frame: 24_000,
            },
            // After a loop wrap, 60 sounds again; the first 60's late note-off must not end it.
            note(30_000, 60, 40_000),
            // The metronome's lane is not routed anywhere.
            PartCue::Note {
                output_frame: 10,
                lane: 5,
                pitch: 37,
                velocity: 100,
                len_frames: 10,
            },
        ] {
            assert!(schedule.place(cue, &mut queue, &mut seq, &mut id, &mut pulse));
        }
        while let Some(((at, due, _), ())) = queue.pop_first() {
            schedule.fire(due, at, at, &mut outlet, &mut queue, &mut seq, pulse);
        }
        let sent: Vec<Kind> = outlet
            .log
            .take()
            .unwrap_or_default()
            .iter()
            .map(|(_, m)| {
                assert_eq!(m.channel(), 9);
                m.kind()
            })
            .collect();
        use super::super::message::Kind;
        let on = |note| Kind::NoteOn {
            note,
            velocity: 100,
        };
        let off = |note| Kind::NoteOff { note };
        assert_eq!(sent.len(), 6, "{sent:?}");
        assert_eq!(&sent[..2], &[on(60), on(62)]);
        let mut silenced = sent[2..4].to_vec();
        silenced.sort_by_key(|k| format!("{k:?}"));
        assert_eq!(silenced, vec![off(60), off(62)], "the stop ends both");
        assert_eq!(
            &sent[4..],
            &[on(60), off(60)],
            "the new 60 lasts its own length"
        );
        assert_eq!(outlet.report.cut_notes, 2);
        assert!(outlet.sounding.is_empty());
        outlet.log = Some(Vec::new());
        outlet.panic();
        let panic: Vec<Kind> = outlet
            .log
            .unwrap_or_default()
            .iter()
            .map(|(_, m)| m.kind())
            .collect();
        assert!(panic.contains(&Kind::Control {
            controller: 123,
            value: 0
        }));
    }
}
