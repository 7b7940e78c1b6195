//! Ensemble measures: how two tracks played together. For every note both parts share
//! (the same expected frame, both played), the difference of their deviations says who
//! led and by how much; its spread says how tight the pair was.
//!
//! Must not detect or match onsets: it compares two finished matchings.

use super::matching::NoteResult;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Asynchrony {
    /// Shared notes both tracks played.
    pub shared: usize,
    /// Mean of (first − second) in ms: negative when the first track leads.
    pub mean_ms: f64,
    /// Spread of that difference: small when the pair moves together.
    pub sd_ms: f64,
}

/// The asynchrony of two matchings over their shared notes; `None` when they share none.
pub fn asynchrony(first: &[NoteResult], second: &[NoteResult]) -> Option<Asynchrony> {
    let mut differences = Vec::new();
    let mut j = 0;
    for a in first {
        while j < second.len() && second[j].expected_frame < a.expected_frame {
            j += 1;
        }
        if let Some(b) = second.get(j)
            && b.expected_frame == a.expected_frame
            && let (Some(da), Some(db)) = (a.deviation_ms, b.deviation_ms)
        {
            differences.push(da - db);
        }
    }
    if differences.is_empty() {
        return None;
    }
    let n = differences.len() as f64;
    let mean = differences.iter().sum::<f64>() / n;
    let sd = (differences.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n).sqrt();
    Some(Asynchrony {
        shared: differences.len(),
        mean_ms: mean,
        sd_ms: sd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn played(frames: &[(u64, Option<f64>)]) -> Vec<NoteResult> {
        frames
            .iter()
            .map(|&(expected_frame, deviation_ms)| NoteResult {
                expected_frame,
                detected_frame: deviation_ms.map(|_| expected_frame),
                deviation_ms,
                status: if deviation_ms.is_some() {
                    "hit"
                } else {
                    "miss"
                },
                section: 0,
            })
            .collect()
    }

    #[test]
    fn the_leader_and_the_gap_come_from_shared_notes_only() {
        let first = played(&[
            (100, Some(-10.0)),
            (200, Some(-12.0)),
            (300, Some(0.0)),
            (400, None),
        ]);
        let second = played(&[
            (100, Some(5.0)),
            (200, Some(3.0)),
            (250, Some(40.0)),
            (400, Some(0.0)),
        ]);
        let a = asynchrony(&first, &second).unwrap();
        assert_eq!(
            a.shared, 2,
            "250 and 300 are not shared; 400 was missed by the first"
        );
        assert!(
            (a.mean_ms + 15.0).abs() < 1e-9,
            "the first track leads by 15 ms"
        );
        assert!(a.sd_ms < 1e-9);
        assert!(asynchrony(&first, &played(&[(999, Some(1.0))])).is_none());
    }
}
