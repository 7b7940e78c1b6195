//! `bandroom analyze TRACK.wav --arrangement ARR --part P`: how a recorded track lines
//! up with the part it played, with the same timeline options as `render`.
//!
//! Owns reading the track, building the expected timeline (score + tempo map, count-in
//! excluded but entries in its last half-beat kept), and printing the result as a
//! table or JSON. Must not detect onsets or match them itself (`analysis` does).

use super::render::{PerformanceArgs, plan_performance};
use anyhow::{Context, Result};
use bandroom::analysis::matching::{Analysis, Bands, Window};
use bandroom::jobs::{Judging, RoomTrack, analyse, read_track, room_onsets};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// The recorded (or rendered) track: a WAV file, or a keyboard's .mid (its note-ons
    /// are the onsets)
    pub track: PathBuf,
    /// The arrangement the track played along with
    #[arg(long, value_name = "ARR", required_unless_present = "all_onsets")]
    pub arrangement: Option<String>,
    /// The part the track played
    #[arg(long, value_name = "PART", required_unless_present = "all_onsets")]
    pub part: Option<String>,
    /// Print every onset bandroom detects in the track, one time in seconds a line,
    /// without a score (to compare with any other onset detector); with --room, only
    /// the claps of the track's own player
    #[arg(long, conflicts_with_all = ["arrangement", "part", "json"])]
    pub all_onsets: bool,
    #[command(flatten)]
    pub performance: PerformanceArgs,
    /// The sample rate of the timeline (default: the track's own)
    #[arg(long, value_name = "HZ")]
    pub sample_rate: Option<u32>,
    /// Frame of the track where the timeline starts (negative if it starts earlier)
    #[arg(
        long,
        value_name = "FRAMES",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub offset: i64,
    /// How far from its note an onset may be and still count: milliseconds (50ms) or a
    /// note value at the take's tempo (1/16)
    #[arg(long, value_name = "WINDOW", default_value = "50ms")]
    pub window: String,
    /// The tight, good and loose bands: milliseconds (16,33,50) or note values at the
    /// take's tempo (1/128,1/64,1/32)
    #[arg(long, value_name = "T,G,L", default_value = "16,33,50")]
    pub bands: String,
    /// The take's other microphones (WAVs on the same timeline): a clap one of them
    /// heard first and louder is its player's, counted as spill, never an extra
    #[arg(long, value_name = "WAV[,WAV…]", value_delimiter = ',')]
    pub room: Vec<PathBuf>,
    /// Print JSON (notes, extras, summary, sections, warnings) instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `--all-onsets`: every onset the detector finds, in seconds from the track's start
/// (with `--room`, those the room's other microphones leave to this track's player).
fn all_onsets(args: &AnalyzeArgs) -> Result<()> {
    let (track, rate) = read_track(&args.track, args.sample_rate)?;
    let bandroom::jobs::Track::Audio(samples) = track else {
        anyhow::bail!(
            "{} is a MIDI track: its note-ons are its onsets, read them with any MIDI tool",
            args.track.display()
        );
    };
    let settings = bandroom::analysis::onsets::OnsetSettings::default();
    let room = room_bursts(&args.room, rate)?;
    let claps = if room.is_empty() {
        bandroom::analysis::onsets::detect(&samples, rate, settings)
    } else {
        let bursts = bandroom::analysis::onsets::detect_bursts(&samples, rate, settings);
        bandroom::analysis::spill::own_claps(&bursts, &room, rate, settings).claps
    };
    for frame in claps {
        say!("{:.6}", frame as f64 / f64::from(rate));
    }
    Ok(())
}

/// The bursts the room's other microphones heard, on the track's timeline, each
/// named by its file.
fn room_bursts(room: &[PathBuf], rate: u32) -> Result<Vec<RoomTrack>> {
    room.iter()
        .map(|path| {
            room_onsets(path, rate)
                .map(|bursts| RoomTrack {
                    name: path.file_name().map_or_else(
                        || path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    ),
                    bursts,
                })
                .with_context(|| format!("reading the room's microphone {}", path.display()))
        })
        .collect()
}

pub fn analyze(args: &AnalyzeArgs, library: Option<&Path>) -> Result<()> {
    if args.all_onsets {
        return all_onsets(args);
    }
    let (Some(arrangement), Some(part)) = (&args.arrangement, &args.part) else {
        anyhow::bail!("give --arrangement ARR and --part P, or --all-onsets");
    };
    let (samples, rate) = read_track(&args.track, args.sample_rate)?;
    let window = Window::parse(&args.window).map_err(|e| anyhow::anyhow!("--window: {e}"))?;
    let music = plan_performance(arrangement, &args.performance, library)?;
    let (arrangement, options) = (music.arrangement, music.options);
    let tempo = bandroom::engine::Score::new(&arrangement, options)
        .tempo
        .as_f64();
    let bands =
        Bands::parse_at(&args.bands, Some(tempo)).map_err(|e| anyhow::anyhow!("--bands: {e}"))?;
    let room = room_bursts(&args.room, rate)?;
    let analysis = analyse(
        &samples,
        rate,
        &arrangement,
        options,
        part,
        Judging {
            offset: args.offset,
            window,
            bands,
            played_until: None,
        },
        &room,
    )?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&analysis)?);
    } else {
        print_table(&analysis, part);
    }
    Ok(())
}

fn ms(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| format!("{v:+.1} ms"))
}

fn print_table(analysis: &Analysis, part: &str) {
    let s = &analysis.summary;
    say!(
        "{part}: {} of {} notes hit ({:.0} %), {} missed, {} extra{}",
        s.hits,
        s.hits + s.misses,
        s.hit_rate * 100.0,
        s.misses,
        s.extras,
        if analysis.spill > 0 {
            format!(
                ", {} heard from the room's other players (left out)",
                analysis.spill
            )
        } else {
            String::new()
        }
    );
    say!(
        "timing: mean {} ({}), spread {}, drift {} per minute",
        ms(s.mean_deviation_ms),
        match s.mean_deviation_ms {
            Some(m) if m < -5.0 => "rushing",
            Some(m) if m > 5.0 => "dragging",
            Some(_) => "on the beat",
            None => "no hits",
        },
        s.sd_deviation_ms
            .map_or("-".into(), |v| format!("{v:.1} ms")),
        ms(s.drift_ms_per_minute)
    );
    say!(
        "bands: {} tight (±{} ms), {} good (±{} ms), {} loose (±{} ms)",
        s.tight,
        analysis.bands.tight_ms,
        s.good,
        analysis.bands.good_ms,
        s.loose,
        analysis.bands.loose_ms
    );
    say!(
        "{:<24} {:>6} {:>7} {:>7} {:>11} {:>10}  settled",
        "section",
        "hits",
        "missed",
        "extra",
        "mean",
        "spread"
    );
    for section in &analysis.sections {
        let t = &section.summary;
        say!(
            "{:<24} {:>6} {:>7} {:>7} {:>11} {:>10}  {}",
            section.name,
            t.hits,
            t.misses,
            t.extras,
            ms(t.mean_deviation_ms),
            t.sd_deviation_ms
                .map_or("-".into(), |v| format!("{v:.1} ms")),
            match section.settled_after_passes {
                Some(0) => "at once".to_string(),
                Some(p) => format!("after {p} pass(es)"),
                None => "not settled".to_string(),
            }
        );
    }
    for warning in &analysis.warnings {
        say!("warning: {warning}");
    }
}
