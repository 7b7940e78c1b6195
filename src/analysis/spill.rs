//! Which bursts a microphone heard are its own player's, found from the room's other
//! microphones. Every track of a take is on one timeline to the sample, and the
//! pupils sit still: the neighbour's claps reach this microphone a fixed time after
//! they reach the neighbour's, a fixed number of dB quieter (as recorded, so the two
//! inputs' gains are part of it). That lag and that loss are measured from the take itself
//! (the commonest lag between the two tracks' bursts); a burst that arrives at that lag
//! after one of the neighbour's, and no louder than the loss allows, is the neighbour's
//! (spill). A pupil's own clap played together with the neighbour's is kept: it is
//! at no fixed lag and as loud as the neighbour's own. A burst another microphone heard
//! far louder is that microphone's; a quiet burst every microphone hears alike (a
//! woodblock in the corner, a classmate's tapping) is nobody's. What is left is grouped
//! into claps, so a pupil's clap 30 ms after a neighbour's is never merged into it.
//!
//! Must not detect onsets (`onsets` does) or judge timing (`matching` does).

use super::onsets::{OnsetSettings, one_per_clap};

/// How far apart in time one sound can reach two microphones (sound travels about
/// 5 m in 15 ms; a classroom's microphones are within a few metres).
const TRAVEL_SECS: f64 = 0.015;

/// The width of the lag histogram's bins, and how far from the measured lag a spilled
/// burst may arrive (bursts are placed to a fraction of a millisecond).
const LAG_BIN_SECS: f64 = 0.000_25;
const LAG_TOLERANCE_SECS: f64 = 0.000_5;

/// How many bursts (at least, and as a share of the fewer track's) must arrive at one
/// lag for it to be the neighbour's spill rather than chance.
const LEAST_AT_ONE_LAG: usize = 4;
const SHARE_AT_ONE_LAG: f64 = 0.2;

/// Spill is quieter where it spills to: a lag whose bursts lose less than this (dB) is
/// two microphones hearing one sound (a shared mix, a loopback), not a neighbour.
const LEAST_LOSS_DB: f32 = 2.0;

/// How much louder than the measured loss a burst at the spill's lag may be and still
/// be spill (the loss varies clap by clap with the room's reflections).
const LOSS_MARGIN_DB: f32 = 3.0;

/// However it arrived, a burst another microphone heard this much louder (dB,
/// relative to each track's typical burst) is that microphone's.
const MUCH_LOUDER_DB: f32 = 6.0;

/// Two tracks hear the same sound when this share of one's clear bursts (within 6 dB
/// of its typical burst) is in the other at the same moment, within the lag tolerance.
/// Two microphones a desk apart never do (the neighbour's claps arrive a millisecond or
/// more later: under 5 % of bursts coincide in the simulated classrooms); one sound on
/// two inputs always does (85 % and more, however the inputs' levels wander).
const SAME_SOUND_SHARE: f64 = 0.6;
const CLEAR_BURST_DB: f32 = -6.0;

/// How much later than this microphone another may hear a burst and still be nearer
/// its source, as placed in noise.
const LATER_SECS: f64 = 0.003;

/// A burst this far (dB) under the track's typical burst, heard within this of alike
/// by every other microphone, is nobody's: a player far from every microphone.
const FAR_FROM_EVERYONE_DB: f32 = -6.0;
const ALIKE_DB: f32 = 6.0;

/// A burst taken for another microphone's by less than this (dB, relative to each
/// track's typical burst) may still have been this player's: a note missed only for
/// it is left unclear, never called a miss.
const SURE_SPILL_DB: f32 = 9.0;

/// A burst this far (dB) under the track's typical burst that no other microphone
/// heard at all is the room's, not the player's: a woodblock's tap lost under another
/// microphone's clap, a late reflection of the neighbour's. (A pupil's own clap is
/// rarely this soft at their own microphone: 6 dB covers 95 % of real claps.)
const UNCONFIRMED_DB: f32 = -8.0;

/// What the room made of a track's bursts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OwnClaps {
    /// The player's own claps (their first bursts), in order.
    pub claps: Vec<u64>,
    /// Bursts that were the other microphones' players.
    pub spill: usize,
    /// Bursts every microphone heard alike, far from all of them, and faint ones no
    /// other microphone heard.
    pub nobodys: usize,
    /// The room's tracks (by index) that hear the same sound as this one, burst for
    /// burst (two inputs on one microphone, or a mix): they cannot tell whose a clap
    /// is, so they were not used.
    pub same_sound: Vec<usize>,
    /// Bursts the room could not place with confidence (a spill only a few dB louder
    /// elsewhere, a faint burst just before a clap): a note with one of these near it
    /// and no clap is unclear, not missed. In order.
    pub doubtful: Vec<u64>,
    /// The room's tracks (by index) whose claps this one's could not be told from at
    /// some burst (a spill only a few dB under the neighbour's own).
    pub unsure_of: Vec<usize>,
}

/// A track's bursts with the track's typical burst power (the upper quartile), so
/// levels compare across microphones whose gains differ.
struct Heard<'a> {
    bursts: &'a [(u64, f32)],
    typical: f32,
}

impl<'a> Heard<'a> {
    fn new(bursts: &'a [(u64, f32)]) -> Self {
        let mut levels: Vec<f32> = bursts.iter().map(|(_, p)| *p).collect();
        levels.sort_by(f32::total_cmp);
        let typical = levels
            .get(levels.len() * 3 / 4)
            .copied()
            .filter(|t| *t > 0.0)
            .unwrap_or(1.0);
        Heard { bursts, typical }
    }

    /// dB relative to the track's typical burst.
    fn relative_db(&self, power: f32) -> f32 {
        10.0 * (power.max(f32::MIN_POSITIVE) / self.typical).log10()
    }

    /// The burst nearest `at` within `reach` frames, as (frames after `at`, dB
    /// relative to this track's typical burst).
    fn nearest(&self, at: u64, reach: u64) -> Option<(i64, f32)> {
        self.around(at as i64, reach as i64)
            .iter()
            .min_by_key(|(g, _)| g.abs_diff(at))
            .map(|&(g, p)| (g as i64 - at as i64, self.relative_db(p)))
    }

    /// The bursts within `reach` frames of `at` (bursts are in order, so two binary
    /// searches find them).
    fn around(&self, at: i64, reach: i64) -> &'a [(u64, f32)] {
        let from = self
            .bursts
            .partition_point(|(g, _)| (*g as i64) < at - reach);
        let to = self
            .bursts
            .partition_point(|(g, _)| (*g as i64) <= at + reach);
        self.bursts.get(from..to.max(from)).unwrap_or_default()
    }
}

/// Whether `there` heard `here`'s clear bursts at the same moments.
fn same_sound(here: &Heard, there: &Heard, tolerance: i64) -> bool {
    let clear: Vec<u64> = here
        .bursts
        .iter()
        .filter(|(_, p)| here.relative_db(*p) >= CLEAR_BURST_DB)
        .map(|(at, _)| *at)
        .collect();
    if clear.is_empty() {
        return false;
    }
    let alike = clear
        .iter()
        .filter(|&&at| !there.around(at as i64, tolerance).is_empty())
        .count();
    alike as f64 >= SAME_SOUND_SHARE * clear.len() as f64
}

/// Power in dB.
fn db(power: f32) -> f32 {
    10.0 * power.max(f32::MIN_POSITIVE).log10()
}

/// How the neighbour's claps reach this microphone: frames after they reach the
/// neighbour's, and dB lost on the way (as recorded: the two inputs' gains are part of
/// the loss, which is measured, so they need not match).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Coupling {
    lag: i64,
    loss_db: f32,
}

/// The commonest lag at which `here`'s bursts follow `there`'s (within `reach`
/// frames), with the median loss at it; nothing when no lag stands out or the bursts
/// at it lose too little to be spill.
fn coupling(here: &Heard, there: &Heard, reach: u64, rate: u32) -> Option<Coupling> {
    let bin = ((LAG_BIN_SECS * f64::from(rate)) as i64).max(1);
    let mut pairs: Vec<(i64, f32)> = Vec::new();
    for &(at, power) in here.bursts {
        let from = there.bursts.partition_point(|(g, _)| *g + reach < at);
        for &(g, p) in there.bursts.get(from..).unwrap_or_default() {
            if g >= at {
                break;
            }
            pairs.push((at as i64 - g as i64, db(power) - db(p)));
        }
    }
    let bins = (reach as i64 / bin + 2) as usize;
    let mut counts = vec![0usize; bins];
    for (lag, _) in &pairs {
        counts[(*lag / bin) as usize] += 1;
    }
    let around = |b: usize| {
        counts[b.saturating_sub(1)..(b + 2).min(bins)]
            .iter()
            .sum::<usize>()
    };
    let best = (0..bins).max_by_key(|b| around(*b))?;
    let fewer = here.bursts.len().min(there.bursts.len());
    let least = LEAST_AT_ONE_LAG.max((SHARE_AT_ONE_LAG * fewer as f64) as usize);
    if around(best) < least {
        return None;
    }
    let lag = best as i64 * bin + bin / 2;
    let mut losses: Vec<f32> = pairs
        .iter()
        .filter(|(l, _)| (l - lag).abs() <= bin * 3 / 2)
        .map(|(_, d)| *d)
        .collect();
    losses.sort_by(f32::total_cmp);
    let loss_db = *losses.get(losses.len() / 2)?;
    (loss_db <= -LEAST_LOSS_DB).then_some(Coupling { lag, loss_db })
}

/// Whether the burst at `at` (`power_db`) arrived at the coupling's lag after one of
/// `there`'s, no louder than the coupling's loss allows; and whether that is sure.
fn spilled(
    at: u64,
    power_db: f32,
    there: &Heard,
    coupling: Coupling,
    tolerance: i64,
) -> Option<bool> {
    there
        .around(at as i64 - coupling.lag, tolerance)
        .iter()
        .map(|(_, p)| power_db - db(*p))
        .filter(|d| *d <= coupling.loss_db + LOSS_MARGIN_DB)
        .map(|d| d <= coupling.loss_db)
        .reduce(|a, b| a || b)
}

/// Whose a burst is, as one other microphone sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Verdict {
    Mine,
    Theirs,
    FarFromBoth,
}

/// The verdict from the nearest burst the other microphone heard, and whether it is
/// sure.
fn verdict(mine_db: f32, theirs: Option<(i64, f32)>, rate: u32) -> (Verdict, bool) {
    let Some((after, theirs_db)) = theirs else {
        return (Verdict::Mine, true);
    };
    let louder_here = mine_db - theirs_db;
    // Sound reaches the nearer microphone first: a louder burst the other microphone
    // heard well after this one is not where this one came from (a few milliseconds
    // are allowed: bursts in noise are placed a little early or late).
    let later = (LATER_SECS * f64::from(rate)) as i64;
    if louder_here <= -MUCH_LOUDER_DB && after <= later {
        (Verdict::Theirs, louder_here <= -SURE_SPILL_DB)
    } else if mine_db < FAR_FROM_EVERYONE_DB && louder_here.abs() < ALIKE_DB {
        (Verdict::FarFromBoth, true)
    } else {
        (Verdict::Mine, true)
    }
}

/// The track's own claps from its `own` bursts and the `room`'s tracks' bursts (each
/// with its power, all at `rate` on the same timeline; see `onsets::detect_bursts`).
pub fn own_claps<R: AsRef<[(u64, f32)]>>(
    own: &[(u64, f32)],
    room: &[R],
    rate: u32,
    settings: OnsetSettings,
) -> OwnClaps {
    let reach = (TRAVEL_SECS * f64::from(rate)) as u64;
    let tolerance = (LAG_TOLERANCE_SECS * f64::from(rate)).ceil() as i64;
    let here = Heard::new(own);
    let heard: Vec<Heard> = room.iter().map(|r| Heard::new(r.as_ref())).collect();
    let same_sound: Vec<usize> = (0..heard.len())
        .filter(|i| same_sound(&here, &heard[*i], tolerance))
        .collect();
    // The room's tracks that can tell, and where each is in `room`.
    let (others_at, others): (Vec<usize>, Vec<Heard>) = heard
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !same_sound.contains(i))
        .unzip();
    let mut unsure_of: Vec<usize> = Vec::new();
    let couplings: Vec<Option<Coupling>> = others
        .iter()
        .map(|o| coupling(&here, o, reach, rate))
        .collect();
    let mut kept = Vec::with_capacity(own.len());
    let mut doubtful = Vec::new();
    let (mut spill, mut nobodys) = (0, 0);
    for &(at, power) in own {
        let mine_db = here.relative_db(power);
        let nearest: Vec<Option<(i64, f32)>> =
            others.iter().map(|o| o.nearest(at, reach)).collect();
        let verdicts: Vec<(Verdict, bool)> = nearest
            .iter()
            .zip(others.iter().zip(&couplings))
            .map(
                |(n, (o, c))| match c.and_then(|c| spilled(at, db(power), o, c, tolerance)) {
                    Some(sure) => (Verdict::Theirs, sure),
                    None => verdict(mine_db, *n, rate),
                },
            )
            .collect();
        let unconfirmed =
            !nearest.is_empty() && nearest.iter().all(Option::is_none) && mine_db < UNCONFIRMED_DB;
        if let Some((i, (_, sure))) = verdicts
            .iter()
            .enumerate()
            .find(|(_, (v, _))| *v == Verdict::Theirs)
        {
            spill += 1;
            if !sure {
                doubtful.push(at);
                if !unsure_of.contains(&others_at[i]) {
                    unsure_of.push(others_at[i]);
                }
            }
        } else if unconfirmed {
            nobodys += 1;
            doubtful.push(at);
        } else if !verdicts.is_empty() && verdicts.iter().all(|(v, _)| *v == Verdict::FarFromBoth) {
            nobodys += 1;
        } else {
            kept.push((at, power));
        }
    }
    let claps: Vec<u64> = one_per_clap(&kept, rate, settings)
        .into_iter()
        .map(|(at, _)| at)
        .collect();
    // A faint burst just before a clap's start was not taken for its start: it may
    // have been.
    let span = (settings.clap_span_secs * f64::from(rate)) as u64;
    doubtful.extend(kept.iter().map(|(at, _)| *at).filter(|at| {
        let next = claps.partition_point(|c| c < at);
        claps.get(next).is_some_and(|c| c > at && c - at < span)
    }));
    doubtful.sort_unstable();
    unsure_of.sort_unstable();
    OwnClaps {
        claps,
        spill,
        nobodys,
        same_sound,
        doubtful,
        unsure_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Bursts = Vec<(u64, f32)>;

    const RATE: u32 = 48_000;
    /// The neighbour's claps reach A's microphone 3 ms after B's, 12 dB quieter.
    const LAG: u64 = 144;
    const LOSS: f32 = 0.063;

    /// B claps every second from 1 s; A between them, and together with B at 4 s, 7 s
    /// and 10 s (2 ms later than B, as loud as B). Returns A's bursts, B's, and A's own.
    fn pair() -> (Bursts, Bursts, Vec<u64>) {
        let mut a: Vec<(u64, f32)> = Vec::new();
        let mut b: Vec<(u64, f32)> = Vec::new();
        let mut own = Vec::new();
        for second in 1..=10u64 {
            let at = second * 48_000;
            b.push((at, 1.0));
            a.push((at + LAG, LOSS));
            let mine = if second % 3 == 1 && second > 1 {
                at + 96
            } else {
                at + 24_000
            };
            own.push(mine);
            b.push((mine + LAG, LOSS));
        }
        for &at in &own {
            a.push((at, 0.9));
        }
        a.sort_by_key(|(at, _)| *at);
        b.sort_by_key(|(at, _)| *at);
        (a, b, own)
    }

    #[test]
    fn the_neighbours_claps_at_the_rooms_lag_are_spill_and_claps_together_are_not() {
        let (a, b, own) = pair();
        let s = OnsetSettings::default();
        let heard = own_claps(&a, std::slice::from_ref(&b), RATE, s);
        assert_eq!(
            heard.claps, own,
            "A keeps every clap, the three played with B too"
        );
        assert_eq!(heard.spill, 10);
        let b_heard = own_claps(&b, std::slice::from_ref(&a), RATE, s);
        assert_eq!(b_heard.claps.len(), 10, "{:?}", b_heard.claps);
        let alone = own_claps::<Bursts>(&a, &[], RATE, s);
        assert_eq!(alone.spill, 0);
        assert!(alone.claps.len() > heard.claps.len());
    }

    #[test]
    fn a_pupils_clap_just_after_the_neighbours_is_theirs_not_merged_into_the_spill() {
        let (mut a, mut b, mut own) = pair();
        // At 11 s B claps and A claps 30 ms later: A's microphone hears B's clap 3 ms
        // after B's, then A's own.
        let at = 11 * 48_000;
        b.push((at, 1.0));
        a.push((at + LAG, LOSS));
        a.push((at + 1_440, 1.0));
        b.push((at + 1_440 + LAG, LOSS));
        own.push(at + 1_440);
        let heard = own_claps(&a, &[b], RATE, OnsetSettings::default());
        assert_eq!(heard.claps, own);
    }

    #[test]
    fn spill_a_little_louder_than_the_rooms_loss_is_doubtful_and_far_louder_is_the_players() {
        let (mut a, b, _) = pair();
        // A's microphone hears B's 5 s clap 2 dB louder than the room's loss, and its
        // 6 s clap 9 dB louder (as loud as A's own claps: A clapped with B).
        for (second, gain) in [(5u64, 1.6f32), (6, 8.0)] {
            let burst = a
                .iter_mut()
                .find(|(at, _)| *at == second * 48_000 + LAG)
                .unwrap();
            burst.1 *= gain;
        }
        let heard = own_claps(&a, &[b], RATE, OnsetSettings::default());
        assert_eq!(heard.doubtful, [5 * 48_000 + LAG]);
        assert_eq!(heard.unsure_of, [0]);
        assert!(heard.claps.contains(&(6 * 48_000 + LAG)));
        assert!(!heard.claps.contains(&(5 * 48_000 + LAG)));
    }

    #[test]
    fn two_inputs_that_hear_one_sound_are_not_used_to_tell_claps_apart() {
        let (a, _, _) = pair();
        let heard = own_claps(&a, std::slice::from_ref(&a), RATE, OnsetSettings::default());
        assert_eq!(heard.same_sound, [0]);
        assert_eq!(heard.spill + heard.nobodys, 0);
    }

    #[test]
    fn a_woodblock_far_from_every_microphone_is_nobodys() {
        let rate = 48_000;
        // Each pupil claps at their own times; a woodblock at 1.5 s reaches both
        // microphones quietly, 1 ms apart, within 2 dB.
        let a = vec![(48_000, 1.0), (72_000, 0.1), (96_000, 1.0)];
        let b = vec![(60_000, 1.0), (72_048, 0.08), (108_000, 1.0)];
        let heard = own_claps(&a, &[b], rate, OnsetSettings::default());
        assert_eq!(heard.claps, [48_000, 96_000]);
        assert_eq!(heard.nobodys, 1);
    }
}
