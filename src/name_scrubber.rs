//! Finding pupils' names in free text (comments, markers, reflections, moderators'
//! notes) and replacing them: for pseudonymised bundles, for pupils who are not to be
//! shared, and for erasure.
//!
//! A name is found as a whole, and each of its parts on its own (split at spaces and
//! hyphens, however short), in any case, on Unicode word boundaries: a teacher who
//! writes "li wei" or "LI" about Li Wei has named her. A part that is also a common word
//! is replaced too; a false positive is acceptable, a leak is not. Matching is one
//! linear pass (the `regex` crate), whatever the number of pupils.
//!
//! A leaf helper: knows names and replacements only, never where they came from.

use regex::{Regex, RegexBuilder};
use std::collections::HashMap;

/// Names to find and what each becomes.
#[derive(Debug)]
pub struct NameScrubber {
    pattern: Option<Regex>,
    /// Lower-cased name or part → replacement.
    replacements: HashMap<String, String>,
    fallback: String,
}

/// The whole name and every part of it worth looking for.
pub fn name_parts(name: &str) -> Vec<String> {
    let mut parts = vec![name.trim().to_string()];
    for word in name.split_whitespace() {
        parts.push(word.to_string());
        if word.contains('-') {
            parts.extend(
                word.split('-')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string),
            );
        }
    }
    parts.retain(|p| !p.is_empty());
    parts.sort();
    parts.dedup();
    parts
}

impl NameScrubber {
    /// `names` are (pupil's name, what it becomes). A part shared by pupils who become
    /// different things becomes `fallback`, so no pupil is named by another's label.
    pub fn new<'a>(
        names: impl IntoIterator<Item = (&'a str, &'a str)>,
        fallback: &str,
    ) -> NameScrubber {
        let mut replacements: HashMap<String, String> = HashMap::new();
        for (name, label) in names {
            let whole = name.trim().to_lowercase();
            for part in name_parts(name) {
                let key = part.to_lowercase();
                // The whole name always maps to its own pupil's label.
                if key == whole {
                    replacements.insert(key, label.to_string());
                    continue;
                }
                match replacements.get(&key) {
                    Some(existing) if existing != label => {
                        replacements.insert(key, fallback.to_string());
                    }
                    Some(_) => {}
                    None => {
                        replacements.insert(key, label.to_string());
                    }
                }
            }
        }
        let mut keys: Vec<&String> = replacements.keys().collect();
        // Longest first, so "Amara Okafor" is replaced before "Amara".
        keys.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
        let alternatives: Vec<String> = keys.iter().map(|k| bounded(k)).collect();
        let pattern = if alternatives.is_empty() {
            None
        } else {
            RegexBuilder::new(&format!("(?:{})", alternatives.join("|")))
                .case_insensitive(true)
                .size_limit(256 << 20)
                .dfa_size_limit(64 << 20)
                .build()
                .ok()
        };
        NameScrubber {
            pattern,
            replacements,
            fallback: fallback.to_string(),
        }
    }

    /// `text` with every name and name part replaced.
    pub fn scrub(&self, text: &str) -> String {
        let Some(pattern) = &self.pattern else {
            return text.to_string();
        };
        pattern
            .replace_all(text, |found: &regex::Captures<'_>| {
                let key = found[0].to_lowercase();
                self.replacements
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| self.fallback.clone())
            })
            .into_owned()
    }

    /// True when `text` names anyone this scrubber knows.
    pub fn finds_any(&self, text: &str) -> bool {
        self.pattern.as_ref().is_some_and(|p| p.is_match(text))
    }
}

/// `name` as a regex alternative, with a word boundary at each end that is a word
/// character (a boundary beside punctuation would never match).
fn bounded(name: &str) -> String {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let start = if is_word(name.chars().next()) {
        r"\b"
    } else {
        ""
    };
    let end = if is_word(name.chars().last()) {
        r"\b"
    } else {
        ""
    };
    format!("{start}{}{end}", regex::escape(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_case_short_parts_whole_words_only() {
        let s = NameScrubber::new(
            [("Li Wei", "P-AAA"), ("Amara Okafor-Smith", "P-BBB")],
            "[pupil]",
        );
        assert_eq!(
            s.scrub("li wei clapped; LI WEI too"),
            "P-AAA clapped; P-AAA too"
        );
        assert_eq!(s.scrub("Li was late"), "P-AAA was late");
        assert_eq!(s.scrub("lift the lid"), "lift the lid");
        assert_eq!(
            s.scrub("with amara, smith and OKAFOR-SMITH"),
            "with P-BBB, P-BBB and P-BBB"
        );
    }

    #[test]
    fn unicode_boundaries_and_shared_parts() {
        let s = NameScrubber::new([("Zoë Brook", "P-1"), ("Zoë Ng", "P-2")], "[pupil]");
        assert_eq!(s.scrub("ZOË and zoë brook"), "[pupil] and P-1");
        assert_eq!(s.scrub("Zoëy"), "Zoëy");
        assert_eq!(s.scrub("ng"), "P-2");
    }
}
