//! Spill recognised from the room's other microphones. Every track of a take is on one
//! timeline to the sample, so a clap in pupil A's track that coincides with a much
//! stronger onset in pupil B's track (relative to what each track usually hears) is
//! B's clap heard by A's microphone, not A's. Two pupils clapping together are each
//! loud in their own microphone, so neither is taken for the other's spill.
//!
//! Must not detect onsets (`onsets` does) or judge timing (`matching` does).

/// How much later than at its source a clap may reach another microphone (sound
/// travels about 3.4 m in 10 ms; a classroom's microphones are within a few metres).
const TRAVEL_SECS: f64 = 0.015;

/// How much earlier it may seem to arrive (onsets are placed to a millisecond or two).
const EARLY_SECS: f64 = 0.003;

/// How much stronger, relative to each track's typical onset, the source microphone
/// hears a clap than the one it spills into (power ratio: 6 dB).
const SOURCE_MARGIN: f32 = 4.0;

/// A track's typical onset power: the upper quartile of its onsets.
fn typical(onsets: &[(u64, f32)]) -> f32 {
    let mut levels: Vec<f32> = onsets.iter().map(|(_, p)| *p).collect();
    levels.sort_by(f32::total_cmp);
    levels
        .get(levels.len() * 3 / 4)
        .copied()
        .filter(|t| *t > 0.0)
        .unwrap_or(1.0)
}

/// The track's own onsets, and how many were spill from the `room`'s tracks (onsets
/// with their power, all at `rate` on the same timeline).
pub fn without_spill(own: &[(u64, f32)], room: &[Vec<(u64, f32)>], rate: u32) -> (Vec<u64>, usize) {
    let late = (TRAVEL_SECS * f64::from(rate)) as u64;
    let early = (EARLY_SECS * f64::from(rate)) as u64;
    let own_typical = typical(own);
    let others: Vec<(f32, &[(u64, f32)])> =
        room.iter().map(|r| (typical(r), r.as_slice())).collect();
    let mut kept = Vec::with_capacity(own.len());
    let mut spill = 0;
    for &(at, power) in own {
        let mine = power / own_typical;
        let heard_first_elsewhere = others.iter().any(|(t, onsets)| {
            let from = onsets.partition_point(|(g, _)| *g + late < at);
            onsets
                .get(from..)
                .unwrap_or_default()
                .iter()
                .take_while(|(g, _)| *g <= at + early)
                .any(|(_, p)| p / t >= SOURCE_MARGIN * mine)
        });
        if heard_first_elsewhere {
            spill += 1;
        } else {
            kept.push(at);
        }
    }
    (kept, spill)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_neighbours_clap_is_spill_and_a_clap_together_is_not() {
        let rate = 48_000;
        // A claps at 1 s and 3 s; B at 2 s and 3 s (together with A). A's microphone
        // hears B's 2 s clap 5 ms late at -12 dB.
        let a = vec![(48_000, 1.0), (96_240, 0.06), (144_000, 1.0)];
        let b = vec![(96_000, 1.0), (144_100, 0.9)];
        let (kept, spill) = without_spill(&a, &[b], rate);
        assert_eq!(kept, [48_000, 144_000]);
        assert_eq!(spill, 1);
        let (alone, none) = without_spill(&a, &[], rate);
        assert_eq!(alone.len(), 3);
        assert_eq!(none, 0);
    }
}
