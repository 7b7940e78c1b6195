//! The built-in repertoire: every piece loads, renders the same at every block size,
//! has parts at every tier it declares, and the whole-class band pieces give every
//! instrument family a part at every tier, with what pupils read on screen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bandroom::audio::offline::{RenderSettings, render};
use bandroom::engine::{Engine, EngineConfig, Score, ScoreOptions};
use bandroom::music::{Arrangement, BUILT_INS, Family};
use std::collections::HashSet;

fn built_in(name: &str) -> Arrangement {
    BUILT_INS
        .iter()
        .find(|b| b.name == name)
        .unwrap()
        .load()
        .unwrap()
}

/// The mix of one pass through `arrangement` at 16 kHz, and its peak.
fn mix(arrangement: &Arrangement, block: usize) -> (Vec<f32>, f32) {
    let (engine, handle) = Engine::new(
        Score::new(arrangement, ScoreOptions::default()),
        EngineConfig {
            sample_rate_hz: 16_000,
            ..EngineConfig::default()
        },
    )
    .unwrap();
    let mut out = Vec::new();
    let summary = render(
        engine,
        &handle,
        RenderSettings {
            block_frames: block,
            tail_frames: 8_000,
        },
        |b| {
            out.extend_from_slice(b.mix);
            Ok::<(), ()>(())
        },
    )
    .unwrap();
    (out, summary.peak)
}

#[test]
fn every_built_in_renders_identically_at_any_block_size_with_every_declared_tier() {
    for builtin in BUILT_INS {
        let mut arrangement = builtin.load().unwrap();
        arrangement.set_repeats(1);
        let tiers: HashSet<&str> = arrangement.parts.iter().map(|p| p.tier.as_str()).collect();
        for tier in &arrangement.tiers {
            assert!(
                tiers.contains(tier.as_str()),
                "{}: no part at tier {tier}",
                builtin.name
            );
        }
        for part in &arrangement.parts {
            assert!(
                arrangement.tiers.contains(&part.tier),
                "{}: {}",
                builtin.name,
                part.name
            );
        }
        let (a, peak) = mix(&arrangement, 37);
        let (b, _) = mix(&arrangement, 1024);
        assert!(
            a == b,
            "{}: the mix depends on the block size",
            builtin.name
        );
        assert!(peak > 0.05, "{}: silent ({peak})", builtin.name);
        assert!(peak < 1.0, "{}: clips (peak {peak})", builtin.name);
    }
}

#[test]
fn band_pieces_give_every_family_a_part_at_every_tier() {
    for name in ["drunken-sailor", "bandroom-blues"] {
        let arrangement = built_in(name);
        for family in Family::ALL {
            for tier in &arrangement.tiers {
                assert!(
                    arrangement
                        .parts
                        .iter()
                        .any(|p| p.family() == family && &p.tier == tier),
                    "{name}: no {} part at tier {tier}",
                    family.name()
                );
            }
        }
        for section in &arrangement.sections {
            assert_eq!(
                section.chords.len(),
                section.bars as usize,
                "{name}: {}",
                section.name
            );
            for (part, notes) in arrangement.parts.iter().zip(&section.notes) {
                let grid = &section.grids[arrangement.part_index(&part.name).unwrap()];
                assert_eq!(
                    grid.is_some(),
                    !notes.is_empty(),
                    "{name}/{}: {} plays without a grid to read, or has a grid and no notes",
                    section.name,
                    part.name
                );
            }
        }
    }
}

#[test]
fn starter_parts_are_simpler_than_stretch_parts() {
    for name in ["drunken-sailor", "bandroom-blues"] {
        let arrangement = built_in(name);
        let song = arrangement.sections.iter().max_by_key(|s| s.bars).unwrap();
        for family in Family::ALL {
            let onsets = |tier: &str| {
                let index = arrangement
                    .parts
                    .iter()
                    .position(|p| p.family() == family && p.tier == tier)
                    .unwrap();
                song.notes[index]
                    .iter()
                    .map(|n| n.at_ticks)
                    .collect::<HashSet<_>>()
                    .len()
            };
            assert!(
                onsets("starter") < onsets("stretch"),
                "{name}: {} starter plays {} onsets, stretch {}",
                family.name(),
                onsets("starter"),
                onsets("stretch")
            );
        }
    }
}
