//! The built-in repertoire and the rule for what `ARR` on the command line means.
//!
//! Owns the list of pieces that ship with bandroom (generated ones such as Clapping
//! Music, and TOML files from `assets/arrangements/` compiled into the binary) and
//! `resolve`, which turns a name or a path into an arrangement. Must not render or
//! play anything.

use super::arrangement::Arrangement;
use super::phase;
use super::toml_format::{ArrangementError, load_arrangement_file, parse_arrangement};
use std::path::Path;

/// A piece that ships with bandroom.
#[derive(Clone, Copy, Debug)]
pub struct BuiltIn {
    /// What a teacher types: `bandroom render clapping-music`.
    pub name: &'static str,
    /// One line on what it is and who plays what.
    pub summary: &'static str,
    source: Source,
}

#[derive(Clone, Copy, Debug)]
enum Source {
    ClappingMusic,
    Toml(&'static str),
}

pub const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        name: "clapping-music",
        summary: "Steve Reich's phase piece for two clappers: part 2 shifts one eighth per section",
        source: Source::ClappingMusic,
    },
    BuiltIn {
        name: "pulse-layers",
        summary: "layered body percussion and ostinato in five tiers, with a faster tag",
        source: Source::Toml(include_str!("../../assets/arrangements/pulse-layers.toml")),
    },
];

impl BuiltIn {
    pub fn load(&self) -> Result<Arrangement, ArrangementError> {
        match self.source {
            Source::ClappingMusic => Ok(phase::clapping_music(phase::CLAPPING_MUSIC_REPEATS)),
            Source::Toml(text) => {
                parse_arrangement(text, &format!("built-in '{}'", self.name), self.name)
            }
        }
    }
}

/// Finds an arrangement by built-in name, or loads it from a `.toml` path.
pub fn resolve(arr: &str) -> Result<Arrangement, ArrangementError> {
    if let Some(builtin) = BUILT_INS.iter().find(|b| b.name == arr) {
        return builtin.load();
    }
    let path = Path::new(arr);
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        Some("mid" | "midi") => Err(ArrangementError::MidiNotSupported {
            path: path.to_path_buf(),
        }),
        Some("toml") => load_arrangement_file(path),
        _ if path.is_file() => load_arrangement_file(path),
        _ => Err(ArrangementError::Unknown {
            name: arr.to_string(),
            known: BUILT_INS
                .iter()
                .map(|b| b.name)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_loads() {
        for builtin in BUILT_INS {
            let arr = builtin
                .load()
                .unwrap_or_else(|e| panic!("{}: {e}", builtin.name));
            assert_eq!(arr.name, builtin.name);
        }
    }

    #[test]
    fn unknown_names_list_the_built_ins() {
        let message = resolve("clapping-musik").unwrap_err().to_string();
        assert!(message.contains("clapping-musik"), "{message}");
        assert!(message.contains("clapping-music"), "{message}");
        assert!(matches!(
            resolve("song.mid"),
            Err(ArrangementError::MidiNotSupported { .. })
        ));
        assert!(matches!(
            resolve("/nonexistent/piece.toml"),
            Err(ArrangementError::Read { .. })
        ));
    }
}
