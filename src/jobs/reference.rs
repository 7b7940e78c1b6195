//! The reference part of a take: what one part of the take's arrangement sounds like at
//! the take's tempo, repeats and count-in, rendered offline on the take's timeline, so a
//! pupil can hear their own track against it.
//!
//! Owns rebuilding the played arrangement from a take's record (shared with the timing
//! analysis). Must not open a device or write files.

use super::JobError;
use crate::audio::offline::{self, RenderSettings};
use crate::engine::{Command, Engine, EngineConfig, Score, ScoreOptions};
use crate::library::TakeSummary;
use crate::music::{self, Arrangement, Bpm};
use std::path::Path;

/// The arrangement a take played, as it was played: its repeats and score options.
pub fn played_arrangement(
    root: &Path,
    take: &TakeSummary,
) -> Result<(Arrangement, ScoreOptions), JobError> {
    let name = take.arrangement.as_deref().ok_or_else(|| {
        JobError::NothingToCompare(
            "the take was recorded without an arrangement, so there is no part to compare with"
                .into(),
        )
    })?;
    let mut arrangement =
        music::resolve_in(name, Some(&crate::library::arrangements_folder(root)))?;
    if let Some(section) = &take.section {
        arrangement
            .keep_section(section)
            .map_err(JobError::PlayedAs)?;
    }
    if let Some(repeats) = take.repeats {
        arrangement.set_repeats(repeats);
    }
    let options = ScoreOptions {
        count_in_bars: take.count_in_bars,
        tempo: take
            .tempo_bpm
            .map(Bpm::new)
            .transpose()
            .map_err(JobError::PlayedAs)?,
    };
    arrangement
        .check_length(options.tempo)
        .map_err(JobError::PlayedAs)?;
    Ok((arrangement, options))
}

/// `part` of the take's arrangement alone (no click), mono, frame 0 at the take's frame
/// 0, no longer than `frames`.
pub fn render_part(
    root: &Path,
    take: &TakeSummary,
    part: &str,
    frames: usize,
) -> Result<Vec<f32>, JobError> {
    let (arrangement, options) = played_arrangement(root, take)?;
    let lane = arrangement.part_index(part).ok_or_else(|| {
        JobError::NothingToCompare(format!(
            "'{}' has no part '{part}' to play alongside",
            arrangement.title
        ))
    })?;
    let config = EngineConfig {
        sample_rate_hz: take.sample_rate_hz,
        ..EngineConfig::default()
    };
    let channels = config.output_channels.max(1);
    let (engine, handle) = Engine::new(Score::new(&arrangement, options), config)?;
    handle
        .send(Command::SetClickEnabled { enabled: false })
        .and_then(|()| handle.send(Command::SetLaneSolo { lane, soloed: true }))?;
    let mut mono = Vec::with_capacity(frames);
    let settings = RenderSettings {
        block_frames: 1024,
        tail_frames: u64::from(take.sample_rate_hz),
    };
    offline::render(engine, &handle, settings, |block| {
        for frame in block.mix.chunks_exact(channels) {
            if mono.len() < frames {
                mono.push(frame.iter().sum::<f32>() / channels as f32);
            }
        }
        Ok::<(), JobError>(())
    })
    .map_err(|e| JobError::Track(format!("the part could not be rendered: {e}")))?;
    Ok(mono)
}
