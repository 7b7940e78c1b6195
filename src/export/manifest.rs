//! `manifest.json`: every file of a bundle with its size and SHA-256, the export's
//! parameters, the app version and the library id (never the pseudonymisation key),
//! and the check that a bundle still matches it.
//!
//! Must not know what the files contain.

use crate::library::sha256_file;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const MANIFEST_FILE: &str = "manifest.json";
/// The largest manifest `verify` reads: a bundle of 100,000 files has one of about
/// 20 MB. A larger one is refused before it is read (it may inflate from a small zip).
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;
/// The most files a bundle may list or hold.
pub const MAX_ENTRIES: usize = 200_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub app_version: String,
    pub library_id: String,
    pub created_at: String,
    pub parameters: BTreeMap<String, String>,
    pub files: Vec<ManifestEntry>,
    /// Recordings the library had lost when the bundle was made.
    #[serde(default)]
    pub missing: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{}: {reason}", path.display())]
    File { path: PathBuf, reason: String },
    #[error("{} has no readable manifest.json ({reason}): it is not a bandroom bundle, or it is damaged", path.display())]
    NoManifest { path: PathBuf, reason: String },
}

/// What `verify` found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Verification {
    pub checked: usize,
    pub missing: Vec<String>,
    pub altered: Vec<String>,
    pub extra: Vec<String>,
    /// Names that lead outside the bundle (`..`, a root, `\\`), links, or anything else
    /// `verify` will not follow; each makes the bundle fail.
    pub unsafe_entries: Vec<String>,
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        self.missing.is_empty()
            && self.altered.is_empty()
            && self.extra.is_empty()
            && self.unsafe_entries.is_empty()
    }
}

/// Parses a manifest's bytes (already capped at [`MAX_MANIFEST_BYTES`]).
pub(crate) fn parse_manifest(bytes: &[u8], bundle: &Path) -> Result<Manifest, BundleError> {
    let manifest: Manifest =
        serde_json::from_slice(bytes).map_err(|e| BundleError::NoManifest {
            path: bundle.to_path_buf(),
            reason: e.to_string(),
        })?;
    if manifest.files.len() > MAX_ENTRIES {
        return Err(BundleError::NoManifest {
            path: bundle.to_path_buf(),
            reason: format!(
                "it lists {} files, more than the {MAX_ENTRIES} a bundle may hold",
                manifest.files.len()
            ),
        });
    }
    Ok(manifest)
}

/// Compares what a bundle holds (`present`, regular files only) with its manifest, in
/// one pass over each: `hash(name)` gives a present file's (size, SHA-256).
pub(crate) fn compare(
    manifest: &Manifest,
    present: &std::collections::HashSet<String>,
    result: &mut Verification,
    mut hash: impl FnMut(&str) -> Option<(u64, String)>,
) {
    let mut listed = std::collections::HashSet::with_capacity(manifest.files.len());
    for entry in &manifest.files {
        if !crate::own_files::is_inside_relative(&entry.path) {
            result.unsafe_entries.push(format!(
                "{} (the manifest names a place outside the bundle)",
                entry.path
            ));
            continue;
        }
        if !listed.insert(entry.path.as_str()) {
            result
                .unsafe_entries
                .push(format!("{} (listed twice in the manifest)", entry.path));
            continue;
        }
        if !present.contains(&entry.path) {
            result.missing.push(entry.path.clone());
            continue;
        }
        result.checked += 1;
        if hash(&entry.path) != Some((entry.size, entry.sha256.clone())) {
            result.altered.push(entry.path.clone());
        }
    }
    let mut extra: Vec<&String> = present
        .iter()
        .filter(|name| name.as_str() != MANIFEST_FILE && !listed.contains(name.as_str()))
        .collect();
    extra.sort();
    result.extra.extend(extra.into_iter().cloned());
}

/// Every regular file under `root` (relative, `/`-separated), except the manifest,
/// found without following links.
pub fn files_under(root: &Path) -> Result<Vec<String>, BundleError> {
    let (found, _) = walk(root)?;
    Ok(found)
}

/// Regular files under `root`, and the links and other non-files found there, neither
/// followed. Stops at [`MAX_ENTRIES`].
fn walk(root: &Path) -> Result<(Vec<String>, Vec<String>), BundleError> {
    let mut found = Vec::new();
    let mut strange = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    let relative_name = |path: &Path| {
        path.strip_prefix(root).ok().map(|relative| {
            relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
    };
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| BundleError::File {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        for entry in entries.flatten() {
            if found.len() + strange.len() > MAX_ENTRIES {
                return Err(BundleError::File {
                    path: root.to_path_buf(),
                    reason: format!("holds more than the {MAX_ENTRIES} files a bundle may hold"),
                });
            }
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let Some(name) = relative_name(&path) else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                if name != MANIFEST_FILE {
                    found.push(name);
                }
            } else {
                strange.push(name);
            }
        }
    }
    found.sort();
    strange.sort();
    Ok((found, strange))
}

/// Hashes every file under `root` into manifest entries.
pub fn entries(root: &Path) -> Result<Vec<ManifestEntry>, BundleError> {
    files_under(root)?
        .into_iter()
        .map(|name| {
            let path = root.join(&name);
            let size = std::fs::metadata(&path)
                .map_err(|e| BundleError::File {
                    path: path.clone(),
                    reason: e.to_string(),
                })?
                .len();
            let sha256 = sha256_file(&path).map_err(|e| BundleError::File {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            Ok(ManifestEntry {
                path: name,
                size,
                sha256,
            })
        })
        .collect()
}

/// The paths a bundle folder's manifest lists.
pub fn listed_paths(root: &Path) -> Result<Vec<String>, BundleError> {
    let path = root.join(MANIFEST_FILE);
    let bytes = crate::own_files::read_regular_limited(&path, MAX_MANIFEST_BYTES).map_err(|e| {
        BundleError::NoManifest {
            path: root.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    Ok(parse_manifest(&bytes, root)?
        .files
        .into_iter()
        .map(|f| f.path)
        .collect())
}

/// Re-hashes a bundle folder against its manifest, never following a link or a
/// manifest path out of the folder.
pub fn verify(root: &Path) -> Result<Verification, BundleError> {
    let manifest_path = root.join(MANIFEST_FILE);
    let no_manifest = |reason: String| BundleError::NoManifest {
        path: root.to_path_buf(),
        reason,
    };
    let is_plain_manifest = std::fs::symlink_metadata(&manifest_path)
        .map_err(|e| no_manifest(e.to_string()))?
        .is_file();
    if !is_plain_manifest {
        return Err(no_manifest("manifest.json is not a plain file".into()));
    }
    let bytes = crate::own_files::read_regular_limited(&manifest_path, MAX_MANIFEST_BYTES)
        .map_err(|e| no_manifest(e.to_string()))?;
    let manifest = parse_manifest(&bytes, root)?;
    let (present, strange) = walk(root)?;
    let mut result = Verification::default();
    for name in strange {
        result.unsafe_entries.push(format!(
            "{name} (a link or special file; verify does not follow it)"
        ));
    }
    let present: std::collections::HashSet<String> = present.into_iter().collect();
    compare(&manifest, &present, &mut result, |name| {
        let path = root.join(name);
        let size = std::fs::symlink_metadata(&path).ok()?.len();
        sha256_file(&path).ok().map(|hash| (size, hash))
    });
    Ok(result)
}
