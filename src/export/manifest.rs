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
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        self.missing.is_empty() && self.altered.is_empty() && self.extra.is_empty()
    }
}

/// Every file under `root` (relative, `/`-separated), except the manifest.
pub fn files_under(root: &Path) -> Result<Vec<String>, BundleError> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| BundleError::File {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                let name = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                if name != MANIFEST_FILE {
                    found.push(name);
                }
            }
        }
    }
    found.sort();
    Ok(found)
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

/// Re-hashes a bundle folder against its manifest.
pub fn verify(root: &Path) -> Result<Verification, BundleError> {
    let manifest_path = root.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| BundleError::NoManifest {
        path: root.to_path_buf(),
        reason: e.to_string(),
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| BundleError::NoManifest {
        path: root.to_path_buf(),
        reason: e.to_string(),
    })?;
    let present = files_under(root)?;
    let mut result = Verification::default();
    for entry in &manifest.files {
        let path = root.join(&entry.path);
        if !path.is_file() {
            result.missing.push(entry.path.clone());
            continue;
        }
        result.checked += 1;
        let same_size = std::fs::metadata(&path).map(|m| m.len()).ok() == Some(entry.size);
        if !same_size || sha256_file(&path).ok().as_deref() != Some(entry.sha256.as_str()) {
            result.altered.push(entry.path.clone());
        }
    }
    for name in present {
        if !manifest.files.iter().any(|e| e.path == name) {
            result.extra.push(name);
        }
    }
    Ok(result)
}
