//! Telling devices apart and finding the one a teacher named.
//!
//! Owns two rules. Naming: a device is shown by its host's name for it; devices whose
//! names are identical (a box of the same USB microphone) get `#2`, `#3`, … in the order
//! of their stable ids, not the order the system happens to list them in, so the same
//! microphone keeps its number across restarts. Finding: a typed name matches a device's
//! full name, its id, or a unique part of its name (case ignored); a part that fits
//! several devices is refused with all of them and their ids. Must not open devices or
//! know about any host: it works on names and ids handed to it.

use super::device::DeviceError;

/// One device as bandroom shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownDevice {
    /// The name shown and typed: the host's name, with `#N` when it is not unique.
    pub name: String,
    /// The host's stable identity for it (`alsa:hw:CARD=Mic,DEV=0`, a WASAPI endpoint id);
    /// what the library stores.
    pub id: String,
    /// A longer description, for listings and as a last resort when matching.
    pub description: String,
}

/// Gives identically named devices `#2`, `#3`, … in order of id. `found` is
/// (host name, id, description), in the host's order, which is kept.
pub fn tell_apart(found: Vec<(String, String, String)>) -> Vec<KnownDevice> {
    let mut named: Vec<KnownDevice> = found
        .into_iter()
        .map(|(name, id, description)| KnownDevice {
            name,
            id,
            description,
        })
        .collect();
    let base_names: Vec<String> = named.iter().map(|d| d.name.clone()).collect();
    for (index, base) in base_names.iter().enumerate() {
        let mut same: Vec<&str> = base_names
            .iter()
            .zip(&named)
            .filter(|(b, _)| *b == base)
            .map(|(_, d)| d.id.as_str())
            .collect();
        if same.len() < 2 {
            continue;
        }
        same.sort_unstable();
        let own_id = named.get(index).map(|d| d.id.clone()).unwrap_or_default();
        let rank = same.iter().position(|id| *id == own_id).unwrap_or(0);
        if rank > 0
            && let Some(device) = named.get_mut(index)
        {
            device.name = format!("{base} #{}", rank + 1);
        }
    }
    named
}

/// The device `wanted` names among `devices` (found on `host`, for `direction`).
pub fn find_device<'a>(
    wanted: &str,
    devices: &'a [KnownDevice],
    host: &str,
    direction: &'static str,
) -> Result<&'a KnownDevice, DeviceError> {
    let wanted_lower = wanted.trim().to_lowercase();
    let rules: [&dyn Fn(&KnownDevice) -> bool; 5] = [
        &|d| d.name == wanted,
        &|d| d.id == wanted,
        &|d| d.name.to_lowercase() == wanted_lower,
        &|d| !wanted_lower.is_empty() && d.name.to_lowercase().contains(&wanted_lower),
        &|d| !wanted_lower.is_empty() && d.description.to_lowercase().contains(&wanted_lower),
    ];
    for rule in rules {
        let matches: Vec<&KnownDevice> = devices.iter().filter(|d| rule(d)).collect();
        match matches.as_slice() {
            [] => continue,
            [one] => return Ok(one),
            several => {
                return Err(DeviceError::AmbiguousDevice {
                    host: host.into(),
                    direction,
                    name: wanted.into(),
                    matches: several
                        .iter()
                        .map(|d| format!("\"{}\" (id {})", d.name, d.id))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
    }
    let available: Vec<&str> = devices.iter().map(|d| d.name.as_str()).collect();
    Err(DeviceError::NoSuchDevice {
        host: host.into(),
        direction,
        name: wanted.into(),
        available: if available.is_empty() {
            "none".into()
        } else {
            available.join(", ")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(list: &[(&str, &str)]) -> Vec<(String, String, String)> {
        list.iter()
            .map(|(n, id)| ((*n).to_string(), (*id).to_string(), String::new()))
            .collect()
    }

    #[test]
    fn identical_names_are_numbered_by_id_whatever_order_they_are_listed_in() {
        let one = tell_apart(found(&[
            ("USB PnP Sound Device", "wasapi:{b}"),
            ("Blue Yeti", "wasapi:{y}"),
            ("USB PnP Sound Device", "wasapi:{a}"),
        ]));
        let other = tell_apart(found(&[
            ("USB PnP Sound Device", "wasapi:{a}"),
            ("USB PnP Sound Device", "wasapi:{b}"),
            ("Blue Yeti", "wasapi:{y}"),
        ]));
        let name_of = |list: &[KnownDevice], id: &str| {
            list.iter()
                .find(|d| d.id == id)
                .map(|d| d.name.clone())
                .unwrap_or_default()
        };
        for list in [&one, &other] {
            assert_eq!(name_of(list, "wasapi:{a}"), "USB PnP Sound Device");
            assert_eq!(name_of(list, "wasapi:{b}"), "USB PnP Sound Device #2");
            assert_eq!(name_of(list, "wasapi:{y}"), "Blue Yeti");
        }
        // The host's order is kept.
        assert_eq!(one[0].id, "wasapi:{b}");
    }

    #[test]
    fn a_unique_part_of_a_name_finds_the_device() {
        let devices = tell_apart(found(&[
            (
                "Blue Yeti Stereo Microphone",
                "alsa:hw:CARD=Microphone,DEV=0",
            ),
            ("USB PnP Sound Device", "alsa:hw:CARD=Device,DEV=0"),
            ("USB PnP Sound Device", "alsa:hw:CARD=Device_1,DEV=0"),
        ]));
        let id_of = |wanted: &str| {
            find_device(wanted, &devices, "alsa", "input")
                .map(|d| d.id.clone())
                .unwrap_or_else(|e| e.to_string())
        };
        assert_eq!(id_of("blue yeti"), "alsa:hw:CARD=Microphone,DEV=0");
        assert_eq!(id_of("USB PnP Sound Device"), "alsa:hw:CARD=Device,DEV=0");
        assert_eq!(
            id_of("USB PnP Sound Device #2"),
            "alsa:hw:CARD=Device_1,DEV=0"
        );
        assert_eq!(id_of("#2"), "alsa:hw:CARD=Device_1,DEV=0");
        assert_eq!(
            id_of("alsa:hw:CARD=Device_1,DEV=0"),
            "alsa:hw:CARD=Device_1,DEV=0"
        );
    }

    #[test]
    fn a_part_that_fits_two_devices_is_refused_with_both_and_their_ids() {
        let devices = tell_apart(found(&[
            ("USB PnP Sound Device", "alsa:hw:CARD=Device,DEV=0"),
            ("USB PnP Sound Device", "alsa:hw:CARD=Device_1,DEV=0"),
        ]));
        let message = find_device("PnP", &devices, "alsa", "input")
            .map(|d| d.name.clone())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            message.contains("\"USB PnP Sound Device\" (id alsa:hw:CARD=Device,DEV=0)"),
            "{message}"
        );
        assert!(
            message.contains("\"USB PnP Sound Device #2\" (id alsa:hw:CARD=Device_1,DEV=0)"),
            "{message}"
        );
    }

    #[test]
    fn a_name_that_fits_nothing_lists_what_there_is() {
        let devices = tell_apart(found(&[("virtual mic 1", "virtual:mic-1")]));
        let message = find_device("Yeti", &devices, "virtual", "input")
            .map(|d| d.name.clone())
            .unwrap_or_else(|e| e.to_string());
        assert!(message.contains("virtual mic 1"), "{message}");
        assert!(find_device("", &devices, "virtual", "input").is_err());
    }
}
