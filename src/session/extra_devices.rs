//! The further input devices of a take (USB microphones, a second interface): for each,
//! its aligner, its tracks' recorder and what its clock did.
//!
//! Owns, per device: the capture tap its aligned frames go into, the recorder that
//! writes `device-N-input-C.wav`, the aligner that follows its clock, and its record for
//! take.json. A device that faults, stalls or is unplugged ends only its own tracks (the
//! rest of the take is a gap on them, and said); the take records on. Must not touch the
//! main device's capture, and must not print.

use super::take::TakeSetupError;
use crate::audio::aligner::{AlignerSetup, DeviceAligner};
use crate::audio::clock::ClockAnchor;
use crate::audio::device::{DeviceInfo, InputCallback};
use crate::engine::{CaptureConfig, CaptureTap, EngineHandle};
use crate::record::recorder::{Recorder, RecorderReport};
use crate::record::take_file::{DeviceRecord, GapRecord, TrackRecord};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Seconds of input each further device's rings hold.
const RING_SECS: u32 = 10;

/// One further device as a take is asked to record it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtraDeviceSetup {
    /// 1-based channels of the device, one track each.
    pub channels: Vec<usize>,
    /// Its calibrated latency, in frames of the take.
    pub correction_frames: i64,
}

/// A further device's clock while the take runs, as the input cards show it.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceClock {
    pub name: String,
    /// The host's identity for it (what the room plan keeps).
    pub id: String,
    /// Its 1-based channels recorded.
    pub channels: Vec<usize>,
    /// The estimate of its rate has locked (it has not yet in the first seconds).
    pub locked: bool,
    /// Times its placement jumped (a stall, lost input).
    pub jumps: u32,
    pub drift_ppm: f64,
    /// Given up on: unplugged or stalled; its tracks end with a gap.
    pub gone: bool,
    /// The last thing said about it (a fault, a stall).
    pub warning: Option<String>,
}

impl DeviceClock {
    /// What the teacher should be told about this device's clock, if anything.
    pub fn trouble(&self) -> Option<String> {
        if self.gone {
            return Some(
                self.warning
                    .clone()
                    .unwrap_or_else(|| format!("{} stopped: is it still plugged in?", self.name)),
            );
        }
        (self.jumps > 0).then(|| {
            format!(
                "{}'s clock is unsteady ({} jump(s) so far): its track may have short gaps",
                self.name, self.jumps
            )
        })
    }
}

struct ExtraSide {
    /// The device's 1-based channels recorded.
    channels: Vec<usize>,
    aligner: Option<DeviceAligner>,
    recorder: Recorder,
    record: DeviceRecord,
    /// Set once the device has been given up on (unplugged, stalled).
    gone: bool,
}

/// Every further device of a running take.
#[derive(Default)]
pub struct ExtraDevices {
    sides: Vec<ExtraSide>,
}

/// What the further devices left when the take closed.
pub struct ExtraClosed {
    pub devices: Vec<DeviceRecord>,
    /// Frames of each further track, in track order.
    pub track_frames: Vec<u64>,
    pub error: Option<String>,
}

impl ExtraDevices {
    /// Starts a tap, a recorder and an aligner for each further device in `info`
    /// (matched by position with `setups`). Returns the callbacks to start the devices
    /// with and the tracks' records.
    pub fn start(
        info: &DeviceInfo,
        setups: &[ExtraDeviceSetup],
        folder: &Path,
        handle: &EngineHandle,
        anchor: &Arc<ClockAnchor>,
        follow_clock: bool,
    ) -> Result<(ExtraDevices, Vec<InputCallback>, Vec<TrackRecord>), TakeSetupError> {
        let rate = info.sample_rate_hz;
        let mut devices = ExtraDevices::default();
        let mut callbacks = Vec::with_capacity(setups.len());
        let mut tracks = Vec::new();
        for (index, (device, setup)) in info.extra_inputs.iter().zip(setups).enumerate() {
            let n = setup.channels.len();
            let (tap, reader) = CaptureTap::new(
                &CaptureConfig {
                    channels: (0..n).collect(),
                    device_channels: n,
                    ring_frames: (RING_SECS * rate) as usize,
                },
                handle,
            );
            let names: Vec<String> = setup
                .channels
                .iter()
                .map(|c| format!("device-{}-input-{c}", index + 1))
                .collect();
            let recorder = Recorder::start(folder, &names, rate, reader).map_err(|e| {
                TakeSetupError::Files {
                    folder: folder.to_path_buf(),
                    reason: e.to_string(),
                }
            })?;
            let (callback, aligner) = DeviceAligner::start(
                AlignerSetup {
                    name: device.name.clone(),
                    device_rate_hz: device.sample_rate_hz,
                    engine_rate_hz: rate,
                    channels: setup.channels.iter().map(|c| c.saturating_sub(1)).collect(),
                    device_channels: device.channels,
                    correction_frames: setup.correction_frames,
                    follow_clock,
                    ring_secs: RING_SECS,
                },
                tap,
                anchor,
            )
            .map_err(|e| TakeSetupError::Files {
                folder: folder.to_path_buf(),
                reason: e.to_string(),
            })?;
            callbacks.push(callback);
            tracks.extend(
                setup
                    .channels
                    .iter()
                    .zip(&names)
                    .map(|(c, name)| TrackRecord {
                        file: format!("{name}.wav"),
                        peaks: format!("{name}.peaks"),
                        input: *c,
                        frames: 0,
                        device: Some(device.name.clone()),
                    }),
            );
            devices.sides.push(ExtraSide {
                channels: setup.channels.clone(),
                aligner: Some(aligner),
                recorder,
                record: DeviceRecord {
                    name: device.name.clone(),
                    id: device.id.clone(),
                    sample_rate_hz: device.sample_rate_hz,
                    buffer_frames: device.buffer_frames,
                    correction_frames: setup.correction_frames,
                    clock_followed: follow_clock,
                    correction_ratio: 1.0,
                    ..DeviceRecord::default()
                },
                gone: false,
            });
        }
        Ok((devices, callbacks, tracks))
    }

    /// Each further device's input meters, in track order.
    pub fn meters(&self) -> impl Iterator<Item = &crate::engine::MeterSlot> {
        self.sides
            .iter()
            .flat_map(|side| side.aligner.iter().flat_map(|a| a.status().inputs.iter()))
    }

    /// How each further device's clock is doing now, for the screens.
    pub fn clocks(&self) -> Vec<DeviceClock> {
        self.sides
            .iter()
            .map(|side| {
                let report = side.aligner.as_ref().map(|a| a.report());
                DeviceClock {
                    name: side.record.name.clone(),
                    id: side.record.id.clone(),
                    channels: side.channels.clone(),
                    locked: report.as_ref().is_some_and(|r| r.locked),
                    jumps: report.as_ref().map_or(0, |r| r.jumps),
                    drift_ppm: report.as_ref().map_or(0.0, |r| r.drift_ppm),
                    gone: side.gone,
                    warning: side.record.warnings.last().cloned(),
                }
            })
            .collect()
    }

    /// Every further device's tracks reach the take's end (or were given up on).
    pub fn all_finished(&self) -> bool {
        self.sides.iter().all(|side| {
            side.aligner
                .as_ref()
                .is_none_or(|a| a.status().finished.load(Ordering::Acquire))
        })
    }

    /// Device `index` reported `message`; a fatal fault ends its tracks.
    pub fn fault(&mut self, index: usize, message: &str, fatal: bool) {
        let Some(side) = self.sides.get_mut(index) else {
            return;
        };
        if fatal {
            side.record.warnings.push(format!(
                "{message}: its tracks end here, the rest of the take is silence on them"
            ));
            side.gone = true;
            if let Some(aligner) = &side.aligner {
                aligner.device_gone();
            }
        } else if side.record.warnings.len() < 20 {
            side.record.warnings.push(message.to_string());
        }
    }

    /// Gives up on devices that have not delivered the take's end well after it passed.
    pub fn check_stalls(&mut self, past_end: bool) {
        if !past_end {
            return;
        }
        for side in &mut self.sides {
            let Some(aligner) = &side.aligner else {
                continue;
            };
            if !side.gone && !aligner.status().finished.load(Ordering::Acquire) {
                side.gone = true;
                side.record.warnings.push(format!(
                    "{} stopped delivering input before the take's end: is it still connected?",
                    side.record.name
                ));
                aligner.device_gone();
            }
        }
    }

    /// Stops every aligner (after the devices have stopped): unfinished tracks end here.
    pub fn stop(&mut self) {
        for side in &mut self.sides {
            if let Some(aligner) = side.aligner.take() {
                let report = aligner.stop();
                let record = &mut side.record;
                record.drift_ppm = report.locked.then_some(report.drift_ppm);
                record.correction_ratio = report.correction_ratio;
                record.clock_jumps = report.jumps;
                record.lost_frames = report.lost_frames;
                if report.failed_chunks > 0 {
                    record.warnings.push(format!(
                        "{}: {} block(s) could not be resampled onto the take's clock and are \
                         gaps in its tracks",
                        record.name, report.failed_chunks
                    ));
                }
                if !report.locked {
                    record.warnings.push(format!(
                        "{}'s clock could not be followed (it never ran steadily long enough): its tracks are kept as recorded",
                        record.name
                    ));
                } else if report.jumps > 0 {
                    record.warnings.push(format!(
                        "{}'s clock jumped {} time(s) (a stall or lost input): each jump is a gap or a short overlap in its tracks",
                        record.name, report.jumps
                    ));
                }
            }
        }
    }

    /// Closes every further device's files.
    pub fn close(mut self, abort: bool) -> ExtraClosed {
        self.stop();
        let mut closed = ExtraClosed {
            devices: Vec::with_capacity(self.sides.len()),
            track_frames: Vec::new(),
            error: None,
        };
        for side in self.sides {
            let report: RecorderReport = if abort {
                side.recorder.abort()
            } else {
                side.recorder.finish()
            };
            let mut record = side.record;
            record.gaps = report
                .gaps
                .iter()
                .map(|g| GapRecord {
                    at_frame: g.at_frame,
                    frames: g.frames,
                })
                .collect();
            closed
                .track_frames
                .extend(report.tracks.iter().map(|t| t.frames));
            if closed.error.is_none() {
                closed.error = report.error;
            }
            closed.devices.push(record);
        }
        closed
    }
}
