//! `bandroom export` and `bandroom verify`: evidence bundles for leaders, moderators
//! and inspectors, and the check that a bundle is still what was exported.
//!
//! Must not build bundles itself (`bandroom::export` does).

use super::open_library_for_reading;
use anyhow::{Result, bail};
use bandroom::export::audio::AudioFormat;
use bandroom::export::bundle::{BundleKind, ExportRequest, export as write_bundle};
use bandroom::export::manifest::verify as verify_bundle;
use bandroom::export::zip_bundle::verify_zip;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KindArg {
    /// Each pupil's earliest and latest evidence per criterion, with judgements
    #[default]
    Progress,
    /// Every take of the lessons in the period (pupils not to be shared are left out)
    Lesson,
    /// Pseudonymised evidence without judgements, and a blank sheet for a moderator
    Moderation,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AudioArg {
    #[default]
    Wav,
    Flac,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// A class to export (repeat for several)
    #[arg(long, value_name = "NAME")]
    pub class: Vec<String>,
    /// Only this pupil (name, number or #id; repeat for several)
    #[arg(long, value_name = "PUPIL")]
    pub pupil: Vec<String>,
    /// Only this criterion, by key or title (repeat for several)
    #[arg(long, value_name = "KEY")]
    pub criterion: Vec<String>,
    /// The first day of the period (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", default_value = "2000-01-01")]
    pub from: String,
    /// The last day of the period (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", default_value = "2999-12-31")]
    pub to: String,
    /// What the bundle is for
    #[arg(long, value_enum, default_value_t)]
    pub kind: KindArg,
    /// How recordings are written (FLAC is lossless and about half the size)
    #[arg(long, value_enum, default_value_t)]
    pub audio: AudioArg,
    /// Name pupils only by stable codes (the key stays in the library)
    #[arg(long)]
    pub pseudonymise: bool,
    /// Replace a bundle that already exists at --out
    #[arg(long)]
    pub force: bool,
    /// The bundle to create: a folder, or a file ending .zip
    #[arg(long, value_name = "DIR|FILE.zip")]
    pub out: PathBuf,
}

fn check_date(flag: &str, text: &str) -> Result<()> {
    let ok = text.len() == 10
        && text.chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !ok {
        bail!("{flag} {text:?}: write a date as YYYY-MM-DD, e.g. 2026-09-01");
    }
    Ok(())
}

pub fn export(args: &ExportArgs, library: Option<&std::path::Path>) -> Result<()> {
    check_date("--from", &args.from)?;
    check_date("--to", &args.to)?;
    if args.from > args.to {
        bail!("--from {} is after --to {}", args.from, args.to);
    }
    let mut lib = open_library_for_reading(library)?;
    let classes = args
        .class
        .iter()
        .map(|c| lib.class_id(c))
        .collect::<Result<Vec<_>, _>>()?;
    let pupils = args
        .pupil
        .iter()
        .map(|p| lib.find_pupil(p, None))
        .collect::<Result<Vec<_>, _>>()?;
    let request = ExportRequest {
        kind: match args.kind {
            KindArg::Progress => BundleKind::Progress,
            KindArg::Lesson => BundleKind::Lesson,
            KindArg::Moderation => BundleKind::Moderation,
        },
        classes,
        pupils,
        criteria: args.criterion.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        audio: match args.audio {
            AudioArg::Wav => AudioFormat::Wav,
            AudioArg::Flac => AudioFormat::Flac,
        },
        pseudonymise: args.pseudonymise,
        force: args.force,
        out: args.out.clone(),
    };
    let interactive = std::io::stderr().is_terminal();
    let summary = write_bundle(&mut lib, &request, &mut |done, total| {
        if interactive && total > 0 {
            eprint!("\rwriting recordings: {done} of {total}");
            if done == total {
                eprintln!();
            }
        }
        true
    })?;
    if let Some(why) = &summary.not_audited {
        note!(
            "the export is not in the library's audit log ({why}): free some space on the \
             library's disk and note by hand that this bundle was made"
        );
    }
    for name in &summary.missing {
        say!("missing from the library (listed in the report): {name}");
    }
    say!(
        "{}: {} pupil(s), {} judgement(s), {} recording(s), {} files, {:.1} MB{}",
        args.out.display(),
        summary.pupils,
        summary.judgements,
        summary.recordings,
        summary.files,
        summary.bytes as f64 / 1e6,
        if request.pseudonymise || request.kind == BundleKind::Moderation {
            ", pseudonymised"
        } else {
            ""
        }
    );
    if !summary.missing.is_empty() {
        say!("run `bandroom check` to see what happened to the missing recordings");
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The bundle: a folder or a .zip
    pub bundle: PathBuf,
}

pub fn verify(args: &VerifyArgs) -> Result<()> {
    let result = if args.bundle.is_file() {
        verify_zip(&args.bundle)?
    } else {
        verify_bundle(&args.bundle)?
    };
    for name in &result.missing {
        say!("missing: {name}");
    }
    for name in &result.altered {
        say!("altered: {name}");
    }
    for name in &result.extra {
        say!("extra: {name}");
    }
    for name in &result.unsafe_entries {
        say!("unsafe: {name}");
    }
    if !result.is_intact() {
        bail!(
            "{} does not match its manifest: {} missing, {} altered, {} extra, {} unsafe",
            args.bundle.display(),
            result.missing.len(),
            result.altered.len(),
            result.extra.len(),
            result.unsafe_entries.len()
        );
    }
    say!(
        "{}: all {} files match the manifest",
        args.bundle.display(),
        result.checked
    );
    Ok(())
}
