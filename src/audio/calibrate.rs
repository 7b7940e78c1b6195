//! Latency calibration: measures, to the sample, how much later than the devices
//! report a sound played on an output comes back on an input.
//!
//! Owns the test signal (a maximum-length sequence, which correlates to a single sharp
//! peak and shrugs off room noise), playing it through a loopback for several periods,
//! and reading each period's round trip from an FFT cross-correlation. Refuses when
//! nothing comes back or the periods disagree. Must not store the result: the caller
//! decides where corrections live.

use super::clock::{ClockAnchor, InputClock, OutputClock};
use super::device::{self, DeviceError, DeviceInfo, DeviceRequest};
use crate::engine::{Command, Engine, EngineConfig, Score};
use realfft::RealFftPlanner;
use realfft::num_complex::Complex;
use std::time::Duration;

/// Order of the sequence: 2^14 − 1 = 16 383 frames (0.34 s at 48 kHz) per period.
const MLS_ORDER: u32 = 14;
pub const MLS_FRAMES: usize = (1 << MLS_ORDER) - 1;
/// Periods played (4 s at 48 kHz); the first and last are not measured (they straddle
/// silence), and a cable plugged in a moment late still leaves enough.
const PERIODS: usize = 12;
/// Level of the test signal: loud enough to beat room noise, well below clipping.
const LEVEL: f32 = 0.25;
/// A period counts when its correlation peak stands this far above the rest.
const MIN_PEAK_TO_RMS: f32 = 8.0;
/// Periods that must agree.
const MIN_GOOD_PERIODS: usize = 3;
/// Largest disagreement between periods, in frames, still called stable.
const MAX_SPREAD_FRAMES: i64 = 2;

/// What to measure.
#[derive(Clone, Debug)]
pub struct CalibrationRequest {
    pub device: DeviceRequest,
    /// 0-based output channel the signal leaves on.
    pub output_channel: usize,
    /// 0-based input channel it comes back on.
    pub input_channel: usize,
    /// 0-based channel of each further input device (`device.extra_inputs`, in order)
    /// to measure in the same run: USB microphones in front of the speaker.
    pub extra_channels: Vec<usize>,
}

/// A further input device's measured latency, after its clock is followed and its
/// audio put on the engine's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtraCalibration {
    pub name: String,
    /// Frames to remove from its aligned audio; `Err` says why it could not be measured.
    pub result: Result<(i64, Vec<i64>, i64), String>,
}

/// A measured round trip.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    pub device: DeviceInfo,
    /// Frames to remove from captured audio on top of what the devices report.
    pub correction_frames: i64,
    /// One estimate per measured period.
    pub estimates: Vec<i64>,
    pub spread_frames: i64,
    /// What the devices report, output plus input, in frames.
    pub reported_latency_frames: i64,
    /// Each further input device, in the order asked.
    pub extra: Vec<ExtraCalibration>,
}

#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error("output channel {channel} does not exist on {device} ({channels} channels)")]
    NoOutputChannel {
        device: String,
        channel: usize,
        channels: usize,
    },
    #[error(
        "nothing came back on input {input} of {device}: connect output {output} to input {input} \
         with a cable (or put a microphone by the speaker) and try again"
    )]
    NothingCameBack {
        device: String,
        input: usize,
        output: usize,
    },
    #[error(
        "the round trip on {device} is unstable ({estimates:?} frames): check the cable, \
         close other audio programs and try again"
    )]
    Unstable { device: String, estimates: Vec<i64> },
    #[error("{device} stopped delivering input during calibration: {reason}")]
    Stalled { device: String, reason: String },
}

/// The test signal: one period of a maximum-length sequence as ±1.
pub fn mls() -> Vec<f32> {
    // Fibonacci LFSR with taps 14, 5, 3, 1 (a primitive polynomial: period 2^14 − 1).
    let mut state: u32 = 1;
    (0..MLS_FRAMES)
        .map(|_| {
            let bit = ((state >> 13) ^ (state >> 4) ^ (state >> 2) ^ state) & 1;
            state = ((state << 1) | bit) & ((1 << MLS_ORDER) - 1);
            if bit == 1 { 1.0 } else { -1.0 }
        })
        .collect()
}

/// Circular cross-correlation peak of `received` (one period) against the sequence:
/// the lag in frames (negative if the signal came back early) and the peak's height
/// over the correlation's RMS.
fn correlate(
    planner: &mut RealFftPlanner<f32>,
    reference: &[Complex<f32>],
    received: &[f32],
) -> (i64, f32) {
    let n = received.len();
    let forward = planner.plan_fft_forward(n);
    let inverse = planner.plan_fft_inverse(n);
    let mut input = received.to_vec();
    let mut spectrum = forward.make_output_vec();
    if forward.process(&mut input, &mut spectrum).is_err() {
        return (0, 0.0);
    }
    for (s, r) in spectrum.iter_mut().zip(reference) {
        *s *= r.conj();
    }
    // realfft wants the imaginary parts of the DC (and, for even n, Nyquist) bins at zero.
    if let Some(first) = spectrum.first_mut() {
        first.im = 0.0;
    }
    if n.is_multiple_of(2)
        && let Some(last) = spectrum.last_mut()
    {
        last.im = 0.0;
    }
    let mut correlation = inverse.make_output_vec();
    if inverse.process(&mut spectrum, &mut correlation).is_err() {
        return (0, 0.0);
    }
    let (peak_at, peak) = correlation
        .iter()
        .enumerate()
        .fold((0, 0.0f32), |best, (i, v)| {
            if v.abs() > best.1 { (i, v.abs()) } else { best }
        });
    let rms = (correlation.iter().map(|v| v * v).sum::<f32>() / n as f32).sqrt();
    let lag = if peak_at > n / 2 {
        peak_at as i64 - n as i64
    } else {
        peak_at as i64
    };
    (lag, if rms > 0.0 { peak / rms } else { 0.0 })
}

/// Reads the round trip from each full period of `captured` (aligned so that frame 0
/// is when the sequence started playing, as the devices report it).
pub fn analyse(captured: &[f32]) -> Vec<(i64, f32)> {
    let sequence = mls();
    let mut planner = RealFftPlanner::<f32>::new();
    let forward = planner.plan_fft_forward(MLS_FRAMES);
    let mut input = sequence.clone();
    let mut reference = forward.make_output_vec();
    if forward.process(&mut input, &mut reference).is_err() {
        return Vec::new();
    }
    (1..PERIODS - 1)
        .filter_map(|p| captured.get(p * MLS_FRAMES..(p + 1) * MLS_FRAMES))
        .map(|period| correlate(&mut planner, &reference, period))
        .collect()
}

/// Plays the test signal and measures the round trip.
pub fn calibrate(request: &CalibrationRequest) -> Result<Calibration, CalibrationError> {
    let opened = device::open(&request.device)?;
    let info = opened.info.clone();
    if request.output_channel >= info.output_channels {
        return Err(CalibrationError::NoOutputChannel {
            device: info.output_name,
            channel: request.output_channel + 1,
            channels: info.output_channels,
        });
    }
    if request.input_channel >= info.input_channels {
        return Err(DeviceError::TooFewChannels {
            device: info.input_name,
            has: info.input_channels,
            asked: request.input_channel + 1,
        }
        .into());
    }
    let total = PERIODS * MLS_FRAMES;
    let sequence = mls();
    let anchor = ClockAnchor::new();
    let mut output_clock = OutputClock::new(&anchor);
    let out_channels = info.output_channels;
    let out_channel = request.output_channel;
    // A silent engine keeps the timeline the further devices are aligned onto, exactly
    // as in a take; the test signal is laid over its (silent) output.
    let (mut engine, handle) = Engine::new(
        Score::silence(),
        EngineConfig {
            sample_rate_hz: info.sample_rate_hz,
            output_channels: out_channels,
            max_block_frames: 1024,
            ..EngineConfig::default()
        },
    )
    .map_err(|e| CalibrationError::Stalled {
        device: info.output_name.clone(),
        reason: e.to_string(),
    })?;
    let _ = handle.send(Command::SetClickEnabled { enabled: false });
    let _ = handle.send(Command::Record {
        frames: total as u64,
    });
    let output = Box::new(move |buffer: &mut [f32], stamp| {
        let frames = buffer.len() / out_channels;
        let played = engine.output_frame();
        engine.process(buffer);
        output_clock.on_block(played, frames, stamp);
        for (i, frame) in buffer.chunks_exact_mut(out_channels).enumerate() {
            let f = played as usize + i;
            frame.fill(0.0);
            if f < total {
                frame[out_channel] = LEVEL * sequence[f % MLS_FRAMES];
            }
        }
    });
    let (extra_callbacks, mut extra_sides) =
        extra::start(&info, &request.extra_channels, total, &handle, &anchor)?;
    let (done_tx, done_rx) = crossbeam_channel::bounded::<Vec<f32>>(1);
    let mut input_clock = InputClock::new(&anchor, 0);
    let in_channels = info.input_channels;
    let in_channel = request.input_channel;
    let mut captured = Some(vec![0.0f32; total]);
    let input = Box::new(move |buffer: &[f32], stamp| {
        let frames = buffer.len() / in_channels;
        let Some(start) = input_clock.timeline_frame(stamp, frames) else {
            return;
        };
        if let Some(store) = captured.as_mut() {
            for (i, frame) in buffer.chunks_exact(in_channels).enumerate() {
                let at = start + i as i64;
                if (0..total as i64).contains(&at) {
                    store[at as usize] = frame[in_channel];
                }
            }
            if start + frames as i64 >= total as i64
                && let Some(full) = captured.take()
            {
                // Moving the buffer out does not allocate; the channel has room for it.
                let _ = done_tx.try_send(full);
            }
        }
    });
    let running = opened.start_with_extra(output, input, extra_callbacks)?;
    let speed = match &request.device.host {
        device::Host::Virtual(v) => v.speed,
        _ => 1.0,
    };
    let expected = Duration::from_secs_f64(total as f64 / f64::from(info.sample_rate_hz) / speed);
    let result = done_rx.recv_timeout(expected * 2 + Duration::from_secs(5));
    extra::wait(&extra_sides, expected + Duration::from_secs(5));
    let fault = running
        .faults
        .try_iter()
        .find(|f| f.fatal && f.extra.is_none())
        .map(|f| f.message);
    running.stop();
    let extra = extra::measure(&mut extra_sides, total);
    let reported = anchor.reported_latency_frames();
    let captured = result.map_err(|_| CalibrationError::Stalled {
        device: info.input_name.clone(),
        reason: fault.unwrap_or_else(|| "no input arrived in time".into()),
    })?;
    let estimates = good_estimates(&captured);
    if estimates.len() < MIN_GOOD_PERIODS {
        return Err(CalibrationError::NothingCameBack {
            device: info.input_name,
            input: request.input_channel + 1,
            output: request.output_channel + 1,
        });
    }
    let Some((correction_frames, spread)) = settled(&estimates) else {
        return Err(CalibrationError::Unstable {
            device: info.input_name,
            estimates,
        });
    };
    Ok(Calibration {
        device: info,
        correction_frames,
        estimates,
        spread_frames: spread,
        reported_latency_frames: reported,
        extra,
    })
}

/// The round trips of the periods whose correlation peak stands clear of the rest.
fn good_estimates(captured: &[f32]) -> Vec<i64> {
    analyse(captured)
        .iter()
        .filter(|(_, quality)| *quality >= MIN_PEAK_TO_RMS)
        .map(|(lag, _)| *lag)
        .collect()
}

/// The further input devices' half of a calibration: each aligned onto the engine's
/// timeline as in a take, then measured like the main input.
mod extra {
    use super::super::aligner::{AlignerSetup, DeviceAligner};
    use super::super::clock::ClockAnchor;
    use super::super::device::{DeviceInfo, InputCallback};
    use super::{CalibrationError, ExtraCalibration, MIN_GOOD_PERIODS, good_estimates, settled};
    use crate::engine::{CaptureConfig, CaptureReader, CaptureTap, EngineHandle};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    pub struct Side {
        name: String,
        aligner: Option<DeviceAligner>,
        reader: CaptureReader,
    }

    pub fn start(
        info: &DeviceInfo,
        channels: &[usize],
        total: usize,
        handle: &EngineHandle,
        anchor: &Arc<ClockAnchor>,
    ) -> Result<(Vec<InputCallback>, Vec<Side>), CalibrationError> {
        let mut callbacks = Vec::new();
        let mut sides = Vec::new();
        for (device, &channel) in info.extra_inputs.iter().zip(channels) {
            let (tap, reader) = CaptureTap::new(
                &CaptureConfig {
                    channels: vec![0],
                    device_channels: 1,
                    ring_frames: total + 1024,
                },
                handle,
            );
            let (callback, aligner) = DeviceAligner::start(
                AlignerSetup {
                    name: device.name.clone(),
                    device_rate_hz: device.sample_rate_hz,
                    engine_rate_hz: info.sample_rate_hz,
                    channels: vec![channel],
                    device_channels: device.channels,
                    correction_frames: 0,
                    follow_clock: true,
                    ring_secs: 10,
                },
                tap,
                anchor,
            )
            .map_err(|e| CalibrationError::Stalled {
                device: device.name.clone(),
                reason: e.to_string(),
            })?;
            callbacks.push(callback);
            sides.push(Side {
                name: device.name.clone(),
                aligner: Some(aligner),
                reader,
            });
        }
        Ok((callbacks, sides))
    }

    /// Waits (up to `limit`) for every further device to deliver the whole signal.
    pub fn wait(sides: &[Side], limit: Duration) {
        let until = Instant::now() + limit;
        while Instant::now() < until
            && !sides.iter().all(|s| {
                s.aligner
                    .as_ref()
                    .is_none_or(|a| a.status().finished.load(Ordering::Acquire))
            })
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn measure(sides: &mut [Side], total: usize) -> Vec<ExtraCalibration> {
        sides
            .iter_mut()
            .map(|side| {
                if let Some(aligner) = side.aligner.take() {
                    aligner.stop();
                }
                let mut captured = vec![0.0f32; total];
                let mut at = 0usize;
                // Gaps come first in take order: a frame missing is silence here too.
                let mut gaps: Vec<_> = std::iter::from_fn(|| side.reader.gaps.pop().ok()).collect();
                gaps.reverse();
                if let Some(ring) = side.reader.tracks.first_mut() {
                    while at < total {
                        if let Some(gap) = gaps.last().copied()
                            && gap.at_frame as usize <= at
                        {
                            at += gap.frames as usize;
                            gaps.pop();
                            continue;
                        }
                        match ring.pop() {
                            Ok(sample) => {
                                if let Some(slot) = captured.get_mut(at) {
                                    *slot = sample;
                                }
                                at += 1;
                            }
                            Err(_) => break,
                        }
                    }
                }
                let estimates = good_estimates(&captured);
                let result = if estimates.len() < MIN_GOOD_PERIODS {
                    Err(format!(
                        "nothing came back on {}: put it in front of the speaker (or connect it by cable) and try again",
                        side.name
                    ))
                } else {
                    settled(&estimates)
                        .map(|(c, spread)| (c, estimates.clone(), spread))
                        .ok_or_else(|| {
                            format!(
                                "the latency of {} is unstable ({estimates:?} frames): move it closer to the speaker, close other audio programs and try again",
                                side.name
                            )
                        })
                };
                ExtraCalibration {
                    name: side.name.clone(),
                    result,
                }
            })
            .collect()
    }
}

/// The correction the periods agree on (their median) and their spread, or `None` when
/// they disagree by more than [`MAX_SPREAD_FRAMES`]: a round trip that keeps changing
/// (a resampling interface, a Bluetooth link) cannot be corrected by one number.
fn settled(estimates: &[i64]) -> Option<(i64, i64)> {
    let spread = estimates.iter().max()? - estimates.iter().min()?;
    if spread > MAX_SPREAD_FRAMES {
        return None;
    }
    let mut sorted = estimates.to_vec();
    sorted.sort_unstable();
    Some((sorted[sorted.len() / 2], spread))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_has_maximal_period_and_balance() {
        let s = mls();
        assert_eq!(s.len(), 16_383);
        let ones = s.iter().filter(|v| **v > 0.0).count();
        assert_eq!(ones, 8192, "an MLS has one more 1 than -1");
        // Its circular autocorrelation is N at lag 0 and -1 everywhere else.
        for lag in [1usize, 2, 100, 8000] {
            let r: f32 = (0..s.len()).map(|i| s[i] * s[(i + lag) % s.len()]).sum();
            assert_eq!(r, -1.0, "lag {lag}");
        }
    }

    #[test]
    fn analysis_finds_a_known_delay_in_noise() {
        let s = mls();
        for delay in [0i64, 37, 4801, -5] {
            let mut noise = 12345u32;
            let captured: Vec<f32> = (0..PERIODS * MLS_FRAMES)
                .map(|f| {
                    noise ^= noise << 13;
                    noise ^= noise >> 17;
                    noise ^= noise << 5;
                    let hiss = (noise as f32 / u32::MAX as f32 - 0.5) * 0.2;
                    let src = f as i64 - delay;
                    let signal = if src >= 0 {
                        0.1 * s[src as usize % MLS_FRAMES]
                    } else {
                        0.0
                    };
                    signal + hiss
                })
                .collect();
            let found = analyse(&captured);
            assert_eq!(found.len(), PERIODS - 2);
            for (lag, quality) in found {
                assert_eq!(lag, delay);
                assert!(quality > MIN_PEAK_TO_RMS, "{quality}");
            }
        }
        let silent = analyse(&vec![0.0; PERIODS * MLS_FRAMES]);
        assert!(silent.iter().all(|(_, q)| *q < MIN_PEAK_TO_RMS));
    }

    #[test]
    fn a_round_trip_that_keeps_changing_is_refused() {
        // The delay grows by 40 frames each period, as a drifting link's would.
        let s = mls();
        let captured: Vec<f32> = (0..PERIODS * MLS_FRAMES)
            .map(|f| {
                let delay = 100 + 40 * (f / MLS_FRAMES) as i64;
                let src = f as i64 - delay;
                if src >= 0 {
                    0.1 * s[src as usize % MLS_FRAMES]
                } else {
                    0.0
                }
            })
            .collect();
        let estimates: Vec<i64> = analyse(&captured)
            .into_iter()
            .filter(|(_, q)| *q >= MIN_PEAK_TO_RMS)
            .map(|(lag, _)| lag)
            .collect();
        assert!(estimates.len() >= MIN_GOOD_PERIODS, "{estimates:?}");
        assert_eq!(settled(&estimates), None, "{estimates:?}");
        // Periods that agree within two frames give their median.
        assert_eq!(settled(&[256, 257, 256, 258, 256]), Some((256, 2)));
        assert_eq!(settled(&[256, 259]), None);
    }
}
