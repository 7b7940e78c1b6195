#!/usr/bin/env python3
"""Makes Clapping Music takes from recorded percussion in a simulated classroom.

Usage: generate.py --bandroom BIN --out DIR [--seed N] [--takes N] [--bars N] [--flac]

Every take is two pupils, each at a microphone of their own, playing Clapping Music's
two parts (the score and its frames come from `bandroom render --events`, so the
takes line up with the built-in arrangement exactly). The sounds are recordings other
people made (Debian's hydrogen-drumkits: hand claps of several bursts, finger snaps;
a woodblock or a clave for the third person in the corner). Each pupil has a human
timing of their own (a bias, a spread, missed notes, extra claps); the claps' bursts are
made uneven clap by clap (the palms meet differently each time). The room is an
image-source classroom (pyroomacoustics: 7-10 m by 6-8 m, reverberation 0.4-0.8 s),
so each microphone hears its own pupil, the neighbour a few dB down and a few ms later,
and the room's reflections. Pink noise is added at 30, 20 or 10 dB below the track's
own mean power.

Writes DIR/NAME/{mic1,mic2}.wav (or .flac) and DIR/NAME/truth.json: the arrangement
options, for each part the expected frame of every note, the frame each was played at
that microphone (null when the pupil missed it), the extra claps, the pupil's timing
spread, and the spill level each microphone hears (dB, relative to its own pupil).
"""
import argparse, csv, json, os, subprocess, sys, tempfile, warnings

import numpy as np
import pyroomacoustics as pra
import scipy.io.wavfile as wavfile
from scipy.signal import fftconvolve, resample_poly

RATE = 48_000
# Hydrogen's WAVs carry chunks scipy does not read; their sound is read all the same.
warnings.filterwarnings("ignore", category=wavfile.WavFileWarning)
KITS = "/usr/share/hydrogen/data/drumkits"
GIMME = f"{KITS}/Gimme A Hand 1.0"
CLAPS = [
    f"{GIMME}/HandClap-Med.wav",
    f"{KITS}/Millo-Drums_v.1/clap_Dry_c.flac",
    f"{KITS}/TR808EmulationKit/808_Clap.flac",
]
SNAPS = [f"{GIMME}/Fingersnap-Med.wav"]
DISTRACTORS = [f"{GIMME}/WoodBlock-Med.wav", f"{GIMME}/Clave-Med.wav", f"{KITS}/Millo-Drums_v.1/stick_Woody.flac"]
CONDITIONS = [(30, False), (20, False), (10, False), (20, True), (30, True), (10, True)]


def load(path):
    """A sample as mono float at RATE, peak 1, and where its first burst begins."""
    if path.endswith(".flac"):
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            subprocess.run(["sox", path, "-c", "1", "-b", "16", tmp.name], check=True)
            rate, x = wavfile.read(tmp.name)
    else:
        rate, x = wavfile.read(path)
    x = x.astype(np.float64)
    if x.ndim > 1:
        x = x.mean(axis=1)
    if rate != RATE:
        x = resample_poly(x, RATE // 100, rate // 100) if rate % 100 == 0 else resample_poly(x, RATE, rate)
    x /= np.abs(x).max()
    # Where the first burst within 12 dB of the loudest begins (a finger snap's rub
    # before the snap is not its onset; a clap's first meeting of the palms is).
    ms = RATE // 1000
    envelope = np.convolve(x**2, np.ones(ms) / ms)[: len(x)]
    first = int(np.argmax(envelope >= envelope.max() * 10 ** -1.2))
    burst = first + int(np.argmax(envelope[first : first + 3 * ms]))
    lead = np.abs(x[max(burst - 10 * ms, 0) : burst + 1])
    onset = max(burst - 10 * ms, 0) + int(np.argmax(lead >= 0.1 * np.abs(x[max(burst - 2 * ms, 0) : burst + 2 * ms]).max()))
    return x, onset


def uneven(sample, onset, rng):
    """The same clap with its bursts weighted differently: the first 12 ms, the next
    12 and the rest each scaled by their own random gain."""
    y = sample.copy()
    ms = RATE // 1000
    cuts = [onset, onset + 12 * ms, onset + 24 * ms, len(y)]
    gains = [rng.uniform(0.35, 1.3), rng.uniform(0.6, 1.4), rng.uniform(0.7, 1.3)]
    for (a, b), g in zip(zip(cuts, cuts[1:]), gains):
        y[a:b] *= g
    return y


def score_frames(bandroom, tempo, bars):
    """The expected frames of both parts, from the built-in arrangement itself."""
    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "events.csv")
        subprocess.run(
            [bandroom, "render", "clapping-music", "--out", os.path.join(tmp, "x.wav"),
             "--events", events, "--tempo", str(tempo), "--bars", bars, "--count-in", "1",
             "--repeats", "2", "--force"],
            check=True, capture_output=True)
        parts = {"clapper 1": [], "clapper 2": []}
        length = 0
        with open(events) as f:
            for row in csv.DictReader(f):
                length = max(length, int(row["frame"]))
                if row["part"] in parts:
                    parts[row["part"]].append(int(row["frame"]))
    return parts, length


def perform(expected, rng, skill):
    """Where one pupil claps: each note jittered by their bias and spread, some missed,
    some extra claps between notes."""
    bias, spread, miss, extra = skill
    played, extras = [], []
    for i, frame in enumerate(expected):
        if rng.random() < miss:
            played.append(None)
            continue
        at = frame + int(round((bias + rng.normal(0.0, spread)) * RATE / 1000))
        played.append(max(at, 0))
        if rng.random() < extra and i + 1 < len(expected):
            gap = expected[i + 1] - frame
            if gap > 0.25 * RATE:
                extras.append(frame + int(gap * rng.uniform(0.4, 0.6)))
    return played, extras


def place(length, frames, sample, onset, rng, level_db, uneven_bursts):
    """The dry signal of one player: the sample at each frame (its first burst there)."""
    out = np.zeros(length)
    for at in frames:
        s = uneven(sample, onset, rng) if uneven_bursts else sample
        s = s * 10 ** ((level_db + rng.uniform(-3, 3)) / 20)
        start = at - onset
        a, b = max(start, 0), min(start + len(s), length)
        if b > a:
            out[a:b] += s[a - start:b - start]
    return out


def pink(n, rng):
    white = rng.normal(size=n)
    spectrum = np.fft.rfft(white)
    f = np.arange(len(spectrum))
    spectrum[1:] /= np.sqrt(f[1:])
    spectrum[0] = 0
    return np.fft.irfft(spectrum, n)


def classroom(rng, with_distractor):
    """A shoebox room, two pupils side by side each with a microphone in front of their
    hands, and (maybe) a third player in a corner."""
    dims = [rng.uniform(7, 10), rng.uniform(6, 8), rng.uniform(2.7, 3.2)]
    rt60 = rng.uniform(0.4, 0.8)
    absorption, order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(dims, fs=RATE, materials=pra.Material(absorption), max_order=min(order, 12))
    centre = np.array([rng.uniform(3, dims[0] - 3), rng.uniform(2.5, dims[1] - 2.5), 1.0])
    # The neighbour's direct sound at each microphone, relative to its own pupil's: the
    # pupils sit as far apart as that asks (-14 to -4 dB covers a music room's desks).
    distance = rng.uniform(0.3, 0.6)
    target_db = rng.uniform(-14, -4)
    cross = distance / 10 ** (target_db / 20)
    apart = float(np.sqrt(max(cross**2 - distance**2, 0.36)))
    direction = np.array([1.0, 0.0, 0.0])
    pupils = [centre - direction * apart / 2, centre + direction * apart / 2]
    mics = []
    for p in pupils:
        angle = rng.uniform(-0.3, 0.3)
        mics.append(p + distance * rng.uniform(0.9, 1.1) * np.array([np.sin(angle), -np.cos(angle), 0.05]))
    sources = list(pupils)
    if with_distractor:
        sources.append(np.array([rng.uniform(0.6, 1.5), rng.uniform(0.6, 1.5), 1.1]))
    for s in sources:
        room.add_source(s.tolist())
    room.add_microphone_array(np.array(mics).T)
    room.compute_rir()
    return room, rt60, pupils, mics, sources


def take(bandroom, out, name, seed, flac, bar_count=8):
    rng = np.random.default_rng(seed)
    snr, with_distractor = CONDITIONS[seed % len(CONDITIONS)]
    tempo = int(rng.uniform(140, 184))
    first = int(rng.integers(1, 20))
    bars = f"{first}-{first + bar_count - 1}"
    expected, length = score_frames(bandroom, tempo, bars)
    length += 2 * RATE
    room, rt60, pupils, mics, sources = classroom(rng, with_distractor)
    lead = (pra.constants.get("frac_delay_length") - 1) // 2
    kinds = [CLAPS[int(rng.integers(len(CLAPS)))] if rng.random() < 0.85 else SNAPS[0] for _ in range(2)]
    dry, truth_parts = [], {}
    for p, part in enumerate(["clapper 1", "clapper 2"]):
        sample, onset = load(kinds[p])
        skill = (rng.uniform(-12, 12), rng.uniform(3, 30), rng.uniform(0.0, 0.12), rng.uniform(0.0, 0.04))
        played, extras = perform(expected[part], rng, skill)
        frames = [f for f in played if f is not None] + extras
        dry.append(place(length, frames, sample, onset, rng, rng.uniform(-3, 3), "808" not in kinds[p]))
        truth_parts[part] = {"expected": expected[part], "played": played, "extras": extras,
                             "sound": os.path.basename(kinds[p]), "bias_ms": skill[0], "spread_ms": skill[1]}
    if with_distractor:
        sample, onset = load(DISTRACTORS[int(rng.integers(len(DISTRACTORS)))])
        beat = int(RATE * 60 / tempo)
        taps = [t + int(rng.normal(0, 15) * RATE / 1000) for t in range(RATE, length - RATE, beat)]
        taps = [max(t, 0) for t in taps]
        dry.append(place(length, taps, sample, onset, rng, rng.uniform(0, 6), False))
    else:
        taps = []
    tracks, spill_db = [], []
    for m in range(2):
        signal = np.zeros(length)
        for s, d in enumerate(dry):
            rir = room.rir[m][s][lead:]
            signal += fftconvolve(d, rir)[:length]
        tracks.append(signal)
        own = np.linalg.norm(pupils[m] - mics[m])
        other = np.linalg.norm(pupils[1 - m] - mics[m])
        spill_db.append(20 * np.log10(own / other))
    for m, signal in enumerate(tracks):
        noise = pink(length, rng)
        noise *= np.sqrt(np.mean(signal**2) / np.mean(noise**2) / 10 ** (snr / 10))
        tracks[m] = signal + noise
    peak = max(np.abs(t).max() for t in tracks)
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    c = 343.0
    for m, signal in enumerate(tracks):
        pcm = np.clip(signal / peak * 0.7 * 32767, -32768, 32767).astype(np.int16)
        wav = os.path.join(folder, f"mic{m + 1}.wav")
        wavfile.write(wav, RATE, pcm)
        if flac:
            subprocess.run(["flac", "--silent", "--best", "-f", "--delete-input-file", wav], check=True)
        part = ["clapper 1", "clapper 2"][m]
        delay = int(round(np.linalg.norm(pupils[m] - mics[m]) / c * RATE))
        t = truth_parts[part]
        t["mic"] = f"mic{m + 1}." + ("flac" if flac else "wav")
        t["played_at_mic"] = [None if f is None else f + delay for f in t["played"]]
        t["extras_at_mic"] = [f + delay for f in t["extras"]]
        t["spill_db"] = spill_db[m]
        # What else this microphone heard, and when: the neighbour's claps and the
        # third player's taps, for telling a false onset's cause.
        n = truth_parts[["clapper 1", "clapper 2"][1 - m]]
        across = int(round(np.linalg.norm(pupils[1 - m] - mics[m]) / c * RATE))
        t["spill_at_mic"] = sorted(f + across for f in [*n["played"], *n["extras"]] if f is not None)
        if taps:
            corner = int(round(np.linalg.norm(sources[2] - mics[m]) / c * RATE))
            t["distractor_at_mic"] = [f + corner for f in taps]
    truth = {"seed": seed, "tempo": tempo, "bars": bars, "repeats": 2, "count_in": 1,
             "snr_db": snr, "distractor": with_distractor, "rt60": rt60, "parts": truth_parts}
    with open(os.path.join(folder, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
    print(f"{name}: {tempo} BPM bars {bars}, SNR {snr} dB, spill {spill_db[0]:.1f}/{spill_db[1]:.1f} dB, "
          f"rt60 {rt60:.2f} s, {'woodblock, ' if with_distractor else ''}"
          f"{truth_parts['clapper 1']['sound']} / {truth_parts['clapper 2']['sound']}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bandroom", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--takes", type=int, default=12)
    parser.add_argument("--flac", action="store_true")
    parser.add_argument("--bars", type=int, default=8, help="bars of the piece in each take (each played twice)")
    args = parser.parse_args()
    for i in range(args.takes):
        seed = args.seed * 1000 + i
        take(args.bandroom, args.out, f"take-{seed}", seed, args.flac, args.bars)


if __name__ == "__main__":
    main()
