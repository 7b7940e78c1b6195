//! The practice options of `render` and `record`: a section or bar range, several
//! passes or a tempo ramp, muted parts, one tier on its own; and `--cues`, the visual
//! cue stream written as CSV.
//!
//! Must not transform music itself: `bandroom::music::practice` does, and the engine's
//! cue functions say where each beat falls.

use anyhow::{Context, Result, bail};
use bandroom::engine::Score;
use bandroom::engine::TempoMap;
use bandroom::engine::cues::beat_cues;
use bandroom::music::Arrangement;
use bandroom::music::practice::{self, Ramp};
use bandroom::record::atomic_file::PendingFile;
use std::io::Write;
use std::path::Path;

/// The longest run of passes a practice may ask for.
const MAX_PASSES: u32 = 50;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct PracticeArgs {
    /// Practise one section (all its repeats), by name
    #[arg(long, value_name = "NAME", conflicts_with = "bars")]
    pub section: Option<String>,
    /// Practise bars A to B of the performance (repeats counted), e.g. 5-8
    #[arg(long, value_name = "A-B")]
    pub bars: Option<String>,
    /// Play the piece (or the section or bars chosen) N times in a row
    #[arg(long, value_name = "N", conflicts_with = "ramp")]
    pub passes: Option<u32>,
    /// A pass per tempo step, START:STEP:END in percent, e.g. 70:5:100
    #[arg(long, value_name = "S:STEP:E")]
    pub ramp: Option<String>,
    /// Silence these parts ("play along without me"), comma-separated
    #[arg(long, value_name = "PART,...", value_delimiter = ',')]
    pub mute: Vec<String>,
    /// Silence every part not at this tier
    #[arg(long, value_name = "TIER")]
    pub solo_tier: Option<String>,
}

impl PracticeArgs {
    /// Whether the piece is reshaped (a part of it, or passes at other tempi), which
    /// backing stems cannot follow.
    pub fn reshapes(&self) -> bool {
        self.section.is_some()
            || self.bars.is_some()
            || self.passes.is_some()
            || self.ramp.is_some()
    }
}

fn parse_bars(text: &str) -> Result<(u32, u32)> {
    let parsed = match text.split_once('-') {
        Some((a, b)) => a.trim().parse().ok().zip(b.trim().parse().ok()),
        None => text.trim().parse().ok().map(|a| (a, a)),
    };
    parsed.with_context(|| format!("--bars {text}: write the first and last bar, e.g. 5-8"))
}

/// The practice version of `arrangement` these options ask for, and the first pass's
/// share of the tempo (a ramp starts slower than the tempo chosen).
pub fn apply(arrangement: Arrangement, args: &PracticeArgs) -> Result<(Arrangement, u32)> {
    let mut result = arrangement;
    if let Some(name) = &args.section {
        let mut first = 1u64;
        let mut span = None;
        for section in &result.sections {
            let bars = u64::from(section.bars) * u64::from(section.repeats);
            if section.name.eq_ignore_ascii_case(name.trim()) && span.is_none() {
                span = Some((first, first + bars - 1));
            }
            first += bars;
        }
        let Some((a, b)) = span else {
            let names: Vec<&str> = result.sections.iter().map(|s| s.name.as_str()).collect();
            bail!(
                "--section {name:?}: '{}' has no such section; sections are: {}",
                result.title,
                names.join(", ")
            );
        };
        result = practice::bar_range(&result, a as u32, b as u32).map_err(anyhow::Error::msg)?;
    }
    if let Some(bars) = &args.bars {
        let (a, b) = parse_bars(bars)?;
        result = practice::bar_range(&result, a, b)
            .map_err(|e| anyhow::anyhow!("--bars {bars}: {e}"))?;
    }
    let mut first_percent = 100;
    if let Some(passes) = args.passes {
        if !(1..=MAX_PASSES).contains(&passes) {
            bail!("--passes {passes} is not allowed: use 1 to {MAX_PASSES}");
        }
        result = practice::passes(&result, passes);
    }
    if let Some(text) = &args.ramp {
        let ramp = Ramp::parse(text).map_err(|e| anyhow::anyhow!("--ramp: {e}"))?;
        first_percent = ramp.start_percent;
        result = practice::ramp(&result, ramp).map_err(|e| anyhow::anyhow!("--ramp: {e}"))?;
    }
    if !args.mute.is_empty() {
        result = practice::mute(&result, &args.mute).map_err(|e| anyhow::anyhow!("--mute: {e}"))?;
    }
    if let Some(tier) = &args.solo_tier {
        result = practice::solo_tier(&result, tier.trim())
            .map_err(|e| anyhow::anyhow!("--solo-tier: {e}"))?;
    }
    Ok((result, first_percent))
}

/// Writes one row per beat: `frame,count_in,bar,beat,section,pass`.
pub fn write_cues(path: &Path, score: &Score, tempo_map: &TempoMap) -> Result<()> {
    let (pending, file) = PendingFile::create(path)?;
    let mut csv = std::io::BufWriter::new(file);
    let cannot = || format!("cannot write {}", path.display());
    writeln!(csv, "frame,count_in,bar,beat,section,pass").with_context(cannot)?;
    for (frame, cue) in beat_cues(score, tempo_map) {
        let section = cue.section.map_or(String::new(), |i| {
            super::render::csv_field(&score.sections[i].name)
        });
        writeln!(
            csv,
            "{frame},{},{},{},{section},{}",
            u8::from(cue.count_in),
            cue.bar,
            cue.beat,
            cue.pass
        )
        .with_context(cannot)?;
    }
    csv.into_inner()
        .map_err(|e| e.into_error())
        .with_context(cannot)?;
    pending.commit()?;
    Ok(())
}
