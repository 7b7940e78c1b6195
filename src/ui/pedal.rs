//! The hands-free pedal in the app: listening for the learnt pedal while a lesson is on,
//! and learning a pedal from one press in Settings, both off the UI thread.
//!
//! Owns the open MIDI inputs and the learning thread. Must not decide what a press does
//! (the lesson screen does) or keep the mappings (the library does).

use crate::jobs::Background;
use crate::library::Library;
use crate::midi::{Action, ControlMap, MidiInputs, Trigger, list_ports};
use std::time::{Duration, Instant};

/// The learnt pedals, listened to on their ports.
pub struct PedalListener {
    inputs: MidiInputs,
    controls: ControlMap,
}

impl PedalListener {
    /// Opens the ports of the stored mappings. `Ok(None)` when no pedal was learnt.
    pub fn start(lib: &Library) -> Result<Option<PedalListener>, String> {
        let stored = lib.pedal_settings().map_err(|e| e.to_string())?;
        let controls = ControlMap::from_stored(stored.as_deref()).map_err(|e| e.to_string())?;
        if controls.mappings.is_empty() {
            return Ok(None);
        }
        let mut unavailable = None;
        let ports = controls.ports(|| match list_ports() {
            Ok(list) => list.inputs,
            Err(e) => {
                unavailable = Some(e.to_string());
                Vec::new()
            }
        });
        if let Some(e) = unavailable {
            return Err(format!("The pedal cannot be heard: {e}"));
        }
        let inputs =
            MidiInputs::open(&ports).map_err(|e| format!("The pedal cannot be heard: {e}"))?;
        Ok(Some(PedalListener { inputs, controls }))
    }

    /// The presses since the last call.
    pub fn presses(&mut self) -> Vec<Action> {
        let arrivals: Vec<_> = self.inputs.receiver().try_iter().collect();
        arrivals
            .into_iter()
            .filter_map(|a| {
                let port = self.inputs.names.get(a.port).cloned().unwrap_or_default();
                self.controls.handle(&port, &a.message).1
            })
            .collect()
    }
}

/// Waiting, on a thread of its own, for the one press that teaches a pedal.
pub struct PedalLearning {
    pub action: Action,
    work: Background<Result<(Trigger, String), String>>,
}

const LEARN_FOR: Duration = Duration::from_secs(20);

impl PedalLearning {
    pub fn start(action: Action) -> PedalLearning {
        let work = Background::start("bandroom-pedal-learning", learn, Box::new(|| {}));
        PedalLearning { action, work }
    }

    /// The press heard (trigger and port), once the thread is done.
    pub fn poll(&mut self) -> Option<Result<(Trigger, String), String>> {
        self.work.poll().map(|r| r.and_then(|heard| heard))
    }
}

fn learn() -> Result<(Trigger, String), String> {
    let ports = list_ports().map_err(|e| e.to_string())?.inputs;
    if ports.is_empty() {
        return Err(
            "no MIDI input is connected: plug the pedal or keyboard in, then try again".into(),
        );
    }
    let inputs = MidiInputs::open(&ports).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + LEARN_FOR;
    let heard = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break None;
        }
        if let Ok(arrival) = inputs.receiver().recv_timeout(left)
            && let Some(trigger) = Trigger::learn(&arrival.message)
        {
            break Some((
                trigger,
                inputs.names.get(arrival.port).cloned().unwrap_or_default(),
            ));
        }
    };
    inputs.close();
    heard.ok_or_else(|| {
        format!(
            "nothing was pressed in {} s: check the pedal is plugged in",
            LEARN_FOR.as_secs()
        )
    })
}
