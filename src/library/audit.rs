//! The append-only audit log: who did what, when.
//!
//! Owns the one way rows are written to `audit`. Details name pupils by id only, so an
//! erased pupil leaves no name behind; triggers in the schema refuse updates and
//! deletes. Must not be used to store judgements or anything a screen needs.

use super::error::Result;
use rusqlite::{Connection, params};

pub(crate) fn append(conn: &Connection, action: &str, detail: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO audit (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
        params![super::now(), super::current_actor(), action, detail],
    )?;
    Ok(())
}
