//! `bandroom moderation compare OURS.csv THEIRS.csv`: agreement between the department's
//! judgements and a moderator's, both as `assessments.csv` (the export's format).
//!
//! Owns reading the two files; the statistics are `export::moderation`'s.

use anyhow::{Context, Result, bail};
use bandroom::export::moderation::{Judgement, compare};
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug)]
pub enum ModerationAction {
    /// Agreement per criterion: exact, within one level, and weighted kappa
    Compare {
        ours: PathBuf,
        theirs: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

fn read_judgements(path: &Path) -> Result<Vec<Judgement>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read {} (check the path)", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: no header line", path.display()))?
        .clone();
    let column = |name: &str| {
        headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name)).with_context(|| {
            format!(
                "{}: no {name:?} column; compare assessments.csv files as bandroom exports them",
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
    let mut judgements = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record =
            record.with_context(|| format!("{}: line {line} cannot be read", path.display()))?;
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        let Ok(value) = field(level).parse::<i64>() else {
            bail!(
                "{}: line {line}: level {:?} is not a number",
                path.display(),
                field(level)
            );
        };
        judgements.push(Judgement {
            pupil: field(pupil),
            criterion: field(criterion),
            take: field(take),
            level: value,
        });
    }
    Ok(judgements)
}

pub fn moderation(action: &ModerationAction) -> Result<()> {
    let ModerationAction::Compare { ours, theirs, json } = action;
    let result = compare(&read_judgements(ours)?, &read_judgements(theirs)?);
    if *json {
        say!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(());
    }
    if result.is_empty() {
        say!("no judgement appears in both files (same pupil, criterion and take)");
    }
    for c in &result {
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
