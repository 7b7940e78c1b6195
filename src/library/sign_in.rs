//! Pupil sign-in: an optional per-class code for each pupil, two picture words
//! ("otter drum") a 12-year-old can read off a card and type, so that in pupil mode a
//! pupil opens only their own takes and writes only as themselves.
//!
//! Owns making codes (from the operating system's random source), keeping them (in
//! the library, readable, so the teacher can print the class's cards again), checking
//! what a pupil typed, and whether a class asks for them. Must not decide what a signed-in
//! pupil may see (the app's review does) or draw the cards (`export::sign_in_cards`).

use super::Library;
use super::error::{LibraryError, Result};
use rusqlite::{OptionalExtension, params};

/// Things that are easy to draw, read and spell at eleven: 64 of them, so two make 4 096
/// codes, and a wrong guess costs a wait (the app's sign-in) long before that runs out.
pub const CODE_WORDS: [&str; 64] = [
    "ant", "apple", "bear", "bee", "bell", "boat", "bus", "cake", "car", "cat", "cloud", "cow",
    "crab", "cup", "deer", "dog", "drum", "duck", "egg", "fish", "flag", "fox", "frog", "goat",
    "harp", "hat", "horn", "kite", "key", "lamp", "leaf", "lion", "moon", "mouse", "nest", "owl",
    "otter", "panda", "pear", "pig", "rain", "robot", "rocket", "rose", "seal", "sheep", "ship",
    "shoe", "snail", "snow", "sock", "star", "sun", "swan", "tent", "tiger", "train", "tree",
    "bike", "violin", "whale", "wolf", "yak", "zebra",
];

/// Where the app writes a class's card sheet: a folder of the library's own, so the
/// page it replaces is always one bandroom wrote, and erasing a pupil can remove the
/// sheets that name them.
pub const SIGN_IN_CARDS_DIR: &str = "sign-in-cards";

/// A class's card sheet in [`SIGN_IN_CARDS_DIR`]: named by the class's id, never its
/// name, so nothing a teacher typed becomes a path.
pub fn sign_in_cards_file(class: i64) -> String {
    format!("class-{class}.html")
}

/// Removes every card sheet the app wrote (after a pupil is erased: the sheets name
/// them). Only files named as [`sign_in_cards_file`] names them are touched.
pub(crate) fn remove_card_sheets(root: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(root.join(SIGN_IN_CARDS_DIR)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name
            .strip_prefix("class-")
            .and_then(|rest| rest.strip_suffix(".html"))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn sign_in_key(class: i64) -> String {
    format!("class.{class}.sign_in")
}

/// Lower case, single spaces, no punctuation: "Otter  Drum!" reads as "otter drum".
fn normalise(typed: &str) -> String {
    typed
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fresh two-word code.
fn new_code() -> Result<String> {
    let mut bytes = [0u8; 2];
    getrandom::fill(&mut bytes).map_err(|e| {
        LibraryError::Invalid(format!(
            "no random numbers from the operating system for a sign-in code: {e}"
        ))
    })?;
    let word = |b: u8| CODE_WORDS[usize::from(b) % CODE_WORDS.len()];
    let (first, mut second) = (word(bytes[0]), word(bytes[1]));
    // "cat cat" is a code, but one a classmate would try first.
    if first == second {
        second = word(bytes[1].wrapping_add(1));
    }
    Ok(format!("{first} {second}"))
}

impl Library {
    /// Whether pupils of `class` sign in with their code in pupil mode.
    pub fn sign_in_required(&self, class: i64) -> Result<bool> {
        Ok(self.setting(&sign_in_key(class))?.as_deref() == Some("1"))
    }

    /// Turns sign-in on or off for a class. On: every member without a code gets one
    /// (codes already printed stay as they are).
    pub fn set_sign_in(&mut self, class: i64, on: bool) -> Result<()> {
        // Codes are drawn only when sign-in goes on; turning it off keeps those made.
        let mut codes = Vec::new();
        if on {
            for pupil in self.pupils(Some(class))? {
                codes.push((pupil.id, new_code()?));
            }
        }
        let tx = self.write()?;
        Library::put_setting(&tx, &sign_in_key(class), if on { "1" } else { "0" })?;
        for (pupil, code) in codes {
            tx.execute(
                "INSERT OR IGNORE INTO pupil_code (pupil_id, code, made_at) VALUES (?1, ?2, ?3)",
                params![pupil, code, super::now()],
            )?;
        }
        super::audit::append(
            &tx,
            "class.sign_in",
            &format!("class #{class}: sign-in {}", if on { "on" } else { "off" }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// (pupil id, name, code) of every member of `class` who has a code, in the class
    /// list's order: what the card sheet prints.
    pub fn sign_in_codes(&self, class: i64) -> Result<Vec<(i64, String, String)>> {
        let mut out = Vec::new();
        for pupil in self.pupils(Some(class))? {
            if let Some(code) = self.pupil_code(pupil.id)? {
                out.push((pupil.id, pupil.name, code));
            }
        }
        Ok(out)
    }

    fn pupil_code(&self, pupil: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT code FROM pupil_code WHERE pupil_id = ?1",
                [pupil],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Gives a pupil a new code (a card lost, or a code a classmate saw); the old one
    /// stops working. Returns the new code.
    pub fn renew_sign_in_code(&mut self, pupil: i64) -> Result<String> {
        let code = new_code()?;
        let tx = self.write()?;
        let changed = tx.execute(
            "INSERT INTO pupil_code (pupil_id, code, made_at)
             SELECT id, ?2, ?3 FROM pupil WHERE id = ?1
             ON CONFLICT (pupil_id) DO UPDATE SET code = excluded.code, made_at = excluded.made_at",
            params![pupil, code, super::now()],
        )?;
        if changed == 0 {
            return Err(LibraryError::NotFound(format!("no pupil #{pupil}")));
        }
        super::audit::append(
            &tx,
            "pupil.sign_in_code",
            &format!("pupil #{pupil}: new code"),
        )?;
        tx.commit()?;
        Ok(code)
    }

    /// Whether `typed` is the pupil's code (case, spacing and punctuation aside). A pupil
    /// with no code cannot sign in with one.
    pub fn check_sign_in_code(&self, pupil: i64, typed: &str) -> Result<bool> {
        Ok(self
            .pupil_code(pupil)?
            .is_some_and(|code| normalise(&code) == normalise(typed) && !code.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_two_different_words_from_the_list() {
        for _ in 0..200 {
            let code = new_code().unwrap();
            let words: Vec<&str> = code.splitn(2, ' ').collect();
            assert_eq!(words.len(), 2, "{code}");
            assert!(CODE_WORDS.contains(&words[0]), "{code}");
            assert!(CODE_WORDS.contains(&words[1]), "{code}");
            assert_ne!(words[0], words[1], "{code}");
        }
    }

    #[test]
    fn the_words_are_64_different_single_words() {
        let unique: std::collections::HashSet<&str> = CODE_WORDS.iter().copied().collect();
        assert_eq!(unique.len(), 64);
        assert!(
            CODE_WORDS
                .iter()
                .all(|w| w.chars().all(|c| c.is_ascii_lowercase()))
        );
    }

    #[test]
    fn what_a_pupil_types_is_read_kindly() {
        assert_eq!(normalise("  Otter   DRUM! "), "otter drum");
        assert_eq!(normalise("otter-drum"), "otter drum");
        assert_ne!(normalise("otterdrum"), "otter drum");
    }
}
