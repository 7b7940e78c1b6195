//! Analysis of a library take's attributed tracks: run when a track is given a part
//! (`bandroom perform … --part P`, `record --plays`, or a take the app files), stored in
//! the library, and read back as notes for the timeline and the ensemble figures.
//!
//! Must not detect or match onsets (`analysis` does) or hold SQL (`library` does).

use super::JobError;
use super::track_analysis::{Judging, RoomTrack, analyse, read_take_track, room_onsets};
use crate::analysis::matching::{Bands, NoteResult, Window};
use crate::library::{Library, TakeSummary, TrackAnalysis};

/// The window within which an onset counts as playing a note, in the library's analyses.
const WINDOW: Window = Window::Millis(50.0);

/// Analyses track `number` of `take` against `part` and stores the result; returns a
/// one-line summary.
pub fn analyse_and_store(
    lib: &mut Library,
    take: &TakeSummary,
    number: i64,
    part: &str,
) -> Result<String, JobError> {
    let (arrangement, options) = super::reference::played_arrangement(lib.root(), take)?;
    let track = take
        .tracks
        .iter()
        .find(|t| t.number == number)
        .ok_or_else(|| JobError::Track(format!("take {} has no track {number}", take.id)))?;
    let path = lib.take_folder(take).join(&track.file);
    let (samples, rate) = read_take_track(&path, Some(take.sample_rate_hz))?;
    let judging = Judging {
        offset: 0,
        window: WINDOW,
        bands: Bands::default(),
        // Where the take stopped, which a keyboard's file cannot say.
        played_until: Some(track.frames),
    };
    // The take's other microphones: what they heard first is their players' claps.
    let folder = lib.take_folder(take);
    let room: Vec<RoomTrack> = take
        .tracks
        .iter()
        .filter(|t| t.number != number && t.midi_port.is_none())
        .filter_map(|t| {
            room_onsets(&folder.join(&t.file), rate)
                .ok()
                .map(|bursts| RoomTrack {
                    name: format!("track {}", t.number),
                    bursts,
                })
        })
        .collect();
    let analysis = analyse(&samples, rate, &arrangement, options, part, judging, &room)?;
    let s = &analysis.summary;
    let line = format!(
        "{} of {} notes hit, {} extra, mean {}",
        s.hits,
        s.hits + s.misses,
        s.extras,
        s.mean_deviation_ms
            .map_or("-".to_string(), |m| format!("{m:+.1} ms"))
    );
    lib.store_analysis(
        take.id,
        &TrackAnalysis {
            track_number: number,
            part: part.to_string(),
            hits: s.hits as i64,
            misses: s.misses as i64,
            extras: s.extras as i64,
            mean_deviation_ms: s.mean_deviation_ms,
            sd_deviation_ms: s.sd_deviation_ms,
            drift_ms_per_minute: s.drift_ms_per_minute,
            detail: serde_json::to_string(&analysis)?,
            analysed_at: String::new(),
        },
    )?;
    Ok(line)
}

/// The bands a stored analysis was judged with (the defaults for older ones).
pub fn stored_bands(analysis: &TrackAnalysis) -> Bands {
    let detail: serde_json::Value = serde_json::from_str(&analysis.detail).unwrap_or_default();
    let band = |key: &str| detail["bands"][key].as_f64();
    match (band("tight_ms"), band("good_ms"), band("loose_ms")) {
        (Some(tight_ms), Some(good_ms), Some(loose_ms)) => Bands {
            tight_ms,
            good_ms,
            loose_ms,
        },
        _ => Bands::default(),
    }
}

/// The notes of a stored analysis, for ensemble figures.
pub fn stored_notes(analysis: &TrackAnalysis) -> Vec<NoteResult> {
    let detail: serde_json::Value = serde_json::from_str(&analysis.detail).unwrap_or_default();
    detail["notes"]
        .as_array()
        .map(|notes| {
            notes
                .iter()
                .filter_map(|n| {
                    Some(NoteResult {
                        expected_frame: n["expected_frame"].as_u64()?,
                        detected_frame: n["detected_frame"].as_u64(),
                        deviation_ms: n["deviation_ms"].as_f64(),
                        status: match (n["deviation_ms"].is_null(), n["status"].as_str()) {
                            (false, _) => "hit",
                            (true, Some(crate::analysis::matching::UNCLEAR)) => {
                                crate::analysis::matching::UNCLEAR
                            }
                            (true, _) => "miss",
                        },
                        section: n["section"].as_u64().unwrap_or(0) as usize,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}
