//! `bandroom export` and `bandroom verify`: evidence bundles for leaders, moderators
//! and inspectors, and the check that a bundle is still what was exported.
//!
//! Must not build bundles itself (`bandroom::export` does).

use super::open_library;
use anyhow::{Result, bail};
use bandroom::export::bundle::{ExportRequest, export_progress};
use bandroom::export::manifest::verify as verify_bundle;
use bandroom::export::zip_bundle::{pack, verify_zip};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The class whose progress to export
    #[arg(long, value_name = "NAME")]
    pub class: String,
    /// The first day of the period (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", default_value = "2000-01-01")]
    pub from: String,
    /// The last day of the period (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", default_value = "2999-12-31")]
    pub to: String,
    /// Name pupils only by stable codes (the key stays in the library)
    #[arg(long)]
    pub pseudonymise: bool,
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
    let zipped = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if zipped && args.out.exists() {
        bail!(
            "{} already exists: choose a new name for the bundle",
            args.out.display()
        );
    }
    let mut lib = open_library(library)?;
    let class = lib.class_id(&args.class)?;
    // A zip is packed from a finished folder, which is then removed.
    let folder = if zipped {
        args.out.with_extension("folder")
    } else {
        args.out.clone()
    };
    let summary = export_progress(
        &mut lib,
        &ExportRequest {
            class,
            from: args.from.clone(),
            to: args.to.clone(),
            pseudonymise: args.pseudonymise,
            out: folder.clone(),
        },
    )?;
    if zipped {
        let packed = pack(&folder, &args.out);
        let _ = std::fs::remove_dir_all(&folder);
        packed?;
    }
    say!(
        "{}: {} pupil(s), {} judgement(s), {} recording(s), {} files, {:.1} MB{}",
        args.out.display(),
        summary.pupils,
        summary.judgements,
        summary.recordings,
        summary.files,
        summary.bytes as f64 / 1e6,
        if args.pseudonymise {
            ", pseudonymised"
        } else {
            ""
        }
    );
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
    if !result.is_intact() {
        bail!(
            "{} does not match its manifest: {} missing, {} altered, {} extra",
            args.bundle.display(),
            result.missing.len(),
            result.altered.len(),
            result.extra.len()
        );
    }
    say!(
        "{}: all {} files match the manifest",
        args.bundle.display(),
        result.checked
    );
    Ok(())
}
