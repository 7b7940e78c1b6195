//! A further input device (a USB microphone, a second interface) put onto the engine's
//! timeline: its clock followed, its audio resampled, its tracks captured like the rest.
//!
//! Owns two halves. The device's input callback (`ExtraInput`) only copies the recorded
//! channels into a ring and stamps the block (first frame, host-clock time); it never
//! allocates, locks or blocks. The aligner thread (`DeviceAligner`) follows the device's
//! clock and the output's with a delay-locked loop each (`clock_follow`), and resamples
//! the device's frames with rubato's asynchronous resampler so that every output frame
//! lands on the engine frame it was played against: for engine frame `e` the device
//! position is `k(e) = device.frame_at(output.time_of(e + correction))`, and each chunk's
//! ratio is chosen so the resampler's position meets `k` at the chunk's end. The ratio
//! moves smoothly; no sample is dropped or repeated. A jump (a stall, lost input) moves
//! the placement instead and becomes a gap in the take. The aligned frames go into a
//! `CaptureTap` of their own, whose recorder writes this device's tracks.
//! Must not run on an audio thread, and must not know about files.

use super::clock::{ClockAnchor, InputStamp};
use super::clock_follow::ClockFollower;
use super::device::InputCallback;
use crate::engine::{CaptureStatus, CaptureTap};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Adjustable, Async, FixedAsync, PolynomialDegree, Resampler};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Device frames fed to the resampler at a time.
const CHUNK_FRAMES: usize = 256;
/// How far the ratio may move from nominal (1 %: far beyond any crystal's error).
const MAX_RELATIVE_RATIO: f64 = 1.01;
/// How often the thread looks for new input.
const POLL: Duration = Duration::from_millis(2);
/// A placement this many device frames from where it should be is a jump, not drift.
const JUMP_FRAMES: f64 = 24.0;
/// Block stamps the ring holds (one per callback).
const STAMP_RING: usize = 8192;
/// Output stamps kept to place device stamps among (a second and more of blocks).
const OUTPUT_STAMPS: usize = 512;

/// One callback's block, as the ring holds it.
#[derive(Clone, Copy, Debug)]
struct BlockStamp {
    first_frame: u64,
    frames: usize,
    /// When its callback ran, and the latency it reported from converter to callback.
    time_secs: f64,
    latency_frames: i64,
}

/// What the aligner measured about a device's clock, for take.json and the app.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClockReport {
    /// The device's measured drift against the output, in parts per million (positive:
    /// its clock runs fast).
    pub drift_ppm: f64,
    /// The ratio applied on the last chunk, relative to nominal (1 + correction).
    pub correction_ratio: f64,
    /// Times the placement had to jump (a stall, lost input) rather than follow.
    pub jumps: u32,
    /// Device frames lost before the aligner saw them (its ring was full).
    pub lost_frames: u64,
    /// Chunks the resampler could not convert: each left the ring, so its place on the
    /// take's timeline is kept as a gap (silence the tracks say they lack).
    pub failed_chunks: u32,
    /// Whether the estimate ever locked (a device whose clock cannot be followed does not).
    pub locked: bool,
}

/// What one further device needs to be aligned.
#[derive(Clone, Debug)]
pub struct AlignerSetup {
    pub name: String,
    /// The device's own rate and the engine's.
    pub device_rate_hz: u32,
    pub engine_rate_hz: u32,
    /// 0-based device channels, one per track, in track order.
    pub channels: Vec<usize>,
    /// Channels per frame of the device's interleaved input.
    pub device_channels: usize,
    /// Calibrated latency of this device, in engine frames.
    pub correction_frames: i64,
    /// Follow the clock (always, except to measure what not following costs).
    pub follow_clock: bool,
    /// Seconds of input the ring holds while the aligner catches up.
    pub ring_secs: u32,
}

/// The device callback's half. Real-time.
pub struct ExtraInput {
    channels: Vec<usize>,
    device_channels: usize,
    raw: rtrb::Producer<f32>,
    stamps: rtrb::Producer<BlockStamp>,
    frames: u64,
    status: Arc<CaptureStatus>,
    lost: Arc<AtomicU64>,
}

impl ExtraInput {
    /// Copies the recorded channels of one block into the ring and stamps it.
    ///
    /// Real-time: ring pushes and atomics only; no alloc, lock, I/O or panic.
    pub fn on_block(&mut self, input: &[f32], stamp: InputStamp) {
        let frames = input.len() / self.device_channels;
        for (meter, &channel) in self.status.inputs.iter().zip(&self.channels) {
            let peak = input
                .iter()
                .skip(channel)
                .step_by(self.device_channels)
                .fold(0.0f32, |p, s| p.max(s.abs()));
            meter.offer_peak(peak);
        }
        let samples = frames * self.channels.len();
        if self.stamps.slots() == 0 || self.raw.slots() < samples {
            // The aligner fell behind: these frames become silence on its side.
            self.lost.fetch_add(frames as u64, Ordering::Relaxed);
            self.frames += frames as u64;
            return;
        }
        let _ = self.stamps.push(BlockStamp {
            first_frame: self.frames,
            frames,
            time_secs: stamp.time_secs,
            latency_frames: stamp.reported_latency_frames,
        });
        if let Ok(chunk) = self.raw.write_chunk_uninit(samples) {
            let (stride, channels) = (self.device_channels, &self.channels);
            let picked = input
                .chunks_exact(stride)
                .flat_map(|frame| {
                    channels
                        .iter()
                        .map(|&c| frame.get(c).copied().unwrap_or(0.0))
                })
                .chain(std::iter::repeat(0.0));
            chunk.fill_from_iter(picked);
        }
        self.frames += frames as u64;
    }
}

/// The device callback for `input`.
pub fn extra_input_callback(mut input: ExtraInput) -> InputCallback {
    Box::new(move |buffer, stamp| input.on_block(buffer, stamp))
}

/// The aligner thread of one device. Stopping it (or dropping it) ends its tracks.
pub struct DeviceAligner {
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    gone: Arc<AtomicBool>,
    report: Arc<Mutex<ClockReport>>,
    status: Arc<CaptureStatus>,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AlignerError {
    #[error("cannot follow the clock of {device}: {reason}")]
    Resampler { device: String, reason: String },
    #[error("cannot start following {device}: {reason}")]
    Thread { device: String, reason: String },
}

impl DeviceAligner {
    /// Builds both halves: the callback to give the device, and the thread that aligns
    /// what it delivers into `tap` (a tap with one track per `setup.channels`, reading
    /// one interleaved frame of them).
    pub fn start(
        setup: AlignerSetup,
        tap: CaptureTap,
        anchor: &Arc<ClockAnchor>,
    ) -> Result<(InputCallback, DeviceAligner), AlignerError> {
        let tracks = setup.channels.len().max(1);
        let ring = (setup.ring_secs.max(1) * setup.device_rate_hz) as usize * tracks;
        let (raw_tx, raw_rx) = rtrb::RingBuffer::new(ring);
        let (stamp_tx, stamp_rx) = rtrb::RingBuffer::new(STAMP_RING);
        let status = Arc::clone(tap.status());
        let lost = Arc::new(AtomicU64::new(0));
        let input = ExtraInput {
            channels: setup.channels.clone(),
            device_channels: setup.device_channels.max(1),
            raw: raw_tx,
            stamps: stamp_tx,
            frames: 0,
            status: Arc::clone(&status),
            lost: Arc::clone(&lost),
        };
        let nominal = f64::from(setup.engine_rate_hz) / f64::from(setup.device_rate_hz.max(1));
        let resampler = Async::<f32>::new_poly(
            nominal,
            MAX_RELATIVE_RATIO,
            PolynomialDegree::Septic,
            CHUNK_FRAMES,
            tracks,
            FixedAsync::Input,
        )
        .map_err(|e| AlignerError::Resampler {
            device: setup.name.clone(),
            reason: e.to_string(),
        })?;
        let first_output_position =
            first_output_position(tracks).map_err(|reason| AlignerError::Resampler {
                device: setup.name.clone(),
                reason,
            })?;
        let stop = Arc::new(AtomicBool::new(false));
        let gone = Arc::new(AtomicBool::new(false));
        let report = Arc::new(Mutex::new(ClockReport {
            correction_ratio: 1.0,
            ..ClockReport::default()
        }));
        let max_out = resampler.output_frames_max();
        let mut work = Aligning {
            raw: raw_rx,
            stamps: stamp_rx,
            queued: VecDeque::new(),
            tracks,
            device: ClockFollower::new(setup.device_rate_hz),
            output: VecDeque::with_capacity(OUTPUT_STAMPS),
            unplaced: VecDeque::new(),
            output_latency: 0.0,
            output_stamps_read: 0,
            nominal_device_per_engine: f64::from(setup.device_rate_hz.max(1))
                / f64::from(setup.engine_rate_hz.max(1)),
            last_placed_stamp: None,
            engine_rate: f64::from(setup.engine_rate_hz),
            resampler,
            in_buf: vec![0.0; CHUNK_FRAMES * tracks],
            out_buf: vec![0.0; max_out * tracks],
            next_in_frame: 0,
            placement: None,
            first_output_position,
            nominal,
            correction: setup.correction_frames as f64,
            follow: setup.follow_clock,
            tap,
            anchor: Arc::clone(anchor),
            report: Arc::clone(&report),
            lost,
        };
        let (stop_flag, gone_flag) = (Arc::clone(&stop), Arc::clone(&gone));
        let thread = std::thread::Builder::new()
            .name(format!("bandroom aligner {}", setup.name))
            .spawn(move || work.run(&stop_flag, &gone_flag))
            .map_err(|e| AlignerError::Thread {
                device: setup.name.clone(),
                reason: e.to_string(),
            })?;
        Ok((
            extra_input_callback(input),
            DeviceAligner {
                thread: Some(thread),
                stop,
                gone,
                report,
                status,
                name: setup.name,
            },
        ))
    }

    /// The device is gone (unplugged, stalled): its tracks end with a gap to the take's end.
    pub fn device_gone(&self) {
        self.gone.store(true, Ordering::Release);
    }

    /// What the clock did so far.
    pub fn report(&self) -> ClockReport {
        self.report
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn status(&self) -> &Arc<CaptureStatus> {
        &self.status
    }

    /// Stops the thread; the tap is closed with what it has.
    pub fn stop(mut self) -> ClockReport {
        self.halt();
        self.report()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for DeviceAligner {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Where the resampler's first output frame falls among its input frames (a constant of
/// its interpolator, measured once with an impulse rather than assumed).
fn first_output_position(tracks: usize) -> Result<f64, String> {
    let mut probe = Async::<f32>::new_poly(
        1.0,
        MAX_RELATIVE_RATIO,
        PolynomialDegree::Septic,
        CHUNK_FRAMES,
        tracks,
        FixedAsync::Input,
    )
    .map_err(|e| e.to_string())?;
    let impulse_at = CHUNK_FRAMES / 2;
    let mut input = vec![0.0f32; CHUNK_FRAMES * tracks];
    if let Some(s) = input.get_mut(impulse_at * tracks) {
        *s = 1.0;
    }
    let mut output = vec![0.0f32; probe.output_frames_max() * tracks];
    let mut produced = Vec::new();
    for round in 0..3 {
        if round > 0 {
            input.fill(0.0);
        }
        let frames_out = probe.output_frames_max();
        let adapter_in =
            InterleavedSlice::new(&input, tracks, CHUNK_FRAMES).map_err(|e| e.to_string())?;
        let mut adapter_out = InterleavedSlice::new_mut(&mut output, tracks, frames_out)
            .map_err(|e| e.to_string())?;
        let (_, n) = probe
            .process_into_buffer(&adapter_in, &mut adapter_out, None)
            .map_err(|e| e.to_string())?;
        produced.extend(output.iter().step_by(tracks).take(n).copied());
    }
    let peak = produced
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .ok_or("the resampler gave no output")?;
    // Output frame `peak` is input frame `impulse_at`: output 0 is input `impulse_at − peak`.
    Ok(impulse_at as f64 - peak as f64)
}

/// Where a host time falls among the output's stamps.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Playing {
    /// The engine frame being written then, interpolated between the stamps either side.
    At(f64),
    /// Before the oldest stamp kept.
    Before,
    /// After the newest: wait for the next.
    NotYet,
}

/// The engine frame being written at host time `time`, from `stamps` (engine frame,
/// host time of its callback), oldest first. Interpolated, never extrapolated: stamps
/// are exact frame counts, and only their times jitter, which the device's loop filters.
fn engine_frame_at(stamps: &VecDeque<(u64, f64)>, time: f64) -> Playing {
    let Some(&(_, newest)) = stamps.back() else {
        return Playing::NotYet;
    };
    if time > newest {
        return Playing::NotYet;
    }
    let after = stamps.partition_point(|&(_, t)| t < time);
    let (Some(&(f1, t1)), Some(&(f0, t0))) = (
        stamps.get(after),
        after.checked_sub(1).and_then(|i| stamps.get(i)),
    ) else {
        return if stamps.front().is_some_and(|&(_, t)| t == time) {
            Playing::At(stamps.front().map_or(0.0, |&(f, _)| f as f64))
        } else {
            Playing::Before
        };
    };
    let span = t1 - t0;
    if span <= 0.0 {
        return Playing::At(f1 as f64);
    }
    Playing::At(f0 as f64 + (f1 - f0) as f64 * (time - t0) / span)
}

/// Where the next output frame is: its position among the device's frames, and the
/// engine frame it will be written at.
#[derive(Clone, Copy, Debug)]
struct Placement {
    position: f64,
    engine_frame: i64,
}

struct Aligning {
    raw: rtrb::Consumer<f32>,
    stamps: rtrb::Consumer<BlockStamp>,
    /// Blocks stamped whose frames are not all fed yet.
    queued: VecDeque<BlockStamp>,
    tracks: usize,
    /// The device's frames against the engine's timeline: its stamps' times are the
    /// engine frame at the speaker then (in seconds of engine frames), so the loop follows
    /// the ratio of the two streams, and a host clock that wanders (JACK resets its
    /// clock after an xrun, by thousands of ppm) moves both alike and cancels.
    device: ClockFollower,
    /// The output's latest stamps (engine frame written, host time of its callback),
    /// oldest first.
    output: VecDeque<(u64, f64)>,
    /// Device stamps not yet given to the follower.
    unplaced: VecDeque<BlockStamp>,
    /// The output's latency to the speaker at its latest stamp, engine frames.
    output_latency: f64,
    /// Output stamps read from the anchor so far.
    output_stamps_read: u64,
    /// Device frames per engine frame, nominally.
    nominal_device_per_engine: f64,
    /// The last device frame given to the follower.
    last_placed_stamp: Option<u64>,
    engine_rate: f64,
    resampler: Async<f32>,
    in_buf: Vec<f32>,
    out_buf: Vec<f32>,
    /// Device frame of the next frame to feed.
    next_in_frame: u64,
    placement: Option<Placement>,
    first_output_position: f64,
    nominal: f64,
    correction: f64,
    follow: bool,
    tap: CaptureTap,
    anchor: Arc<ClockAnchor>,
    report: Arc<Mutex<ClockReport>>,
    lost: Arc<AtomicU64>,
}

impl Aligning {
    fn run(&mut self, stop: &AtomicBool, gone: &AtomicBool) {
        loop {
            let stopping = stop.load(Ordering::Acquire);
            self.take_stamps();
            while self.ready() {
                self.align_chunk();
            }
            self.publish();
            if self.tap.status().finished.load(Ordering::Acquire) {
                return;
            }
            if stopping || gone.load(Ordering::Acquire) {
                self.tap.give_up();
                return;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Takes the device's block stamps and every output stamp written since the last
    /// call, and gives the follower each device stamp as soon as output stamps on both
    /// sides of it say which engine frame was being written at its callback.
    fn take_stamps(&mut self) {
        let (output, latest_latency) = (&mut self.output, &mut self.output_latency);
        self.output_stamps_read =
            self.anchor
                .output_stamps_since(self.output_stamps_read, |frame, time, latency| {
                    if output.back().is_some_and(|&(last, _)| frame <= last) {
                        return;
                    }
                    if output.len() == OUTPUT_STAMPS {
                        output.pop_front();
                    }
                    output.push_back((frame, time));
                    *latest_latency = latency as f64;
                });
        while let Ok(stamp) = self.stamps.pop() {
            self.unplaced.push_back(stamp);
            self.queued.push_back(stamp);
        }
        while let Some(&stamp) = self.unplaced.front() {
            match engine_frame_at(&self.output, stamp.time_secs) {
                Playing::At(written) => {
                    // The block's first frame left the converter its latency (in the
                    // device's frames, so at its measured rate) before its callback; the
                    // engine frame at the speaker then was written the output's latency
                    // earlier still.
                    let device_per_engine = if self.device.is_locked() {
                        self.device.rate_hz() / self.engine_rate
                    } else {
                        self.nominal_device_per_engine
                    };
                    let at_speaker = written
                        - stamp.latency_frames as f64 / device_per_engine
                        - self.output_latency;
                    let frame = stamp.first_frame;
                    self.device.stamp(frame, at_speaker / self.engine_rate);
                    self.last_placed_stamp = Some(frame);
                }
                // Output stamps have moved on past it (a long stall): it cannot be placed.
                Playing::Before => {}
                Playing::NotYet => break,
            }
            self.unplaced.pop_front();
        }
    }

    /// Frames stamped beyond the next one to feed.
    fn queued_frames(&self) -> u64 {
        self.queued.back().map_or(0, |b| {
            (b.first_frame + b.frames as u64).saturating_sub(self.next_in_frame)
        })
    }

    /// A chunk is aligned only once the device has been stamped beyond it and the
    /// follower holds no possible step: a step before the chunk's end must move its
    /// placement, and is known only when the stamps after it have confirmed it.
    fn ready(&self) -> bool {
        let chunk_end = self.next_in_frame + CHUNK_FRAMES as u64;
        self.device.is_locked()
            && !self.device.is_settling()
            && self.queued_frames() >= CHUNK_FRAMES as u64
            && self
                .last_placed_stamp
                .is_some_and(|frame| frame >= chunk_end)
    }

    /// The engine frame device position `k` was played against.
    fn engine_frame_of(&self, k: f64) -> Option<f64> {
        Some(self.device.time_of(k)? * self.engine_rate - self.correction)
    }

    /// The device position engine frame `e` was played against.
    fn position_of(&self, e: f64) -> Option<f64> {
        self.device
            .frame_at((e + self.correction) / self.engine_rate)
    }

    /// Fills `in_buf` with the next chunk: stamped frames from the ring, silence for
    /// frames the callback could not store.
    fn gather(&mut self) {
        let mut filled = 0;
        while filled < CHUNK_FRAMES {
            let Some(block) = self.queued.front().copied() else {
                break;
            };
            let block_end = block.first_frame + block.frames as u64;
            if self.next_in_frame >= block_end {
                self.queued.pop_front();
                continue;
            }
            let want = CHUNK_FRAMES - filled;
            let slots = &mut self.in_buf[filled * self.tracks..];
            if self.next_in_frame < block.first_frame {
                let missing = ((block.first_frame - self.next_in_frame) as usize).min(want);
                slots[..missing * self.tracks].fill(0.0);
                filled += missing;
                self.next_in_frame += missing as u64;
                continue;
            }
            let take = ((block_end - self.next_in_frame) as usize).min(want);
            let samples = take * self.tracks;
            match self.raw.read_chunk(samples) {
                Ok(chunk) => {
                    let (a, b) = chunk.as_slices();
                    slots[..a.len()].copy_from_slice(a);
                    slots[a.len()..a.len() + b.len()].copy_from_slice(b);
                    chunk.commit_all();
                }
                Err(_) => slots[..samples].fill(0.0),
            }
            filled += take;
            self.next_in_frame += take as u64;
        }
        self.in_buf[filled * self.tracks..].fill(0.0);
    }

    /// Places the next output frame afresh from the clocks (at the start and after a jump).
    fn place(&mut self, position: f64) -> Option<Placement> {
        let engine = self.engine_frame_of(position)?;
        let engine_frame = engine.round() as i64;
        Some(Placement {
            position,
            engine_frame,
        })
    }

    fn align_chunk(&mut self) {
        let first_fed = self.next_in_frame;
        self.gather();
        let placement = match self.placement {
            Some(p) => p,
            None => match self.place(first_fed as f64 + self.first_output_position) {
                Some(p) => p,
                None => return,
            },
        };
        let placement = self.steer(placement);
        let ratio = self.resampler.resample_ratio();
        let frames_out = self.resampler.output_frames_next();
        let tracks = self.tracks;
        let processed = InterleavedSlice::new(&self.in_buf, tracks, CHUNK_FRAMES).and_then(|i| {
            InterleavedSlice::new_mut(&mut self.out_buf, tracks, frames_out).map(|o| (i, o))
        });
        let converted = processed.ok().filter(|_| !fault::fails_now()).and_then(
            |(adapter_in, mut adapter_out)| {
                self.resampler
                    .process_into_buffer(&adapter_in, &mut adapter_out, None)
                    .ok()
            },
        );
        let Some((_, produced)) = converted else {
            // The chunk has left the ring: its frames are lost. The placement moves on
            // past them, so the tap records a gap and later audio stays in time.
            if let Ok(mut report) = self.report.lock() {
                report.failed_chunks += 1;
            }
            // The input lost is the whole chunk; on the timeline it spans that many
            // device frames at the current ratio (the follower steers out the rest).
            self.placement = Some(Placement {
                position: placement.position + CHUNK_FRAMES as f64,
                engine_frame: placement.engine_frame + (CHUNK_FRAMES as f64 * ratio).round() as i64,
            });
            return;
        };
        if let Some(out) = self.out_buf.get(..produced * tracks) {
            self.tap.capture(out, placement.engine_frame);
        }
        self.placement = Some(Placement {
            position: placement.position + produced as f64 / ratio,
            engine_frame: placement.engine_frame + produced as i64,
        });
    }

    /// Sets the ratio for the next chunk so the resampler's position meets where the
    /// clocks say it should be at the chunk's end; a placement too far off to steer back
    /// smoothly is moved instead (a jump).
    fn steer(&mut self, placement: Placement) -> Placement {
        if !self.follow {
            return placement;
        }
        let mut placement = placement;
        let here = self.position_of(placement.engine_frame as f64);
        if let Some(here) = here
            && (here - placement.position).abs() > JUMP_FRAMES
        {
            if let Some(moved) = self.place(placement.position) {
                placement = moved;
            }
            if let Ok(mut report) = self.report.lock() {
                report.jumps += 1;
            }
        }
        for _ in 0..2 {
            let frames = self.resampler.output_frames_next();
            let Some(target) = self.position_of((placement.engine_frame + frames as i64) as f64)
            else {
                return placement;
            };
            let span = target - placement.position;
            if span <= 0.0 {
                return placement;
            }
            let wanted = frames as f64 / span;
            let lo = self.nominal / MAX_RELATIVE_RATIO * 1.000_001;
            let hi = self.nominal * MAX_RELATIVE_RATIO / 1.000_001;
            let _ = self
                .resampler
                .set_resample_ratio(wanted.clamp(lo, hi), false);
            if self.resampler.output_frames_next() == frames {
                break;
            }
        }
        placement
    }

    fn publish(&mut self) {
        if let Ok(mut report) = self.report.lock() {
            report.locked |= self.device.is_locked();
            if report.locked {
                // Device frames per output frame, against nominal: the device's drift as
                // the engine's timeline sees it.
                report.drift_ppm = self.device.mean_drift_ppm();
            }
            report.correction_ratio = self.resampler.resample_ratio() / self.nominal;
            report.jumps = report.jumps.max(self.device.jumps());
            report.lost_frames = self.lost.load(Ordering::Relaxed);
        }
    }
}

/// A resampler failure on demand, for the test that a failed chunk becomes a gap; in
/// the real program it never fires.
mod fault {
    #[cfg(test)]
    pub static FAIL_CHUNK_OF: std::sync::Mutex<Option<(String, u32)>> = std::sync::Mutex::new(None);

    /// True when this aligner thread is the one a test asked to fail, at its chunk.
    #[cfg(test)]
    pub fn fails_now() -> bool {
        let current = std::thread::current();
        let Some(name) = current.name() else {
            return false;
        };
        let Ok(mut wanted) = FAIL_CHUNK_OF.lock() else {
            return false;
        };
        match wanted.as_mut() {
            Some((device, countdown)) if name.ends_with(device.as_str()) => {
                if *countdown == 0 {
                    *wanted = None;
                    return true;
                }
                *countdown -= 1;
                false
            }
            _ => false,
        }
    }

    #[cfg(not(test))]
    pub fn fails_now() -> bool {
        false
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed test should stop at the failing line
mod tests {
    use super::*;
    use crate::audio::clock::{OutputClock, OutputStamp};
    use crate::engine::{CaptureConfig, Command, Engine, EngineConfig, Score};

    /// A 1 kHz sine from a device `ppm` fast, aligned onto a 48 kHz engine: every output
    /// frame must be the sine at its engine time (no jump, drop or repeat anywhere).
    fn aligned_sine(ppm: f64, follow_clock: bool) -> (Vec<f32>, ClockReport) {
        aligned_sine_on(ppm, follow_clock, &|t| t, 0)
    }

    /// As `aligned_sine`, with the callbacks stamped by a host clock `host` (true seconds
    /// to the host's) and the output reporting `output_latency` frames to the speaker
    /// (the device reports its block: its callback comes when the block is captured).
    fn aligned_sine_on(
        ppm: f64,
        follow_clock: bool,
        host: &dyn Fn(f64) -> f64,
        output_latency: i64,
    ) -> (Vec<f32>, ClockReport) {
        aligned_sine_named("sine", ppm, follow_clock, host, output_latency)
    }

    fn aligned_sine_named(
        name: &str,
        ppm: f64,
        follow_clock: bool,
        host: &dyn Fn(f64) -> f64,
        output_latency: i64,
    ) -> (Vec<f32>, ClockReport) {
        let rate = 48_000.0;
        let (mut engine, handle) = Engine::new(Score::silence(), EngineConfig::default()).unwrap();
        handle.send(Command::Record { frames: 240_000 }).unwrap();
        let (tap, mut reader) = CaptureTap::new(
            &CaptureConfig {
                channels: vec![0],
                device_channels: 1,
                ring_frames: 300_000,
            },
            &handle,
        );
        let anchor = ClockAnchor::new();
        let (mut callback, aligner) = DeviceAligner::start(
            AlignerSetup {
                name: name.into(),
                device_rate_hz: 48_000,
                engine_rate_hz: 48_000,
                channels: vec![0],
                device_channels: 1,
                correction_frames: 0,
                follow_clock,
                ring_secs: 10,
            },
            tap,
            &anchor,
        )
        .unwrap();
        let mut output = OutputClock::new(&anchor);
        let own_rate = rate * (1.0 + ppm * 1e-6);
        let mut out = vec![0.0f32; 512];
        let mut block = vec![0.0f32; 300];
        let mut device_frame = 0u64;
        while engine.output_frame() < 260_000 {
            let frame = engine.output_frame();
            engine.process(&mut out);
            output.on_block(
                frame,
                256,
                OutputStamp {
                    playback_frame: frame as i64,
                    reported_latency_frames: output_latency,
                    time_secs: host((frame as f64 - output_latency as f64) / rate),
                },
            );
            // The device delivers whatever it has captured by the end of this output block.
            while (device_frame + 300) as f64 / own_rate <= (frame + 256) as f64 / rate {
                for (i, s) in block.iter_mut().enumerate() {
                    let t = (device_frame + i as u64) as f64 / own_rate;
                    *s = (2.0 * std::f64::consts::PI * 1_000.0 * t).sin() as f32;
                }
                callback(
                    &block,
                    InputStamp {
                        capture_frame: device_frame as i64,
                        reported_latency_frames: 300,
                        time_secs: host((device_frame + 300) as f64 / own_rate),
                    },
                );
                device_frame += 300;
            }
            if frame % 4_096 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let until = std::time::Instant::now() + Duration::from_secs(20);
        while !aligner.status().finished.load(Ordering::Acquire)
            && std::time::Instant::now() < until
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let report = aligner.stop();
        let start = handle.take_frames().unwrap().0;
        assert_eq!(start, 0);
        (
            std::iter::from_fn(|| reader.tracks[0].pop().ok()).collect(),
            report,
        )
    }

    /// The largest difference from the ideal sine after the first half second.
    fn worst_error(track: &[f32]) -> f32 {
        track
            .iter()
            .enumerate()
            .skip(24_000)
            .map(|(e, s)| {
                let t = e as f64 / 48_000.0;
                (s - (2.0 * std::f64::consts::PI * 1_000.0 * t).sin() as f32).abs()
            })
            .fold(0.0, f32::max)
    }

    #[test]
    fn a_chunk_the_resampler_fails_on_is_a_gap_and_later_audio_stays_in_time() {
        *fault::FAIL_CHUNK_OF.lock().unwrap() = Some(("failing sine".into(), 100));
        let (track, report) = aligned_sine_named("failing sine", 400.0, true, &|t| t, 0);
        assert_eq!(report.failed_chunks, 1, "{report:?}");
        // The lost chunk is a gap the tap declares (the recorder writes it as silence),
        // so the ring holds that many frames fewer, and every frame after it is the
        // sine at its own engine time: nothing shifted.
        let lost = 240_000 - track.len();
        assert!(lost > 0 && lost <= 2 * CHUNK_FRAMES, "{lost} frames lost");
        // Half a second on, the follower has steered out the fraction of a frame the
        // lost chunk left.
        let after = CHUNK_FRAMES * 100 + 24_000;
        let worst = track
            .iter()
            .enumerate()
            .skip(after)
            .map(|(e, s)| {
                let t = (e + lost) as f64 / 48_000.0;
                (s - (2.0 * std::f64::consts::PI * 1_000.0 * t).sin() as f32).abs()
            })
            .fold(0.0, f32::max);
        assert!(worst < 0.01, "out of time after the gap by {worst}");
    }

    #[test]
    fn a_drifting_sine_comes_out_continuous_and_in_phase() {
        let (track, report) = aligned_sine(400.0, true);
        assert_eq!(track.len(), 240_000);
        assert!((report.drift_ppm - 400.0).abs() < 1.0, "{report:?}");
        assert_eq!(report.jumps, 0);
        // A frame dropped or repeated would put the sine 0.13 out; interpolating between
        // frames costs less than a hundredth.
        let error = worst_error(&track);
        assert!(error < 0.01, "{error}");
    }

    #[test]
    fn a_host_clock_that_wanders_moves_both_streams_alike() {
        // JACK's clock after xruns: its rate off by thousands of ppm for a while, then
        // back. Output and device callbacks stamped by it, a latency apart from the
        // moments they stand for, and the aligner polling far less often than blocks
        // come: the device's drift against the output is still exact. (Interpolating
        // the newest output stamp only, seen once in sixteen blocks, put this sine 0.5
        // out and the drift 1.1 ppm off.)
        let wander = |t: f64| {
            let fast = (t - 1.0).clamp(0.0, 0.5) + (t - 3.0).clamp(0.0, 0.5);
            let slow = (t - 2.0).clamp(0.0, 0.5);
            t + 0.004 * fast - 0.004 * slow
        };
        let (track, report) = aligned_sine_on(-150.0, true, &wander, 2_048);
        assert_eq!(track.len(), 240_000);
        assert!((report.drift_ppm + 150.0).abs() < 1.0, "{report:?}");
        assert_eq!(report.jumps, 0, "{report:?}");
        let error = worst_error(&track);
        assert!(error < 0.01, "{error}");
    }

    #[test]
    fn without_following_the_clock_the_same_sine_drifts_out_of_phase() {
        let (track, _) = aligned_sine(400.0, false);
        let error = worst_error(&track);
        assert!(error > 0.1, "{error}");
    }

    #[test]
    fn the_resamplers_first_output_is_found_among_its_inputs() {
        let position = first_output_position(1).unwrap_or(f64::NAN);
        // A septic interpolator looks a few frames back: its first output is before input 0.
        assert!(
            position.is_finite() && (-8.0..=0.0).contains(&position),
            "{position}"
        );
    }
}
