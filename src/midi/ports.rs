//! Which MIDI ports exist, and finding one from what a teacher typed.
//!
//! Owns listing through `midir` and matching names (exact, else one case-insensitive
//! part of a name). Must not keep connections open.

use super::MidiError;

/// Client name bandroom shows to the MIDI system.
pub(crate) const CLIENT: &str = "bandroom";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortList {
    /// Ports bandroom can record from (keyboards, pedals).
    pub inputs: Vec<String>,
    /// Ports bandroom can play parts to (sound modules, keyboards with sounds).
    pub outputs: Vec<String>,
}

/// Stops libjack printing its own complaints (a missing server prints five lines);
/// bandroom says what is wrong in one. Harmless when libjack is not installed. MIDI goes
/// through JACK on Linux only (WinMM on Windows, Core MIDI on macOS): elsewhere there is
/// nothing to quieten.
pub fn quiet_jack() {
    #[cfg(target_os = "linux")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            if jack::jack_sys::library().is_ok() {
                jack::set_logger(jack::LoggerType::None);
            }
        });
    }
}

pub fn list_ports() -> Result<PortList, MidiError> {
    quiet_jack();
    let input = midir::MidiInput::new(CLIENT).map_err(|e| MidiError::NoServer(e.to_string()))?;
    let inputs = input
        .ports()
        .iter()
        .filter_map(|p| input.port_name(p).ok())
        .collect();
    let output = midir::MidiOutput::new(CLIENT).map_err(|e| MidiError::NoServer(e.to_string()))?;
    let outputs = output
        .ports()
        .iter()
        .filter_map(|p| output.port_name(p).ok())
        .collect();
    Ok(PortList { inputs, outputs })
}

/// The one port `wanted` names: its exact name, or the only name containing it
/// (ignoring case), so "keystation" finds "a2j:Keystation 49 [20] (capture): MIDI 1".
pub fn find_port<'a>(
    names: &'a [String],
    wanted: &str,
    direction: &'static str,
) -> Result<&'a String, MidiError> {
    if let Some(exact) = names.iter().find(|n| n.as_str() == wanted) {
        return Ok(exact);
    }
    let needle = wanted.to_lowercase();
    let matches: Vec<&String> = names
        .iter()
        .filter(|n| n.to_lowercase().contains(&needle))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(MidiError::NoSuchPort {
            direction,
            wanted: wanted.to_string(),
            available: names.to_vec(),
        }),
        many => Err(MidiError::Ambiguous {
            direction,
            wanted: wanted.to_string(),
            matches: many.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_found_by_exact_name_or_one_unique_part() {
        let names = vec![
            "system:midi_capture_1".to_string(),
            "a2j:Keystation 49 (capture): MIDI 1".to_string(),
            "a2j:Keystation 49 (capture): MIDI 2".to_string(),
        ];
        assert_eq!(
            find_port(&names, "SYSTEM", "input").ok(),
            Some(&names[0]),
            "case is ignored"
        );
        let error = find_port(&names, "keystation", "input").err();
        assert!(
            matches!(&error, Some(MidiError::Ambiguous { matches, .. }) if matches.len() == 2),
            "{error:?}"
        );
        let missing = find_port(&names, "nord", "input")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(missing.contains("\"nord\"") && missing.contains("system:midi_capture_1"));
        let none = find_port(&[], "nord", "output")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(none.contains("plug the keyboard in"), "{none}");
    }
}
