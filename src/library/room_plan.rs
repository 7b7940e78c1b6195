//! The room plan of each class: which pupils (and which part) sit at each input of the
//! classroom's interface, so the next lesson starts where the last one left off.
//! Stored as one JSON setting per class.
//!
//! Must not know about devices: an input is just its 1-based number, a keyboard just the
//! name of its MIDI port.

use super::error::{LibraryError, Result};
use super::{Library, audit};
use rusqlite::{OptionalExtension, params};

/// One input of the room plan: a channel of the interface, or a MIDI keyboard.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seat {
    /// The interface's input (1-based); 0 for a keyboard.
    pub input: usize,
    pub pupils: Vec<i64>,
    pub part: Option<String>,
    /// The MIDI port of a keyboard seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyboard: Option<String>,
}

impl Seat {
    pub fn keyboard(port: &str) -> Seat {
        Seat {
            keyboard: Some(port.to_string()),
            ..Seat::default()
        }
    }

    /// "Input 3" or "Keyboard Casio CT-S1".
    pub fn title(&self) -> String {
        match &self.keyboard {
            Some(port) => format!("Keyboard {port}"),
            None => format!("Input {}", self.input),
        }
    }
}

fn key(class: i64) -> String {
    format!("room_plan.{class}")
}

impl Library {
    /// The class's saved plan; empty when none was saved. Pupils who have since left the
    /// class are dropped.
    pub fn room_plan(&self, class: i64) -> Result<Vec<Seat>> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM setting WHERE key = ?1",
                [key(class)],
                |r| r.get(0),
            )
            .optional()?;
        let Some(text) = text else {
            return Ok(Vec::new());
        };
        let mut seats: Vec<Seat> = serde_json::from_str(&text).map_err(|e| {
            LibraryError::Invalid(format!(
                "the saved room plan of class #{class} is damaged ({e}); arrange the room again"
            ))
        })?;
        let members: Vec<i64> = self.pupils(Some(class))?.iter().map(|p| p.id).collect();
        for seat in &mut seats {
            seat.pupils.retain(|p| members.contains(p));
        }
        Ok(seats)
    }

    pub fn set_room_plan(&mut self, class: i64, seats: &[Seat]) -> Result<()> {
        let text = serde_json::to_string(seats)
            .map_err(|e| LibraryError::Invalid(format!("room plan: {e}")))?;
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO setting (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key(class), text],
        )?;
        audit::append(
            &tx,
            "room plan",
            &format!("class #{class}, {} input(s)", seats.len()),
        )?;
        tx.commit()?;
        Ok(())
    }
}
