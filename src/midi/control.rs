//! Hands-free transport: a foot pedal, a chosen key or controller starts and stops
//! recording, marks a moment, or moves to the next take.
//!
//! Owns triggers (learnt from one press), the actions they map to, and turning a
//! stream of messages into presses: a continuous pedal sends many values, and only
//! crossing the half-way point downwards counts, so one press is one action. Must not
//! know what the actions do.

use super::message::{Kind, ShortMessage};
use super::{MidiError, parse_channel};
use serde::{Deserialize, Serialize};

/// What a pedal or key can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// A key (0-based channel).
    Note { channel: u8, note: u8 },
    /// A controller, e.g. 64 for a sustain pedal (0-based channel).
    Control { channel: u8, controller: u8 },
}

/// What a press does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Starts a take, or stops the one running.
    Record,
    /// Drops a marker at this moment of the take.
    Mark,
    /// Keeps this take and starts the next one.
    Next,
}

impl Action {
    pub fn parse(text: &str) -> Result<Action, MidiError> {
        match text.trim().to_lowercase().as_str() {
            "record" => Ok(Action::Record),
            "mark" | "marker" => Ok(Action::Mark),
            "next" => Ok(Action::Next),
            _ => Err(MidiError::Spec {
                spec: text.to_string(),
                reason: "an action is record, mark or next".into(),
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Record => "record",
            Action::Mark => "mark",
            Action::Next => "next",
        }
    }
}

const PRESSED: u8 = 64;

impl Trigger {
    /// The trigger a press makes: a key going down, or a controller reaching half way.
    pub fn learn(message: &ShortMessage) -> Option<Trigger> {
        match message.kind() {
            Kind::NoteOn { note, .. } => Some(Trigger::Note {
                channel: message.channel(),
                note,
            }),
            Kind::Control { controller, value } if value >= PRESSED => Some(Trigger::Control {
                channel: message.channel(),
                controller,
            }),
            _ => None,
        }
    }

    /// `cc64`, `cc64@2`, `note36`, `note36@10` (channel 1 when left out).
    pub fn parse(spec: &str) -> Result<Trigger, MidiError> {
        let bad = |reason: &str| MidiError::Spec {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let text = spec.trim().to_lowercase();
        let (body, channel) = match text.split_once('@') {
            Some((body, channel)) => (body.to_string(), parse_channel(channel, spec)?),
            None => (text.clone(), 0),
        };
        let number = |digits: &str| {
            digits
                .parse::<u8>()
                .ok()
                .filter(|n| *n < 128)
                .ok_or_else(|| bad("the number must be 0 to 127"))
        };
        if let Some(digits) = body.strip_prefix("cc") {
            Ok(Trigger::Control {
                channel,
                controller: number(digits)?,
            })
        } else if let Some(digits) = body.strip_prefix("note") {
            Ok(Trigger::Note {
                channel,
                note: number(digits)?,
            })
        } else {
            Err(bad(
                "write cc64 for a sustain pedal or note36 for a key, optionally @channel",
            ))
        }
    }

    /// Whether `message` is this trigger being pressed (`Some(true)`), released
    /// (`Some(false)`) or something else (`None`).
    fn state_in(&self, message: &ShortMessage) -> Option<bool> {
        match (*self, message.kind()) {
            (Trigger::Note { channel, note }, Kind::NoteOn { note: n, .. })
                if channel == message.channel() && note == n =>
            {
                Some(true)
            }
            (Trigger::Note { channel, note }, Kind::NoteOff { note: n })
                if channel == message.channel() && note == n =>
            {
                Some(false)
            }
            (
                Trigger::Control {
                    channel,
                    controller,
                },
                Kind::Control {
                    controller: c,
                    value,
                },
            ) if channel == message.channel() && controller == c => Some(value >= PRESSED),
            _ => None,
        }
    }
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trigger::Note { channel, note } => write!(f, "note{note}@{}", channel + 1),
            Trigger::Control {
                channel,
                controller,
            } => write!(f, "cc{controller}@{}", channel + 1),
        }
    }
}

/// One learnt mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub trigger: Trigger,
    pub action: Action,
    /// The port the pedal is on; `None` listens on every port bandroom opened.
    #[serde(default)]
    pub port: Option<String>,
}

/// The stored mappings, and which triggers are held down now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlMap {
    pub mappings: Vec<Mapping>,
    #[serde(skip)]
    held: Vec<bool>,
}

impl ControlMap {
    /// The mappings as the library keeps them (JSON); none when nothing was learnt.
    pub fn from_stored(json: Option<&str>) -> Result<ControlMap, MidiError> {
        let Some(json) = json else {
            return Ok(ControlMap::default());
        };
        let map: ControlMap = serde_json::from_str(json).map_err(|e| MidiError::Spec {
            spec: "the stored pedal settings".into(),
            reason: format!("they are damaged ({e}); learn the pedal again"),
        })?;
        Ok(ControlMap::new(map.mappings))
    }

    /// What the library keeps.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"mappings\":[]}".into())
    }

    /// The ports to listen on: the mappings' own, or every input when one has none.
    pub fn ports(&self, every_input: impl FnOnce() -> Vec<String>) -> Vec<String> {
        if self.mappings.iter().any(|m| m.port.is_none()) {
            return every_input();
        }
        let mut ports: Vec<String> = self
            .mappings
            .iter()
            .filter_map(|m| m.port.clone())
            .collect();
        ports.sort();
        ports.dedup();
        ports
    }

    pub fn new(mappings: Vec<Mapping>) -> Self {
        Self {
            held: vec![false; mappings.len()],
            mappings,
        }
    }

    /// Puts `trigger` on `action`, replacing what either had before.
    pub fn learn(&mut self, trigger: Trigger, action: Action, port: Option<String>) {
        self.mappings
            .retain(|m| m.action != action && m.trigger != trigger);
        self.mappings.push(Mapping {
            trigger,
            action,
            port,
        });
        self.held = vec![false; self.mappings.len()];
    }

    /// Whether `message` from `port` belongs to a mapping (so it is not recorded), and
    /// the action if it is a new press.
    pub fn handle(&mut self, port: &str, message: &ShortMessage) -> (bool, Option<Action>) {
        self.held.resize(self.mappings.len(), false);
        for (mapping, held) in self.mappings.iter().zip(self.held.iter_mut()) {
            // A port given by part of its name ("pedal") matches as `find_port` does.
            if mapping
                .port
                .as_deref()
                .is_some_and(|p| p != port && !port.to_lowercase().contains(&p.to_lowercase()))
            {
                continue;
            }
            if let Some(down) = mapping.trigger.state_in(message) {
                let press = down && !*held;
                *held = down;
                return (true, press.then_some(mapping.action));
            }
        }
        (false, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pedal_press_is_one_action_however_many_values_it_sends() {
        let pedal = Trigger::learn(&ShortMessage::control(0, 64, 127));
        assert_eq!(
            pedal,
            Some(Trigger::Control {
                channel: 0,
                controller: 64
            })
        );
        let Some(pedal) = pedal else { return };
        let mut map = ControlMap::default();
        map.learn(pedal, Action::Record, None);
        let mut actions = Vec::new();
        for value in [0, 30, 70, 100, 127, 90, 40, 0, 127] {
            let (ours, action) = map.handle("pedal", &ShortMessage::control(0, 64, value));
            assert!(ours);
            actions.extend(action);
        }
        assert_eq!(actions, vec![Action::Record, Action::Record]);
        let (ours, _) = map.handle("pedal", &ShortMessage::control(1, 64, 127));
        assert!(!ours, "another channel is music, not the pedal");
    }

    #[test]
    fn learning_replaces_and_specs_round_trip() {
        let mut map = ControlMap::default();
        let key = Trigger::parse("note36@10").unwrap_or(Trigger::Note {
            channel: 0,
            note: 0,
        });
        assert_eq!(key.to_string(), "note36@10");
        map.learn(key, Action::Mark, Some("pads".into()));
        map.learn(key, Action::Next, None);
        assert_eq!(map.mappings.len(), 1, "one trigger, one action");
        assert_eq!(
            map.handle("x", &ShortMessage::note_on(9, 36, 90)).1,
            Some(Action::Next)
        );
        assert!(Trigger::parse("cc200").is_err());
        assert!(Trigger::parse("pedal").is_err());
        assert!(Trigger::parse("cc64@17").is_err());
        assert!(Action::parse("stop").is_err());
        let stored = map.to_stored();
        let back = ControlMap::from_stored(Some(&stored)).unwrap_or_default();
        assert_eq!(back.mappings, map.mappings);
        assert!(ControlMap::from_stored(Some("{broken")).is_err());
        assert_eq!(
            back.ports(|| vec!["keys".to_string()]),
            vec!["keys".to_string()],
            "a mapping without a port listens on every input"
        );
        // A port given by part of its name matches as `find_port` does.
        map.learn(key, Action::Mark, Some("pads".into()));
        assert_eq!(map.ports(Vec::new), vec!["pads".to_string()]);
        let on = ShortMessage::note_on(9, 36, 90);
        assert_eq!(
            map.handle("a2j:Pads (capture): MIDI 1", &on).1,
            Some(Action::Mark)
        );
        assert!(
            !map.handle("keys", &on).0,
            "another port is music, not the pedal"
        );
    }
}
