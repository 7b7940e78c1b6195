//! Which inputs a take records: channels of the main device, and channels of further
//! input devices (`DEVICE@CHANNEL`), as `--inputs` and the room plan name them.
//!
//! Owns the `[DEVICE@]CHANNEL,...` form: a plain number is a channel of the main input
//! device; `DEVICE@CH` a channel of another device, named as `bandroom devices` lists
//! it (`"virtual mic 1@1"`, `"Blue Yeti@1"`); a bare number after a `DEVICE@CH` belongs
//! to the same device (`"USB PnP@1,3,4"`). Must not open devices: finding a device by
//! its name is the audio layer's.

use super::plan::{PlanError, Setting};

/// The channels of one further device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInputs {
    /// The device's name as given.
    pub device: String,
    /// 1-based channels, in the order given.
    pub channels: Vec<usize>,
}

/// Every input of a take.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputList {
    /// 1-based channels of the main input device.
    pub main: Vec<usize>,
    /// Further devices, in the order first named.
    pub extra: Vec<DeviceInputs>,
}

impl InputList {
    /// Tracks in all.
    pub fn len(&self) -> usize {
        self.main.len() + self.extra.iter().map(|d| d.channels.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn refuse(reason: String) -> PlanError {
    PlanError::NotAllowed {
        setting: Setting::Inputs,
        reason,
    }
}

/// Reads `--inputs` items (already split at commas).
pub fn parse_inputs(items: &[String]) -> Result<InputList, PlanError> {
    let mut list = InputList::default();
    // Which device a bare number belongs to: the main one until a DEVICE@ is named.
    let mut current: Option<usize> = None;
    for item in items {
        let item = item.trim();
        let (device, channel) = match item.rsplit_once('@') {
            Some((device, channel)) => (Some(device.trim()), channel.trim()),
            None => (None, item),
        };
        let number: usize = channel.parse().map_err(|_| {
            refuse(format!(
                "'{item}' is not an input: give a channel number (1, 2, …) or DEVICE@CHANNEL, e.g. \"virtual mic 1@1\""
            ))
        })?;
        if number == 0 {
            return Err(refuse(format!(
                "'{item}': inputs count from 1: use 1,2 for the first two inputs"
            )));
        }
        match device {
            Some("") => {
                return Err(refuse(format!(
                    "'{item}' names no device before '@': write DEVICE@CHANNEL"
                )));
            }
            Some(name) => {
                let index = match list.extra.iter().position(|d| d.device == name) {
                    Some(i) => i,
                    None => {
                        list.extra.push(DeviceInputs {
                            device: name.to_string(),
                            channels: Vec::new(),
                        });
                        list.extra.len() - 1
                    }
                };
                current = Some(index);
            }
            None => {}
        }
        let channels = match current.and_then(|i| list.extra.get_mut(i)) {
            Some(device) => &mut device.channels,
            None => &mut list.main,
        };
        if channels.contains(&number) {
            return Err(refuse(format!("input '{item}' is listed twice")));
        }
        channels.push(number);
    }
    if list.is_empty() {
        return Err(refuse(
            "none is given: record at least one, e.g. input 1".into(),
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<String> {
        text.split(',').map(str::to_string).collect()
    }

    #[test]
    fn numbers_are_the_main_device_and_names_choose_another() {
        let list = parse_inputs(&items("1,2,Blue Yeti@1,USB PnP@1,3,4")).unwrap_or_default();
        assert_eq!(list.main, vec![1, 2]);
        assert_eq!(
            list.extra,
            vec![
                DeviceInputs {
                    device: "Blue Yeti".into(),
                    channels: vec![1]
                },
                DeviceInputs {
                    device: "USB PnP".into(),
                    channels: vec![1, 3, 4]
                },
            ]
        );
        assert_eq!(list.len(), 6);
    }

    #[test]
    fn a_name_with_an_at_sign_keeps_it_and_bad_items_are_named() {
        let list = parse_inputs(&items("mic@home@2")).unwrap_or_default();
        assert_eq!(list.extra[0].device, "mic@home");
        for bad in ["", "0", "x", "@1", "1,1", "mic@1,mic@1", "mic@0"] {
            let err = parse_inputs(&items(bad))
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(err.contains("input"), "{bad}: {err}");
        }
    }
}
