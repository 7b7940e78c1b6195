//! The module map checks itself: every `use crate::…` (and `bandroom::…` in the command
//! line) in `src/` is an arrow from one module to another, and each must be one the
//! table in ARCHITECTURE.md lists; each arrow the table lists must still be in the code,
//! so the table stays true. Leaves (atomic files, own files, plain text, the name
//! scrubber, time text) may be used by every module and use nothing but leaves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module table: module → the modules it may depend on; and the set of leaves.
struct Map {
    arrows: BTreeMap<String, BTreeSet<String>>,
    leaves: BTreeSet<String>,
}

fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(|name| {
            name.trim_end_matches('/')
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect()
}

fn read_map(markdown: &str) -> Map {
    let start = markdown
        .find("## Modules and the arrows between them")
        .expect("ARCHITECTURE.md has its module section");
    let mut map = Map {
        arrows: BTreeMap::new(),
        leaves: BTreeSet::new(),
    };
    for line in markdown[start..].lines().skip(1) {
        if line.starts_with("## ") {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | module | owns | depends on |  →  ["", module, owns, depends, ""]
        if cells.len() != 5 || cells[1] == "module" || cells[1].starts_with("---") {
            continue;
        }
        let module = backticked(cells[1])
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("a row names no module: {line}"));
        if cells[1].starts_with("leaf") {
            map.leaves.insert(module.clone());
        }
        let depends: BTreeSet<String> = backticked(cells[3]).into_iter().collect();
        assert!(
            map.arrows.insert(module.clone(), depends).is_none(),
            "{module} has two rows"
        );
    }
    map
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The module a source file belongs to: the first part of its path under `src/`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let first = file.strip_prefix(src).ok()?.components().next()?;
    let name = first.as_os_str().to_str()?.trim_end_matches(".rs");
    match name {
        "lib" => None,
        "main" => Some("cli".into()),
        other => Some(other.into()),
    }
}

/// Every module a line of code names through `prefix` (`crate::x`, `crate::{x, y}`).
fn named_modules(line: &str, prefix: &str) -> Vec<String> {
    let ident = |text: &str| -> String {
        text.trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(inner) = rest.strip_prefix('{') {
            let group = inner.split('}').next().unwrap_or("");
            names.extend(group.split(',').map(ident).filter(|n| !n.is_empty()));
        } else {
            names.push(ident(rest));
        }
    }
    names
}

/// Every arrow in the code: (from, to) → where it was seen first.
fn arrows_in_code(src: &Path) -> BTreeMap<(String, String), String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut arrows = BTreeMap::new();
    for file in files {
        let Some(from) = module_of(src, &file) else {
            continue;
        };
        let prefix = if from == "cli" {
            "bandroom::"
        } else {
            "crate::"
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for to in named_modules(line, prefix) {
                if to != from && !to.is_empty() {
                    arrows
                        .entry((from.clone(), to))
                        .or_insert_with(|| format!("{}:{}", file.display(), number + 1));
                }
            }
        }
    }
    arrows
}

#[test]
fn every_module_arrow_in_the_code_is_in_the_architecture_table_and_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = read_map(&std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap());
    assert!(
        map.arrows.len() >= 10,
        "the table was read: {:?}",
        map.arrows
    );
    let code = arrows_in_code(&root.join("src"));
    assert!(code.len() >= 20, "the code was read: {code:?}");

    let mut wrong = Vec::new();
    for ((from, to), seen) in &code {
        let listed = map
            .arrows
            .get(from)
            .is_some_and(|allowed| allowed.contains(to));
        let to_leaf = map.leaves.contains(to);
        let from_leaf = map.leaves.contains(from);
        let allowed = if from_leaf {
            to_leaf
        } else {
            listed || to_leaf
        };
        if !map.arrows.contains_key(from) {
            wrong.push(format!("{from} is not in the table ({seen})"));
        } else if !allowed {
            wrong.push(format!("{from} → {to} is not in the table ({seen})"));
        }
    }
    for (from, allowed) in &map.arrows {
        for to in allowed {
            if !code.contains_key(&(from.clone(), to.clone())) {
                wrong.push(format!(
                    "the table says {from} → {to}, but the code no longer has it"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "ARCHITECTURE.md and the code disagree:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_reader_finds_grouped_and_nested_paths_and_skips_look_alikes() {
    assert_eq!(
        named_modules("use crate::{engine::Score, music, record::x};", "crate::"),
        ["engine", "music", "record"]
    );
    assert_eq!(
        named_modules("let a = crate::jobs::run(); my_crate::no::", "crate::"),
        ["jobs"]
    );
    let map = read_map(
        "## Modules and the arrows between them\n| module | owns | depends on |\n|---|---|---|\n\
         | `ui/` | screens | `session`, `jobs` |\n| leaf `own_files` | names | — |\n## Next\n| `x` | y | `z` |\n",
    );
    assert_eq!(map.arrows.len(), 2);
    assert_eq!(
        map.arrows["ui"],
        BTreeSet::from(["session".to_string(), "jobs".to_string()])
    );
    assert!(map.leaves.contains("own_files"));
}
