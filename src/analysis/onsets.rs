//! Onset detection for classroom recordings (claps, percussion, plucked strings, keys).
//!
//! Two stages. A spectral-flux detector (log-compressed magnitude spectra 1024 samples
//! long, a hop of 128, half-wave rectified differences) with an adaptive threshold (a
//! moving median plus a share of the track's flux level) finds each onset to within a
//! hop. Each is then placed to the sample on a 1 ms energy envelope: the first frame
//! where the energy has risen a fiftieth of the way from the quiet before it to the
//! peak of its first burst (a real clap is several bursts; the first within 9 dB of
//! the loudest is its start, whichever is loudest). An onset must be one the room's noise cannot have made (a spectral change
//! far beyond the flux's own spread, or a peak well above the noise floor around it),
//! and quiet onsets far below the track's own playing (spill from a neighbour's
//! microphone) are dropped. Must not know about parts or tempi.

use realfft::RealFftPlanner;

const FRAME: usize = 1024;
const HOP: usize = 128;

/// What the detector needs to know about the material; the defaults suit classroom mics.
#[derive(Clone, Copy, Debug)]
pub struct OnsetSettings {
    /// Two onsets closer than this are one, on a track heard alone.
    pub min_gap_secs: f64,
    /// Two bursts closer than this are one, when the room's other microphones will
    /// tell whose each burst is.
    pub burst_gap_secs: f64,
    /// Bursts within this of a clap's first burst are that clap (a real clap can be
    /// four bursts over 50 ms), once the room has said which bursts are the player's.
    pub clap_span_secs: f64,
    /// Onsets this far (dB) below the track's typical onset level are spill, not playing.
    pub spill_db: f64,
    /// An onset that is no sharp spectral change must peak this far (dB) above the
    /// median power around it: the room's noise floor where it is.
    pub noise_margin_db: f64,
}

impl Default for OnsetSettings {
    fn default() -> Self {
        Self {
            min_gap_secs: 0.045,
            burst_gap_secs: 0.008,
            clap_span_secs: 0.06,
            spill_db: 15.0,
            noise_margin_db: 10.0,
        }
    }
}

/// Onset frames of a mono track at `rate`, in order.
pub fn detect(samples: &[f32], rate: u32, settings: OnsetSettings) -> Vec<u64> {
    detect_with_levels(samples, rate, settings)
        .into_iter()
        .map(|(at, _)| at)
        .collect()
}

/// Onsets with their peak power (mean power over a millisecond at the onset's peak),
/// in order: a track heard alone, one onset for each clap however many bursts it has.
pub fn detect_with_levels(samples: &[f32], rate: u32, settings: OnsetSettings) -> Vec<(u64, f32)> {
    detect_apart(samples, rate, settings, settings.min_gap_secs, false)
}

/// The bursts a clap's onset is made of, kept apart: a neighbour's clap 30 ms before
/// the pupil's is a burst of its own, which only the room's other microphones can
/// tell from the first burst of the pupil's clap (see `spill`, which groups the
/// player's bursts into claps). Each with its peak power, in order.
pub fn detect_bursts(samples: &[f32], rate: u32, settings: OnsetSettings) -> Vec<(u64, f32)> {
    detect_apart(samples, rate, settings, settings.burst_gap_secs, true)
}

/// Onsets at least `gap_secs` apart. `own_window` keeps a first burst inside the
/// onset's own analysis window, so that an earlier burst (another player's) is never
/// taken for its start.
fn detect_apart(
    samples: &[f32],
    rate: u32,
    settings: OnsetSettings,
    gap_secs: f64,
    own_window: bool,
) -> Vec<(u64, f32)> {
    if samples.len() < FRAME * 2 {
        return Vec::new();
    }
    let flux = spectral_flux(samples, rate);
    let coarse = pick_peaks(&flux, rate, gap_secs);
    let envelope = energy_envelope(samples, rate);
    let mut placed: Vec<Candidate> = coarse
        .into_iter()
        .filter_map(|peak| {
            refine(
                &envelope,
                peak.frame * HOP + FRAME / 2,
                rate,
                peak.sharp,
                own_window,
            )
            .map(|(at, power, rise)| Candidate {
                at,
                power,
                sharp: peak.sharp || rise >= STEEP_RISE,
            })
        })
        .collect();
    placed.sort_by_key(|c| c.at);
    let min_gap = (gap_secs * f64::from(rate)) as u64;
    placed.dedup_by(|later, earlier| {
        let same = later.at.saturating_sub(earlier.at) < min_gap;
        earlier.sharp |= same && later.sharp;
        same
    });
    let heard = above_the_room(placed, &envelope, rate, settings.noise_margin_db);
    gate_spill(heard, settings.spill_db)
}

/// How far (power ratio: 9 dB) under a clap's loudest burst its first burst may be:
/// a finger snap's faint click 20 ms before the snap is not where the snap begins.
const FIRST_BURST_SHARE: f32 = 1.0 / 8.0;

/// The bursts grouped into claps: a burst within the clap span of the first burst of
/// the clap before it is part of that clap. The clap starts at its earliest burst
/// within 9 dB of its loudest, and is as loud as its loudest.
pub fn one_per_clap(bursts: &[(u64, f32)], rate: u32, settings: OnsetSettings) -> Vec<(u64, f32)> {
    let span = (settings.clap_span_secs * f64::from(rate)) as u64;
    let mut claps: Vec<(u64, f32)> = Vec::with_capacity(bursts.len());
    let mut group: &[(u64, f32)] = &[];
    let mut from = 0;
    for (i, &(at, _)) in bursts.iter().enumerate() {
        if group
            .first()
            .is_some_and(|first| at.saturating_sub(first.0) >= span)
        {
            claps.extend(clap_of(group));
            from = i;
        }
        group = &bursts[from..=i];
    }
    claps.extend(clap_of(group));
    claps
}

/// One clap's onset and power from its bursts.
fn clap_of(bursts: &[(u64, f32)]) -> Option<(u64, f32)> {
    let loudest = bursts.iter().map(|(_, p)| *p).fold(0.0f32, f32::max);
    bursts
        .iter()
        .find(|(_, p)| *p >= loudest * FIRST_BURST_SHARE)
        .map(|&(at, _)| (at, loudest))
}

/// A flux peak: its frame, and whether it stands far out of the flux's own spread.
struct FluxPeak {
    frame: usize,
    sharp: bool,
}

/// An onset placed to the sample, before the room's noise is judged.
struct Candidate {
    at: u64,
    power: f32,
    /// A sharp spectral change or a steep rise in power: nothing the room's noise makes.
    sharp: bool,
}

/// Keeps the onsets the room's noise cannot have made: a spectral change far beyond
/// the flux's own spread around it or a steep rise (a new note), or a peak that
/// stands `margin_db` above the median power of the 0.6 s about it (a clap over a
/// noisy room). Noise that swells and fades (voices, a corridor) does neither, so its
/// swells are not claps, however loud the room is.
fn above_the_room(
    placed: Vec<Candidate>,
    envelope: &[f32],
    rate: u32,
    margin_db: f64,
) -> Vec<(u64, f32)> {
    let ms = (rate as usize / 1000).max(1);
    let reach = 300 * ms;
    let factor = 10f32.powf(margin_db as f32 / 10.0);
    let mut window: Vec<f32> = Vec::with_capacity(2 * reach / ms + 1);
    placed
        .into_iter()
        .filter(|c| {
            if c.sharp {
                return true;
            }
            let at = c.at as usize;
            let from = at.saturating_sub(reach);
            let to = (at + reach).min(envelope.len());
            window.clear();
            window.extend(envelope.get(from..to).unwrap_or(&[]).iter().step_by(ms));
            if window.is_empty() {
                return true;
            }
            let middle = window.len() / 2;
            let floor = *window.select_nth_unstable_by(middle, f32::total_cmp).1;
            c.power >= floor * factor
        })
        .map(|c| (c.at, c.power))
        .collect()
}

/// Log-spaced bands (about six a octave, 40 Hz to 16 kHz) as FFT bin ranges: summing
/// bins into bands averages away the noise in each, so a pitched onset stands out of a
/// noisy room.
fn bands(rate: u32, bins: usize) -> Vec<std::ops::Range<usize>> {
    let hz_per_bin = rate as f32 / FRAME as f32;
    let top = 16_000f32.min(rate as f32 / 2.0);
    let count = ((top / 40.0).log2() * 6.0) as usize;
    let mut ranges = Vec::with_capacity(count);
    let mut low = (40.0 / hz_per_bin) as usize;
    for b in 1..=count {
        let edge = 40.0 * 2f32.powf(b as f32 / 6.0);
        let high = ((edge / hz_per_bin) as usize).max(low + 1).min(bins);
        if high > low {
            ranges.push(low..high);
        }
        low = high;
    }
    ranges
}

fn spectral_flux(samples: &[f32], rate: u32) -> Vec<f32> {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(FRAME);
    let window: Vec<f32> = (0..FRAME)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / FRAME as f32).cos())
        .collect();
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let bands = bands(rate, spectrum.len());
    let mut previous = vec![0.0f32; bands.len()];
    let frames = (samples.len() - FRAME) / HOP + 1;
    let mut flux = Vec::with_capacity(frames);
    for f in 0..frames {
        let start = f * HOP;
        for ((x, s), w) in input
            .iter_mut()
            .zip(&samples[start..start + FRAME])
            .zip(&window)
        {
            *x = s * w;
        }
        // The buffers are sized by the plan, so processing cannot fail.
        let _ = fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch);
        let mut sum = 0.0f32;
        for (band, prev) in bands.iter().zip(previous.iter_mut()) {
            let energy: f32 = spectrum[band.clone()].iter().map(|c| c.norm()).sum();
            let magnitude = (1.0 + 10.0 * energy / band.len() as f32).ln();
            sum += (magnitude - *prev).max(0.0);
            *prev = magnitude;
        }
        flux.push(if f == 0 { 0.0 } else { sum });
    }
    flux
}

/// A rise to at least this many times the loudest moment of the quiet before it (about
/// 5 dB) is an onset whatever the room: noise swells more gently.
const STEEP_RISE: f32 = 3.0;

/// How far beyond the flux's spread around it (the distance from its lower quartile to
/// its median) a peak must reach to count as a sharp change on its own.
const SHARP_SPREADS: f32 = 9.0;

fn pick_peaks(flux: &[f32], rate: u32, gap_secs: f64) -> Vec<FluxPeak> {
    if flux.is_empty() {
        return Vec::new();
    }
    let mut sorted = flux.to_vec();
    sorted.sort_by(f32::total_cmp);
    let level = sorted[sorted.len() * 98 / 100];
    if level <= 1e-3 {
        return Vec::new();
    }
    let floor = 0.08 * level;
    let half = (0.15 * f64::from(rate) / HOP as f64) as usize;
    let neighbourhood = 3;
    let min_gap = (gap_secs * f64::from(rate) / HOP as f64).max(1.0) as usize;
    let mut peaks: Vec<FluxPeak> = Vec::new();
    let mut window: Vec<f32> = Vec::with_capacity(2 * half + 1);
    for i in 1..flux.len() {
        let lo = i.saturating_sub(neighbourhood);
        let hi = (i + neighbourhood + 1).min(flux.len());
        if flux[lo..hi].iter().any(|v| *v > flux[i]) {
            continue;
        }
        window.clear();
        window.extend_from_slice(&flux[i.saturating_sub(half)..(i + half + 1).min(flux.len())]);
        window.sort_by(f32::total_cmp);
        let median = window[window.len() / 2];
        if flux[i] > median * 1.5 + floor {
            let spread = median - window[window.len() / 4];
            let peak = FluxPeak {
                frame: i,
                sharp: flux[i] > median + SHARP_SPREADS * spread,
            };
            match peaks.last_mut() {
                Some(last) if i - last.frame < min_gap => {
                    if flux[i] > flux[last.frame] {
                        *last = peak;
                    }
                }
                _ => peaks.push(peak),
            }
        }
    }
    peaks
}

/// Mean power over the last millisecond at every sample.
fn energy_envelope(samples: &[f32], rate: u32) -> Vec<f32> {
    let width = (rate as usize / 1000).max(1);
    let mut sum = 0.0f64;
    samples
        .iter()
        .enumerate()
        .map(|(n, x)| {
            sum += f64::from(*x) * f64::from(*x);
            if n >= width {
                sum -= f64::from(samples[n - width]) * f64::from(samples[n - width]);
            }
            (sum.max(0.0) / width as f64) as f32
        })
        .collect()
}

/// Places an onset near `centre` to the sample; returns it with its peak power and how
/// many times the quiet before it the peak is, or nothing when there is no real rise
/// in energy there (the ripple of a note dying away is not an onset).
///
/// A real clap is often several bursts within 40 ms (palms meet unevenly), and which
/// is loudest is chance. The onset is where the clap's first burst within 9 dB of its
/// loudest (up to 20 ms before it) begins, so an early burst is the clap's start, never
/// "the quiet before" it.
fn refine(
    envelope: &[f32],
    centre: usize,
    rate: u32,
    sharp: bool,
    own_window: bool,
) -> Option<(u64, f32, f32)> {
    let ms = (rate as usize / 1000).max(1);
    let from = centre.saturating_sub(FRAME / 2 + 2 * ms);
    let to = (centre + FRAME / 2 + 10 * ms).min(envelope.len());
    if from >= to {
        return None;
    }
    let (loudest_at, loudest) = loudest_in(envelope, from, to)?;
    if loudest <= 0.0 {
        return None;
    }
    let earliest = if own_window { from } else { 0 };
    let anchor = first_burst(envelope, earliest, loudest_at, loudest, ms).unwrap_or(loudest_at);
    let burst = envelope[anchor];
    let mut before = quiet_before(envelope, anchor, ms);
    // A sharp spectral change over loud low noise: the loudest millisecond of the noise
    // before can come near the clap's, yet the clap stands far above the noise's level.
    if sharp && anchor == loudest_at && loudest < 1.6 * before {
        let level = typical_before(envelope, anchor, ms);
        if loudest >= 4.0 * level {
            before = level;
        }
    }
    if (anchor == loudest_at && loudest < 1.6 * before) || burst <= 0.0 {
        return None;
    }
    let rise = before + 0.02 * (burst - before);
    let start = (anchor.saturating_sub(12 * ms)..=anchor).find(|&n| envelope[n] >= rise)?;
    Some((
        start as u64,
        loudest,
        loudest / before.max(f32::MIN_POSITIVE),
    ))
}

/// The loudest moment of `envelope[from..to]` and where it is.
fn loudest_in(envelope: &[f32], from: usize, to: usize) -> Option<(usize, f32)> {
    envelope
        .get(from..to)?
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, v)| (from + i, *v))
}

/// The loudest moment 12–35 ms before `at`: a dying note's ripple or the room's noise,
/// which a rise must clear to be an onset of its own.
fn quiet_before(envelope: &[f32], at: usize, ms: usize) -> f32 {
    envelope[at.saturating_sub(35 * ms)..at.saturating_sub(12 * ms)]
        .iter()
        .fold(0.0f32, |a, b| a.max(*b))
}

/// The median power 12–35 ms before `at`: the room's level there.
fn typical_before(envelope: &[f32], at: usize, ms: usize) -> f32 {
    let mut window: Vec<f32> = envelope[at.saturating_sub(35 * ms)..at.saturating_sub(12 * ms)]
        .iter()
        .step_by((ms / 8).max(1))
        .copied()
        .collect();
    if window.is_empty() {
        return 0.0;
    }
    let middle = window.len() / 2;
    *window.select_nth_unstable_by(middle, f32::total_cmp).1
}

/// How far before its loudest burst a clap's first burst may be.
const BURSTS_SPAN_MS: usize = 20;

/// The peak of the earliest burst, up to 20 ms before the loudest (and not before
/// `from`), that is within 9 dB of `loudest` and rises out of quiet of its own: the
/// clap's start. A note's tail never rises through the threshold, so it cannot be taken
/// for a first burst.
fn first_burst(
    envelope: &[f32],
    from: usize,
    loudest_at: usize,
    loudest: f32,
    ms: usize,
) -> Option<usize> {
    let near = loudest / 8.0;
    let step = (ms / 4).max(1);
    let earliest = loudest_at
        .checked_sub(BURSTS_SPAN_MS * ms)?
        .max(2 * ms)
        .max(from);
    (earliest..loudest_at.saturating_sub(2 * ms))
        .step_by(step)
        .filter(|&t| envelope[t] >= near && envelope[t - 2 * ms] < near)
        .find_map(|t| {
            let (peak_at, peak) = loudest_in(envelope, t, (t + 5 * ms).min(loudest_at))?;
            (peak >= 3.0 * quiet_before(envelope, t, ms)).then_some(peak_at)
        })
}

/// Drops onsets far quieter than the track's own typical onset.
fn gate_spill(placed: Vec<(u64, f32)>, spill_db: f64) -> Vec<(u64, f32)> {
    if placed.is_empty() {
        return Vec::new();
    }
    let mut levels: Vec<f32> = placed.iter().map(|(_, p)| *p).collect();
    levels.sort_by(f32::total_cmp);
    let typical = levels[levels.len() * 3 / 4];
    let gate = typical * 10f32.powf(-(spill_db as f32) / 10.0);
    placed.into_iter().filter(|(_, p)| *p >= gate).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A burst of decaying noise `len_ms` long at `at`, peak amplitude `level`.
    fn burst(out: &mut [f32], at: usize, len_ms: usize, level: f32, seed: &mut u32) {
        let len = len_ms * 48;
        for i in 0..len {
            *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let white = (*seed >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
            out[at + i] += level * white * (-(i as f32) / (len as f32 / 4.0)).exp();
        }
    }

    #[test]
    fn a_clap_whose_later_burst_is_loudest_starts_at_its_first_burst() {
        // Palms meeting unevenly: a first burst, then one 6 dB louder 14 ms later, then
        // a third. The early burst is the clap's start, not "the quiet before" it.
        let rate = 48_000;
        let mut take = vec![0.0f32; rate as usize * 3];
        let mut seed = 7;
        let mut truth = Vec::new();
        for n in 0..5 {
            let at = 24_000 + n * 20_000;
            burst(&mut take, at, 4, 0.25, &mut seed);
            burst(&mut take, at + 14 * 48, 6, 0.5, &mut seed);
            burst(&mut take, at + 24 * 48, 5, 0.3, &mut seed);
            truth.push(at as u64);
        }
        let found = detect(&take, rate, OnsetSettings::default());
        assert_eq!(found.len(), truth.len(), "{found:?}");
        for (f, t) in found.iter().zip(&truth) {
            assert!(f.abs_diff(*t) <= 48, "onset at {f}, the clap starts at {t}");
        }
    }
}
