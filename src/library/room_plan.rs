//! The room plan of each class: which pupils (and which part) sit at each input of the
//! classroom's interface, and which parts it plays on MIDI instruments, so the next
//! lesson starts where the last one left off.
//! Stored as one JSON setting per class.
//!
//! Must not know about devices: an input is just its 1-based number, a further input
//! device (a USB microphone) just the identity its host gives it and the name it was last
//! shown by, a keyboard just the name of its MIDI port.

use super::error::{LibraryError, Result};
use super::{Library, audit};
use rusqlite::OptionalExtension;
use std::collections::BTreeMap;

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
    /// A further input device's stable identity (`alsa:hw:CARD=Microphone,DEV=0`, a
    /// WASAPI endpoint id), for a seat on one of its channels (`input`): the seat follows
    /// the microphone, not the order the system lists devices in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The name that device was shown by when it was put on the plan, for the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

impl Seat {
    pub fn keyboard(port: &str) -> Seat {
        Seat {
            keyboard: Some(port.to_string()),
            ..Seat::default()
        }
    }

    /// Channel `input` of the further input device `id`, shown as `name`.
    pub fn on_device(id: &str, name: &str, input: usize) -> Seat {
        Seat {
            input,
            device: Some(id.to_string()),
            device_name: Some(name.to_string()),
            ..Seat::default()
        }
    }

    /// A seat on the main interface's inputs (not a keyboard, not a further device).
    pub fn is_main_input(&self) -> bool {
        self.keyboard.is_none() && self.device.is_none()
    }

    /// "Input 3", "Blue Yeti #2, input 1" or "Keyboard Casio CT-S1".
    pub fn title(&self) -> String {
        match (&self.keyboard, &self.device) {
            (Some(port), _) => format!("Keyboard {port}"),
            (None, Some(id)) => {
                let name = self.device_name.as_deref().unwrap_or(id);
                format!("{name}, input {}", self.input)
            }
            (None, None) => format!("Input {}", self.input),
        }
    }
}

fn key(class: i64) -> String {
    format!("room_plan.{class}")
}

fn instruments_key(class: i64) -> String {
    format!("part_instruments.{class}")
}

impl Library {
    /// A class setting stored as JSON: `None` when never saved; a damaged one is
    /// named as `what`, with `fix` saying what to do.
    fn json_setting<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        what: &str,
        fix: &str,
    ) -> Result<Option<T>> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?;
        text.map(|text| {
            serde_json::from_str(&text)
                .map_err(|e| LibraryError::Invalid(format!("{what} is damaged ({e}); {fix}")))
        })
        .transpose()
    }

    /// Saves a class setting as JSON, with an audit line.
    fn set_json_setting<T: serde::Serialize>(
        &mut self,
        key: &str,
        value: &T,
        audit_what: &str,
        audit_detail: &str,
    ) -> Result<()> {
        let text = serde_json::to_string(value)
            .map_err(|e| LibraryError::Invalid(format!("{audit_what}: {e}")))?;
        let tx = self.write()?;
        Library::put_setting(&tx, key, &text)?;
        audit::append(&tx, audit_what, audit_detail)?;
        tx.commit()?;
        Ok(())
    }

    /// The class's saved plan; empty when none was saved. Pupils who have since left the
    /// class are dropped.
    pub fn room_plan(&self, class: i64) -> Result<Vec<Seat>> {
        let what = format!("the saved room plan of class #{class}");
        let Some(mut seats) =
            self.json_setting::<Vec<Seat>>(&key(class), &what, "arrange the room again")?
        else {
            return Ok(Vec::new());
        };
        let members: Vec<i64> = self.pupils(Some(class))?.iter().map(|p| p.id).collect();
        for seat in &mut seats {
            seat.pupils.retain(|p| members.contains(p));
        }
        Ok(seats)
    }

    /// The parts this class plays on MIDI instruments: part name → output port.
    pub fn part_instruments(&self, class: i64) -> Result<BTreeMap<String, String>> {
        let what = format!("the saved choice of MIDI instruments for class #{class}");
        Ok(self
            .json_setting(&instruments_key(class), &what, "choose them again")?
            .unwrap_or_default())
    }

    pub fn set_part_instruments(
        &mut self,
        class: i64,
        parts: &BTreeMap<String, String>,
    ) -> Result<()> {
        let detail = format!(
            "class #{class}, {} part(s) on MIDI instruments",
            parts.len()
        );
        self.set_json_setting(&instruments_key(class), parts, "part instruments", &detail)
    }

    pub fn set_room_plan(&mut self, class: i64, seats: &[Seat]) -> Result<()> {
        let detail = format!("class #{class}, {} input(s)", seats.len());
        self.set_json_setting(&key(class), &seats, "room plan", &detail)
    }
}
