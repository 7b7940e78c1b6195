//! A bundle as one `.zip` for a USB stick or an email: packed from the finished bundle
//! folder file by file (audio stored, text deflated) under one top folder named after
//! the zip, so unzipping it into Downloads makes a folder of its own rather than
//! scattering a manifest among the teacher's files; verified entry by entry against the
//! manifest inside it, without unpacking. Zips from before the top folder (manifest at
//! the root) still verify.
//!
//! Must not know what the files are beyond their names.

use super::manifest::{
    BundleError, MANIFEST_FILE, MAX_ENTRIES, MAX_MANIFEST_BYTES, Verification, compare,
    files_under, parse_manifest,
};
use crate::library::sha256_reader;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

fn failed(path: &Path, e: impl std::fmt::Display) -> BundleError {
    BundleError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The folder a zip at `out` unpacks into: its own name without `.zip`, or
/// `bandroom-bundle` when that is not a plain name.
pub(crate) fn top_folder(out: &Path) -> String {
    out.file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| crate::own_files::is_plain_file_name(s) && !s.starts_with('.'))
        .unwrap_or("bandroom-bundle")
        .to_string()
}

/// Packs the bundle folder `folder` (manifest included) into `zip_path`, every entry
/// under `top/`; `zip_path` is a file the caller names under bandroom's own temporary
/// name; on failure it is removed. Only `bundle::export` calls it, with a scratch path,
/// so nothing else is ever removed.
pub(crate) fn pack(folder: &Path, zip_path: &Path, top: &str) -> Result<(), BundleError> {
    let result = (|| {
        let file =
            crate::own_files::create_private_file(zip_path).map_err(|e| failed(zip_path, e))?;
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
                format!("{top}/{name}"),
                SimpleFileOptions::default().compression_method(method),
            )
            .map_err(|e| failed(zip_path, e))?;
            let source = folder.join(&name);
            let mut input = std::fs::File::open(&source).map_err(|e| failed(&source, e))?;
            // A full disk is the zip's fault, not the recording's: name the zip.
            std::io::copy(&mut input, &mut zip).map_err(|e| failed(zip_path, e))?;
        }
        let writer = zip.finish().map_err(|e| failed(zip_path, e))?;
        let file = writer
            .into_inner()
            .map_err(|e| failed(zip_path, e.error()))?;
        file.sync_all().map_err(|e| failed(zip_path, e))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(zip_path);
    }
    result
}

/// Where the bundle sits inside the zip: `""` for a manifest at the root (older zips),
/// or `TOP/` for the one top folder holding `manifest.json`.
fn bundle_prefix<R: Read + std::io::Seek>(archive: &ZipArchive<R>) -> Option<String> {
    if archive.index_for_name(MANIFEST_FILE).is_some() {
        return Some(String::new());
    }
    let mut tops = archive.file_names().filter_map(|name| {
        let name = name.ok()?;
        let (top, rest) = name.split_once('/')?;
        (rest == MANIFEST_FILE && crate::own_files::is_plain_file_name(top))
            .then(|| format!("{top}/"))
    });
    let first = tops.next()?;
    // Two bundles in one zip: neither is the zip's.
    tops.next().is_none().then_some(first)
}

/// The `format` field of the manifest inside a zip, if it has a readable one.
pub fn manifest_format(zip_path: &Path) -> Option<String> {
    let file = crate::own_files::open_regular(zip_path).ok()?;
    let mut archive = ZipArchive::new(file).ok()?;
    let prefix = bundle_prefix(&archive)?;
    let entry = archive.by_name(&format!("{prefix}{MANIFEST_FILE}")).ok()?;
    let mut text = String::new();
    entry
        .take(super::manifest::MAX_MANIFEST_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("format")?.as_str().map(str::to_string)
}

/// Re-hashes every entry of a zipped bundle against the manifest inside it, without
/// unpacking; entries whose names lead outside the bundle, and links, make it fail.
pub fn verify_zip(zip_path: &Path) -> Result<Verification, BundleError> {
    let file = crate::own_files::open_regular(zip_path).map_err(|e| failed(zip_path, e))?;
    let no_manifest = |reason: String| BundleError::NoManifest {
        path: zip_path.to_path_buf(),
        reason,
    };
    let mut archive =
        ZipArchive::new(file).map_err(|e| no_manifest(format!("not a readable zip: {e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(no_manifest(format!(
            "it holds {} entries, more than the {MAX_ENTRIES} a bundle may hold",
            archive.len()
        )));
    }
    let prefix = bundle_prefix(&archive).ok_or_else(|| {
        no_manifest("no manifest.json at its top or in one top folder".to_string())
    })?;
    let manifest = {
        let entry = archive
            .by_name(&format!("{prefix}{MANIFEST_FILE}"))
            .map_err(|e| no_manifest(e.to_string()))?;
        if entry.size() > MAX_MANIFEST_BYTES {
            return Err(no_manifest(format!(
                "its manifest.json inflates to {} MB, more than bandroom reads",
                entry.size() / 1_000_000
            )));
        }
        let mut bytes = Vec::new();
        entry
            .take(MAX_MANIFEST_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| no_manifest(e.to_string()))?;
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(no_manifest(
                "its manifest.json is larger than bandroom reads".into(),
            ));
        }
        parse_manifest(&bytes, zip_path)?
    };
    let mut result = Verification::default();
    let mut present = HashSet::new();
    let mut index_of = HashMap::new();
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(index) else {
            result
                .unsafe_entries
                .push(format!("entry {index} (unreadable)"));
            continue;
        };
        let Ok(full_name) = entry.name().map(|n| n.into_owned()) else {
            result
                .unsafe_entries
                .push(format!("entry {index} (a name that is not text)"));
            continue;
        };
        if !prefix.is_empty() && full_name == prefix {
            continue;
        }
        let Some(name) = full_name.strip_prefix(prefix.as_str()).map(str::to_string) else {
            result
                .unsafe_entries
                .push(format!("{full_name} (outside the bundle's folder)"));
            continue;
        };
        if entry.is_dir() && crate::own_files::is_inside_relative(name.trim_end_matches('/')) {
            continue;
        }
        if !crate::own_files::is_inside_relative(&name) {
            result
                .unsafe_entries
                .push(format!("{name} (a name that leads outside the bundle)"));
        } else if entry.is_symlink() {
            result
                .unsafe_entries
                .push(format!("{name} (a link; verify does not follow it)"));
        } else if index_of.insert(name.clone(), index).is_some() {
            result
                .unsafe_entries
                .push(format!("{name} (in the zip twice)"));
        } else {
            present.insert(name);
        }
    }
    compare(&manifest, &present, &mut result, |name| {
        let index = *index_of.get(name)?;
        let mut file = archive.by_index(index).ok()?;
        // A damaged entry fails its CRC while being read: that is altered too.
        sha256_reader(&mut file)
            .ok()
            .map(|(hash, size)| (size, hash))
    });
    Ok(result)
}
