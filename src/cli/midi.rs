//! `bandroom midi-ports`, `bandroom pedal learn|list|clear`, and the MIDI options of
//! `bandroom record` (keyboards to record, parts to send out, clock, pedal).
//!
//! Owns turning what the teacher typed into a checked `MidiTakeSetup`, and learning a
//! pedal from one press. Must not contain MIDI parsing or timing of its own.

use super::open_library;
use anyhow::{Result, bail};
use bandroom::engine::Score;
use bandroom::midi::{
    Action, ControlMap, MidiInputs, PartRoute, Trigger, list_ports, parse_channel,
};
use bandroom::session::{MidiInputSpec, MidiTakeSetup};
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Default)]
pub struct MidiArgs {
    /// MIDI keyboards to record, each as its own track (keys-<n>.mid): PORT or PORT@CHANNEL,
    /// comma-separated; a port is found by its full name or a unique part of it
    #[arg(
        long = "midi-inputs",
        value_delimiter = ',',
        value_name = "PORT[@CH],..."
    )]
    pub midi_inputs: Vec<String>,
    /// Milliseconds between a key going down and its message arriving (the keyboard's own delay)
    #[arg(long = "midi-latency", value_name = "MS", default_value_t = 0.0)]
    pub midi_latency_ms: f64,
    /// Play a part on a MIDI instrument instead of bandroom's sound: PART=PORT[@CHANNEL][#PROGRAM]
    /// (program 1-128 as General MIDI lists it); repeatable
    #[arg(long = "midi-out", value_name = "PART=PORT[@CH][#PROG]")]
    pub midi_parts: Vec<String>,
    /// Milliseconds the instrument takes to sound: its notes are sent that much earlier
    #[arg(long = "midi-out-latency", value_name = "MS", default_value_t = 0.0)]
    pub midi_out_latency_ms: f64,
    /// Send MIDI clock (24 per beat, start and stop) to this port, so a drum machine follows
    #[arg(long = "midi-clock", value_name = "PORT")]
    pub midi_clock: Option<String>,
    /// Listen on this port for the learnt pedal (see `bandroom pedal learn`); the
    /// keyboards' ports are always listened to
    #[arg(long = "pedal-port", value_name = "PORT")]
    pub pedal_port: Option<String>,
    /// Wait for a press of the learnt "record" pedal before starting
    #[arg(long = "wait-for-pedal")]
    pub wait_for_pedal: bool,
}

fn input_spec(text: &str) -> Result<MidiInputSpec> {
    let (port, channel) = match text.rsplit_once('@') {
        Some((port, channel)) => (port, Some(parse_channel(channel, text)?)),
        None => (text, None),
    };
    if port.trim().is_empty() {
        bail!("--midi-inputs \"{text}\" names no port: run `bandroom midi-ports` to see them");
    }
    Ok(MidiInputSpec {
        port: port.trim().to_string(),
        channel,
    })
}

/// "clapper-2", "Clapper 2" and "clapper2" all name the part "clapper 2".
fn same_name(a: &str, b: &str) -> bool {
    let key = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    key(a) == key(b)
}

fn part_route(text: &str, score: &Score) -> Result<PartRoute> {
    let Some((part, rest)) = text.split_once('=') else {
        bail!("--midi-out \"{text}\" needs PART=PORT, e.g. clapper-2=system:midi_playback_1@10");
    };
    let (rest, program) = match rest.rsplit_once('#') {
        Some((rest, program)) => match program.trim().parse::<u8>() {
            Ok(p @ 1..=128) => (rest, Some(p - 1)),
            _ => bail!("--midi-out \"{text}\": the program must be 1 to 128"),
        },
        None => (rest, None),
    };
    let (port, channel) = match rest.rsplit_once('@') {
        Some((port, channel)) => (port, parse_channel(channel, text)?),
        None => (rest, 0),
    };
    let click = score.click_lane();
    let lane = score
        .lanes
        .iter()
        .enumerate()
        .position(|(i, lane)| i != click && same_name(&lane.name, part));
    let Some(lane) = lane else {
        let names: Vec<&str> = score
            .lanes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != click)
            .map(|(_, l)| l.name.as_str())
            .collect();
        bail!(
            "--midi-out \"{text}\": the arrangement has no part \"{}\" (its parts: {})",
            part.trim(),
            names.join(", ")
        );
    };
    Ok(PartRoute {
        lane,
        port: port.trim().to_string(),
        channel,
        program,
    })
}

/// The pedal mappings stored in the library (none when never learnt).
pub fn stored_controls(library: Option<&Path>) -> Result<ControlMap> {
    let lib = open_library(library)?;
    Ok(ControlMap::from_stored(lib.pedal_settings()?.as_deref())?)
}

/// Checks every MIDI option against the arrangement; ports are checked when opened.
pub fn take_setup(args: &MidiArgs, score: &Score, library: Option<&Path>) -> Result<MidiTakeSetup> {
    for (name, ms) in [
        ("--midi-latency", args.midi_latency_ms),
        ("--midi-out-latency", args.midi_out_latency_ms),
    ] {
        if !(ms.is_finite() && (0.0..=500.0).contains(&ms)) {
            bail!("{name} {ms} is not allowed: use 0 to 500 milliseconds");
        }
    }
    let inputs = args
        .midi_inputs
        .iter()
        .map(|s| input_spec(s))
        .collect::<Result<Vec<_>>>()?;
    let parts = args
        .midi_parts
        .iter()
        .map(|s| part_route(s, score))
        .collect::<Result<Vec<_>>>()?;
    let listening = !inputs.is_empty() || args.pedal_port.is_some();
    let controls = if listening {
        stored_controls(library)?
    } else {
        ControlMap::default()
    };
    if args.wait_for_pedal && !controls.mappings.iter().any(|m| m.action == Action::Record) {
        bail!(
            "--wait-for-pedal needs a learnt record pedal: run `bandroom pedal learn record` first"
        );
    }
    Ok(MidiTakeSetup {
        inputs,
        control_ports: args.pedal_port.iter().cloned().collect(),
        controls,
        input_latency_ms: args.midi_latency_ms,
        parts,
        output_latency_ms: args.midi_out_latency_ms,
        clock_port: args.midi_clock.clone(),
    })
}

/// The ports the pedal may be on: the pedal port, or every keyboard port.
fn pedal_ports(setup: &MidiTakeSetup) -> Vec<String> {
    if setup.control_ports.is_empty() {
        setup.inputs.iter().map(|i| i.port.clone()).collect()
    } else {
        setup.control_ports.clone()
    }
}

/// Blocks until the record pedal is pressed (or `stop` says to give up).
pub fn wait_for_pedal(setup: &MidiTakeSetup, stop: &dyn Fn() -> bool) -> Result<bool> {
    let inputs = MidiInputs::open(&pedal_ports(setup))?;
    let mut controls = ControlMap::new(setup.controls.mappings.clone());
    note!("waiting for the record pedal (Ctrl-C to give up)");
    let pressed = loop {
        if stop() {
            break false;
        }
        let Ok(arrival) = inputs.receiver().recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        let port = inputs.names.get(arrival.port).cloned().unwrap_or_default();
        if controls.handle(&port, &arrival.message).1 == Some(Action::Record) {
            break true;
        }
    };
    inputs.close();
    Ok(pressed)
}

#[derive(clap::Subcommand, Debug)]
pub enum PedalAction {
    /// Press the pedal (or key) once within the time given: it then does ACTION
    /// (record, mark or next) in every take
    Learn {
        /// record (start/stop a take), mark (drop a marker) or next (keep this take, start the next)
        action: String,
        /// Listen only on this port (default: every MIDI input)
        #[arg(long, value_name = "PORT")]
        port: Option<String>,
        /// Give up after this many seconds
        #[arg(long, value_name = "S", default_value_t = 30.0)]
        timeout: f64,
    },
    /// Show the learnt pedals
    List,
    /// Forget every learnt pedal
    Clear,
    /// Store a pedal without pressing it: TRIGGER is cc64, note36@10 and so on
    Set {
        action: String,
        trigger: String,
        #[arg(long, value_name = "PORT")]
        port: Option<String>,
    },
}

pub fn midi_ports() -> Result<()> {
    let ports = list_ports()?;
    say!("MIDI inputs (keyboards, pedals; use with --midi-inputs):");
    if ports.inputs.is_empty() {
        say!("  none: plug a keyboard in (USB) and run this again");
    }
    // A port's name is the device's to choose: a line break in it must not print a
    // line of its own.
    for name in &ports.inputs {
        say!("  {}", bandroom::plain_text::escape_for_terminal(name));
    }
    say!("MIDI outputs (instruments; use with --midi-out, --midi-clock):");
    if ports.outputs.is_empty() {
        say!("  none");
    }
    for name in &ports.outputs {
        say!("  {}", bandroom::plain_text::escape_for_terminal(name));
    }
    Ok(())
}

fn store(map: &ControlMap, summary: &str, library: Option<&Path>) -> Result<()> {
    let mut lib = open_library(library)?;
    lib.set_pedal_settings(&map.to_stored(), summary)?;
    Ok(())
}

pub fn pedal(action: &PedalAction, library: Option<&Path>) -> Result<()> {
    match action {
        PedalAction::List => {
            let map = stored_controls(library)?;
            if map.mappings.is_empty() {
                say!("no pedal learnt: `bandroom pedal learn record` and press it once");
            }
            for m in &map.mappings {
                say!(
                    "{:<7} {}{}",
                    m.action.name(),
                    m.trigger,
                    m.port
                        .as_deref()
                        .map(|p| format!(" on {p}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        PedalAction::Clear => store(&ControlMap::default(), "all pedals forgotten", library),
        PedalAction::Set {
            action,
            trigger,
            port,
        } => {
            let action = Action::parse(action)?;
            let trigger = Trigger::parse(trigger)?;
            let mut map = stored_controls(library)?;
            map.learn(trigger, action, port.clone());
            store(&map, &format!("{} on {trigger}", action.name()), library)?;
            say!("{} is now {trigger}", action.name());
            Ok(())
        }
        PedalAction::Learn {
            action,
            port,
            timeout,
        } => {
            let action = Action::parse(action)?;
            if !(timeout.is_finite() && *timeout > 0.0 && *timeout <= 600.0) {
                bail!("--timeout {timeout} is not allowed: use up to 600 seconds");
            }
            let wanted = match port {
                Some(p) => vec![p.clone()],
                None => list_ports()?.inputs,
            };
            if wanted.is_empty() {
                bail!("no MIDI input is connected: plug the pedal or keyboard in, then try again");
            }
            let inputs = MidiInputs::open(&wanted)?;
            note!(
                "press the pedal or key for \"{}\" now ({} s)…",
                action.name(),
                timeout
            );
            let deadline = Instant::now() + Duration::from_secs_f64(*timeout);
            let learnt = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break None;
                }
                if let Ok(arrival) = inputs.receiver().recv_timeout(left)
                    && let Some(trigger) = Trigger::learn(&arrival.message)
                {
                    break Some((trigger, inputs.names.get(arrival.port).cloned()));
                }
            };
            inputs.close();
            let Some((trigger, heard_on)) = learnt else {
                bail!(
                    "nothing was pressed in {timeout} s: check the pedal is plugged in (`bandroom midi-ports`) and try again"
                );
            };
            let mut map = stored_controls(library)?;
            map.learn(trigger, action, port.as_ref().and(heard_on.clone()));
            store(&map, &format!("{} on {trigger}", action.name()), library)?;
            say!(
                "learnt: {trigger}{} now does \"{}\"",
                heard_on.map(|p| format!(" on {p}")).unwrap_or_default(),
                action.name()
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bandroom::engine::ScoreOptions;

    #[test]
    fn part_routes_and_input_specs_are_checked_before_anything_opens() {
        let arrangement = bandroom::music::builtin::resolve("clapping-music");
        assert!(arrangement.is_ok());
        let Ok(arrangement) = arrangement else { return };
        let score = Score::new(&arrangement, ScoreOptions::default());
        let first = score.lanes[0].name.clone();
        let route = part_route(&format!("{first}=system:midi_playback_1@10#1"), &score);
        let route = route.map_err(|e| e.to_string());
        assert_eq!(
            route,
            Ok(PartRoute {
                lane: 0,
                port: "system:midi_playback_1".into(),
                channel: 9,
                program: Some(0),
            })
        );
        let error = part_route("nobody=x", &score).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains(&first)));
        assert!(part_route("x", &score).is_err());
        assert!(part_route(&format!("{first}=x#0"), &score).is_err());
        let spec = input_spec("a2j:Keystation: MIDI 1@3").map_err(|e| e.to_string());
        assert_eq!(
            spec,
            Ok(MidiInputSpec {
                port: "a2j:Keystation: MIDI 1".into(),
                channel: Some(2)
            })
        );
        assert!(input_spec("@3").is_err());
        assert!(input_spec("keys@17").is_err());
    }
}
