//! The practice options of `render` and `record`: a section or bar range, several
//! passes or a tempo ramp, muted parts, one tier on its own; and `--cues`, the visual
//! cue stream written as CSV.
//!
//! Must not transform music itself: `bandroom::music::practice` does, and the engine's
//! cue functions say where each beat falls.

use anyhow::{Context, Result};
use bandroom::atomic_file::PendingFile;
use bandroom::engine::Score;
use bandroom::engine::TempoMap;
use bandroom::engine::cues::beat_cues;
use bandroom::music::practice::Ramp;
use bandroom::session::Practice;
use std::io::Write;
use std::path::Path;

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

fn parse_bars(text: &str) -> Result<(u32, u32)> {
    let parsed = match text.split_once('-') {
        Some((a, b)) => a.trim().parse().ok().zip(b.trim().parse().ok()),
        None => text.trim().parse().ok().map(|a| (a, a)),
    };
    parsed.with_context(|| format!("--bars {text}: write the first and last bar, e.g. 5-8"))
}

/// These options as the session's practice (the section is asked for separately:
/// the take remembers it).
pub fn to_practice(args: &PracticeArgs) -> Result<Practice> {
    Ok(Practice {
        bars: args.bars.as_deref().map(parse_bars).transpose()?,
        passes: args.passes,
        ramp: args
            .ramp
            .as_deref()
            .map(|text| Ramp::parse(text).map_err(|e| anyhow::anyhow!("--ramp: {e}")))
            .transpose()?,
        mute: args.mute.clone(),
        solo_tier: args.solo_tier.clone(),
    })
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
