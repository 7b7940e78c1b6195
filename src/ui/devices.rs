//! The one owner of everything in the app that uses an audio or MIDI device: the take
//! being recorded (or a rehearsal), takes still being closed and filed, a take being
//! played back or made ready to play, a voice note, and the learnt pedal. One device at
//! a time: whatever starts first makes the others let go.
//!
//! Screens read it (levels, where the music is, what is playing) and change it only
//! through actions the app applies here. Must not draw, and nothing here sleeps or
//! waits on a device: stopping hands the take to `finishing`.

use super::context::{Listen, Notices};
use super::finishing::{Done, Finishing};
use super::identify_mics::Identifying;
use super::pedal::PedalListener;
use super::playback::{Loading, Playback};
use super::recording::{self, Playing, Recording};
use super::voice_note::VoiceNoteRecording;
use crate::library::{Library, NoteAudience, TakeSummary};
use crate::session::{DeviceChoice, FiledTake, Marker, MidiTakeSetup, Players};
use std::path::Path;

/// What a take asks of the devices when it starts.
pub struct TakeRequest<'a> {
    /// The interface's inputs and the USB microphones on the room plan.
    pub inputs: crate::session::InputList,
    pub playing: Playing<'a>,
    pub midi: MidiTakeSetup,
    /// Kept in the library (a take) or thrown away (a rehearsal).
    pub keep: bool,
}

/// What the devices did by themselves since the last frame.
#[derive(Debug)]
pub enum DeviceEvent {
    /// The take ended by itself (the piece finished, or the device failed).
    TakeEnded { kept: bool, fault: bool },
    /// A take is in the library.
    Filed(FiledTake),
}

pub struct Devices {
    pub choice: DeviceChoice,
    /// The input the teacher's voice notes are recorded from.
    pub voice_input: usize,
    recording: Option<Recording>,
    finishing: Vec<Finishing>,
    playback: Option<Playback>,
    loading: Option<Loading>,
    voice_note: Option<VoiceNoteRecording>,
    pedal: Option<PedalListener>,
    /// "Which mic is this?" listening to every input.
    identifying: Option<Identifying>,
    /// Whether opening the pedal was tried (so a missing MIDI system is said once).
    pedal_tried: bool,
}

impl Default for Devices {
    fn default() -> Self {
        Devices::new(DeviceChoice::Saved)
    }
}

impl Devices {
    pub fn new(choice: DeviceChoice) -> Devices {
        Devices {
            choice,
            voice_input: 1,
            recording: None,
            finishing: Vec::new(),
            playback: None,
            loading: None,
            voice_note: None,
            pedal: None,
            identifying: None,
            pedal_tried: false,
        }
    }

    pub fn recording(&self) -> Option<&Recording> {
        self.recording.as_ref()
    }

    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// What is being closed and filed: "the take", "the voice note"…
    pub fn finishing(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.finishing.iter().map(|f| f.what)
    }

    pub fn is_finishing(&self) -> bool {
        !self.finishing.is_empty()
    }

    pub fn playback(&self) -> Option<&Playback> {
        self.playback.as_ref()
    }

    /// The take being made ready to play.
    pub fn loading_take(&self) -> Option<i64> {
        self.loading.as_ref().map(|l| l.take)
    }

    pub fn voice_note(&self) -> Option<&VoiceNoteRecording> {
        self.voice_note.as_ref()
    }

    /// Whether anything would have to let go of the device for something new.
    pub fn busy(&self) -> bool {
        self.recording.is_some() || self.voice_note.is_some()
    }

    /// "Which mic is this?" while it listens.
    pub fn identifying(&self) -> Option<&Identifying> {
        self.identifying.as_ref()
    }

    /// Starts (or stops) listening to every input for "Which mic is this?". Not while
    /// a take or a voice note records: they have the device.
    pub fn identify_mics(&mut self, on: bool, root: &Path, notices: &mut Notices) {
        if let Some(listening) = self.identifying.take() {
            listening.stop();
        }
        if !on {
            return;
        }
        if self.busy() {
            notices.error("Stop recording first: the microphones are in use by the take");
            return;
        }
        self.free();
        match Identifying::start(root, &self.choice) {
            Ok(listening) => self.identifying = Some(listening),
            Err(e) => notices.error(format!("The microphones could not be listened to: {e:#}")),
        }
    }

    /// Lets go of the device for something new: playback stops, "Which mic is this?"
    /// stops listening, and a take still finishing stops its device now.
    fn free(&mut self) {
        if let Some(listening) = self.identifying.take() {
            listening.stop();
        }
        self.playback = None;
        self.loading = None;
        for f in &mut self.finishing {
            f.free_device_now();
        }
    }

    /// Starts a take (or a rehearsal).
    pub fn start_take(
        &mut self,
        lib: &mut Library,
        root: &Path,
        class: Option<i64>,
        request: TakeRequest<'_>,
        notices: &mut Notices,
    ) {
        self.free();
        let started = recording::start(
            lib,
            root,
            &self.choice,
            class,
            &request.inputs,
            &request.playing,
            request.midi,
        );
        match started {
            Ok((mut rec, said)) => {
                for notice in said {
                    notices.banner(notice);
                }
                rec.keep = request.keep;
                self.recording = Some(rec);
            }
            Err(e) => notices.error(format!("Recording could not start: {e:#}")),
        }
    }

    /// Stops the take; it is closed and filed in the background.
    pub fn stop_take(
        &mut self,
        root: &Path,
        players: Vec<Players>,
        markers: Vec<Marker>,
        wake: Box<dyn FnOnce() + Send>,
    ) {
        if let Some(recording) = self.recording.take() {
            self.finishing
                .push(recording.stop(root, players, markers, wake));
        }
    }

    /// Mutes or solos a part of the take being recorded.
    pub fn set_lane(&mut self, lane: usize, muted: bool, soloed: bool, notices: &mut Notices) {
        if let Some(rec) = &mut self.recording
            && let Err(e) = rec.set_lane(lane, muted, soloed)
        {
            notices.error(format!("The part could not be changed: {e:#}"));
        }
    }

    pub fn all_notes_off(&self) {
        if let Some(rec) = &self.recording {
            rec.midi_panic();
        }
    }

    /// Starts making `take` ready to play; it plays by itself when ready.
    pub fn play(
        &mut self,
        lib: &Library,
        root: &Path,
        take: &TakeSummary,
        listen: Listen,
        wake: Box<dyn FnOnce() + Send>,
    ) {
        self.playback = None;
        let folder = lib.take_folder(take);
        self.loading = Some(Loading::start(root, folder, take, listen, wake));
    }

    pub fn stop_playback(&mut self) {
        self.playback = None;
        self.loading = None;
    }

    /// Starts a voice note on `take`, pinned to `frame`. Playback gives way.
    pub fn start_voice_note(
        &mut self,
        lib: &mut Library,
        root: &Path,
        take: &TakeSummary,
        pinned: (Option<u64>, NoteAudience),
        notices: &mut Notices,
    ) {
        self.free();
        match VoiceNoteRecording::start(lib, root, &self.choice, take, pinned, self.voice_input) {
            Ok((note, banner)) => {
                if let Some(banner) = banner {
                    notices.banner(banner);
                }
                self.voice_note = Some(note);
            }
            Err(e) => notices.error(format!("The voice note could not start: {e:#}")),
        }
    }

    /// Stops the voice note; it is kept with its take in the background.
    pub fn stop_voice_note(&mut self, root: &Path, wake: Box<dyn FnOnce() + Send>) {
        if let Some(note) = self.voice_note.take() {
            self.finishing.push(note.stop(root, wake));
        }
    }

    /// The learnt pedal's presses since the last call (the pedal is opened the first
    /// time it is asked for).
    pub fn pedal_presses(
        &mut self,
        lib: &Library,
        notices: &mut Notices,
    ) -> Vec<crate::midi::Action> {
        if !self.pedal_tried {
            self.pedal_tried = true;
            match PedalListener::start(lib) {
                Ok(listener) => self.pedal = listener,
                Err(e) => notices.banner(e),
            }
        }
        self.pedal
            .as_mut()
            .map(PedalListener::presses)
            .unwrap_or_default()
    }

    /// The pedal was learnt or forgotten in Settings: its ports are opened again the
    /// next time the lesson listens.
    pub fn listen_for_pedal_again(&mut self) {
        self.pedal = None;
        self.pedal_tried = false;
    }

    /// Whether the pedal is listened to (the lesson screen then redraws to hear it).
    pub fn has_pedal(&self) -> bool {
        self.pedal.is_some()
    }

    /// Called once per frame: reads the meters, notices a take or voice note that
    /// ended by itself, collects what finished in the background, and starts a loaded
    /// take playing. Returns what the app must act on.
    pub fn poll(
        &mut self,
        root: &Path,
        notices: &mut Notices,
        waker: impl Fn() -> Box<dyn FnOnce() + Send>,
    ) -> Vec<DeviceEvent> {
        let mut events = Vec::new();
        if self.identifying.as_mut().is_some_and(|l| !l.update())
            && let Some(listening) = self.identifying.take()
        {
            listening.stop();
        }
        if let Some(rec) = &mut self.recording
            && rec.update()
        {
            events.push(DeviceEvent::TakeEnded {
                kept: rec.keep,
                fault: rec.fault.is_some(),
            });
        }
        let mut still = Vec::new();
        for mut f in std::mem::take(&mut self.finishing) {
            match f.poll() {
                None => still.push(f),
                Some(Ok(Done::Take(filed))) => {
                    for problem in filed.problems.iter().chain(&filed.device_warnings) {
                        notices.banner(problem.clone());
                    }
                    if let Some(fault) = &filed.fault {
                        notices.banner(format!(
                            "{fault}; take {} keeps what was recorded",
                            filed.id
                        ));
                    }
                    events.push(DeviceEvent::Filed(filed));
                }
                Some(Ok(Done::VoiceNote | Done::Discarded)) => {}
                Some(Err(e)) => notices.banner(e),
            }
        }
        self.finishing = still;
        if self
            .voice_note
            .as_mut()
            .is_some_and(VoiceNoteRecording::ended)
            && let Some(note) = self.voice_note.take()
        {
            self.finishing.push(note.stop(root, waker()));
        }
        if let Some(loading) = &mut self.loading
            && let Some(started) = loading.poll(root, &self.choice, notices)
        {
            self.loading = None;
            self.playback = started;
        }
        // Playback that reached its end lets go of the device.
        if self
            .playback
            .as_ref()
            .is_some_and(|p| !p.state.is_playing())
        {
            self.playback = None;
        }
        events
    }

    /// Whether the window must keep drawing for the devices: meters while recording,
    /// a note being recorded, the engine being drained, a take loading.
    pub fn wants_frames(&self) -> Option<std::time::Duration> {
        use std::time::Duration;
        if self.recording.is_some()
            || self.identifying.is_some()
            || self.finishing.iter().any(Finishing::draining)
        {
            // At least 30 meter updates a second while recording.
            Some(Duration::from_millis(25))
        } else if self.voice_note.is_some() || self.playback.is_some() {
            Some(Duration::from_millis(100))
        } else {
            None
        }
    }
}
