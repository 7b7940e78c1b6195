//! The school's policies kept in the library: why a take was made (its purpose), how
//! long each kind of take is kept before it is listed for review, and the teacher PIN.
//!
//! The PIN is stored only as an Argon2id hash. It is a classroom lock that keeps pupils
//! at the shared PC out of teacher actions, not protection against the PC's
//! administrator, who can read the library file directly.
//! Must not delete takes: retention only lists them for a teacher to review.

use super::error::{LibraryError, Result};
use super::takes::TakeFilter;
use super::{Library, TakeSummary, audit};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{OptionalExtension, params};

/// Why a take was recorded; decides its retention and whether it may be shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Evidence for a judgement.
    Assessment,
    /// Practice in a lesson (the default).
    Rehearsal,
    /// A performance meant to be shared (a concert, the school website).
    Performance,
}

impl Purpose {
    pub const ALL: [Purpose; 3] = [
        Purpose::Assessment,
        Purpose::Rehearsal,
        Purpose::Performance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Assessment => "assessment",
            Purpose::Rehearsal => "rehearsal",
            Purpose::Performance => "performance",
        }
    }

    pub fn parse(text: &str) -> Result<Purpose> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                LibraryError::Invalid(format!(
                    "unknown purpose {text:?}: use assessment, rehearsal or performance"
                ))
            })
    }
}

/// Months each kind of take is kept before it is listed for review.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RetentionPolicy {
    pub assessment_months: i64,
    pub rehearsal_months: i64,
    pub performance_months: i64,
}

const PIN_KEY: &str = "teacher_pin";

impl Library {
    /// Stores a plain setting in the open transaction (callers add their audit line).
    pub(super) fn put_setting(
        tx: &rusqlite::Transaction<'_>,
        key: &str,
        value: &str,
    ) -> Result<()> {
        tx.execute(
            "INSERT INTO setting (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            rusqlite::params![key, value],
        )?;
        Ok(())
    }

    pub(super) fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn retention_policy(&self) -> Result<RetentionPolicy> {
        let months = |purpose: Purpose| -> Result<i64> {
            Ok(self
                .setting(&format!("retention.{}", purpose.as_str()))?
                .and_then(|v| v.parse().ok())
                .unwrap_or(12))
        };
        Ok(RetentionPolicy {
            assessment_months: months(Purpose::Assessment)?,
            rehearsal_months: months(Purpose::Rehearsal)?,
            performance_months: months(Purpose::Performance)?,
        })
    }

    /// Sets how long takes of one purpose are kept. Takes already made keep their date
    /// unless `reapply` is given, so a policy change is a deliberate act.
    pub fn set_retention(&mut self, purpose: Purpose, months: i64, reapply: bool) -> Result<()> {
        if !(1..=240).contains(&months) {
            return Err(LibraryError::Invalid(format!(
                "a retention of {months} months is not allowed: use 1 to 240"
            )));
        }
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO setting (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![
                format!("retention.{}", purpose.as_str()),
                months.to_string()
            ],
        )?;
        if reapply {
            tx.execute(
                "UPDATE take SET retain_until = date(recorded_at, '+' || ?2 || ' months')
                 WHERE purpose = ?1",
                params![purpose.as_str(), months],
            )?;
        }
        audit::append(
            &tx,
            "policy.retention",
            &format!(
                "{} {months} months (reapplied: {reapply})",
                purpose.as_str()
            ),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Takes whose retention date has passed (on `today`, `YYYY-MM-DD`), oldest first.
    pub fn takes_due_for_review(&self, today: &str) -> Result<Vec<TakeSummary>> {
        let mut due: Vec<TakeSummary> = self
            .takes(&TakeFilter::default())?
            .into_iter()
            .filter(|t| t.retain_until.as_deref().is_some_and(|d| d < today))
            .collect();
        due.reverse();
        Ok(due)
    }

    pub fn set_purpose(&mut self, take: i64, purpose: Purpose) -> Result<()> {
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE take SET purpose = ?2, retain_until = date(recorded_at, '+' ||
                 (SELECT value FROM setting WHERE key = 'retention.' || ?2) || ' months')
             WHERE id = ?1",
            params![take, purpose.as_str()],
        )?;
        if changed == 0 {
            return Err(LibraryError::NotFound(format!("no take {take}")));
        }
        audit::append(
            &tx,
            "take.purpose",
            &format!("take #{take}: {}", purpose.as_str()),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A pupil's stable pseudonym (e.g. `P-7Q3KXM`): derived from a key that stays in
    /// the library, so exports can be matched up later by the school and by nobody else.
    pub fn pseudonym(&mut self, pupil: i64) -> Result<String> {
        let key = match self.setting("pseudonym_key")? {
            Some(key) => key,
            None => {
                let tx = self.write()?;
                tx.execute(
                    "INSERT OR IGNORE INTO setting (key, value)
                     VALUES ('pseudonym_key', lower(hex(randomblob(16))))",
                    [],
                )?;
                tx.commit()?;
                self.setting("pseudonym_key")?.unwrap_or_default()
            }
        };
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{key}:{pupil}").as_bytes());
        const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
        let bits = u64::from_be_bytes([
            0, 0, 0, digest[0], digest[1], digest[2], digest[3], digest[4],
        ]);
        let code: String = (0..6)
            .map(|i| char::from(ALPHABET[((bits >> (5 * i)) & 31) as usize]))
            .collect();
        Ok(format!("P-{code}"))
    }

    /// Records in the audit log that an export was made, with its selection.
    pub fn record_export(&mut self, detail: &str) -> Result<()> {
        let tx = self.write()?;
        audit::append(&tx, "export", detail)?;
        tx.commit()?;
        Ok(())
    }

    pub fn has_pin(&self) -> Result<bool> {
        Ok(self.setting(PIN_KEY)?.is_some())
    }

    /// Sets the teacher PIN (4 to 12 digits). When a PIN is set already, `current` must
    /// be it (wrong guesses count towards the back-off of [`Library::check_pin`]); a
    /// forgotten PIN is replaced with [`Library::reset_pin`], which the audit log records.
    pub fn set_pin(&mut self, current: Option<&str>, pin: &str) -> Result<()> {
        if self.has_pin()? {
            let Some(current) = current else {
                return Err(LibraryError::Invalid(
                    "a teacher PIN is set: give the current PIN to change it (a forgotten PIN \
                     is replaced with `bandroom pin set --reset`, which the audit log records)"
                        .into(),
                ));
            };
            if !self.check_pin(current)? {
                return Err(LibraryError::Invalid(
                    "that is not the current teacher PIN; the PIN was not changed".into(),
                ));
            }
        }
        self.store_pin(pin, "pin.set", "teacher PIN changed")
    }

    /// Replaces the PIN without the old one (a teacher who forgot it, at the PC's own
    /// account): recorded in the audit log as a reset.
    pub fn reset_pin(&mut self, pin: &str) -> Result<()> {
        self.store_pin(pin, "pin.reset", "teacher PIN reset without the old PIN")
    }

    fn store_pin(&mut self, pin: &str, action: &str, detail: &str) -> Result<()> {
        if !(4..=12).contains(&pin.len()) || !pin.chars().all(|c| c.is_ascii_digit()) {
            return Err(LibraryError::Invalid(
                "a teacher PIN is 4 to 12 digits".into(),
            ));
        }
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let hash = Argon2::default()
            .hash_password(pin.as_bytes(), &salt)
            .map_err(|e| LibraryError::Invalid(format!("cannot hash the PIN: {e}")))?
            .to_string();
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO setting (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![PIN_KEY, hash],
        )?;
        tx.execute(
            "DELETE FROM setting WHERE key IN (?1, ?2)",
            params![PIN_FAILURES_KEY, PIN_LOCKED_KEY],
        )?;
        audit::append(&tx, action, detail)?;
        tx.commit()?;
        Ok(())
    }

    /// True when `pin` is the teacher PIN. With no PIN set, teacher actions are open.
    /// After [`PIN_FREE_GUESSES`] wrong guesses in a row, each further guess must wait
    /// longer (5 s, 10 s, 20 s … up to 5 minutes), so a pupil cannot try every PIN; a
    /// guess while waiting is refused without being tried.
    pub fn check_pin(&mut self, pin: &str) -> Result<bool> {
        let Some(stored) = self.setting(PIN_KEY)? else {
            return Ok(true);
        };
        let now = unix_secs();
        let locked_until: u64 = self
            .setting(PIN_LOCKED_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if now < locked_until {
            return Err(LibraryError::Invalid(format!(
                "too many wrong PINs: try again in {} s",
                locked_until - now
            )));
        }
        let hash = PasswordHash::new(&stored).map_err(|e| {
            LibraryError::Invalid(format!(
                "the stored teacher PIN is damaged ({e}): set a new one with `bandroom pin set --reset`"
            ))
        })?;
        let right = Argon2::default()
            .verify_password(pin.as_bytes(), &hash)
            .is_ok();
        let failures: u32 = if right {
            0
        } else {
            self.setting(PIN_FAILURES_KEY)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0u32)
                .saturating_add(1)
        };
        let tx = self.write()?;
        if right {
            tx.execute(
                "DELETE FROM setting WHERE key IN (?1, ?2)",
                params![PIN_FAILURES_KEY, PIN_LOCKED_KEY],
            )?;
        } else {
            tx.execute(
                "INSERT INTO setting (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![PIN_FAILURES_KEY, failures.to_string()],
            )?;
            if failures >= PIN_FREE_GUESSES {
                let wait = pin_wait_secs(failures);
                tx.execute(
                    "INSERT INTO setting (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![PIN_LOCKED_KEY, (now + wait).to_string()],
                )?;
                audit::append(
                    &tx,
                    "pin.wrong",
                    &format!("{failures} wrong teacher PINs in a row; next guess in {wait} s"),
                )?;
            }
        }
        tx.commit()?;
        Ok(right)
    }
}

/// Wrong PINs allowed before guesses must wait.
pub const PIN_FREE_GUESSES: u32 = 3;
const PIN_FAILURES_KEY: &str = "teacher_pin.failures";
const PIN_LOCKED_KEY: &str = "teacher_pin.locked_until";

/// How long to wait after `failures` wrong guesses in a row: 5 s doubling, at most 5 min.
fn pin_wait_secs(failures: u32) -> u64 {
    let doublings = failures.saturating_sub(PIN_FREE_GUESSES).min(6);
    (5u64 << doublings).min(300)
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
