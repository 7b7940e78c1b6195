//! `bandroom moderation import SHEET.csv` brings a moderator's filled-in judgement sheet
//! back into the library and reports agreement with the department's judgements;
//! `bandroom moderation compare OURS.csv THEIRS.csv` compares two `assessments.csv`
//! files without a library.
//!
//! Owns reading the files; the statistics are `export::moderation`'s and the storage
//! the library's.

use super::open_library;
use anyhow::{Context, Result, bail};
use bandroom::export::moderation::{CriterionAgreement, Judgement, compare};
use bandroom::library::{ModeratorJudgement, sha256_reader};
use bandroom::plain_text::csv_cell_read;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug)]
pub enum ModerationAction {
    /// Bring back a moderator's judgement-sheet.csv from a moderation pack, store it
    /// and show agreement with the department's judgements of the same takes
    Import {
        sheet: PathBuf,
        /// Who judged (stored with their judgements)
        #[arg(long, value_name = "NAME")]
        moderator: String,
        #[arg(long)]
        json: bool,
    },
    /// Agreement per criterion between two assessments.csv files
    Compare {
        ours: PathBuf,
        theirs: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// Rows of a judgement CSV: (line, pupil, criterion, take, level text, comment).
type SheetRow = (usize, String, String, String, String, String);

/// The largest judgement sheet read: a whole department's year is well under a
/// megabyte; a file far larger is refused before a byte of it is kept.
const SHEET_LIMIT_BYTES: u64 = 16 << 20;
/// The most rows of a sheet (each a pupil, criterion and take).
const SHEET_MAX_ROWS: usize = 200_000;

fn read_rows(path: &Path) -> Result<Vec<SheetRow>> {
    let file = bandroom::own_files::open_regular(path)
        .with_context(|| format!("cannot read {} (check the path)", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > SHEET_LIMIT_BYTES {
        bail!(
            "{} is {:.0} MB, larger than any judgement sheet ({} MB at most): give the \
             judgement-sheet.csv bandroom wrote, filled in",
            path.display(),
            size as f64 / 1e6,
            SHEET_LIMIT_BYTES >> 20
        );
    }
    // Read no further than the cap even if the file grows while it is read.
    let file = std::io::Read::take(file, SHEET_LIMIT_BYTES + 1);
    let mut reader = csv::Reader::from_reader(std::io::BufReader::new(file));
    let headers = reader
        .headers()
        .with_context(|| format!("{}: no header line", path.display()))?
        .clone();
    let column = |name: &str| {
        headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name)).with_context(|| {
            format!(
                "{}: no {name:?} column; use the judgement-sheet.csv or assessments.csv that bandroom wrote",
                path.display()
            )
        })
    };
    let (pupil, criterion, take, level) = (
        column("pupil")?,
        column("criterion")?,
        column("take")?,
        column("level")?,
    );
    let comment = column("comment").ok();
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        if rows.len() >= SHEET_MAX_ROWS {
            bail!(
                "{}: more than {SHEET_MAX_ROWS} rows, more than any judgement sheet",
                path.display()
            );
        }
        let record =
            record.with_context(|| format!("{}: line {line} cannot be read", path.display()))?;
        // bandroom wrote formula-like cells with a leading "'": read them back as written.
        let field = |i: usize| {
            csv_cell_read(record.get(i).unwrap_or("").trim())
                .trim()
                .to_string()
        };
        rows.push((
            line,
            field(pupil),
            field(criterion),
            field(take),
            field(level),
            comment.map(field).unwrap_or_default(),
        ));
    }
    refuse_duplicates(path, &rows)?;
    Ok(rows)
}

/// A pupil judged twice on one criterion and take would count twice in kappa: refuse
/// the sheet, naming both lines.
fn refuse_duplicates(path: &Path, rows: &[SheetRow]) -> Result<()> {
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    for (line, pupil, criterion, take, level, _) in rows {
        if level.is_empty() {
            continue;
        }
        let key = (pupil.clone(), criterion.to_lowercase(), take.clone());
        if let Some(first) = seen.insert(key, *line) {
            bail!(
                "{}: line {line} judges {pupil} on {criterion} for take {take} again (first on \
                 line {first}): keep one of the two lines; nothing was imported",
                path.display()
            );
        }
    }
    Ok(())
}

/// The sheet's content, normalised (trimmed fields, one row per line, blank rows and
/// line endings ignored), for telling whether the same sheet comes twice.
fn normalised_hash(rows: &[SheetRow]) -> String {
    let mut text = String::new();
    for (_, pupil, criterion, take, level, comment) in rows {
        if level.is_empty() {
            continue;
        }
        for field in [pupil, criterion, take, level, comment] {
            text.push_str(field);
            text.push('\u{1f}');
        }
        text.push('\n');
    }
    sha256_reader(&mut text.as_bytes())
        .map(|(hash, _)| hash)
        .unwrap_or_default()
}

fn read_judgements(path: &Path) -> Result<Vec<Judgement>> {
    read_rows(path)?
        .into_iter()
        .map(|(line, pupil, criterion, take, level, _)| {
            let Ok(level) = level.parse::<i64>() else {
                bail!(
                    "{}: line {line}: level {level:?} is not a number",
                    path.display()
                );
            };
            Ok(Judgement {
                pupil,
                criterion,
                take,
                level,
            })
        })
        .collect()
}

fn print_agreement(result: &[CriterionAgreement], json: bool) -> Result<()> {
    if json {
        say!("{}", serde_json::to_string_pretty(result)?);
        return Ok(());
    }
    if result.is_empty() {
        say!("no judgement appears on both sides (same pupil, criterion and take)");
    }
    for c in result {
        say!(
            "{:<12} {:>3} pairs  exact {:>3.0} %  within one level {:>3.0} %  weighted kappa {}",
            c.criterion,
            c.pairs,
            c.exact * 100.0,
            c.adjacent * 100.0,
            c.weighted_kappa
                .map_or("-".to_string(), |k| format!("{k:.2}"))
        );
        for (pupil, take, a, b) in &c.disagreements {
            say!("    {pupil}, take {take}: level {a} here, {b} from the moderator — listen again");
        }
    }
    Ok(())
}

fn import(sheet: &Path, moderator: &str, json: bool, library: Option<&Path>) -> Result<()> {
    if moderator.trim().is_empty() {
        bail!("--moderator: say who made these judgements");
    }
    let rows = read_rows(sheet)?;
    let rows_for_hash = rows.clone();
    let mut lib = open_library(library)?;
    let codes = lib.pupils_by_pseudonym()?;
    let mut stored = Vec::new();
    let mut theirs = Vec::new();
    for (line, code, criterion, take, level, comment) in rows {
        if level.is_empty() {
            continue;
        }
        let Some(&pupil) = codes.get(&code) else {
            bail!(
                "{}: line {line}: {code:?} is not a pupil of this library; import the sheet \
                 into the library the pack was exported from",
                sheet.display()
            );
        };
        let take_id = match take.as_str() {
            "" => None,
            t => Some(t.parse::<i64>().with_context(|| {
                format!(
                    "{}: line {line}: take {t:?} is not a number",
                    sheet.display()
                )
            })?),
        };
        let Ok(value) = level.parse::<i64>() else {
            bail!(
                "{}: line {line}: level {level:?} is not a number",
                sheet.display()
            );
        };
        if let Some(take_id) = take_id {
            let played = match lib.take(take_id) {
                Ok(found) => found
                    .tracks
                    .iter()
                    .any(|t| t.performers.iter().any(|p| p.pupil_id == pupil)),
                Err(_) => bail!(
                    "{}: line {line}: take {take_id} is not in this library; the sheet must \
                     come from a pack this library exported. Nothing was imported",
                    sheet.display()
                ),
            };
            if !played {
                bail!(
                    "{}: line {line}: {code} did not play in take {take_id}, so the pack did not \
                     hold this evidence; nothing was imported",
                    sheet.display()
                );
            }
        }
        theirs.push(Judgement {
            pupil: code.clone(),
            criterion: criterion.clone(),
            take: take.clone(),
            level: value,
        });
        stored.push(ModeratorJudgement {
            pupil,
            take: take_id,
            criterion,
            level,
            comment,
        });
    }
    if stored.is_empty() {
        bail!(
            "{}: no line has a level filled in; nothing was imported",
            sheet.display()
        );
    }
    let hash = normalised_hash(&rows_for_hash);
    lib.import_moderation(moderator, &hash, &stored)
        .with_context(|| format!("{}: nothing was imported", sheet.display()))?;
    // The department's judgement of the same pupil, criterion and take (the latest, if
    // the teacher changed their mind).
    let mut ours = Vec::new();
    for (judged, code) in stored.iter().zip(&theirs) {
        let latest =
            lib.assessments(judged.pupil)?.into_iter().rev().find(|a| {
                a.take == judged.take && a.criterion.eq_ignore_ascii_case(&judged.criterion)
            });
        if let Some(a) = latest {
            ours.push(Judgement {
                level: a.level,
                ..code.clone()
            });
        }
    }
    if !json {
        say!(
            "{}: {} judgement(s) from {} stored; {} match a judgement of the department",
            sheet.display(),
            stored.len(),
            moderator.trim(),
            ours.len()
        );
    }
    print_agreement(&compare(&ours, &theirs), json)
}

pub fn moderation(action: &ModerationAction, library: Option<&Path>) -> Result<()> {
    match action {
        ModerationAction::Import {
            sheet,
            moderator,
            json,
        } => import(sheet, moderator, *json, library),
        ModerationAction::Compare { ours, theirs, json } => print_agreement(
            &compare(&read_judgements(ours)?, &read_judgements(theirs)?),
            *json,
        ),
    }
}
