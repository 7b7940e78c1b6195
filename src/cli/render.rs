//! `bandroom render` and `bandroom arrangements`: offline renders of the repertoire.
//!
//! Owns the render command's checks (every input before any file is created), its
//! outputs (mix, stems, events CSV, all written whole or not at all) and its summary.
//! Must not contain engine or file-format logic of its own.

use anyhow::{Context, Result, bail};
use bandroom::atomic_file::PendingFile;
use bandroom::audio::offline::{self, RenderSettings, RenderedBlock};
use bandroom::engine::{CLICK_LANE_NAME, Command, Engine, EngineConfig, Event, MAX_BLOCK_FRAMES};
use bandroom::music::{self, Arrangement};
use bandroom::record::{WavFormat, WavOutput};
use bandroom::session::{PlanError, PlayRequest, PreparedMusic, Setting};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Silence after the last bar so final notes ring out.
pub const TAIL_SECS: u64 = 1;

#[derive(clap::Args, Debug)]
pub struct RenderArgs {
    /// A built-in name (see `bandroom arrangements`) or a path to an arrangement .toml
    pub arrangement: String,
    /// The WAV file to write
    #[arg(long, value_name = "F.wav")]
    pub out: PathBuf,
    #[command(flatten)]
    pub performance: PerformanceArgs,
    #[arg(long, value_name = "HZ", default_value_t = 48_000)]
    pub sample_rate: u32,
    /// Frames per engine block (the output is identical for every block size)
    #[arg(long, value_name = "FRAMES", default_value_t = 512)]
    pub block: usize,
    /// Also write one WAV per part, and click.wav, into this folder
    #[arg(long, value_name = "DIR")]
    pub stems: Option<PathBuf>,
    /// Also write every scheduled note and click as CSV (frame,part,kind,velocity)
    #[arg(long, value_name = "F.csv")]
    pub events: Option<PathBuf>,
    /// Also write the visual cue stream, one row per beat (frame,count_in,bar,beat,section,pass)
    #[arg(long, value_name = "F.csv")]
    pub cues: Option<PathBuf>,
    /// Leave the metronome out (count-in included)
    #[arg(long)]
    pub no_click: bool,
    /// Add metronome clicks between beats
    #[arg(long)]
    pub sub_beats: bool,
    /// Sample format: float32, pcm24 or pcm16
    #[arg(long, value_name = "FORMAT", default_value = "float32")]
    pub format: String,
    /// Replace files that already exist at --out, --events, --cues or in --stems
    #[arg(long)]
    pub force: bool,
}

/// Refuses to write over an existing file unless `--force` was given: a teacher's
/// `keep.wav` is not a render's to replace.
fn refuse_existing(paths: &[&Path], force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    // A folder in the way gets the writer's own message ("names a folder").
    if let Some(taken) = paths
        .iter()
        .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| !m.is_dir()))
    {
        bail!(
            "{} already exists: choose another name, or add --force to replace it",
            taken.display()
        );
    }
    Ok(())
}

/// The school's own arrangements, in the library folder (the session says where).
pub fn user_folder(library: Option<&Path>) -> Option<PathBuf> {
    super::library_dir(library)
        .ok()
        .map(|dir| bandroom::library::arrangements_folder(&dir))
}

/// "name (tier), ..." for a listing line.
fn parts_and_tiers(arr: &Arrangement) -> String {
    arr.parts
        .iter()
        .map(|p| format!("{} ({})", p.name, p.tier))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn list_arrangements(library: Option<&Path>) -> Result<()> {
    let line = |name: &str, arr: &Arrangement, about: &str| {
        say!(
            "{name:<16} {} — {about}; {}, ♩ = {} ({}–{}), {} sections; parts: {}",
            arr.title,
            arr.meter,
            arr.tempo.default,
            arr.tempo.practice_min,
            arr.tempo.practice_max,
            arr.sections.len(),
            parts_and_tiers(arr)
        );
    };
    for builtin in music::BUILT_INS {
        let arr = builtin
            .load()
            .with_context(|| format!("built-in arrangement '{}'", builtin.name))?;
        line(builtin.name, &arr, builtin.summary);
    }
    if let Some(folder) = user_folder(library) {
        for (name, loaded) in music::user_arrangements(&folder) {
            match loaded {
                Ok(arr) => line(&name, &arr, "your school's arrangement"),
                // One bad file must not hide the others: say what is wrong and go on.
                Err(e) => say!("{name:<16} cannot be used: {e}"),
            }
        }
    }
    Ok(())
}

/// Everything `render` needs, checked before any output is created.
struct RenderPlan {
    music: PreparedMusic,
    config: EngineConfig,
    format: WavFormat,
}

/// The performance options shared by `render` and `record`.
#[derive(clap::Args, Debug, Clone)]
pub struct PerformanceArgs {
    /// Tempo in quarter notes per minute (default: the arrangement's)
    #[arg(long, value_name = "BPM")]
    pub tempo: Option<f64>,
    /// Play every section N times (Clapping Music: 12 in the score, 4 or 8 in class)
    #[arg(long, value_name = "N")]
    pub repeats: Option<u32>,
    /// Bars of metronome before the piece
    #[arg(long, value_name = "BARS", default_value_t = 1)]
    pub count_in: u32,
    #[command(flatten)]
    pub practice: super::practice::PracticeArgs,
}

/// A refused setting in the command line's words: the flag, then the value and why.
pub fn in_flags(e: PlanError) -> anyhow::Error {
    let PlanError::NotAllowed { setting, reason } = e else {
        return e.into();
    };
    let flag = match setting {
        Setting::Piece => return anyhow::anyhow!("{reason}"),
        Setting::Section => return anyhow::anyhow!("--section {reason}"),
        Setting::Repeats => "--repeats",
        Setting::CountIn => "--count-in",
        Setting::Passes => "--passes",
        Setting::Tempo => "--tempo:",
        Setting::Bars => "--bars:",
        Setting::Ramp => "--ramp:",
        Setting::Mute => "--mute:",
        Setting::SoloTier => "--solo-tier:",
        Setting::Inputs => "--inputs:",
    };
    anyhow::anyhow!("{flag} {reason}")
}

/// Loads `arr` and checks the performance options against it, through the session's
/// plan (the same checks a take in the app gets). Notes are printed.
pub fn plan_performance(
    arr: &str,
    args: &PerformanceArgs,
    library: Option<&Path>,
) -> Result<PreparedMusic> {
    let root = super::library_dir(library)?;
    let request = PlayRequest {
        arrangement: arr.to_string(),
        tempo_bpm: args.tempo,
        repeats: args.repeats,
        count_in_bars: args.count_in,
        section: args.practice.section.clone(),
        practice: super::practice::to_practice(&args.practice)?,
    };
    let mut notes = Vec::new();
    let music = bandroom::session::prepare_music(&root, &request, &mut notes).map_err(in_flags)?;
    for n in notes {
        note!("{n}");
    }
    Ok(music)
}

fn plan_render(args: &RenderArgs, library: Option<&Path>) -> Result<RenderPlan> {
    let music = plan_performance(&args.arrangement, &args.performance, library)?;
    if args.block == 0 || args.block > MAX_BLOCK_FRAMES {
        bail!(
            "--block {} is not allowed: use 1 to {MAX_BLOCK_FRAMES} frames",
            args.block
        );
    }
    let format = WavFormat::parse(&args.format).map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    Ok(RenderPlan {
        music,
        config: EngineConfig {
            sample_rate_hz: args.sample_rate,
            max_block_frames: args.block,
            stems: args.stems.is_some(),
            ..EngineConfig::default()
        },
        format,
    })
}

/// A file name for a part's stem: the part's name with path separators and other
/// characters file systems refuse replaced.
fn stem_file_name(part: &str) -> String {
    let cleaned: String = part
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '-',
            c if c.is_control() => '-',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    if cleaned.is_empty() {
        "part.wav".to_string()
    } else {
        format!("{cleaned}.wav")
    }
}

pub fn render(args: &RenderArgs, library: Option<&Path>) -> Result<()> {
    let mut outputs: Vec<&Path> = vec![args.out.as_path()];
    outputs.extend(args.events.as_deref());
    outputs.extend(args.cues.as_deref());
    refuse_existing(&outputs, args.force)?;
    let plan = plan_render(args, library)?;
    let mut notes = Vec::new();
    let score = plan.music.score(plan.config.sample_rate_hz, &mut notes)?;
    for n in notes {
        note!("{n}");
    }
    let lane_names: Vec<String> = score.lanes.iter().map(|l| l.name.clone()).collect();
    let lane_sounds: Vec<_> = score.lanes.iter().map(|l| l.sound).collect();
    let tempo = score.tempo;
    // A render never clips: the mix is measured first (without the live limiter), and
    // written at a master gain that keeps its peak at −1 dBFS if it would pass it.
    let config = EngineConfig {
        limit: false,
        ..plan.config
    };
    let master = safe_master_gain(&score, config, args)?;
    let (engine, handle) = Engine::new(score, config)?;
    if master < 1.0 {
        handle.send(Command::SetMasterGain { gain: master })?;
    }
    if let Some(path) = &args.cues {
        super::practice::write_cues(path, engine.score(), engine.tempo_map())?;
    }
    clicks_as_asked(&handle, args)?;
    let sample_rate = plan.config.sample_rate_hz;
    let channels = plan.config.output_channels as u16;

    let mut mix = WavOutput::create(&args.out, channels, sample_rate, plan.format)?;
    let mut stems = Vec::new();
    if let Some(dir) = &args.stems {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create the stems folder {} (check you may write there)",
                dir.display()
            )
        })?;
        let mut seen = std::collections::HashSet::new();
        for name in &lane_names {
            let file = stem_file_name(name);
            refuse_existing(&[&dir.join(&file)], args.force)?;
            if !seen.insert(file.to_lowercase()) {
                bail!(
                    "two parts would both be written to {} in {}: rename one of them",
                    file,
                    dir.display()
                );
            }
            stems.push(WavOutput::create(
                &dir.join(file),
                channels,
                sample_rate,
                plan.format,
            )?);
        }
    }
    let mut events = match &args.events {
        Some(path) => {
            let (pending, file) = PendingFile::create(path)?;
            let mut csv = std::io::BufWriter::new(file);
            writeln!(csv, "frame,part,kind,velocity")
                .with_context(|| format!("cannot write {}", path.display()))?;
            Some((pending, csv))
        }
        None => None,
    };

    let settings = RenderSettings {
        block_frames: args.block,
        tail_frames: TAIL_SECS * u64::from(sample_rate),
    };
    let summary = offline::render(engine, &handle, settings, |block: RenderedBlock<'_>| {
        mix.write(block.mix)?;
        for (lane, stem) in stems.iter_mut().enumerate() {
            if let Some(samples) = block.engine.stem(lane) {
                stem.write(samples)?;
            }
        }
        if let Some((pending, csv)) = events.as_mut() {
            for event in block.events {
                if let Event::Note {
                    output_frame,
                    lane,
                    role,
                    velocity,
                    ..
                } = *event
                {
                    let kind = lane_sounds[lane].kind_name(role);
                    writeln!(
                        csv,
                        "{output_frame},{},{kind},{velocity}",
                        csv_field(&lane_names[lane])
                    )
                    .with_context(|| format!("cannot write {}", pending.dest().display()))?;
                }
            }
        }
        anyhow::Ok(())
    })
    .map_err(|e| anyhow::anyhow!("{e:#}"))?;

    let out = finish_outputs(mix, stems, &lane_names, plan.format)?;
    if let Some((pending, csv)) = events {
        let dest = pending.dest().to_path_buf();
        csv.into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", dest.display()))?;
        pending.commit()?;
    }

    let secs = summary.frames as f64 / f64::from(sample_rate);
    let peak_db = 20.0 * f64::from(summary.peak.max(1e-9)).log10();
    say!(
        "{}: {} ({}, ♩ = {tempo}) — {}, {sample_rate} Hz, {} ch, {}; peak {peak_db:.1} dBFS; {} notes, {} clicks",
        out.display(),
        plan.music.arrangement.title,
        plan.music.arrangement.meter,
        bandroom::time_text::clock(secs),
        channels,
        plan.format.describe(),
        summary.notes,
        summary.clicks
    );
    if let Some(dir) = &args.stems {
        say!(
            "stems: {} ({} parts + {CLICK_LANE_NAME}.wav)",
            dir.display(),
            lane_names.len() - 1
        );
    }
    Ok(())
}

/// Completes the mix and the stems, and says how many samples of each PCM could not
/// hold. The mix is kept under full scale by the master gain; a part's stem alone may
/// still pass it (parts that cancel in the mix): said, never silent.
fn finish_outputs(
    mix: WavOutput,
    stems: Vec<WavOutput>,
    lane_names: &[String],
    format: WavFormat,
) -> Result<PathBuf> {
    let mut clipped: Vec<(String, u64)> = stems
        .iter()
        .zip(lane_names)
        .map(|(stem, name)| (format!("the stem of '{name}'"), stem.clipped_samples()))
        .collect();
    let mix_clipped = mix.clipped_samples();
    let out = mix.finish()?;
    clipped.insert(0, (out.display().to_string(), mix_clipped));
    for stem in stems {
        stem.finish()?;
    }
    for (what, samples) in clipped.iter().filter(|(_, n)| *n > 0) {
        note!(
            "{samples} samples of {what} were beyond full scale and written as full scale \
             ({}): render with --format float32 to keep them, or lower that part's gain",
            format.describe()
        );
    }
    Ok(out)
}

/// The highest peak a render is written at: −1 dBFS, the usual headroom for a file that
/// may be encoded again (MP3, a video's soundtrack).
const RENDER_CEILING: f32 = 0.891;

/// The click as the command line asks: off, or with sub-beats.
fn clicks_as_asked(handle: &bandroom::engine::EngineHandle, args: &RenderArgs) -> Result<()> {
    if args.no_click {
        handle.send(Command::SetClickEnabled { enabled: false })?;
    }
    if args.sub_beats {
        handle.send(Command::SetSubBeats { enabled: true })?;
    }
    Ok(())
}

/// The master gain that keeps the render at or under [`RENDER_CEILING`]: 1.0 when the
/// mix does not reach it, else the step down, which is said.
fn safe_master_gain(
    score: &bandroom::engine::Score,
    config: EngineConfig,
    args: &RenderArgs,
) -> Result<f32> {
    let raw_peak = measure_peak(score, config, args)?;
    if raw_peak <= RENDER_CEILING {
        return Ok(1.0);
    }
    let over = 20.0 * f64::from(raw_peak).log10();
    let down = 20.0 * f64::from(raw_peak / RENDER_CEILING).log10();
    note!(
        "the mix would peak at {over:+.1} dBFS and clip: it is written {down:.1} dB \
         quieter, peaking at −1.0 dBFS (stems too, so they still add up to the mix)"
    );
    Ok(RENDER_CEILING / raw_peak)
}

/// The peak of the whole mix as the engine plays it, rendered once into nothing (a
/// render runs hundreds of times faster than real time, so this costs little).
fn measure_peak(
    score: &bandroom::engine::Score,
    config: EngineConfig,
    args: &RenderArgs,
) -> Result<f32> {
    let (engine, handle) = Engine::new(
        score.clone(),
        EngineConfig {
            stems: false,
            ..config
        },
    )?;
    clicks_as_asked(&handle, args)?;
    let settings = RenderSettings {
        block_frames: args.block,
        tail_frames: TAIL_SECS * u64::from(config.sample_rate_hz),
    };
    let summary = offline::render(engine, &handle, settings, |_| anyhow::Ok(()))
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    Ok(summary.peak)
}

/// Quotes a CSV field when it holds a comma, quote or line break.
pub(super) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stem_names_are_safe_files() {
        assert_eq!(stem_file_name("clapper 1"), "clapper 1.wav");
        assert_eq!(stem_file_name("a/b"), "a-b.wav");
        assert_eq!(stem_file_name("../x"), "-x.wav");
        assert_eq!(stem_file_name("..."), "part.wav");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("bass"), "bass");
        assert_eq!(csv_field("a, \"b\""), "\"a, \"\"b\"\"\"");
    }
}
