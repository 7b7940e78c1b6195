//! `bandroom check`, `backup`, `erase`, `pin` and `retention`: keeping the library
//! sound, safe and within the school's data-protection policy.
//!
//! Owns the repair choices `check --repair` makes from a folder's take.json (re-register,
//! recover, quarantine) and the confirmation `erase` asks for on a terminal. Must not
//! contain SQL; it calls `bandroom::library`.

use super::open_library;

use super::recover::recover_folder;
use anyhow::{Result, bail};
use bandroom::library::{CheckFinding, Library, Purpose, RepairAction};
use bandroom::record::take_file::{TAKE_FILE, TakeRecord};
use std::io::IsTerminal;
use std::path::Path;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Repair what can be repaired: re-register or recover takes, quarantine the rest
    #[arg(long)]
    pub repair: bool,
}

#[derive(clap::Args, Debug)]
pub struct EraseArgs {
    /// The pupil (name, number or #id)
    #[arg(long, value_name = "PUPIL")]
    pub pupil: String,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum PinAction {
    /// Set the teacher PIN (4–12 digits), read from standard input
    Set,
}

#[derive(clap::Args, Debug)]
pub struct RetentionArgs {
    /// Keep takes of a purpose this many months, e.g. rehearsal=6
    #[arg(long, value_name = "PURPOSE=MONTHS")]
    pub set: Option<String>,
    /// Also move the review date of takes already made
    #[arg(long, requires = "set")]
    pub reapply: bool,
}

pub fn check(args: &CheckArgs, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    let report = lib.check()?;
    let mut unresolved = 0;
    for finding in &report.findings {
        let folder = match finding {
            CheckFinding::Orphan { folder }
            | CheckFinding::Unfinished { folder }
            | CheckFinding::ErasureLeftover { folder } => Some(folder.clone()),
            _ => None,
        };
        let has_take = folder.as_ref().is_some_and(|f| f.join(TAKE_FILE).is_file());
        let action = finding.suggested(has_take);
        say!("{finding} → {}", advice(action));
        if !args.repair || action == RepairAction::None {
            unresolved += 1;
            continue;
        }
        if let Some(folder) = folder
            && let Err(e) = repair(&mut lib, &folder, action)
        {
            note!("  could not repair {}: {e:#}", folder.display());
            unresolved += 1;
        }
    }
    say!(
        "{} take(s), {} file(s) checked, {} finding(s){}",
        report.takes,
        report.files_checked,
        report.findings.len(),
        if args.repair {
            format!(", {unresolved} left for a person")
        } else {
            String::new()
        }
    );
    if unresolved > 0 {
        bail!(
            "the library at {} needs attention: {unresolved} finding(s){}",
            lib.root().display(),
            if args.repair {
                ""
            } else {
                "; run `bandroom check --repair` for those it can fix"
            }
        );
    }
    Ok(())
}

fn advice(action: RepairAction) -> &'static str {
    match action {
        RepairAction::Reregister => "can be registered again (--repair)",
        RepairAction::Recover => "can be recovered and registered as incomplete (--repair)",
        RepairAction::Quarantine => "can be moved to quarantine/ for you to look at (--repair)",
        RepairAction::FinishErasure => "the erasure can be finished (--repair)",
        RepairAction::None => {
            "restore it from a backup (`bandroom backup` makes one); bandroom will not change it"
        }
    }
}

fn repair(lib: &mut Library, folder: &Path, action: RepairAction) -> Result<()> {
    match action {
        RepairAction::Reregister | RepairAction::Recover => {
            let take = if action == RepairAction::Recover {
                recover_folder(folder)?
            } else {
                Some(TakeRecord::read(folder)?)
            };
            let Some(take) = take else {
                bail!("no readable {TAKE_FILE}");
            };
            let purpose = take
                .purpose
                .as_deref()
                .map(Purpose::parse)
                .transpose()?
                .unwrap_or(Purpose::Rehearsal);
            let lesson = match take.lesson_id {
                Some(id) if lib.lesson_exists(id)? => id,
                _ => lib.lesson_for_today(None)?,
            };
            let (id, moved) = lib.register_take(
                lesson,
                folder,
                &bandroom::library::NewTake::from_record(&take, purpose),
            )?;
            say!("  registered as take {id} in {}", moved.display());
        }
        RepairAction::Quarantine => {
            let moved = lib.quarantine(folder)?;
            say!("  moved to {}", moved.display());
        }
        RepairAction::FinishErasure => {
            lib.finish_erasure(folder)?;
            say!("  removed");
        }
        RepairAction::None => {}
    }
    Ok(())
}

pub fn backup(destination: &Path, library: Option<&Path>) -> Result<()> {
    let lib = open_library(library)?;
    let report = lib.backup(destination)?;
    say!(
        "backed up {} take(s), {} file(s), {:.1} MB to {}",
        report.takes,
        report.files,
        report.bytes as f64 / 1e6,
        destination.display()
    );
    Ok(())
}

pub fn erase(args: &EraseArgs, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    let pupil = lib.find_pupil(&args.pupil, None)?;
    let name = lib.pupil_name(pupil)?;
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!("erasing {name} cannot be undone: add --yes to confirm without a terminal");
        }
        note!(
            "Erase {name}? Their judgements, reflections and the takes only they played in \
             are deleted; shared takes keep the audio without their name. This cannot be \
             undone. Type the pupil's name to confirm:"
        );
        let mut typed = String::new();
        std::io::stdin().read_line(&mut typed)?;
        if !typed.trim().eq_ignore_ascii_case(&name) {
            bail!("not confirmed: nothing was erased");
        }
    }
    let report = lib.erase_pupil(pupil)?;
    say!(
        "erased: {} judgement(s), {} take(s) only they played in deleted, {} shared take(s) \
         kept without them",
        report.assessments_removed,
        report.takes_deleted,
        report.shared_takes_kept
    );
    for folder in &report.folders_left {
        note!(
            "could not remove {} (run `bandroom check --repair`)",
            folder.display()
        );
    }
    Ok(())
}

pub fn pin(action: &PinAction, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    match action {
        PinAction::Set => {
            if std::io::stdin().is_terminal() {
                note!("New teacher PIN (4–12 digits):");
            }
            let mut pin = String::new();
            std::io::stdin().read_line(&mut pin)?;
            lib.set_pin(pin.trim())?;
            say!(
                "teacher PIN set: the app asks for it before teacher actions and to leave pupil \
                 mode (a classroom lock, not protection against the PC's administrator)"
            );
        }
    }
    Ok(())
}

pub fn retention(args: &RetentionArgs, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    if let Some(setting) = &args.set {
        let Some((purpose, months)) = setting.split_once('=') else {
            bail!("--set {setting:?}: write PURPOSE=MONTHS, e.g. rehearsal=6");
        };
        let Ok(months) = months.trim().parse::<i64>() else {
            bail!("--set {setting:?}: {months:?} is not a whole number of months");
        };
        lib.set_retention(Purpose::parse(purpose)?, months, args.reapply)?;
    }
    let policy = lib.retention_policy()?;
    say!(
        "takes are listed for review after: assessment evidence {} months, rehearsal {} \
         months, performance {} months (`bandroom takes review`)",
        policy.assessment_months,
        policy.rehearsal_months,
        policy.performance_months
    );
    Ok(())
}
