//! The offline backend: drives an engine as fast as the CPU allows, block by block.
//!
//! Owns the render loop used by `bandroom render`, the tests and the benchmarks: it
//! starts the transport, calls `Engine::process` with a fixed block size, drains the
//! engine's events after every block and hands mix, stems and events to a sink.
//! Must not write files itself (the sink decides) and must not change what the
//! engine plays: a render is exactly what a live session would have sounded like.

use crate::engine::{Command, Engine, EngineBusy, EngineHandle, Event};

/// What to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderSettings {
    /// Frames per `Engine::process` call; must not exceed the engine's `max_block_frames`
    /// if stems are wanted.
    pub block_frames: usize,
    /// Frames kept after the last bar so the final notes ring out.
    pub tail_frames: u64,
}

/// One block of a render, as the engine produced it.
pub struct RenderedBlock<'a> {
    /// Interleaved mix, `output_channels` wide.
    pub mix: &'a [f32],
    /// The engine, to read this block's stems from.
    pub engine: &'a Engine,
    /// Everything the engine reported during this block.
    pub events: &'a [Event],
}

/// Totals of a finished render.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RenderSummary {
    pub frames: u64,
    pub peak: f32,
    pub notes: u64,
    pub clicks: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError<E> {
    #[error("{0}")]
    Engine(#[from] EngineBusy),
    #[error("the render lost {0} engine events: use a smaller --block")]
    EventsLost(u64),
    #[error(transparent)]
    Sink(E),
}

/// Plays the engine's score from the start to its end plus the tail.
pub fn render<E>(
    mut engine: Engine,
    handle: &EngineHandle,
    settings: RenderSettings,
    mut sink: impl FnMut(RenderedBlock<'_>) -> Result<(), E>,
) -> Result<RenderSummary, RenderError<E>> {
    let channels = engine.config().output_channels;
    let block = settings.block_frames.max(1);
    let total = engine.end_frame() + settings.tail_frames;
    let mut buffer = vec![0.0f32; block * channels];
    let mut events = Vec::with_capacity(engine.config().event_capacity);
    let mut summary = RenderSummary::default();
    handle.send(Command::Play)?;
    while summary.frames < total {
        let frames = (total - summary.frames).min(block as u64) as usize;
        let mix = &mut buffer[..frames * channels];
        engine.process(mix);
        events.clear();
        events.extend(std::iter::from_fn(|| handle.try_event()));
        for event in &events {
            if let Event::Note { role, .. } = event {
                if role.is_click() {
                    summary.clicks += 1;
                } else {
                    summary.notes += 1;
                }
            }
        }
        summary.peak = mix.iter().fold(summary.peak, |p, x| p.max(x.abs()));
        sink(RenderedBlock {
            mix,
            engine: &engine,
            events: &events,
        })
        .map_err(RenderError::Sink)?;
        summary.frames += frames as u64;
    }
    match handle.events_dropped() {
        0 => Ok(summary),
        lost => Err(RenderError::EventsLost(lost)),
    }
}
