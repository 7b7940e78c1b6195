//! Writing a bundle: the request, the folder written under a temporary name and renamed
//! when complete (so a failed, full-disk or cancelled export never leaves half a
//! bundle), the recordings file by file with progress, the CSV sheets, the report, the
//! manifest and the audit entry. What goes in is decided by `selection`.
//!
//! Must not change the library beyond its audit entry and the pseudonym key.

use super::audio::{AudioError, AudioFormat, write_mix, write_track};
use super::manifest::{MANIFEST_FILE, Manifest, entries};
use super::report::render;
use super::selection::{Plan, plan};
use crate::library::{Library, LibraryError};
use crate::own_files::{create_private_dir_all, is_scratch_of, make_tree_private, scratch_path};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a bundle is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BundleKind {
    /// Earliest and latest evidence per pupil and criterion, with the judgements.
    #[default]
    Progress,
    /// Every take of the lessons in the period (pupils who are not to be shared left out).
    Lesson,
    /// Evidence takes, pseudonymised, without the teacher's judgements, and a blank
    /// judgement sheet for a moderator.
    Moderation,
}

impl BundleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Progress => "progress",
            Self::Lesson => "lesson",
            Self::Moderation => "moderation",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ExportRequest {
    pub kind: BundleKind,
    pub classes: Vec<i64>,
    /// Only these pupils (all pupils of the classes when empty).
    pub pupils: Vec<i64>,
    /// Only these criteria, by key or title (all when empty).
    pub criteria: Vec<String>,
    /// Inclusive dates, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    pub audio: AudioFormat,
    pub pseudonymise: bool,
    /// Replace an existing bundle at `out`.
    pub force: bool,
    pub out: PathBuf,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ExportSummary {
    pub pupils: usize,
    pub judgements: usize,
    pub recordings: usize,
    /// Recordings the library has lost: listed in the report and the manifest.
    pub missing: Vec<String>,
    pub files: usize,
    pub bytes: u64,
    /// Why the export could not be written into the library's audit log (its disk is
    /// full), if it could not: the bundle is whole; the teacher is told.
    pub not_audited: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Library(#[from] LibraryError),
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{}: {reason}", path.display())]
    File { path: PathBuf, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("nothing to export: {0}; nothing was written")]
    Empty(String),
    #[error("the export was cancelled; nothing was written")]
    Cancelled,
}

pub(crate) fn file_error(path: &Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// A recording to write: one track, or a mix of several.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioJob {
    pub sources: Vec<PathBuf>,
    pub mix: bool,
    /// Path inside the bundle, without extension.
    pub stem: String,
    /// How the report names it if it is missing.
    pub caption: String,
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none())
}

/// True when `out` names a zip bundle rather than a folder.
pub fn is_zip_path(out: &Path) -> bool {
    out.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// True when `path` is a bundle bandroom wrote: a folder or zip whose `manifest.json`
/// says `bandroom-bundle/…`. Only such a thing may be replaced with `--force`.
pub fn is_bandroom_bundle(path: &Path) -> bool {
    let format = if path.is_dir() {
        read_manifest_format(&path.join(MANIFEST_FILE))
    } else if path.is_file() {
        super::zip_bundle::manifest_format(path)
    } else {
        None
    };
    format.is_some_and(|f| f.starts_with("bandroom-bundle/"))
}

fn read_manifest_format(path: &Path) -> Option<String> {
    let bytes =
        crate::own_files::read_regular_limited(path, super::manifest::MAX_MANIFEST_BYTES).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("format")?.as_str().map(str::to_string)
}

/// A bundle inside the library folder would outlive an erasure there unnoticed (and be
/// backed up with the library): refused.
fn check_outside_library(lib: &Library, out: &Path) -> Result<(), ExportError> {
    let absolute = |p: &Path| {
        std::fs::canonicalize(p)
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    let place = absolute(parent.unwrap_or(Path::new(".")));
    if place.starts_with(absolute(lib.root())) {
        return Err(ExportError::Invalid(format!(
            "{} is inside the library folder ({}): bundles go elsewhere (a USB stick, \
             Documents), so an erasure never leaves one behind in the library",
            out.display(),
            lib.root().display()
        )));
    }
    Ok(())
}

/// Refuses to write over anything at `out` that bandroom may not replace: without
/// `--force` anything but an empty folder, and with it anything but an earlier bundle.
fn check_destination(out: &Path, force: bool) -> Result<(), ExportError> {
    if !out.exists() || is_empty_dir(out) {
        return Ok(());
    }
    if !force {
        return Err(ExportError::Invalid(format!(
            "{} already exists: choose a new name for the bundle, or add --force to replace it",
            out.display()
        )));
    }
    if !is_bandroom_bundle(out) {
        return Err(ExportError::Invalid(format!(
            "{} is not a bandroom bundle (it has no bandroom manifest.json): bandroom replaces \
             only its own bundles, so nothing there was touched; choose a new name with --out",
            out.display()
        )));
    }
    if out.is_dir() {
        let strangers = not_of_the_bundle(out)?;
        if !strangers.is_empty() {
            let shown: Vec<String> = strangers
                .iter()
                .take(5)
                .map(|s| crate::plain_text::escape_for_terminal(s).into_owned())
                .collect();
            let more = strangers.len().saturating_sub(shown.len());
            return Err(ExportError::Invalid(format!(
                "{} holds {} thing(s) its bandroom manifest does not list ({}{}): --force \
                 replaces only the files an earlier bundle wrote, so nothing there was \
                 touched; move them out, or choose a new name with --out",
                out.display(),
                strangers.len(),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )));
        }
    }
    Ok(())
}

/// What is in a bundle folder that its manifest does not list: files a colleague added,
/// links, and folders that hold no listed file (a `photos/` beside an unzipped bundle).
fn not_of_the_bundle(out: &Path) -> Result<Vec<String>, ExportError> {
    let found = super::manifest::verify(out).map_err(|e| ExportError::Invalid(e.to_string()))?;
    let mut strangers: Vec<String> = found
        .extra
        .iter()
        .chain(found.unsafe_entries.iter())
        .cloned()
        .collect();
    let listed: Vec<String> =
        super::manifest::listed_paths(out).map_err(|e| ExportError::Invalid(e.to_string()))?;
    let mut stack = vec![(out.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| file_error(&dir, e))?;
        for entry in entries.flatten() {
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = format!("{prefix}{}/", entry.file_name().to_string_lossy());
            if listed.iter().any(|l| l.starts_with(&name)) {
                stack.push((entry.path(), name));
            } else if !strangers.iter().any(|s| s.starts_with(&name)) {
                strangers.push(name);
            }
        }
    }
    strangers.sort();
    Ok(strangers)
}

/// Writes the bundle: a folder, or a `.zip` when `request.out` ends so. `progress(done,
/// total)` is called after each recording; returning `false` cancels the export and
/// removes what was written. Everything is written under bandroom's own temporary
/// names beside `out`, and only those are ever removed.
pub fn export(
    lib: &mut Library,
    request: &ExportRequest,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<ExportSummary, ExportError> {
    let out = &request.out;
    check_outside_library(lib, out)?;
    check_destination(out, request.force)?;
    let plan = plan(lib, request)?;
    if plan.jobs.is_empty() && plan.judgements == 0 {
        return Err(ExportError::Empty(plan.empty_reason.clone()));
    }
    // What a killed export to the same place left (its process is gone) goes first.
    for leftover in crate::own_files::leftovers_of(out) {
        let _ = crate::own_files::remove_leftover(&leftover, out);
    }
    let partial = scratch_path(out, "partial");
    let zip_scratch = scratch_path(out, "zip");
    let _writing = (
        crate::own_files::in_progress(&partial),
        crate::own_files::in_progress(&zip_scratch),
    );
    remove_own_scratch(&partial, out);
    create_private_dir_all(&partial).map_err(|e| file_error(&partial, e))?;
    let written = write_bundle(lib, request, plan, &partial, progress).and_then(|summary| {
        make_tree_private(&partial).map_err(|e| file_error(&partial, e))?;
        if is_zip_path(out) {
            let zip = scratch_path(out, "zip");
            super::zip_bundle::pack(&partial, &zip, &super::zip_bundle::top_folder(out))
                .map_err(|e| ExportError::Invalid(e.to_string()))?;
            remove_own_scratch(&partial, out);
            Ok((summary, zip))
        } else {
            Ok((summary, partial.clone()))
        }
    });
    match written {
        Ok((summary, finished)) => {
            replace(&finished, out)?;
            lib.record_export_destination(out);
            Ok(summary)
        }
        Err(e) => {
            remove_own_scratch(&partial, out);
            remove_own_scratch(&scratch_path(out, "zip"), out);
            Err(e)
        }
    }
}

/// Removes `path` only when it is one of bandroom's temporary names for `out`.
fn remove_own_scratch(path: &Path, out: &Path) {
    if !is_scratch_of(path, out) {
        return;
    }
    let _ = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    };
}

/// Moves the finished bundle into place; an old one (with `--force`, checked to be a
/// bundle) is moved aside under a temporary name and removed only once the new one is
/// there.
fn replace(finished: &Path, out: &Path) -> Result<(), ExportError> {
    let old = scratch_path(out, "replaced");
    let had_old = out.exists();
    if had_old {
        remove_own_scratch(&old, out);
        if is_empty_dir(out) {
            std::fs::remove_dir(out).map_err(|e| file_error(out, e))?;
        } else {
            std::fs::rename(out, &old).map_err(|e| file_error(out, e))?;
        }
    }
    if let Err(e) = std::fs::rename(finished, out) {
        if old.exists() {
            let _ = std::fs::rename(&old, out);
        }
        remove_own_scratch(finished, out);
        return Err(file_error(out, e));
    }
    remove_own_scratch(&old, out);
    Ok(())
}

fn write_recordings(
    root: &Path,
    format: AudioFormat,
    jobs: &[AudioJob],
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Vec<(String, String)>, ExportError> {
    let mut missing = Vec::new();
    for (done, job) in jobs.iter().enumerate() {
        if !progress(done, jobs.len()) {
            return Err(ExportError::Cancelled);
        }
        let relative = format!("{}.{}", job.stem, format.extension());
        let to = root.join(&relative);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| file_error(parent, e))?;
        }
        // A link in a take folder is never followed (`check` reports it): missing.
        if job
            .sources
            .iter()
            .any(|s| !s.is_file() || crate::own_files::is_link(s))
        {
            missing.push((relative, job.caption.clone()));
            continue;
        }
        if job.mix {
            write_mix(&job.sources, &to, format)?;
        } else {
            write_track(&job.sources[0], &to, format)?;
        }
    }
    if !progress(jobs.len(), jobs.len()) {
        return Err(ExportError::Cancelled);
    }
    Ok(missing)
}

fn write_bundle(
    lib: &mut Library,
    request: &ExportRequest,
    mut plan: Plan,
    root: &Path,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<ExportSummary, ExportError> {
    let missing = write_recordings(root, request.audio, &plan.jobs, progress)?;
    let ext = request.audio.extension();
    for items in plan
        .report
        .pupils
        .iter_mut()
        .map(|p| &mut p.audio)
        .chain(plan.report.takes.iter_mut().map(|t| &mut t.audio))
    {
        for item in items.iter_mut() {
            if let Some(stem) = item.path.take() {
                let relative = format!("{stem}.{ext}");
                if !missing.iter().any(|(m, _)| *m == relative) {
                    item.path = Some(relative);
                }
            }
        }
    }
    plan.report.missing = missing.iter().map(|(_, c)| c.clone()).collect();
    for (name, rows) in &plan.sheets {
        let path = root.join(name);
        let mut csv = csv::Writer::from_path(&path).map_err(|e| file_error(&path, e))?;
        for row in rows {
            // A name or comment starting "=", "+", "@" … must stay text in a spreadsheet.
            csv.write_record(
                row.iter()
                    .map(|cell| crate::plain_text::csv_cell(cell).into_owned()),
            )
            .map_err(|e| file_error(&path, e))?;
        }
        csv.flush().map_err(|e| file_error(&path, e))?;
    }
    let html_path = root.join("report.html");
    std::fs::write(&html_path, render(&plan.report)).map_err(|e| file_error(&html_path, e))?;

    let files = entries(root).map_err(|e| ExportError::Invalid(e.to_string()))?;
    let mut summary = ExportSummary {
        pupils: plan.pupils,
        judgements: plan.judgements,
        recordings: plan.jobs.len() - missing.len(),
        missing: missing.iter().map(|(m, _)| m.clone()).collect(),
        files: files.len() + 1,
        bytes: files.iter().map(|f| f.size).sum(),
        not_audited: None,
    };
    let mut parameters: BTreeMap<String, String> = plan.parameters;
    parameters.insert("kind".into(), request.kind.as_str().into());
    parameters.insert("from".into(), request.from.clone());
    parameters.insert("to".into(), request.to.clone());
    parameters.insert("audio".into(), ext.into());
    parameters.insert("pseudonymised".into(), plan.pseudonymised.to_string());
    let manifest = Manifest {
        format: "bandroom-bundle/1".into(),
        app_version: env!("CARGO_PKG_VERSION").into(),
        library_id: lib.library_id()?,
        created_at: crate::library::now(),
        parameters,
        files,
        missing: summary.missing.clone(),
    };
    let manifest_path = root.join(MANIFEST_FILE);
    let mut file =
        std::fs::File::create(&manifest_path).map_err(|e| file_error(&manifest_path, e))?;
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| file_error(&manifest_path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| file_error(&manifest_path, e))?;
    summary.bytes += text.len() as u64;
    let audited = lib.record_export(&format!(
        "{} bundle: {}; from {} to {}; pseudonymised: {}; {} recordings, {} missing",
        request.kind.as_str(),
        plan.audit_selection,
        request.from,
        request.to,
        plan.pseudonymised,
        summary.recordings,
        summary.missing.len()
    ));
    // A library whose disk is full is opened read-only: the bundle (on another disk)
    // is still made, and the teacher told it is not in the audit log.
    match audited {
        Ok(()) => {}
        Err(LibraryError::Unwritable { reason }) => summary.not_audited = Some(reason),
        Err(e) if lib.is_read_only() => summary.not_audited = Some(e.to_string()),
        Err(e) => return Err(e.into()),
    }
    Ok(summary)
}
