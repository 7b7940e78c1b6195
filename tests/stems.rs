//! Backing stems: an audio file played as a part, resampled to the session rate,
//! starting on bar 1 to the frame and keeping its length; off, with the reason said, at
//! a practice tempo; clear errors for missing or unreadable files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::path::Path;

/// A mono 44.1 kHz WAV of `secs` seconds, silent but for single-sample clicks at `clicks`.
fn clicks_wav(path: &Path, secs: u32, clicks: &[u64]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..u64::from(secs) * 44_100 {
        writer
            .write_sample(if clicks.contains(&i) { 30_000i16 } else { 0 })
            .unwrap();
    }
    writer.finalize().unwrap();
}

/// 31 bars of 4/4 at 120 BPM (62 s) with a backing stem and nothing else.
fn piece_with_stem(dir: &Path, stem: &str) {
    std::fs::write(
        dir.join("backing.toml"),
        format!(
            "title = \"With a backing\"\nmeter = \"4/4\"\n[tempo]\nbpm = 120\n\
             [[part]]\nname = \"backing\"\nstem = \"{stem}\"\n\
             [[section]]\nname = \"A\"\nbars = 31\n"
        ),
    )
    .unwrap();
}

fn peak_frames(samples: &[f32], channels: usize) -> Vec<u64> {
    // Local maxima above half the loudest sample, one per click.
    let left: Vec<f32> = samples.chunks(channels).map(|f| f[0].abs()).collect();
    let loudest = left.iter().fold(0.0f32, |a, b| a.max(*b));
    (1..left.len() - 1)
        .filter(|&i| left[i] > loudest * 0.5 && left[i] >= left[i - 1] && left[i] > left[i + 1])
        .map(|i| i as u64)
        .collect()
}

#[test]
fn a_44_1_khz_stem_starts_on_bar_one_and_keeps_its_length_at_48_khz() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clicks = [44_100u64, 30 * 44_100, 59 * 44_100];
    clicks_wav(&d.join("clicks.wav"), 60, &clicks);
    piece_with_stem(d, "clicks.wav");
    let output = bandroom(
        &[
            "render",
            "backing.toml",
            "--count-in",
            "1",
            "--out",
            "mix.wav",
            "--stems",
            "stems",
        ],
        d,
    );
    assert_ok(&output);
    assert_contains(&stderr(&output), "resampled from 44100 Hz to 48000 Hz");
    let (samples, channels) = read_wav(&d.join("stems/backing.wav"));
    let bar_one = 96_000; // one count-in bar at 120 BPM
    let expected: Vec<u64> = clicks
        .iter()
        .map(|c| bar_one + (c * 48_000 + 22_050) / 44_100)
        .collect();
    let found = peak_frames(&samples, channels);
    assert_eq!(found.len(), 3, "{found:?}");
    for (f, e) in found.iter().zip(&expected) {
        assert!(
            f.abs_diff(*e) <= 1,
            "click at {f}, expected {e} (±1 frame): {found:?}"
        );
    }
    // Nothing before bar 1: the stem starts with the piece, not the count-in.
    let before: f32 = samples[..bar_one as usize * channels]
        .iter()
        .map(|x| x.abs())
        .sum();
    assert_eq!(before, 0.0);
}

#[test]
fn a_practice_tempo_turns_stems_off_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    clicks_wav(&d.join("clicks.wav"), 5, &[44_100]);
    piece_with_stem(d, "clicks.wav");
    let output = bandroom(
        &[
            "render",
            "backing.toml",
            "--tempo",
            "100",
            "--out",
            "slow.wav",
            "--stems",
            "stems",
        ],
        d,
    );
    assert_ok(&output);
    let message = stderr(&output);
    assert!(
        message.contains("backing stem(s) backing are off: they play only at the written tempo (120 BPM), not at 100 BPM"),
        "{message}"
    );
    let (samples, _) = read_wav(&d.join("stems/backing.wav"));
    assert!(
        samples.iter().all(|x| *x == 0.0),
        "no stem at the wrong tempo"
    );
    let bars = bandroom(
        &["render", "backing.toml", "--bars", "2-3", "--out", "b.wav"],
        d,
    );
    assert_contains(&stderr(&bars), "not a section, bar range, passes or a ramp");
}

#[test]
fn missing_and_unreadable_stems_name_the_file_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    piece_with_stem(d, "nowhere.wav");
    let missing = bandroom(&["render", "backing.toml", "--out", "x.wav"], d);
    assert!(!missing.status.success());
    let message = stderr(&missing);
    assert!(
        message.contains("part 'backing'") && message.contains("nowhere.wav"),
        "{message}"
    );
    assert!(
        message.contains("put the file beside the arrangement"),
        "{message}"
    );

    std::fs::write(d.join("notes.mp3"), b"these are my notes, not audio").unwrap();
    piece_with_stem(d, "notes.mp3");
    let unreadable = bandroom(&["render", "backing.toml", "--out", "x.wav"], d);
    let message = stderr(&unreadable);
    assert!(
        message.contains("is not audio bandroom can read"),
        "{message}"
    );
    assert!(
        message.contains("WAV, FLAC, MP3 or Ogg Vorbis"),
        "{message}"
    );
    assert!(!d.join("x.wav").exists());

    std::fs::write(
        d.join("both.toml"),
        "title = \"Both\"\nmeter = \"4/4\"\n[tempo]\nbpm = 120\n[[part]]\nname = \"b\"\nstem = \"x.wav\"\n\
         [[section]]\nname = \"A\"\nbars = 1\n[[section.play]]\npart = \"b\"\nrhythm = \"x . . .\"\nstep = \"1/4\"\n",
    )
    .unwrap();
    let both = bandroom(&["render", "both.toml", "--out", "x.wav"], d);
    assert_contains(&stderr(&both), "line 12: part 'b' plays a stem");
}

#[test]
fn flac_ogg_vorbis_and_mp3_stems_decode_to_their_length_with_the_click_in_place() {
    use bandroom::audio::stems::load_stem;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    // The MP3's encoder delay (LAME's tag says how much) is taken off, so its click lands
    // where the WAV's did, not about 1,100 samples late.
    for (file, tolerance) in [
        ("stem-click.flac", 1u64),
        ("stem-click.ogg", 3),
        ("stem-click.mp3", 3),
    ] {
        let stem = load_stem(&data.join(file), 48_000, 3600.0).unwrap();
        assert_eq!(stem.source_rate, 44_100, "{file}");
        assert_eq!(
            stem.source_frames, 88_200,
            "{file}: every frame, no encoder padding"
        );
        assert!(
            stem.samples.len().abs_diff(96_000) <= 1,
            "{file}: {} frames",
            stem.samples.len()
        );
        let peak = peak_frames(&stem.samples, 1);
        assert_eq!(peak.len(), 1, "{file}: {peak:?}");
        assert!(
            peak[0].abs_diff(24_000) <= tolerance,
            "{file}: click at {}",
            peak[0]
        );
    }
}

/// Every WAV form, FLAC and Ogg Vorbis that other programs wrote is read by the one
/// reader, as the same sine, and `analyze` takes each of them (it refused FLAC, Ogg and
/// 64-bit float; stems refused big-endian RIFX and WAVE_FORMAT_EXTENSIBLE).
#[test]
fn audio_written_by_other_programs_is_read_by_stems_and_analyze() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/other-programs");
    let (reference, rate) =
        bandroom::audio::decode::decode_mono(&data.join("s16.wav"), 10.0).unwrap();
    assert_eq!((reference.len(), rate), (2000, 8000));
    let peak = reference.iter().fold(0.0f32, |p, x| p.max(x.abs()));
    assert!((0.49..0.51).contains(&peak), "{peak}");
    for (file, tolerance) in [
        ("u8.wav", 0.02),
        ("s24.wav", 1e-4),
        ("s32.wav", 1e-4),
        ("f32.wav", 1e-4),
        ("f64.wav", 1e-4),
        ("ulaw.wav", 0.02),
        ("alaw.wav", 0.02),
        ("rifx.wav", 1e-4),
        ("ext3ch.wav", 1e-4),
        ("rf64.wav", 1e-6),
        ("rf64-s24.wav", 1e-4),
        ("s20.wav", 1e-4),
        ("s16.flac", 1e-6),
    ] {
        let (samples, file_rate) = bandroom::audio::decode::decode_mono(&data.join(file), 10.0)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(file_rate, 8000, "{file}");
        assert_eq!(samples.len(), reference.len(), "{file}");
        let worst = samples
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= tolerance, "{file}: off by {worst}");
    }
    // Vorbis and MP3 are lossy and pad: the same level, not the same samples.
    let rms = |s: &[f32]| (s.iter().map(|x| x * x).sum::<f32>() / s.len() as f32).sqrt();
    for lossy in ["vorbis.ogg", "lame.mp3"] {
        let (samples, _) = bandroom::audio::decode::decode_mono(&data.join(lossy), 10.0)
            .unwrap_or_else(|e| panic!("{lossy}: {e}"));
        let level = rms(&samples[..reference.len().min(samples.len())]);
        assert!(
            (level - rms(&reference)).abs() < 0.03,
            "{lossy}: rms {level}"
        );
    }
    for file in [
        "u8.wav",
        "s24.wav",
        "f64.wav",
        "ulaw.wav",
        "rifx.wav",
        "ext3ch.wav",
        "rf64-s24.wav",
        "s20.wav",
        "s16.flac",
        "vorbis.ogg",
        "lame.mp3",
    ] {
        let out = bandroom(
            &[
                "analyze",
                data.join(file).to_str().unwrap(),
                "--arrangement",
                "clapping-music",
                "--part",
                "clapper 1",
                "--json",
            ],
            &data,
        );
        assert!(
            out.status.success(),
            "analyze {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
