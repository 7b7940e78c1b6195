//! Writes an arrangement as an editable `.toml` (what `bandroom import` produces from a
//! MIDI file), in the format `toml_format` reads, so reading it back gives the same
//! parts, sections, tempi and notes.
//!
//! Notes are written as lists ("AT LENGTH PITCH VELOCITY", ticks at 960 a quarter), not
//! grids: imported music rarely sits on one grid. Must not decide tiers: every part is
//! written at the tier it has, for the teacher to change.

use super::arrangement::{Arrangement, DEFAULT_TIERS};
use super::time::{Bpm, pitch_name};
use std::fmt::Write;

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn bpm(value: Bpm) -> String {
    let text = format!("{:.3}", value.as_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub fn arrangement_to_toml(arrangement: &Arrangement, source: &str) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "# Imported from {source} by `bandroom import`.\n\
         # Set each part's tier (starter, core or stretch) and, if you like, its sound;\n\
         # then `bandroom render` this file. Note times and lengths are in ticks, 960 to a\n\
         # quarter note: \"AT LENGTH PITCH VELOCITY\"."
    );
    let _ = writeln!(out, "title = {}", quoted(&arrangement.title));
    if let Some(composer) = &arrangement.composer {
        let _ = writeln!(out, "composer = {}", quoted(composer));
    }
    let _ = writeln!(out, "meter = {}", quoted(&arrangement.meter.to_string()));
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
        if let Some(tempo) = section.tempo {
            let _ = writeln!(out, "tempo = {}", bpm(tempo));
        }
        if !section.tempo_changes.is_empty() {
            let changes: Vec<String> = section
                .tempo_changes
                .iter()
                .map(|(at, b)| quoted(&format!("{at} {}", bpm(*b))))
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
                    n.at_ticks,
                    n.len_ticks,
                    pitch_name(n.pitch),
                    n.velocity
                );
            }
            let _ = writeln!(out, "]");
        }
    }
    out
}
