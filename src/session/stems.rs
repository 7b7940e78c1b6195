//! Attaching an arrangement's backing stems to a score before a take or a render
//! starts: decoded and resampled off the audio thread, or left off with the reason said.
//!
//! Must not decode audio itself (`audio::stems` does) or decide timing (the engine
//! starts stems on bar 1); it never prints: what it has to say goes into `notes`.

use super::plan::PlanError;
use crate::audio::stems::load_stem;
use crate::engine::Score;
use crate::music::{Arrangement, Part};
use std::sync::Arc;

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
    let piece_secs = arrangement.total_ticks() as f64 / crate::music::TICKS_PER_QUARTER as f64
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
        let samples = tame_absurd_level(stem.samples, &path.display().to_string(), notes);
        score.attach_stem(lane, samples);
    }
    Ok(())
}

/// A stem that peaks this far above full scale (+12 dBFS) was not written as audio
/// levels are (a float WAV whose samples sit around 16,000, say): played as it is, it
/// would drown the class. It is scaled to peak at full scale, and a note says so.
const ABSURD_PEAK: f32 = 4.0;

fn tame_absurd_level(samples: Arc<[f32]>, what: &str, notes: &mut Vec<String>) -> Arc<[f32]> {
    let peak = samples.iter().fold(0.0f32, |p, x| p.max(x.abs()));
    if samples.iter().any(|x| !x.is_finite()) {
        notes.push(format!(
            "note: {what} holds samples that are not numbers (a damaged float file): they \
             play as silence"
        ));
        return samples
            .iter()
            .map(|x| if x.is_finite() { *x } else { 0.0 })
            .collect();
    }
    if peak <= ABSURD_PEAK {
        return samples;
    }
    let db = 20.0 * peak.log10();
    notes.push(format!(
        "note: {what} peaks at {db:+.1} dBFS, far above full scale (its samples are not in \
         the usual −1…1 range): it plays scaled down by {db:.1} dB to peak at full scale"
    ));
    samples.iter().map(|x| x / peak).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurdly_loud_stem_is_scaled_to_full_scale_with_a_note() {
        let mut notes = Vec::new();
        let loud = tame_absurd_level(
            Arc::from(vec![16_000.0, -8_000.0, 0.0]),
            "loud.wav",
            &mut notes,
        );
        assert_eq!(&loud[..], [1.0, -0.5, 0.0]);
        assert!(notes[0].contains("+84.1 dBFS"), "{notes:?}");
        let hot = tame_absurd_level(Arc::from(vec![0.9, -1.2]), "hot.wav", &mut notes);
        assert_eq!(&hot[..], [0.9, -1.2], "a hot stem is the mix's to guard");
        let broken = tame_absurd_level(Arc::from(vec![f32::NAN, 0.5]), "nan.wav", &mut notes);
        assert_eq!(&broken[..], [0.0, 0.5]);
        assert_eq!(notes.len(), 2);
    }
}
