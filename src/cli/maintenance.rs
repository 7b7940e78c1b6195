//! `bandroom check`, `backup`, `erase`, `pin` and `retention`: keeping the library
//! sound, safe and within the school's data-protection policy.
//!
//! Owns the repair choices `check --repair` makes from a folder's take.json (re-register,
//! recover, quarantine) and the confirmation `erase` asks for on a terminal. Must not
//! contain SQL; it calls `bandroom::library`.

use super::{open_library, open_library_for_repair};

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
    #[arg(long, value_name = "PUPIL", required_unless_present = "resume")]
    pub pupil: Option<String>,
    /// Finish an erasure that could not clear the library's log (another window was
    /// reading it)
    #[arg(long, conflicts_with = "pupil")]
    pub resume: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum PinAction {
    /// Set or change the teacher PIN (4–12 digits), read from standard input: the
    /// current PIN first when one is set, then the new one
    Set {
        /// Replace a forgotten PIN without the old one: for the PC's administrator
        /// (root) only; recorded in the audit log
        #[arg(long)]
        reset: bool,
    },
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
    let mut lib = if args.repair {
        open_library_for_repair(library)?
    } else {
        super::open_library_for_checking(library)?
    };
    let report = lib.check()?;
    let mut unresolved = 0;
    for finding in &report.findings {
        let folder = match finding {
            CheckFinding::Orphan { folder }
            | CheckFinding::Unfinished { folder }
            | CheckFinding::ErasureLeftover { folder } => Some(folder.clone()),
            CheckFinding::ErasureUndone { folder, to } if args.repair => {
                if finding.suggested(false) == RepairAction::PutBack {
                    say!("{finding} → {}", advice(RepairAction::PutBack));
                    if let Err(e) = lib.put_back_erased(folder, to) {
                        note!("  could not put it back: {e:#}");
                        unresolved += 1;
                    } else {
                        say!("  put back");
                    }
                    continue;
                }
                None
            }
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
        RepairAction::PutBack => "can be put back where the library expects it (--repair)",
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
            let new_take = bandroom::session::new_take_from_record(&take, Purpose::Rehearsal);
            if let Some(bad) = new_take
                .tracks
                .iter()
                .find(|t| !bandroom::own_files::is_plain_file_name(&t.file))
            {
                // Never read, hash or register a file outside the take's folder.
                say!(
                    "  its {TAKE_FILE} names a track file {:?} that is not a plain file name \
                     inside its folder: not registered",
                    bad.file
                );
                let moved = lib.quarantine(folder)?;
                say!("  moved to {}", moved.display());
                return Ok(());
            }
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
                &bandroom::session::new_take_from_record(&take, purpose),
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
        RepairAction::PutBack | RepairAction::None => {}
    }
    Ok(())
}

pub fn backup(destination: &Path, library: Option<&Path>) -> Result<()> {
    // A damaged library gets the backup's own finding (the copy fails its integrity
    // check); a full library disk is read from all the same.
    let mut lib = super::open_library_for_checking(library)?;
    let report = lib.backup(destination)?;
    say!(
        "backed up {} take(s), {} file(s), {:.1} MB to {} (checked; private to you). It \
         holds children's data: keep it on a disk the school controls",
        report.takes,
        report.files,
        report.bytes as f64 / 1e6,
        destination.display()
    );
    if let Some(why) = &report.not_audited {
        note!(
            "the backup is not in the library's audit log ({why}): free some space on the \
             library's disk"
        );
    }
    Ok(())
}

pub fn restore(backup: &Path, to: &Path) -> Result<()> {
    let report = Library::restore(backup, to)?;
    say!(
        "restored {} take(s) to {}: {} file(s) checked, {} finding(s). Use it with \
         --library {} (or BANDROOM_LIBRARY)",
        report.takes,
        to.display(),
        report.files_checked,
        report.findings.len(),
        to.display()
    );
    for finding in &report.findings {
        say!("{finding}");
    }
    Ok(())
}

pub fn erase(args: &EraseArgs, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    let Some(pupil_arg) = &args.pupil else {
        let left = lib.finish_erasure_files()?;
        if let Some(first) = left.first() {
            bail!(
                "{} file(s) of an erased pupil could not be removed yet, first {}: close \
                 what holds them and run `bandroom erase --resume` again",
                left.len(),
                first.display()
            );
        }
        if !lib.erasure_pending()? {
            say!("no erasure is waiting to be finished");
            return Ok(());
        }
        lib.finish_erasure_checkpoint()?;
        say!("the erasure is finished: the library's log no longer holds the erased data");
        return Ok(());
    };
    let pupil = lib.find_pupil(pupil_arg, None)?;
    let name = lib.pupil_name(pupil)?;
    let shown = bandroom::plain_text::escape_for_terminal(&name).into_owned();
    let changes = lib.erasure_text_changes(pupil)?;
    if changes.is_empty() {
        say!("no other text of the library names {shown}");
    } else {
        say!(
            "{} text(s) that name {shown} will read (nothing else changes):",
            changes.len()
        );
        for change in &changes {
            say!(
                "  {} #{}: {}",
                change.kind.replace('_', " "),
                change.id,
                bandroom::plain_text::escape_for_terminal(&change.after)
            );
        }
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!("erasing {shown} cannot be undone: add --yes to confirm without a terminal");
        }
        note!(
            "Erase {shown}? Their judgements, reflections and their own tracks are deleted \
             (a take goes whole only if every track in it was theirs); classmates' tracks \
             stay without their name, and their name is removed from everyone's comments. \
             This cannot be undone. Type the pupil's name to confirm:"
        );
        let mut typed = String::new();
        std::io::stdin().read_line(&mut typed)?;
        if !typed.trim().eq_ignore_ascii_case(&name) {
            bail!("not confirmed: nothing was erased");
        }
    }
    let report = lib.erase_pupil(pupil)?;
    say!(
        "erased: {} judgement(s), {} take(s) and {} track(s) that were theirs alone deleted, \
         {} shared take(s) kept without them, their name removed from {} other text(s)",
        report.assessments_removed,
        report.takes_deleted,
        report.tracks_deleted,
        report.shared_takes_kept,
        report.texts_rewritten
    );
    for folder in &report.folders_left {
        note!(
            "could not remove {} (run `bandroom check --repair`)",
            folder.display()
        );
    }
    for copy in &report.unfinished_copies_removed {
        say!(
            "removed an unfinished backup or export that held the pupil: {}",
            copy.display()
        );
    }
    if !report.exported_bundles.is_empty() {
        say!(
            "bundles exported before this erasure may still hold the pupil; delete or \
             re-export those made before today:"
        );
        for bundle in &report.exported_bundles {
            say!("  {}", bandroom::plain_text::escape_for_terminal(bundle));
        }
    }
    if report.earlier_backups.is_empty() {
        say!(
            "bandroom made no backups of this library; copies made any other way (the \
             school's own backups) still hold the pupil"
        );
    } else {
        say!(
            "backups made before this erasure still hold the pupil; erase them too or \
             record that they will expire under your retention policy:"
        );
        for backup in &report.earlier_backups {
            say!("  {backup}");
        }
    }
    Ok(())
}

/// True when bandroom runs as the system's administrator (root on Unix). Elsewhere no
/// reset is possible from bandroom: the PIN is changed with the old one.
fn running_as_administrator() -> bool {
    #[cfg(unix)]
    {
        rustix::process::geteuid().is_root()
    }
    #[cfg(not(unix))]
    {
        false
    }
}

pub fn pin(action: &PinAction, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    match action {
        PinAction::Set { reset } => {
            let terminal = std::io::stdin().is_terminal();
            let read_line = |prompt: &str| -> Result<String> {
                if terminal {
                    note!("{prompt}");
                }
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Ok(line.trim().to_string())
            };
            if *reset {
                // Any terminal of the teacher's session could otherwise replace the PIN
                // that keeps pupils out: only the PC's administrator may.
                if !running_as_administrator() {
                    bail!(
                        "resetting a forgotten teacher PIN needs the PC's administrator: ask \
                         the school's IT technician to run `sudo bandroom pin set --reset` \
                         (with --library if the library is not the default one); to change a \
                         PIN you know, run `bandroom pin set` without --reset"
                    );
                }
                let pin = read_line("New teacher PIN (4–12 digits):")?;
                lib.reset_pin(&pin)?;
                say!("teacher PIN reset (the audit log records that it was reset)");
                return Ok(());
            }
            let current = if lib.has_pin()? {
                Some(read_line("Current teacher PIN:")?)
            } else {
                None
            };
            let pin = read_line("New teacher PIN (4–12 digits):")?;
            lib.set_pin(current.as_deref(), &pin)?;
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
