//! What the app remembers between starts on this PC: its look (theme, scale) and where
//! the teacher left off (last class, last piece). Stored as the JSON the app gives; the
//! library does not interpret it, and it holds no pupil's data, so it is not audited.

use super::Library;
use super::error::Result;

const KEY: &str = "app.state";

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
}
