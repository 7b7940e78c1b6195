//! Writes an arrangement as an editable `.toml` (what `bandroom import` produces from a
//! MIDI file), in the format `toml_format` reads, so reading it back gives the same
//! parts, sections, tempi and notes.
//!
//! Notes are written as lists ("AT LENGTH PITCH VELOCITY", ticks at 960 a quarter, or
//! at the MIDI file's own resolution when 960 would round), not grids: imported music
//! rarely sits on one grid. A tempo that is no whole milli-BPM is written as the
//! file's microseconds per quarter, so nothing is rounded on the way. Must not decide tiers: every part is
//! written at the tier it has, for the teacher to change.

use super::arrangement::{Arrangement, DEFAULT_TIERS};
use super::time::{Bpm, FILE_TICKS_PER_QUARTER, TICKS_PER_QUARTER, pitch_name};
use std::fmt::Write;

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn bpm(value: Bpm) -> String {
    let text = format!("{:.3}", value.as_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A tempo as the file keeps it exactly: BPM when it is whole milli-BPM, else the
/// microseconds per quarter a MIDI file gave ("461538 us").
fn exact_tempo(value: Bpm) -> String {
    match value.micros_per_quarter() {
        Some(micros) if !value.is_whole_milli() => format!("{micros} us"),
        _ => bpm(value),
    }
}

/// The coarsest ticks per quarter that writes every time in `arrangement` as a whole
/// number: 960 when that will do (what older files use), else the finest needed.
fn file_ticks_per_quarter(arrangement: &Arrangement) -> u64 {
    let gcd = |mut a: u64, mut b: u64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let step = arrangement
        .sections
        .iter()
        .flat_map(|s| {
            s.notes
                .iter()
                .flatten()
                .flat_map(|n| [n.at_ticks, n.len_ticks])
                .chain(s.tempo_changes.iter().map(|(at, _)| *at))
        })
        .fold(TICKS_PER_QUARTER, gcd);
    let coarsest = TICKS_PER_QUARTER / step.max(1);
    if FILE_TICKS_PER_QUARTER.is_multiple_of(coarsest) {
        FILE_TICKS_PER_QUARTER
    } else {
        coarsest
    }
}

pub fn arrangement_to_toml(arrangement: &Arrangement, source: &str) -> String {
    let mut out = String::new();
    let per_quarter = file_ticks_per_quarter(arrangement);
    let unit = TICKS_PER_QUARTER / per_quarter;
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "# Imported from {source} by `bandroom import`.\n\
         # Set each part's tier (starter, core or stretch) and, if you like, its sound;\n\
         # then `bandroom render` this file. Note times and lengths are in ticks, {per_quarter} to a\n\
         # quarter note: \"AT LENGTH PITCH VELOCITY\"."
    );
    let _ = writeln!(out, "title = {}", quoted(&arrangement.title));
    if let Some(composer) = &arrangement.composer {
        let _ = writeln!(out, "composer = {}", quoted(composer));
    }
    let _ = writeln!(out, "meter = {}", quoted(&arrangement.meter.to_string()));
    if per_quarter != FILE_TICKS_PER_QUARTER {
        let _ = writeln!(out, "ticks_per_quarter = {per_quarter}");
    }
    // The usual tier names need no list (and leave the teacher free to use all three).
    if arrangement
        .tiers
        .iter()
        .any(|t| !DEFAULT_TIERS.contains(&t.as_str()))
    {
        let tiers: Vec<String> = arrangement.tiers.iter().map(|t| quoted(t)).collect();
        let _ = writeln!(out, "tiers = [{}]", tiers.join(", "));
    }
    let _ = writeln!(
        out,
        "\n[tempo]\nbpm = {}\npractice = [{}, {}]",
        bpm(arrangement.tempo.default),
        bpm(arrangement.tempo.practice_min),
        bpm(arrangement.tempo.practice_max)
    );
    for part in &arrangement.parts {
        let _ = writeln!(
            out,
            "\n[[part]]\nname = {}\ninstrument = {}\nsound = {}\ntier = {}",
            quoted(&part.name),
            quoted(&part.instrument),
            quoted(part.sound.name()),
            quoted(&part.tier)
        );
        if part.gain != 1.0 {
            let _ = writeln!(out, "gain = {}", part.gain);
        }
        if part.pan != 0.0 {
            let _ = writeln!(out, "pan = {}", part.pan);
        }
    }
    for section in &arrangement.sections {
        let _ = writeln!(
            out,
            "\n[[section]]\nname = {}\nbars = {}",
            quoted(&section.name),
            section.bars
        );
        if section.repeats != 1 {
            let _ = writeln!(out, "repeats = {}", section.repeats);
        }
        if section.pickup {
            let _ = writeln!(out, "pickup = true");
        }
        if let Some(meter) = section.meter {
            let _ = writeln!(out, "meter = {}", quoted(&meter.to_string()));
        }
        if let Some(tempo) = section.tempo {
            let exact = exact_tempo(tempo);
            if exact.ends_with("us") {
                let _ = writeln!(out, "tempo = {}", quoted(&exact));
            } else {
                let _ = writeln!(out, "tempo = {exact}");
            }
        }
        if !section.tempo_changes.is_empty() {
            let changes: Vec<String> = section
                .tempo_changes
                .iter()
                .map(|(at, b)| quoted(&format!("{} {}", at / unit, exact_tempo(*b))))
                .collect();
            let _ = writeln!(out, "tempo_changes = [{}]", changes.join(", "));
        }
        if !section.chords.is_empty() {
            let _ = writeln!(out, "chords = {}", quoted(&section.chords.join(" | ")));
        }
        for (part, notes) in arrangement.parts.iter().zip(&section.notes) {
            if notes.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "\n[[section.play]]\npart = {}\nnotes = [",
                quoted(&part.name)
            );
            for n in notes {
                let _ = writeln!(
                    out,
                    "  \"{} {} {} {}\",",
                    n.at_ticks / unit,
                    n.len_ticks / unit,
                    pitch_name(n.pitch),
                    n.velocity
                );
            }
            let _ = writeln!(out, "]");
        }
    }
    out
}
