//! Device settings and stored latency calibrations: `settings.toml` in the library.
//!
//! Owns which host and devices a school uses (so nothing needs typing twice) and the
//! measured round-trip correction for each device pair. A missing file means defaults;
//! a broken one is reported with its line, never silently replaced.
//! Must not open devices.

use crate::atomic_file::{FileError, PendingFile};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const SETTINGS_FILE: &str = "settings.toml";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSettings {
    pub host: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub sample_rate_hz: Option<u32>,
    pub buffer_frames: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationEntry {
    pub host: String,
    pub input: String,
    pub output: String,
    pub sample_rate_hz: u32,
    pub correction_frames: i64,
    pub spread_frames: i64,
    pub measured_at: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub device: DeviceSettings,
    #[serde(default, rename = "calibration")]
    pub calibrations: Vec<CalibrationEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {}: {reason}", path.display())]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("{}: line {line}: {message} (fix the line or delete the file to start again)", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(transparent)]
    Write(#[from] FileError),
    #[error("cannot write {}: {reason}", path.display())]
    WriteText { path: PathBuf, reason: String },
}

impl Settings {
    pub fn path(library: &Path) -> PathBuf {
        library.join(SETTINGS_FILE)
    }

    /// Reads the library's settings; a library without the file has default settings.
    pub fn load(library: &Path) -> Result<Settings, SettingsError> {
        let path = Self::path(library);
        let text =
            match crate::own_files::read_regular_text(&path, crate::own_files::SMALL_FILE_LIMIT) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Settings::default());
                }
                Err(reason) => return Err(SettingsError::Read { path, reason }),
            };
        toml::from_str(&text).map_err(|e| SettingsError::Invalid {
            line: e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            }),
            message: e.message().trim().replace('\n', " "),
            path,
        })
    }

    pub fn save(&self, library: &Path) -> Result<(), SettingsError> {
        std::fs::create_dir_all(library).map_err(|e| SettingsError::WriteText {
            path: library.to_path_buf(),
            reason: e.to_string(),
        })?;
        let path = Self::path(library);
        let text = toml::to_string_pretty(self).map_err(|e| SettingsError::WriteText {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let (pending, mut file) = PendingFile::create(&path)?;
        file.write_all(text.as_bytes())
            .map_err(|e| SettingsError::WriteText {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        pending.commit()?;
        Ok(())
    }

    pub fn calibration(
        &self,
        host: &str,
        input: &str,
        output: &str,
        rate: u32,
    ) -> Option<&CalibrationEntry> {
        self.calibrations.iter().find(|c| {
            c.host == host && c.input == input && c.output == output && c.sample_rate_hz == rate
        })
    }

    /// Takes a measured calibration: it is remembered, and because calibrating is how a
    /// room's interface is set up, its devices become the default (the virtual device is
    /// for demos and tests, so it never replaces a real one). `buffer_frames` is kept
    /// with the devices when one was asked for. Each further device measured (a USB
    /// microphone) is remembered by its identity, so it keeps its calibration whatever
    /// order the system lists devices in next time; one that could not be measured is
    /// left as it was.
    pub fn adopt(&mut self, result: &super::calibrate::Calibration, buffer_frames: Option<u32>) {
        let device = &result.device;
        if device.host != "virtual" {
            self.device.host = Some(device.host.clone());
            self.device.input = Some(device.input_name.clone());
            self.device.output = Some(device.output_name.clone());
            self.device.sample_rate_hz = Some(device.sample_rate_hz);
            if buffer_frames.is_some() {
                self.device.buffer_frames = buffer_frames;
            }
        }
        self.remember(CalibrationEntry {
            host: device.host.clone(),
            input: device.input_name.clone(),
            output: device.output_name.clone(),
            sample_rate_hz: device.sample_rate_hz,
            correction_frames: result.correction_frames,
            spread_frames: result.spread_frames,
            measured_at: crate::time_text::now_rfc3339(),
        });
        for extra in &result.extra {
            let Ok((correction, _, spread)) = &extra.result else {
                continue;
            };
            let identity = device
                .extra_inputs
                .iter()
                .find(|e| e.name == extra.name)
                .map_or_else(|| extra.name.clone(), |e| e.id.clone());
            self.remember(CalibrationEntry {
                host: device.host.clone(),
                input: identity,
                output: device.output_name.clone(),
                sample_rate_hz: device.sample_rate_hz,
                correction_frames: *correction,
                spread_frames: *spread,
                measured_at: crate::time_text::now_rfc3339(),
            });
        }
    }

    /// Stores a calibration, replacing any earlier one for the same devices and rate.
    pub fn remember(&mut self, entry: CalibrationEntry) {
        self.calibrations.retain(|c| {
            !(c.host == entry.host
                && c.input == entry.input
                && c.output == entry.output
                && c.sample_rate_hz == entry.sample_rate_hz)
        });
        self.calibrations.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrations_are_stored_per_device_pair_and_broken_files_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap(), Settings::default());
        let mut settings = Settings::default();
        let entry = |c: i64| CalibrationEntry {
            host: "jack".into(),
            input: "in".into(),
            output: "out".into(),
            sample_rate_hz: 48_000,
            correction_frames: c,
            spread_frames: 0,
            measured_at: "now".into(),
        };
        settings.remember(entry(10));
        settings.remember(entry(12));
        settings.device.host = Some("jack".into());
        settings.save(dir.path()).unwrap();
        let loaded = Settings::load(dir.path()).unwrap();
        assert_eq!(loaded.calibrations.len(), 1);
        assert_eq!(
            loaded
                .calibration("jack", "in", "out", 48_000)
                .unwrap()
                .correction_frames,
            12
        );
        assert!(loaded.calibration("jack", "in", "out", 44_100).is_none());
        std::fs::write(
            Settings::path(dir.path()),
            "[device]\nhost = \"alsa\"\nspeed = 3\n",
        )
        .unwrap();
        let err = Settings::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
    }
}
