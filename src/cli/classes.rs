//! `bandroom class …` and `bandroom pupils …`: classes and their pupils.
//!
//! Must not contain SQL or roster parsing; it calls `bandroom::library`.

use super::open_library;
use anyhow::{Context, Result, bail};
use bandroom::library::roster_bundle::open_roster;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug)]
pub enum ClassAction {
    /// Add a class (e.g. `bandroom class add 7D --year "Year 7"`)
    Add {
        name: String,
        /// The school year it belongs to
        #[arg(long, value_name = "YEAR")]
        year: Option<String>,
        /// The criteria framework its judgements use (default ks3-progression)
        #[arg(long, value_name = "NAME")]
        framework: Option<String>,
    },
    /// List the classes with their pupils, lessons and takes
    List,
}

#[derive(clap::Subcommand, Debug)]
pub enum PupilsAction {
    /// Import a roster: a school-system CSV (a header names the columns: name or
    /// forename+surname, optional number, optional groups or PP/SEN/EAL columns), or a
    /// OneRoster or Microsoft School Data Sync CSV bundle (a folder or a zip)
    Import {
        roster: PathBuf,
        #[arg(long, value_name = "NAME")]
        class: String,
        /// Which of a bundle's classes to take (its title or code), when it is not
        /// named like --class and the bundle holds several
        #[arg(long, value_name = "TITLE")]
        from_class: Option<String>,
        /// Import nothing if any row has a problem
        #[arg(long)]
        strict: bool,
    },
    /// List pupils (of one class with --class)
    List {
        #[arg(long, value_name = "NAME")]
        class: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Mark a pupil "do not share" (objection or withdrawn consent), or clear it
    Sharing {
        pupil: String,
        #[arg(long, conflicts_with = "share", required_unless_present = "share")]
        do_not_share: bool,
        #[arg(long)]
        share: bool,
    },
    /// Ask the pupils of a class to sign in with a code of two words in pupil mode (each
    /// pupil without a code gets one), or stop asking
    SignIn {
        #[arg(long, value_name = "NAME")]
        class: String,
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        on: bool,
        #[arg(long)]
        off: bool,
    },
    /// Write a class's sign-in cards (name and code of each pupil) as a printable page
    Cards {
        #[arg(long, value_name = "NAME")]
        class: String,
        /// The page to write (an HTML file that does not exist yet)
        #[arg(long, value_name = "FILE.html")]
        out: PathBuf,
    },
    /// Give a pupil a new sign-in code (a lost card); the old one stops working
    NewCode { pupil: String },
}

pub fn class(action: &ClassAction, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    match action {
        ClassAction::Add {
            name,
            year,
            framework,
        } => {
            lib.add_class(name, year.as_deref(), framework.as_deref())?;
            say!("added class {name}");
        }
        ClassAction::List => {
            for c in lib.classes()? {
                say!(
                    "{}\t{}\t{} pupils\t{} lessons\t{} takes\t{}",
                    c.name,
                    c.year.as_deref().unwrap_or("-"),
                    c.pupils,
                    c.lessons,
                    c.takes,
                    c.framework
                );
            }
        }
    }
    Ok(())
}

pub fn pupils(action: &PupilsAction, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    match action {
        PupilsAction::Import {
            roster,
            class,
            strict,
            from_class,
        } => {
            let class_id = lib.class_id(class)?;
            let file = open_roster(roster)
                .with_context(|| format!("cannot read the roster {}", roster.display()))?;
            let chosen = file
                .rows_for(class, from_class.as_deref())
                .map_err(|e| anyhow::anyhow!("{e} (name it with --from-class TITLE)"))?;
            if let Some(from) = &chosen.from {
                note!("{}: {} {from}", roster.display(), file.kind.describe());
            }
            let (rows, problems) = (chosen.rows, chosen.problems);
            let outcome = lib.import_roster(class_id, &rows, problems, *strict)?;
            for p in &outcome.problems {
                note!("{}: line {} {}", roster.display(), p.line, p.message);
            }
            if !outcome.applied {
                bail!(
                    "{}: {} row(s) have problems, so nothing was imported (--strict); fix them \
                     or import without --strict to take the good rows",
                    roster.display(),
                    outcome.problems.len()
                );
            }
            if rows.is_empty() && !outcome.problems.is_empty() {
                bail!(
                    "{}: no row could be imported ({} problem(s) above); nobody was added",
                    roster.display(),
                    outcome.problems.len()
                );
            }
            say!(
                "{class}: {} pupil(s) added, {} already in the library joined, {} already in the \
                 class, {} row(s) refused",
                outcome.added,
                outcome.joined,
                outcome.already_in_class,
                outcome.problems.len()
            );
        }
        PupilsAction::List { class, json } => {
            let class_id = class.as_deref().map(|c| lib.class_id(c)).transpose()?;
            let pupils = lib.pupils(class_id)?;
            if *json {
                say!("{}", serde_json::to_string_pretty(&pupils)?);
                return Ok(());
            }
            for p in pupils {
                say!(
                    "#{}\t{}\t{}\t{}{}",
                    p.id,
                    p.name,
                    p.number.as_deref().unwrap_or("-"),
                    p.classes.join(","),
                    if p.do_not_share { "\tdo not share" } else { "" }
                );
            }
            let groups: Vec<String> = lib
                .group_counts(class_id)?
                .into_iter()
                .map(|(name, n)| format!("{name} {n}"))
                .collect();
            if !groups.is_empty() {
                say!("monitoring groups (counts only): {}", groups.join(", "));
            }
        }
        PupilsAction::SignIn { .. } | PupilsAction::Cards { .. } | PupilsAction::NewCode { .. } => {
            sign_in(action, &mut lib)?;
        }
        PupilsAction::Sharing {
            pupil,
            do_not_share,
            ..
        } => {
            let id = lib.find_pupil(pupil, None)?;
            lib.set_do_not_share(id, *do_not_share)?;
            say!(
                "{pupil}: {}",
                if *do_not_share {
                    "do not share — left out of every export that is not assessment evidence"
                } else {
                    "may be shared"
                }
            );
        }
    }
    Ok(())
}

/// `pupils sign-in`, `pupils cards` and `pupils new-code`.
fn sign_in(action: &PupilsAction, lib: &mut bandroom::library::Library) -> Result<()> {
    match action {
        PupilsAction::SignIn { class, on, .. } => {
            let class_id = lib.class_id(class)?;
            lib.set_sign_in(class_id, *on)?;
            if *on {
                say!(
                    "{class}: pupils sign in with their code in pupil mode; print the cards \
                     with `bandroom pupils cards --class {} --out cards.html`",
                    bandroom::plain_text::shell_quote(class)
                );
            } else {
                say!("{class}: pupils choose their name without a code (codes are kept)");
            }
        }
        PupilsAction::Cards { class, out } => {
            let class_id = lib.class_id(class)?;
            if !lib.sign_in_required(class_id)? {
                bail!(
                    "{class} does not use sign-in codes: turn them on first with \
                     `bandroom pupils sign-in --class {} --on`",
                    bandroom::plain_text::shell_quote(class)
                );
            }
            let cards: Vec<(String, String)> = lib
                .sign_in_codes(class_id)?
                .into_iter()
                .map(|(_, name, code)| (name, code))
                .collect();
            bandroom::export::sign_in_cards::write_cards(out, class, &cards, false).with_context(
                || {
                    format!(
                        "the sign-in cards could not be written to {}",
                        out.display()
                    )
                },
            )?;
            say!("{}: {} card(s) for {class}", out.display(), cards.len());
        }
        PupilsAction::NewCode { pupil } => {
            let id = lib.find_pupil(pupil, None)?;
            let code = lib.renew_sign_in_code(id)?;
            say!("{pupil}: new sign-in code \"{code}\"; the old one no longer works");
        }
        _ => {}
    }
    Ok(())
}
