//! What the app remembers between starts on this PC: its look (theme, scale) and where
//! the teacher left off (last class, last piece), stored as the JSON the app gives (the
//! library does not interpret it, and it holds no pupil's data, so it is not audited);
//! and whether a PC was left in pupil mode, and for which class, so closing the app
//! does not hand the next pupil teacher mode. The pupil mode is kept per PC (a library
//! on a shared drive serves several).

use super::Library;
use super::error::Result;

const KEY: &str = "app.state";

/// The setting that holds a PC's pupil mode: the class id, or empty when it is off.
fn pupil_mode_key(pc: &str) -> String {
    format!("pupil_mode.{pc}")
}

impl Library {
    /// The app's remembered state (JSON), if it saved one.
    pub fn app_state(&self) -> Result<Option<String>> {
        self.setting(KEY)
    }

    pub fn set_app_state(&mut self, json: &str) -> Result<()> {
        let tx = self.write()?;
        Library::put_setting(&tx, KEY, json)?;
        tx.commit()?;
        Ok(())
    }

    /// The class `pc` was left in pupil mode for, if it was.
    pub fn pupil_mode(&self, pc: &str) -> Result<Option<i64>> {
        Ok(self
            .setting(&pupil_mode_key(pc))?
            .and_then(|value| value.parse().ok()))
    }

    /// Puts `pc` in pupil mode for `class`, or takes it out (`None`).
    pub fn set_pupil_mode(&mut self, pc: &str, class: Option<i64>) -> Result<()> {
        let tx = self.write()?;
        let value = class.map(|c| c.to_string()).unwrap_or_default();
        Library::put_setting(&tx, &pupil_mode_key(pc), &value)?;
        tx.commit()?;
        Ok(())
    }
}
