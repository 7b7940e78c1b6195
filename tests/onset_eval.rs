//! The onset detector's evaluation set, generated here (no hand-tuned files): clap-like,
//! woodblock-like, plucked and keyboard sounds; onsets jittered from a normal
//! distribution; missed and extra notes; background noise at 30, 20 and 10 dB SNR;
//! reverb; spill from a second part; tempos from 60 to 200 BPM; and a pair of
//! microphones that hear each other (delayed, attenuated, room-dulled), for spill told
//! apart with the take's other microphone.
//!
//! Targets on the clean-to-moderate set: median absolute onset error ≤ 2 ms, p95 ≤ 5 ms,
//! F ≥ 0.95 at ±50 ms. The hard set (10 dB SNR, long reverb, loud spill) is reported
//! and held to a looser floor, so a regression there still fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bandroom::analysis::onsets::{OnsetSettings, detect};

const RATE: u32 = 48_000;

/// xorshift64*: the same evaluation set every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn noise(&mut self) -> f32 {
        (self.next() * 2.0 - 1.0) as f32
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Clap,
    Woodblock,
    Pluck,
    Keys,
}

/// Adds one note of `kind` starting exactly at sample `at`.
fn strike(out: &mut [f32], at: usize, kind: Kind, level: f32, rng: &mut Rng) {
    let sr = RATE as f32;
    let (len, attack) = match kind {
        Kind::Clap => (0.12, 0.0005),
        Kind::Woodblock => (0.15, 0.0005),
        Kind::Pluck => (0.6, 0.002),
        Kind::Keys => (0.8, 0.004),
    };
    let pitch = 110.0 * 2f32.powf((rng.next() * 24.0).floor() as f32 / 12.0);
    for i in 0..(len * sr) as usize {
        let Some(o) = out.get_mut(at + i) else { break };
        let t = i as f32 / sr;
        // A 20 ms release, so the end of a note is not a click of its own.
        let release = ((len - t) / 0.02).min(1.0);
        let ramp = (t / attack).min(1.0) * release;
        let tone = |f: f32, k: f32| (std::f32::consts::TAU * f * k * t).sin() / k;
        let sample = match kind {
            Kind::Clap => rng.noise() * (-t / 0.012).exp(),
            Kind::Woodblock => tone(1200.0, 1.0) * (-t / 0.03).exp(),
            Kind::Pluck => {
                (1..6).map(|k| tone(pitch, k as f32)).sum::<f32>() * (-t / 0.15).exp() * 0.5
            }
            Kind::Keys => {
                (1..4).map(|k| tone(pitch * 2.0, k as f32)).sum::<f32>() * (-t / 0.4).exp() * 0.5
            }
        };
        *o += sample * ramp * level;
    }
}

/// A Schroeder reverb (four combs, two all-passes) mixed in at `wet`.
fn reverb(x: &[f32], seconds: f32, wet: f32) -> Vec<f32> {
    let combs = [1557usize, 1617, 1491, 1422].map(|d| d * 2);
    let mut out = x.to_vec();
    let mut tail = vec![0.0f32; x.len()];
    for d in combs {
        let g = 10f32.powf(-3.0 * d as f32 / (seconds * RATE as f32));
        let mut buf = vec![0.0f32; x.len()];
        for n in 0..x.len() {
            buf[n] = x[n] + if n >= d { g * buf[n - d] } else { 0.0 };
            tail[n] += buf[n] * 0.25;
        }
    }
    for d in [225usize, 556] {
        let g = 0.5;
        let input = tail.clone();
        for n in 0..x.len() {
            let delayed = if n >= d { tail[n - d] } else { 0.0 };
            tail[n] = -g * input[n] + if n >= d { input[n - d] } else { 0.0 } + g * delayed;
        }
    }
    for (o, t) in out.iter_mut().zip(tail) {
        *o += t * wet;
    }
    out
}

struct Condition {
    name: &'static str,
    snr_db: Option<f32>,
    reverb: Option<(f32, f32)>,
    spill_db: Option<f32>,
}

/// A track: true onsets (samples) and the audio.
fn track(kind: Kind, bpm: f64, condition: &Condition, seed: u64) -> (Vec<u64>, Vec<f32>) {
    let mut rng = Rng(seed | 1);
    let eighth = 60.0 / bpm / 2.0;
    let pattern = [1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0];
    let steps = 48;
    let secs = 0.5 + eighth * steps as f64 + 1.0;
    let mut audio = vec![0.0f32; (secs * f64::from(RATE)) as usize];
    let mut truth = Vec::new();
    for step in 0..steps {
        if pattern[step % 12] == 0 || rng.next() < 0.05 {
            continue; // a rest, or a missed note
        }
        let at = 0.5 + step as f64 * eighth + rng.normal() * 0.010;
        let sample = (at * f64::from(RATE)) as usize;
        truth.push(sample as u64);
        strike(
            &mut audio,
            sample,
            kind,
            0.3 + 0.2 * rng.next() as f32,
            &mut rng,
        );
    }
    // Extra notes, well clear of the others.
    for _ in 0..2 {
        let at = 0.5 + rng.next() * eighth * (steps - 1) as f64;
        let sample = (at * f64::from(RATE)) as usize;
        if truth
            .iter()
            .all(|t| t.abs_diff(sample as u64) > (0.08 * f64::from(RATE)) as u64)
        {
            truth.push(sample as u64);
            strike(&mut audio, sample, kind, 0.35, &mut rng);
        }
    }
    truth.sort_unstable();
    if let Some(spill_db) = condition.spill_db {
        let level = 0.4 * 10f32.powf(spill_db / 20.0);
        for step in 0..steps {
            if pattern[(step + 5) % 12] == 1 {
                let at = 0.5 + step as f64 * eighth + rng.normal() * 0.010;
                strike(
                    &mut audio,
                    (at * f64::from(RATE)) as usize,
                    Kind::Clap,
                    level,
                    &mut rng,
                );
            }
        }
    }
    if let Some((seconds, wet)) = condition.reverb {
        audio = reverb(&audio, seconds, wet);
    }
    if let Some(snr) = condition.snr_db {
        let rms = (audio.iter().map(|x| x * x).sum::<f32>() / audio.len() as f32).sqrt();
        let noise = rms * 10f32.powf(-snr / 20.0) * 3f32.sqrt();
        for x in &mut audio {
            *x += rng.noise() * noise;
        }
    }
    (truth, audio)
}

#[derive(Default)]
struct Score {
    tp: usize,
    fp: usize,
    fn_: usize,
    errors_ms: Vec<f64>,
}

impl Score {
    fn add(&mut self, truth: &[u64], found: &[u64]) {
        let window = (0.05 * f64::from(RATE)) as u64;
        let mut used = vec![false; found.len()];
        for t in truth {
            let best = found
                .iter()
                .enumerate()
                .filter(|(i, f)| !used[*i] && f.abs_diff(*t) <= window)
                .min_by_key(|(_, f)| f.abs_diff(*t));
            match best {
                Some((i, f)) => {
                    used[i] = true;
                    self.tp += 1;
                    self.errors_ms
                        .push(f.abs_diff(*t) as f64 * 1000.0 / f64::from(RATE));
                }
                None => self.fn_ += 1,
            }
        }
        self.fp += used.iter().filter(|u| !**u).count();
    }

    /// (precision, recall, F, median ms, p95 ms)
    fn report(&mut self) -> (f64, f64, f64, f64, f64) {
        self.errors_ms.sort_by(f64::total_cmp);
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        let f = 2.0 * p * r / (p + r).max(1e-12);
        let at = |q: f64| self.errors_ms[((self.errors_ms.len() - 1) as f64 * q) as usize];
        (p, r, f, at(0.5), at(0.95))
    }
}

/// Tracks a condition is judged on: 4 sounds at 5 tempi.
const TRACKS_PER_CONDITION: u64 = 20;
const SEED_STEP: u64 = 7919;

/// Scores `conditions`, the first being condition number `first` of its set: each
/// condition's tracks get the same seeds whether it is scored alone or with its set.
fn evaluate_from(conditions: &[Condition], first: u64) -> Score {
    let mut score = Score::default();
    let mut seed = 1 + first * TRACKS_PER_CONDITION * SEED_STEP;
    for condition in conditions {
        let mut per = Score::default();
        for kind in [Kind::Clap, Kind::Woodblock, Kind::Pluck, Kind::Keys] {
            for bpm in [60.0, 90.0, 120.0, 160.0, 200.0] {
                seed += SEED_STEP;
                let (truth, audio) = track(kind, bpm, condition, seed);
                let found = detect(&audio, RATE, OnsetSettings::default());
                if std::env::var("ONSET_DEBUG").is_ok() {
                    let mut one = Score::default();
                    one.add(&truth, &found);
                    println!(
                        "  {kind:?} {bpm}: tp {} fp {} fn {}",
                        one.tp, one.fp, one.fn_
                    );
                    if std::env::var("ONSET_DEBUG").unwrap_or_default() == "2" {
                        println!("    truth {:?}", &truth[..8.min(truth.len())]);
                        println!("    found {:?}", &found[..20.min(found.len())]);
                    }
                }
                score.add(&truth, &found);
                per.add(&truth, &found);
            }
        }
        let (p, r, f, median, p95) = per.report();
        println!(
            "{:<28} P {p:.3} R {r:.3} F {f:.3}  median {median:.2} ms  p95 {p95:.2} ms",
            condition.name
        );
    }
    score
}

/// The clean-to-moderate set the README's targets are for.
const MODERATE: [Condition; 4] = [
    Condition {
        name: "clean",
        snr_db: None,
        reverb: None,
        spill_db: None,
    },
    Condition {
        name: "30 dB SNR",
        snr_db: Some(30.0),
        reverb: None,
        spill_db: None,
    },
    Condition {
        name: "20 dB SNR + room reverb",
        snr_db: Some(20.0),
        reverb: Some((0.4, 0.15)),
        spill_db: None,
    },
    Condition {
        name: "20 dB SNR + spill at -18 dB",
        snr_db: Some(20.0),
        reverb: None,
        spill_db: Some(-18.0),
    },
];

/// What one condition must reach: a little below what it measures (README's table), so
/// a regression of the detector on that material fails.
struct Bounds {
    precision: f64,
    recall: f64,
    f: f64,
    median_ms: f64,
    p95_ms: f64,
}

fn meets(conditions: &[Condition], first: u64, bounds: Bounds) {
    let (p, r, f, median, p95) = evaluate_from(conditions, first).report();
    let name = conditions[0].name;
    println!("{name}: P {p:.3} R {r:.3} F {f:.3} median {median:.2} ms p95 {p95:.2} ms");
    assert!(p >= bounds.precision, "{name}: precision {p:.3}");
    assert!(r >= bounds.recall, "{name}: recall {r:.3}");
    assert!(f >= bounds.f, "{name}: F {f:.3}");
    assert!(
        median <= bounds.median_ms,
        "{name}: median error {median:.2} ms"
    );
    assert!(p95 <= bounds.p95_ms, "{name}: p95 error {p95:.2} ms");
}

// One test per condition, so they run side by side on the cores there are.

#[test]
fn onsets_on_clean_material() {
    // Measured: P 1.000 R 0.984 F 0.992, median 0.35 ms, p95 4.27 ms.
    meets(
        &MODERATE[0..1],
        0,
        Bounds {
            precision: 0.995,
            recall: 0.975,
            f: 0.985,
            median_ms: 0.6,
            p95_ms: 4.8,
        },
    );
}

#[test]
fn onsets_at_30_db_snr() {
    // Measured: P 0.998 R 0.989 F 0.994, median 0.33 ms, p95 4.67 ms.
    meets(
        &MODERATE[1..2],
        1,
        Bounds {
            precision: 0.99,
            recall: 0.98,
            f: 0.985,
            median_ms: 0.6,
            p95_ms: 5.2,
        },
    );
}

#[test]
fn onsets_at_20_db_snr_in_a_room() {
    // Measured: P 0.994 R 0.975 F 0.984, median 0.31 ms, p95 4.83 ms.
    meets(
        &MODERATE[2..3],
        2,
        Bounds {
            precision: 0.985,
            recall: 0.965,
            f: 0.975,
            median_ms: 0.6,
            p95_ms: 5.3,
        },
    );
}

#[test]
fn onsets_at_20_db_snr_with_spill() {
    // Measured: P 1.000 R 0.941 F 0.970, median 0.31 ms, p95 4.25 ms (recall was 0.959
    // before the room's noise was judged: a few soft keys and plucks at 160–200 BPM
    // in the noise are now missed, for no phantom claps in swelling noise).
    meets(
        &MODERATE[3..4],
        3,
        Bounds {
            precision: 0.985,
            recall: 0.935,
            f: 0.965,
            median_ms: 0.6,
            p95_ms: 5.1,
        },
    );
}

#[test]
fn onsets_on_the_hard_set_stay_where_they_are_measured() {
    // Measured: P 0.827 R 0.900 F 0.862, median 0.62 ms, p95 7.08 ms (short of the
    // targets, as the README says; this keeps it from getting worse unnoticed).
    let hard = [Condition {
        name: "10 dB SNR + long reverb + spill at -10 dB",
        snr_db: Some(10.0),
        reverb: Some((1.0, 0.3)),
        spill_db: Some(-10.0),
    }];
    meets(
        &hard,
        0,
        Bounds {
            precision: 0.80,
            recall: 0.89,
            f: 0.86,
            median_ms: 1.0,
            p95_ms: 8.0,
        },
    );
}

#[test]
fn onsets_meet_the_targets_on_clean_to_moderate_material_as_a_whole() {
    // The README's targets, on the four conditions pooled (measured P 1.000 R 0.968
    // F 0.984, median 0.31 ms, p95 4.42 ms).
    meets(
        &MODERATE,
        0,
        Bounds {
            precision: 0.99,
            recall: 0.96,
            f: 0.98,
            median_ms: 2.0,
            p95_ms: 5.0,
        },
    );
}

#[test]
fn silence_and_a_steady_tone_have_no_onsets() {
    assert!(detect(&vec![0.0; 96_000], RATE, OnsetSettings::default()).is_empty());
    let tone: Vec<f32> = (0..96_000).map(|n| (n as f32 * 0.05).sin() * 0.5).collect();
    let found = detect(&tone, RATE, OnsetSettings::default());
    assert!(
        found.len() <= 1,
        "a steady tone starts once at most: {found:?}"
    );
}

/// Two pupils clapping Clapping Music's two parts, each at a microphone that also hears
/// the other: the neighbour's claps arrive `delay_ms` later, `spill_db` down and dulled
/// by the room (a one-pole low-pass), then each microphone gets its own noise at
/// `snr_db`. Returns each pupil's true onsets and each microphone's audio.
fn two_microphones(
    bpm: f64,
    spill_db: f32,
    delay_ms: f64,
    snr_db: f32,
    seed: u64,
) -> ([Vec<u64>; 2], [Vec<f32>; 2]) {
    let mut rng = Rng(seed | 1);
    let eighth = 60.0 / bpm / 2.0;
    let pattern = [1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0];
    let steps = 96;
    let len = ((1.0 + eighth * steps as f64 + 1.0) * f64::from(RATE)) as usize;
    let mut dry = [vec![0.0f32; len], vec![0.0f32; len]];
    let mut truth = [Vec::new(), Vec::new()];
    for (pupil, shift) in [(0usize, 0usize), (1, 1)] {
        for step in 0..steps {
            if pattern[(step + shift) % 12] == 0 || rng.next() < 0.03 {
                continue;
            }
            let at = 1.0 + step as f64 * eighth + rng.normal() * 0.008;
            let sample = (at * f64::from(RATE)) as usize;
            truth[pupil].push(sample as u64);
            strike(
                &mut dry[pupil],
                sample,
                Kind::Clap,
                0.3 + 0.2 * rng.next() as f32,
                &mut rng,
            );
        }
    }
    let delay = (delay_ms / 1000.0 * f64::from(RATE)) as usize;
    let gain = 10f32.powf(spill_db / 20.0);
    let mut mics = [dry[0].clone(), dry[1].clone()];
    for (mic, other) in [(0usize, 1usize), (1, 0)] {
        let mut dulled = 0.0f32;
        for n in delay..len {
            dulled += 0.35 * (dry[other][n - delay] - dulled);
            mics[mic][n] += dulled * gain;
        }
        let rms = (mics[mic].iter().map(|x| x * x).sum::<f32>() / len as f32).sqrt();
        let noise = rms * 10f32.powf(-snr_db / 20.0) * 3f32.sqrt();
        for x in &mut mics[mic] {
            *x += rng.noise() * noise;
        }
    }
    (truth, mics)
}

/// Spill recognised from the room's other microphone: the neighbour's claps heard by a
/// pupil's microphone are counted as spill, not as the pupil's extras, while the
/// pupil's own claps (including those played together with the neighbour) are kept.
#[test]
fn spill_from_the_neighbours_microphone_is_recognised_with_the_room() {
    use bandroom::analysis::onsets::{detect_bursts, detect_with_levels};
    use bandroom::analysis::spill::own_claps;
    let settings = OnsetSettings::default();
    for (spill_db, snr_db) in [(-12.0, 30.0), (-8.0, 20.0), (-6.0, 10.0)] {
        let mut alone = Score::default();
        let mut with_room = Score::default();
        let mut seed = 17;
        for bpm in [90.0, 120.0, 160.0, 200.0] {
            for delay_ms in [3.0, 6.0, 9.0] {
                seed += SEED_STEP;
                let (truth, mics) = two_microphones(bpm, spill_db, delay_ms, snr_db, seed);
                let bursts = [
                    detect_bursts(&mics[0], RATE, settings),
                    detect_bursts(&mics[1], RATE, settings),
                ];
                for (me, other) in [(0usize, 1usize), (1, 0)] {
                    let all: Vec<u64> = detect_with_levels(&mics[me], RATE, settings)
                        .iter()
                        .map(|(at, _)| *at)
                        .collect();
                    alone.add(&truth[me], &all);
                    let heard = own_claps(
                        &bursts[me],
                        std::slice::from_ref(&bursts[other]),
                        RATE,
                        settings,
                    );
                    with_room.add(&truth[me], &heard.claps);
                }
            }
        }
        let (p0, r0, f0, _, _) = alone.report();
        let (p1, r1, f1, _, _) = with_room.report();
        println!(
            "spill {spill_db} dB, {snr_db} dB SNR: alone P {p0:.3} R {r0:.3} F {f0:.3} \
             (fp {}); with --room P {p1:.3} R {r1:.3} F {f1:.3} (fp {})",
            alone.fp, with_room.fp
        );
        assert!(p1 >= 0.97, "precision with the room {p1:.3}");
        // 0.958 at -12 dB: a clap this generator makes 8-9 dB softer than the pupil's
        // usual, which the neighbour's microphone does not hear at all, is taken for the
        // room's (the rule that keeps a woodblock's taps out of real classroom takes).
        assert!(r1 >= 0.95, "recall with the room {r1:.3}");
        assert!(
            with_room.fp * 4 <= alone.fp.max(4),
            "the room removes most spill"
        );
    }
}

/// A sparse clap take: `claps` claps at irregular times over `secs` seconds, the rest
/// room noise `snr_db` below the claps' own level while they sound (13 claps in a
/// minute of a noisy room: noise is nearly all of the take).
fn sparse_clap_take(claps: usize, secs: f64, snr_db: f32, seed: u64) -> (Vec<u64>, Vec<f32>) {
    let mut rng = Rng(seed | 1);
    let mut audio = vec![0.0f32; (secs * f64::from(RATE)) as usize];
    let mut truth: Vec<u64> = Vec::new();
    while truth.len() < claps {
        let at = (0.5 + rng.next() * (secs - 1.5)) * f64::from(RATE);
        let at = at as u64;
        if truth.iter().all(|t| t.abs_diff(at) > u64::from(RATE) / 4) {
            truth.push(at);
            strike(
                &mut audio,
                at as usize,
                Kind::Clap,
                0.3 + 0.2 * rng.next() as f32,
                &mut rng,
            );
        }
    }
    truth.sort_unstable();
    // The claps' level: over the first 20 ms of each.
    let span = RATE as usize / 50;
    let power: f32 = truth
        .iter()
        .flat_map(|t| &audio[*t as usize..*t as usize + span])
        .map(|x| x * x)
        .sum::<f32>()
        / (truth.len() * span) as f32;
    let noise = power.sqrt() * 10f32.powf(-snr_db / 20.0) * 3f32.sqrt();
    // A classroom's noise is not steady: voices swell and fade several times a second
    // (a level drawn every 100 ms, 0.4 to 1.6 of the mean, glided between), and sit
    // low (a one-pole low-pass, its loss made up so the mean level is `snr_db` down).
    let segment = RATE as usize / 10;
    let (mut from, mut to) = (1.0f32, 1.0f32);
    let mut low = 0.0f32;
    for (n, x) in audio.iter_mut().enumerate() {
        if n % segment == 0 {
            (from, to) = (to, 0.4 + 1.2 * rng.next() as f32);
        }
        let swell = from + (to - from) * (n % segment) as f32 / segment as f32;
        low += 0.2 * (rng.noise() - low);
        *x += low * noise * swell * 2.8;
    }
    (truth, audio)
}

/// Clap takes at 10 dB SNR, noise alone (no reverb or spill), report hardly any phantom
/// claps: per take no more than 3 onsets beyond those really played (the bound
/// is 3 + 50 % of the extra notes really there), with recall of at least 0.99 over all
/// of them; dense takes (the evaluation set's clapping, steady noise) and sparse ones
/// (13 claps in a minute of room noise that swells and fades, where noise is nearly
/// all of the take). Measured: 7 phantoms in 16 takes, at most 3 in one, recall 1.000;
/// before the detector judged the room's noise, 364, up to 68 in one take.
#[test]
fn a_clap_take_at_10_db_snr_reports_at_most_three_phantoms() {
    let noisy = Condition {
        name: "clap at 10 dB SNR",
        snr_db: Some(10.0),
        reverb: None,
        spill_db: None,
    };
    let mut all = Score::default();
    let mut worst = 0;
    let mut takes: Vec<(Vec<u64>, Vec<f32>)> = Vec::new();
    for (i, bpm) in [60.0, 90.0, 120.0, 160.0, 200.0].into_iter().enumerate() {
        for take in 0..2u64 {
            takes.push(track(
                Kind::Clap,
                bpm,
                &noisy,
                31 + 977 * (i as u64 * 2 + take),
            ));
        }
    }
    for seed in 0..6u64 {
        takes.push(sparse_clap_take(13, 60.0, 10.0, 4_099 + 131 * seed));
    }
    for (truth, audio) in &takes {
        let found = detect(audio, RATE, OnsetSettings::default());
        let mut one = Score::default();
        one.add(truth, &found);
        worst = worst.max(one.fp);
        all.add(truth, &found);
    }
    let (p, r, f, median, _) = all.report();
    println!(
        "{}: P {p:.3} R {r:.3} F {f:.3}, {} phantoms in {} takes, at most {worst} in a take, median {median:.2} ms",
        noisy.name,
        all.fp,
        takes.len()
    );
    assert!(worst <= 3, "{worst} phantom claps in one take");
    assert!(r >= 0.99, "recall {r:.3}");
}

// ---------------------------------------------------------------------------------
// Real recorded hand claps: several bursts each, whichever is loudest left to chance

/// The hand clap of Hydrogen's GM rock kit (Debian's `hydrogen-data`, which `make test`
/// installs): a clap recorded by other people, three bursts in its first 16 ms.
const REAL_CLAP: &str = "/usr/share/hydrogen/data/drumkits/GMRockKit/HandClap.wav";

/// The recorded clap at 48 kHz mono, and the sample its first burst begins at (the
/// first sample reaching a twentieth of its loudest).
fn real_clap() -> (Vec<f32>, usize) {
    let path = std::path::Path::new(REAL_CLAP);
    assert!(
        path.is_file(),
        "{REAL_CLAP} is needed: `make test` installs hydrogen-data"
    );
    let stem = bandroom::audio::stems::load_stem(path, RATE, 2.0).unwrap();
    let samples: Vec<f32> = stem.samples.to_vec();
    let top = samples.iter().fold(0.0f32, |a, s| a.max(s.abs()));
    let attack = samples.iter().position(|s| s.abs() >= 0.05 * top).unwrap();
    (samples, attack)
}

/// A take of `claps` real claps at 160 BPM quavers with human timing (σ 6 ms), each
/// clap's bursts at uneven strength (the first 6 ms scaled apart from the rest, as
/// palms meet unevenly, so the loudest burst varies), pink-ish noise at `snr_db`
/// against the claps' mean power over their first 50 ms. Returns the true onsets.
fn real_clap_take(claps: usize, snr_db: f32, seed: u64) -> (Vec<u64>, Vec<f32>) {
    let (clap, attack) = real_clap();
    let mut rng = Rng(seed);
    let spacing = 60.0 / 160.0 / 2.0 * f64::from(RATE);
    let len = (spacing * (claps as f64 + 4.0)) as usize + clap.len();
    let mut out = vec![0.0f32; len];
    let mut truth = Vec::with_capacity(claps);
    let split = attack + RATE as usize * 6 / 1000;
    for n in 0..claps {
        let at = ((n as f64 + 2.0) * spacing + rng.normal() * 0.006 * f64::from(RATE)) as usize;
        let gain = 0.5 + 0.5 * rng.next() as f32;
        let early = 0.5 + 0.9 * rng.next() as f32;
        for (i, s) in clap.iter().enumerate() {
            let g = if i < split { gain * early } else { gain };
            out[at + i] += s * g;
        }
        truth.push((at + attack) as u64);
    }
    let window = RATE as usize / 20;
    let signal: f32 = clap[attack..attack + window]
        .iter()
        .map(|s| s * s)
        .sum::<f32>()
        / window as f32
        * 0.56; // the mean of the gains squared
    let noise_power = signal / 10f32.powf(snr_db / 10.0);
    // Pink-ish: white through two one-pole low-passes mixed with white, scaled to power.
    let (mut a, mut b) = (0.0f32, 0.0f32);
    let mut noise: Vec<f32> = (0..len)
        .map(|_| {
            let w = rng.noise();
            a = 0.99 * a + 0.1 * w;
            b = 0.9 * b + 0.3 * w;
            a + b + 0.3 * w
        })
        .collect();
    let power = noise.iter().map(|x| x * x).sum::<f32>() / len as f32;
    let scale = (noise_power / power).sqrt();
    for (o, n) in out.iter_mut().zip(&mut noise) {
        *o += *n * scale;
    }
    (truth, out)
}

/// With `BANDROOM_EVAL_OUT=DIR`, writes a take and its true onsets (seconds, one a
/// line) there, for `.ci/compare-onsets` to run other detectors on the same audio.
fn save_for_comparison(name: &str, truth: &[u64], audio: &[f32]) {
    let Ok(dir) = std::env::var("BANDROOM_EVAL_OUT") else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(dir.join(format!("{name}.wav")), spec).unwrap();
    for s in audio {
        writer.write_sample(*s).unwrap();
    }
    writer.finalize().unwrap();
    let text: String = truth
        .iter()
        .map(|t| format!("{:.6}\n", *t as f64 / f64::from(RATE)))
        .collect();
    std::fs::write(dir.join(format!("{name}.truth")), text).unwrap();
}

/// Real claps of several bursts must each be one onset at their first burst. Before
/// the detector took a clap's early burst for its start (it took it for the quiet before
/// a louder later burst), it found 81 % of them at 40 dB SNR. `BANDROOM_EVAL_OUT=DIR`
/// saves the takes for `.ci/compare-onsets` (aubio, librosa on the same audio).
#[test]
fn real_claps_of_several_bursts_are_each_one_onset_at_their_first_burst() {
    for (snr_db, least_f) in [(40.0, 0.99), (20.0, 0.97), (10.0, 0.95)] {
        let mut score = Score::default();
        for seed in 1..=4u64 {
            let (truth, audio) = real_clap_take(100, snr_db, seed * 7919);
            save_for_comparison(&format!("real-claps-{snr_db}dB-{seed}"), &truth, &audio);
            let found = detect(&audio, RATE, OnsetSettings::default());
            score.add(&truth, &found);
        }
        let (p, r, f, median, p95) = score.report();
        println!(
            "real claps, {snr_db} dB SNR: P {p:.3} R {r:.3} F {f:.3}  median {median:.2} ms  \
             p95 {p95:.2} ms ({} found of {}, {} extra)",
            score.tp,
            score.tp + score.fn_,
            score.fp
        );
        assert!(f >= least_f, "F {f:.3} at {snr_db} dB SNR");
        assert!(
            median <= 2.0,
            "median error {median:.2} ms at {snr_db} dB SNR"
        );
    }
}
