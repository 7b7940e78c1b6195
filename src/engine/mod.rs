//! The one real-time object: `Engine::process` turns a prepared score and commands
//! into audio, block by block.
//!
//! Owns the transport, the tempo map, the part player (scheduling every note at its
//! exact frame inside the block), the metronome, the voices, the mixer and the meters.
//! The engine is a pure function of (score, commands) → output: the same performance
//! gives bit-identical audio whatever the block size. Must not know about devices,
//! files or the library, and nothing reachable from `process` may allocate, lock,
//! block, do I/O, log or panic.

// Real-time code: no index may panic on the audio thread.
#![warn(clippy::indexing_slicing)]

mod capture;
mod control;
pub mod cues;
pub mod limiter;
mod meters;
mod mixer;
mod score;
mod tempo_map;
mod transport;
mod voices;

pub use capture::{CaptureConfig, CaptureReader, CaptureStatus, CaptureTap, Gap};
pub use control::{Command, EngineBusy, EngineHandle, EngineWatch, Event, PartCue};
pub use meters::{MeterSlot, Meters};
pub use mixer::ClickRoute;
pub use score::{
    CLICK_LANE_NAME, Lane, LaneSound, NoteRole, Score, ScoreNote, ScoreOptions, ScoreStem,
    SectionSpan,
};
pub use tempo_map::TempoMap;

use crate::music::Bpm;
use control::EngineShared;
use meters::MeterAccumulator;
use mixer::{Mixer, Strip, sanitize_gain};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use transport::Transport;
use voices::{Trigger, VoicePool};

/// Limits on what a device or a command line may ask of the engine.
pub const SAMPLE_RATE_RANGE_HZ: std::ops::RangeInclusive<u32> = 8_000..=384_000;
pub const MAX_BLOCK_FRAMES: usize = 65_536;
pub const MAX_OUTPUT_CHANNELS: usize = 64;

/// How an engine is built. Fixed for its lifetime: everything is allocated from it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EngineConfig {
    pub sample_rate_hz: u32,
    /// The largest block `process` works on at once; longer buffers are split.
    pub max_block_frames: usize,
    pub output_channels: usize,
    pub click_route: ClickRoute,
    /// Voices that can sound at once; the oldest is taken when all are busy. A whole
    /// class band (21 parts, chords on the downbeat) sounds about 40 at once.
    pub voices: usize,
    /// Keep each lane's contribution to the last block (for rendering stems).
    pub stems: bool,
    /// Guard the mix against clipping with the master limiter (see `limiter`). An
    /// offline render that measures the mix first turns it off.
    pub limit: bool,
    pub command_capacity: usize,
    pub event_capacity: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            sample_rate_hz: 48_000,
            max_block_frames: 1024,
            output_channels: 2,
            click_route: ClickRoute::Mix,
            voices: 128,
            stems: false,
            limit: true,
            command_capacity: 256,
            event_capacity: 4096,
        }
    }
}

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "sample rate {0} Hz is not supported: use 8000 to 384000 Hz (44100 or 48000 are usual)"
    )]
    SampleRate(u32),
    #[error("block size {0} frames is not supported: use 1 to 65536 frames")]
    BlockSize(usize),
    #[error("{0} output channels is not supported: use 1 to 64")]
    Channels(usize),
    #[error(
        "the click is routed to output channel {channel} but there are only {channels} (channels count from 0)"
    )]
    ClickChannel { channel: usize, channels: usize },
}

impl EngineConfig {
    fn validate(&self) -> Result<(), EngineError> {
        if !SAMPLE_RATE_RANGE_HZ.contains(&self.sample_rate_hz) {
            return Err(EngineError::SampleRate(self.sample_rate_hz));
        }
        if self.max_block_frames == 0 || self.max_block_frames > MAX_BLOCK_FRAMES {
            return Err(EngineError::BlockSize(self.max_block_frames));
        }
        if self.output_channels == 0 || self.output_channels > MAX_OUTPUT_CHANNELS {
            return Err(EngineError::Channels(self.output_channels));
        }
        if let ClickRoute::Channel(channel) = self.click_route
            && channel >= self.output_channels
        {
            return Err(EngineError::ClickChannel {
                channel,
                channels: self.output_channels,
            });
        }
        Ok(())
    }
}

/// The real-time renderer. Built off the audio thread, then moved into the callback.
pub struct Engine {
    config: EngineConfig,
    score: Score,
    tempo: Bpm,
    pending_tempo: Option<Bpm>,
    tempo_map: TempoMap,
    transport: Transport,
    /// Per lane: index of the next note to play, and the frame it plays at.
    cursors: Vec<usize>,
    next_frames: Vec<u64>,
    next_section: usize,
    voices: VoicePool,
    mixer: Mixer,
    limiter: limiter::Limiter,
    meter_sums: MeterAccumulator,
    /// One mono buffer of `max_block_frames` per lane.
    lane_buffers: Vec<f32>,
    /// One interleaved buffer of `max_block_frames × channels` per lane, when asked for.
    stem_buffers: Vec<f32>,
    last_chunk_frames: usize,
    /// The timeline frame each stem starts on (bar 1), kept with the tempo map.
    stem_starts: Vec<u64>,
    click_enabled: bool,
    sub_beats: bool,
    output_frame: u64,
    commands: crossbeam_channel::Receiver<Command>,
    events: crossbeam_channel::Sender<Event>,
    part_cues: crossbeam_channel::Sender<PartCue>,
    shared: Arc<EngineShared>,
}

impl Engine {
    /// Builds an engine for `score` and the handle that controls it.
    pub fn new(score: Score, config: EngineConfig) -> Result<(Engine, EngineHandle), EngineError> {
        config.validate()?;
        let lanes = score.lanes.len();
        let channels = config.output_channels;
        let tempo = score.tempo;
        let tempo_map = TempoMap::new(
            config.sample_rate_hz,
            &score.played_tempo_changes(tempo).collect::<Vec<_>>(),
        );
        let strips = score
            .lanes
            .iter()
            .map(|lane| Strip {
                gain: lane.gain,
                pan: lane.pan,
                muted: false,
                soloed: false,
            })
            .collect();
        let mixer = Mixer::new(strips, score.click_lane(), channels, config.click_route);
        let (command_tx, command_rx) = crossbeam_channel::bounded(config.command_capacity.max(1));
        let (event_tx, event_rx) = crossbeam_channel::bounded(config.event_capacity.max(1));
        let (cue_tx, cue_rx) = crossbeam_channel::bounded(config.event_capacity.max(1));
        let shared = Arc::new(EngineShared::new(Meters::new(lanes, channels)));
        let end_frame = tempo_map.frame_at_tick(score.end_tick);
        let mut engine = Engine {
            tempo,
            pending_tempo: None,
            transport: Transport::new(end_frame),
            cursors: vec![0; lanes],
            next_frames: vec![u64::MAX; lanes],
            next_section: 0,
            voices: VoicePool::new(config.sample_rate_hz, config.voices),
            mixer,
            limiter: limiter::Limiter::new(config.sample_rate_hz),
            meter_sums: MeterAccumulator::new(lanes + channels, config.sample_rate_hz),
            lane_buffers: vec![0.0; lanes * config.max_block_frames],
            stem_buffers: if config.stems {
                vec![0.0; lanes * config.max_block_frames * channels]
            } else {
                Vec::new()
            },
            last_chunk_frames: 0,
            stem_starts: vec![0; score.stems.len()],
            click_enabled: true,
            sub_beats: false,
            output_frame: 0,
            commands: command_rx,
            events: event_tx,
            part_cues: cue_tx,
            shared: Arc::clone(&shared),
            tempo_map,
            score,
            config,
        };
        engine.place_stems();
        engine.seek(0);
        let handle = EngineHandle {
            commands: command_tx,
            events: event_rx,
            part_cues: cue_rx,
            shared,
        };
        Ok((engine, handle))
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn score(&self) -> &Score {
        &self.score
    }

    pub fn tempo_map(&self) -> &TempoMap {
        &self.tempo_map
    }

    /// Frames produced since the engine was built (the output clock takes are cut from).
    pub fn output_frame(&self) -> u64 {
        self.output_frame
    }

    /// The timeline frame at which the piece ends (the last bar's end).
    pub fn end_frame(&self) -> u64 {
        self.transport.end_frame
    }

    /// One lane's interleaved contribution to the last block `process` handled, when
    /// the engine was built with `stems`. Covers the last chunk only, so callers that
    /// want whole stems pass blocks no longer than `max_block_frames`.
    pub fn stem(&self, lane: usize) -> Option<&[f32]> {
        let len = self.config.max_block_frames * self.config.output_channels;
        let used = self.last_chunk_frames * self.config.output_channels;
        self.stem_buffers.get(lane * len..lane * len + used)
    }

    /// Fills `output` (interleaved, `output_channels` wide) with the next frames.
    ///
    /// Real-time: no alloc, lock, I/O or panic. Buffers longer than
    /// `max_block_frames` are processed in pieces; a trailing partial frame is silenced.
    pub fn process(&mut self, output: &mut [f32]) {
        let channels = self.config.output_channels;
        let frames = output.len() / channels;
        let (whole, partial) = output.split_at_mut(frames * channels);
        partial.fill(0.0);
        for chunk in whole.chunks_mut(self.config.max_block_frames * channels) {
            self.process_chunk(chunk);
        }
    }

    /// Real-time: no alloc, lock, I/O or panic.
    fn process_chunk(&mut self, out: &mut [f32]) {
        let channels = self.config.output_channels;
        let frames = out.len() / channels;
        let stride = self.config.max_block_frames;
        self.apply_commands();
        for lane in 0..self.score.lanes.len() {
            if let Some(buffer) = self
                .lane_buffers
                .get_mut(lane * stride..lane * stride + frames)
            {
                buffer.fill(0.0);
            }
        }
        let mut done = 0;
        while done < frames {
            if self.transport.playing {
                self.fire_due_events(done);
            }
            let remaining = (frames - done) as u64;
            let span = if self.transport.playing {
                let until = self.next_boundary().saturating_sub(self.transport.position);
                until.clamp(1, remaining)
            } else {
                remaining
            } as usize;
            self.voices
                .render(&mut self.lane_buffers, stride, done, done + span);
            if self.transport.playing {
                self.play_stems(done, span);
                self.transport.position += span as u64;
            }
            done += span;
        }
        out.fill(0.0);
        let stems = if self.config.stems {
            Some((self.stem_buffers.as_mut_slice(), stride * channels))
        } else {
            None
        };
        self.mixer
            .mix(&self.lane_buffers, stride, frames, out, stems);
        if self.config.limit {
            self.limiter.process(out, channels);
        }
        self.last_chunk_frames = frames;
        self.update_meters(out, frames);
        self.output_frame += frames as u64;
        self.publish();
    }

    /// Real-time: drains the command queue without blocking.
    fn apply_commands(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            self.apply(command);
        }
    }

    /// Real-time: one command applied to the engine's state; no alloc, lock or I/O.
    fn apply(&mut self, command: Command) {
        match command {
            Command::Play if !self.transport.playing => {
                if self.transport.position >= self.transport.end_frame {
                    self.seek(0);
                }
                self.transport.playing = true;
                self.emit(Event::Started {
                    output_frame: self.output_frame,
                    timeline_frame: self.transport.position,
                });
                self.cue(PartCue::Started {
                    output_frame: self.output_frame,
                    timeline_frame: self.transport.position,
                });
            }
            Command::Play => {}
            Command::Stop => self.stop(),
            Command::Locate { frame } => {
                self.cue(PartCue::Silence {
                    output_frame: self.output_frame,
                });
                self.seek(frame.min(self.transport.end_frame));
            }
            Command::LocateSection { section } => {
                if let Some(span) = self.score.sections.get(section) {
                    let frame = self.tempo_map.frame_at_tick(span.start_tick);
                    self.cue(PartCue::Silence {
                        output_frame: self.output_frame,
                    });
                    self.seek(frame);
                }
            }
            Command::SetLoop { section } => {
                self.transport.loop_section = section.filter(|s| *s < self.score.sections.len());
                self.refresh_loop_range();
            }
            Command::SetTempo { tempo } => {
                if self.transport.playing {
                    self.pending_tempo = Some(tempo);
                } else {
                    self.set_tempo(tempo);
                }
            }
            Command::SetLaneGain { lane, gain } => {
                self.mixer.update(lane, |s| s.gain = sanitize_gain(gain));
            }
            Command::SetLanePan { lane, pan } => {
                let pan = if pan.is_finite() {
                    pan.clamp(-1.0, 1.0)
                } else {
                    0.0
                };
                self.mixer.update(lane, |s| s.pan = pan);
            }
            Command::SetLaneMute { lane, muted } => self.mixer.update(lane, |s| s.muted = muted),
            Command::SetLaneSolo { lane, soloed } => {
                self.mixer.update(lane, |s| s.soloed = soloed);
            }
            Command::SetMasterGain { gain } => self.mixer.set_master_gain(gain),
            Command::SetClickEnabled { enabled } => self.click_enabled = enabled,
            Command::SetSubBeats { enabled } => self.sub_beats = enabled,
            Command::Record { frames } => {
                let start = self.output_frame;
                let end = start.saturating_add(frames);
                // End first: a capture thread that sees the new start must not see an old end.
                self.shared.take_end_frame.store(end, Ordering::Release);
                self.shared.take_start_frame.store(start, Ordering::Release);
                self.emit(Event::Recording {
                    start_frame: start,
                    end_frame: end,
                });
            }
            Command::StopRecording => {
                let start = self.shared.take_start_frame.load(Ordering::Acquire);
                let end = self.shared.take_end_frame.load(Ordering::Acquire);
                if start != u64::MAX && end > self.output_frame {
                    self.shared
                        .take_end_frame
                        .store(self.output_frame, Ordering::Release);
                    self.emit(Event::Recording {
                        start_frame: start,
                        end_frame: self.output_frame,
                    });
                }
            }
        }
    }

    fn stop(&mut self) {
        if self.transport.playing {
            self.transport.playing = false;
            self.emit(Event::Stopped {
                output_frame: self.output_frame,
                timeline_frame: self.transport.position,
            });
            self.cue(PartCue::Silence {
                output_frame: self.output_frame,
            });
        }
        if let Some(tempo) = self.pending_tempo.take() {
            self.set_tempo(tempo);
        }
    }

    /// Real-time: recomputes where each stem starts; no allocation.
    fn place_stems(&mut self) {
        let start = self.tempo_map.frame_at_tick(self.score.count_in_ticks);
        self.stem_starts.fill(start);
    }

    /// Adds each stem's samples for timeline frames `position..position + span` into its
    /// lane at `offset`. Stems are silent at any tempo but the written one.
    ///
    /// Real-time: copies from preloaded samples; no allocation, lock or I/O.
    fn play_stems(&mut self, offset: usize, span: usize) {
        if self.tempo != self.score.written_tempo {
            return;
        }
        let stride = self.config.max_block_frames;
        let position = self.transport.position;
        for (stem, &start) in self.score.stems.iter().zip(&self.stem_starts) {
            let from = position.max(start);
            let to = (position + span as u64).min(start + stem.samples.len() as u64);
            if from >= to {
                continue;
            }
            let into = stem.lane * stride + offset;
            let out = self
                .lane_buffers
                .get_mut(into + (from - position) as usize..into + (to - position) as usize);
            let source = stem
                .samples
                .get((from - start) as usize..(to - start) as usize);
            if let (Some(out), Some(source)) = (out, source) {
                for (o, s) in out.iter_mut().zip(source) {
                    *o += *s;
                }
            }
        }
    }

    /// Real-time: rebuilds the tempo map in place and keeps the musical position.
    fn set_tempo(&mut self, tempo: Bpm) {
        let tick = self.tempo_map.tick_at_frame(self.transport.position);
        self.tempo = tempo;
        self.tempo_map
            .rebuild(self.score.played_tempo_changes(tempo));
        self.transport.end_frame = self.tempo_map.frame_at_tick(self.score.end_tick);
        self.place_stems();
        self.refresh_loop_range();
        let frame = self.tempo_map.frame_at_tick(tick);
        self.seek(frame);
    }

    fn refresh_loop_range(&mut self) {
        self.transport.loop_range = self
            .transport
            .loop_section
            .and_then(|s| self.score.sections.get(s))
            .map(|span| {
                (
                    self.tempo_map.frame_at_tick(span.start_tick),
                    self.tempo_map.frame_at_tick(span.end_tick),
                )
            })
            .filter(|(start, end)| end > start);
    }

    /// Moves the transport and points every cursor at the first note not yet due.
    ///
    /// Real-time: binary searches only.
    fn seek(&mut self, frame: u64) {
        self.transport.position = frame;
        let map = &self.tempo_map;
        for (lane, cursor) in self.score.lanes.iter().zip(self.cursors.iter_mut()) {
            *cursor = lane
                .notes
                .partition_point(|n| map.frame_at_tick(n.tick) < frame);
        }
        for lane in 0..self.cursors.len() {
            let next = self.note_frame(lane);
            if let Some(frame) = self.next_frames.get_mut(lane) {
                *frame = next;
            }
        }
        self.next_section = self
            .score
            .sections
            .partition_point(|s| map.frame_at_tick(s.start_tick) < frame);
        let current = self
            .score
            .sections
            .partition_point(|s| map.frame_at_tick(s.start_tick) <= frame)
            .saturating_sub(1);
        self.shared.section.store(current as u32, Ordering::Relaxed);
    }

    /// Real-time: the frame of the lane's next note (`u64::MAX` when there is none).
    fn note_frame(&self, lane: usize) -> u64 {
        self.next_note(lane)
            .map_or(u64::MAX, |n| self.tempo_map.frame_at_tick(n.tick))
    }

    /// Real-time: the note the lane's cursor stands on.
    fn next_note(&self, lane: usize) -> Option<ScoreNote> {
        let cursor = *self.cursors.get(lane)?;
        self.score.lanes.get(lane)?.notes.get(cursor).copied()
    }

    fn section_frame(&self, section: usize) -> u64 {
        self.score
            .sections
            .get(section)
            .map_or(u64::MAX, |s| self.tempo_map.frame_at_tick(s.start_tick))
    }

    /// The next frame at which something is due: a note, a section, the loop end or the end.
    fn next_boundary(&self) -> u64 {
        let notes = self.next_frames.iter().copied().min().unwrap_or(u64::MAX);
        let limit = match self.transport.loop_range {
            Some((_, end)) => end,
            None => self.transport.end_frame,
        };
        notes.min(self.section_frame(self.next_section)).min(limit)
    }

    /// Handles everything due at the current position; `offset` is where in the block
    /// that position falls, so voices start on exactly that sample.
    ///
    /// Real-time: no alloc, lock or I/O.
    fn fire_due_events(&mut self, offset: usize) {
        self.transport.block_offset = offset as u64;
        if let Some((start, end)) = self.transport.loop_range {
            if self.transport.position >= end {
                self.seek(start);
                self.emit(Event::LoopWrapped {
                    output_frame: self.output_frame_now(),
                    to_frame: start,
                });
                self.cue(PartCue::Silence {
                    output_frame: self.output_frame_now(),
                });
            }
        } else if self.transport.position >= self.transport.end_frame {
            self.transport.playing = false;
            self.emit(Event::Finished {
                output_frame: self.output_frame_now(),
            });
            self.cue(PartCue::Silence {
                output_frame: self.output_frame_now(),
            });
            if let Some(tempo) = self.pending_tempo.take() {
                self.set_tempo(tempo);
            }
            return;
        }
        let position = self.transport.position;
        while self.section_frame(self.next_section) <= position {
            if self.section_frame(self.next_section) == position {
                self.emit(Event::SectionStarted {
                    output_frame: self.output_frame_now(),
                    timeline_frame: position,
                    section: self.next_section,
                });
            }
            self.shared
                .section
                .store(self.next_section as u32, Ordering::Relaxed);
            self.next_section += 1;
        }
        for lane in 0..self.cursors.len() {
            while let Some(&due) = self.next_frames.get(lane)
                && due <= position
            {
                let Some(note) = self.next_note(lane) else {
                    break;
                };
                if due == position {
                    self.play(lane, note, position);
                }
                if let Some(cursor) = self.cursors.get_mut(lane) {
                    *cursor += 1;
                }
                let next = self.note_frame(lane);
                if let Some(frame) = self.next_frames.get_mut(lane) {
                    *frame = next;
                }
            }
        }
    }

    /// Real-time: starts a voice for `note` and reports it; no alloc, lock or I/O.
    fn play(&mut self, lane: usize, note: ScoreNote, position: u64) {
        if note.role.is_click()
            && (!self.click_enabled || (note.role == NoteRole::SubBeat && !self.sub_beats))
        {
            return;
        }
        let Some(sound) = self.score.lanes.get(lane).map(|l| l.sound) else {
            return;
        };
        let end = self.tempo_map.frame_at_tick(note.tick + note.len_ticks);
        self.voices.start(Trigger {
            lane,
            sound,
            role: note.role,
            pitch: note.pitch,
            velocity: note.velocity,
            len_frames: end.saturating_sub(position),
        });
        self.emit(Event::Note {
            output_frame: self.output_frame_now(),
            timeline_frame: position,
            lane,
            role: note.role,
            pitch: note.pitch,
            velocity: note.velocity,
        });
        if !note.role.is_click() {
            self.cue(PartCue::Note {
                output_frame: self.output_frame_now(),
                lane,
                pitch: note.pitch,
                velocity: note.velocity,
                len_frames: end.saturating_sub(position),
            });
        }
    }

    /// The output frame of the sample being decided now, inside the current block.
    /// Real-time.
    fn output_frame_now(&self) -> u64 {
        self.output_frame + self.transport.block_offset
    }

    /// Real-time: reports an event without waiting; a full queue counts a drop.
    fn emit(&self, event: Event) {
        if self.events.try_send(event).is_err() {
            self.shared.events_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Real-time: one atomic load when nobody listens, else a non-blocking send.
    fn cue(&self, cue: PartCue) {
        if self.shared.part_cues_wanted.load(Ordering::Relaxed)
            && self.part_cues.try_send(cue).is_err()
        {
            self.shared
                .part_cues_dropped
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Real-time: folds this block into the meters' sums; no alloc, lock or I/O.
    fn update_meters(&mut self, out: &[f32], frames: usize) {
        let stride = self.config.max_block_frames;
        let lanes = self.score.lanes.len();
        for lane in 0..lanes {
            let gain = self.mixer.post_fader_gain(lane);
            if let Some(samples) = self.lane_buffers.get(lane * stride..lane * stride + frames) {
                self.meter_sums
                    .feed(&self.shared.meters, lane, samples, gain, 1);
            }
        }
        let channels = self.config.output_channels;
        for channel in 0..channels {
            if let Some(interleaved) = out.get(channel..) {
                self.meter_sums.feed(
                    &self.shared.meters,
                    lanes + channel,
                    interleaved,
                    1.0,
                    channels,
                );
            }
        }
    }

    /// Real-time: stores what other threads may read, in atomics only.
    fn publish(&self) {
        let shared = &self.shared;
        shared
            .position_frames
            .store(self.transport.position, Ordering::Relaxed);
        shared
            .output_frames
            .store(self.output_frame, Ordering::Relaxed);
        shared
            .playing
            .store(self.transport.playing, Ordering::Relaxed);
    }
}
