//! The MIDI side of a take: keyboards recorded beside the microphones, parts sent to
//! instruments, the pedal watched — opened before the audio starts, closed after it.
//!
//! Owns the bridge from the audio clock to the MIDI layer (`SpeakerClock` over the
//! clock anchor and the engine's take frames) and turning reports into take.json
//! records. Must not print or pick ports for the user.

use crate::audio::clock::ClockAnchor;
use crate::engine::{EngineHandle, EngineWatch};
use crate::midi::{
    ControlMap, MidiError, MidiInputs, MidiNotice, MidiOut, MidiRecorder, MidiTrackSpec,
    OutputReport, PartRoute, RecorderSetup, SpeakerClock,
};
use crate::record::take_file::MidiTrackRecord;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// One keyboard (or one channel of a port) to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MidiInputSpec {
    pub port: String,
    /// 0-based; `None` records every channel.
    pub channel: Option<u8>,
}

/// Everything MIDI a take does; `Default` does nothing.
#[derive(Clone, Debug, Default)]
pub struct MidiTakeSetup {
    /// Each becomes `keys-<n>.mid`.
    pub inputs: Vec<MidiInputSpec>,
    /// Ports opened only for the pedal (not recorded).
    pub control_ports: Vec<String>,
    pub controls: ControlMap,
    /// A keyboard's delay between a key going down and its message arriving.
    pub input_latency_ms: f64,
    pub parts: Vec<PartRoute>,
    /// An instrument's delay between a message and its sound: notes go out earlier.
    pub output_latency_ms: f64,
    /// Port for MIDI clock, at the take's tempo.
    pub clock_port: Option<String>,
}

impl MidiTakeSetup {
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
            && self.control_ports.is_empty()
            && self.parts.is_empty()
            && self.clock_port.is_none()
    }
}

struct SessionClock {
    anchor: Arc<ClockAnchor>,
    watch: EngineWatch,
    rate_hz: u32,
}

impl SpeakerClock for SessionClock {
    fn frame_at(&self, at: Instant) -> Option<i64> {
        self.anchor.speaker_frame_at(at, self.rate_hz)
    }

    fn instant_of(&self, frame: i64) -> Option<Instant> {
        self.anchor.speaker_instant_of(frame, self.rate_hz)
    }

    fn take_window(&self) -> Option<(u64, u64)> {
        self.watch.take_frames()
    }
}

pub(super) struct MidiSide {
    recorder: Option<MidiRecorder>,
    out: Option<MidiOut>,
    records: Vec<MidiTrackRecord>,
}

fn ms_to_frames(ms: f64, rate_hz: u32) -> i64 {
    if ms.is_finite() {
        (ms * f64::from(rate_hz) / 1000.0).round() as i64
    } else {
        0
    }
}

impl MidiSide {
    pub(super) fn none() -> MidiSide {
        MidiSide {
            recorder: None,
            out: None,
            records: Vec::new(),
        }
    }

    /// Opens every port before the device starts, so a wrong port name stops the take
    /// before anything is recorded.
    pub(super) fn open(
        setup: &MidiTakeSetup,
        folder: &Path,
        rate_hz: u32,
        anchor: &Arc<ClockAnchor>,
        handle: &EngineHandle,
        tempo_bpm: f64,
    ) -> Result<MidiSide, MidiError> {
        if setup.is_empty() {
            return Ok(MidiSide::none());
        }
        let clock: Arc<dyn SpeakerClock> = Arc::new(SessionClock {
            anchor: Arc::clone(anchor),
            watch: handle.watch(),
            rate_hz,
        });
        let out = if setup.parts.is_empty() && setup.clock_port.is_none() {
            None
        } else {
            Some(MidiOut::start(
                &setup.parts,
                handle.part_cues(),
                Arc::clone(&clock),
                ms_to_frames(setup.output_latency_ms, rate_hz),
                setup.clock_port.as_deref().map(|p| (p, tempo_bpm)),
            )?)
        };
        let mut wanted: Vec<String> = setup.inputs.iter().map(|i| i.port.clone()).collect();
        wanted.extend(setup.control_ports.iter().cloned());
        let (recorder, records) = if wanted.is_empty() {
            (None, Vec::new())
        } else {
            let inputs = MidiInputs::open(&wanted)?;
            let mut specs = Vec::new();
            let mut records = Vec::new();
            for (index, input) in setup.inputs.iter().enumerate() {
                let file = format!("keys-{}.mid", index + 1);
                let port = inputs.names.get(index).cloned().unwrap_or_default();
                specs.push(MidiTrackSpec {
                    port: index,
                    channel: input.channel,
                    file: folder.join(&file),
                    name: port.clone(),
                });
                records.push(MidiTrackRecord {
                    file,
                    port,
                    channel: input.channel.map(|c| c + 1),
                    events: 0,
                    notes: 0,
                    released_at_end: 0,
                    unplugged_at_frame: None,
                });
            }
            let recorder = MidiRecorder::start(
                inputs,
                RecorderSetup {
                    tracks: specs,
                    rate_hz,
                    latency_frames: ms_to_frames(setup.input_latency_ms, rate_hz),
                    controls: ControlMap::new(setup.controls.mappings.clone()),
                },
                clock,
            );
            (Some(recorder), records)
        };
        Ok(MidiSide {
            recorder,
            out,
            records,
        })
    }

    /// The track records as they will be once finished (for the first take.json).
    pub(super) fn records(&self) -> &[MidiTrackRecord] {
        &self.records
    }

    pub(super) fn notices(&self) -> Vec<MidiNotice> {
        self.recorder
            .as_ref()
            .map(MidiRecorder::notices)
            .unwrap_or_default()
    }

    pub(super) fn panic(&self) {
        if let Some(out) = &self.out {
            out.panic();
        }
    }

    /// Closes the files at `take_frames` and silences every instrument.
    pub(super) fn finish(self, take_frames: u64) -> (Vec<MidiTrackRecord>, Vec<String>) {
        let mut problems = Vec::new();
        let mut records = self.records;
        if let Some(recorder) = self.recorder {
            for (record, report) in records.iter_mut().zip(recorder.finish(take_frames)) {
                record.events = report.events;
                record.notes = report.notes;
                record.released_at_end = report.released_at_end;
                record.unplugged_at_frame = report.unplugged_at;
                if let Some(error) = report.error {
                    problems.push(error);
                }
            }
        }
        if let Some(out) = self.out {
            let OutputReport { errors, .. } = out.finish();
            problems.extend(errors);
        }
        (records, problems)
    }
}
