//! Matching detected onsets to the notes a part asked for, and the summaries a teacher
//! reads: hits, misses, extras, signed deviation (rushing is negative), spread, tempo
//! drift, named bands, and per section.
//!
//! Must not detect onsets or compute the timeline: the caller passes expected frames
//! (from the score and tempo map) and detected frames.

use serde::Serialize;

/// Bands teachers name deviations by, in milliseconds either side.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bands {
    pub tight_ms: f64,
    pub good_ms: f64,
    pub loose_ms: f64,
}

impl Default for Bands {
    fn default() -> Self {
        Self {
            tight_ms: 16.0,
            good_ms: 33.0,
            loose_ms: 50.0,
        }
    }
}

/// Which band a deviation falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    Tight,
    Good,
    Loose,
    /// Further out than loose (or missed).
    Off,
}

impl Bands {
    /// The band of a signed deviation.
    pub fn band(&self, deviation_ms: f64) -> Band {
        let d = deviation_ms.abs();
        if d <= self.tight_ms {
            Band::Tight
        } else if d <= self.good_ms {
            Band::Good
        } else if d <= self.loose_ms {
            Band::Loose
        } else {
            Band::Off
        }
    }

    /// Reads "TIGHT,GOOD,LOOSE" in milliseconds, e.g. "16,33,50".
    pub fn parse(text: &str) -> Result<Bands, String> {
        Self::parse_at(text, None)
    }

    /// Reads the bands in milliseconds or, with the take's tempo (quarter notes a
    /// minute), as note values as musicians think of them: "1/128,1/64,1/32".
    pub fn parse_at(text: &str, bpm: Option<f64>) -> Result<Bands, String> {
        let values: Vec<f64> = text
            .split(',')
            .map(|v| {
                let v = v.trim();
                if v.contains('/') {
                    let bpm = bpm.filter(|b| *b > 0.0).ok_or(())?;
                    let ticks = crate::music::time::parse_note_value(v).map_err(|_| ())?;
                    Ok(ticks as f64 / crate::music::TICKS_PER_QUARTER as f64 * 60_000.0 / bpm)
                } else {
                    v.trim_end_matches("ms").trim().parse::<f64>().map_err(|_| ())
                }
            })
            .collect::<Result<_, ()>>()
            .map_err(|()| {
                format!("bands '{text}': write three numbers of ms (16,33,50) or note values (1/128,1/64,1/32)")
            })?;
        match values[..] {
            [tight_ms, good_ms, loose_ms]
                if 0.0 < tight_ms
                    && tight_ms < good_ms
                    && good_ms < loose_ms
                    && loose_ms <= 500.0 =>
            {
                Ok(Bands {
                    tight_ms,
                    good_ms,
                    loose_ms,
                })
            }
            _ => Err(format!(
                "bands '{text}': give three widening limits in ms up to 500, e.g. 16,33,50"
            )),
        }
    }
}

/// How far from its note an onset may be and still count: in milliseconds, or as a
/// note value at the take's tempo (a sixteenth is tighter at 180 BPM than at 60).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Window {
    Millis(f64),
    /// Ticks (bandroom's, `TICKS_PER_QUARTER` a quarter note).
    NoteValue(u64),
}

impl Window {
    /// Reads "50ms" or a note value such as "1/16".
    pub fn parse(text: &str) -> Result<Window, String> {
        let text = text.trim();
        if let Some(ms) = text.strip_suffix("ms") {
            return match ms.trim().parse::<f64>() {
                Ok(v) if (1.0..=500.0).contains(&v) => Ok(Window::Millis(v)),
                _ => Err(format!(
                    "window '{text}': use 1ms to 500ms, or a note value such as 1/16"
                )),
            };
        }
        crate::music::time::parse_note_value(text)
            .map(Window::NoteValue)
            .map_err(|_| {
                format!("window '{text}': write milliseconds (50ms) or a note value (1/16)")
            })
    }

    /// The window in frames at `bpm` (quarter notes a minute) and `rate`.
    pub fn frames(self, bpm: f64, rate: u32) -> u64 {
        let seconds = match self {
            Window::Millis(ms) => ms / 1000.0,
            Window::NoteValue(ticks) => {
                ticks as f64 / crate::music::TICKS_PER_QUARTER as f64 * 60.0 / bpm
            }
        };
        (seconds * f64::from(rate)).round() as u64
    }
}

/// One expected note.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    pub frame: u64,
    pub section: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoteResult {
    pub expected_frame: u64,
    pub detected_frame: Option<u64>,
    pub deviation_ms: Option<f64>,
    pub status: &'static str,
    pub section: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Extra {
    pub detected_frame: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub hits: usize,
    pub misses: usize,
    pub extras: usize,
    /// Notes the room's microphones could not tell this player's from a neighbour's.
    pub unclear: usize,
    pub hit_rate: f64,
    /// Mean signed deviation: negative rushes, positive drags.
    pub mean_deviation_ms: Option<f64>,
    pub sd_deviation_ms: Option<f64>,
    pub median_abs_deviation_ms: Option<f64>,
    /// How the deviation changes over the take (ms per minute): negative speeds up.
    pub drift_ms_per_minute: Option<f64>,
    pub tight: usize,
    pub good: usize,
    pub loose: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectionSummary {
    pub section: usize,
    pub name: String,
    #[serde(flatten)]
    pub summary: Summary,
    /// The share of notes hit in each pass through the section.
    pub pass_hit_rates: Vec<f64>,
    /// How many passes it took to settle: the first pass from which every pass hits at
    /// least three notes in four (for Clapping Music, how long the shift took). `None`
    /// when it never settled.
    pub settled_after_passes: Option<usize>,
}

/// The first pass from which every later pass has a hit rate of at least 0.75.
pub fn settled_after(pass_hit_rates: &[f64]) -> Option<usize> {
    let unsettled = pass_hit_rates.iter().rposition(|r| *r < 0.75);
    match unsettled {
        None => Some(0),
        Some(last) if last + 1 < pass_hit_rates.len() => Some(last + 1),
        Some(_) => None,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    pub notes: Vec<NoteResult>,
    pub extras: Vec<Extra>,
    pub summary: Summary,
    pub sections: Vec<SectionSummary>,
    pub bands: Bands,
    /// Plain words when the numbers would mislead ("no onsets found").
    pub warnings: Vec<String>,
    /// The part's notes after the take stopped: never played, so neither hit nor missed.
    pub not_played: usize,
    /// Onsets that were the room's other players heard by this microphone (found from
    /// the take's other tracks), left out before matching: never the pupil's extras.
    pub spill: usize,
}

/// Matches each expected note to the nearest unused onset within `window_frames`,
/// closest pairs first, so a note never steals its neighbour's onset.
pub fn match_onsets(
    expected: &[Expected],
    detected: &[u64],
    window_frames: u64,
    rate: u32,
) -> (Vec<NoteResult>, Vec<Extra>) {
    let mut pairs: Vec<(u64, usize, usize)> = Vec::new();
    for (e, note) in expected.iter().enumerate() {
        let lo = detected.partition_point(|d| *d + window_frames < note.frame);
        for (d, &frame) in detected.iter().enumerate().skip(lo) {
            if frame > note.frame + window_frames {
                break;
            }
            pairs.push((frame.abs_diff(note.frame), e, d));
        }
    }
    pairs.sort();
    let mut note_match: Vec<Option<usize>> = vec![None; expected.len()];
    let mut used = vec![false; detected.len()];
    for (_, e, d) in pairs {
        if note_match[e].is_none() && !used[d] {
            note_match[e] = Some(d);
            used[d] = true;
        }
    }
    let ms = |frames: f64| frames * 1000.0 / f64::from(rate);
    let notes = expected
        .iter()
        .zip(&note_match)
        .map(|(note, m)| {
            let detected_frame = m.map(|d| detected[d]);
            NoteResult {
                expected_frame: note.frame,
                detected_frame,
                deviation_ms: detected_frame.map(|d| ms(d as f64 - note.frame as f64)),
                status: if m.is_some() { "hit" } else { "miss" },
                section: note.section,
            }
        })
        .collect();
    let extras = detected
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(d, _)| Extra { detected_frame: *d })
        .collect();
    (notes, extras)
}

/// A note's status when no onset of the player's was found near it, but the room left a
/// burst near it that may have been theirs: neither hit nor miss.
pub const UNCLEAR: &str = "unclear";

/// Marks as unclear each missed note with one of the `doubtful` frames (in order)
/// within `window_frames` of it: bandroom says it could not tell, rather than "missed".
pub fn leave_unclear(notes: &mut [NoteResult], doubtful: &[u64], window_frames: u64) {
    for note in notes.iter_mut().filter(|n| n.status == "miss") {
        let from = doubtful.partition_point(|d| *d + window_frames < note.expected_frame);
        if doubtful
            .get(from)
            .is_some_and(|d| *d <= note.expected_frame + window_frames)
        {
            note.status = UNCLEAR;
        }
    }
}

/// The timing figures of `notes`: unclear notes are neither hits nor misses.
pub fn summarise(notes: &[NoteResult], extras: usize, rate: u32, bands: Bands) -> Summary {
    let deviations: Vec<(f64, f64)> = notes
        .iter()
        .filter_map(|n| {
            n.deviation_ms
                .map(|d| (n.expected_frame as f64 / f64::from(rate), d))
        })
        .collect();
    let hits = deviations.len();
    let misses = notes.iter().filter(|n| n.status == "miss").count();
    let mut summary = Summary {
        hits,
        misses,
        extras,
        unclear: notes.iter().filter(|n| n.status == UNCLEAR).count(),
        hit_rate: if hits + misses == 0 {
            0.0
        } else {
            hits as f64 / (hits + misses) as f64
        },
        ..Summary::default()
    };
    if hits == 0 {
        return summary;
    }
    let n = hits as f64;
    let mean = deviations.iter().map(|(_, d)| d).sum::<f64>() / n;
    let variance = deviations
        .iter()
        .map(|(_, d)| (d - mean).powi(2))
        .sum::<f64>()
        / n;
    let mut absolute: Vec<f64> = deviations.iter().map(|(_, d)| d.abs()).collect();
    absolute.sort_by(f64::total_cmp);
    summary.mean_deviation_ms = Some(mean);
    summary.sd_deviation_ms = Some(variance.sqrt());
    summary.median_abs_deviation_ms = Some(absolute[absolute.len() / 2]);
    if hits >= 3 {
        let t_mean = deviations.iter().map(|(t, _)| t).sum::<f64>() / n;
        let sxx: f64 = deviations.iter().map(|(t, _)| (t - t_mean).powi(2)).sum();
        let sxy: f64 = deviations
            .iter()
            .map(|(t, d)| (t - t_mean) * (d - mean))
            .sum();
        if sxx > 0.0 {
            summary.drift_ms_per_minute = Some(sxy / sxx * 60.0);
        }
    }
    for d in absolute {
        if d <= bands.tight_ms {
            summary.tight += 1;
        } else if d <= bands.good_ms {
            summary.good += 1;
        } else if d <= bands.loose_ms {
            summary.loose += 1;
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(frames: &[u64]) -> Vec<Expected> {
        frames
            .iter()
            .map(|&frame| Expected { frame, section: 0 })
            .collect()
    }

    #[test]
    fn a_note_with_only_a_doubtful_burst_near_it_is_unclear_and_counts_for_nothing() {
        let rate = 48_000;
        // Four notes a second apart: the first two played, the third has only a burst
        // the room could not place beside it, the fourth nothing at all.
        let notes = expected(&[48_000, 96_000, 144_000, 192_000]);
        let (mut results, _) = match_onsets(&notes, &[48_000, 96_480], 2_400, rate);
        leave_unclear(&mut results, &[144_960, 260_000], 2_400);
        let status: Vec<&str> = results.iter().map(|n| n.status).collect();
        assert_eq!(status, ["hit", "hit", UNCLEAR, "miss"]);
        let s = summarise(&results, 0, rate, Bands::default());
        assert_eq!((s.hits, s.misses, s.unclear), (2, 1, 1));
        assert!((s.hit_rate - 2.0 / 3.0).abs() < 1e-9, "{}", s.hit_rate);
    }

    #[test]
    fn a_pupil_who_rushes_by_20_ms_reports_minus_20() {
        let rate = 48_000;
        let notes: Vec<u64> = (1..=16).map(|i| i * 24_000).collect();
        let played: Vec<u64> = notes.iter().map(|f| f - 960).collect();
        let (results, extras) = match_onsets(&expected(&notes), &played, 2_400, rate);
        let summary = summarise(&results, extras.len(), rate, Bands::default());
        assert_eq!((summary.hits, summary.misses, summary.extras), (16, 0, 0));
        assert!((summary.mean_deviation_ms.unwrap() + 20.0).abs() < 1e-9);
        assert!(summary.sd_deviation_ms.unwrap() < 1e-9);
        assert_eq!(summary.good, 16, "20 ms is 'good', not 'tight'");
        assert!(summary.drift_ms_per_minute.unwrap().abs() < 1e-9);
    }

    #[test]
    fn bands_can_be_note_values_at_the_takes_tempo() {
        // At 125 BPM a quarter is 480 ms: a 1/64 is 30 ms.
        let bands = Bands::parse_at("1/128,1/64,1/32", Some(125.0));
        assert_eq!(
            bands,
            Ok(Bands {
                tight_ms: 15.0,
                good_ms: 30.0,
                loose_ms: 60.0
            })
        );
        assert!(
            Bands::parse("1/128,1/64,1/32").is_err(),
            "a note value needs a tempo"
        );
        let bands = Bands::default();
        assert_eq!(bands.band(-16.0), Band::Tight);
        assert_eq!(bands.band(20.0), Band::Good);
        assert_eq!(bands.band(-40.0), Band::Loose);
        assert_eq!(bands.band(51.0), Band::Off);
    }

    #[test]
    fn misses_extras_and_neighbours_are_told_apart() {
        let notes = [48_000u64, 72_000, 96_000];
        // The second note is missed; an extra falls between notes; the third is late.
        let played = [48_100u64, 84_000, 96_480];
        let (results, extras) = match_onsets(&expected(&notes), &played, 2_400, 48_000);
        let statuses: Vec<&str> = results.iter().map(|r| r.status).collect();
        assert_eq!(statuses, ["hit", "miss", "hit"]);
        assert_eq!(
            extras,
            [Extra {
                detected_frame: 84_000
            }]
        );
        assert_eq!(results[2].deviation_ms, Some(10.0));
    }

    #[test]
    fn windows_follow_the_tempo_when_given_as_note_values() {
        let sixteenth = Window::parse("1/16").unwrap();
        assert_eq!(sixteenth.frames(60.0, 48_000), 12_000);
        assert_eq!(sixteenth.frames(120.0, 48_000), 6_000);
        assert_eq!(Window::parse("50ms").unwrap().frames(60.0, 48_000), 2_400);
        assert!(Window::parse("0ms").is_err() && Window::parse("soon").is_err());
        assert_eq!(Bands::parse("10, 20, 40").unwrap().good_ms, 20.0);
        assert!(Bands::parse("30,20,40").is_err());
    }

    #[test]
    fn settling_is_the_first_pass_after_the_last_shaky_one() {
        assert_eq!(settled_after(&[1.0, 1.0]), Some(0));
        assert_eq!(settled_after(&[0.2, 0.5, 1.0, 0.875]), Some(2));
        assert_eq!(settled_after(&[1.0, 0.5, 1.0]), Some(2));
        assert_eq!(settled_after(&[1.0, 0.25]), None);
    }

    #[test]
    fn a_steady_slowing_down_shows_as_drift() {
        let rate = 48_000;
        let notes: Vec<u64> = (0..60).map(|i| i * 48_000).collect();
        // One more millisecond late every second: 60 ms a minute.
        let played: Vec<u64> = notes
            .iter()
            .enumerate()
            .map(|(i, f)| f + 48 * i as u64)
            .collect();
        let (results, _) = match_onsets(&expected(&notes), &played, 4_800, rate);
        let summary = summarise(&results, 0, rate, Bands::default());
        assert!((summary.drift_ms_per_minute.unwrap() - 60.0).abs() < 1e-6);
    }
}
