//! What the benchmarks share: a busy band arrangement to load the engine with.

use bandroom::music::{
    Arrangement, Bpm, Meter, Note, Part, Section, Sound, TICKS_PER_QUARTER, TempoRange,
};

/// `parts` parts, every one playing every eighth for 10 000 bars at 120 BPM, cycling
/// through every built-in sound: more than any class plays at once.
pub fn busy_band(parts: usize) -> Arrangement {
    let bpm = Bpm::new(120.0).expect("120 BPM is a valid tempo");
    Arrangement {
        name: "bench".into(),
        title: "Bench".into(),
        composer: None,
        meter: Meter::new(4, 4).expect("4/4 is a valid meter"),
        tempo: TempoRange {
            default: bpm,
            practice_min: bpm,
            practice_max: bpm,
        },
        parts: (0..parts)
            .map(|i| Part {
                name: format!("part {i}"),
                sound: Sound::ALL[i % Sound::ALL.len()],
                instrument: Sound::ALL[i % Sound::ALL.len()].name().into(),
                tier: "core".into(),
                stem: None,
                gain: 0.5,
                pan: 0.0,
            })
            .collect(),
        sections: vec![Section {
            name: "A".into(),
            bars: 1,
            repeats: 10_000,
            tempo: None,
            tempo_changes: Vec::new(),
            notes: (0..parts)
                .map(|p| {
                    (0..8)
                        .map(|i| Note {
                            at_ticks: i * TICKS_PER_QUARTER / 2,
                            len_ticks: TICKS_PER_QUARTER / 2,
                            pitch: 48 + 5 * p as u8 + (i % 3) as u8,
                            velocity: 100,
                        })
                        .collect()
                })
                .collect(),
            chords: Vec::new(),
            grids: vec![None; parts],
            meter: None,
            pickup: false,
        }],
        tiers: vec!["core".into()],
    }
}
