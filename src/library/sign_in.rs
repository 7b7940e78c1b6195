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

/// Wrong tries at one pupil's code before each further try must wait.
pub const SIGN_IN_FREE_TRIES: u32 = 3;

/// How long a try must wait after `failures` wrong ones in a row: 30 s doubling, at most
/// 10 minutes, so a classmate needs days, not minutes, to try 4,032 codes.
fn sign_in_wait_secs(failures: u32) -> u64 {
    let doublings = failures.saturating_sub(SIGN_IN_FREE_TRIES).min(5);
    (30u64 << doublings).min(600)
}

/// Every code there is: two different words in order.
const CODE_COUNT: u32 = (CODE_WORDS.len() * (CODE_WORDS.len() - 1)) as u32;

/// A fresh two-word code, every one of the [`CODE_COUNT`] equally likely (rejection
/// sampling on 16 random bits), that is not in `taken`.
fn new_code(taken: &std::collections::HashSet<String>) -> Result<String> {
    if taken.len() >= CODE_COUNT as usize {
        return Err(LibraryError::Invalid(
            "every sign-in code is in use among these pupils".into(),
        ));
    }
    let limit = u32::from(u16::MAX) + 1;
    let usable = limit - limit % CODE_COUNT;
    loop {
        let mut bytes = [0u8; 2];
        getrandom::fill(&mut bytes).map_err(|e| {
            LibraryError::Invalid(format!(
                "no random numbers from the operating system for a sign-in code: {e}"
            ))
        })?;
        let n = u32::from(u16::from_le_bytes(bytes));
        if n >= usable {
            continue;
        }
        let n = (n % CODE_COUNT) as usize;
        let others = CODE_WORDS.len() - 1;
        let first = n / others;
        // "cat cat" is a code, but one a classmate would try first: the second word is
        // one of the 63 others.
        let mut second = n % others;
        if second >= first {
            second += 1;
        }
        let code = format!("{} {}", CODE_WORDS[first], CODE_WORDS[second]);
        if !taken.contains(&code) {
            return Ok(code);
        }
    }
}

/// What one sign-in try came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInOutcome {
    /// The right code: the pupil is in.
    Welcome,
    /// Not the pupil's code; `tries_before_wait` more before tries must wait.
    Wrong { tries_before_wait: u32 },
    /// Too many wrong tries at this pupil's code: the next may be made in `secs`.
    Wait { secs: u64 },
}

/// A pupil whose code was being guessed, for the teacher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuessedCode {
    pub pupil: i64,
    pub name: String,
    /// Wrong codes typed for them since their code was made.
    pub wrong_tries: u32,
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
        // No two pupils of the class share one.
        let mut codes = Vec::new();
        if on {
            let mut taken: std::collections::HashSet<String> = self
                .sign_in_codes(class)?
                .into_iter()
                .map(|(_, _, code)| normalise(&code))
                .collect();
            for pupil in self.pupils(Some(class))? {
                if self.pupil_code(pupil.id)?.is_none() {
                    let code = new_code(&taken)?;
                    taken.insert(code.clone());
                    codes.push((pupil.id, code));
                }
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
        let taken = self.classmates_codes(pupil)?;
        let code = new_code(&taken)?;
        let tx = self.write()?;
        let changed = tx.execute(
            "INSERT INTO pupil_code (pupil_id, code, made_at)
             SELECT id, ?2, ?3 FROM pupil WHERE id = ?1
             ON CONFLICT (pupil_id) DO UPDATE SET code = excluded.code, made_at = excluded.made_at,
                 failures = 0, locked_until = 0, wrong_since_made = 0",
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

    /// The codes (normalised) of every pupil who shares a class with `pupil`, theirs
    /// included: a new code for them must differ from all of these.
    fn classmates_codes(&self, pupil: i64) -> Result<std::collections::HashSet<String>> {
        let mut statement = self.conn.prepare(
            "SELECT c.code FROM pupil_code c
             WHERE c.pupil_id IN (
                 SELECT e2.pupil_id FROM class_member e1 JOIN class_member e2 ON e2.class_id = e1.class_id
                 WHERE e1.pupil_id = ?1)
                OR c.pupil_id = ?1",
        )?;
        let codes = statement
            .query_map([pupil], |r| r.get::<_, String>(0))?
            .map(|c| c.map(|c| normalise(&c)))
            .collect::<rusqlite::Result<_>>()?;
        Ok(codes)
    }

    /// Whether `typed` is the pupil's code (case, spacing and punctuation aside), without
    /// counting a try: for the teacher's tools. Pupils sign in with
    /// [`Library::attempt_sign_in`].
    pub fn check_sign_in_code(&self, pupil: i64, typed: &str) -> Result<bool> {
        Ok(self
            .pupil_code(pupil)?
            .is_some_and(|code| normalise(&code) == normalise(typed) && !code.is_empty()))
    }

    /// One pupil's try at their code, counted in the library against that pupil alone:
    /// after [`SIGN_IN_FREE_TRIES`] wrong ones each further try waits longer (30 s up to
    /// 10 minutes), whatever happens to the app meanwhile (a restart, "Not me", another
    /// pupil signing in). A try while waiting is refused without being tried. The right
    /// code clears the pupil's wait but not the count the teacher sees.
    pub fn attempt_sign_in(&mut self, pupil: i64, typed: &str) -> Result<SignInOutcome> {
        let now = unix_secs();
        let row: Option<(String, u32, u64)> = self
            .conn
            .query_row(
                "SELECT code, failures, locked_until FROM pupil_code WHERE pupil_id = ?1",
                [pupil],
                |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64)),
            )
            .optional()?;
        let Some((code, failures, locked_until)) = row else {
            // No code, no way in; counted nowhere, as there is nothing to guess.
            return Ok(SignInOutcome::Wrong {
                tries_before_wait: SIGN_IN_FREE_TRIES,
            });
        };
        if now < locked_until {
            return Ok(SignInOutcome::Wait {
                secs: locked_until - now,
            });
        }
        let right = !code.is_empty() && normalise(&code) == normalise(typed);
        let tx = self.write()?;
        let outcome = if right {
            tx.execute(
                "UPDATE pupil_code SET failures = 0, locked_until = 0 WHERE pupil_id = ?1",
                [pupil],
            )?;
            SignInOutcome::Welcome
        } else {
            let failures = failures.saturating_add(1);
            let locked = if failures >= SIGN_IN_FREE_TRIES {
                now + sign_in_wait_secs(failures)
            } else {
                0
            };
            tx.execute(
                "UPDATE pupil_code SET failures = ?2, locked_until = ?3,
                     wrong_since_made = wrong_since_made + 1
                 WHERE pupil_id = ?1",
                params![pupil, failures, locked as i64],
            )?;
            if failures == SIGN_IN_FREE_TRIES {
                super::audit::append(
                    &tx,
                    "pupil.sign_in_wrong",
                    &format!("pupil #{pupil}: {failures} wrong sign-in codes in a row"),
                )?;
            }
            if locked > 0 {
                SignInOutcome::Wait { secs: locked - now }
            } else {
                SignInOutcome::Wrong {
                    tries_before_wait: SIGN_IN_FREE_TRIES - failures,
                }
            }
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// How long until `pupil` may try their code again (`None`: now).
    pub fn sign_in_wait(&self, pupil: i64) -> Result<Option<u64>> {
        let locked: Option<i64> = self
            .conn
            .query_row(
                "SELECT locked_until FROM pupil_code WHERE pupil_id = ?1",
                [pupil],
                |r| r.get(0),
            )
            .optional()?;
        let now = unix_secs();
        Ok(locked
            .map(|l| l.max(0) as u64)
            .filter(|l| *l > now)
            .map(|l| l - now))
    }

    /// Pupils of `class` whose code someone typed wrongly at least
    /// [`SIGN_IN_FREE_TRIES`] times since it was made: the teacher is told, and may give
    /// them a new code.
    pub fn guessed_codes(&self, class: i64) -> Result<Vec<GuessedCode>> {
        let mut statement = self.conn.prepare(
            "SELECT p.id, p.display_name, c.wrong_since_made FROM pupil_code c
             JOIN pupil p ON p.id = c.pupil_id
             JOIN class_member e ON e.pupil_id = p.id AND e.class_id = ?1
             WHERE c.wrong_since_made >= ?2
             ORDER BY c.wrong_since_made DESC, p.display_name",
        )?;
        let rows = statement
            .query_map(params![class, SIGN_IN_FREE_TRIES], |r| {
                Ok(GuessedCode {
                    pupil: r.get(0)?,
                    name: r.get(1)?,
                    wrong_tries: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_drawn_uniformly_and_never_twice_among_those_taken() {
        // Every code equally likely: 403,200 draws, about 100 of each of the 4,032; the
        // old draw made the word after the first twice as likely as any other second.
        let mut seen = std::collections::HashMap::new();
        for _ in 0..CODE_COUNT * 100 {
            *seen
                .entry(new_code(&Default::default()).unwrap())
                .or_insert(0u32) += 1;
        }
        assert_eq!(seen.len(), CODE_COUNT as usize);
        let most = *seen.values().max().unwrap();
        let least = *seen.values().min().unwrap();
        assert!(most < 160 && least > 50, "from {least} to {most}");
        // A class takes every code but one: the one left is the one drawn.
        let mut taken: std::collections::HashSet<String> = seen.keys().cloned().collect();
        let left = taken.iter().next().unwrap().clone();
        taken.remove(&left);
        assert_eq!(new_code(&taken).unwrap(), left);
    }

    #[test]
    fn waits_grow_from_30_seconds_to_ten_minutes() {
        assert_eq!(sign_in_wait_secs(3), 30);
        assert_eq!(sign_in_wait_secs(4), 60);
        assert_eq!(sign_in_wait_secs(50), 600);
    }

    #[test]
    fn codes_are_two_different_words_from_the_list() {
        for _ in 0..200 {
            let code = new_code(&Default::default()).unwrap();
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
