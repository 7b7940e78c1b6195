//! Files that appear whole or not at all.
//!
//! Owns the rule for every output bandroom writes: write to a hidden temporary name
//! beside the destination, sync it, then rename over the destination. If anything
//! fails or the writer is dropped early, the temporary file is removed and the
//! destination is left as it was. Must not know what the file contains.

use std::fs::File;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot write {}: {reason} (check the folder exists and you may write to it)", path.display())]
    Create {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("cannot finish {}: {reason} (is the disk full?)", path.display())]
    Commit {
        path: PathBuf,
        reason: std::io::Error,
    },
}

/// A destination being written under a temporary name.
#[derive(Debug)]
pub struct PendingFile {
    temp: PathBuf,
    dest: PathBuf,
    committed: bool,
    /// Known to the process while written, so a termination signal removes it.
    _writing: crate::own_files::InProgress,
}

impl PendingFile {
    /// Creates the temporary file beside `dest`.
    pub fn create(dest: &Path) -> Result<(Self, File), FileError> {
        let create_error = |reason| FileError::Create {
            path: dest.to_path_buf(),
            reason,
        };
        dest.file_name().ok_or_else(|| {
            create_error(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the path names a folder, not a file",
            ))
        })?;
        if dest.is_dir() {
            return Err(create_error(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "a folder of that name is in the way",
            )));
        }
        // A copy a killed run left beside the same destination goes first.
        for leftover in crate::own_files::leftovers_of(dest) {
            let _ = crate::own_files::remove_leftover(&leftover, dest);
        }
        let temp = crate::own_files::scratch_path(dest, "partial");
        let file = crate::own_files::create_private_file(&temp).map_err(create_error)?;
        Ok((
            Self {
                _writing: crate::own_files::in_progress(&temp),
                temp,
                dest: dest.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }

    pub fn dest(&self) -> &Path {
        &self.dest
    }

    pub fn temp(&self) -> &Path {
        &self.temp
    }

    /// Syncs the finished temporary file to disk and renames it into place.
    pub fn commit(mut self) -> Result<PathBuf, FileError> {
        let commit_error = |reason| FileError::Commit {
            path: self.dest.clone(),
            reason,
        };
        File::open(&self.temp)
            .and_then(|f| f.sync_all())
            .map_err(commit_error)?;
        std::fs::rename(&self.temp, &self.dest).map_err(commit_error)?;
        self.committed = true;
        Ok(self.dest.clone())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: the temporary file may never have been created.
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn nothing_appears_until_commit_and_drops_clean_up() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.txt");
        let (pending, mut file) = PendingFile::create(&dest).unwrap();
        file.write_all(b"hello").unwrap();
        assert!(!dest.exists());
        let temp = pending.temp().to_path_buf();
        drop(pending);
        assert!(!temp.exists() && !dest.exists());

        let (pending, mut file) = PendingFile::create(&dest).unwrap();
        file.write_all(b"hello").unwrap();
        pending.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_folders_are_named() {
        let err = PendingFile::create(Path::new("/nonexistent-bandroom/out.wav")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent-bandroom/out.wav"),
            "{err}"
        );
    }
}
