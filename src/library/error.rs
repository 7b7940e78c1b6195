//! The library's errors: each says what is wrong and what to do, and that nothing was
//! changed where that is true (every write is one transaction).
//!
//! Must not print or decide exit codes; the command line and the app do that.

use rusqlite::ErrorCode;
use std::path::{Path, PathBuf};

pub type Result<T> = std::result::Result<T, LibraryError>;

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("cannot open the library database {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error(
        "{path} was written by a newer bandroom (library version {found}; this bandroom \
         knows up to {known}): update bandroom to open it. Nothing was changed"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "the library is busy: another bandroom (the app or a command) has been writing for \
         longer than this one waits. Try again in a moment; nothing was changed"
    )]
    Busy,
    #[error(
        "the library cannot be written ({reason}): check the disk has free space and that \
         you may write there. Nothing was changed"
    )]
    Unwritable { reason: String },
    #[error("{0}")]
    NotFound(String),
    #[error(
        "the erasure is recorded, but another program is still reading the library, so \
         old copies of the pupil's data may remain in its log: close other bandroom windows \
         and run `bandroom erase --resume`"
    )]
    ErasureUnfinished,
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("the library database reported: {0}")]
    Database(rusqlite::Error),
    #[error(
        "the library database is damaged ({reason}). Nothing was changed. Run `bandroom \
         check` to see which tables are affected, then restore the newest backup into a new \
         folder with `bandroom restore BACKUP --to NEW-FOLDER`{backups}"
    )]
    Corrupt { reason: String, backups: String },
}

impl LibraryError {
    pub(crate) fn unwritable(path: &Path, e: &std::io::Error) -> LibraryError {
        LibraryError::Unwritable {
            reason: format!("{}: {e}", path.display()),
        }
    }

    pub(crate) fn file(path: &Path, e: impl std::fmt::Display) -> LibraryError {
        LibraryError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }
}

impl From<rusqlite::Error> for LibraryError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => LibraryError::Busy,
            Some(ErrorCode::DiskFull) => LibraryError::Unwritable {
                reason: "the disk is full".into(),
            },
            Some(ErrorCode::ReadOnly) => LibraryError::Unwritable {
                reason: "the library is read-only".into(),
            },
            Some(ErrorCode::CannotOpen) => LibraryError::Unwritable {
                reason: "the database file cannot be opened".into(),
            },
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => LibraryError::Corrupt {
                reason: e.to_string(),
                backups: String::new(),
            },
            _ => LibraryError::Database(e),
        }
    }
}
