//! The hands-free pedal mappings a teacher learnt, kept with the library so every
//! lesson on this PC uses them. Stored as the JSON the MIDI layer gives; the library
//! does not interpret it.

use super::error::Result;
use super::{Library, audit};

const KEY: &str = "midi.pedal";

impl Library {
    /// The stored mappings (JSON), if any were learnt.
    pub fn pedal_settings(&self) -> Result<Option<String>> {
        self.setting(KEY)
    }

    pub fn set_pedal_settings(&mut self, json: &str, summary: &str) -> Result<()> {
        let tx = self.write()?;
        Library::put_setting(&tx, KEY, json)?;
        audit::append(&tx, "pedal learnt", summary)?;
        tx.commit()?;
        Ok(())
    }
}
