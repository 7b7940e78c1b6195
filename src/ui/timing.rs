//! Each analysed track's notes drawn on its waveform, coloured by how close they were
//! (tight green, good yellow, loose orange, further or missed red), with one sentence a
//! teacher or a pupil can read (and a screen reader can say).
//!
//! Owns reading the stored analyses of a take (through the context's cache, once per
//! library change) and painting them. Must not analyse (the jobs module does, in the
//! background) or hold SQL.

use super::context::AppContext;
use crate::analysis::matching::{Band, Bands, NoteResult};
use crate::jobs::{stored_bands, stored_notes};
use crate::library::{Library, TakeSummary};
use eframe::egui;
use std::collections::HashMap;
use std::rc::Rc;

/// One track's judged notes.
pub struct TrackTiming {
    pub part: String,
    pub notes: Vec<NoteResult>,
    pub bands: Bands,
    pub mean_ms: Option<f64>,
}

/// The stored analyses of `take`, by track number, read once per library change.
pub fn for_take(cx: &mut AppContext, take: &TakeSummary) -> Rc<HashMap<i64, TrackTiming>> {
    let id = take.id;
    cx.read_or_default(format!("timing/{id}"), |lib| {
        Ok(Rc::new(read_take(lib, id)))
    })
}

fn read_take(lib: &Library, take: i64) -> HashMap<i64, TrackTiming> {
    lib.analyses(take)
        .unwrap_or_default()
        .iter()
        .map(|a| {
            (
                a.track_number,
                TrackTiming {
                    part: a.part.clone(),
                    notes: stored_notes(a),
                    bands: stored_bands(a),
                    mean_ms: a.mean_deviation_ms,
                },
            )
        })
        .collect()
}

fn colour(band: Option<Band>) -> egui::Color32 {
    match band {
        Some(Band::Tight) => egui::Color32::from_rgb(40, 170, 70),
        Some(Band::Good) => egui::Color32::from_rgb(220, 190, 30),
        Some(Band::Loose) => egui::Color32::from_rgb(235, 130, 30),
        Some(Band::Off) | None => egui::Color32::from_rgb(210, 40, 40),
    }
}

/// Notes the room's microphones could not tell from a neighbour's: neither played
/// nor missed.
fn unclear(timing: &TrackTiming) -> usize {
    timing
        .notes
        .iter()
        .filter(|n| n.status == crate::analysis::matching::UNCLEAR)
        .count()
}

/// Counts per band, and the misses (unclear notes are in none).
fn counts(timing: &TrackTiming) -> [usize; 5] {
    let mut counts = [0; 5];
    for note in &timing.notes {
        if note.status == crate::analysis::matching::UNCLEAR {
            continue;
        }
        let slot = match note.deviation_ms.map(|d| timing.bands.band(d)) {
            Some(Band::Tight) => 0,
            Some(Band::Good) => 1,
            Some(Band::Loose) => 2,
            Some(Band::Off) => 3,
            None => 4,
        };
        counts[slot] += 1;
    }
    counts
}

/// "Clapper 1: 98 of 104 notes — 80 tight, 15 good, 3 loose, 6 missed; 3.2 ms late on average".
pub fn sentence(timing: &TrackTiming) -> String {
    let [tight, good, loose, off, missed] = counts(timing);
    let unclear = unclear(timing);
    let judged = timing.notes.len() - unclear;
    let played = judged - missed;
    let lean = match timing.mean_ms {
        Some(m) if m >= 0.5 => format!("; {m:.1} ms late on average"),
        Some(m) if m <= -0.5 => format!("; {:.1} ms early on average", -m),
        Some(_) => "; right on the beat on average".into(),
        None => String::new(),
    };
    let mut bands = vec![
        format!("{tight} tight"),
        format!("{good} good"),
        format!("{loose} loose"),
    ];
    if off > 0 {
        bands.push(format!("{off} further out"));
    }
    bands.push(format!("{missed} missed"));
    let unclear = if unclear > 0 {
        format!(" ({unclear} more could not be told from a neighbour's: listen to them)")
    } else {
        String::new()
    };
    format!(
        "Timing of {}: {played} of {judged} notes — {}{lean}{unclear}",
        timing.part,
        bands.join(", ")
    )
}

/// How one part's players did together, with no pupil named: for the projector.
#[derive(Clone, Debug, PartialEq)]
pub struct SectionTightness {
    pub part: String,
    /// Share of the part's notes played within the tight band.
    pub tight_share: f64,
    /// Share of the part's notes played at all.
    pub played_share: f64,
}

/// The parts of the class's latest analysed take, each as one aggregate, read once per
/// library change.
pub fn latest_sections(cx: &mut AppContext, class: Option<i64>) -> Rc<Vec<SectionTightness>> {
    cx.read_or_default(format!("latest sections/{class:?}"), |lib| {
        Ok(Rc::new(read_latest_sections(lib, class)))
    })
}

fn read_latest_sections(lib: &Library, class: Option<i64>) -> Vec<SectionTightness> {
    let takes = lib
        .takes(&crate::library::TakeFilter {
            class,
            ..Default::default()
        })
        .unwrap_or_default();
    let latest = takes
        .iter()
        .filter(|t| lib.analyses(t.id).is_ok_and(|a| !a.is_empty()))
        .max_by(|a, b| a.recorded_at.cmp(&b.recorded_at).then(a.id.cmp(&b.id)));
    let Some(take) = latest else {
        return Vec::new();
    };
    let timings = read_take(lib, take.id);
    let tracks = take.tracks.iter().filter_map(|track| {
        let pupils = track.performers.iter().map(|p| p.pupil_id).collect();
        timings.get(&track.number).map(|timing| (timing, pupils))
    });
    sections(tracks)
}

/// Each part's notes pooled over its tracks, shown only for a part at least
/// [`MIN_GROUP`](crate::export::monitoring::MIN_GROUP) different pupils played (the
/// export's small-number rule): a part of one or two players would put their score on
/// the projector. Each track comes with its players' ids.
fn sections<'a>(
    tracks: impl Iterator<Item = (&'a TrackTiming, Vec<i64>)>,
) -> Vec<SectionTightness> {
    let mut by_part: Vec<(String, [usize; 5], std::collections::BTreeSet<i64>)> = Vec::new();
    for (timing, pupils) in tracks {
        let c = counts(timing);
        let at = match by_part.iter().position(|(p, _, _)| *p == timing.part) {
            Some(at) => at,
            None => {
                by_part.push((timing.part.clone(), [0; 5], Default::default()));
                by_part.len() - 1
            }
        };
        let (_, total, players) = &mut by_part[at];
        total.iter_mut().zip(c).for_each(|(t, n)| *t += n);
        players.extend(pupils);
    }
    by_part.sort_by(|a, b| a.0.cmp(&b.0));
    by_part
        .into_iter()
        .filter(|(_, _, players)| players.len() >= crate::export::monitoring::MIN_GROUP)
        .filter_map(|(part, c, _)| {
            let all: usize = c.iter().sum();
            (all > 0).then(|| SectionTightness {
                part,
                tight_share: c[0] as f64 / all as f64,
                played_share: (all - c[4]) as f64 / all as f64,
            })
        })
        .collect()
}

/// Paints a tick per expected note over `rect` (the track's waveform), placed where the
/// note was played (or expected, when missed), `frames` being the take's length.
pub fn paint(ui: &egui::Ui, rect: egui::Rect, timing: &TrackTiming, frames: u64) {
    if frames == 0 {
        return;
    }
    let painter = ui.painter_at(rect);
    let x_of = |frame: u64| rect.left() + rect.width() * (frame as f32 / frames as f32);
    for note in timing
        .notes
        .iter()
        .filter(|n| n.status != crate::analysis::matching::UNCLEAR)
    {
        let band = note.deviation_ms.map(|d| timing.bands.band(d));
        let x = x_of(note.detected_frame.unwrap_or(note.expected_frame));
        let c = colour(band);
        match band {
            None => {
                // A miss: a short hollow mark at the bottom, where the note should have been.
                painter.rect_stroke(
                    egui::Rect::from_center_size(
                        egui::pos2(x, rect.bottom() - 5.0),
                        egui::vec2(5.0, 8.0),
                    ),
                    0.0,
                    egui::Stroke::new(1.5, c),
                    egui::StrokeKind::Inside,
                );
            }
            Some(_) => {
                painter.line_segment(
                    [
                        egui::pos2(x, rect.top() + 2.0),
                        egui::pos2(x, rect.top() + 12.0),
                    ],
                    egui::Stroke::new(2.5, c),
                );
            }
        }
    }
}

/// The timing in a pupil's words first, the numbers after: "You played 12 of 13
/// notes: 9 right with the beat, 2 a little early or late, 1 well off the beat, and you
/// missed 1. On average you were a little early (4 ms)."
pub fn pupil_sentence(timing: &TrackTiming) -> String {
    let [tight, good, loose, off, missed] = counts(timing);
    let judged = timing.notes.len() - unclear(timing);
    let played = judged - missed;
    let mut parts = vec![format!("{tight} right with the beat")];
    if good + loose > 0 {
        parts.push(format!("{} a little early or late", good + loose));
    }
    if off > 0 {
        parts.push(format!("{off} well off the beat"));
    }
    let missed = if missed > 0 {
        format!(", and you missed {missed}")
    } else {
        String::new()
    };
    let lean = match timing.mean_ms {
        Some(m) if m >= 0.5 => format!(" On average you were a little late ({m:.0} ms)."),
        Some(m) if m <= -0.5 => format!(" On average you were a little early ({:.0} ms).", -m),
        Some(_) => " On average you were right on the beat.".into(),
        None => String::new(),
    };
    format!(
        "You played {played} of {judged} notes: {}{missed}.{lean}",
        parts.join(", ")
    )
}

/// What the marks on a pupil's waveform mean, in words, each in its own colour.
pub fn legend_ui(ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        for (band, words) in [
            (Some(Band::Tight), "green: right with the beat"),
            (Some(Band::Good), "yellow: a little early or late"),
            (Some(Band::Loose), "orange: further off"),
            (None, "red box at the bottom: a note you missed"),
        ] {
            ui.colored_label(colour(band), format!("■ {words}"));
        }
    });
}

/// A pupil's track timing under its waveform: the marks, what they mean, and the
/// sentence in their words.
pub fn show_for_pupil(
    ui: &mut egui::Ui,
    rect: egui::Rect,
    timing: Option<&TrackTiming>,
    frames: u64,
) {
    if let Some(timing) = timing {
        paint(ui, rect, timing, frames);
        legend_ui(ui);
        ui.label(pupil_sentence(timing));
    }
}

/// The track's timing under its waveform: the marks and the sentence.
pub fn show(ui: &mut egui::Ui, rect: egui::Rect, timing: Option<&TrackTiming>, frames: u64) {
    if let Some(timing) = timing {
        paint(ui, rect, timing, frames);
        ui.label(egui::RichText::new(sentence(timing)).small());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_pool_their_players_without_naming_them() {
        let hit = |d: f64| NoteResult {
            expected_frame: 0,
            detected_frame: Some(0),
            deviation_ms: Some(d),
            status: "hit",
            section: 0,
        };
        let track = |part: &str, notes: Vec<NoteResult>| TrackTiming {
            part: part.into(),
            notes,
            bands: Bands::default(),
            mean_ms: None,
        };
        let tracks = [
            track("clapper 2", vec![hit(1.0), hit(40.0)]),
            track("clapper 1", vec![hit(1.0), hit(2.0)]),
            track("clapper 2", vec![hit(3.0), hit(-5.0)]),
        ];
        let players = [vec![1, 2, 3], vec![4, 5, 6, 7, 8], vec![9, 10]];
        let s = sections(tracks.iter().zip(players.iter().cloned()));
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].part.as_str(), s[0].tight_share), ("clapper 1", 1.0));
        assert_eq!((s[1].part.as_str(), s[1].tight_share), ("clapper 2", 0.75));
        assert_eq!(s[1].played_share, 1.0);
        // One pupil alone on a part (or four): no figure that is theirs.
        let few = [vec![1], vec![2, 3, 4, 5], vec![1]];
        assert!(sections(tracks.iter().zip(few.iter().cloned())).is_empty());
    }

    #[test]
    fn the_sentence_counts_every_band_and_the_misses() {
        let note = |deviation_ms: Option<f64>| NoteResult {
            expected_frame: 0,
            detected_frame: deviation_ms.map(|_| 0),
            deviation_ms,
            status: if deviation_ms.is_some() {
                "hit"
            } else {
                "miss"
            },
            section: 0,
        };
        let timing = TrackTiming {
            part: "clapper 1".into(),
            notes: vec![
                note(Some(3.0)),
                note(Some(-20.0)),
                note(Some(45.0)),
                note(Some(60.0)),
                note(None),
            ],
            bands: Bands::default(),
            mean_ms: Some(-2.4),
        };
        assert_eq!(
            sentence(&timing),
            "Timing of clapper 1: 4 of 5 notes — 1 tight, 1 good, 1 loose, 1 further out, 1 missed; 2.4 ms early on average"
        );
        assert_eq!(
            pupil_sentence(&timing),
            "You played 4 of 5 notes: 1 right with the beat, 2 a little early or late, 1 well off the beat, and you missed 1. On average you were a little early (2 ms)."
        );
    }

    #[test]
    fn notes_the_room_could_not_tell_apart_are_neither_played_nor_missed() {
        let note = |deviation_ms: Option<f64>, status: &'static str| NoteResult {
            expected_frame: 0,
            detected_frame: deviation_ms.map(|_| 0),
            deviation_ms,
            status,
            section: 0,
        };
        let unclear = crate::analysis::matching::UNCLEAR;
        let timing = TrackTiming {
            part: "clapper 2".into(),
            notes: vec![
                note(Some(3.0), "hit"),
                note(None, unclear),
                note(None, unclear),
                note(None, "miss"),
            ],
            bands: Bands::default(),
            mean_ms: Some(3.0),
        };
        assert_eq!(
            sentence(&timing),
            "Timing of clapper 2: 1 of 2 notes — 1 tight, 0 good, 0 loose, 1 missed; 3.0 ms late on average (2 more could not be told from a neighbour's: listen to them)"
        );
        assert!(
            pupil_sentence(&timing).starts_with("You played 1 of 2 notes"),
            "{}",
            pupil_sentence(&timing)
        );
    }
}
