//! `bandroom assess`, `progress`, `reflect` and `frameworks …`: judgements and the
//! criteria they are made against.
//!
//! Must not contain SQL or framework parsing; it calls `bandroom::library`.

use super::open_library;
use anyhow::{Context, Result, bail};
use bandroom::library::{NewAssessment, parse_framework};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct AssessArgs {
    /// The take that shows it (its number in `bandroom takes list`)
    pub take: i64,
    #[arg(long, value_name = "PUPIL")]
    pub pupil: String,
    /// A criterion (strand) of the class's framework, e.g. pulse
    #[arg(long, value_name = "CRITERION")]
    pub criterion: String,
    /// A level number or name
    #[arg(long, value_name = "LEVEL")]
    pub level: String,
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub comment: String,
}

#[derive(clap::Args, Debug)]
pub struct ProgressArgs {
    #[arg(long, value_name = "PUPIL")]
    pub pupil: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ReflectArgs {
    pub take: i64,
    #[arg(long, value_name = "PUPIL")]
    pub pupil: String,
    #[arg(long, value_name = "TEXT")]
    pub text: String,
    /// Self-assessment, e.g. pulse=3,ensemble=2
    #[arg(long = "self", value_name = "CRITERION=LEVEL", value_delimiter = ',')]
    pub self_assessment: Vec<String>,
}

#[derive(clap::Subcommand, Debug)]
pub enum FrameworksAction {
    /// List frameworks, their versions and criteria
    List,
    /// Import a framework TOML (changed content under an existing name becomes a new version)
    Import { file: PathBuf },
}

pub fn assess(args: &AssessArgs, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    let take = lib.take(args.take)?;
    let pupil = lib.find_pupil(&args.pupil, None)?;
    lib.assess(&NewAssessment {
        pupil,
        take: Some(take.id),
        criterion: args.criterion.clone(),
        level: args.level.clone(),
        comment: args.comment.clone(),
        assessor: bandroom::library::current_actor(),
    })?;
    let progress = lib.progress(pupil)?;
    if let Some(latest) = progress
        .strands
        .iter()
        .filter_map(|s| s.latest.as_ref())
        .max_by_key(|a| a.id)
    {
        say!(
            "{}: {} level {} ({}) from take {}",
            progress.name,
            latest.criterion,
            latest.level,
            latest.label,
            take.id
        );
    }
    Ok(())
}

pub fn progress(args: &ProgressArgs, library: Option<&Path>) -> Result<()> {
    let lib = open_library(library)?;
    let pupil = lib.find_pupil(&args.pupil, None)?;
    let progress = lib.progress(pupil)?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&progress)?);
        return Ok(());
    }
    say!("{}", progress.name);
    let width = progress
        .strands
        .iter()
        .map(|s| s.title.chars().count())
        .max()
        .unwrap_or(0);
    for strand in &progress.strands {
        let history: Vec<String> = strand
            .history
            .iter()
            .map(|a| format!("{} {}", &a.assessed_at[..10], a.level))
            .collect();
        say!(
            "  {:<width$}  {:<26} {}",
            strand.title,
            strand
                .latest
                .as_ref()
                .map_or("not yet assessed".to_string(), |a| format!(
                    "{}/{} {}",
                    a.level, strand.levels, a.label
                )),
            history.join(", ")
        );
    }
    Ok(())
}

pub fn reflect(args: &ReflectArgs, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    let pupil = lib.find_pupil(&args.pupil, None)?;
    let pairs = args
        .self_assessment
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((c, l)) => Ok((c.trim().to_string(), l.trim().to_string())),
            None => bail!("--self {pair:?}: write CRITERION=LEVEL, e.g. pulse=3"),
        })
        .collect::<Result<Vec<_>>>()?;
    lib.add_reflection(args.take, pupil, &args.text, &pairs)?;
    say!("take {}: reflection saved", args.take);
    Ok(())
}

pub fn frameworks(action: &FrameworksAction, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    match action {
        FrameworksAction::List => {
            for f in lib.frameworks()? {
                let strands: Vec<String> = f
                    .strands
                    .iter()
                    .map(|(key, _, levels)| format!("{key}/{levels}"))
                    .collect();
                say!(
                    "{}\tv{}\t{}\t{}{}",
                    f.name,
                    f.version,
                    f.title,
                    strands.join(" "),
                    if f.in_use { "\tin use" } else { "" }
                );
            }
        }
        FrameworksAction::Import { file } => {
            let text =
                bandroom::own_files::read_regular_text(file, bandroom::own_files::SMALL_FILE_LIMIT)
                    .with_context(|| format!("cannot read the framework {}", file.display()))?;
            let def = parse_framework(&text, &file.display().to_string())?;
            let (_, version, new) = lib.import_framework_text(&def, &text)?;
            if new {
                say!("imported {} version {version}", def.name);
            } else {
                say!("{} version {version} is already in the library", def.name);
            }
        }
    }
    Ok(())
}
