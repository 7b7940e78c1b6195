//! Attaching an arrangement's backing stems to a score before a take or a render
//! starts: decoded and resampled off the audio thread, or left off with the reason said.
//!
//! Must not decode audio itself (`audio::stems` does) or decide timing (the engine
//! starts stems on bar 1); it never prints: what it has to say goes into `notes`.

use super::plan::PlanError;
use crate::audio::stems::load_stem;
use crate::engine::Score;
use crate::music::{Arrangement, Part};

/// Loads every stem of `arrangement` onto its lane of `score`, unless the piece is not
/// played whole (`whole` is false: a section, bar range, passes or a ramp) or is played
/// at another tempo: then the stems stay off and a note says why, so nothing drifts
/// silently.
pub fn attach_stems(
    score: &mut Score,
    arrangement: &Arrangement,
    rate: u32,
    whole: bool,
    notes: &mut Vec<String>,
) -> Result<(), PlanError> {
    let stem_parts: Vec<(usize, &Part)> = arrangement
        .parts
        .iter()
        .enumerate()
        .filter(|(_, p)| p.stem.is_some())
        .collect();
    if stem_parts.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = stem_parts.iter().map(|(_, p)| p.name.as_str()).collect();
    if !whole {
        notes.push(format!(
            "note: the backing stem(s) {} are off: stems play only with the whole piece, \
             not a section, bar range, passes or a ramp",
            names.join(", ")
        ));
        return Ok(());
    }
    if score.tempo != score.written_tempo {
        notes.push(format!(
            "note: the backing stem(s) {} are off: they play only at the written tempo ({} BPM), \
             not at {} BPM",
            names.join(", "),
            score.written_tempo,
            score.tempo
        ));
        return Ok(());
    }
    // A stem plays from bar 1 to the end of the piece: nothing after that is decoded.
    let piece_secs = arrangement
        .sections
        .iter()
        .map(|s| f64::from(s.bars) * f64::from(s.repeats))
        .sum::<f64>()
        * arrangement.meter.bar_ticks() as f64
        / crate::music::TICKS_PER_QUARTER as f64
        * 60.0
        / score.written_tempo.as_f64();
    let max_secs = (piece_secs + 10.0).min(crate::music::MAX_PIECE_SECS);
    for (lane, part) in stem_parts {
        let Some(path) = part.stem.as_deref() else {
            continue;
        };
        let stem = load_stem(path, rate, max_secs).map_err(|source| PlanError::Stem {
            part: part.name.clone(),
            source,
        })?;
        if stem.source_rate != rate {
            notes.push(format!(
                "{}: resampled from {} Hz to {rate} Hz ({} → {} frames)",
                path.display(),
                stem.source_rate,
                stem.source_frames,
                stem.samples.len()
            ));
        }
        score.attach_stem(lane, stem.samples);
    }
    Ok(())
}
