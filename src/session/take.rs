//! One take: start, poll, stop, finish. See the module doc of `session`.

use super::extra_devices::{ExtraDeviceSetup, ExtraDevices};
use super::midi::{MidiSide, MidiTakeSetup};
use crate::audio::clock::ClockAnchor;
use crate::audio::device::{DeviceError, DeviceInfo, OpenedDevice};
use crate::audio::live::{capture_input, engine_output};
use crate::engine::{
    CaptureConfig, CaptureStatus, CaptureTap, Command, Engine, EngineConfig, EngineHandle,
    MeterSlot, Score,
};
use crate::record::recorder::{Recorder, RecorderReport};
use crate::record::take_file::{
    ArrangementRecord, FORMAT, GapRecord, LatencyApplied, MidiTrackRecord, TakeFileError,
    TakeRecord, TrackRecord, now_rfc3339,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Seconds of input each ring holds while the disk catches up (the design asks ≥ 5).
const RING_SECS: u32 = 10;
/// Seconds of silence after the last note, so the room's reverb is in the take.
pub const TAIL_SECS: u64 = 1;
/// How long the output may stand still before the device counts as gone.
const STALL: Duration = Duration::from_secs(3);

/// Everything a take needs except the device.
pub struct TakeSetup {
    /// Where `take.json` and one WAV per input are written.
    pub folder: PathBuf,
    /// 1-based input channels; each becomes `input-<n>.wav`.
    pub inputs: Vec<usize>,
    /// What is played (`Score::silence()` to just record).
    pub score: Score,
    pub arrangement: Option<ArrangementRecord>,
    /// Frames to record when nothing is played; `None` records until stopped. With an
    /// arrangement the take ends with it (plus a tail).
    pub seconds: Option<f64>,
    /// Round-trip correction in frames (calibration), added to what the device reports.
    pub correction_frames: i64,
    pub click: bool,
    pub lesson_id: Option<i64>,
    pub purpose: Option<String>,
    /// Keyboards to record, parts to send out, the pedal.
    pub midi: MidiTakeSetup,
    /// A section (index into the score's sections) played round and round: the take
    /// then runs until it is stopped.
    pub loop_section: Option<usize>,
    /// The arrangement as played, kept so the filed take's parts carry their tier and
    /// instrument.
    pub played: Option<crate::music::Arrangement>,
    /// Further input devices, in the order of the opened device's `extra_inputs`.
    pub extra_devices: Vec<ExtraDeviceSetup>,
    /// Follow each further device's clock (switched off only to measure what that costs).
    pub follow_clocks: bool,
}

impl TakeSetup {
    /// Recording `inputs` into `folder` for at most `seconds`, with nothing played (a
    /// voice note, a level check).
    pub fn just_record(folder: PathBuf, inputs: Vec<usize>, seconds: f64) -> TakeSetup {
        TakeSetup {
            folder,
            inputs,
            score: Score::silence(),
            arrangement: None,
            seconds: Some(seconds),
            correction_frames: 0,
            click: false,
            lesson_id: None,
            purpose: None,
            midi: MidiTakeSetup::default(),
            loop_section: None,
            played: None,
            extra_devices: Vec::new(),
            follow_clocks: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TakeSetupError {
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Busy(#[from] crate::engine::EngineBusy),
    #[error(transparent)]
    Midi(#[from] crate::midi::MidiError),
    #[error("cannot start recording in {}: {reason}", folder.display())]
    Files { folder: PathBuf, reason: String },
}

/// What a poll found.
#[derive(Clone, Debug, PartialEq)]
pub enum TakePoll {
    Recording {
        frames: u64,
    },
    /// Every frame up to the take's end is with the recorder.
    Finished,
    /// The device stopped or vanished; the take so far is kept.
    Fault(String),
}

/// Something MIDI reported during the take.
pub use crate::midi::MidiNotice;

pub struct RunningTake {
    handle: EngineHandle,
    status: Arc<CaptureStatus>,
    recorder: Recorder,
    running: crate::audio::device::RunningDevice,
    anchor: Arc<ClockAnchor>,
    take: TakeRecord,
    folder: PathBuf,
    input_name: String,
    output_name: String,
    xruns: u64,
    fault: Option<String>,
    stop_sent: bool,
    last_output: u64,
    last_progress: Instant,
    midi: MidiSide,
    played: Option<crate::music::Arrangement>,
    extra: ExtraDevices,
}

/// A take whose device has stopped and whose files are still being closed: everything
/// here may move to another thread (the device, which may not, is gone).
pub struct StoppedTake {
    recorder: Recorder,
    status: Arc<CaptureStatus>,
    take: TakeRecord,
    folder: PathBuf,
    xruns: u64,
    fault: Option<String>,
    reported_latency_frames: i64,
    midi: MidiSide,
    played: Option<crate::music::Arrangement>,
    extra: ExtraDevices,
}

/// A take that has stopped: its record (already written as `take.json` when `written`
/// is `Ok`), what the recorder saw, and the fault that ended it, if any.
pub struct FinishedTake {
    pub take: TakeRecord,
    pub report: RecorderReport,
    pub fault: Option<String>,
    pub folder: PathBuf,
    pub written: Result<(), TakeFileError>,
    /// The arrangement as played.
    pub played: Option<crate::music::Arrangement>,
}

/// The take's first `take.json`: what will be recorded, before a frame is.
fn first_record(
    info: &DeviceInfo,
    setup: &TakeSetup,
    names: &[String],
    midi_tracks: &[MidiTrackRecord],
    music_frames: Option<u64>,
) -> TakeRecord {
    TakeRecord {
        format: FORMAT.into(),
        complete: false,
        recovered: false,
        started_at: now_rfc3339(),
        host: info.host.clone(),
        input_device: info.input_name.clone(),
        output_device: info.output_name.clone(),
        sample_rate_hz: info.sample_rate_hz,
        buffer_frames: info.buffer_frames,
        latency: LatencyApplied {
            reported_frames: 0,
            correction_frames: setup.correction_frames,
            applied_frames: setup.correction_frames,
        },
        frames: 0,
        duration_secs: 0.0,
        xruns: 0,
        dropped_frames: 0,
        overflow_frames: 0,
        gaps: Vec::new(),
        arrangement: setup.arrangement.clone(),
        tracks: setup
            .inputs
            .iter()
            .zip(names)
            .map(|(input, name)| TrackRecord {
                file: format!("{name}.wav"),
                peaks: format!("{name}.peaks"),
                input: *input,
                frames: 0,
                device: None,
            })
            .collect(),
        error: None,
        lesson_id: setup.lesson_id,
        purpose: setup.purpose.clone(),
        midi_tracks: midi_tracks.to_vec(),
        music_frames,
        devices: Vec::new(),
    }
}

/// Mutes the parts played in the room, sets the click, and arms recording and playback.
fn send_start_commands(
    handle: &EngineHandle,
    setup: &TakeSetup,
    take_frames: u64,
) -> Result<(), TakeSetupError> {
    // A part played by an instrument in the room is not also played by bandroom.
    for route in &setup.midi.parts {
        handle.send(Command::SetLaneMute {
            lane: route.lane,
            muted: true,
        })?;
    }
    if !setup.click {
        handle.send(Command::SetClickEnabled { enabled: false })?;
    }
    handle.send(Command::Record {
        frames: take_frames,
    })?;
    if setup.arrangement.is_some() {
        if let Some(section) = setup.loop_section {
            handle.send(Command::SetLoop {
                section: Some(section),
            })?;
        }
        handle.send(Command::Play)?;
    }
    Ok(())
}

impl RunningTake {
    /// Builds the engine and capture for `setup`, writes the first `take.json` and
    /// starts the device. Recording starts at once (after the count-in, if a part plays).
    pub fn start(opened: OpenedDevice, setup: TakeSetup) -> Result<RunningTake, TakeSetupError> {
        let info = opened.info.clone();
        let rate = info.sample_rate_hz;
        let plays = setup.arrangement.is_some();
        // Cloned so the rest of the setup can still be read whole; a score is small.
        let (engine, handle) = Engine::new(
            setup.score.clone(),
            EngineConfig {
                sample_rate_hz: rate,
                output_channels: info.output_channels,
                max_block_frames: 1024,
                ..EngineConfig::default()
            },
        )?;
        let anchor = ClockAnchor::new();
        let tempo_bpm = engine.score().tempo.as_f64();
        let midi = MidiSide::open(
            &setup.midi,
            &setup.folder,
            rate,
            &anchor,
            &handle,
            tempo_bpm,
        )?;
        let take_frames = if plays && setup.loop_section.is_some() {
            u64::MAX
        } else if plays {
            engine.end_frame() + TAIL_SECS * u64::from(rate)
        } else {
            setup
                .seconds
                .map_or(u64::MAX, |s| (s * f64::from(rate)).round() as u64)
        };
        let channels: Vec<usize> = setup.inputs.iter().map(|n| n.saturating_sub(1)).collect();
        let (tap, reader) = CaptureTap::new(
            &CaptureConfig {
                channels,
                device_channels: info.input_channels,
                ring_frames: (RING_SECS * rate) as usize,
            },
            &handle,
        );
        let status = Arc::clone(tap.status());
        let names: Vec<String> = setup.inputs.iter().map(|n| format!("input-{n}")).collect();
        let files_error = |e: &dyn std::fmt::Display| TakeSetupError::Files {
            folder: setup.folder.clone(),
            reason: e.to_string(),
        };
        let recorder =
            Recorder::start(&setup.folder, &names, rate, reader).map_err(|e| files_error(&e))?;
        let music_frames = (plays && setup.loop_section.is_none()).then(|| engine.end_frame());
        let take = first_record(&info, &setup, &names, midi.records(), music_frames);
        let (extra, extra_callbacks, extra_tracks) = ExtraDevices::start(
            &info,
            &setup.extra_devices,
            &setup.folder,
            &handle,
            &anchor,
            setup.follow_clocks,
        )?;
        let mut take = take;
        take.tracks.extend(extra_tracks);
        take.write(&setup.folder).map_err(|e| files_error(&e))?;
        send_start_commands(&handle, &setup, take_frames)?;
        let running = opened.start_with_extra(
            engine_output(engine, &anchor),
            capture_input(tap, &anchor, setup.correction_frames, info.input_channels),
            extra_callbacks,
        )?;
        Ok(RunningTake {
            handle,
            status,
            recorder,
            running,
            anchor,
            take,
            folder: setup.folder,
            input_name: info.input_name,
            output_name: info.output_name,
            xruns: 0,
            fault: None,
            stop_sent: false,
            last_output: 0,
            last_progress: Instant::now(),
            midi,
            played: setup.played,
            extra,
        })
    }

    pub fn handle(&self) -> &EngineHandle {
        &self.handle
    }

    /// One level meter per recorded input, in input order (fed even before the
    /// count-in ends, so levels can be set).
    /// Every track's meter: the main device's inputs, then each further device's.
    pub fn input_meters(&self) -> impl Iterator<Item = &MeterSlot> {
        self.status.inputs.iter().chain(self.extra.meters())
    }

    /// How each further device's clock is doing (none without further devices).
    pub fn device_clocks(&self) -> Vec<super::extra_devices::DeviceClock> {
        self.extra.clocks()
    }

    pub fn sample_rate_hz(&self) -> u32 {
        self.take.sample_rate_hz
    }

    /// The engine's position in frames (the clock the music's cues are read on).
    pub fn engine_frame(&self) -> u64 {
        self.handle.position_frames()
    }

    /// The section (index into the score's sections) the engine reports playing.
    pub fn engine_section(&self) -> usize {
        self.handle.section()
    }

    /// The frame of the take being recorded now (0 before recording starts), for markers.
    pub fn take_frame(&self) -> u64 {
        self.handle.take_frames().map_or(0, |(start, _)| {
            self.handle.output_frames().saturating_sub(start)
        })
    }

    /// A part's loudest moment since the last call (post-fader: a muted part reads 0).
    pub fn lane_peak(&self, lane: usize) -> f32 {
        self.handle
            .meters()
            .lane(lane)
            .map_or(0.0, |m| m.take_peak())
    }

    /// Mutes or solos a part while the take runs: what the room hears, not what the
    /// inputs record.
    pub fn set_lane(&self, lane: usize, muted: bool, soloed: bool) -> Result<(), TakeSetupError> {
        self.handle
            .send(Command::SetLaneMute { lane, muted })
            .and_then(|()| self.handle.send(Command::SetLaneSolo { lane, soloed }))
            .map_err(TakeSetupError::from)
    }

    pub fn folder(&self) -> &std::path::Path {
        &self.folder
    }

    /// xruns counted so far.
    pub fn xruns(&self) -> u64 {
        self.xruns
    }

    /// Ends the take at the next block (the part stops too).
    pub fn request_stop(&mut self) {
        if !self.stop_sent && self.handle.send(Command::StopRecording).is_ok() {
            self.stop_sent = true;
        }
    }

    /// Pedal presses and unplugged MIDI ports since the last call.
    pub fn midi_notices(&self) -> Vec<MidiNotice> {
        self.midi.notices()
    }

    /// Silences every instrument bandroom is playing over MIDI.
    pub fn midi_panic(&self) {
        self.midi.panic();
    }

    /// Checks on the take without waiting: faults, stalls and the end.
    pub fn poll(&mut self) -> TakePoll {
        if let Some(fault) = &self.fault {
            return TakePoll::Fault(fault.clone());
        }
        if self.status.finished.load(Ordering::Acquire) && self.extra.all_finished() {
            return TakePoll::Finished;
        }
        for f in self.running.faults.try_iter() {
            match f.extra {
                Some(device) => self.extra.fault(device, &f.message, f.fatal),
                None if f.fatal => self.fault = Some(f.message),
                None => self.xruns += 1,
            }
        }
        if let Some(fault) = &self.fault {
            return TakePoll::Fault(fault.clone());
        }
        let output = self.handle.output_frames();
        if output != self.last_output {
            self.last_output = output;
            self.last_progress = Instant::now();
        } else if self.last_progress.elapsed() > STALL {
            self.fault = Some(format!(
                "{} stopped running (no audio for 3 s): is it still connected?",
                self.output_name
            ));
        }
        // Input that never catches up with the take's end has stopped arriving.
        let rate = u64::from(self.take.sample_rate_hz);
        self.extra.check_stalls(
            self.handle
                .take_frames()
                .is_some_and(|(_, end)| end != u64::MAX && output > end + 5 * rate),
        );
        if let Some((start, end)) = self.handle.take_frames()
            && end != u64::MAX
            && output > end + 5 * rate
            && self.status.frames.load(Ordering::Relaxed) < end - start
        {
            self.fault = Some(format!(
                "{} stopped delivering input: is it still connected?",
                self.input_name
            ));
        }
        match &self.fault {
            Some(fault) => TakePoll::Fault(fault.clone()),
            None => TakePoll::Recording {
                frames: self.status.frames.load(Ordering::Relaxed),
            },
        }
    }

    /// Stops the device, closes every file and writes the final `take.json`. A take cut
    /// short by a fault is still a take: what was recorded is kept.
    /// Stops and closes everything: the device, the recorder, the MIDI side, and the
    /// final `take.json`.
    pub fn finish(self) -> FinishedTake {
        self.stop_device().close()
    }

    /// Stops the device (quick, and it must happen on the thread that owns it); the
    /// files are closed by `StoppedTake::close`, which may wait on the disk.
    pub fn stop_device(mut self) -> StoppedTake {
        let reported = self.anchor.reported_latency_frames();
        for f in self.running.faults.try_iter() {
            match f.extra {
                Some(device) => self.extra.fault(device, &f.message, f.fatal),
                None if !f.fatal => self.xruns += 1,
                None => {}
            }
        }
        if self.anchor.block_frames() > 0 {
            self.take.buffer_frames = Some(self.anchor.block_frames());
        }
        self.running.stop();
        // The devices are stopped: what the further ones' aligners have not placed yet
        // ends their tracks.
        self.extra.stop();
        StoppedTake {
            recorder: self.recorder,
            status: self.status,
            take: self.take,
            folder: self.folder,
            xruns: self.xruns,
            fault: self.fault,
            reported_latency_frames: reported,
            midi: self.midi,
            played: self.played,
            extra: self.extra,
        }
    }
}

impl StoppedTake {
    /// Closes every file and writes the final `take.json`.
    pub fn close(self) -> FinishedTake {
        let StoppedTake {
            recorder,
            status,
            mut take,
            folder,
            xruns,
            fault,
            reported_latency_frames: reported,
            midi,
            played,
            extra,
        } = self;
        let report = if fault.is_some() {
            recorder.abort()
        } else {
            recorder.finish()
        };
        let extra = extra.close(fault.is_some());
        take.complete = fault.is_none() && report.error.is_none();
        take.frames = report.frames;
        take.duration_secs = report.frames as f64 / f64::from(take.sample_rate_hz);
        take.dropped_frames = status.dropped_frames.load(Ordering::Relaxed);
        take.overflow_frames = status.overflow_frames.load(Ordering::Relaxed);
        take.gaps = report
            .gaps
            .iter()
            .map(|g| GapRecord {
                at_frame: g.at_frame,
                frames: g.frames,
            })
            .collect();
        take.latency.reported_frames = reported;
        take.latency.applied_frames = reported + take.latency.correction_frames;
        let main_frames = report.tracks.iter().map(|t| t.frames);
        for (track, frames) in take
            .tracks
            .iter_mut()
            .zip(main_frames.chain(extra.track_frames.iter().copied()))
        {
            track.frames = frames;
        }
        take.devices = extra.devices;
        let (midi_tracks, midi_problems) = midi.finish(report.frames);
        take.midi_tracks = midi_tracks;
        take.error = fault
            .clone()
            .or_else(|| report.error.clone())
            .or_else(|| extra.error.clone())
            .or_else(|| midi_problems.first().cloned());
        take.xruns = xruns;
        // On a full disk even take.json may not fit: the earlier one (marked incomplete)
        // stays, and the recorder's error is the one to report.
        let written = take.write(&folder);
        FinishedTake {
            take,
            report,
            fault,
            folder,
            written,
            played,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::device::{DeviceRequest, Host, open};
    use crate::audio::virtual_device::VirtualSettings;

    fn virtual_device(dropout_every: Option<u32>) -> OpenedDevice {
        open(&DeviceRequest {
            host: Host::Virtual(VirtualSettings {
                dropout_every,
                speed: 20.0,
                ..VirtualSettings::default()
            }),
            input: None,
            output: None,
            sample_rate_hz: 48_000,
            buffer_frames: None,
            input_channels: 2,
            output_channels: 2,
            extra_inputs: Vec::new(),
        })
        .unwrap()
    }

    fn record(folder: &std::path::Path, dropout_every: Option<u32>) -> FinishedTake {
        let mut take = RunningTake::start(
            virtual_device(dropout_every),
            TakeSetup::just_record(folder.to_path_buf(), vec![1, 2], 0.5),
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while matches!(take.poll(), TakePoll::Recording { .. }) {
            assert!(Instant::now() < deadline, "the take never finished");
            std::thread::sleep(Duration::from_millis(5));
        }
        take.finish()
    }

    #[test]
    fn a_timed_take_records_exactly_its_length_on_every_input() {
        let dir = tempfile::tempdir().unwrap();
        let finished = record(dir.path(), None);
        assert!(finished.written.is_ok());
        assert_eq!(finished.fault, None);
        let take = &finished.take;
        assert!(take.complete);
        assert_eq!(take.frames, 24_000, "0.5 s at 48 kHz, to the frame");
        assert_eq!(take.tracks.len(), 2);
        for track in &take.tracks {
            assert_eq!(track.frames, 24_000, "{}", track.file);
            let reader = hound::WavReader::open(dir.path().join(&track.file)).unwrap();
            assert_eq!(u64::from(reader.duration()), 24_000);
        }
        assert!(take.gaps.is_empty());
        let written = TakeRecord::read(dir.path()).unwrap();
        assert_eq!(&written, take, "take.json says what the take is");
    }

    #[test]
    fn dropped_blocks_are_counted_and_kept_as_gaps_on_the_timeline() {
        let dir = tempfile::tempdir().unwrap();
        let finished = record(dir.path(), Some(10));
        let take = &finished.take;
        // 24,000 frames in blocks of 256: every tenth block lost is nine gaps, each one
        // block long and ten blocks after the last; each is counted as a dropout.
        assert_eq!(take.gaps.len(), 9, "{:?}", take.gaps);
        assert!(take.gaps.iter().all(|g| g.frames == 256), "{:?}", take.gaps);
        assert!(
            take.gaps
                .windows(2)
                .all(|w| w[1].at_frame - w[0].at_frame == 2_560),
            "{:?}",
            take.gaps
        );
        assert!(take.xruns >= 9, "{} dropouts counted", take.xruns);
        // The files keep the timeline: a dropped block is silence, not a shift.
        for track in &take.tracks {
            assert_eq!(track.frames, take.frames, "{}", track.file);
        }
    }
}
