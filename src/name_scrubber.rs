//! Finding pupils' names in free text (comments, markers, reflections, moderators'
//! notes) and replacing them: for pseudonymised bundles, for pupils who are not to be
//! shared, and for erasure.
//!
//! A name is found as a whole, and (unless asked for the whole name only) each of its
//! parts on its own (split at spaces, hyphens and apostrophes, however short), on
//! Unicode word boundaries, in the spellings people really type: any case (Unicode case
//! folding, Turkish dotted and dotless i alike), with or without diacritics ("Zoe" for
//! "Zoë", "A" for "Å", "o" for "ø"), and with any apostrophe or hyphen ("O’Brien" for
//! "O'Brien"). An admission number is found as a whole word. Matching runs on a folded
//! copy of the text whose every byte remembers where it came from, so what is replaced
//! is exactly the original span. One linear pass (the `regex` crate), whatever the
//! number of pupils.
//!
//! A leaf helper: knows names and replacements only, never where they came from.

use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Names to find and what each becomes.
#[derive(Debug)]
pub struct NameScrubber {
    pattern: Option<Regex>,
    /// Folded name, part or number → replacement.
    replacements: HashMap<String, String>,
    fallback: String,
}

/// One thing to find: a pupil's name (with or without its parts) or their number.
#[derive(Clone, Copy, Debug)]
pub struct Sought<'a> {
    pub text: &'a str,
    pub label: &'a str,
    /// Also each part of it on its own (a name); false for a whole name or a number.
    pub parts: bool,
}

/// The whole name and every part of it worth looking for.
pub fn name_parts(name: &str) -> Vec<String> {
    let mut parts = vec![name.trim().to_string()];
    for word in name.split_whitespace() {
        parts.push(word.to_string());
        let pieces: Vec<&str> = word
            .split(|c: char| c == '-' || is_apostrophe(c) || is_hyphen(c))
            .filter(|p| !p.is_empty())
            .collect();
        if pieces.len() > 1 {
            parts.extend(pieces.into_iter().map(str::to_string));
        }
    }
    parts.retain(|p| !p.is_empty());
    parts.sort();
    parts.dedup();
    parts
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{2032}' | '`' | '\u{00B4}' | '\u{FF07}'
    )
}

fn is_hyphen(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2212}'
            | '\u{FE63}'
            | '\u{FF0D}'
    )
}

/// One character as it is matched: lower case (Turkish İ and ı read as i, Greek final
/// ς as σ), without its diacritics, every apostrophe as `'` and every hyphen as `-`.
fn fold_char(c: char, out: &mut String) {
    match c {
        'İ' | 'ı' => out.push('i'),
        // Σ lowers to σ wherever it stands, so a name typed in capitals could never
        // match its stored final form otherwise.
        'ς' => out.push('σ'),
        c if is_apostrophe(c) => out.push('\''),
        c if is_hyphen(c) => out.push('-'),
        'ß' | 'ẞ' => out.push_str("ss"),
        'æ' | 'Æ' => out.push_str("ae"),
        'œ' | 'Œ' => out.push_str("oe"),
        'ø' | 'Ø' => out.push('o'),
        'đ' | 'Đ' => out.push('d'),
        'ł' | 'Ł' => out.push('l'),
        'þ' | 'Þ' => out.push_str("th"),
        c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
        c => {
            for d in std::iter::once(c).nfd().filter(|d| !is_combining_mark(*d)) {
                out.extend(d.to_lowercase());
            }
        }
    }
}

/// `text` folded, with the byte offset in `text` each folded byte came from (one more
/// entry at the end: `text.len()`).
fn fold(text: &str) -> (String, Vec<usize>) {
    let mut folded = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len() + 1);
    for (at, c) in text.char_indices() {
        let before = folded.len();
        fold_char(c, &mut folded);
        origin.extend(std::iter::repeat_n(at, folded.len() - before));
    }
    origin.push(text.len());
    (folded, origin)
}

/// A name as it is matched.
pub fn folded(text: &str) -> String {
    fold(text.trim()).0
}

impl NameScrubber {
    /// `names` are (pupil's name, what it becomes), each found whole and by its parts.
    /// A part shared by pupils who become different things becomes `fallback`, so no
    /// pupil is named by another's label.
    pub fn new<'a>(
        names: impl IntoIterator<Item = (&'a str, &'a str)>,
        fallback: &str,
    ) -> NameScrubber {
        NameScrubber::of(
            names.into_iter().map(|(text, label)| Sought {
                text,
                label,
                parts: true,
            }),
            fallback,
        )
    }

    /// Everything in `sought`, each whole and, where asked, by its parts.
    pub fn of<'a>(sought: impl IntoIterator<Item = Sought<'a>>, fallback: &str) -> NameScrubber {
        let mut replacements: HashMap<String, String> = HashMap::new();
        for Sought { text, label, parts } in sought {
            let whole = folded(text);
            if whole.is_empty() {
                continue;
            }
            // The whole name always maps to its own pupil's label.
            replacements.insert(whole.clone(), label.to_string());
            if !parts {
                continue;
            }
            for part in name_parts(text) {
                let key = folded(&part);
                if key == whole || key.is_empty() {
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

    /// `text` with every name, name part and number replaced.
    pub fn scrub(&self, text: &str) -> String {
        let Some(pattern) = &self.pattern else {
            return text.to_string();
        };
        let (folded, origin) = fold(text);
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for found in pattern.find_iter(&folded) {
            let (start, end) = (origin[found.start()], origin[found.end()]);
            // A match that begins inside a character another one folded into is left.
            if start < copied {
                continue;
            }
            out.push_str(&text[copied..start]);
            out.push_str(
                self.replacements
                    .get(found.as_str())
                    .map_or(self.fallback.as_str(), String::as_str),
            );
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
    }

    /// True when `text` names anyone this scrubber knows.
    pub fn finds_any(&self, text: &str) -> bool {
        self.pattern
            .as_ref()
            .is_some_and(|p| p.is_match(&fold(text).0))
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

    #[test]
    fn the_spellings_people_type_are_found() {
        let s = NameScrubber::new(
            [
                ("Siobhán O'Brien", "P-1"),
                ("Zoë Åberg", "P-2"),
                ("Işıl Yıldız", "P-3"),
                ("Søren Mæhle", "P-4"),
            ],
            "[pupil]",
        );
        assert_eq!(s.scrub("well done O’Brien"), "well done P-1");
        assert_eq!(s.scrub("SIOBHAN O‘BRIEN clapped"), "P-1 clapped");
        assert_eq!(s.scrub("Zoe Aberg and zoe"), "P-2 and P-2");
        assert_eq!(s.scrub("ISIL YILDIZ; İşil"), "P-3; P-3");
        assert_eq!(s.scrub("Soren Maehle"), "P-4");
        // The replaced span is exactly the original's, whatever folding did.
        assert_eq!(s.scrub("«Zoë»!"), "«P-2»!");
        assert_eq!(s.scrub("Zoey"), "Zoey");
    }

    #[test]
    fn a_greek_final_sigma_is_the_same_letter_as_sigma() {
        // "ΣΕ".to_lowercase() is "σε", never "ςε": a name stored with its final form
        // must still be found when a teacher types it in capitals, and the other way.
        let s = NameScrubber::new([("ςε Ρэ", "P-1"), ("Λέων", "P-2")], "[pupil]");
        assert_eq!(s.scrub("ΣΕ and ςε played"), "P-1 and P-1 played");
        assert_eq!(s.scrub("σε"), "P-1");
        let t = NameScrubber::new([("ΟΔΥΣΣΕΑΣ", "P-3")], "[pupil]");
        assert_eq!(t.scrub("well done Οδυσσεας"), "well done P-3");
    }

    #[test]
    fn a_number_is_found_whole_only() {
        let s = NameScrubber::of(
            [
                Sought {
                    text: "Amira Okafor",
                    label: "P-1",
                    parts: true,
                },
                Sought {
                    text: "2019-0042",
                    label: "P-1",
                    parts: false,
                },
            ],
            "[pupil]",
        );
        assert_eq!(s.scrub("pupil 2019-0042 (amira)"), "pupil P-1 (P-1)");
        assert_eq!(s.scrub("in 2019 and 0042"), "in 2019 and 0042");
    }
}
