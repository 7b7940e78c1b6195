//! bandroom: whole-class ensemble sessions for school music rooms.
//!
//! The crate is layered (see `ARCHITECTURE.md`): `music` is data, `engine` is the
//! one real-time object that turns music into audio, `audio` drives the engine
//! (offline here, devices later) and `record` writes what comes out to disk.

pub mod analysis;
pub mod atomic_file;
pub mod audio;
pub mod engine;
pub mod export;
pub mod jobs;
pub mod library;
pub mod midi;
pub mod music;
pub mod name_scrubber;
pub mod own_files;
pub mod plain_text;
pub mod record;
pub mod session;
pub mod time_text;
pub mod ui;
