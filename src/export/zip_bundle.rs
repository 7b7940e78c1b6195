//! A bundle as one `.zip` for a USB stick or an email: packed from the finished bundle
//! folder file by file (audio stored, text deflated), and verified entry by entry
//! against the manifest inside it, without unpacking.
//!
//! Must not know what the files are beyond their names.

use super::manifest::{BundleError, MANIFEST_FILE, Manifest, Verification, files_under};
use crate::library::sha256_reader;
use std::io::{Read, Write};
use std::path::Path;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

fn failed(path: &Path, e: impl std::fmt::Display) -> BundleError {
    BundleError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Packs the bundle folder `folder` (manifest included) into `zip_path`, written under
/// a temporary name and renamed when complete.
pub fn pack(folder: &Path, zip_path: &Path) -> Result<(), BundleError> {
    let partial = zip_path.with_extension("zip.partial");
    let result = (|| {
        let file = std::fs::File::create(&partial).map_err(|e| failed(&partial, e))?;
        let mut zip = ZipWriter::new(std::io::BufWriter::new(file));
        let mut names = files_under(folder)?;
        names.push(MANIFEST_FILE.to_string());
        for name in names {
            let method = if name.ends_with(".wav") || name.ends_with(".flac") {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            };
            zip.start_file(
                name.as_str(),
                SimpleFileOptions::default().compression_method(method),
            )
            .map_err(|e| failed(&partial, e))?;
            let source = folder.join(&name);
            let mut input = std::fs::File::open(&source).map_err(|e| failed(&source, e))?;
            std::io::copy(&mut input, &mut zip).map_err(|e| failed(&partial, e))?;
        }
        let mut writer = zip.finish().map_err(|e| failed(&partial, e))?;
        writer.flush().map_err(|e| failed(&partial, e))?;
        Ok(())
    })();
    match result {
        Ok(()) => std::fs::rename(&partial, zip_path).map_err(|e| failed(zip_path, e)),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Re-hashes every entry of a zipped bundle against the manifest inside it.
pub fn verify_zip(zip_path: &Path) -> Result<Verification, BundleError> {
    let file = std::fs::File::open(zip_path).map_err(|e| failed(zip_path, e))?;
    let mut archive = ZipArchive::new(file).map_err(|e| BundleError::NoManifest {
        path: zip_path.to_path_buf(),
        reason: format!("not a readable zip: {e}"),
    })?;
    let manifest: Manifest = {
        let mut entry = archive
            .by_name(MANIFEST_FILE)
            .map_err(|e| BundleError::NoManifest {
                path: zip_path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .map_err(|e| BundleError::NoManifest {
                path: zip_path.to_path_buf(),
                reason: e.to_string(),
            })?;
        serde_json::from_str(&text).map_err(|e| BundleError::NoManifest {
            path: zip_path.to_path_buf(),
            reason: e.to_string(),
        })?
    };
    let mut result = Verification::default();
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    for entry in &manifest.files {
        let Ok(mut file) = archive.by_name(&entry.path) else {
            result.missing.push(entry.path.clone());
            continue;
        };
        result.checked += 1;
        // A damaged entry fails its CRC while being read: that is altered too.
        let intact = sha256_reader(&mut file)
            .is_ok_and(|(hash, size)| size == entry.size && hash == entry.sha256);
        if !intact {
            result.altered.push(entry.path.clone());
        }
    }
    for name in names {
        if name != MANIFEST_FILE
            && !name.ends_with('/')
            && !manifest.files.iter().any(|e| e.path == name)
        {
            result.extra.push(name);
        }
    }
    Ok(result)
}
