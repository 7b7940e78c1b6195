//! The repertoire: built-in pieces, a school's own folder, and what `ARR` means.
//!
//! Owns the list of pieces that ship with bandroom (generated ones such as Clapping
//! Music, and TOML files from `assets/arrangements/` compiled into the binary), the
//! user folder of `.toml` arrangements (in the library), and `resolve`, which turns a
//! name or a path into an arrangement. Must not render or play anything.

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
        summary: "layered body percussion and ostinato: five layers across three tiers, with a faster tag",
        source: Source::Toml(include_str!("../../assets/arrangements/pulse-layers.toml")),
    },
    BuiltIn {
        name: "drunken-sailor",
        summary: "the traditional sea shanty for the whole class: seven instrument families, each at three tiers, on two chords",
        source: Source::Toml(include_str!(
            "../../assets/arrangements/drunken-sailor.toml"
        )),
    },
    BuiltIn {
        name: "bandroom-blues",
        summary: "a twelve-bar blues in C for the whole class: seven instrument families, each at three tiers",
        source: Source::Toml(include_str!(
            "../../assets/arrangements/bandroom-blues.toml"
        )),
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

/// The arrangements in a school's own folder: every `.toml` file, by name (its file
/// stem), each loaded or with the reason it could not be. Sorted by name; a folder that
/// does not exist yet holds none.
pub fn user_arrangements(folder: &Path) -> Vec<(String, Result<Arrangement, ArrangementError>)> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut found: Vec<(String, Result<Arrangement, ArrangementError>)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("toml"))
        })
        .filter_map(|p| {
            let name = p.file_stem()?.to_string_lossy().into_owned();
            Some((name, load_arrangement_file(&p)))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// Finds an arrangement by built-in name, or loads it from a `.toml` path.
pub fn resolve(arr: &str) -> Result<Arrangement, ArrangementError> {
    resolve_in(arr, None)
}

/// Like [`resolve`], also looking for `ARR.toml` in a school's own folder. Built-in
/// names come first, so a school's file cannot hide Clapping Music by accident.
pub fn resolve_in(arr: &str, user_folder: Option<&Path>) -> Result<Arrangement, ArrangementError> {
    if let Some(builtin) = BUILT_INS.iter().find(|b| b.name == arr) {
        return builtin.load();
    }
    if let Some(folder) = user_folder {
        let candidate = folder.join(format!("{arr}.toml"));
        if !arr.contains(['/', '\\']) && candidate.is_file() {
            return load_arrangement_file(&candidate);
        }
    }
    let path = Path::new(arr);
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        Some("mid" | "midi") => super::midi_file::load_midi_file(path),
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
            resolve("/nonexistent/song.mid"),
            Err(ArrangementError::Read { .. })
        ));
        assert!(matches!(
            resolve("/nonexistent/piece.toml"),
            Err(ArrangementError::Read { .. })
        ));
    }
}
