#!/usr/bin/env python3
"""Scores bandroom, aubio and librosa on the same real-clap takes, side by side.

Usage: compare.py DIR BANDROOM [--peers] [--json FILE]

DIR holds take folders as generate.py writes them. For every microphone of every take:
- F at +-50 ms of the onsets found against the pupil's own claps (the neighbour's
  spill and the woodblock are not the pupil's), and the placement error of the matched
  ones (median and 95th percentile, ms): bandroom `analyze --all-onsets --room OTHER`,
  and with --peers aubio (complex, hfc) and librosa (onset_detect, backtracked);
- the calls a teacher reads: the share of "missed" notes the pupil really missed and of
  "extra" claps the pupil really made (bandroom from `analyze --json --room`, the peers
  through the same closest-first matching bandroom uses);
- the suggested timing level (the default framework's spread rule, 80/50/30/20/12 ms,
  no higher than 2 under four in five hit) against the level the true timing gives.
Rows per condition (SNR, with or without a woodblock player) and for all takes.
"""
import argparse, collections, glob, json, os, statistics, subprocess, sys

RATE = 48_000
WINDOW = 0.05
RULE = [80, 50, 30, 20, 12]


def f_score(truth, found):
    """Closest pairs first within the window: true positives and placement errors."""
    pairs = sorted((abs(f - t), i, j) for i, t in enumerate(truth) for j, f in enumerate(found) if abs(f - t) <= WINDOW)
    ti, fj, errors = set(), set(), []
    for d, i, j in pairs:
        if i not in ti and j not in fj:
            ti.add(i); fj.add(j); errors.append(d * 1000)
    return len(ti), len(found) - len(fj), len(truth) - len(ti), errors


def match(expected, found):
    """bandroom's matching: each note to the nearest unused onset, closest pairs first."""
    pairs = sorted((abs(f - e), i, j) for i, e in enumerate(expected) for j, f in enumerate(found) if abs(f - e) <= WINDOW)
    notes, used = {}, set()
    for d, i, j in pairs:
        if i not in notes and j not in used:
            notes[i] = j; used.add(j)
    return notes, [f for j, f in enumerate(found) if j not in used]


def level(deviations_ms, hit_rate):
    if hit_rate < 0.5 or not deviations_ms:
        return None
    sd = statistics.pstdev(deviations_ms)
    met = max([i + 1 for i, m in enumerate(RULE) if sd <= m], default=1)
    return min(met, 2) if hit_rate < 0.8 else met


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def seconds(text):
    return [float(x) for x in text.split() if x.strip()]


def peers(wav):
    import librosa
    found = {
        "aubio complex": seconds(run(["aubioonset", "-i", wav, "-O", "complex"])),
        "aubio hfc": seconds(run(["aubioonset", "-i", wav, "-O", "hfc"])),
    }
    y, sr = librosa.load(wav, sr=None)
    found["librosa"] = list(librosa.onset.onset_detect(y=y, sr=sr, units="time", backtrack=True))
    return found


def bandroom(exe, take, truth, mic, other, part):
    try:
        onsets = seconds(run([exe, "analyze", mic, "--all-onsets", "--room", other]))
    except subprocess.CalledProcessError:
        # A bandroom whose --all-onsets does not read the room: every onset it finds.
        onsets = seconds(run([exe, "analyze", mic, "--all-onsets"]))
    analysis = json.loads(run([
        exe, "analyze", mic, "--arrangement", "clapping-music", "--part", part,
        "--tempo", str(truth["tempo"]), "--bars", truth["bars"], "--repeats", str(truth["repeats"]),
        "--count-in", str(truth["count_in"]), "--room", other, "--json"]))
    return onsets, analysis


def calls_from_analysis(analysis, expected):
    missed = [i for i, n in enumerate(analysis["notes"]) if n["status"] == "miss"]
    extras = [e["detected_frame"] / RATE for e in analysis["extras"]]
    s = analysis["summary"]
    unclear = [i for i, n in enumerate(analysis["notes"]) if n["status"] == "unclear"]
    lvl = None
    if s["sd_deviation_ms"] is not None:
        met = max([i + 1 for i, m in enumerate(RULE) if s["sd_deviation_ms"] <= m], default=1)
        lvl = None if s["hit_rate"] < 0.5 else (min(met, 2) if s["hit_rate"] < 0.8 else met)
    return missed, extras, lvl, unclear


def calls_from_onsets(found, expected):
    notes, extras = match(expected, found)
    missed = [i for i in range(len(expected)) if i not in notes]
    hits = len(notes)
    deviations = [(found[j] - expected[i]) * 1000 for i, j in notes.items()]
    return missed, extras, level(deviations, hits / max(len(expected), 1))


class Tally:
    def __init__(self):
        self.tp = self.fp = self.fn = 0
        self.errors = []
        self.missed = [0, 0]
        self.extra = [0, 0]
        self.levels = [0, 0]
        self.unclear = 0

    def add_f(self, truth, found):
        tp, fp, fn, errors = f_score(truth, found)
        self.tp += tp; self.fp += fp; self.fn += fn; self.errors += errors

    def add_calls(self, missed, extras, lvl, part, true_level):
        for i in missed:
            self.missed[0] += part["played"][i] is None
            self.missed[1] += 1
        true_extras = [f / RATE for f in part["extras_at_mic"]]
        for e in extras:
            self.extra[0] += any(abs(e - t) <= WINDOW for t in true_extras)
            self.extra[1] += 1
        self.levels[0] += lvl is not None and true_level is not None and abs(lvl - true_level) <= 1
        self.levels[0] += lvl is None and true_level is None
        self.levels[1] += 1

    def row(self, name):
        f = 2 * self.tp / max(2 * self.tp + self.fp + self.fn, 1)
        e = sorted(self.errors)
        med = e[len(e) // 2] if e else float("nan")
        p95 = e[int(len(e) * 0.95)] if e else float("nan")
        share = lambda a: f"{a[0]}/{a[1]} ({100 * a[0] / a[1]:.0f} %)" if a[1] else "-"
        return (f"  {name:14} F {f:.3f} (tp {self.tp}, fp {self.fp}, fn {self.fn}), |error| median {med:.2f} ms p95 {p95:.2f} ms; "
                f"missed right {share(self.missed)}, extra right {share(self.extra)}, level within one {share(self.levels)}"
                + (f", unclear {self.unclear}" if self.unclear else ""))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("bandroom")
    parser.add_argument("--peers", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    tallies = collections.defaultdict(lambda: collections.defaultdict(Tally))
    for folder in sorted(glob.glob(os.path.join(args.dir, "*", "truth.json"))):
        take = os.path.dirname(folder)
        truth = json.load(open(folder))
        condition = f"{truth['snr_db']} dB" + (", woodblock" if truth["distractor"] else "")
        parts = list(truth["parts"].items())
        for m, (name, part) in enumerate(parts):
            mic = os.path.join(take, part["mic"])
            other = os.path.join(take, parts[1 - m][1]["mic"])
            own = [f / RATE for f in part["played_at_mic"] if f is not None] + [f / RATE for f in part["extras_at_mic"]]
            expected = [f / RATE for f in part["expected"]]
            true_dev = [(p - e) * 1000 / RATE for p, e in zip(part["played_at_mic"], part["expected"]) if p is not None]
            true_level = level(true_dev, len(true_dev) / len(expected))
            onsets, analysis = bandroom(args.bandroom, take, truth, mic, other, name)
            missed, extras, lvl, unclear = calls_from_analysis(analysis, expected)
            for key in (condition, "all"):
                t = tallies[key]["bandroom"]
                t.add_f(own, onsets)
                t.add_calls(missed, extras, lvl, part, true_level)
                t.unclear += len(unclear)
            if args.peers:
                for peer, found in peers(mic).items():
                    missed, extras, lvl = calls_from_onsets(found, expected)
                    for key in (condition, "all"):
                        tallies[key][peer].add_f(own, found)
                        tallies[key][peer].add_calls(missed, extras, lvl, part, true_level)
    for key in sorted(tallies, key=lambda k: (k == "all", k)):
        print(key)
        for name, t in tallies[key].items():
            print(t.row(name))


if __name__ == "__main__":
    main()
