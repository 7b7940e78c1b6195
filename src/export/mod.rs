//! Evidence bundles for heads of department: the audio of each pupil's evidence takes,
//! the judgements as CSV, a self-contained HTML report with radar diagrams, and a
//! manifest of every file's size and SHA-256 that `bandroom verify` checks.
//!
//! Owns the bundle's layout and the manifest. Reads the library through its public
//! API; must not change it (except the audit entry and pseudonym key it asks for).

pub mod audio;
pub mod bundle;
pub mod manifest;
pub mod moderation;
pub mod monitoring;
pub mod report;
pub mod selection;
pub mod sign_in_cards;
pub mod zip_bundle;
