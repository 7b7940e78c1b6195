//! Writing a progress bundle for one class: for each pupil, the first and latest
//! evidence take per criterion in the period (so progress is heard side by side), the
//! pupil's own tracks of those takes, every judgement as CSV, the HTML report and the
//! manifest. Written under a temporary name and renamed when complete, so a failed or
//! cancelled export never leaves half a bundle.
//!
//! Pseudonymised bundles name pupils only by their stable code, in file names, the
//! report and the CSV (a name inside a comment is replaced too); the key stays in the
//! library. Must not change the library beyond its audit entry.

use super::manifest::{MANIFEST_FILE, Manifest, entries};
use super::report::{CriterionRow, PupilSection, Report, render};
use crate::library::{Library, LibraryError};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct ExportRequest {
    pub class: i64,
    /// Inclusive dates, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    pub pseudonymise: bool,
    pub out: PathBuf,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ExportSummary {
    pub pupils: usize,
    pub judgements: usize,
    pub recordings: usize,
    pub files: usize,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Library(#[from] LibraryError),
    #[error("{}: {reason}", path.display())]
    File { path: PathBuf, reason: String },
    #[error("{0}")]
    Invalid(String),
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn safe_name(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    cleaned.trim_matches('-').to_string()
}

pub fn export_progress(
    lib: &mut Library,
    request: &ExportRequest,
) -> Result<ExportSummary, ExportError> {
    let out = &request.out;
    if out.exists() && std::fs::read_dir(out).map_or(true, |mut d| d.next().is_some()) {
        return Err(ExportError::Invalid(format!(
            "{} already exists and is not empty: choose a new folder for the bundle",
            out.display()
        )));
    }
    let partial = out.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(partial.join("audio")).map_err(|e| file_error(&partial, e))?;
    let result = write_bundle(lib, request, &partial);
    match result {
        Ok(summary) => {
            std::fs::rename(&partial, out).map_err(|e| file_error(out, e))?;
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

fn write_bundle(
    lib: &mut Library,
    request: &ExportRequest,
    root: &Path,
) -> Result<ExportSummary, ExportError> {
    let class_name = lib
        .classes()?
        .into_iter()
        .find(|c| c.id == request.class)
        .map(|c| c.name)
        .ok_or_else(|| ExportError::Invalid("no such class".into()))?;
    let grid = lib.class_grid(request.class)?;
    let picks = lib.evidence_selection(request.class, &request.from, &request.to)?;
    let pupils = lib.pupils(Some(request.class))?;
    let mut summary = ExportSummary {
        pupils: pupils.len(),
        ..ExportSummary::default()
    };
    let mut labels: BTreeMap<i64, String> = BTreeMap::new();
    for pupil in &pupils {
        let label = if request.pseudonymise {
            lib.pseudonym(pupil.id)?
        } else {
            pupil.name.clone()
        };
        labels.insert(pupil.id, label);
    }
    let hide = |text: &str| -> String {
        if !request.pseudonymise {
            return text.to_string();
        }
        pupils
            .iter()
            .fold(text.to_string(), |t, p| t.replace(&p.name, &labels[&p.id]))
    };

    let csv_path = root.join("assessments.csv");
    let mut csv = csv::Writer::from_path(&csv_path).map_err(|e| file_error(&csv_path, e))?;
    csv.write_record([
        "pupil",
        "class",
        "criterion",
        "level",
        "date",
        "assessor",
        "take",
        "comment",
    ])
    .map_err(|e| file_error(&csv_path, e))?;
    let mut sections = Vec::new();
    let mut levels_for_monitoring = Vec::new();
    for pupil in &pupils {
        let label = &labels[&pupil.id];
        let judged: Vec<_> = lib
            .assessments(pupil.id)?
            .into_iter()
            .filter(|a| {
                a.assessed_at.as_str() >= request.from.as_str()
                    && a.assessed_at[..10] <= *request.to
            })
            .collect();
        for a in &judged {
            csv.write_record([
                label.as_str(),
                a.class.as_deref().unwrap_or(""),
                a.criterion.as_str(),
                &a.level.to_string(),
                &a.assessed_at[..10],
                a.assessor.as_str(),
                &a.take.map(|t| t.to_string()).unwrap_or_default(),
                &hide(&a.comment),
            ])
            .map_err(|e| file_error(&csv_path, e))?;
        }
        summary.judgements += judged.len();
        let mine: Vec<_> = picks.iter().filter(|p| p.pupil_id == pupil.id).collect();
        let rows = grid
            .criteria
            .iter()
            .map(|(key, title, levels)| {
                let pick = mine.iter().find(|p| &p.criterion == key);
                let comment = judged
                    .iter()
                    .rev()
                    .find(|a| &a.criterion == key)
                    .map(|a| hide(&a.comment))
                    .unwrap_or_default();
                CriterionRow {
                    title: title.clone(),
                    levels: *levels,
                    first: pick.map(|p| (p.first_level, p.first_at[..10].to_string())),
                    latest: pick.map(|p| (p.last_level, p.last_at[..10].to_string(), comment)),
                }
            })
            .collect();
        let mut audio = Vec::new();
        let mut copied: HashSet<(i64, i64)> = HashSet::new();
        let folder = format!("audio/{}", safe_name(label));
        for pick in &mine {
            for (take_id, when) in [
                (pick.first_take, &pick.first_at),
                (pick.last_take, &pick.last_at),
            ] {
                let take = lib.take(take_id)?;
                for track in take
                    .tracks
                    .iter()
                    .filter(|t| t.performers.iter().any(|p| p.pupil_id == pupil.id))
                {
                    if !copied.insert((take_id, track.number)) {
                        continue;
                    }
                    let relative = format!("{folder}/take-{take_id}-track-{}.wav", track.number);
                    let from = lib.take_folder(&take).join(&track.file);
                    let to = root.join(&relative);
                    if let Some(parent) = to.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| file_error(parent, e))?;
                    }
                    std::fs::copy(&from, &to).map_err(|e| {
                        file_error(&from, format!("{e}: run `bandroom check` on the library"))
                    })?;
                    summary.recordings += 1;
                    audio.push((format!("Take {take_id}, {}", &when[..10]), relative));
                }
            }
        }
        levels_for_monitoring.push(super::monitoring::PupilLevels {
            groups: pupil.groups.clone(),
            latest: grid
                .rows
                .iter()
                .find(|r| r.pupil_id == pupil.id)
                .map(|r| r.levels.clone())
                .unwrap_or_default(),
        });
        sections.push(PupilSection {
            label: label.clone(),
            rows,
            audio,
        });
    }
    csv.flush().map_err(|e| file_error(&csv_path, e))?;
    let report = Report {
        title: format!("{class_name}: progress in music"),
        subtitle: format!(
            "Judgements from {} to {}{}; exported by bandroom {}",
            request.from,
            request.to,
            if request.pseudonymise {
                ", pupils pseudonymised"
            } else {
                ""
            },
            env!("CARGO_PKG_VERSION")
        ),
        pupils: sections,
        monitoring: super::monitoring::summarise(&levels_for_monitoring, grid.criteria.len()),
    };
    let html_path = root.join("report.html");
    std::fs::write(&html_path, render(&report)).map_err(|e| file_error(&html_path, e))?;

    let files = entries(root).map_err(|e| ExportError::Invalid(e.to_string()))?;
    summary.files = files.len();
    summary.bytes = files.iter().map(|f| f.size).sum();
    let mut parameters = BTreeMap::new();
    parameters.insert("kind".to_string(), "progress".to_string());
    parameters.insert(
        "class".to_string(),
        if request.pseudonymise {
            format!("#{}", request.class)
        } else {
            class_name.clone()
        },
    );
    parameters.insert("from".to_string(), request.from.clone());
    parameters.insert("to".to_string(), request.to.clone());
    parameters.insert(
        "pseudonymised".to_string(),
        request.pseudonymise.to_string(),
    );
    let manifest = Manifest {
        format: "bandroom-bundle/1".into(),
        app_version: env!("CARGO_PKG_VERSION").into(),
        library_id: lib.library_id()?,
        created_at: crate::library::now(),
        parameters,
        files,
    };
    let manifest_path = root.join(MANIFEST_FILE);
    let mut file =
        std::fs::File::create(&manifest_path).map_err(|e| file_error(&manifest_path, e))?;
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| file_error(&manifest_path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| file_error(&manifest_path, e))?;
    lib.record_export(&format!(
        "progress bundle of class #{} from {} to {}, pseudonymised: {}, {} recordings",
        request.class, request.from, request.to, request.pseudonymise, summary.recordings
    ))?;
    Ok(summary)
}
